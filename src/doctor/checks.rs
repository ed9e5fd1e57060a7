//! The checks: pure functions of the evidence, each a status, a summary, what it saw and the fix.

use super::evidence::{Evidence, SSM_ENDPOINTS, attr, facts, list, proxy};
use super::network::{self, End, Path};
use super::{Status, iam};
use crate::bootstrap::run::UserState;
use crate::stack::Resource;

/// A finding under construction.
pub(super) struct F {
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Option<String>,
}

pub(super) fn pass(summary: impl Into<String>, evidence: Vec<String>) -> F {
    F { status: Status::Pass, summary: summary.into(), evidence, fix: None }
}

pub(super) fn fail(summary: impl Into<String>, evidence: Vec<String>, fix: impl Into<String>) -> F {
    F { status: Status::Fail, summary: summary.into(), evidence, fix: Some(fix.into()) }
}

pub(super) fn warn(summary: impl Into<String>, evidence: Vec<String>, fix: impl Into<String>) -> F {
    F { status: Status::Warn, summary: summary.into(), evidence, fix: Some(fix.into()) }
}

/// A check's finding, its `aws …` fix commands scoped to the region (and profile) the doctor read:
/// pasted in another shell they act on the same account and region.
pub(super) fn check(id: &str, ev: &Evidence) -> F {
    let mut f = check_unscoped(id, ev);
    if let Some(fix) = &f.fix {
        f.fix = Some(scoped(fix, &ev.region, ev.profile.as_deref()));
    }
    f
}

/// Appends `--region R` (and `--profile P`) to every `aws …` command of a fix (`&&`-joined).
pub(super) fn scoped(fix: &str, region: &str, profile: Option<&str>) -> String {
    fix.split(" && ")
        .map(|cmd| {
            if !cmd.starts_with("aws ") || cmd.contains(" --region ") {
                return cmd.to_string();
            }
            let mut c = format!("{cmd} --region {region}");
            if let Some(p) = profile {
                c.push_str(&format!(" --profile {p}"));
            }
            c
        })
        .collect::<Vec<_>>()
        .join(" && ")
}

