//! `rdsdeck bootstrap` end to end on the sandbox: a fresh MariaDB with the
//! server-side AWSAuthenticationPlugin (every token checked by botocore), the
//! master secret in moto's Secrets Manager, the real binary.

mod common;

use common::{Output, Sandbox, run};
use std::process::{Command, Stdio};

const USERS: &str = "'dbadmin','node_app','node_user'";

/// SQL as root over the Unix socket (outside rdsdeck: to inspect and to break things).
fn root_sql(sb: &Sandbox, sql: &str) -> String {
    let out = run(Command::new("mariadb")
        .args(["--no-defaults", "-uroot", "-N", "-B", "-S"])
        .arg(sb.var("RDSDECK_SANDBOX_DB_SOCKET"))
        .args(["-e", sql]));
    assert_eq!(out.code(), Some(0), "root SQL failed:\n{}", out.dump());
    out.stdout
}

/// Everything that defines the three users: their mysql.user rows, mysql.db rows and grants.
fn users_state(sb: &Sandbox) -> String {
    let mut s = root_sql(
        sb,
        &format!(
            "SELECT User, Host, plugin, authentication_string, ssl_type, Create_user_priv, Reload_priv, Process_priv, Grant_priv, Select_priv \
             FROM mysql.user WHERE User IN ({USERS}) ORDER BY User; SELECT * FROM mysql.db WHERE User IN ({USERS}) ORDER BY User, Db"
        ),
    );
    for u in ["dbadmin", "node_app", "node_user"] {
        if root_sql(sb, &format!("SELECT COUNT(*) FROM mysql.user WHERE User = '{u}'")).trim() == "1" {
            s.push_str(&root_sql(sb, &format!("SHOW GRANTS FOR '{u}'@'%'")));
        }
    }
    s
}

fn bootstrap(sb: &Sandbox, args: &[&str]) -> Output {
    let mut c = sb.cmd();
    c.arg("bootstrap").arg("--conf").arg(sb.var("RDSDECK_SANDBOX_RDS_CONF")).args(args).stdin(Stdio::null());
    run(&mut c)
}

fn master_password(sb: &Sandbox, secret: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&sb.aws(&["secretsmanager", "get-secret-value", "--secret-id", secret])).unwrap();
    let inner: serde_json::Value = serde_json::from_str(v["SecretString"].as_str().unwrap()).unwrap();
    inner["password"].as_str().unwrap().to_string()
}

