//! What each tour step does, for real: the stack read as the doctor reads it, a token signed and
//! decoded, logins that pass and logins that must fail, a forward carrying a query, the bootstrap's
//! plan, and on the sandbox a link broken and mended. Nothing here prints: an [`Outcome`] says
//! what happened, line by line, for the view to draw.

use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, SystemTime};

use super::{Action, Step};
use crate::aws::AwsContext;
use crate::db::connect::{Auth, Connector};
use crate::doctor::{Finding, Status};
use crate::settings::Settings;
use crate::ssm::transport::Transport;
use crate::target::{DbFlags, DbTarget, Route, StackFacts};

/// The value, or — on an error — the outcome `o` says `what: error` and is returned: a step stops at
/// the first thing it cannot do, and says which.
macro_rules! or_say {
    ($o:ident, $e:expr, $what:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                $o.say(Tone::Bad, format!("{}: {e}", $what));
                return $o;
            }
        }
    };
}

/// How a line of an outcome reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Bad,
    Muted,
    /// The part of the picture the step is about.
    Focus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said(pub Tone, pub String);

/// What a step did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// It did what the step teaches (a refusal the step expects counts as done).
    pub done: bool,
    pub lines: Vec<Said>,
    /// A token signed here (kept for the next step, never shown whole).
    pub token: Option<SecretString>,
}

impl Outcome {
    fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.lines.push(Said(tone, crate::untrusted::line(&text.into()).into_owned()));
    }
}

/// What one step leaves for the next ones (the token to decode).
#[derive(Default, Clone)]
pub struct Memory {
    pub token: Option<SecretString>,
}

/// The stack may be changed by the tour: the sandbox (every AWS endpoint on this machine), and not
/// `--read-only`. Anything else is a real stack, where a step that changes it is shown, not run.
pub fn may_change(ctx: &AwsContext, settings: &Settings) -> bool {
    let local = crate::aws::is_loopback_url;
    let ec2 = std::env::var("AWS_ENDPOINT_URL_EC2").ok();
    !settings.read_only && ctx.endpoint.as_deref().is_some_and(local) && ec2.as_deref().is_none_or(local)
}

/// Does `step` on the stack.
/// Resolves once `stop` says so (or its sender is gone): a step's cue to close what it opened.
pub async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Does `step` on the stack; when `stop` turns true it ends early and closes what it opened.
pub async fn perform(ctx: &AwsContext, settings: &Settings, step: &Step, memory: &Memory, may_change: bool, stop: tokio::sync::watch::Receiver<bool>) -> Outcome {
    let Some(action) = step.action else { return Outcome { done: true, ..Default::default() } };
    // Each on the heap: together their state would not fit a worker thread's stack.
    let work: futures::future::BoxFuture<'_, Outcome> = match action {
        Action::Stack => Box::pin(stack(ctx, settings, &step.focus)),
        Action::ProxyAuth => Box::pin(proxy_auth(ctx, settings)),
        Action::SignToken => Box::pin(sign(ctx, settings)),
        Action::Decode => Box::pin(decode(ctx, settings, memory)),
        Action::Login => Box::pin(login(ctx, settings)),
        Action::LoginWrongHost => Box::pin(wrong_host(ctx, settings)),
        Action::LoginNoTls => Box::pin(no_tls(ctx, settings)),
        Action::ForwardQuery => Box::pin(forward_query(ctx, settings, stop)),
        Action::BootstrapPlan => Box::pin(bootstrap_plan(ctx, settings)),
        Action::Break | Action::Fix if !may_change => Box::pin(shown(ctx, settings, action)),
        Action::Break => Box::pin(security_rule(ctx, settings, false)),
        Action::Fix => Box::pin(security_rule(ctx, settings, true)),
        Action::Doctor => Box::pin(doctor(ctx, settings, stop)),
    };
    work.await
}

fn options(settings: &Settings) -> crate::doctor::Options {
    crate::doctor::Options::new(settings, None, None, Transport::Auto)
}

fn status_tone(s: Status) -> Tone {
    match s {
        Status::Pass => Tone::Good,
        Status::Warn | Status::Skipped => Tone::Muted,
        Status::Fail => Tone::Bad,
    }
}

