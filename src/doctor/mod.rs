//! The doctor: walks the chain app host → proxy → target → database link by
//! link (DOCTOR.md) and names the first broken one, with the evidence it saw
//! and the fix. Evidence is gathered once, concurrently; the checks are pure
//! functions of it (so they are tested on fixtures); the last check is a real
//! IAM login. Checks run in chain order; a check whose prerequisite failed is
//! skipped and says which one it waited for.

mod checks;
pub mod evidence;
pub mod iam;
pub mod network;

use serde::Serialize;
use std::time::Duration;

use crate::aws::AwsContext;
use crate::settings::Settings;
use crate::ssm::transport::{PortForward, Transport};
use crate::target::{DbFlags, Route};
use checks::{F, check, fail, pass};
pub use evidence::{AuthLog, DbUser, Egress, Evidence, SSM_ENDPOINTS, gather};
use evidence::facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
}

impl Status {
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skipped => "-",
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The command, policy statement or SQL that fixes it.
    pub fix: Option<String>,
    /// For a skipped check: the check it needed.
    pub waited_for: Option<&'static str>,
}

/// The checks in chain order: (id, title, the checks it needs to have passed or warned).
/// A cause comes before what it causes: the proxy → database path before the targets' health.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("identity", "who am I: credentials and account", &[]),
    ("proxy", "the RDS Proxy is available", &["identity"]),
    ("proxy.tls", "the proxy requires TLS", &["proxy"]),
    ("proxy.auth", "the proxy's auth: IAM required, with a secret", &["proxy"]),
    ("instance", "the DB instance is available, IAM auth on", &["identity"]),
    ("network.proxy-db", "the proxy reaches the database on its port", &["proxy", "instance"]),
    ("targets", "the proxy's targets are available", &["proxy"]),
    ("host.egress", "the app host's way to Session Manager: a NAT or VPC endpoints", &["identity"]),
    ("host", "the app host runs and Session Manager reaches it", &["identity"]),
    ("network.host-proxy", "the app host reaches the proxy on 3306", &["proxy", "host"]),
    ("config", "the app's parameters point at the proxy", &["proxy"]),
    ("iam", "IAM allows the logins: you, the app host's role, the proxy's role", &["identity", "proxy"]),
    ("dbuser", "the database user: IAM plugin, REQUIRE SSL, grants", &["identity"]),
    ("login", "an IAM login over TLS as the app's user", &["identity"]),
    ("logs", "what the database saw: refused IAM logins in its exported log", &["identity"]),
];

/// Checks that need more than the evidence gathered up front: run last, in this order.
const LAST: [&str; 2] = ["login", "logs"];

fn title(id: &str) -> &'static str {
    CHECKS.iter().find(|c| c.0 == id).map(|c| c.1).unwrap_or("")
}

fn needs(id: &str) -> &'static [&'static str] {
    CHECKS.iter().find(|c| c.0 == id).map(|c| c.2).unwrap_or(&[])
}

/// Every check but the last ones (the login, the log), in chain order, each skipped when what it needs
/// did not hold.
pub fn evaluate(ev: &Evidence) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for (id, _, _) in CHECKS.iter().filter(|c| !LAST.contains(&c.0)) {
        out.push(finish(id, &out, || check(id, ev)));
    }
    out
}

/// The check `id` needs that failed or was skipped, if any.
fn blocked_by(id: &str, done: &[Finding]) -> Option<&'static str> {
    needs(id).iter().copied().find(|n| done.iter().any(|d| d.id == *n && matches!(d.status, Status::Fail | Status::Skipped)))
}

fn skipped(id: &'static str, waited_for: &'static str) -> Finding {
    Finding { id, title: title(id), status: Status::Skipped, summary: format!("waits for {waited_for}"), evidence: vec![], fix: None, waited_for: Some(waited_for) }
}

fn found(id: &'static str, r: F) -> Finding {
    Finding { id, title: title(id), status: r.status, summary: r.summary, evidence: r.evidence, fix: r.fix, waited_for: None }
}