fn secret_name(sb: &Sandbox) -> String {
    let conf = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_RDS_CONF")).unwrap();
    conf.lines()
        .find_map(|l| l.strip_prefix("MASTER_SECRET_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .expect("MASTER_SECRET_NAME in the sandbox's rds.conf")
}

fn statuses(out: &Output) -> Vec<(String, String, bool)> {
    out.json()["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["status"].as_str().unwrap().to_string(), s["changed"].as_bool().unwrap()))
        .collect()
}

fn auth_attempts(sb: &Sandbox) -> usize {
    std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_DB_AUTH_LOG")).unwrap_or_default().lines().count()
}

#[test]
fn fresh_database_bootstrap_matches_the_seed_and_a_second_run_changes_nothing() {
    let sb = Sandbox::start_with(&["--fresh-db"]);
    let password = master_password(&sb, &secret_name(&sb));
    let fresh = users_state(&sb);
    assert!(!fresh.contains("node_app"), "the fresh database already has users:\n{fresh}");

    // --dry-run: the whole plan, every statement, and nothing touched.
    let dry = bootstrap(&sb, &["--dry-run"]).expect_code(0);
    for needle in [
        "CREATE USER IF NOT EXISTS 'dbadmin'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';",
        "ALTER USER 'dbadmin'@'%' REQUIRE SSL;",
        "GRANT CREATE USER, RELOAD, PROCESS ON *.* TO 'dbadmin'@'%' WITH GRANT OPTION;",
        "GRANT ALL PRIVILEGES ON `node_db`.* TO 'dbadmin'@'%';",
        "GRANT SELECT ON mysql.* TO 'dbadmin'@'%';",
        "CREATE USER IF NOT EXISTS 'node_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL;",
        "GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.* TO 'node_user'@'%';",
        "dry run: nothing was run",
    ] {
        assert!(dry.stdout.contains(needle), "dry run lacks {needle:?}:\n{}", dry.dump());
    }
    assert_eq!(users_state(&sb), fresh, "--dry-run changed the database");
    assert_eq!(auth_attempts(&sb), 0, "--dry-run tried to log in");

    // The real run.
    let first = bootstrap(&sb, &[]).expect_code(0);
    assert!(first.stdout.contains("bootstrap complete"), "{}", first.dump());
    for n in 1..=6 {
        assert!(first.stdout.contains(&format!("[{n}/6]")), "step {n} not reported:\n{}", first.dump());
    }
    assert!(!first.stdout.contains(&password) && !first.stderr.contains(&password), "the master password was printed");
    let after = users_state(&sb);

    // Exactly what the seed's rds.sh leaves (the sandbox's non-fresh database is set up that way).
    let seeded = Sandbox::start();
    assert_eq!(after, users_state(&seeded), "bootstrap's users differ from the seed's");
    drop(seeded);

    // The app user logs in with a token.
    let sql = run(sb.cmd().args(["sql", "--user", "node_app", "-D", "node_db", "-o", "csv", "-e", "SELECT CURRENT_USER(), COUNT(*) > 0 FROM users"]))
        .expect_code(0);
    assert!(sql.stdout.contains("node_app@%,1"), "{}", sql.dump());

    // A second run: every step already satisfied, nothing changed.
    let second = bootstrap(&sb, &["-o", "json"]).expect_code(0);
    let st = statuses(&second);
    assert_eq!(st.len(), 6);
    for (id, status, changed) in &st {
        assert!(!changed, "step {id} changed something on the second run:\n{}", second.dump());
        let want = match id.as_str() {
            "master-secret" | "admin-user" | "app-users" => "already-done",
            _ => "ok",
        };
        assert_eq!(status, want, "step {id}:\n{}", second.dump());
    }
    let v = second.json();
    assert_eq!(v["verification"].as_array().unwrap().len(), 3);
    assert!(v["verification"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{}", second.dump());
    assert_eq!(users_state(&sb), after, "the second run changed users or grants");
    assert!(!second.stdout.contains(&password), "the master password is in the JSON report");

    let text = bootstrap(&sb, &[]).expect_code(0);
    assert!(text.stdout.contains("everything was already in place; nothing changed"), "{}", text.dump());

    // The master password never reached the log file or the database's general log.
    let log = std::fs::read_to_string(sb.home().state_home().join("rdsdeck/rdsdeck.log")).expect("the log was written");
    assert!(log.contains("bootstrap"), "{log}");
    assert!(!log.contains(&password), "the master password is in the log");
    let general = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_DB_GENERAL_LOG")).unwrap_or_default();
    assert!(general.contains("CREATE USER IF NOT EXISTS 'node_app'"), "the general log is on");
    assert!(!general.contains(&password), "the master password is in the database's general log");
}

#[test]
fn a_failure_in_the_middle_of_step_5_resumes_with_from() {
    let sb = Sandbox::start_with(&["--fresh-db"]);
    // node_user already exists as a password user: rdsdeck must not convert it.
    root_sql(&sb, "CREATE USER 'node_user'@'%' IDENTIFIED BY 'not-iam'");
    let out = bootstrap(&sb, &[]).expect_code(1);
    assert!(out.stdout.contains("'node_user'@'%' already exists and logs in with mysql_native_password"), "{}", out.dump());
    assert!(out.stdout.contains("--from app-users"), "{}", out.dump());
    assert!(out.stdout.contains("`node_app` created"), "node_app (before node_user) should be done:\n{}", out.dump());

    // Fix the cause; break the master secret to prove the resume never needs it.
    root_sql(&sb, "DROP USER 'node_user'@'%'");
    let secret = secret_name(&sb);
    sb.aws(&["secretsmanager", "put-secret-value", "--secret-id", &secret, "--secret-string", r#"{"username":"admin","password":"wrong"}"#]);
    let resumed = bootstrap(&sb, &["--from", "app-users", "-o", "json"]).expect_code(0);
    let st = statuses(&resumed);
    let get = |id: &str| st.iter().find(|s| s.0 == id).map(|s| s.1.clone()).unwrap();
    assert_eq!(get("master-secret"), "skipped");
    assert_eq!(get("admin-user"), "skipped");
    assert_eq!(get("iam-login"), "skipped");
    assert_eq!(get("app-users"), "ok");
    assert_eq!(get("verify"), "ok");
    let detail = resumed.json()["steps"][4]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("`node_app` already done") && detail.contains("`node_user` created"), "{detail}");

    let seeded = Sandbox::start();
    assert_eq!(users_state(&sb), users_state(&seeded));
}

#[test]
fn bad_inputs_are_refused_with_a_message_naming_the_problem() {
    let sb = Sandbox::start_with(&["--fresh-db"]);
    let conf = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_RDS_CONF")).unwrap();
    let secret = secret_name(&sb);
    let password = master_password(&sb, &secret);
    let fresh = users_state(&sb);
    let with_conf = |text: &str, args: &[&str]| -> Output {
        let path = sb.home().write("bad/rds.conf", text);
        let mut c = sb.cmd();
        c.arg("bootstrap").arg("--conf").arg(&path).args(args).stdin(Stdio::null());
        run(&mut c)
    };

    run(sb.cmd().args(["bootstrap", "--conf", "/nonexistent/rds.conf"])).expect_code(2).expect_stderr(&["/nonexistent/rds.conf", "no such file"]);
    with_conf(&conf.replace("IAM_ADMIN_USER=\"dbadmin\"", "IAM_ADMIN_USER=\"\""), &[]).expect_code(2).expect_stderr(&["IAM_ADMIN_USER is empty"]);
    with_conf(&conf.replace("DB_NAME=\"node_db\"", "DB_NAME node_db"), &[]).expect_code(2).expect_stderr(&["expected KEY=\"value\""]);
    with_conf(&conf.replace("IAM_ADMIN_USER=\"dbadmin\"", "IAM_ADMIN_USER=\"db'admin\""), &[]).expect_code(2).expect_stderr(&["IAM_ADMIN_USER", "quote"]);
    with_conf(&conf.replace("IAM_ADMIN_USER=\"dbadmin\"", "IAM_ADMIN_USER=\"db`admin\""), &[]).expect_code(2).expect_stderr(&["IAM_ADMIN_USER", "backtick"]);
    let long = format!("IAM_ADMIN_USER=\"{}\"", "a".repeat(100));
    with_conf(&conf.replace("IAM_ADMIN_USER=\"dbadmin\"", &long), &[]).expect_code(2).expect_stderr(&["100 characters", "at most 32"]);
    run(sb.cmd().args(["bootstrap", "--conf", sb.var("RDSDECK_SANDBOX_RDS_CONF"), "--from", "7"])).expect_code(2).expect_stderr(&["1 to 6"]);

    // A secret that does not exist (the admin's login is refused on a fresh database: it is read).
    let out = with_conf(&conf.replace(&secret, "rds!db-does-not-exist"), &[]).expect_code(1);
    assert!(out.stdout.contains("secret `rds!db-does-not-exist` does not exist"), "{}", out.dump());
    // The same, with the database unreachable: a failure that is not a refused login says nothing
    // about the admin user, so the secret is not read (were it read, its absence would be the error).
    let path = sb.home().write("bad/rds.conf", &conf.replace(&secret, "rds!db-does-not-exist"));
    let unreachable = format!("{}:3306:127.0.0.1:{}", sb.var("RDSDECK_SANDBOX_INSTANCE_ENDPOINT"), common::closed_port());
    let out = run(sb.cmd().args(["--connect-to", &unreachable, "bootstrap", "--conf"]).arg(&path).stdin(Stdio::null())).expect_code(1);
    assert!(out.stdout.contains("so the master secret was not read") && !out.stdout.contains("does not exist"), "{}", out.dump());

    // A production stack needs --yes (stdin is not a terminal here); a dry run does not.
    let cfg = sb.home().write("prod.toml", &format!("[stacks.prod]\nproduction = true\nrds_conf = \"{}\"\n", sb.var("RDSDECK_SANDBOX_RDS_CONF")));
    let prod = |args: &[&str]| {
        let mut c = sb.cmd();
        c.arg("--config").arg(&cfg).args(["--stack", "prod", "bootstrap"]).args(args).stdin(Stdio::null());
        run(&mut c)
    };
    prod(&[]).expect_code(2).expect_stderr(&["production", "--yes"]);
    prod(&["--dry-run"]).expect_code(0);

    // The instance without IAM auth: the plugin is not loaded (RDS error 1524).
    root_sql(&sb, "UNINSTALL SONAME 'aws_auth_plugin.so'");
    let out = bootstrap(&sb, &[]).expect_code(1);
    assert!(out.stdout.contains("1524") && out.stdout.contains("enable-iam-database-authentication"), "{}", out.dump());
    assert!(out.stdout.contains("FAILED at step 3"), "{}", out.dump());
    root_sql(&sb, "INSTALL SONAME 'aws_auth_plugin.so'");
    root_sql(&sb, "DROP USER IF EXISTS 'dbadmin'@'%'");
    assert_eq!(users_state(&sb), fresh);

    // A master password that is wrong.
    sb.aws(&["secretsmanager", "put-secret-value", "--secret-id", &secret, "--secret-string", r#"{"username":"admin","password":"wrong-password"}"#]);
    let out = bootstrap(&sb, &[]).expect_code(1);
    assert!(out.stdout.contains("the master user `admin` was refused with the password from secret"), "{}", out.dump());
    assert!(!out.stdout.contains("wrong-password") && !out.stderr.contains("wrong-password"), "a password was printed:\n{}", out.dump());
    assert!(!out.stdout.contains(&password));
    assert_eq!(users_state(&sb), fresh, "a failed run left users behind");
}

/// `rdsdeck bootstrap … | head`: the reader leaving is not an error (the run still ends properly).
#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    let home = common::CleanHome::new();
    let conf = home.write(
        "rds.conf",
        "RDS_ENDPOINT=\"db.c0ffee.us-east-1.rds.amazonaws.com\"\nREGION=\"us-east-1\"\nMASTER_SECRET_NAME=\"rds!db-1\"\nDB_NAME=\"node_db\"\nIAM_ADMIN_USER=\"dbadmin\"\n",
    );
    let mut child = home.cmd().args(["bootstrap", "--dry-run", "--conf"]).arg(&conf).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone (as `head -1` after its line).
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(first.starts_with("bootstrap of"), "{first}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
}

/// Verify holds the users to the plan: a privilege granted on top (on the app's database, on another
/// schema, globally) fails it, named as a GRANT names it; revoked, it passes again.
#[test]
fn verify_fails_a_user_holding_more_than_planned() {
    let sb = Sandbox::start();
    bootstrap(&sb, &["--from", "verify"]).expect_code(0);
    root_sql(&sb, "GRANT DROP ON node_db.* TO 'node_app'@'%'; GRANT SELECT ON mysql.* TO 'node_user'@'%'; GRANT PROCESS ON *.* TO 'node_user'@'%'");
    let out = bootstrap(&sb, &["--from", "verify"]).expect_code(1);
    assert!(out.stdout.contains("`node_app`: holds more than planned: DROP ON `node_db`.*"), "{}", out.dump());
    assert!(out.stdout.contains("PROCESS ON *.*") && out.stdout.contains("SELECT ON `mysql`.*"), "{}", out.dump());
    root_sql(&sb, "REVOKE DROP ON node_db.* FROM 'node_app'@'%'; REVOKE SELECT ON mysql.* FROM 'node_user'@'%'; REVOKE PROCESS ON *.* FROM 'node_user'@'%'");
    bootstrap(&sb, &["--from", "verify"]).expect_code(0);
}