/// The chain as the doctor's checks see it. With the app host in `focus` (or no link named): the
/// whole chain, the links in focus marked ▶; otherwise each link in focus with what was seen.
async fn stack(ctx: &AwsContext, settings: &Settings, focus: &[String]) -> Outcome {
    let ev = Box::pin(crate::doctor::gather(ctx, settings, &options(settings))).await;
    let found = crate::doctor::evaluate(&ev);
    let get = |id: &str| found.iter().find(|f| f.id == id);
    let mut o = Outcome::default();
    if let Err(e) = &ev.located {
        o.say(Tone::Bad, format!("the stack was not found: {e}"));
        return o;
    }
    // No link named: the app host.
    let in_focus = |group: &str| if focus.is_empty() { group == "host" } else { focus.iter().any(|f| f == group) };
    // (label, check, the focus it belongs to)
    let rows: [(&str, &str, &str); 7] = [
        ("App host", "host", "host"),
        ("   │", "network.host-proxy", "network"),
        ("RDS Proxy", "proxy", "proxy"),
        ("   │ TLS", "proxy.tls", "proxy"),
        ("   │", "network.proxy-db", "network"),
        ("DB", "instance", "instance"),
        ("Config", "config", "config"),
    ];
    if in_focus("host") {
        for (label, id, group) in rows {
            let Some(f) = get(id) else { continue };
            let mark = if in_focus(group) { "▶" } else { " " };
            o.say(if in_focus(group) { Tone::Focus } else { status_tone(f.status) }, format!("{mark} {label:<10} {} {}", f.status.symbol(), f.summary));
        }
    }
    // The other links in focus with what was seen (outbound rules that allow everything are left
    // out: they decide nothing here, the inbound rules do).
    for (label, id, _) in rows.iter().filter(|r| in_focus(r.2) && !in_focus("host")) {
        let Some(f) = get(id) else { continue };
        let name = match label.trim_start_matches("   │").trim() {
            "" => "the path",
            l => l,
        };
        o.say(Tone::Focus, format!("▶ {name} {} {}", f.status.symbol(), f.summary));
        for e in f.evidence.iter().filter(|e| !e.contains("out to 0.0.0.0/0")).take(6) {
            o.say(Tone::Muted, format!("    {e}"));
        }
    }
    o.done = rows.iter().filter(|r| in_focus(r.2)).any(|r| get(r.1).is_some());
    o
}

async fn proxy_auth(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let ev = Box::pin(crate::doctor::gather(ctx, settings, &options(settings))).await;
    let mut o = Outcome::default();
    let name = ev.located.as_ref().ok().and_then(|l| l.proxy.clone());
    let proxy = ev.proxies.as_ref().ok().and_then(|ps| ps.iter().find(|p| Some(&p.name) == name.as_ref()));
    let Some(p) = proxy else {
        o.say(Tone::Bad, format!("the stack's proxy could not be read: {}", ev.proxies.as_ref().err().cloned().unwrap_or_else(|| "no proxy in the stack".into())));
        return o;
    };
    // The verdict first: the fields below may need a scroll at 80x24.
    if let Some(f) = crate::doctor::evaluate(&ev).into_iter().find(|f| f.id == "proxy.auth") {
        o.say(status_tone(f.status), format!("verdict: {} {}", f.status.symbol(), f.summary));
    }
    o.say(Tone::Plain, format!("DBProxyName        {}", p.name));
    o.say(Tone::Plain, format!("RequireTLS         {}", p.attributes.get("require_tls").map(|v| v.to_string()).unwrap_or_default()));
    o.say(Tone::Focus, format!("DefaultAuthScheme  {}", p.get_str("default_auth_scheme").filter(|s| !s.is_empty()).unwrap_or("(not set)")));
    o.say(Tone::Plain, format!("RoleArn            {}", p.get_str("role_arn").unwrap_or("")));
    let auth = p.attributes.get("auth").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    for (i, a) in auth.iter().enumerate() {
        o.say(Tone::Plain, format!("Auth[{i}]"));
        for (k, key) in [("AuthScheme", "auth_scheme"), ("IAMAuth", "iam_auth"), ("SecretArn", "secret_arn")] {
            if let Some(v) = a[key].as_str() {
                o.say(if key == "iam_auth" || key == "secret_arn" { Tone::Focus } else { Tone::Plain }, format!("  {k:<17}{v}"));
            }
        }
    }
    o.done = true;
    o
}

/// The stack's facts (as the CLI reads them) and the app's database target, directly.
async fn app_target(ctx: &AwsContext, settings: &Settings) -> Result<(StackFacts, DbTarget), String> {
    let facts = crate::target::gather(ctx, settings).await?;
    let t = crate::target::db_target(&facts, &DbFlags::default(), Route::Direct, &settings.config.forwards).map_err(|e| e.to_string())?;
    Ok((facts, t))
}

