//! Where rdsdeck connects, decided once for the CLI and the TUI: the database
//! target (endpoint, port, user, database, and the name tokens are signed for
//! and TLS is checked against), the route to it (direct, a tunnel port, a
//! Session Manager forward), a forward's spec, and which host carries a
//! forward or a shell.
//!
//! Both front ends describe what they know as [`StackFacts`] (the CLI reads it
//! from AWS with [`gather`], the TUI builds it from its panes) and what the
//! user asked for as flags; the functions here are pure, so the same facts and
//! flags give the same answer wherever they come from.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::AwsContext;
use crate::config::ForwardConfig;
use crate::db::connect::ConnectSpec;
use crate::settings::Settings;
use crate::ssm::forward::ForwardSpec;
use crate::stack::{Kind, KindResult, Resource};

/// The seed's application user, when the stack names none.
pub const DEFAULT_USER: &str = "node_app";
/// MySQL's port, when the stack names none.
pub const DEFAULT_PORT: u16 = 3306;

/// A host the stack can run a Session Manager session on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFact {
    pub id: String,
    /// EC2 state (`running`, `stopped`, …).
    pub state: String,
    /// SSM ping status (`Online`, `ConnectionLost`, `not registered`, `unknown`).
    pub ssm: String,
}

impl HostFact {
    /// Running, and not known to be unreachable by Session Manager.
    pub fn usable(&self) -> bool {
        self.state == "running" && matches!(self.ssm.as_str(), "Online" | "unknown" | "")
    }
}

/// What the stack says about the database path, however it was read.
#[derive(Debug, Clone)]
pub struct StackFacts {
    /// The app's SSM parameters by the last segment of their name (endpoint, port, username, dbname).
    pub params: Result<BTreeMap<String, String>, String>,
    pub proxy_endpoint: Option<String>,
    pub hosts: Result<Vec<HostFact>, String>,
}

impl Default for StackFacts {
    fn default() -> Self {
        StackFacts::unknown("not read")
    }
}

impl StackFacts {
    /// Nothing known (the user named everything, or the stack could not be read).
    pub fn unknown(why: &str) -> StackFacts {
        StackFacts { params: Err(why.to_string()), proxy_endpoint: None, hosts: Err(why.to_string()) }
    }

    /// From the stack's resources, as the browser lists them.
    pub fn from_resources(proxy_endpoint: Option<String>, params: Result<&[Resource], String>, hosts: Result<&[Resource], String>) -> StackFacts {
        let params = params.map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    let key = p.name.rsplit('/').next()?.to_string();
                    Some((key, p.get_str("value")?.to_string()))
                })
                .collect()
        });
        let hosts = hosts.map(|items| {
            items
                .iter()
                .map(|h| HostFact {
                    id: h.id.clone(),
                    state: h.get_str("state").unwrap_or_default().to_string(),
                    ssm: h.get_str("ssm_ping_status").unwrap_or_default().to_string(),
                })
                .collect()
        });
        StackFacts { params, proxy_endpoint, hosts }
    }

    /// The value of the app's parameter `<prefix><name>`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.as_ref().ok()?.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The user the app logs in as: its `username` parameter, else the seed's `node_app`.
    pub fn app_user(&self) -> String {
        self.param("username").unwrap_or(DEFAULT_USER).to_string()
    }

    /// The endpoint the app uses: its `endpoint` parameter, else the proxy's.
    pub fn endpoint(&self) -> Option<String> {
        self.param("endpoint").map(str::to_string).or_else(|| self.proxy_endpoint.clone())
    }
}

/// The CLI's way to the facts: find the stack, then read its parameters and hosts together.
pub async fn gather(ctx: &AwsContext, settings: &Settings) -> Result<StackFacts, String> {
    let loc = crate::stack::locate(ctx, &settings.anchor, &settings.parameter_prefix).await.map_err(|e| e.to_string())?;
    let ((params, _), (hosts, _)) = tokio::join!(crate::stack::fetch_kind(ctx, &loc, Kind::Parameter), crate::stack::fetch_kind(ctx, &loc, Kind::Host));
    let items = |r: &KindResult| match r {
        KindResult::Ok { items } => Ok(items.clone()),
        KindResult::Error { error } => Err(error.clone()),
    };
    let (params, hosts) = (items(&params), items(&hosts));
    Ok(StackFacts::from_resources(loc.proxy_endpoint.clone(), params.as_deref().map_err(Clone::clone), hosts.as_deref().map_err(Clone::clone)))
}

