//! End-to-end tests of `rdsdeck list`: the real binary, the real AWS SDK
//! clients, against a private moto sandbox seeded with the stack (STACK.md).
//!
//! Each test that needs AWS starts its own sandbox (own port and temp dirs),
//! so the tests run in parallel under `cargo nextest` and `cargo test`.
//! Bad-input tests that fail before any AWS call run without a sandbox.
//!
//! Several tests pin bugs found while writing them (kind names in JSON,
//! `rds_dbi`, unknown profiles, message wording).

mod common;

use common::{CleanHome, Sandbox, closed_port, run};
use serde_json::Value;
use std::collections::BTreeSet;

/// The kinds as `--kind` names them, in tab order.
const KINDS: [&str; 13] = [
    "proxies",
    "target-groups",
    "targets",
    "instances",
    "hosts",
    "security-groups",
    "subnets",
    "vpcs",
    "parameters",
    "secrets",
    "load-balancers",
    "repositories",
    "buckets",
];

/// `kinds.<name>` of a `list -o json` document, by its `--kind` name.
fn kind<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let kinds = doc["kinds"].as_object().expect("`kinds` is an object");
    kinds
        .get(name)
        .unwrap_or_else(|| panic!("kind {name} missing; kinds: {:?}", kinds.keys().collect::<Vec<_>>()))
}

/// The items of a kind, asserting it loaded.
fn items<'a>(doc: &'a Value, name: &str) -> &'a Vec<Value> {
    let k = kind(doc, name);
    assert_eq!(k["status"], "ok", "kind {name} did not load: {k}");
    k["items"].as_array().unwrap_or_else(|| panic!("kind {name} has no items array: {k}"))
}

fn names(doc: &Value, kind_name: &str) -> BTreeSet<String> {
    items(doc, kind_name).iter().map(|i| i["name"].as_str().expect("item name").to_string()).collect()
}

/// The item of a kind with this name (or id).
fn item<'a>(doc: &'a Value, kind_name: &str, name: &str) -> &'a Value {
    items(doc, kind_name)
        .iter()
        .find(|i| i["name"] == name || i["id"] == name)
        .unwrap_or_else(|| panic!("no {kind_name} item named {name}; have {:?}", names(doc, kind_name)))
}

fn attr<'a>(item: &'a Value, key: &str) -> &'a Value {
    let v = &item["attributes"][key];
    assert!(!v.is_null(), "attribute {key} missing or null in {item}");
    v
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_else(|| panic!("expected strings in {v}")).to_string())
        .collect()
}

fn list_json(sb: &Sandbox, extra: &[&str]) -> Value {
    let out = run(sb.cmd().args(["list", "-o", "json"]).args(extra)).expect_code(0);
    assert!(!out.stderr.contains("error"), "unexpected error output:\n{}", out.dump());
    out.json()
}

// --------------------------------------------------------------------------- the stack