async fn sign_for(ctx: &AwsContext, host: &str, port: u16, user: &str) -> Result<SecretString, String> {
    let req = crate::auth::token::TokenRequest { hostname: host.to_string(), port, region: ctx.region.clone(), username: user.to_string() };
    crate::auth::sign_with_context(ctx, &req, SystemTime::now()).await.map_err(|e| e.to_string())
}

/// The token with its secrets hidden (the signature and the session token masked, the access key
/// id cut to its last four characters): what it is made of, not the credential.
fn masked(token: &str) -> String {
    let (head, query) = token.split_once('?').unwrap_or((token, ""));
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k @ ("X-Amz-Signature" | "X-Amz-Security-Token"), _)) => format!("{k}=••••••••"),
            // The access key id as `token inspect` shows it: its last four characters.
            Some(("X-Amz-Credential", v)) => {
                let (key, scope) = v.split_once("%2F").map(|(k, r)| (k, format!("%2F{r}"))).unwrap_or((v, String::new()));
                let last4: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
                format!("X-Amz-Credential=…{last4}{scope}")
            }
            _ => kv.to_string(),
        })
        .collect();
    format!("{head}?{}", parts.join("&"))
}

async fn sign(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let mut o = Outcome::default();
    let (_, t) = or_say!(o, app_target(ctx, settings).await, "no endpoint to sign for");
    match sign_for(ctx, &t.host, t.port, &t.user).await {
        Ok(tok) => {
            let text = tok.expose_secret();
            o.say(Tone::Good, format!("signed for {} in {}, with no AWS call: {} characters; the secret parts masked:", t.user, ctx.region, text.len()));
            o.say(Tone::Muted, masked(text));
            o.token = Some(tok);
            o.done = true;
        }
        Err(e) => o.say(Tone::Bad, format!("the token could not be signed: {e}")),
    }
    o
}

async fn decode(ctx: &AwsContext, settings: &Settings, memory: &Memory) -> Outcome {
    let mut o = Outcome::default();
    let tok = match &memory.token {
        Some(t) => t.clone(),
        None => {
            let signed = sign(ctx, settings).await;
            match signed.token {
                Some(t) => {
                    o.say(Tone::Muted, "(no token from the step before: a new one was signed)");
                    t
                }
                None => return signed,
            }
        }
    };
    match crate::auth::token::inspect(tok.expose_secret(), SystemTime::now()) {
        Ok(i) => {
            o.say(Tone::Focus, format!("host       {}:{}", i.host, i.port));
            o.say(Tone::Plain, "Action     connect");
            o.say(Tone::Focus, format!("DBUser     {}", i.user));
            o.say(Tone::Plain, format!("region     {} · service {}", i.region, i.service));
            o.say(Tone::Plain, format!("signed by  access key …{}{}", i.key_id_last4, if i.session_token { " (with a session token)" } else { "" }));
            o.say(Tone::Plain, format!("signed at  {}", i.signed_at));
            o.say(Tone::Focus, format!("lifetime   {} s: valid until {} ({} s left)", i.lifetime_seconds, i.expires_at, i.remaining_seconds));
            o.done = true;
        }
        Err(e) => o.say(Tone::Bad, format!("the token could not be decoded: {e}")),
    }
    o
}

async fn login(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let mut o = Outcome::default();
    let (_, t) = or_say!(o, app_target(ctx, settings).await, "nothing to log in to");
    let provider = or_say!(o, ctx.sdk.credentials_provider().ok_or("none in the AWS context"), "no AWS credentials to sign a token with");
    let spec = crate::target::connect_spec(&t, None, &ctx.region, settings, Duration::from_secs(10), true);
    if spec.tls_name.is_some() {
        o.say(Tone::Muted, format!("the sandbox's proxy listens on {}:{}: TCP goes there, but the token and the certificate name the proxy's endpoint, as they must", spec.host, spec.port));
    }
    query_as(&mut o, Connector::new(spec, Auth::Iam(provider)), &t, false).await;
    o
}