/// What the user named for the database (flags, palette arguments); `None` takes the stack's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbFlags {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub database: Option<String>,
}

impl DbFlags {
    /// The facts add nothing: read the stack only when this is false.
    pub fn complete(&self) -> bool {
        self.host.is_some() && self.user.is_some()
    }
}

/// How TCP reaches the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Direct,
    /// A tunnel already listening on 127.0.0.1:PORT (a forward, the plugin, ssh -L).
    Tunnel(u16),
    /// A Session Manager forward: `auto` (to the endpoint through the stack's host) or a saved `[forwards.NAME]`.
    Forward(String),
}

impl Route {
    /// The route from what was asked (`--via-forward` / `:sql via`), a tunnel port, and the config's `sql_via`.
    /// An explicit `via` wins; the config's applies unless a tunnel port is given; `direct` is no forward.
    pub fn decide(via: Option<&str>, tunnel_port: Option<u16>, config_via: Option<&str>) -> Route {
        let via = match (via, tunnel_port) {
            (Some(v), _) => Some(v),
            (None, None) => config_via,
            (None, Some(_)) => None,
        };
        match (via.map(str::trim).filter(|v| !v.is_empty() && *v != "direct"), tunnel_port) {
            (Some(v), _) => Route::Forward(v.to_string()),
            (None, Some(p)) => Route::Tunnel(p),
            (None, None) => Route::Direct,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Route::Direct => "direct".into(),
            Route::Tunnel(p) => format!("tunnel 127.0.0.1:{p}"),
            Route::Forward(n) => format!("forward {n}"),
        }
    }
}

/// The database a session logs in to: tokens are signed for, and TLS is verified against, `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: Option<String>,
    pub route: Route,
}

/// Why a decision could not be made; the front end adds how to choose (a flag, a selection).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("no database endpoint known (the stack has no endpoint parameter and no proxy endpoint)")]
    NoEndpoint,
    #[error("no forward named `{name}` (known: {known}; or `auto`)")]
    UnknownForward { name: String, known: String },
    #[error("the stack has no EC2 host to run the session on")]
    NoHost,
    #[error("the stack has {} hosts and none is the one to use ({})", .0.len(), .0.join(", "))]
    SeveralHosts(Vec<String>),
    #[error("cannot list the stack's hosts: {0}")]
    HostsUnknown(String),
}

/// The saved forward a route names, if any.
pub fn saved_forward<'a>(forwards: &'a BTreeMap<String, ForwardConfig>, route: &Route) -> Result<Option<&'a ForwardConfig>, DecideError> {
    match route {
        Route::Forward(name) if name != "auto" => forwards.get(name).map(Some).ok_or_else(|| DecideError::UnknownForward {
            name: name.clone(),
            known: if forwards.is_empty() { "none in the config".into() } else { forwards.keys().cloned().collect::<Vec<_>>().join(", ") },
        }),
        _ => Ok(None),
    }
}

/// The database target. The endpoint is the flag, else the saved forward's remote host, else the
/// stack's endpoint; its port follows it (the stack's port parameter only for the stack's endpoint,
/// else 3306). The user and database are the flags', else the app's parameters, else `node_app`.
pub fn db_target(facts: &StackFacts, flags: &DbFlags, route: Route, forwards: &BTreeMap<String, ForwardConfig>) -> Result<DbTarget, DecideError> {
    let saved = saved_forward(forwards, &route)?;
    let (host, port) = match (flags.host.clone(), saved.and_then(|s| s.host.clone())) {
        (Some(h), _) => (h, flags.port.or(saved.and_then(|s| s.remote_port)).unwrap_or(DEFAULT_PORT)),
        (None, Some(h)) => (h, flags.port.or(saved.and_then(|s| s.remote_port)).unwrap_or(DEFAULT_PORT)),
        (None, None) => {
            let h = facts.endpoint().ok_or(DecideError::NoEndpoint)?;
            let stack_port = facts.param("port").and_then(|p| p.parse().ok());
            (h, flags.port.or(saved.and_then(|s| s.remote_port)).or(stack_port).unwrap_or(DEFAULT_PORT))
        }
    };
    Ok(DbTarget {
        host,
        port,
        user: flags.user.clone().unwrap_or_else(|| facts.app_user()),
        database: flags.database.clone().or_else(|| facts.param("dbname").map(str::to_string)),
        route,
    })
}

