//! ECR: the app's image repositories.

use super::{R, s, ts};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn repositories(ctx: &AwsContext) -> R {
    let cap = Capture::default();
    let ecr = client!(aws_sdk_ecr, ctx, cap);
    let out = ecr.describe_repositories().send().await.map_err(|e| explain(&e))?;
    let api = cap.items("ecr", "DescribeRepositories", &["repositories"]);
    Ok(out
        .repositories()
        .iter()
        .map(|r| {
            let scan = r.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false);
            let name = s(r.repository_name());
            let object = api.find("repositoryName", &name);
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
                .api(object)
        })
        .collect())
}
