//! `$XDG_CONFIG_HOME/rdsdeck/config.toml`: named stacks, default theme, key overrides.
//! Invalid files produce a [`ConfigError`] naming the file, line and key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub const DEFAULT_PARAMETER_PREFIX: &str = "/dev/database/";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme used when `--theme` is not given.
    pub theme: Option<String>,
    /// Stack used when `--stack` is not given.
    pub default_stack: Option<String>,
    /// Where the app's SSM parameters live (default `/dev/database/`).
    pub parameter_prefix: Option<String>,
    /// Seconds between live refreshes of each pane (default 30, 0 = off).
    pub refresh_seconds: Option<u64>,
    /// Seconds before any single AWS call is abandoned (default 10).
    pub timeout_seconds: Option<u64>,
    /// Open every stack read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Key overrides: `action = "keys"` for the main list, `[keys.MODE] action = "keys"` for a mode
    /// ("q", "ctrl-r", "f5", "shift-tab", several comma-separated).
    #[serde(default)]
    pub keys: BTreeMap<String, KeysEntry>,
    /// The line of each `[keys]` entry, by (mode, action), for messages.
    #[serde(skip)]
    pub key_lines: BTreeMap<(String, String), usize>,
    #[serde(default)]
    pub stacks: BTreeMap<String, StackConfig>,
    /// Bootstrap settings for every stack (a stack's own `[stacks.NAME.bootstrap]` wins, key by key).
    #[serde(default)]
    pub bootstrap: BootstrapConfig,
    /// Saved port forwards: `rdsdeck forward NAME`, `rdsdeck sql --via-forward NAME`.
    #[serde(default)]
    pub forwards: BTreeMap<String, ForwardConfig>,
    /// How the SQL shell (TUI and `rdsdeck sql`) reaches the database: `direct`
    /// (default), `auto` (a forward through the stack's host) or a `[forwards.NAME]`.
    pub sql_via: Option<String>,
    /// Where TCP for an endpoint really goes: `"HOST:PORT" = "ADDR:PORT"` (curl's `--connect-to`).
    #[serde(default)]
    pub connect_to: BTreeMap<String, String>,
}

/// One entry of `[keys]`: an action's keys, or a mode's table of them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum KeysEntry {
    Keys(String),
    Mode(BTreeMap<String, String>),
}

/// `[forwards.NAME]`: a port forward through an SSM-managed instance.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// The instance (default: the stack's app host).
    pub target: Option<String>,
    /// The remote host as the instance resolves it (default: the stack's database endpoint).
    pub host: Option<String>,
    pub remote_port: Option<u16>,
    /// 0 or unset: any free port.
    pub local_port: Option<u16>,
    /// Start it when the TUI has found the stack.
    #[serde(default)]
    pub auto_start: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StackConfig {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The RDS Proxy at the centre of the stack.
    pub proxy: Option<String>,
    /// A DB instance identifier, when the stack has no proxy.
    pub instance: Option<String>,
    pub parameter_prefix: Option<String>,
    /// A seed-style `rds.conf` describing the stack.
    pub rds_conf: Option<PathBuf>,
    /// A `terraform output -json` file describing the stack.
    pub terraform_output: Option<PathBuf>,
    /// Extra CA file (PEM) for database TLS, e.g. the RDS global-bundle.pem.
    pub ca: Option<PathBuf>,
    /// Shows the production banner and guards every write.
    #[serde(default)]
    pub production: bool,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub bootstrap: BootstrapConfig,
    /// This stack's `sql_via` (over the top-level one).
    pub sql_via: Option<String>,
    /// This stack's `[connect_to]` entries (over the top-level ones).
    #[serde(default)]
    pub connect_to: BTreeMap<String, String>,
}

