//! The doctor: walks the chain app host → proxy → target → database link by
//! link (DOCTOR.md) and names the first broken one, with the evidence it saw
//! and the fix. Evidence is gathered once, concurrently; the checks are pure
//! functions of it (so they are tested on fixtures); the last check is a real
//! IAM login. Checks run in chain order; a check whose prerequisite failed is
//! skipped and says which one it waited for.

pub mod iam;
pub mod network;

use serde::Serialize;
use std::time::Duration;

use crate::aws::{AwsContext, Identity};
use crate::bootstrap::run::UserState;
use crate::settings::Settings;
use crate::stack::{Kind, KindResult, Located, Resource};
use crate::target::{DbFlags, Route, StackFacts};
use network::{End, Group, Path, Rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
}

impl Status {
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skipped => "-",
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The command, policy statement or SQL that fixes it.
    pub fix: Option<String>,
    /// For a skipped check: the check it needed.
    pub waited_for: Option<&'static str>,
}

/// The checks in chain order: (id, title, the checks it needs to have passed or warned).
/// A cause comes before what it causes: the proxy → database path before the targets' health.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("identity", "who am I: credentials and account", &[]),
    ("proxy", "the RDS Proxy is available", &["identity"]),
    ("proxy.tls", "the proxy requires TLS", &["proxy"]),
    ("proxy.auth", "the proxy's auth: IAM required, with a secret", &["proxy"]),
    ("instance", "the DB instance is available, IAM auth on", &["identity"]),
    ("network.proxy-db", "the proxy reaches the database on its port", &["proxy", "instance"]),
    ("targets", "the proxy's targets are available", &["proxy"]),
    ("host", "the app host runs and Session Manager reaches it", &["identity"]),
    ("network.host-proxy", "the app host reaches the proxy on 3306", &["proxy", "host"]),
    ("config", "the app's parameters point at the proxy", &["proxy"]),
    ("iam", "rds-db:connect allowed for you and the app host's role", &["identity", "proxy"]),
    ("dbuser", "the database user: IAM plugin, REQUIRE SSL, grants", &["identity"]),
    ("login", "an IAM login over TLS as the app's user", &["identity"]),
];

fn title(id: &str) -> &'static str {
    CHECKS.iter().find(|c| c.0 == id).map(|c| c.1).unwrap_or("")
}

fn needs(id: &str) -> &'static [&'static str] {
    CHECKS.iter().find(|c| c.0 == id).map(|c| c.2).unwrap_or(&[])
}

/// Everything the checks look at, read once.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub region: String,
    pub identity: Result<Identity, String>,
    pub located: Result<Located, String>,
    pub proxies: Result<Vec<Resource>, String>,
    pub targets: Result<Vec<Resource>, String>,
    pub instances: Result<Vec<Resource>, String>,
    pub hosts: Result<Vec<Resource>, String>,
    pub params: Result<Vec<Resource>, String>,
    pub groups: Result<Vec<Group>, String>,
    /// The database user the checks are about (--user, else the app's).
    pub user: String,
    /// `rds-db:connect` as IAM's policy simulator answers it, for you and the app host's role.
    pub permissions: Result<Vec<iam::Permission>, String>,
    /// The user in `mysql.user` / `mysql.db`, as the bootstrap's IAM admin sees it.
    pub db_user: Result<DbUser, String>,
}

/// The database user as the IAM admin saw it.
#[derive(Debug, Clone)]
pub struct DbUser {
    pub admin: String,
    pub database: String,
    pub privileges: Vec<String>,
    pub state: UserState,
}

fn items(r: KindResult) -> Result<Vec<Resource>, String> {
    match r {
        KindResult::Ok { items } => Ok(items),
        KindResult::Error { error } => Err(error),
    }
}

