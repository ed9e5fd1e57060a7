//! Secrets Manager: the secrets the proxy and the instance use (names and metadata only, never values).

use super::{R, s, ts};
use crate::stack::api::Capture;
use crate::aws::{AwsContext, explain};
use crate::stack::locate::Located;
use crate::stack::model::{Health, Kind, Resource};

pub(super) async fn secrets(ctx: &AwsContext, loc: &Located) -> R {
    let cap = Capture::default();
    let sm = client!(aws_sdk_secretsmanager, ctx, cap);
    let mut res = Vec::new();
    let mut pages = sm.list_secrets().into_paginator().send();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain(&e))?;
        for e in page.secret_list() {
            let arn = s(e.arn());
            let object = cap.items("secretsmanager", "ListSecrets", &["SecretList"]).find("ARN", &arn);
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
                    .api(object),
            );
        }
        n += 1;
        if n >= 10 {
            break;
        }
    }
    Ok(res)
}
