//! Proxy-centric stack discovery. Phase one ([`locate`]) finds the RDS Proxy
//! (or the DB instance) and what hangs off it; phase two ([`fetch_kind`])
//! loads each kind on its own, so one failing API marks only its own pane.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures::future::join_all;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::model::{Health, Identity, Kind, KindResult, Resource};
use super::sources::Anchor;
use crate::aws::{AwsContext, explain};

/// Why nothing could be discovered.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum DiscoverError {
    #[error("no RDS Proxy in region {region}{hint}")]
    NoProxy { region: String, hint: String },
    #[error("no RDS Proxy named `{name}` in region {region}{found}")]
    ProxyNotFound { name: String, region: String, found: String },
    #[error("no DB instance `{name}` in region {region}")]
    InstanceNotFound { name: String, region: String },
    #[error("{} RDS Proxies in region {region}: {}; choose one with --proxy NAME (or a [stacks.NAME] entry in the config)", names.len(), names.join(", "))]
    Ambiguous { region: String, names: Vec<String> },
    #[error("cannot list RDS Proxies: {0}")]
    Api(String),
}

/// What phase one found: the centre of the stack and the ids the kinds need.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Located {
    pub region: String,
    pub source: String,
    pub proxy: Option<String>,
    pub proxy_arn: Option<String>,
    pub proxy_endpoint: Option<String>,
    pub vpc_id: Option<String>,
    pub proxy_subnets: Vec<String>,
    pub proxy_sgs: Vec<String>,
    pub instances: Vec<String>,
    pub instance_sgs: Vec<String>,
    pub instance_subnets: Vec<String>,
    /// Secret ARNs the proxy auth block or the instance refer to, with who uses them.
    pub secrets: BTreeMap<String, String>,
    /// Every proxy in the region (for the palette and `Ambiguous`).
    pub all_proxies: Vec<String>,
    pub parameter_prefix: String,
}

/// Everything `rdsdeck list` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub stack: Located,
    pub profile: String,
    pub endpoint: Option<String>,
    pub identity: Result<Identity, String>,
    pub kinds: BTreeMap<Kind, KindResult>,
}

fn ts(d: Option<&DateTime>) -> String {
    d.and_then(|d| d.fmt(Format::DateTime).ok()).unwrap_or_default()
}

fn s(o: Option<&str>) -> String {
    o.unwrap_or_default().to_string()
}

/// Phase one. Errors only when there is no stack to show.
pub async fn locate(ctx: &AwsContext, anchor: &Anchor, parameter_prefix: &str) -> Result<Located, DiscoverError> {
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let region = ctx.region.clone();
    let mut loc = Located {
        region: region.clone(),
        source: if anchor.source.is_empty() { "discovered".into() } else { anchor.source.clone() },
        parameter_prefix: parameter_prefix.to_string(),
        vpc_id: anchor.vpc_id.clone(),
        ..Located::default()
    };
    let proxies: Vec<aws_sdk_rds::types::DbProxy> = rds
        .describe_db_proxies()
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| DiscoverError::Api(explain(&e)))?;
    loc.all_proxies = proxies.iter().filter_map(|p| p.db_proxy_name().map(str::to_string)).collect();

    let mut chosen = None;
    if let Some(name) = &anchor.proxy {
        chosen = Some(proxies.iter().find(|p| p.db_proxy_name() == Some(name)).ok_or_else(|| {
            DiscoverError::ProxyNotFound {
                name: name.clone(),
                region: region.clone(),
                found: if loc.all_proxies.is_empty() {
                    String::new()
                } else {
                    format!(" (found: {})", loc.all_proxies.join(", "))
                },
            }
        })?);
    } else if let Some(inst) = &anchor.instance {
        // The proxy whose targets include the instance, if any.
        for p in &proxies {
            let name = p.db_proxy_name().unwrap_or_default();
            if proxy_instance_ids(&rds, name).await.unwrap_or_default().iter().any(|i| i == inst) {
                chosen = Some(p);
                break;
            }
        }
    } else {
        match proxies.len() {
            0 => {
                return Err(DiscoverError::NoProxy {
                    region,
                    hint: ": pick the region of your stack (--region), or name the stack in the config".into(),
                });
            }
            1 => chosen = proxies.first(),
            _ => return Err(DiscoverError::Ambiguous { region, names: loc.all_proxies.clone() }),
        }
    }
    if let Some(p) = chosen {
        loc.proxy = p.db_proxy_name().map(str::to_string);
        loc.proxy_arn = p.db_proxy_arn().map(str::to_string);
        loc.proxy_endpoint = p.endpoint().map(str::to_string);
        loc.vpc_id = p.vpc_id().map(str::to_string).or(loc.vpc_id);
        loc.proxy_subnets = p.vpc_subnet_ids().to_vec();
        loc.proxy_sgs = p.vpc_security_group_ids().to_vec();
        for a in p.auth() {
            if let Some(arn) = a.secret_arn() {
                loc.secrets.insert(arn.to_string(), "proxy auth".into());
            }
        }
        loc.instances = proxy_instance_ids(&rds, loc.proxy.as_deref().unwrap_or_default()).await.unwrap_or_default();
    }
    if let Some(i) = &anchor.instance
        && !loc.instances.contains(i)
    {
        loc.instances.push(i.clone());
    }
    // The instances' own facts: subnets, security groups, master secret.
    let mut found_any = false;
    for id in loc.instances.clone() {
        if let Ok(out) = rds.describe_db_instances().db_instance_identifier(&id).send().await {
            for db in out.db_instances() {
                found_any = true;
                loc.instance_sgs.extend(db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)));
                if let Some(g) = db.db_subnet_group() {
                    loc.vpc_id = loc.vpc_id.clone().or(g.vpc_id().map(str::to_string));
                    loc.instance_subnets.extend(g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)));
                }
                if let Some(sec) = db.master_user_secret().and_then(|m| m.secret_arn()) {
                    let who = loc.secrets.get(sec).map(|w| format!("{w}, db master")).unwrap_or("db master".into());
                    loc.secrets.insert(sec.to_string(), who);
                }
            }
        }
    }
    if loc.proxy.is_none() && !found_any {
        if let Some(name) = &anchor.instance {
            return Err(DiscoverError::InstanceNotFound { name: name.clone(), region });
        }
    }
    Ok(loc)
}