/// Reads the evidence: identity and discovery, then every kind and the security groups' rules at once,
/// then what needs them (the policy simulator, the database user).
pub async fn gather(ctx: &AwsContext, settings: &Settings, opts: &Options) -> Evidence {
    let (identity, located) = tokio::join!(ctx.identity(), crate::stack::locate(ctx, &settings.anchor, &settings.parameter_prefix));
    let located = located.map_err(|e| e.to_string());
    let none = |why: &str| Err::<Vec<Resource>, String>(why.to_string());
    let Ok(loc) = &located else {
        let why = "the stack was not found";
        return Evidence {
            region: ctx.region.clone(),
            identity,
            located,
            proxies: none(why),
            targets: none(why),
            instances: none(why),
            hosts: none(why),
            params: none(why),
            groups: Err(why.into()),
            user: opts.user.clone().unwrap_or_default(),
            permissions: Err(why.into()),
            db_user: Err(why.into()),
        };
    };
    let fetch = |k: Kind| async move { items(crate::stack::fetch_kind(ctx, loc, k).await.0) };
    let (proxies, targets, instances, hosts, params, groups) = tokio::join!(
        fetch(Kind::Proxy),
        fetch(Kind::Target),
        fetch(Kind::Instance),
        fetch(Kind::Host),
        fetch(Kind::Parameter),
        security_groups(ctx, loc)
    );
    let mut ev = Evidence {
        region: ctx.region.clone(),
        identity,
        located,
        proxies,
        targets,
        instances,
        hosts,
        params,
        groups,
        user: String::new(),
        permissions: Err(String::new()),
        db_user: Err(String::new()),
    };
    ev.user = opts.user.clone().unwrap_or_else(|| facts(&ev).app_user());
    let (permissions, db_user) = tokio::join!(permissions(ctx, &ev), db_user(ctx, settings, &ev));
    ev.permissions = permissions;
    ev.db_user = db_user;
    ev
}

