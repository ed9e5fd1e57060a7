//! IAM connections: a fresh token for every physical connection, TLS always on
//! and verified (built-in roots plus an optional CA file), the cleartext
//! plugin only under that TLS, and every failure mapped to advice.

use aws_credential_types::provider::SharedCredentialsProvider;
use mysql_async::{Conn, OptsBuilder, SslOpts};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::token::TokenRequest;

#[derive(Debug, Clone)]
pub struct ConnectSpec {
    /// Where TCP goes.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: Option<String>,
    pub region: String,
    /// Extra trust (e.g. the RDS `global-bundle.pem`), added to the built-in roots.
    pub ca: Option<PathBuf>,
    pub timeout: Duration,
    /// Name the token is signed for and the certificate is checked against,
    /// when it differs from `host` (a local port forward to the proxy).
    pub tls_name: Option<(String, u16)>,
    /// Read-only mode: every connection runs `SET SESSION TRANSACTION READ ONLY` before anything
    /// else, so the server refuses what the client's classifier misses.
    pub read_only: bool,
}

impl ConnectSpec {
    /// The spec with TCP sent where `map` says for its endpoint; the token and the certificate
    /// stay the endpoint's. A spec that already goes elsewhere (a tunnel) is left as it is.
    pub fn routed(mut self, map: &ConnectTo) -> ConnectSpec {
        if self.tls_name.is_none()
            && let Some((host, port)) = map.get(&self.host, self.port)
        {
            self.tls_name = Some((std::mem::replace(&mut self.host, host.to_string()), self.port));
            self.port = port;
        }
        self
    }
}

/// Where TCP for a named endpoint really goes, as curl's `--connect-to HOST:PORT:ADDR:PORT`:
/// a tunnel, a hosts-file-free test double, the sandbox. Tokens are still signed for, and TLS
/// still verified against, the endpoint's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectTo(std::collections::BTreeMap<(String, u16), (String, u16)>);

impl ConnectTo {
    /// Adds `HOST:PORT:ADDR:PORT` (IPv6 addresses in brackets); a later entry for the same endpoint wins.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let bad = |why: &str| format!("`{entry}` is not HOST:PORT:ADDR:PORT ({why}), e.g. db.proxy-x.us-east-1.rds.amazonaws.com:3306:127.0.0.1:13306");
        let (from, rest) = host_port(entry.trim()).map_err(|e| bad(&e))?;
        let rest = rest.strip_prefix(':').ok_or_else(|| bad("four parts separated by `:`"))?;
        let (to, tail) = host_port(rest).map_err(|e| bad(&e))?;
        if !tail.is_empty() {
            return Err(bad("something after the last port"));
        }
        self.0.insert(from, to);
        Ok(())
    }

    /// Adds `"HOST:PORT" = "ADDR:PORT"` (the config file's `[connect_to]` form).
    pub fn add_pair(&mut self, from: &str, to: &str) -> Result<(), String> {
        self.add(&format!("{from}:{to}"))
    }

    /// Adds every entry of a list separated by commas or white space (`RDSDECK_CONNECT_TO`).
    pub fn add_list(&mut self, list: &str) -> Result<(), String> {
        list.split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()).try_for_each(|e| self.add(e))
    }

    /// `self` with `over`'s entries winning.
    pub fn merged(mut self, over: &ConnectTo) -> ConnectTo {
        self.0.extend(over.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }

    pub fn get(&self, host: &str, port: u16) -> Option<(&str, u16)> {
        // Host names are case-insensitive; the map keeps them as written.
        self.0.iter().find(|((h, p), _)| *p == port && h.eq_ignore_ascii_case(host)).map(|(_, (a, ap))| (a.as_str(), *ap))
    }
}

