//! `rdsdeck describe KIND NAME`: every kind of the seeded sandbox, compared with what the AWS CLI
//! (botocore, AWS's own parser and models) prints for the same resource against the same sandbox:
//! the same field names, nesting, types and values. The YAML form reads back to the same data.

mod common;

use common::{Sandbox, run, venv};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn list(sb: &Sandbox) -> Value {
    run(sb.cmd().args(["list", "-o", "json"])).expect_code(0).json()
}

fn first<'a>(doc: &'a Value, kind: &str, pick: impl Fn(&Value) -> bool) -> &'a Value {
    let items = doc["kinds"][kind]["items"].as_array().unwrap_or_else(|| panic!("{kind} did not load: {}", doc["kinds"][kind]));
    items.iter().find(|i| pick(i)).unwrap_or_else(|| panic!("no {kind} to describe in {items:?}"))
}

fn describe(sb: &Sandbox, kind: &str, name: &str, format: &str) -> String {
    run(sb.cmd().args(["describe", kind, name, "-o", format])).expect_code(0).stdout
}

/// YAML read by PyYAML, as JSON (its timestamps written back as the CLI writes them).
fn yaml_as_json(yaml: &str) -> Value {
    let mut c = Command::new(venv().join("bin/python"))
        .args(["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=lambda d: d.isoformat()))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML could not read:\n{yaml}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_kind_is_described_as_the_aws_cli_prints_it() {
    let sb = Sandbox::start_with(&["--no-db"]);
    let doc = list(&sb);
    let any = |_: &Value| true;
    let name = |v: &Value| v["name"].as_str().unwrap().to_string();
    let proxy = name(first(&doc, "proxies", any));
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();

    let target = first(&doc, "targets", any);
    let param = first(&doc, "parameters", |p| p["attributes"]["type"] == "String");
    let secret = first(&doc, "secrets", any);
    let bucket = first(&doc, "buckets", any);
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        ("proxies", proxy.clone(), vec!["rds".into(), "describe-db-proxies".into(), "--db-proxy-name".into(), proxy.clone(), "--query".into(), "DBProxies[0]".into()]),
        ("target-groups", "default".into(), vec!["rds".into(), "describe-db-proxy-target-groups".into(), "--db-proxy-name".into(), proxy.clone(), "--target-group-name".into(), "default".into(), "--query".into(), "TargetGroups[0]".into()]),
        ("targets", name(target), vec!["rds".into(), "describe-db-proxy-targets".into(), "--db-proxy-name".into(), proxy.clone(), "--query".into(), format!("Targets[?RdsResourceId=='{}'] | [0]", name(target))]),
        ("instances", name(first(&doc, "instances", any)), vec!["rds".into(), "describe-db-instances".into(), "--db-instance-identifier".into(), name(first(&doc, "instances", any)), "--query".into(), "DBInstances[0]".into()]),
        ("hosts", id(first(&doc, "hosts", any)), vec!["ec2".into(), "describe-instances".into(), "--instance-ids".into(), id(first(&doc, "hosts", any)), "--query".into(), "Reservations[0].Instances[0]".into()]),
        ("security-groups", id(first(&doc, "security-groups", any)), vec!["ec2".into(), "describe-security-groups".into(), "--group-ids".into(), id(first(&doc, "security-groups", any)), "--query".into(), "SecurityGroups[0]".into()]),
        ("subnets", id(first(&doc, "subnets", any)), vec!["ec2".into(), "describe-subnets".into(), "--subnet-ids".into(), id(first(&doc, "subnets", any)), "--query".into(), "Subnets[0]".into()]),
        ("vpcs", id(first(&doc, "vpcs", any)), vec!["ec2".into(), "describe-vpcs".into(), "--vpc-ids".into(), id(first(&doc, "vpcs", any)), "--query".into(), "Vpcs[0]".into()]),
        ("parameters", name(param), vec!["ssm".into(), "get-parameters".into(), "--names".into(), name(param), "--query".into(), "Parameters[0]".into()]),
        ("secrets", name(secret), vec!["secretsmanager".into(), "list-secrets".into(), "--query".into(), format!("SecretList[?ARN=='{}'] | [0]", id(secret))]),
        ("load-balancers", name(first(&doc, "load-balancers", any)), vec!["elbv2".into(), "describe-load-balancers".into(), "--names".into(), name(first(&doc, "load-balancers", any)), "--query".into(), "LoadBalancers[0]".into()]),
        ("repositories", name(first(&doc, "repositories", any)), vec!["ecr".into(), "describe-repositories".into(), "--repository-names".into(), name(first(&doc, "repositories", any)), "--query".into(), "repositories[0]".into()]),
        ("buckets", name(bucket), vec!["s3api".into(), "list-buckets".into(), "--query".into(), format!("Buckets[?Name=='{}'] | [0]", name(bucket))]),
    ];
    // Values moto makes up on each call ("now").
    let steady = |mut v: Value| {
        if let Some(o) = v.as_object_mut() {
            o.remove("LatestRestorableTime");
        }
        v
    };
    for (kind, name, aws) in cases {
        let ours: Value = steady(serde_json::from_str(&describe(&sb, kind, &name, "json")).unwrap_or_else(|e| panic!("{kind} {name}: not JSON: {e}")));
        let cli: Value = steady(serde_json::from_str(&sb.aws_as_rdsdeck(&aws.iter().map(String::as_str).collect::<Vec<_>>())).unwrap());
        assert!(cli.is_object() && cli.as_object().unwrap().len() > 1, "{kind}: the CLI found {cli}");
        assert_eq!(ours, cli, "{kind} {name}: rdsdeck describe (left) and the AWS CLI (right) differ");
        let yaml = describe(&sb, kind, &name, "yaml");
        assert_eq!(steady(yaml_as_json(&yaml)), cli, "{kind} {name}: the YAML reads back differently:\n{yaml}");
    }
}

#[test]
fn a_secure_string_is_masked_and_a_wrong_name_is_named_with_the_choices() {
    let sb = Sandbox::start_with(&["--no-db"]);
    let doc = list(&sb);
    if let Some(p) = doc["kinds"]["parameters"]["items"].as_array().unwrap().iter().find(|p| p["attributes"]["type"] == "SecureString") {
        let out: Value = serde_json::from_str(&describe(&sb, "parameters", p["name"].as_str().unwrap(), "json")).unwrap();
        assert_eq!(out["Value"], "•••••• (SecureString)", "{out}");
    }
    let proxy = doc["kinds"]["proxies"]["items"][0]["name"].as_str().unwrap();
    let out = run(sb.cmd().args(["describe", "proxies", "nope"])).expect_code(1);
    out.expect_stderr(&["no proxies named `nope`", proxy]);
    run(sb.cmd().args(["describe", "widgets", "x"])).expect_code(2).expect_stderr(&["unknown kind `widgets`"]);
}
