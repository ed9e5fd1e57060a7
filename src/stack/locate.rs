//! Phase one of discovery: find the RDS Proxy (or the DB instance) the stack
//! is centred on and what hangs off it (VPC, subnets, security groups, instances).

use serde::Serialize;
use std::collections::BTreeMap;

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
    } else if let Some(arn) = &anchor.proxy_arn {
        // Only the ARN is known: its last part is the proxy's resource id, so match the whole ARN.
        chosen = Some(proxies.iter().find(|p| p.db_proxy_arn() == Some(arn)).ok_or_else(|| DiscoverError::ProxyNotFound {
            name: arn.clone(),
            region: region.clone(),
            found: if loc.all_proxies.is_empty() { String::new() } else { format!(" (found: {})", loc.all_proxies.join(", ")) },
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