/// `host:port` or `[v6]:port` at the start of `s`, and what follows the port.
fn host_port(s: &str) -> Result<((String, u16), &str), String> {
    let (host, rest) = if let Some(r) = s.strip_prefix('[') {
        let end = r.find(']').ok_or("an unclosed `[`")?;
        (&r[..end], &r[end + 1..])
    } else {
        let end = s.find(':').ok_or("no port")?;
        (&s[..end], &s[end..])
    };
    if host.is_empty() {
        return Err("an empty host".into());
    }
    let rest = rest.strip_prefix(':').ok_or("no port")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let port: u16 = rest[..digits].parse().ok().filter(|p| *p != 0).ok_or_else(|| format!("`{}` is not a port", &rest[..digits]))?;
    Ok(((host.to_string(), port), &rest[digits..]))
}

/// What a read-only connection runs first.
pub const READ_ONLY_SQL: &str = "SET SESSION TRANSACTION READ ONLY";

/// How long [`Connector::answer`] waits for a statement's answer.
pub const STATEMENT_WAIT: Duration = Duration::from_secs(60);

/// How the connection authenticates.
#[derive(Clone)]
pub enum Auth {
    /// IAM: a token signed with these credentials for each connection.
    Iam(SharedCredentialsProvider),
    /// A password (the master user, once, during bootstrap).
    Password(SecretString),
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{message}")]
pub struct DbError {
    pub code: Option<u16>,
    pub message: String,
}

impl DbError {
    fn new(code: Option<u16>, message: impl Into<String>) -> Self {
        DbError { code, message: message.into() }
    }
}

/// What a session knows about how it is connected (for the status line).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SessionInfo {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub via: String,
    pub tls_version: String,
    pub tls_cipher: String,
    pub connection_id: u32,
    pub server_version: String,
}

pub struct Connector {
    pub spec: ConnectSpec,
    auth: Auth,
}

impl Connector {
    pub fn new(spec: ConnectSpec, auth: Auth) -> Connector {
        Connector { spec, auth }
    }

    fn signed_for(&self) -> (String, u16) {
        self.spec.tls_name.clone().unwrap_or_else(|| (self.spec.host.clone(), self.spec.port))
    }

    async fn secret(&self) -> Result<SecretString, DbError> {
        match &self.auth {
            Auth::Password(p) => Ok(p.clone()),
            Auth::Iam(provider) => {
                let (host, port) = self.signed_for();
                let req = TokenRequest { hostname: host, port, region: self.spec.region.clone(), username: self.spec.user.clone() };
                crate::auth::sign(provider, &req, std::time::SystemTime::now()).await.map_err(|e| DbError::new(None, e.to_string()))
            }
        }
    }