#[test]
fn list_json_shows_the_seeded_stack() {
    let sb = Sandbox::start();
    let facts = sb.facts();
    let fact = |k: &str| facts[k].as_str().unwrap_or_else(|| panic!("fact {k}")).to_string();
    let doc = list_json(&sb, &[]);

    // Where, who, what.
    let stack = &doc["stack"];
    assert_eq!(stack["region"], "us-east-1");
    assert_eq!(stack["proxy"], "dev-node-app");
    assert_eq!(stack["proxy_arn"], fact("rds_proxy_arn"));
    assert_eq!(stack["proxy_endpoint"], fact("rds_proxy_endpoint"));
    assert_eq!(stack["vpc_id"], fact("vpc_id"));
    assert_eq!(doc["endpoint"], sb.endpoint());
    assert_eq!(doc["profile"], "default");
    assert_eq!(doc["identity"]["Ok"]["account"], "123456789012", "identity: {}", doc["identity"]);

    // Every kind is there and loaded (the sandbox serves all of them).
    for k in KINDS {
        items(&doc, k);
    }
    assert_eq!(doc["kinds"].as_object().unwrap().len(), KINDS.len());

    // The proxy: TLS required, IAM auth required, the master secret in its auth block.
    assert_eq!(names(&doc, "proxies"), BTreeSet::from(["dev-node-app".to_string()]));
    let proxy = item(&doc, "proxies", "dev-node-app");
    assert_eq!(proxy["id"], fact("rds_proxy_arn"));
    assert_eq!(proxy["health"], "ok");
    assert_eq!(*attr(proxy, "status"), "available");
    assert_eq!(*attr(proxy, "engine_family"), "MYSQL");
    assert_eq!(*attr(proxy, "require_tls"), true);
    assert_eq!(*attr(proxy, "iam_auth"), "REQUIRED");
    assert_eq!(*attr(proxy, "in_stack"), true);
    let auth = attr(proxy, "auth").as_array().expect("auth is an array");
    assert_eq!(auth.len(), 1, "one auth block: {auth:?}");
    assert_eq!(auth[0]["iam_auth"], "REQUIRED");
    assert_eq!(auth[0]["secret_arn"], fact("rds_master_secret_arn"));
    assert_eq!(auth[0]["client_password_auth_type"], "MYSQL_NATIVE_PASSWORD");

    // Its default target group and the instance as its target.
    let tg = item(&doc, "target-groups", "default");
    assert_eq!(*attr(tg, "is_default"), true);
    assert_eq!(*attr(tg, "connection_borrow_timeout"), 120);
    assert_eq!(*attr(tg, "max_connections_percent"), 100);
    assert_eq!(*attr(tg, "max_idle_connections_percent"), 50);
    let target = item(&doc, "targets", "rds-iam-auth-db");
    assert_eq!(*attr(target, "health_state"), "AVAILABLE");

    // The DB instance, with IAM auth on and the RDS-managed master secret.
    assert_eq!(names(&doc, "instances"), BTreeSet::from(["rds-iam-auth-db".to_string()]));
    let db = item(&doc, "instances", "rds-iam-auth-db");
    assert_eq!(*attr(db, "iam_auth"), true);
    assert_eq!(*attr(db, "engine"), "mysql");
    assert_eq!(*attr(db, "engine_version"), "8.4.7");
    assert_eq!(*attr(db, "db_name"), "node_db");
    assert_eq!(*attr(db, "master_username"), "admin");
    assert_eq!(*attr(db, "master_secret_arn"), fact("rds_master_secret_arn"));
    assert_eq!(*attr(db, "endpoint_address"), fact("rds_address"));
    assert_eq!(db["health"], "ok");

    // The app host.
    let host = item(&doc, "hosts", "rds-iam-auth-node-app");
    assert_eq!(host["id"], fact("ec2_instance_id"));
    assert_eq!(*attr(host, "state"), "running");
    assert_eq!(*attr(host, "instance_profile"), "rds-iam-auth-instance-profile");
    assert_eq!(str_list(attr(host, "security_group_ids")), vec![facts["security_groups"]["ec2"].as_str().unwrap()]);

    // Exactly the five /dev/database/* parameters; the unrelated one is not part of the stack.
    let params = names(&doc, "parameters");
    let want: BTreeSet<String> =
        ["endpoint", "port", "dbname", "username", "region"].iter().map(|p| format!("/dev/database/{p}")).collect();
    assert_eq!(params, want);
    assert!(!params.contains("/other/app/feature-flag"));
    // The app's parameters name the proxy, as on AWS (the sandbox reaches it through RDSDECK_CONNECT_TO).
    assert_eq!(*attr(item(&doc, "parameters", "/dev/database/endpoint"), "value"), sb.proxy());
    assert!(sb.var("RDSDECK_CONNECT_TO").contains(&format!("{}:3306:127.0.0.1:{}", sb.proxy(), sb.var("RDSDECK_SANDBOX_DB_PORT"))));
    assert_eq!(*attr(item(&doc, "parameters", "/dev/database/username"), "value"), "node_user");
    assert_eq!(*attr(item(&doc, "parameters", "/dev/database/port"), "value"), "3306");

    // The master secret (its name has a random uuid: read it from the facts), and not the unrelated one.
    let secret_name = fact("secret_name");
    assert!(secret_name.starts_with("rds!db-"), "facts secret_name: {secret_name}");
    let secrets = names(&doc, "secrets");
    assert!(secrets.contains(&secret_name), "secrets {secrets:?} lack {secret_name}");
    assert!(!secrets.contains("other/unrelated"), "secrets: {secrets:?}");
    let secret = item(&doc, "secrets", &secret_name);
    assert_eq!(*attr(secret, "arn"), fact("rds_master_secret_arn"));
    let used_by = attr(secret, "used_by").as_str().unwrap();
    assert!(used_by.contains("proxy auth") && used_by.contains("db master"), "used_by: {used_by}");

    // The 3306 path: ec2 SG -> proxy SG -> rds SG.
    let sg_ids = &facts["security_groups"];
    let proxy_sg = item(&doc, "security-groups", sg_ids["proxy"].as_str().unwrap());
    assert_eq!(proxy_sg["name"], "rds-iam-auth-proxy-sg");
    assert!(
        str_list(attr(proxy_sg, "mysql_ingress_from")).contains(&"rds-iam-auth-ec2-sg".to_string()),
        "proxy SG 3306 sources: {}",
        proxy_sg["attributes"]
    );
    assert!(str_list(attr(proxy_sg, "roles")).contains(&"proxy".to_string()));
    let rds_sg = item(&doc, "security-groups", sg_ids["rds"].as_str().unwrap());
    assert_eq!(rds_sg["name"], "rds-iam-auth-rds-sg");
    assert!(
        str_list(attr(rds_sg, "mysql_ingress_from")).contains(&"rds-iam-auth-proxy-sg".to_string()),
        "rds SG 3306 sources: {}",
        rds_sg["attributes"]
    );
    assert!(str_list(attr(rds_sg, "roles")).contains(&"db".to_string()));
    // Nothing else reaches the DB on 3306.
    assert_eq!(str_list(attr(rds_sg, "mysql_ingress_from")), vec!["rds-iam-auth-proxy-sg"]);
    let ec2_sg = item(&doc, "security-groups", sg_ids["ec2"].as_str().unwrap());
    assert!(str_list(attr(ec2_sg, "mysql_ingress_from")).is_empty(), "ec2 SG: {}", ec2_sg["attributes"]);

    // Network.
    assert_eq!(names(&doc, "vpcs"), BTreeSet::from(["rds-iam-auth-vpc".to_string()]));
    assert_eq!(
        names(&doc, "subnets"),
        ["public-subnet-1", "public-subnet-2", "private-subnet-1", "private-subnet-2"]
            .iter()
            .map(|s| format!("rds-iam-auth-{s}"))
            .collect::<BTreeSet<_>>()
    );

    // The ALB and its target's health.
    let alb = item(&doc, "load-balancers", "rds-iam-auth-alb");
    assert_eq!(*attr(alb, "state"), "active");
    assert_eq!(alb["health"], "ok");
    let th = attr(alb, "target_health").as_array().expect("target_health array");
    assert_eq!(th.len(), 1, "target health: {th:?}");
    assert_eq!(th[0]["target"], fact("ec2_instance_id"));
    assert_eq!(th[0]["port"], 3000);
    assert_eq!(th[0]["state"], "healthy");
    assert_eq!(th[0]["target_group"], "rds-iam-auth-tg");
    assert_eq!(*attr(alb, "target_health_summary"), "1 healthy");
    assert_eq!(*attr(alb, "access_logs_bucket"), "rds-iam-auth-alb-logs");

    // ECR and S3.
    assert!(names(&doc, "repositories").contains("nodeapp"));
    assert_eq!(*attr(item(&doc, "repositories", "nodeapp"), "scan_on_push"), true);
    assert!(names(&doc, "buckets").contains("rds-iam-auth-alb-logs"));
}