/// Asks IAM's policy simulator whether you (as `ev.user`) and the app host's role (as the app's user)
/// may `rds-db:connect` through the proxy.
async fn permissions(ctx: &AwsContext, ev: &Evidence) -> Result<Vec<iam::Permission>, String> {
    let me = ev.identity.as_ref().map_err(Clone::clone)?;
    let p = proxy(ev)?;
    let prx = p.id.rsplit(':').next().filter(|x| x.starts_with("prx-")).ok_or_else(|| format!("the proxy's ARN {} has no prx- id", p.id))?;
    let resource = |user: &str| iam::dbuser_arn(&ev.region, &me.account, prx, user);
    let mut asks: Vec<(&'static str, Result<String, String>, String)> = Vec::new();
    match iam::principal(&me.arn) {
        Some(arn) => asks.push(("you", Ok(arn), resource(&ev.user))),
        None => asks.push(("you", Err("you are the account's root user: IAM policies do not limit it".into()), resource(&ev.user))),
    }
    let host = ev.hosts.as_ref().ok().and_then(|h| h.iter().find(|x| attr(x, "state") == "running").or(h.first()));
    if let Some(h) = host {
        let role = match attr(h, "instance_profile") {
            "" => Err(format!("{} has no instance profile: the app cannot sign tokens", h.id)),
            profile => iam::profile_role(ctx, profile).await,
        };
        asks.push(("the app host's role", role, resource(&facts(ev).app_user())));
    }
    let answers = futures::future::join_all(asks.into_iter().map(|(who, principal, resource)| async move {
        let answer = match &principal {
            Ok(arn) => iam::simulate(ctx, arn, &resource).await,
            Err(e) if e.contains("root user") => Ok(("allowed".to_string(), vec!["the account's root user".to_string()])),
            Err(e) => Err(e.clone()),
        };
        iam::Permission { who, principal: principal.unwrap_or_default(), resource, answer }
    }))
    .await;
    Ok(answers)
}

/// The database user as `mysql.user` shows it, read by the bootstrap's IAM admin on the app's route.
async fn db_user(ctx: &AwsContext, settings: &Settings, ev: &Evidence) -> Result<DbUser, String> {
    use crate::bootstrap::plan::{DEFAULT_ADMIN, DEFAULT_PRIVILEGES, app_users};
    let admin = settings.bootstrap.admin_user.clone().unwrap_or_else(|| DEFAULT_ADMIN.to_string());
    let f = facts(ev);
    let database = f
        .param("dbname")
        .map(str::to_string)
        .or(settings.bootstrap.database.clone())
        .ok_or("the app's database is unknown (no dbname parameter, no bootstrap.database)")?;
    let privileges = app_users(&settings.bootstrap)
        .ok()
        .and_then(|users| users.into_iter().find(|u| u.name == ev.user).map(|u| u.privileges))
        .unwrap_or_else(|| DEFAULT_PRIVILEGES.iter().map(|s| s.to_string()).collect());
    let flags = DbFlags { user: Some(admin.clone()), ..Default::default() };
    let t = crate::target::db_target(&f, &flags, Route::Direct, &settings.config.forwards).map_err(|e| e.to_string())?;
    let provider = ctx.sdk.credentials_provider().ok_or("no credentials to sign a token")?;
    let spec = crate::target::connect_spec(&t, None, &ctx.region, settings, Duration::from_secs(10), true);
    let c = crate::db::connect::Connector::new(spec, crate::db::connect::Auth::Iam(provider));
    let mut conn = c.connect().await.map_err(|e| format!("the IAM admin {admin} could not log in to read mysql.user: {}", e.message))?;
    let expect = crate::bootstrap::run::Expect { global: vec![], dbs: vec![(database.clone(), privileges.clone())] };
    let state = crate::bootstrap::run::check_user(&mut conn, &ev.user, &expect).await;
    let _ = conn.disconnect().await;
    let state = state.map_err(|e| format!("{admin} could not read mysql.user: {e}"))?;
    Ok(DbUser { admin, database, privileges, state })
}

/// The VPC's security groups with their rules, as the network check evaluates them.
async fn security_groups(ctx: &AwsContext, loc: &Located) -> Result<Vec<Group>, String> {
    let vpc = loc.vpc_id.clone().ok_or("the stack's VPC is unknown")?;
    let filter = aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc).build();
    let out = aws_sdk_ec2::Client::new(&ctx.sdk)
        .describe_security_groups()
        .filters(filter)
        .send()
        .await
        .map_err(|e| crate::aws::explain(&e))?;
    let rules = |perms: &[aws_sdk_ec2::types::IpPermission]| -> Vec<Rule> {
        perms
            .iter()
            .map(|p| Rule {
                protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                from_port: p.from_port().unwrap_or(-1),
                to_port: p.to_port().unwrap_or(-1),
                cidrs: p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)).collect(),
                groups: p.user_id_group_pairs().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
            })
            .collect()
    };
    Ok(out
        .security_groups()
        .iter()
        .map(|g| Group {
            id: g.group_id().unwrap_or_default().to_string(),
            name: g.group_name().unwrap_or_default().to_string(),
            ingress: rules(g.ip_permissions()),
            egress: rules(g.ip_permissions_egress()),
        })
        .collect())
}

/// A finding under construction.
struct F {
    status: Status,
    summary: String,
    evidence: Vec<String>,
    fix: Option<String>,
}

fn pass(summary: impl Into<String>, evidence: Vec<String>) -> F {
    F { status: Status::Pass, summary: summary.into(), evidence, fix: None }
}

fn fail(summary: impl Into<String>, evidence: Vec<String>, fix: impl Into<String>) -> F {
    F { status: Status::Fail, summary: summary.into(), evidence, fix: Some(fix.into()) }
}

fn warn(summary: impl Into<String>, evidence: Vec<String>, fix: impl Into<String>) -> F {
    F { status: Status::Warn, summary: summary.into(), evidence, fix: Some(fix.into()) }
}

fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.get_str(key).unwrap_or("")
}

fn list(r: &Resource, key: &str) -> Vec<String> {
    r.attributes.get(key).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// The stack's proxy, its first instance and its first host.
fn proxy<'a>(ev: &'a Evidence) -> Result<&'a Resource, String> {
    let name = ev.located.as_ref().map_err(Clone::clone)?.proxy.clone().ok_or("the stack has no RDS Proxy")?;
    let proxies = ev.proxies.as_ref().map_err(Clone::clone)?;
    proxies.iter().find(|p| p.name == name).ok_or_else(|| format!("the proxy {name} was not described"))
}

