//! `rdsdeck token` as a whole process: equal to botocore's token for the same
//! credentials and time, the aws CLI's exit behaviour, and the inspector.

mod common;

use common::{CleanHome, run, venv};
use std::process::Command;

fn botocore(host: &str, port: u16, user: &str, region: &str, epoch: u64, session: Option<&str>) -> String {
    let mut c = Command::new(venv().join("bin/python"));
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE01")
        .env("AWS_SECRET_ACCESS_KEY", "sandboxSecretAccessKeyEXAMPLE")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/botocore_token.py"))
        .args([host, &port.to_string(), user, region, &epoch.to_string()]);
    if let Some(s) = session {
        c.env("AWS_SESSION_TOKEN", s);
    }
    let out = c.output().expect("python runs");
    assert!(out.status.success(), "botocore: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn rdsdeck(home: &CleanHome, args: &[&str], session: Option<&str>) -> common::Output {
    let mut c = home.cmd();
    c.env("AWS_ACCESS_KEY_ID", "AKIASANDBOXEXAMPLE01").env("AWS_SECRET_ACCESS_KEY", "sandboxSecretAccessKeyEXAMPLE");
    if let Some(s) = session {
        c.env("AWS_SESSION_TOKEN", s);
    }
    run(c.args(args))
}

#[test]
fn token_equals_botocore_with_and_without_session_token() {
    let home = CleanHome::new();
    let epoch = 1_790_000_000u64;
    for (host, port, user, region, session) in [
        ("dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com", 3306u16, "node_app", "us-east-1", None),
        ("localhost", 13306, "node_user", "us-east-1", Some("IQoJb3JpZ2luX2VjEXAMPLE/+session==")),
        ("db.eu.example.com", 443, "we ird+user@x", "eu-west-1", Some("FwoGZXIvYXdzEXAMPLE")),
    ] {
        let port_s = port.to_string();
        let epoch_s = epoch.to_string();
        let out = rdsdeck(
            &home,
            &["token", "--hostname", host, "--port", &port_s, "--username", user, "--region", region, "--signing-time", &epoch_s],
            session,
        )
        .expect_code(0);
        let expected = botocore(host, port, user, region, epoch, session);
        assert_eq!(out.stdout.trim(), expected, "for {host}:{port} {user} {region} session={}", session.is_some());
    }
}

#[test]
fn exit_behaviour_matches_the_aws_cli() {
    let home = CleanHome::new();
    // No credentials: 255 and a message, like `aws rds generate-db-auth-token`.
    let out = run(home.cmd().args(["token", "--hostname", "h", "--port", "3306", "--username", "u", "--region", "us-east-1"]));
    assert_eq!(out.code(), Some(255), "{}", out.dump());
    assert!(out.stderr.contains("no AWS credentials"), "{}", out.dump());
    assert!(out.stdout.is_empty());
    // No region: 255.
    let out = rdsdeck(&home, &["token", "--hostname", "h", "--port", "3306", "--username", "u"], None);
    assert_eq!(out.code(), Some(255), "{}", out.dump());
    assert!(out.stderr.contains("no AWS region"), "{}", out.dump());
    // A missing argument: 2.
    let out = rdsdeck(&home, &["token", "--hostname", "h", "--username", "u", "--region", "us-east-1"], None);
    assert_eq!(out.code(), Some(2), "{}", out.dump());
    assert!(out.stderr.contains("--port"), "{}", out.dump());
}

#[test]
fn inspect_reads_a_token_from_stdin_without_secrets() {
    let home = CleanHome::new();
    let token = rdsdeck(
        &home,
        &["token", "--hostname", "localhost", "--port", "3306", "--username", "node_app", "--region", "us-east-1"],
        Some("SESSIONTOKENEXAMPLE"),
    )
    .expect_code(0)
    .stdout;
    let mut c = home.cmd();
    c.args(["token", "inspect", "-o", "json"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(token.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["user"], "node_app");
    assert_eq!(v["port"], 3306);
    assert_eq!(v["key_id_last4"], "LE01");
    assert_eq!(v["session_token"], true);
    assert!(v["remaining_seconds"].as_i64().unwrap() > 800);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("SESSIONTOKENEXAMPLE") && !text.contains("AKIASANDBOX"), "{text}");

    // An expired token exits 1; garbage exits 2.
    let old = rdsdeck(
        &home,
        &["token", "--hostname", "h", "--port", "1", "--username", "u", "--region", "us-east-1", "--signing-time", "1600000000"],
        None,
    )
    .expect_code(0)
    .stdout;
    let out = run(home.cmd().args(["token", "inspect", old.trim()]));
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stdout.contains("EXPIRED"), "{}", out.dump());
    let out = run(home.cmd().args(["token", "inspect", "not-a-token"]));
    assert_eq!(out.code(), Some(2), "{}", out.dump());
    assert!(out.stderr.contains("not an RDS auth token"), "{}", out.dump());
}

#[test]
fn token_from_a_profile_equals_botocore() {
    let home = CleanHome::new();
    home.write(
        "home/.aws/credentials",
        "[ops]\naws_access_key_id = AKIASANDBOXEXAMPLE01\naws_secret_access_key = sandboxSecretAccessKeyEXAMPLE\n",
    );
    home.write("home/.aws/config", "[profile ops]\nregion = us-east-1\n");
    let mut c = home.cmd();
    c.args(["--profile", "ops", "token", "--hostname", "localhost", "--port", "3306", "--username", "node_app", "--signing-time", "1790000000"]);
    let out = run(&mut c).expect_code(0);
    assert_eq!(out.stdout.trim(), botocore("localhost", 3306, "node_app", "us-east-1", 1_790_000_000, None));
}

/// `token inspect` reads a bounded amount (a token is ~1-2 KB) and prints what a
/// token carries with escape sequences neutralised: a user name is the signer's text.
#[test]
fn inspect_is_bounded_and_escapes_what_the_token_carries() {
    let home = CleanHome::new();
    let evil = "x\u{1b}]52;c;aGFja2Vk\u{7}\u{1b}[2J";
    let token = rdsdeck(&home, &["token", "--hostname", "localhost", "--port", "3306", "--username", evil, "--region", "us-east-1"], None).expect_code(0).stdout;
    let out = run(home.cmd().args(["token", "inspect", token.trim()]));
    assert_eq!(out.code(), Some(0), "{}", out.dump());
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'), "raw escapes reached the terminal: {:?}", out.stdout);
    assert!(out.stdout.contains("x\\x1b]52;c;aGFja2Vk\\x07\\x1b[2J"), "{}", out.dump());

    // Far more than a token on stdin: refused after reading a little, not read to the end.
    let mut c = home.cmd();
    c.args(["token", "inspect"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let chunk = vec![b'A'; 64 * 1024];
        let mut sent = 0usize;
        // Stops when rdsdeck closes the pipe (it read its fill and left); bounded either way.
        while sent < 64 << 20 && stdin.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than any RDS auth token"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sent < 64 << 20, "rdsdeck read the whole stream ({sent} bytes)");
}

/// `rdsdeck completions SHELL` prints a script the shell accepts, with every subcommand in it.
#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    let home = CleanHome::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(home.cmd().args(["completions", shell])).expect_code(0);
        for sub in ["list", "token", "sql", "bootstrap", "forward", "shell", "completions"] {
            assert!(out.stdout.contains(sub), "{shell}: {sub} missing");
        }
        if shell == "bash" {
            let mut c = Command::new("bash");
            c.arg("-n").stdin(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(out.stdout.as_bytes()).unwrap();
            assert!(child.wait().unwrap().success(), "bash rejects the script");
        }
    }
    run(home.cmd().args(["completions", "tcsh"])).expect_code(2);
}

/// Out-of-range values are refused with a clear message before anything runs.
#[test]
fn zero_ports_and_timeouts_are_refused() {
    let home = CleanHome::new();
    run(home.cmd().args(["forward", "--remote-port", "0"])).expect_code(2).expect_stderr(&["--remote-port", "0"]);
    let cfg = home.write("bad.toml", "timeout_seconds = 0\n");
    let out = run(home.cmd().arg("--config").arg(&cfg).args(["list"]));
    assert_eq!(out.code(), Some(2), "{}", out.dump());
    assert!(out.stderr.contains("bad.toml") && out.stderr.contains("timeout_seconds") && out.stderr.contains("at least 1"), "{}", out.dump());
}