#[test]
fn list_kind_filter_gives_only_that_kind() {
    let sb = Sandbox::start();
    let doc = list_json(&sb, &["--kind", "proxies"]);
    let keys: Vec<&String> = doc["kinds"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 1, "kinds: {keys:?}");
    assert_eq!(names(&doc, "proxies"), BTreeSet::from(["dev-node-app".to_string()]));
    assert_eq!(doc["stack"]["proxy"], "dev-node-app");

    // Repeatable, and aliases work.
    let doc = list_json(&sb, &["--kind", "sg", "-k", "params"]);
    let keys: Vec<&String> = doc["kinds"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "kinds: {keys:?}");
    assert_eq!(names(&doc, "parameters").len(), 5);
    assert!(names(&doc, "security-groups").contains("rds-iam-auth-proxy-sg"));
}

#[test]
fn json_kind_keys_are_the_cli_kind_names() {
    let sb = Sandbox::start();
    let doc = list_json(&sb, &[]);
    let keys: BTreeSet<&str> = doc["kinds"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, KINDS.into_iter().collect::<BTreeSet<_>>());
    let doc = list_json(&sb, &["--kind", "proxies"]);
    assert!(doc["kinds"]["proxies"]["items"].is_array(), "{}", doc["kinds"]);
}

#[test]
fn list_table_prints_the_headings() {
    let sb = Sandbox::start();
    let out = run(sb.cmd().args(["list", "-o", "table"])).expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("stack: dev-node-app") && l.contains("region: us-east-1")),
        "summary line:\n{}",
        out.dump()
    );
    assert!(lines[0].contains("123456789012"), "identity in the summary line:\n{}", out.dump());
    // Every kind has a heading "NAME (count)" followed by its column header row.
    for k in KINDS {
        let heading = k.to_uppercase();
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{heading} (")))
            .unwrap_or_else(|| panic!("no heading for {k}:\n{}", out.dump()));
        let header = lines.get(at + 1).copied().unwrap_or_default();
        assert!(
            header.starts_with("NAME") || header.starts_with("RESOURCE"),
            "{k}: no column header after its heading, got {header:?}\n{}",
            out.dump()
        );
    }
    for h in ["PROXIES (1)", "INSTANCES (1)", "HOSTS (1)", "PARAMETERS (5)", "SECRETS (1)"] {
        assert!(lines.contains(&h), "missing heading {h:?}:\n{}", out.dump());
    }
    // The proxy table: header and the stack's proxy, marked.
    let at = lines.iter().position(|l| *l == "PROXIES (1)").unwrap();
    for col in ["NAME", "STATUS", "TLS", "IAM", "ENDPOINT"] {
        assert!(lines[at + 1].contains(col), "proxy header lacks {col}: {:?}", lines[at + 1]);
    }
    assert!(lines[at + 2].starts_with("dev-node-app *"), "proxy row: {:?}", lines[at + 2]);
    assert!(lines[at + 2].contains("required") && lines[at + 2].contains("REQUIRED"), "proxy row: {:?}", lines[at + 2]);
    assert!(out.stdout.contains("rds-iam-auth-db"), "{}", out.dump());
}

