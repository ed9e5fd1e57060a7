//! S3: the stack's buckets.

use std::collections::BTreeMap;

use super::{R, s, ts};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn buckets(ctx: &AwsContext, loc: &Located) -> R {
    let mut conf = aws_sdk_s3::config::Builder::from(&ctx.sdk);
    if ctx.endpoint.is_some() {
        conf = conf.force_path_style(true);
    }
    let cap = Capture::default();
    let s3 = aws_sdk_s3::Client::from_conf(conf.interceptor(cap.clone()).build());
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&ctx.sdk);
    let (out, lbs) = tokio::join!(s3.list_buckets().send(), elb.describe_load_balancers().send());
    let out = out.map_err(|e| explain(&e))?;
    let api = cap.items("s3", "ListBuckets", &["Buckets"]);
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
            let object = api.find("Name", &name);
            let u = used.get(&name).cloned().unwrap_or_default();
            Resource::new(Kind::Bucket, format!("arn:aws:s3:::{name}"), name.clone())
                .health(Health::Ok)
                .cells([name, ts(b.creation_date()), u.clone()])
                .attr("created", ts(b.creation_date()))
                .attr("used_by", u)
                .api(object)
        })
        .collect())
}
