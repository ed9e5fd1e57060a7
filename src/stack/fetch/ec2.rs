//! EC2: the hosts (with their Session Manager status), security groups and the 3306 path, subnets, the VPC.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::{R, s};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};
use super::ssm::{active_sessions, ssm_status};

fn ec2(ctx: &AwsContext, cap: &Capture) -> aws_sdk_ec2::Client {
    client!(aws_sdk_ec2, ctx, cap)
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

pub(super) async fn hosts(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let cap = Capture::default();
    let (out, ssm, sessions) = tokio::join!(ec2(ctx, &cap).describe_instances().filters(filter).send(), ssm_status(ctx), active_sessions(ctx));
    let out = out.map_err(|e| explain(&e))?;
    let api = cap.items("ec2", "DescribeInstances", &["Reservations", "Instances"]);
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
                .attr("vpc_id", i.vpc_id())
                .attr("image_id", i.image_id())
                .attr("instance_profile", profile)
                .attr("security_group_ids", i.security_groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>())
                .attr("tags", ec2_tags(i.tags()))
                .api(api.find("InstanceId", &id)),
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

pub(super) async fn security_groups(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let cap = Capture::default();
    let client = ec2(ctx, &cap);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&ctx.sdk);
    let (sgs, hosts, lbs) = tokio::join!(
        client.describe_security_groups().filters(filter.clone()).send(),
        client.describe_instances().filters(filter).send(),
        elb.describe_load_balancers().send()
    );
    let sgs = sgs.map_err(|e| explain(&e))?;
    let api = cap.items("ec2", "DescribeSecurityGroups", &["SecurityGroups"]);
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
                .api(api.find("GroupId", &s(g.group_id())))
        })
        .collect())
}

pub(super) async fn subnets(ctx: &AwsContext, loc: &Located) -> R {
    let filter = vpc_filter(loc)?;
    let cap = Capture::default();
    let out = ec2(ctx, &cap).describe_subnets().filters(filter).send().await.map_err(|e| explain(&e))?;
    let api = cap.items("ec2", "DescribeSubnets", &["Subnets"]);
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
                .api(api.find("SubnetId", &id))
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

pub(super) async fn vpcs(ctx: &AwsContext, loc: &Located) -> R {
    let vpc_id = loc.vpc_id.clone().ok_or("the stack's VPC is unknown")?;
    let cap = Capture::default();
    let client = ec2(ctx, &cap);
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
    let api = cap.items("ec2", "DescribeVpcs", &["Vpcs"]);
    Ok(out
        .vpcs()
        .iter()
        .map(|v| {
            let id = s(v.vpc_id());
            let name = ec2_name(v.tags()).unwrap_or_else(|| id.clone());
            let object = api.find("VpcId", &id);
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
                .api(object)
        })
        .collect())
}