/// Runs `f` for `id` unless a check it needs failed or was skipped.
fn finish(id: &'static str, done: &[Finding], f: impl FnOnce() -> F) -> Finding {
    match blocked_by(id, done) {
        Some(n) => skipped(id, n),
        None => found(id, f()),
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The database user to log in as (default: the app's).
    pub user: Option<String>,
    /// How the logins reach the database: direct, or a Session Manager forward (`auto`: through the
    /// app host, so TCP leaves from where the app's does; or a saved `[forwards.NAME]`).
    pub route: Route,
    /// How a forward travels (as for `rdsdeck forward`).
    pub transport: Transport,
}

impl Options {
    /// The doctor's options as `rdsdeck sql` decides its route: `via` (`--via`, `--from-host` is
    /// `auto`), else the config's `sql_via`, else direct.
    pub fn new(settings: &Settings, user: Option<String>, via: Option<&str>, transport: Transport) -> Options {
        Options { user, route: Route::decide(via, None, settings.sql_via.as_deref()), transport }
    }
}

/// The route the logins take: the local ports of the forwards they go through, if any (the app
/// user's to the app's endpoint, the IAM admin's to the instance).
#[derive(Debug, Clone)]
struct Via {
    port: Option<u16>,
    admin_port: Option<u16>,
    /// What it is ("forward auto: 127.0.0.1:PORT → HOST:3306 through i-… (native, smux)"), or why it
    /// could not be opened.
    line: Result<String, String>,
    notices: Vec<String>,
}

impl Via {
    /// The evidence lines about the route.
    fn evidence(&self) -> Vec<String> {
        let line = match &self.line {
            Ok(l) => l.clone(),
            Err(e) => e.clone(),
        };
        std::iter::once(line).chain(self.notices.iter().cloned()).filter(|l| !l.is_empty()).collect()
    }
}

/// Opens the forwards the route asks for (none for a direct route): to the app's endpoint for the
/// login, to the instance for the IAM admin's look at `mysql.user`.
/// Each forward goes into `slot` as soon as it is open, where `run` ends it however the run ends.
async fn open_via(ctx: &AwsContext, settings: &Settings, ev: &Evidence, opts: &Options, slot: &Slot) -> Via {
    let mut via = Via { port: None, admin_port: None, line: Ok(String::new()), notices: Vec::new() };
    let Route::Forward(name) = &opts.route else { return via };
    let flags = DbFlags { user: opts.user.clone(), ..Default::default() };
    let spec = crate::target::db_target(&facts(ev), &flags, opts.route.clone(), &settings.config.forwards)
        .and_then(|t| crate::target::sql_forward_spec(&facts(ev), &settings.config.forwards, &t, None));
    let spec = match spec {
        Ok(Some(s)) => s,
        Ok(None) => return via,
        Err(e) => {
            via.line = Err(format!("--via {name}: {e}"));
            return via;
        }
    };
    let admin_spec = evidence::admin_endpoint(ev, settings).and_then(|(host, port)| {
        let flags = crate::target::ForwardFlags { host: Some(host), remote_port: Some(port), target: Some(spec.target.clone()), ..Default::default() };
        crate::target::forward_spec(&facts(ev), &settings.config.forwards, Some(name), &flags, None).ok()
    });
    let mut notices = Vec::new();
    let mut note = |n: crate::ssm::transport::Notice| notices.push(n.to_string());
    let keep = |f: Box<dyn PortForward>| {
        if let Ok(mut s) = slot.lock() {
            s.push(f);
        }
    };
    match crate::ssm::transport::open_forward(ctx, &spec, opts.transport, &mut note).await {
        Ok(f) => {
            via.line = Ok(format!(
                "via forward {name}: 127.0.0.1:{} → {}:{} through {} ({})",
                f.local_addr().port(),
                spec.host.as_deref().unwrap_or("the instance"),
                spec.remote_port,
                spec.target,
                f.carrier()
            ));
            via.port = Some(f.local_addr().port());
            keep(f);
        }
        Err(e) => via.line = Err(format!("the forward {name} through {} could not be opened: {e}", spec.target)),
    }
    if let (Some(a), Some(_)) = (admin_spec, via.port) {
        match crate::ssm::transport::open_forward(ctx, &a, opts.transport, &mut note).await {
            Ok(f) => {
                via.admin_port = Some(f.local_addr().port());
                keep(f);
            }
            Err(e) => via.notices.push(format!("the IAM admin's forward to {}:{} could not be opened: {e}", a.host.as_deref().unwrap_or(""), a.remote_port)),
        }
    }
    via.notices.extend(notices);
    via
}

/// The forwards a run opened.
type Slot = std::sync::Mutex<Vec<Box<dyn PortForward>>>;

/// The real login: a token for the app's endpoint, TLS verified, as the user; the MySQL error mapped.
async fn login(ctx: &AwsContext, settings: &Settings, ev: &Evidence, opts: &Options, via: &Via) -> F {
    let flags = DbFlags { user: opts.user.clone(), ..Default::default() };
    let t = match crate::target::db_target(&facts(ev), &flags, opts.route.clone(), &settings.config.forwards) {
        Ok(t) => t,
        Err(e) => return fail("nothing to log in to", vec![e.to_string()], "pass --user, or fix the endpoint parameter"),
    };
    if let Err(e) = &via.line {
        return fail(format!("no route to {}:{}", t.host, t.port), vec![e.clone()], "see `host` and `host.egress` (Session Manager must reach the host), or run with --via direct");
    }
    let Some(provider) = ctx.sdk.credentials_provider() else { return fail("no credentials to sign a token", vec![], "see `identity`") };
    let spec = crate::target::connect_spec(&t, via.port, &ctx.region, settings, Duration::from_secs(10), true);
    // TCP sent elsewhere (a forward, connect_to: a tunnel, the sandbox): said, as it changes what was tested.
    let routed = (via.port.is_none() && spec.tls_name.is_some())
        .then(|| format!("TCP to {}:{} (connect_to); token and TLS name {}:{}", spec.host, spec.port, t.host, t.port));
    let route: Vec<String> = via.evidence().into_iter().chain(routed).collect();
    let c = crate::db::connect::Connector::new(spec, crate::db::connect::Auth::Iam(provider));
    let at = format!("{}@{}:{}", t.user, t.host, t.port);
    match c.connect_wire().await {
        Ok(conn) => {
            let (v, cipher) = conn.tls();
            let id = conn.id();
            conn.close().await;
            pass(format!("logged in as {at} over {v}"), [format!("cipher {cipher}, connection {id}")].into_iter().chain(route).collect())
        }
        Err(e) => {
            let fix = match e.code {
                Some(1045) => format!(
                    "check that {} exists IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' (and REQUIRE SSL), and that your identity may rds-db:connect on …:dbuser:prx-ID/{} (through the proxy)",
                    t.user, t.user
                ),
                Some(1524) => "enable IAM database authentication on the instance (see `instance`)".into(),
                Some(3159) => "connect with TLS (rdsdeck always does: is something in between?)".into(),
                Some(9501) => "the proxy could not get a database connection: see `targets`".into(),
                _ => "see the error: the endpoint, the network path, the CA (--ca)".into(),
            };
            fail(format!("the login as {at} failed"), [e.message].into_iter().chain(route).collect(), fix)
        }
    }
}

/// Runs the doctor: gathers, evaluates, logs in; each finding is handed to `each` as it is made.
/// When `cancel` completes first the run stops there; a forward it opened is ended either way.
pub async fn run(
    ctx: &AwsContext,
    settings: &Settings,
    opts: &Options,
    each: impl FnMut(&Finding),
    cancel: impl std::future::Future<Output = ()>,
) -> Vec<Finding> {
    let slot: Slot = std::sync::Mutex::new(Vec::new());
    let out = tokio::select! {
        out = checks(ctx, settings, opts, each, &slot) => out,
        _ = cancel => Vec::new(),
    };
    let forwards = slot.lock().map(|mut f| std::mem::take(&mut *f)).unwrap_or_default();
    for f in forwards {
        f.stop().await;
    }
    out
}

async fn checks(
    ctx: &AwsContext,
    settings: &Settings,
    opts: &Options,
    mut each: impl FnMut(&Finding),
    slot: &Slot,
) -> Vec<Finding> {
    let mut ev = gather(ctx, settings, opts).await;
    let via = open_via(ctx, settings, &ev, opts, slot).await;
    let no_route = match (&via.line, opts.route == Route::Direct, via.admin_port) {
        (Err(e), _, _) => Some(e.clone()),
        (Ok(_), false, None) => Some(via.notices.last().cloned().unwrap_or_else(|| "no forward to the instance".into())),
        _ => None,
    };
    evidence::gather_more(ctx, settings, &mut ev, via.admin_port, no_route.as_ref()).await;
    let mut out = evaluate(&ev);
    for f in &out {
        each(f);
    }
    let mut f = match blocked_by("login", &out) {
        Some(n) => skipped("login", n),
        None => found("login", login(ctx, settings, &ev, opts, &via).await),
    };
    // A refused login whose cause a check above already named points there.
    if f.status == Status::Fail
        && let Some(cause) = out.iter().find(|c| c.status == Status::Fail)
    {
        f.fix = Some(format!("first fix `{}` above: {}", cause.id, cause.fix.clone().unwrap_or_default()));
    }
    each(&f);
    out.push(f);
    // What the database saw, this login included.
    if blocked_by("logs", &out).is_none() {
        ev.auth_log = evidence::auth_log(ctx, &ev).await;
    }
    let f = finish("logs", &out, || check("logs", &ev));
    each(&f);
    out.push(f);
    out
}

#[cfg(test)]
mod tests {
    use super::network::{Group, Rule};
    use super::*;
    use crate::aws::Identity;
    use crate::bootstrap::run::UserState;
    use crate::stack::{Health, Kind, Located, Resource};

    fn res(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, id, id).health(Health::Ok)
    }

    fn healthy() -> Evidence {
        let proxy = res(Kind::Proxy, "dev-node-app")
            .attr("status", "available")
            .attr("endpoint", "px.proxy")
            .attr("require_tls", true)
            .attr("security_group_ids", vec!["sg-prx"])
            .attr("auth", serde_json::json!([{"iam_auth": "REQUIRED", "secret_arn": "arn:secret"}]));
        let params = [("endpoint", "px.proxy"), ("port", "3306"), ("username", "node_user"), ("region", "us-east-1")]
            .iter()
            .map(|(k, v)| res(Kind::Parameter, &format!("/dev/database/{k}")).attr("value", *v))
            .collect();
        let g = |id: &str, from: &str| Group {
            id: id.into(),
            name: id.into(),
            ingress: vec![Rule { protocol: "tcp".into(), from_port: 3306, to_port: 3306, cidrs: vec![], groups: vec![from.into()] }],
            egress: vec![Rule { protocol: "-1".into(), from_port: -1, to_port: -1, cidrs: vec!["0.0.0.0/0".into()], groups: vec![] }],
        };
        Evidence {
            region: "us-east-1".into(),
            profile: None,
            identity: Ok(Identity { account: "1".into(), arn: "arn:aws:iam::1:user/x".into(), user_id: "x".into() }),
            clock: Some(1),
            located: Ok(Located { proxy: Some("dev-node-app".into()), proxy_endpoint: Some("px.proxy".into()), instance_sgs: vec!["sg-rds".into()], parameter_prefix: "/dev/database/".into(), ..Default::default() }),
            proxies: Ok(vec![proxy]),
            targets: Ok(vec![res(Kind::Target, "db").attr("health_state", "AVAILABLE")]),
            instances: Ok(vec![res(Kind::Instance, "db").attr("status", "available").attr("iam_auth", true).attr("endpoint_address", "db.instance").attr("endpoint_port", 3306)]),
            hosts: Ok(vec![res(Kind::Host, "i-1").attr("state", "running").attr("ssm_ping_status", "Online").attr("security_group_ids", vec!["sg-ec2"])]),
            params: Ok(params),
            groups: Ok(vec![g("sg-ec2", "sg-alb"), g("sg-prx", "sg-ec2"), g("sg-rds", "sg-prx")]),
            auth_log: Ok(AuthLog { instance: "db".into(), group: "/aws/rds/instance/db/iam-db-auth-error".into(), exported: true, window_min: 15, events: vec![] }),
            egress: Ok(Egress { host: "i-1".into(), subnet: "subnet-1".into(), vpc: "vpc-1".into(), route_table: "rtb-1".into(), route: Some("nat-1".into()), endpoints: vec![] }),
            user: "node_user".into(),
            permissions: Ok(vec![
                perm("you", "arn:aws:iam::1:user/x", Ok(("allowed".into(), vec!["ops".into()]))),
                perm("the app host's role", "arn:aws:iam::1:role/app", Ok(("allowed".into(), vec!["app".into()]))),
            ]),
            db_user: Ok(DbUser { admin: "dbadmin".into(), at: "db.instance:3306".into(), database: "node_db".into(), privileges: vec!["SELECT".into()], state: UserState::Complete }),
        }
    }

    fn perm(who: &'static str, principal: &str, answer: Result<(String, Vec<String>), String>) -> iam::Permission {
        iam::Permission { who, principal: principal.into(), action: "rds-db:connect", resource: "arn:aws:rds-db:us-east-1:1:dbuser:prx-1/node_user".into(), answer }
    }

    fn first_failure(ev: &Evidence) -> Option<(&'static str, Option<String>)> {
        evaluate(ev).into_iter().find(|f| f.status == Status::Fail).map(|f| (f.id, f.fix))
    }

    #[test]
    fn a_healthy_stack_passes_every_check() {
        let found = evaluate(&healthy());
        assert!(found.iter().all(|f| f.status == Status::Pass), "{found:#?}");
        assert_eq!(found.len(), CHECKS.len() - LAST.len());
    }

    #[test]
    fn each_broken_link_is_the_first_failure_with_its_fix() {
        let mut ev = healthy();
        ev.groups.as_mut().unwrap()[1].ingress.clear();
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "network.host-proxy");
        assert!(fix.unwrap().contains("authorize-security-group-ingress --group-id sg-prx"));

        let mut ev = healthy();
        ev.instances.as_mut().unwrap()[0].attributes.insert("iam_auth".into(), false.into());
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "instance");
        assert!(fix.unwrap().contains("--enable-iam-database-authentication"));

        let mut ev = healthy();
        ev.proxies.as_mut().unwrap()[0].attributes.insert("auth".into(), serde_json::json!([{"iam_auth": "DISABLED", "secret_arn": "arn:secret"}]));
        assert_eq!(first_failure(&ev).unwrap().0, "proxy.auth");

        let mut ev = healthy();
        let params = ev.params.as_mut().unwrap();
        params[0].attributes.insert("value".into(), "db.instance".into());
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "config");
        assert!(fix.unwrap().contains("put-parameter --overwrite --name /dev/database/endpoint --type String --value px.proxy"));

        let mut ev = healthy();
        ev.targets = Ok(vec![res(Kind::Target, "db").attr("health_state", "UNAVAILABLE").attr("health_reason", "AUTH_FAILURE")]);
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "targets");
        assert!(fix.unwrap().contains("secret"));
    }

    #[test]
    fn a_denied_connect_and_an_incomplete_user_are_named_with_their_fix() {
        let mut ev = healthy();
        ev.permissions.as_mut().unwrap()[1].answer = Ok(("implicitDeny".into(), vec![]));
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "iam");
        let fix = fix.unwrap();
        assert!(fix.starts_with("aws iam put-role-policy --role-name app --policy-name rdsdeck-db-connect"), "{fix}");
        assert!(fix.contains("dbuser:prx-1/node_user"), "{fix}");

        // The simulator itself denied: a warning that says what to add, not a failure.
        let mut ev = healthy();
        ev.permissions.as_mut().unwrap()[0].answer = Err("AccessDenied: not authorized — the identity lacks this permission".into());
        let f = evaluate(&ev).into_iter().find(|f| f.id == "iam").unwrap();
        assert_eq!(f.status, Status::Warn);
        assert!(f.fix.unwrap().contains(r#""Action":"iam:SimulatePrincipalPolicy""#));

        let mut ev = healthy();
        ev.db_user.as_mut().unwrap().state = UserState::Incomplete(vec!["REQUIRE SSL".into(), "SELECT ON `node_db`.*".into()]);
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "dbuser");
        assert_eq!(fix.unwrap(), "ALTER USER 'node_user'@'%' REQUIRE SSL; GRANT SELECT ON `node_db`.* TO 'node_user'@'%';");

        // mysql.user out of sight: not checked, and said so; nothing fails for it.
        let mut ev = healthy();
        ev.db_user = Err("the IAM admin dbadmin could not log in".into());
        let f = evaluate(&ev).into_iter().find(|f| f.id == "dbuser").unwrap();
        assert_eq!((f.status, f.waited_for), (Status::Skipped, None));
        assert!(first_failure(&ev).is_none());
    }

    #[test]
    fn a_host_without_a_way_out_needs_the_three_endpoints() {
        let mut ev = healthy();
        let e = ev.egress.as_mut().unwrap();
        e.route = None;
        e.endpoints = vec!["com.amazonaws.us-east-1.ssm".into()];
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "host.egress");
        let fix = fix.unwrap();
        assert!(fix.contains("com.amazonaws.us-east-1.ssmmessages") && fix.contains("com.amazonaws.us-east-1.ec2messages"), "{fix}");
        assert!(!fix.contains("service-name com.amazonaws.us-east-1.ssm "), "ssm is there already: {fix}");
        let e = ev.egress.as_mut().unwrap();
        e.endpoints = SSM_ENDPOINTS.iter().map(|s| format!("com.amazonaws.us-east-1.{s}")).collect();
        assert!(first_failure(&ev).is_none());
    }

    #[test]
    fn refused_logins_in_the_exported_log_warn_and_an_unexported_log_says_how_to_export_it() {
        let mut ev = healthy();
        ev.auth_log.as_mut().unwrap().events = vec![(1, "a".into()), (2, "[ERROR] IAM authentication failed for user 'u': not authorized".into())];
        let f = checks::check("logs", &ev);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.starts_with("2 refused IAM login(s)") && f.summary.ends_with("not authorized"), "{}", f.summary);
        assert_eq!(f.evidence[1], "[ERROR] IAM authentication failed for user 'u': not authorized", "newest first");
        let l = ev.auth_log.as_mut().unwrap();
        l.exported = false;
        l.events.clear();
        let f = checks::check("logs", &ev);
        assert_eq!(f.status, Status::Skipped);
        assert!(f.fix.unwrap().contains(r#"--cloudwatch-logs-export-configuration '{"EnableLogTypes":["iam-db-auth-error"]}'"#));
    }

    #[test]
    fn a_clock_off_by_minutes_fails_and_by_one_warns() {
        let mut ev = healthy();
        ev.clock = Some(-420);
        let (id, fix) = first_failure(&ev).unwrap();
        assert_eq!(id, "identity");
        assert!(fix.unwrap().contains("timedatectl"));
        ev.clock = Some(75);
        let f = evaluate(&ev).into_iter().next().unwrap();
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("ahead of AWS's by 75 s") && f.summary.contains("shorter"), "{}", f.summary);
        ev.clock = None;
        assert_eq!(evaluate(&ev)[0].status, Status::Pass);
    }

    #[test]
    fn a_failed_prerequisite_skips_what_needs_it() {
        let mut ev = healthy();
        ev.proxies = Ok(vec![]);
        let found = evaluate(&ev);
        let by = |id: &str| found.iter().find(|f| f.id == id).unwrap().clone();
        assert_eq!(by("proxy").status, Status::Fail);
        for id in ["proxy.tls", "proxy.auth", "targets", "network.host-proxy", "network.proxy-db", "config", "iam"] {
            assert_eq!((by(id).status, by(id).waited_for), (Status::Skipped, Some("proxy")), "{id}");
        }
        assert_eq!(by("instance").status, Status::Pass, "independent checks still run");
    }
}
