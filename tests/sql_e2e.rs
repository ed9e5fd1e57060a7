//! `rdsdeck sql` end to end: the real binary, the sandbox's MariaDB with TLS
//! and a server-side AWSAuthenticationPlugin that verifies every token with
//! botocore (an independent signer).

mod common;

use common::{Sandbox, run};
use std::process::Command;

fn sql(sb: &Sandbox, args: &[&str]) -> common::Output {
    let mut c = sb.cmd();
    c.args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")]).args(args);
    run(&mut c)
}

fn auth_log(sb: &Sandbox, key: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(sb.var(key))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn iam_login_over_tls_with_a_verified_token() {
    let sb = Sandbox::start();
    // Host, port and database come from the stack's SSM parameters.
    let out = sql(&sb, &["--user", "node_app", "-o", "csv", "-e", "SELECT CURRENT_USER(), @@ssl_cipher; SHOW SESSION STATUS LIKE 'Ssl_version'"])
        .expect_code(0);
    assert!(out.stdout.contains("node_app@%"), "{}", out.dump());
    assert!(out.stdout.contains("Ssl_version,TLSv1."), "{}", out.dump());
    let log = auth_log(&sb, "RDSDECK_SANDBOX_DB_AUTH_LOG");
    let last = log.iter().rev().find(|e| e["user"] == "node_app").expect("the database saw the login");
    assert_eq!(last["token_valid"], true, "{last}");
    assert_eq!(last["reason"], "ok");
}

#[test]
fn a_server_without_tls_is_refused_before_any_token_is_sent() {
    let sb = Sandbox::start_with(&["--with-plain-db"]);
    let port = sb.var("RDSDECK_SANDBOX_PLAIN_DB_PORT").to_string();
    let out = sql(&sb, &["--host", "localhost", "--port", &port, "--user", "node_app", "-e", "SELECT 1"]);
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("does not offer TLS"), "{}", out.dump());
    assert!(auth_log(&sb, "RDSDECK_SANDBOX_PLAIN_DB_AUTH_LOG").is_empty(), "the plain server received a login attempt");
}

#[test]
fn wrong_user_and_expired_token_are_refused_with_reasons() {
    let sb = Sandbox::start();
    let out = sql(&sb, &["--user", "nobody", "-e", "SELECT 1"]);
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("ERROR 1045") && out.stderr.contains("IDENTIFIED WITH AWSAuthenticationPlugin"), "{}", out.dump());

    // An expired token, signed by rdsdeck 20 minutes ago, sent by the mariadb client.
    let port = sb.var("RDSDECK_SANDBOX_DB_PORT").to_string();
    let old = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 1200).to_string();
    let token = run(sb.cmd().args(["token", "--hostname", sb.proxy(), "--port", "3306", "--username", "node_app", "--signing-time", &old]))
        .expect_code(0)
        .stdout;
    let mut c = Command::new("mariadb");
    c.env("MYSQL_PWD", token.trim())
        .args(["--protocol=TCP", "-h", "localhost", "-P", &port, "--ssl-ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--enable-cleartext-plugin", "-u", "node_app", "-e", "SELECT 1"]);
    let out = run(&mut c);
    assert_ne!(out.code(), Some(0), "an expired token was accepted: {}", out.dump());
    assert!(out.stderr.contains("1045"), "{}", out.dump());
    let log = auth_log(&sb, "RDSDECK_SANDBOX_DB_AUTH_LOG");
    let last = log.last().expect("auth log");
    assert!(last["reason"].as_str().unwrap_or("").contains("expired"), "verifier said: {last}");
}

#[test]
fn unknown_ca_is_refused_with_advice() {
    let sb = Sandbox::start();
    let out = run(sb.cmd().env_remove("RDSDECK_CA").args(["sql", "--user", "node_app", "-e", "SELECT 1"]));
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("not trusted") && out.stderr.contains("--ca"), "{}", out.dump());
}