fn check_unscoped(id: &str, ev: &Evidence) -> F {
    match id {
        "identity" => match &ev.identity {
            Ok(i) => {
                let evidence = vec![format!("region {}", ev.region), clock_line(ev.clock)];
                match ev.clock.map(i64::abs) {
                    Some(s) if s >= CLOCK_FAIL_S => fail(
                        format!("your clock is {} AWS's by {s} s: AWS refuses requests signed more than 5 minutes off", ahead(ev.clock)),
                        evidence,
                        CLOCK_FIX,
                    ),
                    Some(s) if s >= CLOCK_WARN_S => warn(
                        format!("your clock is {} AWS's by {s} s: tokens live {} than 15 minutes", ahead(ev.clock), if ev.clock > Some(0) { "shorter" } else { "longer" }),
                        evidence,
                        CLOCK_FIX,
                    ),
                    _ => pass(format!("{} in account {}", i.arn, i.account), evidence),
                }
            }
            // Not a credentials problem: nothing answered.
            Err(e) if e.contains("cannot reach the AWS endpoint") => fail(
                "AWS (or the endpoint named) does not answer",
                vec![e.clone()],
                "check the network, a proxy (HTTPS_PROXY), or --endpoint-url / AWS_ENDPOINT_URL (the sandbox must be running)",
            ),
            Err(e) => fail(
                "the credentials do not work",
                vec![e.clone()],
                "aws sso login --profile PROFILE (SSO), or check AWS_PROFILE / the keys, and the clock",
            ),
        },
        "proxy" => match proxy(ev) {
            Err(e) => fail(
                "no RDS Proxy to check",
                vec![e],
                format!("aws rds describe-db-proxies --region {} (name it with --proxy, or in [stacks.NAME])", ev.region),
            ),
            Ok(p) if attr(p, "status") == "available" => pass(format!("{} is available", p.name), vec![format!("endpoint {}", attr(p, "endpoint"))]),
            Ok(p) => fail(
                format!("{} is {}", p.name, attr(p, "status")),
                vec![format!("status {}", attr(p, "status"))],
                format!("wait for it, or look at it: aws rds describe-db-proxies --db-proxy-name {}", p.name),
            ),
        },
        "proxy.tls" => {
            let p = proxy(ev).expect("checked by `proxy`");
            match p.attributes.get("require_tls").and_then(|v| v.as_bool()) {
                Some(true) => pass("RequireTLS is on", vec![]),
                _ => fail(
                    "RequireTLS is off: a client can send its token (a 15-minute password) in cleartext",
                    vec!["RequireTLS false".into()],
                    format!("aws rds modify-db-proxy --db-proxy-name {} --require-tls", p.name),
                ),
            }
        }
        "proxy.auth" => {
            let p = proxy(ev).expect("checked by `proxy`");
            let auth: Vec<serde_json::Value> = p.attributes.get("auth").and_then(|v| v.as_array()).cloned().unwrap_or_default();
            let text: Vec<String> = auth.iter().map(|a| a.to_string()).collect();
            let required = auth.iter().any(|a| a["iam_auth"] == "REQUIRED");
            let secret = auth.iter().any(|a| a["secret_arn"].as_str().is_some_and(|s| !s.is_empty()));
            let mut text = text;
            text.push(match attr(p, "default_auth_scheme") {
                "" => "DefaultAuthScheme not set (the proxy logs in to the database with its secret)".to_string(),
                scheme => format!("DefaultAuthScheme {scheme}"),
            });
            let disabled = auth.iter().any(|a| a["iam_auth"] == "DISABLED");
            let end_to_end = attr(p, "default_auth_scheme") == "IAM_AUTH";
            match (required, secret) {
                // End-to-end IAM: no secret needed; an auth item that turns IAM off still refuses tokens.
                _ if end_to_end && !disabled => pass("DefaultAuthScheme IAM_AUTH: end-to-end IAM, no secret needed", text),
                (true, true) if !disabled => pass("IAMAuth REQUIRED, with a SecretArn", text),
                (true, true) | (false, _) => fail(
                    "IAM authentication is not required by the proxy: it will not take tokens",
                    text,
                    format!("aws rds modify-db-proxy --db-proxy-name {} --auth '{}'", p.name, required_auth(&auth)),
                ),
                (true, false) => fail(
                    "the auth block has no SecretArn (scheme SECRETS needs one, even when every login is IAM)",
                    text,
                    "add the master secret's ARN to the proxy's auth block (aws rds modify-db-proxy --auth …)",
                ),
            }
        }
        "targets" => {
            let p = proxy(ev).expect("checked by `proxy`");
            match &ev.targets {
                Err(e) => fail("the targets could not be read", vec![e.clone()], format!("aws rds describe-db-proxy-targets --db-proxy-name {}", p.name)),
                Ok(t) if t.is_empty() => fail(
                    "the proxy has no target",
                    vec![],
                    format!("aws rds register-db-proxy-targets --db-proxy-name {} --target-group-name default --db-instance-identifiers INSTANCE", p.name),
                ),
                Ok(t) => {
                    let bad: Vec<&Resource> = t.iter().filter(|x| attr(x, "health_state") != "AVAILABLE").collect();
                    let evidence = t.iter().map(|x| format!("{} {} {}", x.name, attr(x, "health_state"), attr(x, "health_reason")).trim().to_string()).collect();
                    match bad.first() {
                        None => pass(format!("{} target(s) AVAILABLE", t.len()), evidence),
                        Some(x) => fail(format!("{} is {} {}", x.name, attr(x, "health_state"), attr(x, "health_reason")), evidence, target_fix(attr(x, "health_reason"))),
                    }
                }
            }
        }
        "instance" => match &ev.instances {
            Err(e) => fail("the DB instance could not be read", vec![e.clone()], "aws rds describe-db-instances"),
            Ok(v) => match v.first() {
                None => fail("no DB instance behind the stack", vec![], "aws rds describe-db-instances"),
                Some(db) if attr(db, "status") != "available" => {
                    fail(format!("{} is {}", db.name, attr(db, "status")), vec![], format!("aws rds describe-db-instances --db-instance-identifier {}", db.name))
                }
                Some(db) if db.attributes.get("iam_auth").and_then(|v| v.as_bool()) != Some(true) => fail(
                    format!("IAM database authentication is off on {} (logins fail with error 1524)", db.name),
                    vec!["IAMDatabaseAuthenticationEnabled false".into()],
                    format!("aws rds modify-db-instance --db-instance-identifier {} --enable-iam-database-authentication --apply-immediately", db.name),
                ),
                Some(db) => instance_details(ev, db),
            },
        },
        "host" => match &ev.hosts {
            Err(e) => fail("the hosts could not be read", vec![e.clone()], "aws ec2 describe-instances"),
            Ok(h) if h.is_empty() => fail("no EC2 host in the stack's VPC", vec![], "the app host runs in the proxy's VPC"),
            Ok(h) => {
                let evidence: Vec<String> = h.iter().map(|x| format!("{} {} SSM {}", x.id, attr(x, "state"), attr(x, "ssm_ping_status"))).collect();
                match h.iter().find(|x| attr(x, "state") == "running") {
                    None => fail("no app host is running", evidence, format!("aws ec2 start-instances --instance-ids {}", h[0].id)),
                    Some(x) if matches!(attr(x, "ssm_ping_status"), "Online" | "unknown") => pass(format!("{} is running, SSM {}", x.id, attr(x, "ssm_ping_status")), evidence),
                    Some(x) => fail(
                        format!("{} runs but Session Manager sees it {}: no shell, no forward through it", x.id, attr(x, "ssm_ping_status")),
                        evidence,
                        "check the SSM agent and the instance role (AmazonSSMManagedInstanceCore), and the VPC endpoints ssm, ssmmessages, ec2messages in a private subnet without NAT",
                    ),
                }
            }
        },
        "network.host-proxy" => {
            let p = proxy(ev).expect("checked by `proxy`");
            let host = ev.hosts.as_ref().ok().and_then(|h| h.iter().find(|x| attr(x, "state") == "running").or(h.first()));
            let Some(host) = host else { return fail("no host to start from", vec![], "") };
            let (hv, pv) = (attr(host, "vpc_id"), attr(p, "vpc_id"));
            if !hv.is_empty() && !pv.is_empty() && hv != pv {
                return fail(
                    format!("{} is in {hv}, the proxy in {pv}: a proxy takes clients from its own VPC", host.id),
                    vec![format!("{} subnet {}", host.id, attr(host, "subnet_id")), format!("proxy subnets {}", list(p, "subnet_ids").join(", "))],
                    format!("run the app in {pv} (or reach it over peering or a transit gateway with routes and rules both ways)"),
                );
            }
            let src = End { groups: list(host, "security_group_ids"), ip: attr(host, "private_ip").parse().ok() };
            let dst = End { groups: list(p, "security_group_ids"), ip: None };
            link(ev, &src, &dst, 3306, "the app host", "the proxy")
        }
        "network.proxy-db" => {
            let p = proxy(ev).expect("checked by `proxy`");
            let loc = ev.located.as_ref().expect("checked by `proxy`");
            let port = ev
                .instances
                .as_ref()
                .ok()
                .and_then(|v| v.first())
                .and_then(|d| d.attributes.get("endpoint_port").and_then(|x| x.as_u64()))
                .unwrap_or(3306) as u16;
            let src = End { groups: list(p, "security_group_ids"), ip: None };
            let dst = End { groups: loc.instance_sgs.clone(), ip: None };
            link(ev, &src, &dst, port, "the proxy", "the database")
        }
        "config" => config(ev),
        "iam" => permission(ev),
        "host.egress" => egress_check(ev),
        "logs" => auth_log_check(ev),
        "dbuser" => db_user_check(ev),
        _ => unreachable!("every check has a case"),
    }
}