/// The connection for a target: TCP to the endpoint (or where the settings' `connect_to` sends it),
/// or to `local_port` on 127.0.0.1 (a tunnel or forward), with the token and the certificate still
/// the endpoint's; read-only when asked.
pub fn connect_spec(t: &DbTarget, local_port: Option<u16>, region: &str, settings: &Settings, timeout: Duration, read_only: bool) -> ConnectSpec {
    let (host, port, tls_name) = match local_port {
        Some(p) => ("127.0.0.1".to_string(), p, Some((t.host.clone(), t.port))),
        None => (t.host.clone(), t.port, None),
    };
    ConnectSpec { host, port, user: t.user.clone(), database: t.database.clone(), region: region.to_string(), ca: settings.ca.clone(), timeout, tls_name, read_only }
        .routed(&settings.connect_to)
}

/// The host that carries a forward or a shell: the one named, else the one selected (the TUI's Hosts
/// list), else the stack's only host, else its only usable one (running, reachable by Session Manager).
pub fn carrier_host(facts: &StackFacts, named: Option<&str>, selected: Option<&str>) -> Result<String, DecideError> {
    if let Some(n) = named.or(selected) {
        return Ok(n.to_string());
    }
    let hosts = facts.hosts.as_ref().map_err(|e| DecideError::HostsUnknown(e.clone()))?;
    match hosts.as_slice() {
        [] => Err(DecideError::NoHost),
        [one] => Ok(one.id.clone()),
        many => {
            let usable: Vec<&HostFact> = many.iter().filter(|h| h.usable()).collect();
            match usable.as_slice() {
                [one] => Ok(one.id.clone()),
                _ => Err(DecideError::SeveralHosts(many.iter().map(|h| h.id.clone()).collect())),
            }
        }
    }
}

/// What the user named for a forward (flags); `None` takes the saved forward's, then the stack's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardFlags {
    pub target: Option<String>,
    pub host: Option<String>,
    pub remote_port: Option<u16>,
    pub local_port: Option<u16>,
}

/// A forward's spec: flags, then the saved `[forwards.NAME]` (none for `auto`), then the stack (its
/// endpoint and port, through [`carrier_host`]).
pub fn forward_spec(
    facts: &StackFacts,
    forwards: &BTreeMap<String, ForwardConfig>,
    name: Option<&str>,
    flags: &ForwardFlags,
    selected_host: Option<&str>,
) -> Result<ForwardSpec, DecideError> {
    let name = name.unwrap_or("auto");
    let saved = saved_forward(forwards, &Route::Forward(name.to_string()))?.cloned().unwrap_or_default();
    let host = match flags.host.clone().or(saved.host.clone()) {
        Some(h) => h,
        None => facts.endpoint().ok_or(DecideError::NoEndpoint)?,
    };
    let stack_port = || (Some(&host) == facts.endpoint().as_ref()).then(|| facts.param("port").and_then(|p| p.parse().ok())).flatten();
    let remote_port = flags.remote_port.or(saved.remote_port).or_else(stack_port).unwrap_or(DEFAULT_PORT);
    let target = carrier_host(facts, flags.target.as_deref().or(saved.target.as_deref()), selected_host)?;
    Ok(ForwardSpec { name: name.to_string(), target, host: Some(host), remote_port, local_port: flags.local_port.or(saved.local_port).unwrap_or(0) })
}

/// The forward a SQL route through `Forward(name)` opens: to the target's endpoint.
pub fn sql_forward_spec(facts: &StackFacts, forwards: &BTreeMap<String, ForwardConfig>, t: &DbTarget, selected_host: Option<&str>) -> Result<Option<ForwardSpec>, DecideError> {
    let Route::Forward(name) = &t.route else { return Ok(None) };
    let flags = ForwardFlags { host: Some(t.host.clone()), remote_port: Some(t.port), ..Default::default() };
    forward_spec(facts, forwards, Some(name), &flags, selected_host).map(Some)
}