#[test]
fn results_stream_as_csv_and_json_with_null_and_binary() {
    let sb = Sandbox::start();
    let out = sql(&sb, &["--user", "node_app", "-o", "csv", "-e", "SELECT NULL AS n, '' AS e, 'a,b' AS c, UNHEX('FF00') AS b"]).expect_code(0);
    assert_eq!(out.stdout, "n,e,c,b\n,\"\",\"a,b\",0xFF00\n", "{}", out.dump());
    let out = sql(&sb, &["--user", "node_app", "-o", "json", "-e", "SELECT id, email FROM node_db.users ORDER BY id LIMIT 2"]).expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["id"], 1, "numeric columns are JSON numbers: {}", out.stdout);
    assert!(v[0]["email"].is_string());
    let out = sql(&sb, &["--user", "node_app", "-o", "json", "-e", "SELECT 12.50 AS d, -3 AS i, 1.5e3 AS f, 18446744073709551615 AS big, NULL AS n, '42' AS s, YEAR('2026-01-01') AS y"]).expect_code(0);
    assert!(out.stdout.contains(r#""d":12.50"#) && out.stdout.contains(r#""i":-3"#) && out.stdout.contains(r#""big":18446744073709551615"#), "exact, as the server sent it: {}", out.stdout);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((v[0]["n"].is_null(), v[0]["s"].as_str(), v[0]["y"].as_u64()), (true, Some("42"), Some(2026)));
    assert!(v[0]["f"].is_number());
}

#[test]
fn guards_refuse_before_connecting() {
    let sb = Sandbox::start();
    let out = sql(&sb, &["--user", "node_app", "-e", "SELECT 1; DELETE FROM node_db.users"]);
    assert_eq!(out.code(), Some(2), "{}", out.dump());
    assert!(out.stderr.contains("destructive: DELETE without WHERE"), "{}", out.dump());
    let out = run(sb.cmd().args(["--read-only", "sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--user", "node_app", "-e", "INSERT INTO node_db.users (email) VALUES ('x')"]));
    assert_eq!(out.code(), Some(2), "{}", out.dump());
    assert!(out.stderr.contains("read-only"), "{}", out.dump());
    // Nothing ran: not even the SELECT before it reached the server.
    assert!(auth_log(&sb, "RDSDECK_SANDBOX_DB_AUTH_LOG").iter().all(|e| e["user"] != "node_app"));
    // A statement error stops the script with a non-zero exit and the line.
    let out = sql(&sb, &["--user", "node_app", "-e", "SELECT 1;\nSELECT * FROM nope"]);
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("line 2") && out.stderr.contains("1146"), "{}", out.dump());
}

#[test]
fn no_secret_in_output_log_or_argv() {
    let sb = Sandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rdsdeck.log");
    let mut c = sb.cmd();
    c.env("RDSDECK_LOG", "trace").args(["--log-file"]).arg(&log).args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--user", "node_app", "-e", "SELECT 1"]);
    let out = run(&mut c).expect_code(0);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let secret = sb.var("AWS_SECRET_ACCESS_KEY");
    for text in [&out.stdout, &out.stderr, &logged, &out.argv] {
        assert!(!text.contains(secret), "secret key leaked");
        assert!(!text.contains("X-Amz-Signature"), "a token leaked: {text}");
    }
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::BufRead;
    let sb = Sandbox::start();
    let mut c = sb.cmd();
    c.args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--user", "node_app", "-o", "csv", "-e", "SELECT seq FROM seq_1_to_2000000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    assert_eq!(first, vec!["seq", "1", "2"]);
    drop(lines); // `| head -3`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
}