/// AWS text is untrusted: an SSM parameter whose value carries an OSC 52 (clipboard) and a
/// clear-screen sequence is printed with the escapes shown, not sent; errors quoting a name too.
#[test]
fn escape_sequences_in_aws_data_never_reach_the_terminal() {
    let sb = Sandbox::start();
    let evil = "on\u{1b}]52;c;aGFja2Vk\u{7}\u{1b}[2J";
    sb.aws(&["ssm", "put-parameter", "--name", "/dev/database/feature", "--type", "String", "--value", &evil]);
    let out = run(sb.cmd().args(["list", "--kind", "parameters"])).expect_code(0);
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'), "raw escapes in the table: {:?}", out.stdout);
    assert!(out.stdout.contains("on\\x1b]52;c;aGFja2Vk\\x07"), "{}", out.dump());
    // JSON keeps the value exact (escaped by JSON itself).
    let doc = list_json(&sb, &["--kind", "parameters"]);
    assert!(items(&doc, "parameters").iter().any(|p| attr(p, "value") == evil), "{doc}");
    // An error that quotes the user's (or AWS's) text.
    let out = run(sb.cmd().args(["--proxy", "\u{1b}[31mnope", "list"]));
    assert_ne!(out.code(), Some(0));
    assert!(!out.stderr.contains('\u{1b}') && out.stderr.contains("\\x1b[31mnope"), "{}", out.dump());
}

// --------------------------------------------------------------------------- anchors