/// `[bootstrap]` / `[stacks.NAME.bootstrap]`: what `rdsdeck bootstrap` creates
/// when `rds.conf` does not say (rds.conf has no users or privileges).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BootstrapConfig {
    /// The IAM admin user (rds.conf IAM_ADMIN_USER; default `dbadmin`).
    pub admin_user: Option<String>,
    /// The application database (rds.conf DB_NAME; default: the instance's DBName).
    pub database: Option<String>,
    /// The master secret's name or ARN (rds.conf MASTER_SECRET_NAME; default: the instance's MasterUserSecret).
    pub master_secret: Option<String>,
    /// Where to connect for the instance, when not its endpoint (e.g. a local forward).
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The application users (default: the seed's node_app and node_user).
    pub users: Option<Vec<BootstrapUser>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BootstrapUser {
    pub name: String,
    /// Privileges on the application database (default: SELECT, CREATE, INSERT, UPDATE, DELETE).
    pub privileges: Option<Vec<String>>,
}

impl BootstrapConfig {
    /// `self`, with each unset key taken from `base`.
    pub fn or(&self, base: &BootstrapConfig) -> BootstrapConfig {
        BootstrapConfig {
            admin_user: self.admin_user.clone().or(base.admin_user.clone()),
            database: self.database.clone().or(base.database.clone()),
            master_secret: self.master_secret.clone().or(base.master_secret.clone()),
            host: self.host.clone().or(base.host.clone()),
            port: self.port.or(base.port),
            users: self.users.clone().or(base.users.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config {}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {}", self.message)?;
        write!(f, " (fix or move the file; `rdsdeck --config /dev/null` starts without it)")
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The default location: `$XDG_CONFIG_HOME/rdsdeck/config.toml` (or the platform's config dir).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(x).join("rdsdeck").join("config.toml"));
        }
        directories::BaseDirs::new().map(|b| b.config_dir().join("rdsdeck").join("config.toml"))
    }

    /// rdsdeck's state folder (the log, the SQL history): `$XDG_STATE_HOME/rdsdeck`,
    /// else `~/.local/state/rdsdeck`.
    pub fn state_dir() -> Option<PathBuf> {
        std::env::var_os("XDG_STATE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".local/state")))
            .map(|d| d.join("rdsdeck"))
    }

    /// Directory for user themes, beside the config file.
    pub fn user_theme_dir(config_path: Option<&Path>) -> Option<PathBuf> {
        config_path.and_then(|p| p.parent()).map(|d| d.join("themes"))
    }

    /// Loads `path`; a missing file at the default location is an empty config,
    /// a missing file named explicitly is an error.
    pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config::default()),
            Err(e) => Err(ConfigError {
                path: path.to_path_buf(),
                line: None,
                key: None,
                message: format!("cannot read it: {e}"),
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => locate(text, span.start),
                None => (None, None),
            };
            ConfigError { path: path.to_path_buf(), line, key, message: e.message().trim().to_string() }
        })?;
        cfg.validate(text, path)?;
        let mut cfg = cfg;
        cfg.key_lines = key_lines(text);
        Ok(cfg)
    }

    /// The `[keys]` entries by mode and action (`main` for the top-level ones), with where each is.
    pub fn key_overrides(&self, path: Option<&Path>) -> BTreeMap<(String, String), (String, String)> {
        let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
        let at = |mode: &str, action: &str| match self.key_lines.get(&(mode.to_string(), action.to_string())) {
            Some(line) => format!("{file}:{line}"),
            None => file.clone(),
        };
        let mut out = BTreeMap::new();
        for (name, entry) in &self.keys {
            match entry {
                KeysEntry::Keys(k) => {
                    out.insert(("main".to_string(), name.clone()), (k.clone(), at("main", name)));
                }
                KeysEntry::Mode(actions) => {
                    for (action, k) in actions {
                        out.insert((name.clone(), action.clone()), (k.clone(), at(name, action)));
                    }
                }
            }
        }
        out
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key.rsplit('.').next().unwrap_or(key)))
                .map(|i| i + 1);
            ConfigError { path: path.to_path_buf(), line, key: Some(key.to_string()), message }
        };
        if self.timeout_seconds == Some(0) {
            return Err(err("timeout_seconds", "must be at least 1 (seconds before an AWS call is abandoned)".into()));
        }
        if let Some(d) = &self.default_stack
            && !self.stacks.contains_key(d)
        {
            return Err(err(
                "default_stack",
                format!("names stack `{d}`, but there is no [stacks.{d}] table"),
            ));
        }
        for prefix in self
            .parameter_prefix
            .iter()
            .chain(self.stacks.values().filter_map(|s| s.parameter_prefix.as_ref()))
        {
            if !prefix.starts_with('/') {
                return Err(err("parameter_prefix", format!("`{prefix}` must start with `/`")));
            }
        }
        for (name, s) in &self.stacks {
            if let Some(u) = &s.endpoint_url
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                return Err(err(
                    &format!("stacks.{name}.endpoint_url"),
                    format!("`{u}` is not an http:// or https:// URL"),
                ));
            }
        }
        Ok(())
    }
}

