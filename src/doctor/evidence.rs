//! What the doctor looks at, read once: identity and clock, discovery, every kind of the stack, the
//! security groups' rules, then what needs those (the app host's routes and the VPC's endpoints,
//! IAM's policy simulator, the database user in `mysql.user`).

use std::time::Duration;

use super::iam;
use super::network::{Group, Rule};
use super::Options;
use crate::aws::{AwsContext, Identity};
use crate::bootstrap::run::UserState;
use crate::settings::Settings;
use crate::stack::{Kind, KindResult, Located, Resource};
use crate::target::{DbFlags, Route, StackFacts};

/// Everything the checks look at, read once.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub region: String,
    /// The named profile the doctor ran with (None for the default chain), for the fixes.
    pub profile: Option<String>,
    pub identity: Result<Identity, String>,
    /// Seconds the local clock is ahead of AWS's (from the STS answer's `Date`), when known.
    pub clock: Option<i64>,
    pub located: Result<Located, String>,
    pub proxies: Result<Vec<Resource>, String>,
    pub targets: Result<Vec<Resource>, String>,
    pub instances: Result<Vec<Resource>, String>,
    pub hosts: Result<Vec<Resource>, String>,
    pub params: Result<Vec<Resource>, String>,
    pub groups: Result<Vec<Group>, String>,
    /// The app host's subnet's way out (its default route, the VPC's endpoints).
    pub egress: Result<Egress, String>,
    /// The instance's exported auth failures, read after the login (so they include it).
    pub auth_log: Result<AuthLog, String>,
    /// The database user the checks are about (--user, else the app's).
    pub user: String,
    /// `rds-db:connect` as IAM's policy simulator answers it, for you and the app host's role.
    pub permissions: Result<Vec<iam::Permission>, String>,
    /// The user in `mysql.user` / `mysql.db`, as the bootstrap's IAM admin sees it.
    pub db_user: Result<DbUser, String>,
}

/// Refused IAM logins in the instance's exported `iam-db-auth-error` log.
#[derive(Debug, Clone, Default)]
pub struct AuthLog {
    pub instance: String,
    pub group: String,
    /// The instance exports the log (else RDS keeps its reasons on the host).
    pub exported: bool,
    pub window_min: i64,
    /// (epoch ms, message), oldest first.
    pub events: Vec<(i64, String)>,
}

/// How far back the log is read.
pub const AUTH_LOG_WINDOW_MIN: i64 = 15;

/// Reads the instance's exported `iam-db-auth-error` log for the last [`AUTH_LOG_WINDOW_MIN`] minutes.
pub async fn auth_log(ctx: &AwsContext, ev: &Evidence) -> Result<AuthLog, String> {
    let db = ev.instances.as_ref().map_err(Clone::clone)?.first().ok_or("no DB instance")?;
    let group = format!("/aws/rds/instance/{}/iam-db-auth-error", db.name);
    let mut out = AuthLog { instance: db.name.clone(), group: group.clone(), window_min: AUTH_LOG_WINDOW_MIN, ..Default::default() };
    out.exported = list(db, "cloudwatch_logs").iter().any(|l| l == "iam-db-auth-error");
    let since = chrono::Utc::now().timestamp_millis() - AUTH_LOG_WINDOW_MIN * 60_000;
    if out.exported {
        out.events = recent(ctx, &group, since, None).await?;
    }
    // The proxy's own log group: its refused logins (the wording varies with DebugLogging).
    if let Ok(p) = proxy(ev) {
        let proxy_group = format!("/aws/rds/proxy/{}", p.name);
        let seen = recent(ctx, &proxy_group, since, Some("?authentication ?credentials ?token ?denied")).await.unwrap_or_default();
        if !seen.is_empty() {
            out.group = format!("{group}, {proxy_group}");
        }
        out.events.extend(seen.into_iter().map(|(t, m)| (t, format!("[proxy] {m}"))));
    }
    out.events.sort_by_key(|e| e.0);
    Ok(out)
}