    /// Opens one physical connection with a fresh token.
    pub async fn connect(&self) -> Result<Conn, DbError> {
        let secret = self.secret().await?;
        let mut ssl = SslOpts::default();
        if let Some(ca) = &self.spec.ca {
            if !ca.exists() {
                return Err(DbError::new(None, format!("CA file {} does not exist (--ca)", ca.display())));
            }
            ssl = ssl.with_root_certs(vec![ca.clone().into()]);
        }
        if let Some((name, _)) = &self.spec.tls_name {
            // The certificate is still verified, against the proxy name instead of 127.0.0.1.
            ssl = ssl.with_danger_tls_hostname_override(Some(name.clone()));
        }
        let opts = OptsBuilder::default()
            .ip_or_hostname(self.spec.host.clone())
            .tcp_port(self.spec.port)
            .user(Some(self.spec.user.clone()))
            .pass(Some(secret.expose_secret().to_string()))
            .db_name(self.spec.database.clone())
            // TLS is not optional: the token (or password) only travels inside it.
            .ssl_opts(ssl)
            .enable_cleartext_plugin(true)
            // On loopback the driver would otherwise switch to the Unix socket.
            .prefer_socket(false)
            .stmt_cache_size(0);
        let mut conn = match tokio::time::timeout(self.spec.timeout, Conn::new(opts)).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(e)) => return Err(self.explain(&e)),
            Ok(Ok(c)) => c,
        };
        if self.spec.read_only {
            use mysql_async::prelude::Queryable;
            self.answer(READ_ONLY_SQL, conn.query_drop(READ_ONLY_SQL)).await?;
        }
        Ok(conn)
    }

    /// Opens one lean connection for streaming statements ([`super::wire`]), with a fresh token.
    pub async fn connect_wire(&self) -> Result<super::wire::WireConn, DbError> {
        let tls = crate::tls::client_config(self.spec.ca.as_deref()).map_err(|e| DbError::new(None, e))?;
        let secret = self.secret().await?;
        let (name, _) = self.signed_for();
        let login = super::wire::Login {
            host: &self.spec.host,
            port: self.spec.port,
            tls_name: &name,
            user: &self.spec.user,
            database: self.spec.database.as_deref(),
            secret: secret.expose_secret(),
            tls,
        };
        let mut conn = match tokio::time::timeout(self.spec.timeout, super::wire::WireConn::connect(login)).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(e)) => return Err(self.explain_wire(&e)),
            Ok(Ok(c)) => c,
        };
        if self.spec.read_only {
            conn.run(READ_ONLY_SQL, &mut super::rows::Discard).await.map_err(|e| self.explain_wire(&e))?;
        }
        Ok(conn)
    }

    fn timed_out(&self) -> DbError {
        DbError::new(
            None,
            format!(
                "timed out after {}s connecting to {}:{}: the host does not answer (security group, network, or a dead forward)",
                self.spec.timeout.as_secs(),
                self.spec.host,
                self.spec.port
            ),
        )
    }

    /// A statement on one of this connector's connections (the bootstrap's, the doctor's: metadata
    /// statements that answer in milliseconds), given up after [`STATEMENT_WAIT`] without an
    /// answer, with what that means; errors get the usual advice.
    pub async fn answer<T>(&self, what: &str, fut: impl std::future::Future<Output = Result<T, mysql_async::Error>>) -> Result<T, DbError> {
        self.answer_within(STATEMENT_WAIT, what, fut).await
    }

    async fn answer_within<T>(&self, wait: Duration, what: &str, fut: impl std::future::Future<Output = Result<T, mysql_async::Error>>) -> Result<T, DbError> {
        match tokio::time::timeout(wait, fut).await {
            Ok(r) => r.map_err(|e| self.explain(&e)),
            Err(_) => Err(DbError::new(
                None,
                format!(
                    "no answer from {}:{} for {}s to {what}: the server is hung or overloaded, or the path to it dropped (a forward or tunnel that died?); the statement may still run there",
                    self.spec.host,
                    self.spec.port,
                    wait.as_secs()
                ),
            )),
        }
    }

    /// Plain advice for a connection or query error (STACK.md's list).
    pub fn explain(&self, e: &mysql_async::Error) -> DbError {
        use mysql_async::{DriverError, Error, IoError};
        match e {
            Error::Server(s) => self.server_error(s.code, &s.state, &s.message),
            Error::Driver(DriverError::NoClientSslFlagFromServer) => self.no_tls(),
            Error::Driver(DriverError::CleartextPluginDisabled) => {
                DbError::new(None, "the server asked for the cleartext plugin, which rdsdeck enables only under TLS")
            }
            Error::Io(IoError::Tls(t)) => self.tls_error(t.to_string()),
            Error::Io(io) => self.io_error(io.to_string()),
            other => DbError::new(None, other.to_string()),
        }
    }

    /// The same advice for the lean client's errors.
    pub fn explain_wire(&self, e: &super::wire::WireError) -> DbError {
        use super::wire::WireError;
        match e {
            WireError::Server { code, state, message } => self.server_error(*code, state, message),
            WireError::NoTls => self.no_tls(),
            WireError::Tls(t) => self.tls_error(t.clone()),
            WireError::Io(io) => self.io_error(io.to_string()),
            WireError::Protocol(p) => DbError::new(None, format!("protocol error talking to {}:{}: {p}", self.spec.host, self.spec.port)),
            WireError::Output(o) if o.kind() == std::io::ErrorKind::BrokenPipe => DbError::new(None, "output closed"),
            WireError::Output(o) => DbError::new(None, format!("cannot write the output: {o}")),
            WireError::Hung { silent } => DbError::new(
                None,
                format!(
                    "the database stopped answering: nothing for {}s while the statement ran, and two new connections to {}:{} got no greeting within {}s — the server is hung, stopped or overloaded, or the path to it dropped (a forward or tunnel that died?). The statement may or may not have run: check before running a write again.",
                    silent.as_secs(),
                    self.spec.host,
                    self.spec.port,
                    super::wire::PROBE_WAIT.as_secs()
                ),
            ),
        }
    }

    fn server_error(&self, code: u16, state: &str, message: &str) -> DbError {
        let (host, port) = self.signed_for();
        let user = &self.spec.user;
        let iam = matches!(self.auth, Auth::Iam(_));
        let advice = match code {
            1045 if iam => format!(
                " — the IAM token was refused. Check that: it was signed for {host}:{port} in region {} (the endpoint you connect to), \
                 user `{user}` exists IDENTIFIED WITH AWSAuthenticationPlugin, your identity has rds-db:connect on that user, \
                 the token is not expired, and the clock is right",
                self.spec.region
            ),
            1045 => " — wrong user or password".to_string(),
            3159 => " — connect with TLS (rdsdeck always does: is something in between terminating it?)".into(),
            1792 => " — read-only mode: the server refused a write (rdsdeck opens every connection read-only when --read-only, the config or a production stack's read_only says so)".into(),
            1524 => " — IAM database authentication is disabled on the instance: enable it (aws rds modify-db-instance --enable-iam-database-authentication)".into(),
            9501 => " — the proxy could not get a database connection in time: check the target's health and the pool settings".into(),
            1040 => " — too many connections (IAM auth is meant for < 200 new connections per second): reuse connections".into(),
            _ => String::new(),
        };
        DbError::new(Some(code), format!("ERROR {code} ({state}): {message}{advice}"))
    }

    fn no_tls(&self) -> DbError {
        let (host, port) = self.signed_for();
        DbError::new(
            None,
            format!("{host}:{port} does not offer TLS: refusing to send an IAM token or password in cleartext (is this the RDS endpoint?)"),
        )
    }

    fn tls_error(&self, t: String) -> DbError {
        let (host, _) = self.signed_for();
        if t.contains("UnknownIssuer") {
            DbError::new(None, format!("the server's certificate is not trusted ({t}): pass the CA with --ca (for RDS instances: global-bundle.pem)"))
        } else if t.contains("NotValidForName") || t.contains("not valid for name") {
            DbError::new(None, format!("the server's certificate is not valid for `{host}` ({t}): connect with the endpoint's name"))
        } else {
            DbError::new(Some(2026), format!("TLS handshake failed: {t}"))
        }
    }

    fn io_error(&self, t: String) -> DbError {
        if t.contains("UnknownIssuer") || t.contains("NotValidForName") || t.contains("not valid for name") {
            self.tls_error(t)
        } else if t.contains("refused") {
            DbError::new(None, format!("cannot reach {}:{}: connection refused (wrong port, or nothing listening)", self.spec.host, self.spec.port))
        } else if t.contains("lookup") || t.contains("resolve") || t.contains("Name or service") {
            DbError::new(None, format!("cannot resolve {}: check the endpoint name (private endpoints need the VPC or a port forward)", self.spec.host))
        } else {
            DbError::new(None, format!("network error talking to {}:{}: {t}", self.spec.host, self.spec.port))
        }
    }

    /// TLS details and ids of an open lean connection (the TLS facts are the client's own view of the handshake).
    pub fn wire_session_info(&self, conn: &super::wire::WireConn, via: &str) -> SessionInfo {
        let (tls_version, tls_cipher) = conn.tls();
        let (host, port) = self.signed_for();
        SessionInfo {
            user: self.spec.user.clone(),
            host,
            port,
            via: via.to_string(),
            tls_version,
            tls_cipher,
            connection_id: conn.id(),
            server_version: conn.server_version().to_string(),
        }
    }

    /// TLS details and ids of an open session.
    pub async fn session_info(&self, conn: &mut Conn, via: &str) -> SessionInfo {
        use mysql_async::prelude::Queryable;
        let rows: Vec<(String, String)> =
            self.answer("SHOW SESSION STATUS", conn.query("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")).await.unwrap_or_default();
        let get = |k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.clone()).unwrap_or_default();
        let (v, c) = (get("Ssl_version"), get("Ssl_cipher"));
        SessionInfo {
            user: self.spec.user.clone(),
            host: self.signed_for().0,
            port: self.signed_for().1,
            via: via.to_string(),
            tls_version: v,
            tls_cipher: c,
            connection_id: conn.id(),
            server_version: {
                let (a, b, c) = conn.server_version();
                format!("{a}.{b}.{c}")
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(host: &str, port: u16) -> ConnectSpec {
        ConnectSpec {
            host: host.into(),
            port,
            user: "u".into(),
            database: None,
            region: "us-east-1".into(),
            ca: None,
            timeout: Duration::from_secs(1),
            tls_name: None,
            read_only: false,
        }
    }

    /// A statement the server never answers (a hung database) ends with what that means, not a
    /// wait forever.
    #[tokio::test]
    async fn a_statement_without_an_answer_is_given_up_with_the_reason() {
        let c = Connector::new(spec("db.example", 3306), Auth::Password("p".into()));
        let never = std::future::pending::<Result<(), mysql_async::Error>>();
        let e = c.answer_within(Duration::from_secs(1), "reading mysql.user", never).await.unwrap_err();
        assert!(e.message.contains("no answer from db.example:3306 for 1s to reading mysql.user") && e.message.contains("hung"), "{}", e.message);
        assert_eq!(c.answer("x", async { Ok::<_, mysql_async::Error>(7) }).await.unwrap(), 7);
    }

    #[test]
    fn connect_to_sends_tcp_elsewhere_and_keeps_the_name() {
        let mut m = ConnectTo::default();
        m.add("DB.proxy-x.us-east-1.rds.amazonaws.com:3306:127.0.0.1:13306").unwrap();
        m.add_list("a.example:3306:[::1]:4000, b.example:5:localhost:6").unwrap();
        let s = spec("db.proxy-x.us-east-1.rds.amazonaws.com", 3306).routed(&m);
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 13306));
        assert_eq!(s.tls_name, Some(("db.proxy-x.us-east-1.rds.amazonaws.com".to_string(), 3306)), "token and TLS name stay the endpoint's");
        assert_eq!(m.get("a.example", 3306), Some(("::1", 4000)));
        // Another port of the same host, and a tunnel, are left alone.
        assert_eq!(spec("a.example", 3307).routed(&m).host, "a.example");
        let mut tunnel = spec("127.0.0.1", 4444);
        tunnel.tls_name = Some(("a.example".into(), 3306));
        assert_eq!(tunnel.clone().routed(&m).host, "127.0.0.1");
        // Later entries win; merged() lets the flags win over the config.
        let mut over = ConnectTo::default();
        over.add_pair("a.example:3306", "127.0.0.2:1").unwrap();
        assert_eq!(m.clone().merged(&over).get("a.example", 3306), Some(("127.0.0.2", 1)));
    }

    #[test]
    fn connect_to_refuses_what_it_cannot_read() {
        for bad in ["a:3306:b", "a:3306", "a:x:b:1", ":1:b:2", "a:1:b:0", "a:1:[::1:2", "a:1:b:2:extra", "a:99999:b:1"] {
            let e = ConnectTo::default().add(bad).unwrap_err();
            assert!(e.contains("HOST:PORT:ADDR:PORT"), "{bad}: {e}");
        }
    }
}