/// Line number (1-based) of a byte offset, and the key written on that line
/// (prefixed with the enclosing `[table]`), for error messages.
fn locate(text: &str, offset: usize) -> (Option<usize>, Option<String>) {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let table = text[..offset]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['))
        .map(|k| match &table {
            Some(t) => format!("{t}.{k}"),
            None => k,
        })
        .or(table);
    (Some(line_no), key)
}

/// Where each `[keys]` entry is: `action = …` under `[keys]` (mode `main`) or `[keys.MODE]`.
fn key_lines(text: &str) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    let mut mode: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
            let h = h.trim();
            mode = match h {
                "keys" => Some("main".into()),
                h => h.strip_prefix("keys.").map(|m| m.trim().trim_matches('"').to_string()),
            };
            continue;
        }
        if let (Some(m), Some((k, _))) = (&mode, t.split_once('='))
            && !t.starts_with('#')
        {
            out.insert((m.clone(), k.trim().trim_matches('"').to_string()), i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        Config::parse(s, Path::new("/tmp/config.toml"))
    }

    #[test]
    fn the_readme_example_config_is_valid() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Configuration").expect("a Configuration section")..];
        let start = section.find("```toml\n").expect("a toml block") + 8;
        let block = &section[start..start + section[start..].find("```").expect("closed")];
        let c = parse(block).unwrap_or_else(|e| panic!("README's config: {e}"));
        assert_eq!(c.stacks.len(), 2);
        let users = c.bootstrap.users.as_ref().expect("bootstrap users");
        assert_eq!(users[1].name, "reporter");
        assert!(crate::bootstrap::plan::app_users(&c.bootstrap).is_ok());
    }

    #[test]
    fn valid_config_parses() {
        let c = parse(
            r#"
theme = "light"
default_stack = "prod"
[keys]
quit = "ctrl-q"
[keys.sql]
run = "f9"
[stacks.prod]
profile = "ops"
region = "eu-west-1"
proxy = "prod-node-app"
production = true
"#,
        )
        .unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert!(c.stacks["prod"].production);
        assert_eq!(c.keys["quit"], KeysEntry::Keys("ctrl-q".into()));
        let o = c.key_overrides(Some(std::path::Path::new("/tmp/config.toml")));
        assert_eq!(o[&("main".to_string(), "quit".to_string())], ("ctrl-q".to_string(), "/tmp/config.toml:5".to_string()));
        assert_eq!(o[&("sql".to_string(), "run".to_string())], ("f9".to_string(), "/tmp/config.toml:7".to_string()));
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let e = parse("theme = \"dark\"\n[stacks.prod]\nproduction = \"yes\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("stacks.prod.production"));
        assert!(e.to_string().contains("/tmp/config.toml"), "{e}");
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let e = parse("timeout_seconds = 0\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("at least 1"), "{}", e.message);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let e = parse("[stacks.a]\nproxxy = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("proxxy"), "{}", e.message);
    }

    #[test]
    fn syntax_error_has_a_line() {
        let e = parse("theme = \"dark\"\nthis is not toml\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn default_stack_must_exist() {
        let e = parse("default_stack = \"nope\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("default_stack"));
        assert_eq!(e.line, Some(1));
    }
}