/// A log group's events since `since` (epoch ms), optionally filtered; none when the group does not exist.
async fn recent(ctx: &AwsContext, group: &str, since: i64, pattern: Option<&str>) -> Result<Vec<(i64, String)>, String> {
    // Every page (an empty page may still carry a token), the newest 100 kept.
    let q = crate::pulse::logs::Query {
        groups: vec![(crate::pulse::logs::Group::Iam, group.to_string(), since)],
        end: None,
        filter: pattern.map(str::to_string),
        limit: 100,
    };
    let found = crate::pulse::logs::read(ctx, &q).await;
    if let Some((_, e)) = found.errors.first() {
        return Err(e.clone());
    }
    Ok(found.events.into_iter().map(|e| (e.time, e.message)).collect())
}

/// How the app host's agent reaches Session Manager.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    pub host: String,
    pub subnet: String,
    pub vpc: String,
    pub route_table: String,
    /// The active 0.0.0.0/0 route's NAT or internet gateway, if any.
    pub route: Option<String>,
    /// The VPC's endpoints' service names (`com.amazonaws.REGION.ssm`, …).
    pub endpoints: Vec<String>,
}

/// The interface endpoints Session Manager needs in a subnet without a way out.
pub const SSM_ENDPOINTS: [&str; 3] = ["ssm", "ssmmessages", "ec2messages"];

/// The database user as the IAM admin saw it.
#[derive(Debug, Clone)]
pub struct DbUser {
    pub admin: String,
    /// Where the admin logged in (the instance's endpoint).
    pub at: String,
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
    let ((identity, clock), located) = tokio::join!(ctx.identity_and_clock(), crate::stack::locate(ctx, &settings.anchor, &settings.parameter_prefix));
    let located = located.map_err(|e| e.to_string());
    let none = |why: &str| Err::<Vec<Resource>, String>(why.to_string());
    let Ok(loc) = &located else {
        let why = "the stack was not found";
        return Evidence {
            region: ctx.region.clone(),
            profile: named_profile(ctx),
            identity,
            clock,
            located,
            proxies: none(why),
            targets: none(why),
            instances: none(why),
            hosts: none(why),
            params: none(why),
            groups: Err(why.into()),
            egress: Err(why.into()),
            auth_log: Err(why.into()),
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
        profile: named_profile(ctx),
        identity,
        clock,
        located,
        proxies,
        targets,
        instances,
        hosts,
        params,
        groups,
        egress: Err(String::new()),
        auth_log: Err("not read yet".into()),
        user: String::new(),
        permissions: Err(String::new()),
        db_user: Err(String::new()),
    };
    ev.user = opts.user.clone().unwrap_or_else(|| facts(&ev).app_user());
    ev
}

/// What needs the stack read first: the app host's routes, IAM's policy simulator, and the database
/// user (read at the instance through the forward on `local_port` when the route has one; `no_route`
/// says why there is none).
pub async fn gather_more(ctx: &AwsContext, settings: &Settings, ev: &mut Evidence, local_port: Option<u16>, no_route: Option<&String>) {
    let user = async {
        match no_route {
            Some(why) => Err(why.clone()),
            None => db_user(ctx, settings, ev, local_port).await,
        }
    };
    let (permissions, db_user, egress) = tokio::join!(permissions(ctx, ev), user, egress(ctx, ev));
    ev.permissions = permissions;
    ev.egress = egress;
    ev.db_user = db_user;
}

/// The profile to name in fixes: one set by flag, config or AWS_PROFILE (not the default chain's).
fn named_profile(ctx: &AwsContext) -> Option<String> {
    Some(ctx.profile.clone()).filter(|p| !p.is_empty() && p != "default")
}

/// The running app host's subnet's route table and the VPC's endpoints.
async fn egress(ctx: &AwsContext, ev: &Evidence) -> Result<Egress, String> {
    use aws_sdk_ec2::types::Filter;
    let hosts = ev.hosts.as_ref().map_err(Clone::clone)?;
    let h = hosts.iter().find(|x| attr(x, "state") == "running").or(hosts.first()).ok_or("no app host")?;
    let subnet = attr(h, "subnet_id").to_string();
    let vpc = ev.located.as_ref().ok().and_then(|l| l.vpc_id.clone()).ok_or("the stack's VPC is unknown")?;
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);
    let f = |k: &str, v: &str| Filter::builder().name(k).values(v).build();
    let tables = ec2.describe_route_tables().filters(f("association.subnet-id", &subnet)).send();
    let endpoints = ec2.describe_vpc_endpoints().filters(f("vpc-id", &vpc)).send();
    let (tables, endpoints) = tokio::join!(tables, endpoints);
    let mut tables = tables.map_err(|e| crate::aws::explain(&e))?.route_tables().to_vec();
    if tables.is_empty() {
        // A subnet without its own table uses the VPC's main one.
        let main = ec2.describe_route_tables().filters(f("vpc-id", &vpc)).filters(f("association.main", "true")).send().await;
        tables = main.map_err(|e| crate::aws::explain(&e))?.route_tables().to_vec();
    }
    let route_table = tables.first().and_then(|t| t.route_table_id()).unwrap_or_default().to_string();
    // Any active default route is a way out: a NAT gateway, an internet gateway, a transit gateway,
    // a NAT instance or its interface, a firewall endpoint, a peering.
    let route = tables.iter().flat_map(|t| t.routes()).find_map(|r| {
        let active = r.state().is_none_or(|s| s.as_str() == "active");
        let out = r
            .nat_gateway_id()
            .or(r.gateway_id().filter(|g| *g != "local"))
            .or(r.transit_gateway_id())
            .or(r.instance_id())
            .or(r.network_interface_id())
            .or(r.vpc_peering_connection_id())
            .map(str::to_string);
        (r.destination_cidr_block() == Some("0.0.0.0/0") && active).then_some(out).flatten()
    });
    let endpoints = endpoints
        .map_err(|e| crate::aws::explain(&e))?
        .vpc_endpoints()
        .iter()
        .filter(|e| e.state().is_none_or(|s| matches!(s.as_str().to_ascii_lowercase().as_str(), "available" | "pending")))
        .filter_map(|e| e.service_name().map(str::to_string))
        .collect();
    Ok(Egress { host: h.id.clone(), subnet, vpc, route_table, route, endpoints })
}

