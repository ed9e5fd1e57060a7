//! Stack descriptions that come from files: the seed's `rds.conf` and
//! `terraform output -json`. Both reduce to an [`Anchor`] for discovery.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What discovery starts from. Every field is optional: with none, discovery
/// looks for the region's RDS proxies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Anchor {
    pub proxy: Option<String>,
    /// The proxy's ARN, when that is all a source names (its last part is the proxy's id, not its name).
    pub proxy_arn: Option<String>,
    pub instance: Option<String>,
    /// Instance endpoint address (from `rds.conf`), matched against instances.
    pub instance_address: Option<String>,
    pub vpc_id: Option<String>,
    pub region: Option<String>,
    /// Human description of where the anchor came from.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for SourceError {}

/// A parsed `rds.conf`: `KEY="value"` lines, comments and blank lines allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct RdsConf {
    pub path: PathBuf,
    /// key -> (value, line)
    pub entries: BTreeMap<String, (String, usize)>,
    /// Unknown keys and other things worth a warning.
    pub warnings: Vec<String>,
}

pub const RDS_CONF_KEYS: [&str; 5] =
    ["RDS_ENDPOINT", "REGION", "MASTER_SECRET_NAME", "DB_NAME", "IAM_ADMIN_USER"];

impl RdsConf {
    pub fn load(path: &Path) -> Result<RdsConf, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| SourceError {
            path: path.to_path_buf(),
            line: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "no such file: check the path (Terraform writes rds.conf beside the stack)".to_string()
            } else {
                format!("cannot read it: {e}")
            },
        })?;
        RdsConf::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<RdsConf, SourceError> {
        let err = |line: usize, message: String| SourceError { path: path.to_path_buf(), line: Some(line), message };
        let mut entries = BTreeMap::new();
        let mut warnings = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, rest)) = line.split_once('=') else {
                return Err(err(n, format!("expected KEY=\"value\", found `{}`", clip(line))));
            };
            let key = key.trim();
            if key.starts_with("export ") {
                return Err(err(n, format!("`export` is not allowed: write `{}=...`", key[7..].trim())));
            }
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                return Err(err(n, format!("`{}` is not a KEY (upper-case letters, digits, _)", clip(key))));
            }
            let value = parse_value(rest).map_err(|m| err(n, format!("{key}: {m}")))?;
            if !RDS_CONF_KEYS.contains(&key) {
                warnings.push(format!("{}:{n}: unknown key {key} (ignored)", path.display()));
            }
            if entries.insert(key.to_string(), (value, n)).is_some() {
                warnings.push(format!("{}:{n}: {key} set twice; the last one wins", path.display()));
            }
        }
        Ok(RdsConf { path: path.to_path_buf(), entries, warnings })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|(v, _)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// A required, non-empty key; the error names the key and its line.
    pub fn require(&self, key: &str) -> Result<&str, SourceError> {
        match self.entries.get(key) {
            Some((v, _)) if !v.is_empty() => Ok(v),
            Some((_, line)) => Err(SourceError {
                path: self.path.clone(),
                line: Some(*line),
                message: format!("{key} is empty; it is required"),
            }),
            None => Err(SourceError {
                path: self.path.clone(),
                line: None,
                message: format!("{key} is missing; add a line {key}=\"...\""),
            }),
        }
    }

    pub fn anchor(&self) -> Result<Anchor, SourceError> {
        let endpoint = self.require("RDS_ENDPOINT")?;
        let address = endpoint.split(':').next().unwrap_or(endpoint).to_string();
        let instance = address.split('.').next().map(str::to_string);
        Ok(Anchor {
            instance,
            instance_address: Some(address),
            region: self.get("REGION").map(str::to_string),
            source: format!("rds.conf {}", self.path.display()),
            ..Anchor::default()
        })
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.to_string() }
}

