//! Elastic Load Balancing: the app's load balancer and its targets' health.

use serde_json::json;
use std::collections::BTreeMap;

use super::{R, s};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn load_balancers(ctx: &AwsContext, loc: &Located) -> R {
    let cap = Capture::default();
    let elb = client!(aws_sdk_elasticloadbalancingv2, ctx, cap);
    let out = elb.describe_load_balancers().send().await.map_err(|e| explain(&e))?;
    let api = cap.items("elbv2", "DescribeLoadBalancers", &["LoadBalancers"]);
    let mut res = Vec::new();
    for lb in out.load_balancers().iter().filter(|lb| loc.vpc_id.is_none() || lb.vpc_id() == loc.vpc_id.as_deref()) {
        let arn = s(lb.load_balancer_arn());
        let object = api.find("LoadBalancerArn", &arn);
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
                .api(object),
        );
    }
    Ok(res)
}