async fn proxy_instance_ids(rds: &aws_sdk_rds::Client, proxy: &str) -> Result<Vec<String>, String> {
    let out = rds.describe_db_proxy_targets().db_proxy_name(proxy).send().await.map_err(|e| explain(&e))?;
    Ok(out
        .targets()
        .iter()
        .filter(|t| t.r#type().map(|t| t.as_str() != "TRACKED_CLUSTER").unwrap_or(true))
        .filter_map(|t| t.rds_resource_id().map(str::to_string))
        .collect())
}

/// The whole snapshot: identity and every kind, concurrently.
pub async fn snapshot(ctx: &AwsContext, loc: &Located, kinds: &[Kind]) -> Snapshot {
    let identity = ctx.identity();
    let fetches = join_all(kinds.iter().map(|k| async move { (*k, fetch_kind(ctx, loc, *k).await.0) }));
    let (identity, results) = tokio::join!(identity, fetches);
    Snapshot {
        stack: loc.clone(),
        profile: ctx.profile.clone(),
        endpoint: ctx.endpoint.clone(),
        identity,
        kinds: results.into_iter().collect(),
    }
}

/// Loads one kind, with a time limit; returns the result and how long it took.
pub async fn fetch_kind(ctx: &AwsContext, loc: &Located, kind: Kind) -> (KindResult, Duration) {
    let start = Instant::now();
    let limit = ctx.timeout * 3;
    let res = match tokio::time::timeout(limit, fetch_inner(ctx, loc, kind)).await {
        Ok(Ok(items)) => KindResult::Ok { items },
        Ok(Err(e)) => KindResult::Error { error: e },
        Err(_) => KindResult::Error { error: format!("timed out after {}s", limit.as_secs()) },
    };
    (res, start.elapsed())
}

type R = Result<Vec<Resource>, String>;

async fn fetch_inner(ctx: &AwsContext, loc: &Located, kind: Kind) -> R {
    match kind {
        Kind::Proxy => proxies(ctx, loc).await,
        Kind::TargetGroup => target_groups(ctx, loc).await,
        Kind::Target => targets(ctx, loc).await,
        Kind::Instance => instances(ctx, loc).await,
        Kind::Host => hosts(ctx, loc).await,
        Kind::SecurityGroup => security_groups(ctx, loc).await,
        Kind::Subnet => subnets(ctx, loc).await,
        Kind::Vpc => vpcs(ctx, loc).await,
        Kind::Parameter => parameters(ctx, loc).await,
        Kind::Secret => secrets(ctx, loc).await,
        Kind::LoadBalancer => load_balancers(ctx, loc).await,
        Kind::Repository => repositories(ctx).await,
        Kind::Bucket => buckets(ctx, loc).await,
    }
}

fn ec2(ctx: &AwsContext) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&ctx.sdk)
}

fn vpc_filter(loc: &Located) -> Result<aws_sdk_ec2::types::Filter, String> {
    let vpc = loc.vpc_id.clone().ok_or("the stack's VPC is unknown (no proxy or instance found)")?;
    Ok(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc).build())
}

fn ec2_name(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value().map(str::to_string))
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Value {
    Value::Object(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_string(), Value::from(t.value().unwrap_or_default()))))
            .collect(),
    )
}

