//! `rdsdeck metrics` and `rdsdeck logs` end to end on the sandbox, whose story (a deploy three
//! hours ago whose new role lacked rds-db:connect) is in CloudWatch: the metrics show the burst of
//! refused IAM logins and the connection spike, the logs show the refusals, the alarms their state.

mod common;

use common::{Sandbox, run};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The sandbox seeds its day of metrics after READY: wait for it.
fn story(sb: &Sandbox) -> Value {
    let path = sb.var("RDSDECK_SANDBOX_STORY").to_string();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v.get("error").is_none(), "the story failed: {v}");
            return v;
        }
        assert!(Instant::now() < until, "no story after 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn series<'a>(v: &'a Value, metric: &str, scope: &str) -> &'a Value {
    v["series"].as_array().unwrap().iter().find(|s| s["metric"] == metric && s["scope"] == scope).unwrap_or_else(|| panic!("no {scope} {metric}"))
}

fn values(s: &Value) -> Vec<f64> {
    s["points"].as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect()
}

#[test]
fn metrics_show_the_incident_and_every_series_in_one_read() {
    let sb = Sandbox::start();
    story(&sb);
    let out = run(sb.cmd().args(["metrics", "-o", "json", "--window", "3h"])).expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((v["window"].as_str(), v["period"].as_i64()), (Some("3h"), Some(60)));
    assert_eq!(v["series"].as_array().unwrap().len(), 17, "every series of the proxy and the instance");
    for s in v["series"].as_array().unwrap() {
        assert!(values(s).len() >= 170, "a point a minute for 3 hours: {} has {}", s["metric"], values(s).len());
    }
    // The burst of refused logins (about 30 a minute for 14 minutes), zero before and after.
    let failed = values(series(&v, "ClientConnectionsSetupFailedAuth", "proxy"));
    let burst = failed.iter().filter(|x| **x > 0.0).count();
    assert!((12..=16).contains(&burst), "{burst} minutes of failures: {failed:?}");
    assert!(failed.iter().cloned().fold(0.0, f64::max) >= 28.0);
    assert_eq!(failed.last(), Some(&0.0), "recovered");
    // The spike: client connections several times their quiet level just after it (the story's
    // traffic follows the time of day, so "now", three hours on, is no baseline: 150 to 140 minutes
    // ago, the first minutes after the incident, are).
    let clients = values(series(&v, "ClientConnections", "proxy"));
    let max = clients.iter().cloned().fold(0.0, f64::max);
    let mut after: Vec<f64> = clients[clients.len() - 150..clients.len() - 140].to_vec();
    after.sort_by(f64::total_cmp);
    let quiet = after[after.len() / 2];
    assert!(max > 3.0 * quiet, "spike {max} vs the quiet level after it {quiet}: {clients:?}");
    let perms = values(series(&v, "IamDbAuthConnectionFailureInsufficientPermissions", "instance"));
    assert!(perms.iter().sum::<f64>() > 300.0, "{perms:?}");
    // The alarms on these resources, the one in ALARM first.
    let alarms = v["alarms"]["Ok"].as_array().unwrap();
    assert_eq!(alarms[0]["state"], "ALARM", "{alarms:?}");
    assert_eq!(alarms.len(), 3);

    // The table says the same numbers; CSV has one row per point.
    let out = run(sb.cmd().args(["metrics", "--window", "3h"])).expect_code(0);
    assert!(out.stdout.contains("ClientConnectionsSetupFailedAuth (Sum)") && out.stdout.contains("rds-iam-auth-proxy-pinned"), "{}", out.dump());
    let csv = run(sb.cmd().args(["metrics", "-o", "csv", "-w", "15m"])).expect_code(0);
    assert!(csv.stdout.starts_with("scope,metric,stat,unit,time,value\n"));
    assert!(csv.stdout.lines().count() > 17 * 14, "{}", csv.stdout.lines().count());
    run(sb.cmd().args(["metrics", "--window", "2h"])).expect_code(2).expect_stderr(&["15m, 1h, 3h, 24h, 7d"]);
}

#[test]
fn logs_show_the_refused_logins_and_follow_new_ones() {
    let sb = Sandbox::start();
    story(&sb);
    let out = run(sb.cmd().args(["logs", "--since", "4h", "--group", "iam"])).expect_code(0);
    let refusals = out.stdout.lines().filter(|l| l.contains(" iam ") && l.contains("not authorized to perform rds-db:connect")).count();
    assert_eq!(refusals, 42, "{}", out.dump());
    // Merged by time across logs; the filter is CloudWatch's pattern syntax, passed through.
    let out = run(sb.cmd().args(["logs", "--since", "4h", "-o", "json", "--filter", "\"Query_time\""])).expect_code(0);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!events.is_empty() && events.iter().all(|e| e["log"] == "slow"), "{}", out.dump());
    let times: Vec<i64> = events.iter().map(|e| e["time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // Nothing in the last 15 minutes: the story is three hours old.
    let out = run(sb.cmd().args(["logs"])).expect_code(0);
    assert_eq!(out.stdout, "", "{}", out.dump());
    run(sb.cmd().args(["logs", "--group", "nope"])).expect_code(2).expect_stderr(&["proxy, error, iam, slow"]);

    // --follow prints a refusal that happens while it runs, once.
    let child = sb.cmd().args(["logs", "--follow", "--group", "iam,proxy", "-o", "json"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    sb.scenario("break", "caller-no-connect");
    run(sb.cmd().args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "-e", "SELECT 1"])).expect_code(1);
    std::thread::sleep(Duration::from_secs(7));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let seen: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(seen.iter().filter(|e| e["log"] == "iam").count(), 1, "{text}");
    assert_eq!(seen.iter().filter(|e| e["log"] == "proxy").count(), 1, "{text}");
    assert!(seen.iter().all(|e| e["auth_failure"] == true), "{text}");
}
