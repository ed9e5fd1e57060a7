//! Settings resolved from flags, the config file and the environment, in that
//! order of precedence. Shared by every subcommand and the TUI.

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::AwsSettings;
use crate::config::{Config, ConfigError, DEFAULT_PARAMETER_PREFIX};
use crate::db::connect::ConnectTo;
use crate::stack::{Anchor, RdsConf, TerraformOutputs};

/// What the user asked for on the command line (or switched to in the TUI's
/// palette); the CLI maps its global flags to this. `None`: the config's, then
/// the environment's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub stack: Option<String>,
    pub proxy: Option<String>,
    pub rds_conf: Option<PathBuf>,
    pub terraform_output: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub theme: Option<String>,
    pub read_only: bool,
    pub endpoint_url: Option<String>,
    pub ca: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    /// `--connect-to HOST:PORT:ADDR:PORT`, each.
    pub connect_to: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub aws: AwsSettings,
    pub anchor: Anchor,
    pub stack_name: Option<String>,
    pub production: bool,
    pub read_only: bool,
    pub theme: String,
    pub parameter_prefix: String,
    pub refresh: Option<Duration>,
    /// Extra CA file for database TLS.
    pub ca: Option<PathBuf>,
    /// Warnings to show the user (unknown rds.conf keys, ...).
    pub warnings: Vec<String>,
    /// The rds.conf describing the stack (flag or config), if any.
    pub rds_conf: Option<PathBuf>,
    /// Bootstrap settings: the stack's, over the global ones.
    pub bootstrap: crate::config::BootstrapConfig,
    /// How the SQL shell reaches the database (`direct`, `auto`, a forward's name): the stack's, over the global one.
    pub sql_via: Option<String>,
    /// Where TCP for a database endpoint really goes: `RDSDECK_CONNECT_TO`, then the config's
    /// `[connect_to]`, the stack's, and `--connect-to`, each later entry winning.
    pub connect_to: ConnectTo,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Source(#[from] crate::stack::sources::SourceError),
    #[error("no stack named `{name}` in {path}{known}")]
    UnknownStack { name: String, path: String, known: String },
    #[error("{0}")]
    ConnectTo(String),
}

impl Settings {
    pub fn resolve(args: &Flags) -> Result<Settings, SettingsError> {
        let (config_path, explicit) = match &args.config {
            Some(p) => (Some(p.clone()), true),
            None => (Config::default_path(), false),
        };
        let config = match &config_path {
            Some(p) => Config::load(p, explicit)?,
            None => Config::default(),
        };
        Settings::from_config(args, config, config_path)
    }

    pub fn from_config(args: &Flags, config: Config, config_path: Option<PathBuf>) -> Result<Settings, SettingsError> {
        let stack_name = args.stack.clone().or_else(|| config.default_stack.clone());
        let stack = match &stack_name {
            Some(name) => Some(config.stacks.get(name).cloned().ok_or_else(|| SettingsError::UnknownStack {
                name: name.clone(),
                path: config_path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the config".into()),
                known: if config.stacks.is_empty() {
                    " (it defines no [stacks.*])".into()
                } else {
                    format!(" (known: {})", config.stacks.keys().cloned().collect::<Vec<_>>().join(", "))
                },
            })?),
            None => None,
        };
        let stack = stack.unwrap_or_default();
        let mut warnings = Vec::new();
        let mut anchor = Anchor::default();
        let rds_conf = args.rds_conf.clone().or(stack.rds_conf.clone());
        let tf = args.terraform_output.clone().or(stack.terraform_output.clone());
        if let Some(p) = &tf {
            anchor = TerraformOutputs::load(p)?.anchor()?;
        } else if let Some(p) = &rds_conf {
            let c = RdsConf::load(p)?;
            warnings.extend(c.warnings.iter().cloned());
            anchor = c.anchor()?;
        }
        if let Some(p) = args.proxy.clone().or(stack.proxy.clone()) {
            anchor.proxy = Some(p);
        }
        if let Some(i) = stack.instance.clone()
            && anchor.instance.is_none()
        {
            anchor.instance = Some(i);
        }
        if let Some(n) = &stack_name
            && anchor.source.is_empty()
        {
            anchor.source = format!("stack `{n}`");
        }
        let region = args.region.clone().or(stack.region.clone()).or(anchor.region.clone());
        let aws = AwsSettings {
            profile: args.profile.clone().or(stack.profile.clone()),
            region,
            endpoint_url: args.endpoint_url.clone().or(stack.endpoint_url.clone()),
            timeout: config.timeout_seconds.map(Duration::from_secs),
        };
        let connect_to = connect_to(args, &config, &stack, config_path.as_deref())?;
        Ok(Settings {
            connect_to,
            aws,
            anchor,
            production: stack.production,
            read_only: args.read_only || config.read_only || stack.read_only,
            theme: args.theme.clone().or(config.theme.clone()).unwrap_or_else(|| "dark".into()),
            parameter_prefix: stack
                .parameter_prefix
                .clone()
                .or(config.parameter_prefix.clone())
                .unwrap_or_else(|| DEFAULT_PARAMETER_PREFIX.into()),
            refresh: match config.refresh_seconds {
                Some(0) => None,
                Some(n) => Some(Duration::from_secs(n)),
                None => Some(Duration::from_secs(30)),
            },
            ca: args.ca.clone().or(stack.ca.clone()),
            bootstrap: stack.bootstrap.or(&config.bootstrap),
            sql_via: stack.sql_via.clone().or(config.sql_via.clone()),
            rds_conf,
            stack_name,
            config,
            config_path,
            warnings,
        })
    }
}

/// The endpoint map from its four sources, each error naming where the entry came from.
fn connect_to(args: &Flags, config: &Config, stack: &crate::config::StackConfig, path: Option<&std::path::Path>) -> Result<ConnectTo, SettingsError> {
    let mut map = ConnectTo::default();
    if let Ok(list) = std::env::var("RDSDECK_CONNECT_TO") {
        map.add_list(&list).map_err(|e| SettingsError::ConnectTo(format!("RDSDECK_CONNECT_TO: {e}")))?;
    }
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "the config".into());
    for (table, entries) in [("[connect_to]", &config.connect_to), ("the stack's [connect_to]", &stack.connect_to)] {
        for (from, to) in entries {
            map.add_pair(from, to).map_err(|e| SettingsError::ConnectTo(format!("{file} {table}: {e}")))?;
        }
    }
    for e in &args.connect_to {
        map.add(e).map_err(|e| SettingsError::ConnectTo(format!("--connect-to: {e}")))?;
    }
    Ok(map)
}