/// Logs in, asks the server who we are, says it (`brief`: in one line, as a second time).
async fn query_as(o: &mut Outcome, c: Connector, t: &DbTarget, brief: bool) {
    match c.connect_wire().await {
        Ok(mut conn) => {
            let (v, cipher) = conn.tls();
            if !brief {
                o.say(Tone::Good, format!("logged in to {}:{} over {v}, cipher {cipher}", t.host, t.port));
            }
            let mut rows = Rows::default();
            match conn.run("SELECT CURRENT_USER() AS current_user_, @@version AS version", &mut rows).await {
                Ok(_) => {
                    for r in rows.0 {
                        let who = r.first().cloned().unwrap_or_default();
                        if brief {
                            o.say(Tone::Good, format!("CURRENT_USER() = {who} through the forward, over {v}"));
                            continue;
                        }
                        o.say(Tone::Focus, format!("CURRENT_USER() = {who}"));
                        o.say(Tone::Plain, format!("server version {}{}", r.get(1).cloned().unwrap_or_default(), if r.get(1).is_some_and(|v| v.contains("MariaDB")) { " (the sandbox's MariaDB stands in for RDS MySQL)" } else { "" }));
                    }
                    o.done = true;
                }
                Err(e) => o.say(Tone::Bad, format!("the query failed: {}", c.explain_wire(&e).message)),
            }
            conn.close().await;
        }
        Err(e) => o.say(Tone::Bad, format!("the login failed: {}", e.message)),
    }
}

/// Rows as text.
#[derive(Default)]
struct Rows(Vec<Vec<String>>);