/// A shell-style value: `"..."`, `'...'` or bare, optionally followed by a `# comment`.
fn parse_value(rest: &str) -> Result<String, String> {
    let rest = rest.trim();
    let (value, tail) = if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let body = &rest[1..];
        let end = body.find(q).ok_or_else(|| format!("unterminated {q} quote"))?;
        let v = &body[..end];
        if q == '"' && (v.contains('$') || v.contains('`')) {
            return Err("`$` and backticks are not expanded; write the value literally".into());
        }
        (v.to_string(), body[end + 1..].trim())
    } else {
        match rest.find(" #").or_else(|| rest.find("\t#")) {
            Some(i) => (rest[..i].trim().to_string(), rest[i..].trim()),
            None => (rest.to_string(), ""),
        }
    };
    if !tail.is_empty() && !tail.starts_with('#') {
        return Err(format!("unexpected `{}` after the value", clip(tail)));
    }
    if value.contains(char::is_whitespace) && !rest.starts_with(['"', '\'']) {
        return Err("a value with spaces must be quoted".into());
    }
    Ok(value)
}

/// `terraform output -json`: each key is `{"value": ..., "type": ..., "sensitive": bool}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TerraformOutputs {
    pub path: PathBuf,
    pub values: BTreeMap<String, (Value, bool)>,
}