#[test]
fn terraform_output_rds_conf_and_named_stack_find_the_same_stack() {
    let sb = Sandbox::start();
    let tf = sb.var("RDSDECK_SANDBOX_TF_OUTPUT").to_string();
    let conf = sb.var("RDSDECK_SANDBOX_RDS_CONF").to_string();
    let discovered = list_json(&sb, &[]);
    let from_tf = list_json(&sb, &["--terraform-output", &tf]);
    let from_conf = list_json(&sb, &["--rds-conf", &conf]);
    sb.home()
        .write("config/rdsdeck/config.toml", "[stacks.sandbox]\nregion = \"us-east-1\"\nproxy = \"dev-node-app\"\n");
    let from_config = list_json(&sb, &["--stack", "sandbox"]);
    // Outputs that name the proxy by its ARN only (whose last part is an id, not the name).
    let full: Value = serde_json::from_str(&std::fs::read_to_string(&tf).unwrap()).unwrap();
    let arn_only = serde_json::json!({ "rds_proxy_arn": full["rds_proxy_arn"].clone() });
    let arn_file = sb.home().write("arn-only.json", &arn_only.to_string());
    let from_arn = list_json(&sb, &["--terraform-output", &arn_file.to_string_lossy()]);

    for (label, doc) in [("terraform output", &from_tf), ("rds.conf", &from_conf), ("--stack", &from_config), ("the proxy's ARN only", &from_arn)] {
        for key in ["region", "proxy", "proxy_arn", "proxy_endpoint", "vpc_id"] {
            assert_eq!(doc["stack"][key], discovered["stack"][key], "{label}: stack.{key} differs");
        }
        assert!(!doc["stack"]["proxy"].is_null(), "{label}: no proxy");
        assert_eq!(names(doc, "proxies"), names(&discovered, "proxies"), "{label}");
        assert_eq!(names(doc, "parameters"), names(&discovered, "parameters"), "{label}");
        assert_eq!(names(doc, "secrets"), names(&discovered, "secrets"), "{label}");
    }
    let source = |d: &Value| d["stack"]["source"].as_str().unwrap().to_string();
    assert!(source(&from_tf).contains("terraform") && source(&from_tf).contains(&tf), "{}", source(&from_tf));
    assert!(source(&from_conf).contains("rds.conf") && source(&from_conf).contains(&conf), "{}", source(&from_conf));
    assert!(source(&from_config).contains("sandbox"), "{}", source(&from_config));
    // rds.conf names the instance by its endpoint: it resolves to the identifier.
    assert_eq!(from_conf["stack"]["instances"], discovered["stack"]["instances"]);
    assert_eq!(names(&from_conf, "instances"), BTreeSet::from(["rds-iam-auth-db".to_string()]));
}

#[test]
fn terraform_output_instances_match_discovery() {
    let sb = Sandbox::start();
    let tf = sb.var("RDSDECK_SANDBOX_TF_OUTPUT").to_string();
    let discovered = list_json(&sb, &[]);
    let from_tf = list_json(&sb, &["--terraform-output", &tf]);
    assert_eq!(from_tf["stack"]["instances"], discovered["stack"]["instances"]);
    assert_eq!(names(&from_tf, "instances"), BTreeSet::from(["rds-iam-auth-db".to_string()]));
}

// --------------------------------------------------------------------------- bad input

/// Sandbox-like static credentials for runs that never reach an endpoint.
fn fake_creds(c: &mut std::process::Command) -> &mut std::process::Command {
    c.env("AWS_ACCESS_KEY_ID", "AKIATESTEXAMPLE00001")
        .env("AWS_SECRET_ACCESS_KEY", "testSecretNeverUsed0000000000000000000000")
}

#[test]
fn no_credentials_is_a_clear_error() {
    let home = CleanHome::new();
    let port = closed_port();
    let out = run(home
        .cmd()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .args(["list", "-o", "json"]))
    .expect_code(1)
    .expect_stderr(&["rdsdeck: error: no AWS credentials found", "aws configure"]);
    assert!(out.stdout.is_empty(), "no output on failure:\n{}", out.dump());
}

