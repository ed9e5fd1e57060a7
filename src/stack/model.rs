//! The stack model: every discovered resource as a row of a kind, with its
//! attributes (for scripts and the detail view) and the full describe output.

use serde::Serialize;
use serde_json::{Map, Value};

/// The kinds of resource the browser shows, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Proxy,
    TargetGroup,
    Target,
    Instance,
    Host,
    SecurityGroup,
    Subnet,
    Vpc,
    Parameter,
    Secret,
    LoadBalancer,
    Repository,
    Bucket,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Proxy,
        Kind::TargetGroup,
        Kind::Target,
        Kind::Instance,
        Kind::Host,
        Kind::SecurityGroup,
        Kind::Subnet,
        Kind::Vpc,
        Kind::Parameter,
        Kind::Secret,
        Kind::LoadBalancer,
        Kind::Repository,
        Kind::Bucket,
    ];

    /// The name used on the command line (`--kind`), in JSON and in the palette.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Proxy => "proxies",
            Kind::TargetGroup => "target-groups",
            Kind::Target => "targets",
            Kind::Instance => "instances",
            Kind::Host => "hosts",
            Kind::SecurityGroup => "security-groups",
            Kind::Subnet => "subnets",
            Kind::Vpc => "vpcs",
            Kind::Parameter => "parameters",
            Kind::Secret => "secrets",
            Kind::LoadBalancer => "load-balancers",
            Kind::Repository => "repositories",
            Kind::Bucket => "buckets",
        }
    }

    /// Short title for tabs.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Proxy => "Proxies",
            Kind::TargetGroup => "TargetGroups",
            Kind::Target => "Targets",
            Kind::Instance => "DB",
            Kind::Host => "Hosts",
            Kind::SecurityGroup => "SGs",
            Kind::Subnet => "Subnets",
            Kind::Vpc => "VPC",
            Kind::Parameter => "Params",
            Kind::Secret => "Secrets",
            Kind::LoadBalancer => "ALB",
            Kind::Repository => "ECR",
            Kind::Bucket => "S3",
        }
    }

    /// Other names accepted for this kind (singular, short, AWS service names).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Kind::Proxy => &["proxy", "prx", "rds-proxy"],
            Kind::TargetGroup => &["target-group", "tg"],
            Kind::Target => &["target"],
            Kind::Instance => &["instance", "db", "dbs", "rds"],
            Kind::Host => &["host", "ec2", "hosts"],
            Kind::SecurityGroup => &["security-group", "sg", "sgs"],
            Kind::Subnet => &["subnet"],
            Kind::Vpc => &["vpc"],
            Kind::Parameter => &["parameter", "param", "params", "ssm"],
            Kind::Secret => &["secret", "secretsmanager"],
            Kind::LoadBalancer => &["load-balancer", "alb", "lb", "elb"],
            Kind::Repository => &["repository", "repo", "repos", "ecr"],
            Kind::Bucket => &["bucket", "s3"],
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.aliases().contains(&s.as_str()))
    }

    /// Column headers of the browser table (the first is always the name).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Proxy => &["NAME", "STATUS", "ENGINE", "TLS", "IAM", "AUTH", "ENDPOINT"],
            Kind::TargetGroup => &["NAME", "PROXY", "STATUS", "DEFAULT", "MAX CONN%", "MAX IDLE%", "BORROW S"],
            Kind::Target => &["RESOURCE", "TYPE", "ROLE", "HEALTH", "REASON", "ENDPOINT", "PORT"],
            Kind::Instance => &["NAME", "STATUS", "ENGINE", "CLASS", "IAM AUTH", "ENDPOINT", "CA"],
            Kind::Host => &["NAME", "ID", "STATE", "SSM", "TYPE", "PRIVATE IP", "PROFILE"],
            Kind::SecurityGroup => &["NAME", "ID", "ROLE", "3306 IN FROM", "INGRESS", "EGRESS"],
            Kind::Subnet => &["NAME", "ID", "CIDR", "AZ", "TIER", "USED BY"],
            Kind::Vpc => &["NAME", "ID", "CIDR", "STATE", "DNS HOSTNAMES"],
            Kind::Parameter => &["NAME", "TYPE", "VALUE", "VERSION", "WHY"],
            Kind::Secret => &["NAME", "USED BY", "ROTATION", "LAST CHANGED", "ARN"],
            Kind::LoadBalancer => &["NAME", "STATE", "SCHEME", "TARGETS", "HEALTH", "DNS"],
            Kind::Repository => &["NAME", "URI", "SCAN ON PUSH", "TAG MUTABILITY"],
            Kind::Bucket => &["NAME", "CREATED", "USED BY"],
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Health at a glance, for colouring and the overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Warn,
    Bad,
    #[default]
    Unknown,
}

impl Health {
    pub fn symbol(self) -> &'static str {
        match self {
            Health::Ok => "●",
            Health::Warn => "▲",
            Health::Bad => "✖",
            Health::Unknown => "○",
        }
    }
}

/// One discovered resource.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub kind: Kind,
    /// Stable identifier (ARN, id or name).
    pub id: String,
    pub name: String,
    pub health: Health,
    /// Cells of the browser table, in `kind.columns()` order.
    #[serde(skip)]
    pub cells: Vec<String>,
    /// The fields a script wants, as JSON.
    pub attributes: Map<String, Value>,
    /// The resource as the API described it (the AWS CLI's names and values), for the detail
    /// view and `rdsdeck describe`; `None` when the response could not be read.
    #[serde(skip)]
    pub api: Option<Value>,
}

impl Resource {
    pub fn new(kind: Kind, id: impl Into<String>, name: impl Into<String>) -> Self {
        Resource {
            kind,
            id: id.into(),
            name: name.into(),
            health: Health::Unknown,
            cells: Vec::new(),
            attributes: Map::new(),
            api: None,
        }
    }

    pub fn health(mut self, h: Health) -> Self {
        self.health = h;
        self
    }

    pub fn cells<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cells: I) -> Self {
        self.cells = cells.into_iter().map(Into::into).collect();
        self
    }

    pub fn attr(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.to_string(), value.into());
        self
    }

    pub fn api(mut self, api: Option<Value>) -> Self {
        self.api = api;
        self
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// One line of text used by the fuzzy filter.
    pub fn haystack(&self) -> String {
        let mut s = self.cells.join(" ");
        if !self.cells.iter().any(|c| c == &self.id) {
            s.push(' ');
            s.push_str(&self.id);
        }
        s
    }
}

/// What discovery knows about the result of one kind.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum KindResult {
    Ok { items: Vec<Resource> },
    Error { error: String },
}

pub use crate::aws::Identity;