impl crate::db::rows::Sink for Rows {
    fn start(&mut self, _columns: &[String]) -> std::io::Result<()> {
        Ok(())
    }
    fn row(&mut self, row: Vec<crate::db::rows::Cell>) -> std::io::Result<()> {
        if self.0.len() < 10 {
            self.0.push(row.iter().map(|c| c.display(200)).collect());
        }
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn wrong_host(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let mut o = Outcome::default();
    let (_, t) = or_say!(o, app_target(ctx, settings).await, "nothing to log in to");
    let spec = crate::target::connect_spec(&t, None, &ctx.region, settings, Duration::from_secs(10), true);
    // The mistake: the token names where TCP goes (a tunnel's 127.0.0.1), not the endpoint.
    let local_port = if spec.tls_name.is_some() { spec.port } else { 13306 };
    let token = or_say!(o, sign_for(ctx, "127.0.0.1", local_port, &t.user).await, "the token could not be signed");
    o.say(Tone::Plain, format!("token signed for 127.0.0.1:{local_port}; TLS verified against {}", t.host));
    let tls = or_say!(o, crate::tls::client_config(spec.ca.as_deref()), "no TLS configuration");
    let login = crate::db::wire::Login {
        host: &spec.host,
        port: spec.port,
        tls_name: &t.host,
        user: &t.user,
        database: None,
        secret: token.expose_secret(),
        tls,
    };
    let c = Connector::new(spec.clone(), Auth::Password(SecretString::from(String::new())));
    match tokio::time::timeout(Duration::from_secs(10), crate::db::wire::WireConn::connect(login)).await {
        Ok(Err(e)) => {
            let e = c.explain_wire(&e);
            if e.code == Some(1045) {
                o.say(Tone::Focus, format!("the server refused it with 1045, as RDS does: the token names 127.0.0.1:{local_port}, not {}", t.host));
                o.say(Tone::Muted, "(the server's own words are generic — access denied — whatever was wrong with the token)");
                o.done = true;
            } else {
                o.say(Tone::Bad, format!("refused, but not for the token: {}", e.message));
            }
        }
        Ok(Ok(conn)) => {
            conn.close().await;
            o.say(Tone::Bad, "the server accepted a token for the wrong host: it does not check the name a token was signed for");
        }
        Err(_) => o.say(Tone::Bad, format!("no answer from {}:{} in 10 s", spec.host, spec.port)),
    }
    o
}

/// A server that only greets, without offering TLS; it reports how many bytes the client sent.
async fn greeter() -> std::io::Result<(u16, tokio::task::JoinHandle<usize>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = l.local_addr()?.port();
    let task = tokio::spawn(async move {
        let Ok(Ok((mut s, _))) = tokio::time::timeout(Duration::from_secs(10), l.accept()).await else { return 0 };
        let _ = s.write_all(&greeting()).await;
        let mut got = 0;
        let mut buf = [0u8; 4096];
        // Whatever the client sends in the next second (it should send nothing and hang up).
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            got += n;
        }
        got
    });
    Ok((port, task))
}

/// A MySQL protocol-10 greeting whose capabilities lack CLIENT_SSL.
fn greeting() -> Vec<u8> {
    let caps: u32 = 0x0001 | 0x0004 | 0x0008 | 0x0200 | 0x2000 | 0x8000 | 0x0008_0000;
    let mut p = vec![10u8];
    p.extend_from_slice(b"8.0.36-no-tls\0");
    p.extend_from_slice(&7u32.to_le_bytes());
    p.extend_from_slice(b"abcdefgh\0");
    p.extend_from_slice(&((caps & 0xffff) as u16).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0u8; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0");
    p.extend_from_slice(b"mysql_native_password\0");
    let mut out = (p.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(0);
    out.extend(p);
    out
}

async fn no_tls(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let mut o = Outcome::default();
    let (_, t) = or_say!(o, app_target(ctx, settings).await, "nothing to sign for");
    let provider = or_say!(o, ctx.sdk.credentials_provider().ok_or("none in the AWS context"), "no AWS credentials to sign a token with");
    let (port, server) = or_say!(o, greeter().await, "the test server could not start");
    o.say(Tone::Plain, format!("a server without TLS listens on 127.0.0.1:{port}; the token is signed for {}", t.host));
    let mut spec = crate::target::connect_spec(&t, Some(port), &ctx.region, settings, Duration::from_secs(5), true);
    spec.host = "127.0.0.1".into();
    let result = Connector::new(spec, Auth::Iam(provider)).connect_wire().await;
    let sent = server.await.unwrap_or(0);
    match result {
        Err(e) => {
            let no_tls = e.message.contains("TLS");
            o.say(
                if no_tls { Tone::Focus } else { Tone::Bad },
                if no_tls { format!("rdsdeck refused: the server on 127.0.0.1:{port} offers no TLS, so the token was never sent") } else { format!("refused, but not for TLS: {}", e.message) },
            );
            o.say(if sent == 0 { Tone::Good } else { Tone::Bad }, format!("bytes the server received after its greeting: {sent}"));
            o.done = no_tls && sent == 0;
        }
        Ok(conn) => {
            conn.close().await;
            o.say(Tone::Bad, "rdsdeck logged in without TLS: this must never happen");
        }
    }
    o
}

async fn forward_query(ctx: &AwsContext, settings: &Settings, stop: tokio::sync::watch::Receiver<bool>) -> Outcome {
    let mut o = Outcome::default();
    let (facts, t) = or_say!(o, app_target(ctx, settings).await, "nothing to forward to");
    let t = DbTarget { route: Route::Forward("auto".into()), ..t };
    let spec = match crate::target::sql_forward_spec(&facts, &settings.config.forwards, &t, None) {
        Ok(Some(s)) => s,
        Ok(None) => {
            o.say(Tone::Bad, "no forward for this route");
            return o;
        }
        Err(e) => {
            o.say(Tone::Bad, format!("no host to carry the forward: {e}"));
            return o;
        }
    };
    let mut notices = Vec::new();
    let mut note = |n: crate::ssm::transport::Notice| notices.push(n.to_string());
    let opened = tokio::select! {
        f = crate::ssm::transport::open_forward(ctx, &spec, Transport::Auto, &mut note) => f,
        _ = stopped(stop.clone()) => Err("stopped".into()),
    };
    let mut f = or_say!(o, opened, format!("the forward through {} could not be opened", spec.target));
    let local = f.local_addr().port();
    o.say(Tone::Good, format!("session {} on {}", f.session_id(), spec.target));
    o.say(Tone::Plain, format!("127.0.0.1:{local} → {}:{} through the app host", t.host, t.port));
    for n in notices {
        o.say(Tone::Muted, n);
    }
    match ctx.sdk.credentials_provider() {
        Some(provider) => {
            let cs = crate::target::connect_spec(&t, Some(local), &ctx.region, settings, Duration::from_secs(15), true);
            // Stopped half-way, the forward is still closed below.
            tokio::select! {
                _ = query_as(&mut o, Connector::new(cs, Auth::Iam(provider)), &t, true) => {}
                _ = stopped(stop) => o.say(Tone::Muted, "stopped"),
            }
        }
        None => o.say(Tone::Bad, "no AWS credentials to sign a token with"),
    }
    let st = f.status();
    let carried = st.bytes_in + st.bytes_out;
    o.say(if carried > 0 { Tone::Focus } else { Tone::Bad }, format!("the forward carried {} bytes out and {} bytes back", st.bytes_out, st.bytes_in));
    f.stop().await;
    o.say(Tone::Muted, "session closed (TerminateSession)");
    o.done = o.done && carried > 0;
    o
}

async fn bootstrap_plan(ctx: &AwsContext, settings: &Settings) -> Outcome {
    let mut o = Outcome::default();
    match crate::bootstrap::resolve(settings, None, crate::bootstrap::Overrides::default(), Some(ctx), None).await {
        Ok(inputs) => {
            // The app's own user in full; the admin, what repeats for the other users, and the
            // verify step's SHOW GRANTS, in a line each.
            let app = app_target(ctx, settings).await.ok().map(|(_, t)| t.user);
            let shown = app.filter(|u| inputs.app_users.iter().any(|a| &a.name == u)).or_else(|| inputs.app_users.first().map(|a| a.name.clone())).unwrap_or_default();
            o.say(Tone::Muted, format!("dry run: nothing is run (from {})", inputs.source));
            // Steps without statements share a line.
            let mut quiet: Vec<String> = Vec::new();
            // What the key clauses mean, under the first statement that has each.
            let mut notes: Vec<(&str, &str)> = vec![
                ("AWSAuthenticationPlugin", "   -- AWSAuthenticationPlugin: no password; RDS checks an IAM token"),
                ("REQUIRE SSL", "   -- REQUIRE SSL: the server itself refuses this user without TLS"),
                ("GRANT", "   -- GRANT: its own database only; IAM's rds-db:connect is a second lock"),
            ];
            for s in crate::bootstrap::plan::plan(&inputs) {
                let step = format!("{}. {}", s.id.number(), s.title);
                if s.statements.is_empty() || s.id == crate::bootstrap::StepId::Verify {
                    quiet.push(step);
                    continue;
                }
                if !quiet.is_empty() {
                    o.say(Tone::Plain, quiet.join(" · "));
                    quiet.clear();
                }
                // The admin is made as the app's users are, with the rights to make them: a line.
                if s.id == crate::bootstrap::StepId::AdminUser {
                    o.say(Tone::Plain, format!("{step}: made like the app's users below, with the rights to create them ({} statements)", s.statements.len()));
                    continue;
                }
                o.say(Tone::Plain, step);
                for st in &s.statements {
                    if inputs.app_users.iter().any(|a| a.name != shown && st.contains(&format!("'{}'@", a.name))) {
                        continue;
                    }
                    let key = st.contains("AWSAuthenticationPlugin") || st.contains("REQUIRE SSL");
                    o.say(if key { Tone::Focus } else { Tone::Muted }, format!("   {st};"));
                    for (_, note) in notes.extract_if(.., |(clause, _)| st.contains(*clause)) {
                        o.say(Tone::Plain, note);
                    }
                }
                for a in inputs.app_users.iter().filter(|a| a.name != shown && s.statements.iter().any(|st| st.contains(&format!("'{}'@", a.name)))) {
                    o.say(Tone::Muted, format!("   (the same for {}, another app user)", a.name));
                }
            }
            if !quiet.is_empty() {
                o.say(Tone::Plain, quiet.join(" · "));
            }
            o.done = true;
        }
        Err(e) => o.say(Tone::Bad, format!("the plan could not be made: {e}")),
    }
    o
}

/// The rule the on-call chapter breaks: the proxy's security groups admitting the app host's on
/// the proxy's port.
struct Link {
    proxy_sgs: Vec<String>,
    host_sgs: Vec<String>,
    port: i32,
}

async fn link(ctx: &AwsContext, settings: &Settings) -> Result<Link, String> {
    let ev = Box::pin(crate::doctor::gather(ctx, settings, &options(settings))).await;
    let loc = ev.located.as_ref().map_err(|e| format!("the stack was not found: {e}"))?;
    let hosts = ev.hosts.as_ref().map_err(|e| format!("the app hosts could not be read: {e}"))?;
    let host_sgs: Vec<String> = hosts
        .iter()
        .filter_map(|h| h.attributes.get("security_group_ids").and_then(|v| v.as_array()).cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if loc.proxy_sgs.is_empty() || host_sgs.is_empty() {
        return Err("the proxy's or the app host's security groups are not known".into());
    }
    let port = ev.params.as_ref().ok().and_then(|ps| ps.iter().find(|p| p.name.ends_with("/port")).and_then(|p| p.get_str("value")?.parse().ok())).unwrap_or(3306);
    Ok(Link { proxy_sgs: loc.proxy_sgs.clone(), host_sgs, port })
}

fn pair(group: &str) -> aws_sdk_ec2::types::UserIdGroupPair {
    aws_sdk_ec2::types::UserIdGroupPair::builder().group_id(group).build()
}

async fn shown(ctx: &AwsContext, settings: &Settings, action: Action) -> Outcome {
    let mut o = Outcome::default();
    o.say(Tone::Focus, "this is not the sandbox (or --read-only is on): the tour changes nothing here. It would run:");
    match link(ctx, settings).await {
        Ok(l) => {
            let verb = if action == Action::Fix { "authorize" } else { "revoke" };
            o.say(Tone::Plain, format!(
                "  aws ec2 {verb}-security-group-ingress --group-id {} --protocol tcp --port {} --source-group {}",
                l.proxy_sgs[0], l.port, l.host_sgs[0]
            ));
        }
        Err(e) => o.say(Tone::Muted, format!("  ({e})")),
    }
    o.done = true;
    o
}

/// Removes (`restore` false) or puts back the proxy's ingress rules from the app host's groups.
async fn security_rule(ctx: &AwsContext, settings: &Settings, restore: bool) -> Outcome {
    use aws_sdk_ec2::types::IpPermission;
    let mut o = Outcome::default();
    let l = or_say!(o, link(ctx, settings).await, "the link to break or mend is not known");
    let ec2 = aws_sdk_ec2::Client::new(&ctx.sdk);
    let ids: Vec<String> = l.proxy_sgs.iter().chain(&l.host_sgs).cloned().collect();
    let described = ec2.describe_security_groups().set_group_ids(Some(ids)).send().await.map_err(|e| crate::aws::explain(&e));
    let groups = or_say!(o, described, "the proxy's security groups could not be read").security_groups.unwrap_or_default();
    // Groups by name and id, as a newcomer saw them in chapter 1.
    let named = |id: &str| match groups.iter().find(|g| g.group_id() == Some(id)).and_then(|g| g.group_name()) {
        Some(n) => format!("{} ({id})", crate::untrusted::line(n)),
        None => id.to_string(),
    };
    // Rules on the port from a host group, as (proxy group, source group).
    let mut found = Vec::new();
    for g in groups.iter().filter(|g| g.group_id().is_some_and(|id| l.proxy_sgs.iter().any(|p| p == id))) {
        for p in g.ip_permissions() {
            let covers = p.ip_protocol() == Some("-1") || (p.from_port().unwrap_or(-1) <= l.port && l.port <= p.to_port().unwrap_or(-1));
            for pr in p.user_id_group_pairs() {
                if covers && pr.group_id().is_some_and(|s| l.host_sgs.iter().any(|h| h == s)) {
                    found.push((g.group_id().unwrap_or_default().to_string(), pr.clone(), p.clone()));
                }
            }
        }
    }
    if restore {
        if let Some((g, s, _)) = found.first() {
            o.say(Tone::Good, format!("the proxy's group {} already admits the app host's {} on {}: nothing to do", named(g), named(s.group_id().unwrap_or_default()), l.port));
            o.done = true;
            return o;
        }
        let (g, s) = (&l.proxy_sgs[0], &l.host_sgs[0]);
        o.say(Tone::Plain, format!("aws ec2 authorize-security-group-ingress --group-id {g} --protocol tcp --port {} --source-group {s}", l.port));
        let perm = IpPermission::builder().ip_protocol("tcp").from_port(l.port).to_port(l.port).user_id_group_pairs(pair(s)).build();
        match ec2.authorize_security_group_ingress().group_id(g).ip_permissions(perm).send().await {
            Ok(_) => {
                o.say(Tone::Focus, format!("done: the proxy's group {} admits the app host's {} on {} again", named(g), named(s), l.port));
                o.done = true;
            }
            Err(e) => o.say(Tone::Bad, format!("EC2 refused: {}", crate::aws::explain(&e))),
        }
        return o;
    }
    if found.is_empty() {
        o.say(Tone::Muted, format!("no rule lets the app host's groups reach the proxy on {}: already broken", l.port));
        o.done = true;
        return o;
    }
    for (g, source, p) in found {
        // The rule as EC2 keeps it (its description included), for this one source.
        let one = IpPermission::builder()
            .set_ip_protocol(p.ip_protocol().map(str::to_string))
            .set_from_port(p.from_port())
            .set_to_port(p.to_port())
            .user_id_group_pairs(source.clone())
            .build();
        let s = source.group_id().unwrap_or_default().to_string();
        o.say(Tone::Plain, format!("aws ec2 revoke-security-group-ingress --group-id {g} --protocol tcp --port {} --source-group {s}", l.port));
        match ec2.revoke_security_group_ingress().group_id(&g).ip_permissions(one).send().await {
            Ok(_) => {
                o.say(Tone::Focus, format!("done: the proxy's group {} no longer admits the app host's {}", named(&g), named(&s)));
                o.done = true;
            }
            Err(e) => {
                o.say(Tone::Bad, format!("EC2 refused: {}", crate::aws::explain(&e)));
                o.done = false;
                return o;
            }
        }
    }
    o
}

async fn doctor(ctx: &AwsContext, settings: &Settings, stop: tokio::sync::watch::Receiver<bool>) -> Outcome {
    let mut o = Outcome::default();
    // A task of its own: the doctor's state is deep, and a task starts at the top of a worker's stack.
    // It ends its forwards when stopped, and is waited for.
    let (ctx, settings) = (ctx.clone(), settings.clone());
    let run = tokio::spawn(async move { crate::doctor::run(&ctx, &settings, &options(&settings), |_| {}, stopped(stop)).await });
    let found: Vec<Finding> = or_say!(o, run.await, "the doctor stopped");
    let failed: Vec<&Finding> = found.iter().filter(|f| f.status == Status::Fail).collect();
    // What matters first: the broken link with its evidence and fix; then what else did not pass;
    // when something failed, the links that still hold on one line (the doctor's own view, `D`,
    // has every check in full).
    let count = |st: Status| found.iter().filter(|f| f.status == st).count();
    let warnings = match count(Status::Warn) {
        0 => String::new(),
        n => format!(", {n} warning(s)"),
    };
    match failed.first() {
        None => o.say(Tone::Good, format!("Doctor · nothing failed: {} passed{warnings}", count(Status::Pass))),
        Some(f) => {
            o.say(Tone::Bad, format!("Doctor · {} failed; the first broken link: {}", failed.len(), f.id));
            o.say(Tone::Focus, format!("{} {} — {}", f.status.symbol(), f.id, f.summary));
            for e in &f.evidence {
                o.say(Tone::Plain, format!("    {e}"));
            }
            if let Some(fix) = &f.fix {
                o.say(Tone::Focus, format!("fix: {fix}"));
            }
            o.say(Tone::Plain, "");
        }
    }
    // Other failures in full; a warning by its first clause (the doctor's view, `D`, has the rest).
    for f in found.iter().filter(|f| !matches!(f.status, Status::Pass | Status::Skipped) && failed.first().is_none_or(|x| x.id != f.id)) {
        // A warning's first clause (the logs' count, not the whole refused login again).
        let what = if f.status == Status::Warn { f.summary.split(';').next().unwrap_or_default() } else { &f.summary };
        o.say(status_tone(f.status), format!("{} {} — {what}", f.status.symbol(), f.id));
    }
    let list = |st: Status| found.iter().filter(|f| f.status == st).map(|f| f.id).collect::<Vec<_>>();
    let (passed, skipped) = (list(Status::Pass), list(Status::Skipped));
    if !passed.is_empty() && !failed.is_empty() {
        o.say(Tone::Good, format!("{} {} passed: {}", Status::Pass.symbol(), passed.len(), passed.join(", ")));
    }
    if !skipped.is_empty() {
        o.say(Tone::Muted, format!("{} {} skipped, waiting on a failed check: {}", Status::Skipped.symbol(), skipped.len(), skipped.join(", ")));
    }
    o.done = true;
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_greeting_is_a_protocol_10_handshake_without_tls() {
        use mysql_common::constants::CapabilityFlags;
        use mysql_common::packets::HandshakePacket;
        let g = greeting();
        let len = u32::from_le_bytes([g[0], g[1], g[2], 0]) as usize;
        assert_eq!(len, g.len() - 4);
        let hello: HandshakePacket<'_> = mysql_common::io::ParseBuf(&g[4..]).parse(()).unwrap();
        assert!(!hello.capabilities().contains(CapabilityFlags::CLIENT_SSL));
        assert!(hello.capabilities().contains(CapabilityFlags::CLIENT_PLUGIN_AUTH | CapabilityFlags::CLIENT_PROTOCOL_41));
    }

    #[test]
    fn a_masked_token_keeps_its_parts_but_not_its_signature() {
        let t = "px.proxy:3306/?Action=connect&DBUser=u&X-Amz-Credential=AKIAEXAMPLEKEY1234%2F20261202%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Signature=abcdef0123";
        let m = masked(t);
        assert!(m.contains("&DBUser=u") && !m.contains("abcdef0123"), "{m}");
        assert!(m.contains("&X-Amz-Credential=…1234%2F20261202%2Fus-east-1") && !m.contains("AKIAEXAMPLE"), "{m}");
        assert!(m.starts_with("px.proxy:3306/?Action=connect&DBUser=u&"), "{m}");
    }
}
