//! Port forwards over the native data channel, end to end on the sandbox: the
//! real `rdsdeck forward` and `rdsdeck sql --via-forward`, the sandbox's
//! Session Manager stand-in (an independent implementation of the agent, in
//! Python) dialling the sandbox database, IAM tokens checked by botocore, and
//! faults injected on the channel.

mod common;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::{Sandbox, run};
use mysql_async::prelude::Queryable;
use rdsdeck::db::connect::{Auth, ConnectSpec, Connector};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// POST/GET JSON to the stand-in's control endpoints.
fn http(sb: &Sandbox, method: &str, path: &str, body: &str) -> serde_json::Value {
    sb.standin(method, path, "", body)
}

/// The same with extra header lines (an SSM API call: `X-Amz-Target: AmazonSSM.<Op>`).
fn http_with(sb: &Sandbox, method: &str, path: &str, headers: &str, body: &str) -> serde_json::Value {
    sb.standin(method, path, headers, body)
}

struct ForwardProc {
    child: Child,
    port: u16,
}

impl ForwardProc {
    fn start(sb: &Sandbox) -> ForwardProc {
        let mut child = sb.cmd().arg("forward").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(line.starts_with("forwarding 127.0.0.1:"), "rdsdeck forward printed {line:?}");
        let port: u16 = line["forwarding 127.0.0.1:".len()..].split_whitespace().next().unwrap().parse().unwrap();
        let mut probe = String::new();
        out.read_line(&mut probe).unwrap();
        assert!(probe.starts_with("probe: the remote end answered"), "{probe}");
        // Then how to use it; the `rdsdeck sql` line works as printed.
        let mut usage = String::new();
        for _ in 0..3 {
            out.read_line(&mut usage).unwrap();
        }
        let sql_line = usage.lines().find(|l| l.trim_start().starts_with("rdsdeck sql ")).unwrap_or_else(|| panic!("no usage line: {usage}"));
        assert!(sql_line.contains(&format!("--tunnel-port {port}")) && usage.contains("MYSQL_PWD="), "{usage}");
        let argv: Vec<&str> = sql_line.trim().split(" -e ").next().unwrap().split_whitespace().skip(1).collect();
        let out_sql = run(sb.cmd().args(&argv).args(["--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "-o", "csv", "-e", "SELECT CURRENT_USER()"]));
        assert_eq!(out_sql.code(), Some(0), "{}", out_sql.dump());
        assert!(out_sql.stdout.contains("node_user@%"), "{}", out_sql.dump());
        // Keep reading stdout so the process never blocks on a full pipe.
        let rest = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        std::mem::forget(rest);
        ForwardProc { child, port }
    }

    /// SIGINT, as Ctrl-C: the forward ends its session and exits 0.
    fn stop(mut self) -> String {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "rdsdeck forward exited with {status}");
                let mut err = String::new();
                let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
                return err;
            }
            assert!(Instant::now() < deadline, "rdsdeck forward did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn connector(sb: &Sandbox, host: &str, port: u16, via: bool) -> Connector {
    let creds = Credentials::new(sb.var("AWS_ACCESS_KEY_ID"), sb.var("AWS_SECRET_ACCESS_KEY"), None, None, "test");
    // Through the forward: TCP to it, signed for and verified against the proxy's name; direct: the
    // sandbox's connect_to map sends the proxy's name to the database.
    let spec = sb.db_spec("node_app");
    let spec = if via { ConnectSpec { host: host.into(), port, tls_name: Some((sb.proxy().to_string(), 3306)), timeout: Duration::from_secs(20), ..spec } } else { spec };
    Connector::new(
        spec,
        Auth::Iam(SharedCredentialsProvider::new(creds)),
    )
}

const ROWS: u32 = 3000;

/// A checksum of a result streamed row by row (every byte of it).
async fn checksum(c: &Connector, salt: u32) -> (u64, u64, String) {
    let mut conn = c.connect().await.unwrap_or_else(|e| panic!("connect: {e}"));
    let info = c.session_info(&mut conn, "test").await;
    let rows: Vec<(u32, String)> = conn
        .query(format!("SELECT seq, CONCAT('row-', seq, '-', {salt}, '-', REPEAT(CHAR(65 + seq % 26), 40 + seq % 60)) FROM seq_1_to_{ROWS}"))
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    let mut h: u64 = 1469598103934665603;
    let mut bytes = 0u64;
    for (n, s) in &rows {
        for b in n.to_le_bytes().iter().chain(s.as_bytes()) {
            h = (h ^ *b as u64).wrapping_mul(1099511628211);
            bytes += 1;
        }
    }
    (h, bytes, info.tls_version)
}

#[test]
fn eight_connections_through_one_forward_survive_faults_byte_for_byte() {
    let sb = Sandbox::start();
    // Loss, duplicates, reordering, withheld acks, bogus publication frames, and a websocket
    // close (code 1000) every 300 messages, which the client must resume.
    let faults = http(
        &sb,
        "POST",
        "/sandbox/faults",
        r#"{"drop":0.02,"duplicate":0.05,"reorder":0.05,"withhold_acks":0.05,"close_after":300,"bogus_publication":true}"#,
    );
    assert_eq!(faults["close_after"], 300);
    let fwd = ForwardProc::start(&sb);
    let db_port: u16 = sb.var("RDSDECK_SANDBOX_DB_PORT").parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (via, direct) = rt.block_on(async {
        let via_c = std::sync::Arc::new(connector(&sb, "127.0.0.1", fwd.port, true));
        let tasks: Vec<_> = (0..8u32)
            .map(|i| {
                let c = via_c.clone();
                tokio::spawn(async move { checksum(&c, i).await })
            })
            .collect();
        let mut via = Vec::new();
        for t in tasks {
            via.push(t.await.unwrap());
        }
        let direct_c = connector(&sb, "localhost", db_port, false);
        let mut direct = Vec::new();
        for i in 0..8u32 {
            direct.push(checksum(&direct_c, i).await);
        }
        (via, direct)
    });
    for (i, (v, d)) in via.iter().zip(&direct).enumerate() {
        assert_eq!((v.0, v.1), (d.0, d.1), "connection {i}: the result through the forward differs");
        assert!(v.2.starts_with("TLSv1."), "connection {i} is TLS end to end: {}", v.2);
    }
    // The faults really happened, and the client resumed the channel.
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    let s = sessions.as_array().unwrap().iter().find(|s| s["Status"] != "Terminated").expect("the forward's session").clone();
    let c = &s["counters"];
    assert_eq!(s["smux"], true);
    assert!(c["dropped"].as_u64().unwrap() > 0 && c["duplicated"].as_u64().unwrap() > 0, "{s}");
    assert!(c["acks_withheld"].as_u64().unwrap() > 0 && c["resent"].as_u64().unwrap() > 0, "{s}");
    assert!(s["closed_1000"].as_u64().unwrap() > 0, "no websocket close was injected: {s}");
    // As the plugin: one ClientId for the whole session, whatever the reconnects; the handshake
    // response with every field, nil as null.
    let ids = s["client_ids"].as_array().unwrap();
    assert!(ids.len() > 1 && ids.iter().all(|i| i == &ids[0]), "{s}");
    assert_eq!(
        s["handshake_response"],
        serde_json::json!({"ClientVersion":"1.2.694.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null})
    );
    assert_eq!(c["tcp_opened"].as_u64().unwrap(), 10, "the probe, the printed usage line, 8 connections, over one session: {s}");
    // The browser sees the session on the host.
    let hosts = run(sb.cmd().args(["list", "--kind", "hosts", "-o", "json"])).expect_code(0).json();
    let host = &hosts["kinds"]["hosts"]["items"][0];
    assert_eq!(host["attributes"]["ssm_ping_status"], "Online", "{host}");
    let table = run(sb.cmd().args(["list", "--kind", "hosts"])).expect_code(0).stdout;
    assert!(table.contains("Online · 1 session"), "{table}");
    assert_eq!(host["attributes"]["ssm_sessions"][0]["document"], "AWS-StartPortForwardingSessionToRemoteHost", "{host}");
    // The CLI through the running forward: TCP to it, token and TLS for the database's name.
    let through = run(sb.cmd().args([
        "sql", "--tunnel-port", &fwd.port.to_string(),
        "--user", "node_app", "-o", "csv", "-e", "SELECT CURRENT_USER()",
    ]))
    .expect_code(0);
    assert!(through.stdout.contains("node_app@%"), "{}", through.dump());
    let err = fwd.stop();
    assert!(!err.contains("panicked"), "{err}");
    // Every login went through the token verifier.
    let log = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_DB_AUTH_LOG")).unwrap();
    let ok = log.lines().filter(|l| l.contains("\"token_valid\": true")).count();
    assert!(ok >= 16, "{ok} verified logins");
    // The session was terminated on exit.
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    assert!(sessions.as_array().unwrap().iter().all(|s| s["Status"] == "Terminated"), "{sessions}");
}

#[test]
fn sql_via_forward_in_basic_mode_and_with_smux_match_a_direct_query() {
    let sb = Sandbox::start();
    let q = "SELECT seq, MD5(seq) FROM seq_1_to_4000";
    let direct = run(sb.cmd().args(["sql", "--user", "node_app", "-o", "csv", "-e", q])).expect_code(0).stdout;
    let via = run(sb.cmd().args(["sql", "--via-forward", "auto", "--user", "node_app", "-o", "csv", "-e", q])).expect_code(0);
    assert_eq!(via.stdout, direct);
    assert!(via.stderr.contains("via forward auto: 127.0.0.1:"), "{}", via.dump());
    // An agent too old to multiplex: one connection at a time, DisconnectToPort after each.
    http(&sb, "POST", "/sandbox/faults", r#"{"agent_version":"3.0.196.0","drop":0.03}"#);
    let basic = run(sb.cmd().args(["sql", "--via-forward", "auto", "--user", "node_app", "-o", "csv", "-e", q])).expect_code(0);
    assert_eq!(basic.stdout, direct);
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    let last = sessions.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["smux"], false, "{last}");
    assert_eq!(last["Status"], "Terminated", "the session ends with the command: {last}");
    // Bad input: an unknown forward name, an unknown target.
    run(sb.cmd().args(["sql", "--via-forward", "nope", "-e", "SELECT 1"])).expect_code(2).expect_stderr(&["no forward named `nope`"]);
    run(sb.cmd().args(["forward", "--target", "i-0000000000000dead"])).expect_code(1).expect_stderr(&["i-0000000000000dead is not connected"]);
}

#[test]
fn shell_runs_commands_from_a_pipe_and_ends_with_the_remote_shell() {
    let sb = Sandbox::start();
    let mut c = sb.cmd();
    c.arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"echo hello-$((6*7))\nexit\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("hello-42"), "{stdout}");
    assert!(stderr.contains("Exiting session with sessionId"), "{stderr}");
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    assert!(sessions.as_array().unwrap().iter().all(|s| s["Status"] == "Terminated"), "{sessions}");
    run(sb.cmd().args(["shell", "i-0000000000000dead"])).expect_code(1).expect_stderr(&["is not connected"]);
}

/// Transport A with a stand-in for AWS's plugin: the argv/env contract (the
/// token only in the environment), readiness from its output, SIGINT to stop,
/// TerminateSession after, and the install hint when it is missing.
#[test]
fn plugin_transport_contract_with_a_fake_plugin() {
    let sb = Sandbox::start();
    let fake_dir = common::repo_root().join("tests/support/fake-plugin");
    let log = sb.home().root().join("plugin.jsonl");
    let path = format!("{}:/usr/bin:/bin", fake_dir.display());
    let mut c = sb.cmd();
    // The local port asked for reaches the plugin the way the real one learns it: in the agent's
    // handshake (Properties.localPortNumber), which the fake reads from the data channel.
    let wanted = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    c.args(["forward", "--transport", "plugin", "--local-port", &wanted.to_string()])
        .env("PATH", &path)
        .env("FAKE_PLUGIN_LOG", &log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("forwarding 127.0.0.1:") && line.contains("session-manager-plugin 1.2.650.0"), "{line}");
    let port: u16 = line["forwarding 127.0.0.1:".len()..].split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(port, wanted, "the plugin opened the requested port: {line}");
    let mut probe = String::new();
    out.read_line(&mut probe).unwrap();
    assert!(probe.starts_with("probe: the remote end answered"), "{probe}");
    // SQL through the plugin's port, token and TLS for the database's name.
    run(sb.cmd().args([
        "sql", "--tunnel-port", &port.to_string(),
        "--user", "node_app", "-e", "SELECT 1",
    ]))
    .expect_code(0);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let entries: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let argv: Vec<String> = entries[0]["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    assert_eq!(argv[0], "AWS_SSM_START_SESSION_RESPONSE", "the response travels in the environment");
    assert_eq!(argv[1], "us-east-1");
    assert_eq!(argv[2], "StartSession");
    let request: serde_json::Value = serde_json::from_str(&argv[4]).unwrap();
    assert_eq!(request["DocumentName"], "AWS-StartPortForwardingSessionToRemoteHost");
    assert_eq!(argv[5], sb.var("AWS_ENDPOINT_URL_SSM"));
    let response: serde_json::Value = serde_json::from_str(entries[0]["env_response"].as_str().unwrap()).unwrap();
    let token = response["TokenValue"].as_str().unwrap();
    assert!(token.len() > 20);
    assert!(argv.iter().all(|a| !a.contains(token)), "the token is not in argv");
    assert!(entries.iter().any(|e| e["signal"] == "SIGINT"), "stopped with SIGINT: {entries:?}");
    let props = entries.iter().find_map(|e| e.get("handshake_properties")).expect("the fake read the handshake");
    assert_eq!(props["localPortNumber"], wanted.to_string(), "{props}");
    assert_eq!((props["type"].as_str(), props["portNumber"].as_str()), (Some("LocalPortForwarding"), Some("3306")), "{props}");
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    assert!(sessions.as_array().unwrap().iter().all(|s| s["Status"] == "Terminated"), "{sessions}");

    // Missing: a clear hint, and no session started.
    let before = http(&sb, "GET", "/sandbox/sessions", "").as_array().unwrap().len();
    run(sb.cmd().args(["forward", "--transport", "plugin"]).env("PATH", "/usr/bin:/bin"))
        .expect_code(1)
        .expect_stderr(&["session-manager-plugin is not installed", "--transport native"]);
    // Too old to keep the token out of argv: refused.
    run(sb.cmd().args(["forward", "--transport", "plugin"]).env("PATH", &path).env("FAKE_PLUGIN_VERSION", "1.2.331.0"))
        .expect_code(1)
        .expect_stderr(&["older than 1.2.497.0", "command line"]);
    assert_eq!(http(&sb, "GET", "/sandbox/sessions", "").as_array().unwrap().len(), before);
}

/// An agent that wants KMS encryption: `native` says to use the plugin,
/// `auto` (the default) hands over to it, for forwards and shells.
#[test]
fn kms_sessions_fall_back_to_the_plugin() {
    let sb = Sandbox::start();
    http(&sb, "POST", "/sandbox/faults", r#"{"kms":true}"#);
    let fake_dir = common::repo_root().join("tests/support/fake-plugin");
    let path = format!("{}:/usr/bin:/bin", fake_dir.display());
    let log = sb.home().root().join("plugin.jsonl");
    run(sb.cmd().args(["forward", "--transport", "native"]))
        .expect_code(1)
        .expect_stderr(&["KMS encryption", "--transport plugin"]);
    let mut c = sb.cmd();
    c.args(["forward"]).env("PATH", &path).env("FAKE_PLUGIN_LOG", &log).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("forwarding 127.0.0.1:") && line.contains("session-manager-plugin"), "{line}");
    let mut probe = String::new();
    stdout.read_line(&mut probe).unwrap();
    assert!(probe.starts_with("probe: the remote end answered"), "{probe}");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("using session-manager-plugin instead"));
    // A shell the same way: the plugin gets the shell session, with the token in its environment only.
    let mut c = sb.cmd();
    c.args(["shell"]).env("PATH", &path).env("FAKE_PLUGIN_LOG", &log).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"whoami\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("fake shell: whoami"), "{stdout}");
    let last: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["argv"][0], "AWS_SSM_START_SESSION_RESPONSE");
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    assert!(sessions.as_array().unwrap().iter().all(|s| s["Status"] == "Terminated"), "{sessions}");
}

/// The agent ends the forward's session (TerminateSession from elsewhere): the
/// forward starts a new session, on the same local port, and carries on.
#[test]
fn a_forward_whose_session_is_terminated_starts_a_new_one() {
    let sb = Sandbox::start();
    let fwd = ForwardProc::start(&sb);
    let first = http(&sb, "GET", "/sandbox/sessions", "")[0]["SessionId"].as_str().unwrap().to_string();
    http_with(&sb, "POST", "/", "X-Amz-Target: AmazonSSM.TerminateSession\r\n", &format!(r#"{{"SessionId":"{first}"}}"#));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sessions = http(&sb, "GET", "/sandbox/sessions", "");
        let active = sessions.as_array().unwrap().iter().filter(|s| s["Status"] != "Terminated").count();
        if sessions.as_array().unwrap().len() == 2 && active == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no new session: {sessions}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let through = run(sb.cmd().args([
        "sql", "--tunnel-port", &fwd.port.to_string(),
        "--user", "node_app", "-o", "csv", "-e", "SELECT CURRENT_USER()",
    ]))
    .expect_code(0);
    assert!(through.stdout.contains("node_app@%"), "{}", through.dump());
    fwd.stop();
}

/// Runs `rdsdeck sql` with a watchdog of `secs` and returns its stdout (exit 0 required).
fn sql_within(sb: &Sandbox, secs: u64, args: &[&str]) -> String {
    common::run_within(sb.cmd().arg("sql").args(args), Duration::from_secs(secs)).expect_code(0).stdout
}

/// The driver reads while it writes: with the agent closing the websocket (code 1000) every 2,000
/// of its messages, a million-row result comes through a forward whole, ten times in a row (the
/// driver that sent its whole batch before reading again hung here in about one run of three).
#[test]
fn a_million_rows_through_a_forward_survive_a_close_every_2000_frames_ten_times() {
    let sb = Sandbox::start();
    let q = "SELECT seq, seq * 7 FROM seq_1_to_1000000";
    let direct = sql_within(&sb, 60, &["-o", "csv", "-e", q]);
    assert_eq!(direct.lines().count(), 1_000_001);
    http(&sb, "POST", "/sandbox/faults", r#"{"close_after":2000}"#);
    let fwd = ForwardProc::start(&sb);
    let port = fwd.port.to_string();
    // Meanwhile a 3 MB statement goes the other way: both ends write at once.
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("upload.sql");
    std::fs::write(&upload, format!("SELECT LENGTH('{}')", "x".repeat(3 << 20))).unwrap();
    let upload = upload.to_str().unwrap().to_string();
    for run in 0..10 {
        let (sb2, port2, upload2) = (&sb, port.clone(), upload.clone());
        let via = std::thread::scope(|scope| {
            let up = scope.spawn(move || sql_within(sb2, 60, &["--tunnel-port", &port2, "-o", "csv", "-f", &upload2]));
            let via = sql_within(&sb, 60, &["--tunnel-port", &port, "-o", "csv", "-e", q]);
            assert!(up.join().unwrap().contains(&(3u32 << 20).to_string()), "run {run}: the upload's answer");
            via
        });
        assert!(via == direct, "run {run}: the result through the forward differs ({} bytes, want {})", via.len(), direct.len());
    }
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    let s = sessions.as_array().unwrap().iter().find(|s| s["Status"] != "Terminated").unwrap().clone();
    assert!(s["closed_1000"].as_u64().unwrap() >= 30, "{s}");
    fwd.stop();
}

/// An ack lost with its websocket: the agent processed the message, and (as agents before
/// 3.2.1041.0 do) drops it again without an ack. The client stops resending it after a small,
/// fixed number of tries instead of forever, and the session carries on.
#[test]
fn a_message_whose_ack_was_lost_is_not_resent_forever() {
    let sb = Sandbox::start();
    http(&sb, "POST", "/sandbox/faults", r#"{"lose_ack_at":12}"#);
    let fwd = ForwardProc::start(&sb);
    let port = fwd.port.to_string();
    for _ in 0..3 {
        let out = sql_within(&sb, 30, &["--tunnel-port", &port, "-o", "csv", "-e", "SELECT COUNT(*) FROM seq_1_to_1000"]);
        assert!(out.contains("1000"), "{out}");
    }
    let counters = || {
        let sessions = http(&sb, "GET", "/sandbox/sessions", "");
        sessions.as_array().unwrap().iter().find(|s| s["Status"] != "Terminated").unwrap()["counters"].clone()
    };
    let first = counters();
    assert_eq!(first["acks_lost"], 1, "{first}");
    std::thread::sleep(Duration::from_secs(3));
    let later = counters();
    let resent = later["discarded_processed"].as_u64().unwrap();
    assert!((1..=4).contains(&resent), "processed data resent {resent} times: {later}");
    assert_eq!(later["discarded_processed"], first["discarded_processed"], "still resending: {first} then {later}");
    fwd.stop();
}

/// Basic mode (an agent that does not multiplex): the agent dials the remote port once per
/// session and, after DisconnectToPort, only when the client sends data, so a server that speaks
/// first (MySQL) never greets a second connection. A session per connection: three MySQL
/// connections one after another through one forward, after its start-up probe.
#[test]
fn three_mysql_connections_one_after_another_through_a_basic_mode_forward() {
    let sb = Sandbox::start();
    http(&sb, "POST", "/sandbox/faults", r#"{"agent_version":"3.0.196.0"}"#);
    let fwd = ForwardProc::start(&sb);
    let port = fwd.port.to_string();
    for i in 0..3 {
        let out = sql_within(&sb, 30, &["--tunnel-port", &port, "-o", "csv", "-e", &format!("SELECT {i} + 40, CURRENT_USER()")]);
        assert!(out.contains(&format!("{},node_user@%", i + 40)), "connection {i}: {out}");
    }
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    let all = sessions.as_array().unwrap();
    assert!(all.iter().all(|s| s["smux"] == false), "{sessions}");
    // The probe, the printed usage line and three connections: a session each, each ended with it.
    assert!(all.len() >= 5, "{sessions}");
    let open = all.iter().filter(|s| s["Status"] != "Terminated").count();
    assert!(open <= 1, "sessions left open: {sessions}");
    fwd.stop();
    let sessions = http(&sb, "GET", "/sandbox/sessions", "");
    assert!(sessions.as_array().unwrap().iter().all(|s| s["Status"] == "Terminated"), "{sessions}");
}

/// No secret in the log at any level: at `trace` (and asking for the noisy crates by name) the
/// log holds no Session Manager token, no shell keystroke or output, no SQL text, no AWS secret.
#[test]
fn the_log_at_trace_holds_no_token_keystroke_or_statement() {
    let sb = Sandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trace.log");
    let level = "trace,tungstenite=trace,tokio_tungstenite=trace,sqlparser=trace,aws_smithy_runtime=trace";
    let out = run(sb.cmd().env("RDSDECK_LOG", level).env("RDSDECK_LOG_FILE", &log).args([
        "sql", "--via-forward", "auto", "-o", "csv", "-e", "SELECT 'marker-sql-literal' AS m",
    ]))
    .expect_code(0);
    assert!(out.stdout.contains("marker-sql-literal"), "{}", out.dump());
    let mut c = sb.cmd();
    c.env("RDSDECK_LOG", level).env("RDSDECK_LOG_FILE", &log).arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"echo keystroke-$((6*7))\nexit\n").unwrap();
    let shell = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&shell.stdout).contains("keystroke-42"), "{shell:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 100 && text.contains("TRACE"), "the log is at trace: {} lines", text.lines().count());
    for leak in ["marker-sql-literal", "keystroke-", sb.var("AWS_SECRET_ACCESS_KEY")] {
        assert!(!text.contains(leak), "the log holds {leak:?}");
    }
    for (i, _) in text.match_indices("TokenValue") {
        let after: String = text[i..].chars().take(24).collect();
        assert!(after.contains("***"), "a token value in the log: {after}");
    }
}

/// Every session rdsdeck opened is closed on every way out: `rdsdeck forward` on SIGHUP (a closed
/// window, a dropped SSH link) and `rdsdeck shell` on SIGHUP and SIGTERM end their sessions and
/// exit without a panic, though nothing is left to print to.
#[test]
fn hang_ups_and_sigterm_end_forward_and_shell_sessions() {
    let sb = Sandbox::start();
    let active = |sb: &Sandbox| http(sb, "GET", "/sandbox/sessions", "").as_array().unwrap().iter().filter(|s| s["Status"] != "Terminated").count();
    let wait_active = |sb: &Sandbox, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while active(sb) != n {
            assert!(Instant::now() < deadline, "{} sessions active, want {n}", active(sb));
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let wait_exit = |child: &mut Child| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A forward: SIGHUP, and its stdout closed as a vanished terminal's would be.
    let mut fwd = sb.cmd().arg("forward").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(fwd.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("forwarding"), "{line}");
    wait_active(&sb, 1);
    drop(fwd.stdout.take());
    unsafe { libc::kill(fwd.id() as i32, libc::SIGHUP) };
    let status = wait_exit(&mut fwd);
    let mut err = String::new();
    fwd.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success() && !err.contains("panicked"), "{status}: {err}");
    wait_active(&sb, 0);
    // A shell whose input stays open: SIGHUP, then SIGTERM.
    for sig in [libc::SIGHUP, libc::SIGTERM] {
        let mut sh = sb.cmd().arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        wait_active(&sb, 1);
        std::thread::sleep(Duration::from_millis(300));
        unsafe { libc::kill(sh.id() as i32, sig) };
        let status = wait_exit(&mut sh);
        let mut err = String::new();
        sh.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(!err.contains("panicked"), "signal {sig}: {err}");
        assert!(status.code().is_some(), "signal {sig} killed it instead of ending the session: {status}");
        wait_active(&sb, 0);
    }
}