#[test]
fn unknown_profile_is_a_clear_error() {
    // A ~/.aws/config that defines other profiles.
    let home = CleanHome::new();
    home.write("home/.aws/config", "[default]\nregion = us-east-1\n\n[profile ops]\nregion = us-east-1\n");
    let out = run(home.cmd().env("AWS_REGION", "us-east-1").args(["--profile", "nope", "list", "-o", "json"]))
        .expect_code(1)
        .expect_stderr(&["rdsdeck: error: AWS profile `nope` is not defined"]);
    assert!(out.stdout.is_empty(), "{}", out.dump());

    // No ~/.aws at all.
    let home = CleanHome::new();
    let out = run(home.cmd().env("AWS_REGION", "us-east-1").args(["--profile", "nope", "list", "-o", "json"]))
        .expect_code(1)
        .expect_stderr(&["rdsdeck: error: ", "profile `nope`"]);
    assert!(out.stdout.is_empty(), "{}", out.dump());
}

#[test]
fn unknown_profile_is_an_error_even_with_env_credentials() {
    let home = CleanHome::new();
    let port = closed_port();
    run(fake_creds(&mut home.cmd())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .args(["--profile", "nope", "list", "-o", "json"]))
    .expect_code(1)
    .expect_stderr(&["profile `nope` is not defined"]);
}

#[test]
fn unknown_profile_is_reported_before_a_missing_region() {
    let home = CleanHome::new();
    home.write("home/.aws/config", "[default]\nregion = us-east-1\n\n[profile ops]\nregion = us-east-1\n");
    run(home.cmd().args(["--profile", "nope", "list", "-o", "json"]))
        .expect_code(1)
        .expect_stderr(&["rdsdeck: error: AWS profile `nope` is not defined"]);
}

#[test]
fn region_without_a_proxy_is_a_clear_error() {
    let sb = Sandbox::start();
    let out = run(sb.cmd().args(["--region", "eu-west-1", "list", "-o", "json"]))
        .expect_code(1)
        .expect_stderr(&["rdsdeck: error: no RDS Proxy in region eu-west-1", "--region"]);
    assert!(out.stdout.is_empty(), "{}", out.dump());
}

#[test]
fn unknown_proxy_is_a_clear_error() {
    let sb = Sandbox::start();
    let out = run(sb.cmd().args(["--proxy", "nope", "list", "-o", "json"]))
        .expect_code(1)
        .expect_stderr(&["rdsdeck: error: no RDS Proxy named `nope` in region us-east-1", "dev-node-app"]);
    assert!(out.stdout.is_empty(), "{}", out.dump());
}

#[test]
fn unreachable_endpoint_is_a_clear_error() {
    let home = CleanHome::new();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = run(fake_creds(&mut home.cmd()).env("AWS_REGION", "us-east-1").args([
        "--endpoint-url",
        &url,
        "list",
        "-o",
        "json",
    ]))
    .expect_code(1)
    .expect_stderr(&[
        "rdsdeck: error: ",
        "cannot reach the AWS endpoint",
        "connection refused",
        "--endpoint-url",
    ]);
    assert!(out.stdout.is_empty(), "{}", out.dump());
    // Every subcommand that must discover the stack exits 1 on it, as documented (`forward` exited 2).
    for args in [&["forward"][..], &["shell"], &["token"], &["sql", "-e", "SELECT 1"]] {
        run(fake_creds(&mut home.cmd()).env("AWS_REGION", "us-east-1").args(["--endpoint-url", &url]).args(args))
            .expect_code(1)
            .expect_stderr(&["cannot reach the AWS endpoint"]);
    }
    // The doctor says so as its first finding, with a fix for that (not a credentials one).
    let out = run(fake_creds(&mut home.cmd()).env("AWS_REGION", "us-east-1").args(["--endpoint-url", &url, "doctor"])).expect_code(1);
    assert!(out.stdout.contains("does not answer") && out.stdout.contains("AWS_ENDPOINT_URL") && !out.stdout.contains("sso login"), "{}", out.dump());
}