/// Asks IAM's policy simulator whether you (as `ev.user`) and the app host's role (as the app's user)
/// may `rds-db:connect` through the proxy, and whether the proxy's role may reach the database: read
/// its secret (scheme SECRETS), or `rds-db:connect` on the instance (DefaultAuthScheme IAM_AUTH).
async fn permissions(ctx: &AwsContext, ev: &Evidence) -> Result<Vec<iam::Permission>, String> {
    let me = ev.identity.as_ref().map_err(Clone::clone)?;
    let p = proxy(ev)?;
    let prx = p.id.rsplit(':').next().filter(|x| x.starts_with("prx-")).ok_or_else(|| format!("the proxy's ARN {} has no prx- id", p.id))?;
    let resource = |id: &str, user: &str| iam::dbuser_arn(&ev.region, &me.account, id, user);
    let app_user = facts(ev).app_user();
    let mut asks: Vec<(&'static str, Result<String, String>, &'static str, String)> = Vec::new();
    match iam::principal(&me.arn) {
        Some(arn) => asks.push(("you", Ok(iam::with_path(ctx, arn).await), "rds-db:connect", resource(prx, &ev.user))),
        None => asks.push(("you", Err("you are the account's root user: IAM policies do not limit it".into()), "rds-db:connect", resource(prx, &ev.user))),
    }
    let host = ev.hosts.as_ref().ok().and_then(|h| h.iter().find(|x| attr(x, "state") == "running").or(h.first()));
    if let Some(h) = host {
        let role = match attr(h, "instance_profile") {
            "" => Err(format!("{} has no instance profile: the app cannot sign tokens", h.id)),
            profile => iam::profile_role(ctx, profile).await,
        };
        asks.push(("the app host's role", role, "rds-db:connect", resource(prx, &app_user)));
    }
    let role = attr(p, "role_arn");
    if !role.is_empty() {
        if attr(p, "default_auth_scheme") == "IAM_AUTH" {
            // End-to-end IAM: the proxy logs in to the instance with its own token.
            let dbi = ev.instances.as_ref().ok().and_then(|v| v.first()).map(|d| attr(d, "dbi_resource_id").to_string()).unwrap_or_default();
            if !dbi.is_empty() {
                asks.push(("the proxy's role", Ok(role.to_string()), "rds-db:connect", resource(&dbi, &app_user)));
            }
        } else {
            let auth: Vec<serde_json::Value> = p.attributes.get("auth").and_then(|v| v.as_array()).cloned().unwrap_or_default();
            for secret in auth.iter().filter_map(|a| a["secret_arn"].as_str()).filter(|s| !s.is_empty()) {
                asks.push(("the proxy's role", Ok(role.to_string()), "secretsmanager:GetSecretValue", secret.to_string()));
            }
        }
    }
    let answers = futures::future::join_all(asks.into_iter().map(|(who, principal, action, resource)| async move {
        let answer = match &principal {
            Ok(arn) => iam::simulate(ctx, arn, action, &resource).await,
            Err(e) if e.contains("root user") => Ok(("allowed".to_string(), vec!["the account's root user".to_string()])),
            Err(e) => Err(e.clone()),
        };
        iam::Permission { who, principal: principal.unwrap_or_default(), action, resource, answer }
    }))
    .await;
    Ok(answers)
}

