//! Phase two of discovery: each kind loaded on its own, one file per AWS
//! service, so one failing API (or one missing permission) marks only its own pane.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures::future::join_all;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::locate::Located;
use super::model::{Identity, Kind, KindResult, Resource};
use crate::aws::AwsContext;

/// Everything `rdsdeck list` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub stack: Located,
    pub profile: String,
    pub endpoint: Option<String>,
    pub identity: Result<Identity, String>,
    pub kinds: BTreeMap<Kind, KindResult>,
}

/// A client of the SDK crate `$sdk` for `$ctx` whose responses `$cap` keeps (the resources' API
/// objects, [`crate::stack::api`]).
macro_rules! client {
    ($sdk:ident, $ctx:expr, $cap:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from(&$ctx.sdk).interceptor($cap.clone()).build())
    };
}

mod ec2;
mod ecr;
mod elb;
mod rds;
mod s3;
mod secrets;
mod ssm;

pub(crate) fn ts(d: Option<&DateTime>) -> String {
    d.and_then(|d| d.fmt(Format::DateTime).ok()).unwrap_or_default()
}

pub(crate) fn s(o: Option<&str>) -> String {
    o.unwrap_or_default().to_string()
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

pub(crate) type R = Result<Vec<Resource>, String>;

async fn fetch_inner(ctx: &AwsContext, loc: &Located, kind: Kind) -> R {
    match kind {
        Kind::Proxy => rds::proxies(ctx, loc).await,
        Kind::TargetGroup => rds::target_groups(ctx, loc).await,
        Kind::Target => rds::targets(ctx, loc).await,
        Kind::Instance => rds::instances(ctx, loc).await,
        Kind::Host => ec2::hosts(ctx, loc).await,
        Kind::SecurityGroup => ec2::security_groups(ctx, loc).await,
        Kind::Subnet => ec2::subnets(ctx, loc).await,
        Kind::Vpc => ec2::vpcs(ctx, loc).await,
        Kind::Parameter => ssm::parameters(ctx, loc).await,
        Kind::Secret => secrets::secrets(ctx, loc).await,
        Kind::LoadBalancer => elb::load_balancers(ctx, loc).await,
        Kind::Repository => ecr::repositories(ctx).await,
        Kind::Bucket => s3::buckets(ctx, loc).await,
    }
}