fn facts(ev: &Evidence) -> StackFacts {
    StackFacts::from_resources(
        ev.located.as_ref().ok().and_then(|l| l.proxy_endpoint.clone()),
        ev.params.as_ref().map(|v| v.as_slice()).map_err(Clone::clone),
        ev.hosts.as_ref().map(|v| v.as_slice()).map_err(Clone::clone),
    )
}

fn check(id: &str, ev: &Evidence) -> F {
    match id {
        "identity" => match &ev.identity {
            Ok(i) => pass(format!("{} in account {}", i.arn, i.account), vec![format!("region {}", ev.region)]),
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
            match (required, secret) {
                (true, true) => pass("IAMAuth REQUIRED, with a SecretArn", text),
                (false, _) => fail(
                    "IAM authentication is not required by the proxy: it will not take tokens",
                    text,
                    format!("aws rds modify-db-proxy --db-proxy-name {} --auth '{}'", p.name, required_auth(&auth)),
                ),
                (true, false) => fail(
                    "the auth block has no SecretArn (the API needs one even when every login is IAM)",
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
                Some(db) => pass(format!("{} is available, IAM auth on", db.name), vec![format!("port {}", db.attributes.get("endpoint_port").cloned().unwrap_or_default())]),
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
            vec![format!("ingress of {} checked on port {port}", ids(dst))],
            format!(
                "aws ec2 authorize-security-group-ingress --group-id {} --ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},UserIdGroupPairs=[{{GroupId={}}}]'",
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
        Ok((d, m)) if m.is_empty() => format!("{}: {} → {d} on {}", p.who, p.principal, p.resource),
        Ok((d, m)) => format!("{}: {} → {d} by {} on {}", p.who, p.principal, m.join(", "), p.resource),
        Err(e) => format!("{}: {} → not asked: {e}", p.who, p.principal),
    };
    let evidence: Vec<String> = asked.iter().map(line).collect();
    if let Some(p) = asked.iter().find(|p| p.answer.as_ref().is_ok_and(|(d, _)| d != "allowed")) {
        let (d, _) = p.answer.as_ref().expect("found Ok");
        let how = if d == "explicitDeny" { "an explicit Deny forbids it" } else { "no policy allows it" };
        return fail(
            format!("{} may not rds-db:connect as {} ({how}): IAM refuses the token", p.who, p.resource.rsplit('/').next().unwrap_or("")),
            evidence,
            iam::put_policy_command(&p.principal, &iam::connect_policy(&p.resource)),
        );
    }
    if let Some(p) = asked.iter().find(|p| p.answer.is_err()) {
        let e = p.answer.as_ref().err().cloned().unwrap_or_default();
        let me = ev.identity.as_ref().ok().and_then(|i| iam::principal(&i.arn)).unwrap_or_default();
        let fix = if e.contains("AccessDenied") {
            let targets: Vec<&str> = asked.iter().map(|p| p.principal.as_str()).filter(|a| !a.is_empty()).collect();
            let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": targets}]}).to_string();
            format!(
                "let the doctor ask IAM: {}; or check by hand that {} allows rds-db:connect on {}",
                iam::put_policy_command(&me, &policy).replace("rdsdeck-db-connect", "rdsdeck-doctor"),
                p.principal,
                p.resource
            )
        } else {
            format!("check by hand that {} allows rds-db:connect on {}", p.principal, p.resource)
        };
        return warn(format!("could not ask IAM about {}: {}", p.who, first_words(&e)), evidence, fix);
    }
    pass(format!("rds-db:connect allowed for {}", asked.iter().map(|p| p.who).collect::<Vec<_>>().join(" and ")), evidence)
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
    let seen = vec![format!("read as {} from mysql.user and mysql.db", u.admin)];
    match &u.state {
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
    }
}

/// Every check but the login, in chain order, each skipped when what it needs did not hold.
pub fn evaluate(ev: &Evidence) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for (id, _, _) in CHECKS.iter().filter(|c| c.0 != "login") {
        out.push(finish(id, &out, || check(id, ev)));
    }
    out
}

/// The check `id` needs that failed or was skipped, if any.
fn blocked_by(id: &str, done: &[Finding]) -> Option<&'static str> {
    needs(id).iter().copied().find(|n| done.iter().any(|d| d.id == *n && matches!(d.status, Status::Fail | Status::Skipped)))
}

fn skipped(id: &'static str, waited_for: &'static str) -> Finding {
    Finding { id, title: title(id), status: Status::Skipped, summary: format!("waits for {waited_for}"), evidence: vec![], fix: None, waited_for: Some(waited_for) }
}

fn found(id: &'static str, r: F) -> Finding {
    Finding { id, title: title(id), status: r.status, summary: r.summary, evidence: r.evidence, fix: r.fix, waited_for: None }
}

/// Runs `f` for `id` unless a check it needs failed or was skipped.
fn finish(id: &'static str, done: &[Finding], f: impl FnOnce() -> F) -> Finding {
    match blocked_by(id, done) {
        Some(n) => skipped(id, n),
        None => found(id, f()),
    }
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The database user to log in as (default: the app's).
    pub user: Option<String>,
}

/// The real login: a token for the app's endpoint, TLS verified, as the user; the MySQL error mapped.
async fn login(ctx: &AwsContext, settings: &Settings, ev: &Evidence, opts: &Options) -> F {
    let flags = DbFlags { user: opts.user.clone(), ..Default::default() };
    let t = match crate::target::db_target(&facts(ev), &flags, Route::Direct, &settings.config.forwards) {
        Ok(t) => t,
        Err(e) => return fail("nothing to log in to", vec![e.to_string()], "pass --user, or fix the endpoint parameter"),
    };
    let Some(provider) = ctx.sdk.credentials_provider() else { return fail("no credentials to sign a token", vec![], "see `identity`") };
    let spec = crate::target::connect_spec(&t, None, &ctx.region, settings, Duration::from_secs(10), true);
    // TCP sent elsewhere by connect_to (a tunnel, the sandbox): said, as it changes what was tested.
    let routed = spec.tls_name.is_some().then(|| format!("TCP to {}:{} (connect_to); token and TLS name {}:{}", spec.host, spec.port, t.host, t.port));
    let c = crate::db::connect::Connector::new(spec, crate::db::connect::Auth::Iam(provider));
    let at = format!("{}@{}:{}", t.user, t.host, t.port);
    match c.connect_wire().await {
        Ok(conn) => {
            let (v, cipher) = conn.tls();
            let id = conn.id();
            conn.close().await;
            pass(format!("logged in as {at} over {v}"), [format!("cipher {cipher}, connection {id}")].into_iter().chain(routed).collect())
        }
        Err(e) => {
            let fix = match e.code {
                Some(1045) => format!(
                    "check that {} exists IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' (and REQUIRE SSL), and that your identity may rds-db:connect on …:dbuser:prx-ID/{} (through the proxy)",
                    t.user, t.user
                ),
                Some(1524) => "enable IAM database authentication on the instance (see `instance`)".into(),
                Some(3159) => "connect with TLS (rdsdeck always does: is something in between?)".into(),
                Some(9501) => "the proxy could not get a database connection: see `targets`".into(),
                _ => "see the error: the endpoint, the network path, the CA (--ca)".into(),
            };
            fail(format!("the login as {at} failed"), [e.message].into_iter().chain(routed).collect(), fix)
        }
    }
}

/// Runs the doctor: gathers, evaluates, logs in; each finding is handed to `each` as it is made.
pub async fn run(ctx: &AwsContext, settings: &Settings, opts: &Options, mut each: impl FnMut(&Finding)) -> Vec<Finding> {
    let ev = gather(ctx, settings, opts).await;
    let mut out = evaluate(&ev);
    for f in &out {
        each(f);
    }
    let mut f = match blocked_by("login", &out) {
        Some(n) => skipped("login", n),
        None => found("login", login(ctx, settings, &ev, opts).await),
    };
    // A refused login whose cause a check above already named points there.
    if f.status == Status::Fail
        && let Some(cause) = out.iter().find(|c| c.status == Status::Fail)
    {
        f.fix = Some(format!("first fix `{}` above: {}", cause.id, cause.fix.clone().unwrap_or_default()));
    }
    each(&f);
    out.push(f);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Health;

    fn res(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, id, id).health(Health::Ok)
    }

    fn healthy() -> Evidence {
        let proxy = res(Kind::Proxy, "dev-node-app")
            .attr("status", "available")
            .attr("endpoint", "px.proxy")
            .attr("require_tls", true)
            .attr("security_group_ids", vec!["sg-prx"])
            .attr("auth", serde_json::json!([{"iam_auth": "REQUIRED", "secret_arn": "arn:secret"}]));
        let params = [("endpoint", "px.proxy"), ("port", "3306"), ("username", "node_user"), ("region", "us-east-1")]
            .iter()
            .map(|(k, v)| res(Kind::Parameter, &format!("/dev/database/{k}")).attr("value", *v))
            .collect();
        let g = |id: &str, from: &str| Group {
            id: id.into(),
            name: id.into(),
            ingress: vec![Rule { protocol: "tcp".into(), from_port: 3306, to_port: 3306, cidrs: vec![], groups: vec![from.into()] }],
            egress: vec![Rule { protocol: "-1".into(), from_port: -1, to_port: -1, cidrs: vec!["0.0.0.0/0".into()], groups: vec![] }],
        };
        Evidence {
            region: "us-east-1".into(),
            identity: Ok(Identity { account: "1".into(), arn: "arn:aws:iam::1:user/x".into(), user_id: "x".into() }),
            located: Ok(Located { proxy: Some("dev-node-app".into()), proxy_endpoint: Some("px.proxy".into()), instance_sgs: vec!["sg-rds".into()], parameter_prefix: "/dev/database/".into(), ..Default::default() }),
            proxies: Ok(vec![proxy]),
            targets: Ok(vec![res(Kind::Target, "db").attr("health_state", "AVAILABLE")]),
            instances: Ok(vec![res(Kind::Instance, "db").attr("status", "available").attr("iam_auth", true).attr("endpoint_address", "db.instance").attr("endpoint_port", 3306)]),
            hosts: Ok(vec![res(Kind::Host, "i-1").attr("state", "running").attr("ssm_ping_status", "Online").attr("security_group_ids", vec!["sg-ec2"])]),
            params: Ok(params),
            groups: Ok(vec![g("sg-ec2", "sg-alb"), g("sg-prx", "sg-ec2"), g("sg-rds", "sg-prx")]),
            user: "node_user".into(),
            permissions: Ok(vec![
                perm("you", "arn:aws:iam::1:user/x", Ok(("allowed".into(), vec!["ops".into()]))),
                perm("the app host's role", "arn:aws:iam::1:role/app", Ok(("allowed".into(), vec!["app".into()]))),
            ]),
            db_user: Ok(DbUser { admin: "dbadmin".into(), database: "node_db".into(), privileges: vec!["SELECT".into()], state: UserState::Complete }),
        }
    }

    fn perm(who: &'static str, principal: &str, answer: Result<(String, Vec<String>), String>) -> iam::Permission {
        iam::Permission { who, principal: principal.into(), resource: "arn:aws:rds-db:us-east-1:1:dbuser:prx-1/node_user".into(), answer }
    }

    fn first_failure(ev: &Evidence) -> Option<(&'static str, Option<String>)> {
        evaluate(ev).into_iter().find(|f| f.status == Status::Fail).map(|f| (f.id, f.fix))
    }

    #[test]
    fn a_healthy_stack_passes_every_check() {
        let found = evaluate(&healthy());
        assert!(found.iter().all(|f| f.status == Status::Pass), "{found:#?}");
        assert_eq!(found.len(), CHECKS.len() - 1);
    }

    #[test]
    fn each_broken_link_is_the_first_failure_with_its_fix() {
        let mut ev = healthy();
        ev.groups.as_mut().unwrap()[1].ingress.clear();
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "network.host-proxy");
        assert!(fix.unwrap().contains("authorize-security-group-ingress --group-id sg-prx"));

        let mut ev = healthy();
        ev.instances.as_mut().unwrap()[0].attributes.insert("iam_auth".into(), false.into());
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "instance");
        assert!(fix.unwrap().contains("--enable-iam-database-authentication"));

        let mut ev = healthy();
        ev.proxies.as_mut().unwrap()[0].attributes.insert("auth".into(), serde_json::json!([{"iam_auth": "DISABLED", "secret_arn": "arn:secret"}]));
        assert_eq!(first_failure(&ev).unwrap().0, "proxy.auth");

        let mut ev = healthy();
        let params = ev.params.as_mut().unwrap();
        params[0].attributes.insert("value".into(), "db.instance".into());
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "config");
        assert!(fix.unwrap().contains("put-parameter --overwrite --name /dev/database/endpoint --type String --value px.proxy"));

        let mut ev = healthy();
        ev.targets = Ok(vec![res(Kind::Target, "db").attr("health_state", "UNAVAILABLE").attr("health_reason", "AUTH_FAILURE")]);
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "targets");
        assert!(fix.unwrap().contains("secret"));
    }

    #[test]
    fn a_denied_connect_and_an_incomplete_user_are_named_with_their_fix() {
        let mut ev = healthy();
        ev.permissions.as_mut().unwrap()[1].answer = Ok(("implicitDeny".into(), vec![]));
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "iam");
        let fix = fix.unwrap();
        assert!(fix.starts_with("aws iam put-role-policy --role-name app --policy-name rdsdeck-db-connect"), "{fix}");
        assert!(fix.contains("dbuser:prx-1/node_user"), "{fix}");

        // The simulator itself denied: a warning that says what to add, not a failure.
        let mut ev = healthy();
        ev.permissions.as_mut().unwrap()[0].answer = Err("AccessDenied: not authorized — the identity lacks this permission".into());
        let f = evaluate(&ev).into_iter().find(|f| f.id == "iam").unwrap();
        assert_eq!(f.status, Status::Warn);
        assert!(f.fix.unwrap().contains(r#""Action":"iam:SimulatePrincipalPolicy""#));

        let mut ev = healthy();
        ev.db_user.as_mut().unwrap().state = UserState::Incomplete(vec!["REQUIRE SSL".into(), "SELECT ON `node_db`.*".into()]);
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "dbuser");
        assert_eq!(fix.unwrap(), "ALTER USER 'node_user'@'%' REQUIRE SSL; GRANT SELECT ON `node_db`.* TO 'node_user'@'%';");

        // mysql.user out of sight: not checked, and said so; nothing fails for it.
        let mut ev = healthy();
        ev.db_user = Err("the IAM admin dbadmin could not log in".into());
        let f = evaluate(&ev).into_iter().find(|f| f.id == "dbuser").unwrap();
        assert_eq!((f.status, f.waited_for), (Status::Skipped, None));
        assert!(first_failure(&ev).is_none());
    }

    #[test]
    fn a_failed_prerequisite_skips_what_needs_it() {
        let mut ev = healthy();
        ev.proxies = Ok(vec![]);
        let found = evaluate(&ev);
        let by = |id: &str| found.iter().find(|f| f.id == id).unwrap().clone();
        assert_eq!(by("proxy").status, Status::Fail);
        for id in ["proxy.tls", "proxy.auth", "targets", "network.host-proxy", "network.proxy-db", "config", "iam"] {
            assert_eq!((by(id).status, by(id).waited_for), (Status::Skipped, Some("proxy")), "{id}");
        }
        assert_eq!(by("instance").status, Status::Pass, "independent checks still run");
    }
}