async fn proxies(ctx: &AwsContext, loc: &Located) -> R {
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let out = rds.describe_db_proxies().send().await.map_err(|e| explain(&e))?;
    Ok(out
        .db_proxies()
        .iter()
        .map(|p| {
            let status = p.status().map(|s| s.as_str().to_string()).unwrap_or_default();
            let health = match status.as_str() {
                "available" => Health::Ok,
                "creating" | "modifying" | "reactivating" => Health::Warn,
                _ => Health::Bad,
            };
            let auth: Vec<Value> = p
                .auth()
                .iter()
                .map(|a| {
                    json!({
                        "auth_scheme": a.auth_scheme().map(|x| x.as_str()),
                        "iam_auth": a.iam_auth().map(|x| x.as_str()),
                        "secret_arn": a.secret_arn(),
                        "client_password_auth_type": a.client_password_auth_type().map(|x| x.as_str()),
                        "user_name": a.user_name(),
                    })
                })
                .collect();
            let iam = p
                .auth()
                .iter()
                .filter_map(|a| a.iam_auth().map(|x| x.as_str().to_string()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(",");
            let scheme = p
                .default_auth_scheme()
                .map(str::to_string)
                .or_else(|| p.auth().first().and_then(|a| a.auth_scheme()).map(|x| x.as_str().to_string()))
                .unwrap_or_default();
            let name = s(p.db_proxy_name());
            let tls = match p.require_tls() {
                Some(true) => "required",
                Some(false) => "optional",
                None => "?",
            };
            let in_stack = loc.proxy.as_deref() == Some(name.as_str());
            Resource::new(Kind::Proxy, s(p.db_proxy_arn()), name.clone())
                .health(health)
                .cells([
                    if in_stack { format!("{name} *") } else { name.clone() },
                    status.clone(),
                    s(p.engine_family()),
                    tls.to_string(),
                    iam.clone(),
                    scheme.clone(),
                    s(p.endpoint()),
                ])
                .attr("status", status)
                .attr("in_stack", in_stack)
                .attr("engine_family", s(p.engine_family()))
                .attr("endpoint", s(p.endpoint()))
                .attr("require_tls", p.require_tls())
                .attr("default_auth_scheme", p.default_auth_scheme())
                .attr("iam_auth", iam)
                .attr("auth", auth)
                .attr("vpc_id", s(p.vpc_id()))
                .attr("subnet_ids", p.vpc_subnet_ids().to_vec())
                .attr("security_group_ids", p.vpc_security_group_ids().to_vec())
                .attr("role_arn", s(p.role_arn()))
                .attr("idle_client_timeout", p.idle_client_timeout())
                .attr("debug_logging", p.debug_logging())
                .attr("created", ts(p.created_date()))
                .raw(p)
        })
        .collect())
}

fn need_proxy(loc: &Located) -> Result<&str, String> {
    loc.proxy.as_deref().ok_or_else(|| "the stack has no RDS Proxy".to_string())
}

async fn target_groups(ctx: &AwsContext, loc: &Located) -> R {
    let proxy = need_proxy(loc)?;
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let out = rds.describe_db_proxy_target_groups().db_proxy_name(proxy).send().await.map_err(|e| explain(&e))?;
    Ok(out
        .target_groups()
        .iter()
        .map(|g| {
            let pool = g.connection_pool_config();
            let num = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
            let status = s(g.status());
            Resource::new(Kind::TargetGroup, s(g.target_group_arn()), s(g.target_group_name()))
                .health(if status == "available" { Health::Ok } else { Health::Warn })
                .cells([
                    s(g.target_group_name()),
                    s(g.db_proxy_name()),
                    status.clone(),
                    if g.is_default().unwrap_or(false) { "yes".into() } else { "no".into() },
                    num(pool.and_then(|p| p.max_connections_percent())),
                    num(pool.and_then(|p| p.max_idle_connections_percent())),
                    num(pool.and_then(|p| p.connection_borrow_timeout())),
                ])
                .attr("proxy", s(g.db_proxy_name()))
                .attr("status", status)
                .attr("is_default", g.is_default())
                .attr("max_connections_percent", pool.and_then(|p| p.max_connections_percent()))
                .attr("max_idle_connections_percent", pool.and_then(|p| p.max_idle_connections_percent()))
                .attr("connection_borrow_timeout", pool.and_then(|p| p.connection_borrow_timeout()))
                .attr("session_pinning_filters", pool.map(|p| p.session_pinning_filters().to_vec()).unwrap_or_default())
                .attr("init_query", pool.and_then(|p| p.init_query()))
                .raw(g)
        })
        .collect())
}

async fn targets(ctx: &AwsContext, loc: &Located) -> R {
    let proxy = need_proxy(loc)?;
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let out = rds.describe_db_proxy_targets().db_proxy_name(proxy).send().await.map_err(|e| explain(&e))?;
    Ok(out
        .targets()
        .iter()
        .map(|t| {
            let th = t.target_health();
            let state = th.and_then(|h| h.state()).map(|x| x.as_str().to_string()).unwrap_or_default();
            let reason = th.and_then(|h| h.reason()).map(|x| x.as_str().to_string()).unwrap_or_default();
            let health = match state.as_str() {
                "AVAILABLE" => Health::Ok,
                "REGISTERING" | "UNUSED" => Health::Warn,
                "" => Health::Unknown,
                _ => Health::Bad,
            };
            let resource = s(t.rds_resource_id());
            Resource::new(Kind::Target, t.target_arn().map(str::to_string).unwrap_or(resource.clone()), resource.clone())
                .health(health)
                .cells([
                    resource.clone(),
                    t.r#type().map(|x| x.as_str().to_string()).unwrap_or_default(),
                    t.role().map(|x| x.as_str().to_string()).unwrap_or_default(),
                    state.clone(),
                    reason.clone(),
                    s(t.endpoint()),
                    t.port().map(|p| p.to_string()).unwrap_or_default(),
                ])
                .attr("proxy", proxy)
                .attr("rds_resource_id", resource)
                .attr("type", t.r#type().map(|x| x.as_str()))
                .attr("role", t.role().map(|x| x.as_str()))
                .attr("health_state", state)
                .attr("health_reason", reason)
                .attr("health_description", th.and_then(|h| h.description()))
                .attr("endpoint", t.endpoint())
                .attr("port", t.port())
                .raw(t)
        })
        .collect())
}

async fn instances(ctx: &AwsContext, loc: &Located) -> R {
    if loc.instances.is_empty() {
        return Ok(Vec::new());
    }
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let mut res = Vec::new();
    let mut errors = Vec::new();
    for id in &loc.instances {
        let out = match rds.describe_db_instances().db_instance_identifier(id).send().await {
            Ok(o) => o,
            Err(e) => {
                errors.push(format!("{id}: {}", explain(&e)));
                continue;
            }
        };
        for db in out.db_instances() {
            let status = s(db.db_instance_status());
            let iam = db.iam_database_authentication_enabled().unwrap_or(false);
            let health = match (status.as_str(), iam) {
                ("available", true) => Health::Ok,
                ("available", false) => Health::Bad,
                ("creating" | "modifying" | "backing-up" | "rebooting" | "upgrading" | "configuring-enhanced-monitoring", _) => Health::Warn,
                _ => Health::Bad,
            };
            let ep = db.endpoint();
            let endpoint = ep
                .map(|e| format!("{}:{}", e.address().unwrap_or_default(), e.port().unwrap_or_default()))
                .unwrap_or_default();
            let name = s(db.db_instance_identifier());
            let secret = db.master_user_secret();
            res.push(
                Resource::new(Kind::Instance, s(db.db_instance_arn()), name.clone())
                    .health(health)
                    .cells([
                        name,
                        status.clone(),
                        format!("{} {}", s(db.engine()), s(db.engine_version())),
                        s(db.db_instance_class()),
                        if iam { "enabled".into() } else { "DISABLED".to_string() },
                        endpoint.clone(),
                        s(db.ca_certificate_identifier()),
                    ])
                    .attr("status", status)
                    .attr("engine", s(db.engine()))
                    .attr("engine_version", s(db.engine_version()))
                    .attr("class", s(db.db_instance_class()))
                    .attr("iam_auth", iam)
                    .attr("endpoint_address", ep.and_then(|e| e.address()))
                    .attr("endpoint_port", ep.and_then(|e| e.port()))
                    .attr("db_name", db.db_name())
                    .attr("master_username", db.master_username())
                    .attr("master_secret_arn", secret.and_then(|m| m.secret_arn()))
                    .attr("master_secret_status", secret.and_then(|m| m.secret_status()))
                    .attr("ca_certificate", db.ca_certificate_identifier())
                    .attr("publicly_accessible", db.publicly_accessible())
                    .attr("multi_az", db.multi_az())
                    .attr("storage_encrypted", db.storage_encrypted())
                    .attr("dbi_resource_id", db.dbi_resource_id())
                    .attr("cloudwatch_logs", db.enabled_cloudwatch_logs_exports().to_vec())
                    .attr(
                        "security_group_ids",
                        db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect::<Vec<_>>(),
                    )
                    .raw(db),
            );
        }
    }
    if res.is_empty() && !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(res)
}

async fn ssm_status(ctx: &AwsContext) -> Result<BTreeMap<String, (String, String)>, String> {
    let ssm = aws_sdk_ssm::Client::new(&ctx.sdk);
    let out = ssm.describe_instance_information().send().await.map_err(|e| explain(&e))?;
    Ok(out
        .instance_information_list()
        .iter()
        .filter_map(|i| {
            Some((
                i.instance_id()?.to_string(),
                (i.ping_status().map(|p| p.as_str().to_string()).unwrap_or_default(), s(i.agent_version())),
            ))
        })
        .collect())
}

/// Active Session Manager sessions by target (DescribeSessions).
async fn active_sessions(ctx: &AwsContext) -> Result<BTreeMap<String, Vec<Value>>, String> {
    let ssm = aws_sdk_ssm::Client::new(&ctx.sdk);
    let out = ssm
        .describe_sessions()
        .state(aws_sdk_ssm::types::SessionState::Active)
        .send()
        .await
        .map_err(|e| explain(&e))?;
    let mut by_target: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for x in out.sessions() {
        by_target.entry(s(x.target())).or_default().push(serde_json::json!({
            "session_id": x.session_id(),
            "document": x.document_name(),
            "status": x.status().map(|v| v.as_str().to_string()),
            "started": x.start_date().map(|d| d.to_string()),
            "owner": x.owner(),
        }));
    }
    Ok(by_target)
}

async fn hosts(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let (out, ssm, sessions) = tokio::join!(ec2(ctx).describe_instances().filters(filter).send(), ssm_status(ctx), active_sessions(ctx));
    let out = out.map_err(|e| explain(&e))?;
    let mut res = Vec::new();
    for i in out.reservations().iter().flat_map(|r| r.instances()) {
        let id = s(i.instance_id());
        let state = i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default();
        let (ping, agent) = match &ssm {
            Ok(m) => m.get(&id).cloned().unwrap_or(("not registered".into(), String::new())),
            Err(_) => ("unknown".into(), String::new()),
        };
        let health = match state.as_str() {
            "running" if ping == "Online" || ping == "unknown" => Health::Ok,
            "running" => Health::Warn,
            "pending" | "stopping" => Health::Warn,
            _ => Health::Bad,
        };
        let profile = i.iam_instance_profile().and_then(|p| p.arn()).and_then(|a| a.rsplit('/').next()).unwrap_or_default();
        let name = ec2_name(i.tags()).unwrap_or_else(|| id.clone());
        let open: Vec<Value> = sessions.as_ref().ok().and_then(|m| m.get(&id).cloned()).unwrap_or_default();
        let ssm_cell = match open.len() {
            0 => ping.clone(),
            1 => format!("{ping} · 1 session"),
            n => format!("{ping} · {n} sessions"),
        };
        res.push(
            Resource::new(Kind::Host, id.clone(), name.clone())
                .health(health)
                .cells([
                    name,
                    id.clone(),
                    state.clone(),
                    ssm_cell,
                    i.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    s(i.private_ip_address()),
                    profile.to_string(),
                ])
                .attr("state", state)
                .attr("ssm_ping_status", ping)
                .attr("ssm_agent_version", agent)
                .attr("ssm_error", ssm.as_ref().err().cloned())
                .attr("ssm_sessions", open)
                .attr("ssm_sessions_error", sessions.as_ref().err().cloned())
                .attr("instance_type", i.instance_type().map(|t| t.as_str()))
                .attr("private_ip", i.private_ip_address())
                .attr("subnet_id", i.subnet_id())
                .attr("image_id", i.image_id())
                .attr("instance_profile", profile)
                .attr("security_group_ids", i.security_groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>())
                .attr("tags", ec2_tags(i.tags()))
                .raw(i),
        );
    }
    Ok(res)
}

fn port_covers(p: &aws_sdk_ec2::types::IpPermission, port: i32) -> bool {
    p.ip_protocol() == Some("-1") || (p.from_port().unwrap_or(0) <= port && port <= p.to_port().unwrap_or(65535))
}

fn rule_text(p: &aws_sdk_ec2::types::IpPermission, names: &BTreeMap<String, String>) -> Vec<String> {
    let proto = match p.ip_protocol() {
        Some("-1") => "all".to_string(),
        other => other.unwrap_or_default().to_string(),
    };
    let ports = match (p.from_port(), p.to_port()) {
        (Some(a), Some(b)) if a == b => format!("{a}"),
        (Some(a), Some(b)) if a >= 0 => format!("{a}-{b}"),
        _ => "all".into(),
    };
    let mut out: Vec<String> = p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).map(|c| format!("{proto}/{ports} {c}")).collect();
    out.extend(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()).map(|c| format!("{proto}/{ports} {c}")));
    out.extend(p.user_id_group_pairs().iter().filter_map(|g| g.group_id()).map(|g| {
        format!("{proto}/{ports} {}", names.get(g).cloned().unwrap_or_else(|| g.to_string()))
    }));
    out
}

async fn security_groups(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let client = ec2(ctx);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&ctx.sdk);
    let (sgs, hosts, lbs) = tokio::join!(
        client.describe_security_groups().filters(filter.clone()).send(),
        client.describe_instances().filters(filter).send(),
        elb.describe_load_balancers().send()
    );
    let sgs = sgs.map_err(|e| explain(&e))?;
    let mut roles: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for g in &loc.proxy_sgs {
        roles.entry(g.clone()).or_default().insert("proxy");
    }
    for g in &loc.instance_sgs {
        roles.entry(g.clone()).or_default().insert("db");
    }
    if let Ok(h) = &hosts {
        for i in h.reservations().iter().flat_map(|r| r.instances()) {
            for g in i.security_groups().iter().filter_map(|g| g.group_id()) {
                roles.entry(g.to_string()).or_default().insert("host");
            }
        }
    }
    if let Ok(l) = &lbs {
        for lb in l.load_balancers().iter().filter(|lb| lb.vpc_id() == loc.vpc_id.as_deref()) {
            for g in lb.security_groups() {
                roles.entry(g.clone()).or_default().insert("alb");
            }
        }
    }
    let names: BTreeMap<String, String> = sgs
        .security_groups()
        .iter()
        .filter_map(|g| Some((g.group_id()?.to_string(), g.group_name()?.to_string())))
        .collect();
    Ok(sgs
        .security_groups()
        .iter()
        .map(|g| {
            let id = s(g.group_id());
            let ingress: Vec<String> = g.ip_permissions().iter().flat_map(|p| rule_text(p, &names)).collect();
            let egress: Vec<String> = g.ip_permissions_egress().iter().flat_map(|p| rule_text(p, &names)).collect();
            let from_3306: Vec<String> = g
                .ip_permissions()
                .iter()
                .filter(|p| port_covers(p, 3306))
                .flat_map(|p| {
                    let mut v: Vec<String> = p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)).collect();
                    v.extend(p.user_id_group_pairs().iter().filter_map(|u| u.group_id()).map(|g| names.get(g).cloned().unwrap_or(g.to_string())));
                    v
                })
                .collect();
            let role: Vec<&str> = roles.get(&id).map(|r| r.iter().copied().collect()).unwrap_or_default();
            let from_3306_ids: Vec<String> = g
                .ip_permissions()
                .iter()
                .filter(|p| port_covers(p, 3306))
                .flat_map(|p| p.user_id_group_pairs().iter().filter_map(|u| u.group_id().map(str::to_string)))
                .collect();
            let name = s(g.group_name());
            Resource::new(Kind::SecurityGroup, id.clone(), name.clone())
                .health(Health::Ok)
                .cells([
                    name,
                    id.clone(),
                    role.join(","),
                    from_3306.join(", "),
                    ingress.len().to_string(),
                    egress.len().to_string(),
                ])
                .attr("description", g.description())
                .attr("roles", role)
                .attr("ingress", ingress)
                .attr("egress", egress)
                .attr("mysql_ingress_from", from_3306)
                .attr("mysql_ingress_from_ids", from_3306_ids)
                .attr("tags", ec2_tags(g.tags()))
                .raw(g)
        })
        .collect())
}