/// Where the IAM admin logs in, as the bootstrap does: the instance's endpoint (the bootstrap's
/// `host`/`port` when set), never the proxy (with end-to-end IAM the proxy's role may not log in as it).
pub(super) fn admin_endpoint(ev: &Evidence, settings: &Settings) -> Option<(String, u16)> {
    let db = ev.instances.as_ref().ok().and_then(|v| v.first());
    let host = settings.bootstrap.host.clone().or_else(|| db.map(|d| attr(d, "endpoint_address").to_string()).filter(|a| !a.is_empty()))?;
    let port = settings.bootstrap.port.or_else(|| db.and_then(|d| d.attributes.get("endpoint_port").and_then(|p| p.as_u64())).map(|p| p as u16)).unwrap_or(3306);
    Some((host, port))
}

/// The database user as `mysql.user` shows it, read by the bootstrap's IAM admin at the instance
/// (through the route's forward to it on `local_port`, when there is one).
async fn db_user(ctx: &AwsContext, settings: &Settings, ev: &Evidence, local_port: Option<u16>) -> Result<DbUser, String> {
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
    let (host, port) = admin_endpoint(ev, settings).ok_or("the instance's endpoint is unknown")?;
    let flags = DbFlags { host: Some(host), port: Some(port), user: Some(admin.clone()), database: Some(database.clone()) };
    let t = crate::target::db_target(&f, &flags, Route::Direct, &settings.config.forwards).map_err(|e| e.to_string())?;
    let provider = ctx.sdk.credentials_provider().ok_or("no credentials to sign a token")?;
    let spec = crate::target::connect_spec(&t, local_port, &ctx.region, settings, Duration::from_secs(10), true);
    let c = crate::db::connect::Connector::new(spec, crate::db::connect::Auth::Iam(provider));
    let mut conn = c.connect().await.map_err(|e| format!("the IAM admin {admin} could not log in to read mysql.user: {}", e.message))?;
    let expect = crate::bootstrap::run::Expect { global: vec![], dbs: vec![(database.clone(), privileges.clone())] };
    let state = c.answer("reading mysql.user", crate::bootstrap::run::check_user(&mut conn, &ev.user, &expect)).await;
    let _ = conn.disconnect().await;
    let state = state.map_err(|e| format!("{admin} could not read mysql.user: {}", e.message))?;
    Ok(DbUser { admin, at: format!("{}:{}", t.host, t.port), database, privileges, state })
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

pub(super) fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.get_str(key).unwrap_or("")
}

pub(super) fn list(r: &Resource, key: &str) -> Vec<String> {
    r.attributes.get(key).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// The stack's proxy, its first instance and its first host.
pub(super) fn proxy<'a>(ev: &'a Evidence) -> Result<&'a Resource, String> {
    let name = ev.located.as_ref().map_err(Clone::clone)?.proxy.clone().ok_or("the stack has no RDS Proxy")?;
    let proxies = ev.proxies.as_ref().map_err(Clone::clone)?;
    proxies.iter().find(|p| p.name == name).ok_or_else(|| format!("the proxy {name} was not described"))
}

pub(super) fn facts(ev: &Evidence) -> StackFacts {
    StackFacts::from_resources(
        ev.located.as_ref().ok().and_then(|l| l.proxy_endpoint.clone()),
        ev.params.as_ref().map(|v| v.as_slice()).map_err(Clone::clone),
        ev.hosts.as_ref().map(|v| v.as_slice()).map_err(Clone::clone),
    )
}

