//! `rdsdeck doctor` end to end on the sandbox: the healthy stack passes every
//! check (its endpoint parameter names the proxy, reached through the sandbox's
//! RDSDECK_CONNECT_TO); each scenario broken on purpose is the first failure,
//! with its fix, and applying the fix makes the doctor pass.

mod common;

use common::{Sandbox, run};
use serde_json::Value;

fn doctor(sb: &Sandbox) -> (Option<i32>, Value) {
    doctor_with(sb, &[])
}

fn doctor_with(sb: &Sandbox, more: &[&str]) -> (Option<i32>, Value) {
    let out = run(sb.cmd().args(["doctor", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "-o", "json"]).args(more));
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.dump()));
    (out.code(), v)
}

fn status<'a>(v: &'a Value, id: &str) -> &'a str {
    v["findings"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no {id} in {v}"))["status"].as_str().unwrap()
}

fn first_failure(v: &Value) -> (String, String) {
    let id = v["first_failure"].as_str().unwrap_or_else(|| panic!("nothing failed: {v:#}")).to_string();
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == id.as_str()).unwrap();
    (id, f["fix"].as_str().unwrap_or_default().to_string())
}

#[test]
fn the_healthy_sandbox_passes_and_the_text_names_every_link() {
    let sb = Sandbox::start();
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(0), "{v:#}");
    let ids: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "identity",
            "proxy",
            "proxy.tls",
            "proxy.auth",
            "instance",
            "network.proxy-db",
            "targets",
            "host.egress",
            "host",
            "network.host-proxy",
            "config",
            "iam",
            "dbuser",
            "login",
            "logs"
        ]
    );
    for id in &ids {
        assert_eq!(status(&v, id), "pass", "{id}: {v:#}");
    }
    let out = run(sb.cmd().args(["doctor", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")])).expect_code(0);
    assert!(out.stdout.contains("✓ login") && out.stdout.contains("15 passed, 0 warnings, 0 failed"), "{}", out.dump());
    // The login went to the proxy's name: the evidence says where TCP really went.
    assert!(out.stdout.contains(&format!("node_user@{}:3306", sb.proxy())), "{}", out.dump());
    // One check only; an unknown one is a usage error.
    let out = run(sb.cmd().args(["doctor", "--check", "network.proxy-db"])).expect_code(0);
    assert!(out.stdout.contains("network.proxy-db") && !out.stdout.contains("proxy.tls"), "{}", out.dump());
    run(sb.cmd().args(["doctor", "--check", "nope"])).expect_code(2).expect_stderr(&["no such check", "network.host-proxy"]);
    // --strict fails on a warning: the endpoint parameter naming something else than the proxy.
    run(sb.cmd().args(["doctor", "--strict", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")])).expect_code(0);
    sb.aws(&["ssm", "put-parameter", "--overwrite", "--name", "/dev/database/endpoint", "--type", "String", "--value", "db.internal.example"]);
    let (_, v) = doctor(&sb);
    assert_eq!(status(&v, "config"), "warn", "{v:#}");
    run(sb.cmd().args(["doctor", "--check", "config"])).expect_code(0);
    run(sb.cmd().args(["doctor", "--check", "config", "--strict"])).expect_code(1);
}

/// Breaks one link with `sandbox.py break`, checks that the doctor's first failure is `expect` with
/// the fix it prints, applies that fix as printed when it is a command or SQL (else `sandbox.py
/// fix`), and checks that the doctor passes again.
fn scenario(name: &str, expect: &str, fix_has: &[&str], apply_printed: bool) -> Value {
    let sb = Sandbox::start();
    sb.scenario("break", name);
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(1), "{name}: the doctor must fail: {v:#}");
    let (id, fix) = first_failure(&v);
    assert_eq!(id, expect, "{name}: {v:#}");
    for want in fix_has {
        assert!(fix.contains(want), "{name}: the fix names {want}: {fix}");
    }
    if apply_printed {
        sb.apply_fix(&fix);
    } else {
        sb.scenario("fix", name);
    }
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(0), "{name}: after the fix the doctor passes: {v:#}");
    v
}

#[test]
fn scenario_proxy_sg() {
    scenario("proxy-sg", "network.host-proxy", &["authorize-security-group-ingress"], true);
}

#[test]
fn scenario_db_sg() {
    // The targets go UNAVAILABLE too (the stand-in judges health from the rules): the cause comes first.
    scenario("db-sg", "network.proxy-db", &["authorize-security-group-ingress"], true);
}

#[test]
fn scenario_instance_iam_off() {
    scenario("instance-iam-off", "instance", &["--enable-iam-database-authentication"], true);
}

#[test]
fn scenario_proxy_iam_disabled() {
    scenario("proxy-iam-disabled", "proxy.auth", &["modify-db-proxy", r#""IAMAuth":"REQUIRED""#, "arn:aws:secretsmanager:"], true);
}

#[test]
fn scenario_proxy_tls_off() {
    scenario("proxy-tls-off", "proxy.tls", &["--require-tls"], true);
}

#[test]
fn scenario_endpoint_names_the_instance() {
    scenario("endpoint-instance", "config", &["put-parameter", "/dev/database/endpoint", ".db-proxy-"], true);
}

#[test]
fn scenario_wrong_port_parameter() {
    scenario("port-param", "config", &["/dev/database/port", "--value 3306"], true);
}

#[test]
fn scenario_user_without_the_plugin() {
    scenario("user-no-plugin", "dbuser", &["IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"], true);
}

#[test]
fn scenario_user_without_require_ssl() {
    scenario("user-no-ssl", "dbuser", &["REQUIRE SSL"], true);
}

#[test]
fn scenario_user_without_grants() {
    scenario("user-no-grants", "dbuser", &["GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.* TO 'node_user'@'%'"], true);
}

#[test]
fn scenario_ssm_agent_offline() {
    scenario("agent-offline", "host", &["SSM agent"], false);
}

#[test]
fn scenario_no_way_out_for_the_agent() {
    // The stand-in's agent goes offline too (it judges the route and endpoints): the cause comes first,
    // and creating the endpoints the doctor prints brings it back.
    scenario("no-egress", "host.egress", &["create-vpc-endpoint", "ssmmessages", "ec2messages"], true);
}

#[test]
fn scenario_unhealthy_target() {
    scenario("target-unhealthy", "targets", &["secret"], false);
}

#[test]
fn scenario_caller_without_rds_db_connect() {
    let v = scenario("caller-no-connect", "iam", &["put-user-policy --user-name moto", "rds-db:connect", "dbuser:prx-"], true);
    // The refused login went to the instance's exported iam-db-auth-error log, and the doctor read it.
    let logs = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == "logs").unwrap();
    assert_eq!(logs["status"], "warn", "{logs:#}");
    assert!(logs["summary"].as_str().unwrap().contains("rds-db:connect"), "the log says why: {logs:#}");
    // The proxy logged it too (the login went to the proxy's name).
    assert!(logs["evidence"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().starts_with("[proxy] ")), "{logs:#}");
}

/// `--from-host`: the logins go through Session Manager forwards on the app host, the evidence
/// says so, and the sessions are ended when the doctor ends; with the agent offline there is no route
/// and the login says why.
#[test]
fn from_the_host_the_logins_go_through_a_forward_that_is_closed_after() {
    let sb = Sandbox::start();
    let out = run(sb.cmd().args(["doctor", "--from-host", "-v", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")])).expect_code(0);
    assert!(out.stdout.contains("via forward auto: 127.0.0.1:") && out.stdout.contains(&format!("through {}", sb.fact("ec2_instance_id"))), "{}", out.dump());
    let sessions = sb.standin("GET", "/sandbox/sessions", "", "");
    let sessions = sessions.as_array().unwrap();
    // One forward to the proxy for the app user's login, one to the instance for the IAM admin's.
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for s in sessions {
        assert_eq!(s["Status"], "Terminated", "{sessions:?}");
    }
    let hosts: Vec<&str> = sessions.iter().map(|s| s["params"]["host"][0].as_str().unwrap_or_default()).collect();
    assert!(hosts.contains(&sb.proxy()) && hosts.contains(&sb.fact("rds_address").as_str()), "{sessions:?}");
    // The route and its config twin agree: --via auto is the same.
    run(sb.cmd().args(["doctor", "--via", "auto", "--check", "login", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")])).expect_code(0);
    run(sb.cmd().args(["doctor", "--via", "auto", "--from-host"])).expect_code(2).expect_stderr(&["cannot be used with"]);

    sb.scenario("break", "agent-offline");
    let (code, v) = doctor_with(&sb, &["--from-host"]);
    assert_eq!(code, Some(1));
    let login = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == "login").unwrap();
    assert!(login["evidence"][0].as_str().unwrap().contains("could not be opened"), "{login:#}");
}

#[test]
fn scenario_proxy_role_without_rds_db_connect() {
    // End-to-end IAM (DefaultAuthScheme IAM_AUTH): the proxy's role logs in to the instance itself.
    scenario("proxy-role-no-connect", "iam", &["put-role-policy --role-name rds-iam-auth-proxy-role", "dbuser:db-", "/node_user"], true);
}

/// When the policy simulator is denied to the caller the `iam` check says so and gives the statement
/// to add; that is a warning (the login still proves the permission), and the statement, applied, works.
#[test]
fn a_denied_policy_simulator_is_a_warning_with_the_statement_to_add() {
    let sb = Sandbox::start();
    sb.scenario("break", "caller-no-simulate");
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(0), "{v:#}");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == "iam").unwrap().clone();
    assert_eq!(f["status"], "warn", "{f:#}");
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("iam:SimulatePrincipalPolicy") && fix.contains("rdsdeck-doctor"), "{fix}");
    let cmd = fix.split("let the doctor ask IAM: ").nth(1).unwrap().split("; or check").next().unwrap();
    sb.apply_fix(cmd);
    let (_, v) = doctor(&sb);
    assert_eq!(status(&v, "iam"), "pass", "{v:#}");
}