async fn subnets(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let out = ec2(ctx).describe_subnets().filters(filter).send().await.map_err(|e| explain(&e))?;
    let mut v: Vec<Resource> = out
        .subnets()
        .iter()
        .map(|sn| {
            let id = s(sn.subnet_id());
            let name = ec2_name(sn.tags()).unwrap_or_else(|| id.clone());
            let tier = if name.contains("private") {
                "private"
            } else if name.contains("public") || sn.map_public_ip_on_launch() == Some(true) {
                "public"
            } else {
                "private"
            };
            let mut used = Vec::new();
            if loc.proxy_subnets.contains(&id) {
                used.push("proxy");
            }
            if loc.instance_subnets.contains(&id) {
                used.push("db");
            }
            Resource::new(Kind::Subnet, id.clone(), name.clone())
                .health(Health::Ok)
                .cells([name, id.clone(), s(sn.cidr_block()), s(sn.availability_zone()), tier.into(), used.join(",")])
                .attr("cidr", sn.cidr_block())
                .attr("availability_zone", sn.availability_zone())
                .attr("tier", tier)
                .attr("used_by", used)
                .attr("map_public_ip_on_launch", sn.map_public_ip_on_launch())
                .attr("tags", ec2_tags(sn.tags()))
                .raw(sn)
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

async fn vpcs(ctx: &AwsContext, loc: &Located) -> R {
    let vpc_id = loc.vpc_id.clone().ok_or("the stack's VPC is unknown")?;
    let client = ec2(ctx);
    let (out, dns) = tokio::join!(
        client.describe_vpcs().vpc_ids(&vpc_id).send(),
        client
            .describe_vpc_attribute()
            .vpc_id(&vpc_id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send()
    );
    let out = out.map_err(|e| explain(&e))?;
    let dns = dns.ok().and_then(|d| d.enable_dns_hostnames().and_then(|v| v.value()));
    Ok(out
        .vpcs()
        .iter()
        .map(|v| {
            let id = s(v.vpc_id());
            let name = ec2_name(v.tags()).unwrap_or_else(|| id.clone());
            Resource::new(Kind::Vpc, id.clone(), name.clone())
                .health(Health::Ok)
                .cells([
                    name,
                    id,
                    s(v.cidr_block()),
                    v.state().map(|x| x.as_str().to_string()).unwrap_or_default(),
                    match dns {
                        Some(true) => "on".into(),
                        Some(false) => "off".into(),
                        None => "?".into(),
                    },
                ])
                .attr("cidr", v.cidr_block())
                .attr("state", v.state().map(|x| x.as_str()))
                .attr("dns_hostnames", dns)
                .attr("is_default", v.is_default())
                .attr("tags", ec2_tags(v.tags()))
                .raw(v)
        })
        .collect())
}

fn param_resource(p: &aws_sdk_ssm::types::Parameter, why: &str) -> Resource {
    let ty = p.r#type().map(|t| t.as_str().to_string()).unwrap_or_default();
    let secure = ty == "SecureString";
    let value = if secure { "•••••• (SecureString)".to_string() } else { s(p.value()) };
    let name = s(p.name());
    Resource::new(Kind::Parameter, p.arn().map(str::to_string).unwrap_or(name.clone()), name.clone())
        .health(Health::Ok)
        .cells([name, ty.clone(), value.clone(), p.version().to_string(), why.to_string()])
        .attr("type", ty)
        .attr("value", if secure { Value::Null } else { Value::from(value) })
        .attr("version", p.version())
        .attr("last_modified", ts(p.last_modified_date()))
        .attr("why", why)
        .raw(p)
}

async fn parameters(ctx: &AwsContext, loc: &Located) -> R {
    let ssm = aws_sdk_ssm::Client::new(&ctx.sdk);
    let mut res: Vec<Resource> = Vec::new();
    let mut pages = ssm
        .get_parameters_by_path()
        .path(&loc.parameter_prefix)
        .recursive(true)
        .with_decryption(false)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain(&e))?;
        res.extend(page.parameters().iter().map(|p| param_resource(p, "prefix")));
    }
    // Parameters elsewhere whose value names the proxy (bounded: 5 pages of 50).
    let needles: Vec<&str> = loc.proxy_endpoint.iter().chain(loc.proxy.iter()).map(String::as_str).collect();
    if !needles.is_empty() {
        let mut others = Vec::new();
        let mut pages = ssm.describe_parameters().max_results(50).into_paginator().page_size(50).send();
        let mut n = 0;
        while let Some(Ok(page)) = pages.next().await {
            others.extend(
                page.parameters()
                    .iter()
                    .filter(|m| m.r#type().map(|t| t.as_str()) != Some("SecureString"))
                    .filter_map(|m| m.name().map(str::to_string))
                    .filter(|name| !name.starts_with(&loc.parameter_prefix)),
            );
            n += 1;
            if n >= 5 {
                break;
            }
        }
        for chunk in others.chunks(10) {
            if let Ok(out) = ssm.get_parameters().set_names(Some(chunk.to_vec())).send().await {
                res.extend(
                    out.parameters()
                        .iter()
                        .filter(|p| needles.iter().any(|n| p.value().unwrap_or_default().contains(n)))
                        .map(|p| param_resource(p, "references proxy")),
                );
            }
        }
    }
    res.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(res)
}

async fn secrets(ctx: &AwsContext, loc: &Located) -> R {
    let sm = aws_sdk_secretsmanager::Client::new(&ctx.sdk);
    let mut res = Vec::new();
    let mut pages = sm.list_secrets().into_paginator().send();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain(&e))?;
        for e in page.secret_list() {
            let arn = s(e.arn());
            let used = loc.secrets.get(&arn).cloned().or_else(|| {
                // Referenced by name (the ARN's 6-char suffix differs) or owned by the stack's instance.
                loc.secrets.iter().find(|(a, _)| a.starts_with(&arn) || arn.starts_with(a.as_str())).map(|(_, w)| w.clone())
            });
            let Some(used) = used else { continue };
            let name = s(e.name());
            res.push(
                Resource::new(Kind::Secret, arn.clone(), name.clone())
                    .health(Health::Ok)
                    .cells([
                        name,
                        used.clone(),
                        if e.rotation_enabled().unwrap_or(false) { "on".into() } else { "off".into() },
                        ts(e.last_changed_date()),
                        arn.clone(),
                    ])
                    .attr("arn", arn)
                    .attr("used_by", used)
                    .attr("rotation_enabled", e.rotation_enabled())
                    .attr("owning_service", e.owning_service())
                    .attr("last_changed", ts(e.last_changed_date()))
                    .attr("description", e.description())
                    .raw(e),
            );
        }
        n += 1;
        if n >= 10 {
            break;
        }
    }
    Ok(res)
}

async fn load_balancers(ctx: &AwsContext, loc: &Located) -> R {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&ctx.sdk);
    let out = elb.describe_load_balancers().send().await.map_err(|e| explain(&e))?;
    let mut res = Vec::new();
    for lb in out.load_balancers().iter().filter(|lb| loc.vpc_id.is_none() || lb.vpc_id() == loc.vpc_id.as_deref()) {
        let arn = s(lb.load_balancer_arn());
        let tgs = elb.describe_target_groups().load_balancer_arn(&arn).send().await.map_err(|e| explain(&e))?;
        let mut targets = Vec::new();
        let mut states = Vec::new();
        for tg in tgs.target_groups() {
            let th = elb
                .describe_target_health()
                .target_group_arn(s(tg.target_group_arn()))
                .send()
                .await
                .map_err(|e| explain(&e))?;
            for d in th.target_health_descriptions() {
                let state = d.target_health().and_then(|h| h.state()).map(|x| x.as_str().to_string()).unwrap_or_default();
                states.push(state.clone());
                targets.push(json!({
                    "target_group": tg.target_group_name(),
                    "target": d.target().and_then(|t| t.id()),
                    "port": d.target().and_then(|t| t.port()),
                    "state": state,
                    "reason": d.target_health().and_then(|h| h.reason()).map(|x| x.as_str()),
                    "description": d.target_health().and_then(|h| h.description()),
                }));
            }
        }
        let healthy = states.iter().filter(|s| *s == "healthy").count();
        let lb_state = lb.state().and_then(|s| s.code()).map(|c| c.as_str().to_string()).unwrap_or_default();
        let health = if lb_state != "active" && !lb_state.is_empty() {
            Health::Warn
        } else if states.is_empty() {
            Health::Unknown
        } else if healthy == states.len() {
            Health::Ok
        } else if healthy == 0 && states.iter().all(|s| s == "unhealthy") {
            Health::Bad
        } else {
            Health::Warn
        };
        let summary = {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for s in &states {
                *counts.entry(s.as_str()).or_default() += 1;
            }
            counts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        };
        let attrs = elb.describe_load_balancer_attributes().load_balancer_arn(&arn).send().await.ok();
        let logs_bucket = attrs.as_ref().and_then(|a| {
            a.attributes().iter().find(|x| x.key() == Some("access_logs.s3.bucket")).and_then(|x| x.value()).map(str::to_string)
        });
        let name = s(lb.load_balancer_name());
        res.push(
            Resource::new(Kind::LoadBalancer, arn, name.clone())
                .health(health)
                .cells([
                    name,
                    lb_state.clone(),
                    lb.scheme().map(|x| x.as_str().to_string()).unwrap_or_default(),
                    states.len().to_string(),
                    summary.clone(),
                    s(lb.dns_name()),
                ])
                .attr("state", lb_state)
                .attr("type", lb.r#type().map(|x| x.as_str()))
                .attr("scheme", lb.scheme().map(|x| x.as_str()))
                .attr("dns_name", lb.dns_name())
                .attr("security_group_ids", lb.security_groups().to_vec())
                .attr("target_health", targets)
                .attr("target_health_summary", summary)
                .attr("access_logs_bucket", logs_bucket)
                .raw(lb),
        );
    }
    Ok(res)
}

async fn repositories(ctx: &AwsContext) -> R {
    let ecr = aws_sdk_ecr::Client::new(&ctx.sdk);
    let out = ecr.describe_repositories().send().await.map_err(|e| explain(&e))?;
    Ok(out
        .repositories()
        .iter()
        .map(|r| {
            let scan = r.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false);
            let name = s(r.repository_name());
            Resource::new(Kind::Repository, s(r.repository_arn()), name.clone())
                .health(Health::Ok)
                .cells([
                    name,
                    s(r.repository_uri()),
                    if scan { "on".into() } else { "off".into() },
                    r.image_tag_mutability().map(|m| m.as_str().to_string()).unwrap_or_default(),
                ])
                .attr("uri", r.repository_uri())
                .attr("scan_on_push", scan)
                .attr("tag_mutability", r.image_tag_mutability().map(|m| m.as_str()))
                .attr("created", ts(r.created_at()))
                .raw(r)
        })
        .collect())
}