/// Whether a running forward can carry a SQL route: it reaches the target's endpoint, and for a
/// named route it is the forward of that name (`auto` takes any).
pub fn reuses(t: &DbTarget, running: &ForwardSpec) -> bool {
    let Route::Forward(name) = &t.route else { return false };
    running.host.as_deref() == Some(t.host.as_str()) && running.remote_port == t.port && (name == "auto" || &running.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(hosts: &[(&str, &str, &str)]) -> StackFacts {
        StackFacts {
            params: Ok([("endpoint", "app.proxy"), ("port", "3307"), ("username", "app_user"), ("dbname", "app_db")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()),
            proxy_endpoint: Some("px.proxy".into()),
            hosts: Ok(hosts.iter().map(|(id, state, ssm)| HostFact { id: id.to_string(), state: state.to_string(), ssm: ssm.to_string() }).collect()),
        }
    }

    #[test]
    fn route_precedence() {
        assert_eq!(Route::decide(None, None, None), Route::Direct);
        assert_eq!(Route::decide(None, None, Some("auto")), Route::Forward("auto".into()));
        assert_eq!(Route::decide(Some("direct"), None, Some("auto")), Route::Direct);
        assert_eq!(Route::decide(None, Some(13306), Some("auto")), Route::Tunnel(13306));
        assert_eq!(Route::decide(Some("db"), None, None), Route::Forward("db".into()));
    }

    #[test]
    fn target_defaults_follow_the_endpoint() {
        let f = facts(&[]);
        let t = db_target(&f, &DbFlags::default(), Route::Direct, &BTreeMap::new()).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user.as_str(), t.database.as_deref()), ("app.proxy", 3307, "app_user", Some("app_db")));
        // Another endpoint does not inherit the stack's port.
        let t = db_target(&f, &DbFlags { host: Some("other".into()), ..Default::default() }, Route::Direct, &BTreeMap::new()).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user.as_str()), ("other", 3306, "app_user"));
        let t = db_target(&StackFacts::unknown("x"), &DbFlags { host: Some("h".into()), ..Default::default() }, Route::Direct, &BTreeMap::new()).unwrap();
        assert_eq!(t.user, DEFAULT_USER);
        assert_eq!(db_target(&StackFacts::unknown("x"), &DbFlags::default(), Route::Direct, &BTreeMap::new()), Err(DecideError::NoEndpoint));
    }

    #[test]
    fn a_saved_forward_names_the_target() {
        let mut fw = BTreeMap::new();
        fw.insert("replica".to_string(), ForwardConfig { host: Some("replica.db".into()), remote_port: Some(3310), ..Default::default() });
        let t = db_target(&facts(&[]), &DbFlags::default(), Route::Forward("replica".into()), &fw).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("replica.db", 3310));
        assert!(matches!(db_target(&facts(&[]), &DbFlags::default(), Route::Forward("nope".into()), &fw), Err(DecideError::UnknownForward { .. })));
    }

    #[test]
    fn carrier_host_rules() {
        let two = facts(&[("i-a", "running", "Online"), ("i-b", "stopped", "ConnectionLost")]);
        assert_eq!(carrier_host(&two, None, None).unwrap(), "i-a");
        assert_eq!(carrier_host(&two, None, Some("i-b")).unwrap(), "i-b");
        assert_eq!(carrier_host(&two, Some("i-x"), Some("i-b")).unwrap(), "i-x");
        let both = facts(&[("i-a", "running", "Online"), ("i-b", "running", "Online")]);
        assert!(matches!(carrier_host(&both, None, None), Err(DecideError::SeveralHosts(_))));
        assert_eq!(carrier_host(&facts(&[("i-a", "stopped", "")]), None, None).unwrap(), "i-a");
        assert_eq!(carrier_host(&facts(&[]), None, None), Err(DecideError::NoHost));
    }

    #[test]
    fn forward_spec_layers() {
        let f = facts(&[("i-a", "running", "Online")]);
        let s = forward_spec(&f, &BTreeMap::new(), None, &ForwardFlags::default(), None).unwrap();
        assert_eq!((s.name.as_str(), s.target.as_str(), s.host.as_deref(), s.remote_port, s.local_port), ("auto", "i-a", Some("app.proxy"), 3307, 0));
        let mut fw = BTreeMap::new();
        fw.insert("db".to_string(), ForwardConfig { target: Some("i-z".into()), local_port: Some(13306), ..Default::default() });
        let s = forward_spec(&f, &fw, Some("db"), &ForwardFlags { remote_port: Some(4000), ..Default::default() }, None).unwrap();
        assert_eq!((s.target.as_str(), s.remote_port, s.local_port), ("i-z", 4000, 13306));
    }
}
