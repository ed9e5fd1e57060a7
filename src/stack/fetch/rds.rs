//! RDS: the proxy, its target group and targets, the DB instances.

use serde_json::{Value, json};
use std::collections::BTreeSet;

use super::{R, s, ts};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn proxies(ctx: &AwsContext, loc: &Located) -> R {
    let cap = Capture::default();
    let rds = client!(aws_sdk_rds, ctx, cap);
    let out = rds.describe_db_proxies().send().await.map_err(|e| explain(&e))?;
    let api = cap.items("rds", "DescribeDBProxies", &["DBProxies"]);
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
                .api(api.find("DBProxyName", &s(p.db_proxy_name())))
        })
        .collect())
}

fn need_proxy(loc: &Located) -> Result<&str, String> {
    loc.proxy.as_deref().ok_or_else(|| "the stack has no RDS Proxy".to_string())
}

pub(super) async fn target_groups(ctx: &AwsContext, loc: &Located) -> R {
    let proxy = need_proxy(loc)?;
    let cap = Capture::default();
    let rds = client!(aws_sdk_rds, ctx, cap);
    let out = rds.describe_db_proxy_target_groups().db_proxy_name(proxy).send().await.map_err(|e| explain(&e))?;
    let api = cap.items("rds", "DescribeDBProxyTargetGroups", &["TargetGroups"]);
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
                .api(api.find("TargetGroupName", &s(g.target_group_name())))
        })
        .collect())
}

pub(super) async fn targets(ctx: &AwsContext, loc: &Located) -> R {
    let proxy = need_proxy(loc)?;
    let cap = Capture::default();
    let rds = client!(aws_sdk_rds, ctx, cap);
    let out = rds.describe_db_proxy_targets().db_proxy_name(proxy).send().await.map_err(|e| explain(&e))?;
    let api = cap.items("rds", "DescribeDBProxyTargets", &["Targets"]);
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
            let object = api.find("RdsResourceId", &resource);
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
                .api(object)
        })
        .collect())
}

pub(super) async fn instances(ctx: &AwsContext, loc: &Located) -> R {
    if loc.instances.is_empty() {
        return Ok(Vec::new());
    }
    let cap = Capture::default();
    let rds = client!(aws_sdk_rds, ctx, cap);
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
                    ),
            );
        }
    }
    if res.is_empty() && !errors.is_empty() {
        return Err(errors.join("; "));
    }
    // Each instance as the API described it (every response read once; the name is its identifier).
    let api = cap.items("rds", "DescribeDBInstances", &["DBInstances"]);
    for r in &mut res {
        r.api = api.find("DBInstanceIdentifier", &r.name);
    }
    Ok(res)
}