async fn buckets(ctx: &AwsContext, loc: &Located) -> R {
    let mut conf = aws_sdk_s3::config::Builder::from(&ctx.sdk);
    if ctx.endpoint.is_some() {
        conf = conf.force_path_style(true);
    }
    let s3 = aws_sdk_s3::Client::from_conf(conf.build());
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&ctx.sdk);
    let (out, lbs) = tokio::join!(s3.list_buckets().send(), elb.describe_load_balancers().send());
    let out = out.map_err(|e| explain(&e))?;
    // Buckets the stack's ALBs log to.
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(lbs) = lbs {
        for lb in lbs.load_balancers().iter().filter(|lb| loc.vpc_id.is_none() || lb.vpc_id() == loc.vpc_id.as_deref()) {
            if let Ok(a) = elb.describe_load_balancer_attributes().load_balancer_arn(s(lb.load_balancer_arn())).send().await
                && let Some(b) = a.attributes().iter().find(|x| x.key() == Some("access_logs.s3.bucket")).and_then(|x| x.value())
                && !b.is_empty()
            {
                used.insert(b.to_string(), format!("{} access logs", s(lb.load_balancer_name())));
            }
        }
    }
    Ok(out
        .buckets()
        .iter()
        .map(|b| {
            let name = s(b.name());
            let u = used.get(&name).cloned().unwrap_or_default();
            Resource::new(Kind::Bucket, format!("arn:aws:s3:::{name}"), name.clone())
                .health(Health::Ok)
                .cells([name, ts(b.creation_date()), u.clone()])
                .attr("created", ts(b.creation_date()))
                .attr("used_by", u)
                .raw(b)
        })
        .collect())
}
