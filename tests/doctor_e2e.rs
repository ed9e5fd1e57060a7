//! `rdsdeck doctor` end to end on the sandbox: the healthy stack passes every
//! check (its endpoint parameter names the proxy, reached through the sandbox's
//! RDSDECK_CONNECT_TO); each scenario broken on purpose is the first failure,
//! with its fix, and applying the fix makes the doctor pass.

mod common;

use common::{Sandbox, run};
use serde_json::Value;

fn doctor(sb: &Sandbox) -> (Option<i32>, Value) {
    let out = run(sb.cmd().args(["doctor", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "-o", "json"]));
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
    assert_eq!(ids, ["identity", "proxy", "proxy.tls", "proxy.auth", "targets", "instance", "host", "network.host-proxy", "network.proxy-db", "config", "login"]);
    for id in &ids {
        assert_eq!(status(&v, id), "pass", "{id}: {v:#}");
    }
    let out = run(sb.cmd().args(["doctor", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA")])).expect_code(0);
    assert!(out.stdout.contains("✓ login") && out.stdout.contains("11 passed, 0 warnings, 0 failed"), "{}", out.dump());
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

#[test]
fn a_closed_security_group_is_named_and_its_fix_works() {
    let sb = Sandbox::start();
    let sgs = sb.facts()["security_groups"].clone();
    let (proxy_sg, ec2_sg) = (sgs["proxy"].as_str().unwrap(), sgs["ec2"].as_str().unwrap());
    // moto matches the rule's description on revoke (AWS does not): give it.
    let perm = format!(r#"[{{"IpProtocol":"tcp","FromPort":3306,"ToPort":3306,"UserIdGroupPairs":[{{"GroupId":"{ec2_sg}","Description":"Allow Incoming request on 3306 from EC2 Instance"}}]}}]"#);
    sb.aws(&["ec2", "revoke-security-group-ingress", "--group-id", proxy_sg, "--ip-permissions", &perm]);
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(1));
    let (id, fix) = first_failure(&v);
    assert_eq!(id, "network.host-proxy", "{v:#}");
    assert!(fix.contains(&format!("--group-id {proxy_sg}")) && fix.contains(ec2_sg), "{fix}");
    // Apply the printed fix.
    let perms = fix.split("--ip-permissions '").nth(1).unwrap().trim_end_matches('\'');
    sb.aws(&["ec2", "authorize-security-group-ingress", "--group-id", proxy_sg, "--ip-permissions", perms]);
    assert_eq!(doctor(&sb).0, Some(0));
}

#[test]
fn iam_auth_off_and_the_endpoint_naming_the_instance_are_named() {
    let sb = Sandbox::start();
    sb.aws(&["rds", "modify-db-instance", "--db-instance-identifier", "rds-iam-auth-db", "--no-enable-iam-database-authentication", "--apply-immediately"]);
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(1));
    let (id, fix) = first_failure(&v);
    assert_eq!(id, "instance", "{v:#}");
    assert!(fix.contains("--enable-iam-database-authentication"), "{fix}");
    sb.aws(&["rds", "modify-db-instance", "--db-instance-identifier", "rds-iam-auth-db", "--enable-iam-database-authentication", "--apply-immediately"]);
    assert_eq!(doctor(&sb).0, Some(0));

    // The app's endpoint parameter naming the instance: its tokens would be for the wrong host.
    let was = sb.aws(&["ssm", "get-parameter", "--name", "/dev/database/endpoint", "--query", "Parameter.Value", "--output", "text"]);
    let instance = sb.fact("rds_address");
    sb.aws(&["ssm", "put-parameter", "--overwrite", "--name", "/dev/database/endpoint", "--type", "String", "--value", &instance]);
    let (code, v) = doctor(&sb);
    assert_eq!(code, Some(1));
    let (id, fix) = first_failure(&v);
    assert_eq!(id, "config", "{v:#}");
    assert!(fix.contains(&sb.fact("rds_proxy_endpoint")), "the fix names the proxy's endpoint: {fix}");
    sb.aws(&["ssm", "put-parameter", "--overwrite", "--name", "/dev/database/endpoint", "--type", "String", "--value", was.trim()]);
    assert_eq!(doctor(&sb).0, Some(0));
}