impl TerraformOutputs {
    pub fn load(path: &Path) -> Result<TerraformOutputs, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| SourceError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read it: {e} (make it with `terraform output -json > FILE`)"),
        })?;
        TerraformOutputs::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<TerraformOutputs, SourceError> {
        let err = |line: Option<usize>, message: String| SourceError { path: path.to_path_buf(), line, message };
        let v: Value = serde_json::from_str(text).map_err(|e| err(Some(e.line()), format!("not JSON: {e}")))?;
        let Value::Object(map) = v else {
            return Err(err(None, "expected a JSON object as printed by `terraform output -json`".into()));
        };
        let mut values = BTreeMap::new();
        for (k, entry) in map {
            let Some(obj) = entry.as_object().filter(|o| o.contains_key("value")) else {
                return Err(err(None, format!("output `{k}` has no \"value\": is this `terraform output -json`?")));
            };
            let sensitive = obj.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
            values.insert(k, (obj["value"].clone(), sensitive));
        }
        Ok(TerraformOutputs { path: path.to_path_buf(), values })
    }

    /// A non-sensitive string output.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.values.get(key).filter(|(_, s)| !s).and_then(|(v, _)| v.as_str()).filter(|s| !s.is_empty())
    }

    pub fn anchor(&self) -> Result<Anchor, SourceError> {
        let proxy = self
            .string("rds_proxy_endpoint")
            .and_then(|e| e.split('.').next())
            .map(str::to_string);
        let proxy_arn = self.string("rds_proxy_arn").filter(|a| a.starts_with("arn:")).map(str::to_string);
        // `rds_dbi` is the DbiResourceId (`db-XXXX`) in the seed project; the
        // identifier is the first label of `rds_address`.
        let instance = self
            .string("rds_address")
            .and_then(|a| a.split('.').next())
            .map(str::to_string)
            .or_else(|| self.string("rds_dbi").filter(|d| !d.starts_with("db-")).map(str::to_string));
        if proxy.is_none() && proxy_arn.is_none() && instance.is_none() {
            return Err(SourceError {
                path: self.path.clone(),
                line: None,
                message: "neither rds_proxy_endpoint, rds_proxy_arn nor rds_address is present".into(),
            });
        }
        let region = self
            .string("rds_proxy_arn")
            .or(self.string("rds_master_secret_arn"))
            .and_then(|arn| arn.split(':').nth(3))
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        Ok(Anchor {
            proxy,
            proxy_arn,
            instance,
            instance_address: self.string("rds_address").map(str::to_string),
            vpc_id: self.string("vpc_id").map(str::to_string),
            region,
            source: format!("terraform outputs {}", self.path.display()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(s: &str) -> Result<RdsConf, SourceError> {
        RdsConf::parse(s, Path::new("rds.conf"))
    }

    #[test]
    fn seed_rds_conf_parses() {
        let c = conf(
            "# written by terraform\n\nRDS_ENDPOINT=\"rds-iam-auth-db.abc.us-east-1.rds.amazonaws.com\"\nREGION=\"us-east-1\"\nMASTER_SECRET_NAME=\"rds!db-1234abcd\"      # secret name\nDB_NAME=node_db\nIAM_ADMIN_USER='dbadmin'\n",
        )
        .unwrap();
        assert_eq!(c.get("MASTER_SECRET_NAME"), Some("rds!db-1234abcd"));
        assert_eq!(c.get("DB_NAME"), Some("node_db"));
        assert_eq!(c.get("IAM_ADMIN_USER"), Some("dbadmin"));
        assert!(c.warnings.is_empty());
        let a = c.anchor().unwrap();
        assert_eq!(a.instance.as_deref(), Some("rds-iam-auth-db"));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn malformed_line_names_the_line() {
        let e = conf("REGION=\"us-east-1\"\nthis line is wrong\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("rds.conf:2"));
    }

    #[test]
    fn empty_required_key_names_key_and_line() {
        let c = conf("REGION=\"us-east-1\"\nRDS_ENDPOINT=\"\"\n").unwrap();
        let e = c.require("RDS_ENDPOINT").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("RDS_ENDPOINT is empty"));
        let e = c.require("IAM_ADMIN_USER").unwrap_err();
        assert!(e.message.contains("IAM_ADMIN_USER is missing"));
    }

    #[test]
    fn unknown_keys_warn_export_and_expansion_fail() {
        let c = conf("FOO=bar\n").unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert!(conf("export REGION=x\n").is_err());
        assert!(conf("REGION=\"$HOME\"\n").is_err());
        assert!(conf("REGION=\"unterminated\n").is_err());
        assert!(conf("REGION=\"a\" trailing\n").is_err());
    }

    #[test]
    fn terraform_outputs_give_an_anchor_and_hide_sensitive() {
        let t = TerraformOutputs::parse(
            r#"{
  "rds_proxy_endpoint": {"value": "dev-node-app.proxy-abc.us-east-1.rds.amazonaws.com", "type": "string", "sensitive": false},
  "rds_proxy_arn": {"value": "arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0abc", "type": "string", "sensitive": false},
  "rds_dbi": {"value": "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U", "type": "string", "sensitive": false},
  "rds_address": {"value": "rds-iam-auth-db.abc.us-east-1.rds.amazonaws.com", "type": "string", "sensitive": false},
  "vpc_id": {"value": "vpc-123", "type": "string", "sensitive": false},
  "secret_name": {"value": "rds!db-x", "type": "string", "sensitive": true}
}"#,
            Path::new("out.json"),
        )
        .unwrap();
        let a = t.anchor().unwrap();
        assert_eq!(a.proxy.as_deref(), Some("dev-node-app"));
        assert_eq!(a.instance.as_deref(), Some("rds-iam-auth-db"));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(a.vpc_id.as_deref(), Some("vpc-123"));
        assert_eq!(t.string("secret_name"), None);
        // Only the proxy's ARN: its last part is an id (prx-…), not the name; discovery matches the ARN.
        let t = TerraformOutputs::parse(
            r#"{"rds_proxy_arn": {"value": "arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0abc", "type": "string", "sensitive": false}}"#,
            Path::new("out.json"),
        )
        .unwrap();
        let a = t.anchor().unwrap();
        assert_eq!((a.proxy, a.proxy_arn.as_deref()), (None, Some("arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0abc")));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn terraform_garbage_is_rejected() {
        assert!(TerraformOutputs::parse("[1,2]", Path::new("x")).is_err());
        assert!(TerraformOutputs::parse("{\"a\": 1}", Path::new("x")).is_err());
        let e = TerraformOutputs::parse("{\n\"a\": \n", Path::new("x")).unwrap_err();
        assert!(e.line.is_some());
    }
}