/// The lean reader of `rdsdeck sql` on the protocol's corners: a row larger
/// than one 16 MiB packet, an error in the middle of a result, several result
/// sets from one CALL, affected-row counts, and one connection for the script.
#[test]
fn packets_split_rows_errors_mid_result_and_multiple_result_sets() {
    let sb = Sandbox::start();
    let out = sql(&sb, &["--user", "node_app", "-o", "csv", "-e", "SELECT LENGTH(a) AS la, b FROM (SELECT REPEAT('x', 16777000) AS a, 'end' AS b) t; SELECT REPEAT('x', 16777000) AS a, REPEAT('y', 1000) AS b"])
        .expect_code(0);
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("la,b"));
    assert_eq!(lines.next(), Some("16777000,end"));
    assert_eq!(lines.next(), Some(""));
    assert_eq!(lines.next(), Some("a,b"));
    let row = lines.next().expect("the big row");
    assert_eq!(row.len(), 16777000 + 1 + 1000, "a row across two packets arrives whole");
    assert!(row.starts_with("xxx") && row.contains("x,y") && row.ends_with("yyy"));

    // The server fails at row 5000: the rows before it are out, the exit code says it failed.
    let out = sql(&sb, &["--user", "node_app", "-o", "csv", "-e", "SELECT seq, IF(seq = 5000, (SELECT 1 UNION SELECT 2), seq) AS v FROM seq_1_to_10000"]);
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("ERROR 1242"), "{}", out.dump());
    assert_eq!(out.stdout.lines().count(), 5000, "header and 4999 rows");

    let script = "DELIMITER //\nCREATE PROCEDURE two_sets() BEGIN SELECT 1 AS a; SELECT 'x' AS b, NULL AS c; END//\nDELIMITER ;\n\
                  CALL two_sets();\nCREATE TEMPORARY TABLE t (a INT);\nINSERT INTO t VALUES (1),(2),(3);\nSELECT COUNT(*) AS n, CONNECTION_ID() = @@pseudo_thread_id AS same FROM t;\nDROP PROCEDURE two_sets";
    // The IAM admin logs in at the instance: with end-to-end IAM the proxy's role may connect only as the app's users.
    let out = sql(&sb, &["--host", sb.var("RDSDECK_SANDBOX_INSTANCE_ENDPOINT"), "--user", "dbadmin", "-D", "node_db", "--yes", "-o", "csv", "-e", script]).expect_code(0);
    assert_eq!(out.stdout, "a\n1\n\nb,c\nx,\n\nn,same\n3,1\n", "{}", out.dump());
    assert!(out.stderr.contains("ok, 3 rows affected"), "{}", out.dump());
    // The temporary table was still there: every statement ran on one connection (one login).
    let logins = auth_log(&sb, "RDSDECK_SANDBOX_DB_AUTH_LOG").iter().filter(|e| e["user"] == "dbadmin").count();
    assert_eq!(logins, 1, "{}", out.dump());
}

/// `rdsdeck token` with no flags signs for what `rdsdeck sql` connects to: the stack's endpoint
/// parameter and the app's user; `rdsdeck token | rdsdeck token inspect` works as the README shows.
#[test]
fn token_without_flags_is_for_the_stack_endpoint_and_the_app_user() {
    let sb = Sandbox::start();
    let token = run(sb.cmd().args(["token"])).expect_code(0).stdout;
    let out = run(sb.cmd().args(["token", "inspect", "-o", "json", token.trim()])).expect_code(0);
    let v = out.json();
    assert_eq!(v["host"], sb.proxy(), "{}", out.dump());
    assert_eq!(v["port"], 3306);
    assert_eq!(v["user"], "node_user");
    // Some flags but not all: as the aws CLI, an error that names what is missing and the other way.
    run(sb.cmd().args(["token", "--hostname", "h"])).expect_code(2).expect_stderr(&["--port", "--username", "or none"]);
}

/// A statement that is silent for longer than rdsdeck's silence limit (10 s) but on a server
/// that still greets new connections runs to its end; one whose server stopped answering
/// (SIGSTOP: no byte, no greeting, twice) fails with that said, instead of waiting forever.
#[test]
fn a_hung_database_is_named_and_a_slow_statement_is_not() {
    let sb = Sandbox::start();
    let out = sql(&sb, &["--user", "node_app", "-o", "csv", "-e", "SELECT SLEEP(12) AS slept"]).expect_code(0);
    assert!(out.stdout.contains("slept") && out.stdout.trim_end().ends_with('0'), "{}", out.dump());

    let mut cmd = sb.cmd();
    cmd.args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--user", "node_app", "-e", "SELECT SLEEP(60)"]);
    let child = std::thread::spawn(move || common::run_within(&mut cmd, std::time::Duration::from_secs(90)));
    // Frozen once the statement runs (on a busy machine the login alone can take seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let running = "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'";
    while sql(&sb, &["--user", "node_app", "-o", "csv", "-e", running]).expect_code(0).stdout.lines().last() != Some("1") {
        assert!(std::time::Instant::now() < deadline, "the statement never ran");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let frozen = common::Frozen::database(&sb);
    let froze = std::time::Instant::now();
    let out = child.join().unwrap();
    drop(frozen);
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("stopped answering") && out.stderr.contains("no greeting"), "{}", out.dump());
    let took = froze.elapsed().as_secs();
    assert!((15..60).contains(&took), "given up after the silence and two probes, not at once nor never: {took}s");
    // Thawed, it serves again.
    sql(&sb, &["--user", "node_app", "-e", "SELECT 1"]).expect_code(0);
}