#[test]
fn malformed_config_names_file_line_and_key() {
    let home = CleanHome::new();
    // Explicit --config: a wrong type on line 3.
    let path = home.write("bad.toml", "theme = \"dark\"\n[stacks.dev]\nproduction = \"yes\"\n");
    let p = path.to_str().unwrap();
    run(home.cmd().args(["--config", p, "list", "-o", "json"])).expect_code(2).expect_stderr(&[
        "rdsdeck: error: invalid config",
        p,
        "line 3",
        "`stacks.dev.production`",
        "boolean",
    ]);

    // The default location ($XDG_CONFIG_HOME/rdsdeck/config.toml): an unknown key on line 2.
    let path = home.write("config/rdsdeck/config.toml", "[stacks.a]\nproxxy = \"x\"\n");
    let p = path.to_str().unwrap();
    run(home.cmd().args(["list", "-o", "json"])).expect_code(2).expect_stderr(&[
        "rdsdeck: error: invalid config",
        p,
        "line 2",
        "`stacks.a.proxxy`",
        "unknown field",
    ]);

    // Not TOML at all.
    let path = home.write("garbage.toml", "theme = \"dark\"\nthis is not toml\n");
    let p = path.to_str().unwrap();
    run(home.cmd().args(["--config", p, "list"])).expect_code(2).expect_stderr(&["invalid config", p, "line 2"]);
}

#[test]
fn unknown_stack_is_a_clear_error() {
    let home = CleanHome::new();
    run(home.cmd().args(["--stack", "missing", "list", "-o", "json"]))
        .expect_code(2)
        .expect_stderr(&["rdsdeck: error: no stack named `missing`", "defines no [stacks.*]"]);

    let cfg = home.write("config/rdsdeck/config.toml", "[stacks.dev]\nproxy = \"dev-node-app\"\n");
    run(home.cmd().args(["--stack", "missing", "list", "-o", "json"])).expect_code(2).expect_stderr(&[
        "rdsdeck: error: no stack named `missing`",
        cfg.to_str().unwrap(),
        "known: dev",
    ]);
}

#[test]
fn malformed_rds_conf_names_file_and_line() {
    let home = CleanHome::new();
    let bad =
        home.write("bad.rds.conf", "RDS_ENDPOINT=\"rds-iam-auth-db.x.us-east-1.rds.amazonaws.com\"\nthis is wrong\n");
    let p = bad.to_str().unwrap();
    run(home.cmd().args(["--rds-conf", p, "list", "-o", "json"])).expect_code(2).expect_stderr(&[
        "rdsdeck: error: ",
        &format!("{p}:2:"),
        "expected KEY=\"value\"",
    ]);

    let missing_key = home.write("nokey.rds.conf", "REGION=\"us-east-1\"\nDB_NAME=\"node_db\"\n");
    let p = missing_key.to_str().unwrap();
    run(home.cmd().args(["--rds-conf", p, "list", "-o", "json"]))
        .expect_code(2)
        .expect_stderr(&[p, "RDS_ENDPOINT is missing"]);

    let export = home.write("export.rds.conf", "# terraform\nexport REGION=\"us-east-1\"\n");
    let p = export.to_str().unwrap();
    run(home.cmd().args(["--rds-conf", p, "list", "-o", "json"]))
        .expect_code(2)
        .expect_stderr(&[&format!("{p}:2:"), "`export` is not allowed"]);

    let absent = home.root().join("absent.rds.conf");
    let p = absent.to_str().unwrap();
    run(home.cmd().args(["--rds-conf", p, "list", "-o", "json"])).expect_code(2).expect_stderr(&[p, "no such file"]);
}

#[test]
fn missing_rds_conf_names_the_real_flag() {
    let home = CleanHome::new();
    let absent = home.root().join("absent.rds.conf");
    let out = run(home.cmd().args(["--rds-conf", absent.to_str().unwrap(), "list"])).expect_code(2);
    assert!(!out.stderr.contains("--conf "), "names a flag that does not exist:\n{}", out.dump());
}

