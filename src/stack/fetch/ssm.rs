//! Systems Manager: the app's parameters, and which hosts the agent reports (with their open sessions).

use serde_json::Value;
use std::collections::BTreeMap;

use super::{R, s, ts};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn ssm_status(ctx: &AwsContext) -> Result<BTreeMap<String, (String, String)>, String> {
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
pub(super) async fn active_sessions(ctx: &AwsContext) -> Result<BTreeMap<String, Vec<Value>>, String> {
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
}

pub(super) async fn parameters(ctx: &AwsContext, loc: &Located) -> R {
    let cap = Capture::default();
    let ssm = client!(aws_sdk_ssm, ctx, cap);
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
    // Each parameter as the API described it (every page read once).
    let (by_path, named) = (cap.items("ssm", "GetParametersByPath", &["Parameters"]), cap.items("ssm", "GetParameters", &["Parameters"]));
    for r in &mut res {
        r.api = by_path.find("Name", &r.name).or_else(|| named.find("Name", &r.name)).map(|mut o| {
            // an encrypted value is not shown, even as the ciphertext the API returns without decryption
            if r.get_str("type") == Some("SecureString") && let Some(v) = o.get_mut("Value") {
                *v = Value::from("•••••• (SecureString)");
            }
            o
        });
    }
    res.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(res)
}