/// The proxy's auth block as `modify-db-proxy --auth` takes it, with IAMAuth REQUIRED on every item
/// (each keeps its secret: the API refuses a SECRETS item without one).
fn required_auth(auth: &[serde_json::Value]) -> String {
    let items: Vec<serde_json::Value> = if auth.is_empty() { vec![serde_json::json!({})] } else { auth.to_vec() };
    let out: Vec<serde_json::Value> = items
        .iter()
        .map(|a| {
            let mut m = serde_json::Map::new();
            m.insert("AuthScheme".into(), a["auth_scheme"].as_str().unwrap_or("SECRETS").into());
            m.insert("IAMAuth".into(), "REQUIRED".into());
            m.insert("SecretArn".into(), a["secret_arn"].as_str().filter(|s| !s.is_empty()).unwrap_or("SECRET_ARN").into());
            if let Some(t) = a["client_password_auth_type"].as_str() {
                m.insert("ClientPasswordAuthType".into(), t.into());
            }
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::Value::Array(out).to_string()
}

/// SigV4's tolerance is about 5 minutes; a minute off already shortens (or lengthens) every token.
const CLOCK_FAIL_S: i64 = 300;
const CLOCK_WARN_S: i64 = 60;
const CLOCK_FIX: &str = "sync the clock: timedatectl set-ntp true (systemd), or chronyc makestep";

fn ahead(clock: Option<i64>) -> &'static str {
    if clock > Some(0) { "ahead of" } else { "behind" }
}

fn clock_line(clock: Option<i64>) -> String {
    match clock {
        Some(s) => format!("clock: {} s {} AWS's (the STS answer's Date header)", s.abs(), ahead(Some(s))),
        None => "clock: not compared (the answer had no Date header)".into(),
    }
}

/// An available instance with IAM auth on: its master secret, and the port its proxy target uses.
fn instance_details(ev: &Evidence, db: &Resource) -> F {
    let port = db.attributes.get("endpoint_port").and_then(|p| p.as_u64());
    let secret = match (attr(db, "master_secret_arn"), attr(db, "master_secret_status")) {
        ("", _) => "master secret: none managed by RDS".to_string(),
        (arn, "") => format!("master secret {arn}"),
        (arn, status) => format!("master secret {arn} ({status})"),
    };
    let mut evidence = vec![format!("port {}", port.map(|p| p.to_string()).unwrap_or_default()), secret];
    let target_port = ev
        .targets
        .as_ref()
        .ok()
        .and_then(|t| t.iter().find(|t| attr(t, "rds_resource_id") == db.name))
        .and_then(|t| t.attributes.get("port").and_then(|p| p.as_u64()));
    if let (Some(tp), Some(p)) = (target_port, port) {
        evidence.push(format!("the proxy's target uses port {tp}"));
        if tp != p {
            return fail(
                format!("the proxy's target for {} uses port {tp}, the instance listens on {p}", db.name),
                evidence,
                format!("re-register the target: aws rds deregister-db-proxy-targets --db-proxy-name PROXY --db-instance-identifiers {0} && aws rds register-db-proxy-targets --db-proxy-name PROXY --db-instance-identifiers {0}", db.name),
            );
        }
    }
    if matches!(attr(db, "master_secret_status"), "impaired" | "deleting") {
        return warn(
            format!("{}'s master secret is {}: the bootstrap cannot log in as the master user", db.name, attr(db, "master_secret_status")),
            evidence,
            format!("aws rds modify-db-instance --db-instance-identifier {} --manage-master-user-password --apply-immediately", db.name),
        );
    }
    pass(format!("{} is available, IAM auth on", db.name), evidence)
}

fn target_fix(reason: &str) -> String {
    match reason {
        "AUTH_FAILURE" => "the proxy's secret holds wrong credentials for the database: update the secret, or the user's password".into(),
        "CONNECTION_FAILED" | "UNREACHABLE" => "the proxy cannot reach the database: check the DB security group allows the proxy's group on the DB port".into(),
        "PENDING_PROXY_CAPACITY" => "the proxy is scaling: wait, then check again".into(),
        _ => "aws rds describe-db-proxy-targets --db-proxy-name PROXY (TargetHealth.Description says more)".into(),
    }
}

fn link(ev: &Evidence, src: &End, dst: &End, port: u16, from: &str, to: &str) -> F {
    let groups = match &ev.groups {
        Ok(g) => g,
        Err(e) => return fail("the security groups could not be read", vec![e.clone()], "aws ec2 describe-security-groups"),
    };
    let ids = |e: &End| e.groups.join(",");
    match network::evaluate(groups, src, dst, port) {
        Path::Open { ingress, egress } => pass(format!("{from} → {to} on {port} is open"), vec![ingress, egress]),
        Path::NoIngress => fail(
            format!("no rule lets {from} ({}) reach {to} ({}) on {port}", ids(src), ids(dst)),
            vec![],
            format!(
                "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} --source-group {}",
                dst.groups.first().cloned().unwrap_or_default(),
                src.groups.first().cloned().unwrap_or_default()
            ),
        ),
        Path::NoEgress { ingress } => fail(
            format!("{from}'s security groups let nothing out to {to} on {port}"),
            vec![ingress],
            format!("allow egress on {port} from {} to {}", ids(src), ids(dst)),
        ),
        Path::Unknown(e) => fail(format!("{from} → {to}: {e}"), vec![], "aws ec2 describe-security-groups --group-ids …"),
    }
}

fn config(ev: &Evidence) -> F {
    let p = proxy(ev).expect("checked by `proxy`");
    let f = facts(ev);
    let prefix = ev.located.as_ref().map(|l| l.parameter_prefix.clone()).unwrap_or_default();
    if let Err(e) = &f.params {
        return fail("the app's parameters could not be read", vec![e.clone()], format!("aws ssm get-parameters-by-path --path {prefix}"));
    }
    let proxy_ep = attr(p, "endpoint");
    let instance_ep = ev.instances.as_ref().ok().and_then(|v| v.first()).map(|d| attr(d, "endpoint_address").to_string()).unwrap_or_default();
    let mut evidence = Vec::new();
    for k in ["endpoint", "port", "username", "region", "dbname"] {
        evidence.push(format!("{prefix}{k} = {}", f.param(k).unwrap_or("(missing)")));
    }
    let put = |k: &str, v: &str| format!("aws ssm put-parameter --overwrite --name {prefix}{k} --type String --value {v}");
    match f.param("endpoint") {
        None => return fail("the app has no endpoint parameter", evidence, put("endpoint", proxy_ep)),
        Some(ep) if !instance_ep.is_empty() && ep == instance_ep => {
            return fail("the app connects to the instance, not the proxy (its tokens are signed for the instance)", evidence, put("endpoint", proxy_ep));
        }
        Some(ep) if ep != proxy_ep => {
            return warn(format!("the app's endpoint is {ep}, not the proxy's {proxy_ep}"), evidence, put("endpoint", proxy_ep));
        }
        Some(_) => {}
    }
    if let Some(port) = f.param("port")
        && port != "3306"
    {
        return fail(format!("the port parameter is {port}: the proxy listens on 3306"), evidence, put("port", "3306"));
    }
    if f.param("username").is_none() {
        return warn("no username parameter: the app's user is node_app by default", evidence, put("username", "node_app"));
    }
    if let Some(r) = f.param("region")
        && r != ev.region
    {
        return fail(format!("the region parameter is {r}, the stack is in {}", ev.region), evidence, put("region", &ev.region));
    }
    pass("endpoint, port, user and region agree with the proxy", evidence)
}

fn permission(ev: &Evidence) -> F {
    let asked = match &ev.permissions {
        Ok(p) => p,
        Err(e) => return warn("IAM's policy simulator was not asked", vec![e.clone()], "see the checks above"),
    };
    let line = |p: &iam::Permission| match &p.answer {
        Ok((d, m)) if m.is_empty() => format!("{}: {} → {d} for {} on {}", p.who, p.principal, p.action, p.resource),
        Ok((d, m)) => format!("{}: {} → {d} by {} for {} on {}", p.who, p.principal, m.join(", "), p.action, p.resource),
        Err(e) => format!("{}: {} → not asked: {e}", p.who, p.principal),
    };
    let evidence: Vec<String> = asked.iter().map(line).collect();
    if let Some(p) = asked.iter().find(|p| p.answer.as_ref().is_ok_and(|(d, _)| d != "allowed")) {
        let (d, _) = p.answer.as_ref().expect("found Ok");
        let how = if d == "explicitDeny" { "an explicit Deny forbids it" } else { "no policy allows it" };
        let what = match p.action {
            "rds-db:connect" => format!("may not rds-db:connect as {} ({how}): IAM refuses the token", p.resource.rsplit('/').next().unwrap_or("")),
            a => format!("may not {a} on its secret ({how}): the proxy cannot log in to the database"),
        };
        return fail(
            format!("{} {what}", p.who),
            evidence,
            iam::put_policy_command(&p.principal, iam::policy_name(p.action), &iam::allow_policy(p.action, &p.resource)),
        );
    }
    if let Some(p) = asked.iter().find(|p| p.answer.is_err()) {
        let e = p.answer.as_ref().err().cloned().unwrap_or_default();
        let me = ev.identity.as_ref().ok().and_then(|i| iam::principal(&i.arn)).unwrap_or_default();
        let fix = if e.contains("AccessDenied") {
            let mut targets: Vec<&str> = asked.iter().map(|p| p.principal.as_str()).filter(|a| !a.is_empty()).collect();
            targets.dedup();
            let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": targets}]}).to_string();
            format!(
                "let the doctor ask IAM: {}; or check by hand that {} allows {} on {}",
                iam::put_policy_command(&me, "rdsdeck-doctor", &policy),
                p.principal,
                p.action,
                p.resource
            )
        } else {
            format!("check by hand that {} allows {} on {}", p.principal, p.action, p.resource)
        };
        return warn(format!("could not ask IAM about {}: {}", p.who, first_words(&e)), evidence, fix);
    }
    let mut who: Vec<&str> = asked.iter().map(|p| p.who).collect();
    who.dedup();
    pass(format!("IAM allows the logins: {}", who.join(", ")), evidence)
}

fn egress_check(ev: &Evidence) -> F {
    let e = match &ev.egress {
        Ok(e) => e,
        Err(why) => return warn("the app host's routes could not be read", vec![why.clone()], "aws ec2 describe-route-tables; aws ec2 describe-vpc-endpoints"),
    };
    let have = |svc: &str| e.endpoints.iter().any(|n| n.rsplit('.').next() == Some(svc));
    let mut evidence = vec![
        format!("{} in {} → route table {}: {}", e.host, e.subnet, e.route_table, e.route.as_deref().map(|r| format!("0.0.0.0/0 via {r}")).unwrap_or("no route out".into())),
        format!("VPC endpoints: {}", if e.endpoints.is_empty() { "(none)".to_string() } else { e.endpoints.join(", ") }),
    ];
    if let Some(r) = &e.route {
        return pass(format!("the agent goes out through {r}"), evidence);
    }
    let missing: Vec<&str> = SSM_ENDPOINTS.iter().copied().filter(|s| !have(s)).collect();
    if missing.is_empty() {
        return pass("no route out, and VPC endpoints for ssm, ssmmessages, ec2messages", evidence);
    }
    evidence.push("Session Manager needs the agent to reach ssm, ssmmessages and ec2messages over HTTPS".into());
    evidence.push("or route 0.0.0.0/0 through a NAT gateway; the endpoints' security group must admit the host on 443".into());
    let fix = missing
        .iter()
        .map(|svc| {
            format!(
                "aws ec2 create-vpc-endpoint --vpc-id {} --vpc-endpoint-type Interface --service-name com.amazonaws.{}.{svc} --subnet-ids {} --private-dns-enabled",
                e.vpc, ev.region, e.subnet
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    fail(
        format!("{} has no route out of {} and no VPC endpoint for {}: its agent cannot reach Session Manager", e.host, e.subnet, missing.join(", ")),
        evidence,
        fix,
    )
}

fn auth_log_check(ev: &Evidence) -> F {
    let l = match &ev.auth_log {
        Ok(l) => l,
        Err(e) => return warn("the exported IAM auth log could not be read", vec![e.clone()], "allow logs:FilterLogEvents on the instance's log groups"),
    };
    if !l.exported && l.events.is_empty() {
        return F {
            status: Status::Skipped,
            summary: format!("{} does not export iam-db-auth-error: RDS's reasons for refused tokens stay on the host", l.instance),
            evidence: vec![],
            fix: Some(format!(
                "aws rds modify-db-instance --db-instance-identifier {} --cloudwatch-logs-export-configuration '{{\"EnableLogTypes\":[\"iam-db-auth-error\"]}}'",
                l.instance
            )),
        };
    }
    if l.events.is_empty() {
        return pass(format!("no refused IAM login in the last {} minutes", l.window_min), vec![format!("log group {}", l.group)]);
    }
    let evidence = std::iter::once(format!("log group {}", l.group)).chain(l.events.iter().rev().take(5).map(|(_, m)| m.clone())).collect();
    warn(
        format!("{} refused IAM login(s) in the last {} minutes; the last: {}", l.events.len(), l.window_min, l.events.last().map(|e| e.1.as_str()).unwrap_or("")),
        evidence,
        "each line says what RDS refused (token, permission, user): the checks above name the link; fix that one",
    )
}

fn first_words(s: &str) -> String {
    s.split(" — ").next().unwrap_or(s).chars().take(160).collect()
}

fn db_user_check(ev: &Evidence) -> F {
    use crate::bootstrap::plan::{quote_ident, quote_user};
    let u = match &ev.db_user {
        Ok(u) => u,
        Err(e) => {
            return F {
                status: Status::Skipped,
                summary: "mysql.user could not be read: the user was not checked".into(),
                evidence: vec![e.clone()],
                fix: Some("the doctor reads mysql.user as the bootstrap's IAM admin (bootstrap.admin_user, default dbadmin): run `rdsdeck bootstrap` to create it".into()),
            };
        }
    };
    let q = quote_user(&ev.user);
    let db = quote_ident(&u.database);
    let host = u.at.rsplit_once(':').map(|h| h.0).unwrap_or(&u.at).to_string();
    let admin = u.admin.clone();
    let seen = vec![format!("read as {} at {} from mysql.user and mysql.db", u.admin, u.at)];
    // The fix SQL, and the command that runs it as the admin (quoted for a POSIX shell).
    let run = move |sql: &str| format!("run it as {admin}: rdsdeck sql --host {host} -u {admin} --yes -e {}", sh_quote(sql));
    let mut f = match &u.state {
        UserState::Missing => fail(
            format!("{q} does not exist in the database"),
            seen,
            format!("CREATE USER {q} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL; GRANT {} ON {db}.* TO {q};", u.privileges.join(", ")),
        ),
        UserState::Conflict(why) => fail(
            format!("{q} does not log in with AWSAuthenticationPlugin: every token is refused (error 1045)"),
            [why.split(": rdsdeck will not").next().unwrap_or(why).to_string()].into_iter().chain(seen).collect(),
            format!("ALTER USER {q} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';"),
        ),
        UserState::Incomplete(missing) => {
            let mut fix = Vec::new();
            if missing.iter().any(|m| m == "REQUIRE SSL") {
                fix.push(format!("ALTER USER {q} REQUIRE SSL;"));
            }
            let grants: Vec<&str> = missing.iter().filter(|m| *m != "REQUIRE SSL").map(|m| m.split(" ON ").next().unwrap_or(m)).collect();
            if !grants.is_empty() {
                fix.push(format!("GRANT {} ON {db}.* TO {q};", grants.join(", ")));
            }
            let why = if missing.iter().any(|m| m == "REQUIRE SSL") && grants.is_empty() {
                "its token could travel without TLS".to_string()
            } else {
                format!("the app cannot use {db}")
            };
            fail(format!("{q} lacks {}: {why}", missing.join(", ")), seen, fix.join(" "))
        }
        UserState::Complete => pass(format!("{q} logs in with AWSAuthenticationPlugin, REQUIRE SSL, {} on {db}", u.privileges.join(", ")), seen),
    };
    if let Some(sql) = &f.fix {
        f.evidence.push(run(sql));
    }
    f
}

/// `s` as one word for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