#[test]
fn malformed_terraform_output_names_file_and_line() {
    let home = CleanHome::new();
    let bad = home.write("tf.json", "{\n  \"vpc_id\": {\"value\": \"vpc-1\"},\n  oops\n}\n");
    let p = bad.to_str().unwrap();
    run(home.cmd().args(["--terraform-output", p, "list", "-o", "json"])).expect_code(2).expect_stderr(&[
        "rdsdeck: error: ",
        &format!("{p}:3:"),
        "not JSON",
    ]);

    let not_tf = home.write("plain.json", "{\"vpc_id\": \"vpc-1\"}\n");
    let p = not_tf.to_str().unwrap();
    run(home.cmd().args(["--terraform-output", p, "list", "-o", "json"]))
        .expect_code(2)
        .expect_stderr(&[p, "`vpc_id` has no \"value\""]);
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let home = CleanHome::new();
    let out = run(home.cmd().args(["list", "--kind", "bogus"])).expect_code(2).expect_stderr(&[
        "invalid value 'bogus'",
        "--kind",
        "unknown kind `bogus`",
        "proxies",
        "load-balancers",
    ]);
    assert!(out.stdout.is_empty(), "{}", out.dump());
}

// --------------------------------------------------------------------------- secrets

#[test]
fn secrets_never_appear_in_output_or_log() {
    let sb = Sandbox::start();
    let secret_name = sb.fact("secret_name");
    // The master password, read from the RDS-managed secret itself.
    let value: Value =
        serde_json::from_str(&sb.aws(&["secretsmanager", "get-secret-value", "--secret-id", &secret_name]))
            .expect("get-secret-value JSON");
    let secret_string: Value = serde_json::from_str(value["SecretString"].as_str().expect("SecretString")).unwrap();
    let password = secret_string["password"].as_str().expect("password").to_string();
    assert_eq!(password, "P@55w0rd!", "the seed's master password changed; update this test");
    let secret_key = sb.var("AWS_SECRET_ACCESS_KEY").to_string();
    let needles = [("master password", password.as_str()), ("AWS secret access key", secret_key.as_str())];

    let log_dir = tempfile::tempdir().unwrap();
    let runs: [(&str, &[&str], Option<i32>); 4] = [
        ("json", &["list", "-o", "json"], Some(0)),
        ("table", &["list", "-o", "table"], Some(0)),
        ("secrets only", &["list", "--kind", "secrets", "-o", "json"], Some(0)),
        ("error path", &["--proxy", "nope", "list"], Some(1)),
    ];
    for (i, (label, args, code)) in runs.iter().enumerate() {
        let log = log_dir.path().join(format!("run{i}.log"));
        let out = run(sb.cmd().env("RDSDECK_LOG", "trace").arg("--log-file").arg(&log).args(*args));
        assert_eq!(out.code(), *code, "{label}:\n{}", out.dump());
        let log_text =
            std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{label}: no log file {}: {e}", log.display()));
        assert!(!log_text.is_empty(), "{label}: the trace log is empty, so this test checks nothing");
        for (what, needle) in needles {
            assert!(!out.stdout.contains(needle), "{label}: the {what} is in stdout");
            assert!(!out.stderr.contains(needle), "{label}: the {what} is in stderr");
            assert!(!log_text.contains(needle), "{label}: the {what} is in the log file {}", log.display());
        }
    }
    // The secret is listed by name and ARN only.
    let doc = list_json(&sb, &["--kind", "secrets"]);
    let secret = item(&doc, "secrets", &secret_name);
    assert!(secret["attributes"].get("secret_string").is_none() && secret["attributes"].get("value").is_none());

    // Nothing lands in the default log location either (runs with the default filter).
    run(sb.cmd().args(["list", "-o", "json"])).expect_code(0);
    for entry in walk(&sb.home().state_home()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for (what, needle) in needles {
            assert!(!text.contains(needle), "the {what} is in {}", entry.display());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
    }
    out
}

/// A terminal gets table cells cut to fit; a pipe gets every value whole.
#[test]
fn list_to_a_pipe_keeps_long_values_whole() {
    let sb = Sandbox::start();
    let long = format!("a-long-value-{}", "x".repeat(120));
    sb.aws(&["ssm", "put-parameter", "--name", "/dev/database/long", "--type", "String", "--value", &long]);
    let out = run(sb.cmd().args(["list", "--kind", "parameters"])).expect_code(0);
    assert!(out.stdout.contains(&long), "{}", out.dump());
    assert!(!out.stdout.contains('…'), "{}", out.dump());
}
