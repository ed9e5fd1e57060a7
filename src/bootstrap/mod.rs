//! The database bootstrap (the seed's `rds.sh`, done safely): a reviewed plan of
//! named steps, each idempotent, run by [`run::execute`] for the CLI and the TUI.

pub mod plan;
pub mod run;

use std::path::{Path, PathBuf};

use crate::aws::{AwsContext, explain};
use crate::settings::Settings;
use crate::stack::{Located, RdsConf, locate};
pub use plan::{Inputs, Overrides, StepId};
pub use run::{Event, Options, Report, Status};

/// Where the inputs come from, in order: `--conf`, the stack's `rds_conf`
/// (`--rds-conf` or config), `./rds.conf` when present, else the discovered
/// stack's instance.
pub fn conf_path(explicit: Option<&Path>, settings: &Settings) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| settings.rds_conf.clone())
        .or_else(|| Some(PathBuf::from("rds.conf")).filter(|p| p.is_file()))
}

/// Reads and validates everything step 1 needs. `Err` is a message naming the problem.
pub async fn resolve(
    settings: &Settings,
    conf: Option<&Path>,
    overrides: Overrides,
    ctx: Option<&AwsContext>,
    located: Option<&Located>,
) -> Result<Inputs, String> {
    let mut ov = overrides.with_env()?;
    if ov.ca.is_none() {
        ov.ca = settings.ca.clone();
    }
    ov.connect_to = settings.connect_to.clone().merged(&ov.connect_to);
    let default_region = ctx.map(|c| c.region.clone()).or(settings.aws.region.clone());
    if let Some(path) = conf_path(conf, settings) {
        let c = RdsConf::load(&path).map_err(|e| e.to_string())?;
        return plan::from_rds_conf(&c, &settings.bootstrap, &ov, default_region.as_deref());
    }
    let ctx = ctx.ok_or("no rds.conf (--conf) and no AWS context to discover the instance")?;
    let owned;
    let loc = match located {
        Some(l) => l,
        None => {
            owned = locate(ctx, &settings.anchor, &settings.parameter_prefix)
                .await
                .map_err(|e| format!("no rds.conf (--conf FILE, or ./rds.conf) and the stack was not found: {e}"))?;
            &owned
        }
    };
    let facts = instance_facts(ctx, loc).await?;
    plan::from_instance(&facts, &settings.bootstrap, &ov, &ctx.region)
}

/// The stack's one DB instance: endpoint, port, master secret, database name.
pub async fn instance_facts(ctx: &AwsContext, loc: &Located) -> Result<plan::InstanceFacts, String> {
    let id = match loc.instances.as_slice() {
        [] => return Err("the stack has no DB instance to bootstrap: pass the seed's rds.conf with --conf".into()),
        [one] => one.clone(),
        many => {
            return Err(format!(
                "the stack has {} DB instances ({}): choose one with `instance = \"...\"` in the stack's config, or --conf rds.conf",
                many.len(),
                many.join(", ")
            ));
        }
    };
    let rds = aws_sdk_rds::Client::new(&ctx.sdk);
    let out = rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .map_err(|e| format!("cannot describe DB instance {id}: {}", explain(&e)))?;
    let db = out.db_instances().first().ok_or_else(|| format!("DB instance {id} not found"))?;
    let ep = db.endpoint();
    Ok(plan::InstanceFacts {
        identifier: id.clone(),
        address: ep.and_then(|e| e.address()).map(str::to_string).ok_or_else(|| format!("DB instance {id} has no endpoint yet (still creating?)"))?,
        port: ep.and_then(|e| e.port()).and_then(|p| u16::try_from(p).ok()).unwrap_or(3306),
        master_secret_arn: db.master_user_secret().and_then(|m| m.secret_arn()).map(str::to_string),
        db_name: db.db_name().map(str::to_string),
    })
}
