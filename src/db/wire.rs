//! A lean MySQL text-protocol client for `rdsdeck sql`: one connection that
//! runs one statement at a time and hands each row to the sink as slices of
//! the packet it arrived in — no value, cell or row is allocated per row.
//!
//! Why not mysql_async here: on a 1,000,000-row export its per-row machinery
//! (a `Row` and a `Vec<u8>` per cell, a pooled buffer and a clock read per
//! packet, an OK-packet probe per row) cost a third more client CPU than the
//! `mariadb` client and made `rdsdeck sql -o csv` slower than `mariadb
//! --batch` (bench/sql_vs_mariadb.sh). The packet framing, handshake and
//! authentication packets are mysql_common's (mysql_async's own protocol
//! crate); this module only drives them. The TUI, the pool and the
//! bootstrap keep mysql_async.
//!
//! Safety rules, as in [`super::connect`]: TLS is required (a server that
//! does not offer it is refused before anything is sent), the certificate is
//! verified, the cleartext plugin is answered only inside that TLS, and
//! `LOAD DATA LOCAL` is never offered.

use bytes::BytesMut;
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{AuthPlugin, AuthSwitchRequest, Column, HandshakePacket, HandshakeResponse, SslRequest};
use mysql_common::proto::MySerialize;
use mysql_common::proto::codec::PacketCodec;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::packet::{Done, Span, is_eof, lenenc, parse_eof, parse_err, parse_ok, parse_row};
use super::rows::{Outcome, Sink, TextRow};

/// What went wrong, before it is turned into advice ([`super::connect::Connector::explain_wire`]).
#[derive(Debug)]
pub enum WireError {
    /// An ERR packet.
    Server { code: u16, state: String, message: String },
    /// The server's greeting has no CLIENT_SSL: nothing was sent.
    NoTls,
    Tls(String),
    Io(std::io::Error),
    /// The server sent something this client does not follow.
    Protocol(String),
    /// The sink (the output) failed.
    Output(std::io::Error),
    /// No byte for `silent` while a statement ran, and a new connection got no greeting.
    Hung { silent: Duration },
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e)
    }
}

/// utf8mb4_general_ci, what mysql_common's handshake response asks for too.
const UTF8MB4: u8 = 45;
/// The largest packet accepted (the server's own ceiling is 1 GiB).
const MAX_PACKET: usize = 1 << 30;
const READ_CHUNK: usize = 64 * 1024;

/// How long a running statement may go without a byte from the server before rdsdeck asks
/// whether the server still answers (a long statement is silent too: it is only given up on when
/// the server does not greet a new connection either).
pub const SILENCE: Duration = Duration::from_secs(10);
/// How long the question waits for the server's greeting on a new TCP connection.
pub const PROBE_WAIT: Duration = Duration::from_secs(5);
/// The longest wait between two questions (the first comes after [`SILENCE`], then each after
/// twice the last): a statement silent for an hour is asked about 10 times.
const PROBE_EVERY_AT_MOST: Duration = Duration::from_secs(600);

/// Watches the reads of a running statement: after [`SILENCE`] without a byte, it opens a TCP
/// connection to the same address; a greeting (or an error packet: too many connections) means
/// the server is alive and the statement slow, so the read goes on; no answer within
/// [`PROBE_WAIT`], twice in a row with [`SILENCE`] between (a forward busy carrying this very
/// statement can be slow to open a new stream once), means it is hung, stopped or cut off, and
/// the statement fails with that.
struct Watch {
    host: String,
    port: u16,
}

impl Watch {
    async fn read<S: AsyncRead + Unpin>(&self, io: &mut S, buf: &mut BytesMut) -> Result<usize, WireError> {
        let mut silent = Duration::ZERO;
        let mut wait = SILENCE;
        let mut unanswered = 0;
        loop {
            // `read_buf` is cancel-safe: a read the timer interrupts loses nothing.
            match tokio::time::timeout(wait, io.read_buf(buf)).await {
                Ok(r) => return Ok(r?),
                Err(_) => {
                    silent += wait;
                    if !self.answers().await {
                        silent += PROBE_WAIT;
                        unanswered += 1;
                        if unanswered == 2 {
                            return Err(WireError::Hung { silent });
                        }
                        tracing::info!("sql: no byte for {}s and no greeting on a new connection: asking once more", silent.as_secs());
                        continue;
                    }
                    unanswered = 0;
                    tracing::info!("sql: no byte for {}s; the server greets a new connection: a slow statement, still waiting", silent.as_secs());
                    // Each probe ends before logging in, which the server counts against this
                    // host (`max_connect_errors`, 100 by default, blocks it): ask less and less often.
                    wait = (wait * 2).min(PROBE_EVERY_AT_MOST);
                }
            }
        }
    }

    /// Whether the server sends a greeting (any packet) on a new connection within [`PROBE_WAIT`].
    async fn answers(&self) -> bool {
        let probe = async {
            let mut tcp = TcpStream::connect((self.host.as_str(), self.port)).await.ok()?;
            let mut head = [0u8; 5];
            tcp.read_exact(&mut head).await.ok()
        };
        matches!(tokio::time::timeout(PROBE_WAIT, probe).await, Ok(Some(_)))
    }
}

fn server_error(p: &[u8]) -> WireError {
    match parse_err(p) {
        Some((code, state, message)) => WireError::Server { code, state, message },
        None => WireError::Protocol("a truncated error packet".into()),
    }
}

/// Frames packets over any byte stream (plain for the greeting, then TLS).
struct Framer {
    codec: PacketCodec,
    rbuf: BytesMut,
    wbuf: BytesMut,
    pkt: Vec<u8>,
}

impl Framer {
    fn new() -> Framer {
        let mut codec = PacketCodec::default();
        codec.max_allowed_packet = MAX_PACKET;
        Framer { codec, rbuf: BytesMut::with_capacity(READ_CHUNK), wbuf: BytesMut::new(), pkt: Vec::with_capacity(1024) }
    }

    /// Reads the next whole packet into `self.pkt`.
    async fn read<S: AsyncRead + Unpin>(&mut self, io: &mut S) -> Result<(), WireError> {
        self.read_watched(io, None).await
    }

    /// The same, a statement's read: `watch` tells a slow statement from a hung server.
    async fn read_watched<S: AsyncRead + Unpin>(&mut self, io: &mut S, watch: Option<&Watch>) -> Result<(), WireError> {
        self.pkt.clear();
        loop {
            match self.codec.decode(&mut self.rbuf, &mut self.pkt) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(WireError::Protocol(format!("bad packet framing: {e}"))),
            }
            self.rbuf.reserve(READ_CHUNK);
            let n = match watch {
                Some(w) => w.read(io, &mut self.rbuf).await?,
                None => io.read_buf(&mut self.rbuf).await?,
            };
            if n == 0 {
                return Err(WireError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection")));
            }
        }
    }

    async fn write<S: AsyncWrite + Unpin>(&mut self, io: &mut S, payload: &[u8]) -> Result<(), WireError> {
        self.wbuf.clear();
        let mut src = payload;
        self.codec.encode(&mut src, &mut self.wbuf).map_err(|e| WireError::Protocol(format!("cannot frame a packet: {e}")))?;
        io.write_all(&self.wbuf).await?;
        io.flush().await?;
        Ok(())
    }
}

/// Where to connect and as whom; the secret is the IAM token (or a password).
pub struct Login<'a> {
    pub host: &'a str,
    pub port: u16,
    /// The name the certificate must be valid for.
    pub tls_name: &'a str,
    pub user: &'a str,
    pub database: Option<&'a str>,
    pub secret: &'a str,
    pub tls: Arc<rustls::ClientConfig>,
}

pub struct WireConn {
    io: TlsStream<TcpStream>,
    f: Framer,
    spans: Vec<Span>,
    id: u32,
    server_version: String,
    watch: Watch,
}

impl WireConn {
    /// TCP, the greeting, TLS, then authentication (the server's switch to
    /// `mysql_clear_password` is answered with the secret, inside TLS).
    pub async fn connect(login: Login<'_>) -> Result<WireConn, WireError> {
        let mut tcp = TcpStream::connect((login.host, login.port)).await?;
        let _ = tcp.set_nodelay(true);
        let mut f = Framer::new();
        f.read(&mut tcp).await?;
        if f.pkt.first() == Some(&0xFF) {
            return Err(server_error(&f.pkt));
        }
        let hello: HandshakePacket<'_> =
            ParseBuf(&f.pkt).parse(()).map_err(|e| WireError::Protocol(format!("unreadable server greeting: {e}")))?;
        if !hello.capabilities().contains(CapabilityFlags::CLIENT_SSL) {
            return Err(WireError::NoTls);
        }
        let id = hello.connection_id();
        // MariaDB prefixes its version with "5.5.5-" for old clients.
        let server_version = hello.server_version_str().trim_start_matches("5.5.5-").to_string();
        let version = hello.server_version_parsed().unwrap_or((5, 7, 0));
        let nonce = hello.nonce();
        let wanted = CapabilityFlags::CLIENT_PROTOCOL_41
            | CapabilityFlags::CLIENT_SECURE_CONNECTION
            | CapabilityFlags::CLIENT_LONG_PASSWORD
            | CapabilityFlags::CLIENT_LONG_FLAG
            | CapabilityFlags::CLIENT_TRANSACTIONS
            | CapabilityFlags::CLIENT_MULTI_RESULTS
            | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
            | CapabilityFlags::CLIENT_PLUGIN_AUTH
            | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | CapabilityFlags::CLIENT_SSL
            | if login.database.is_some() { CapabilityFlags::CLIENT_CONNECT_WITH_DB } else { CapabilityFlags::empty() };
        let caps = wanted & hello.capabilities();
        if !caps.contains(CapabilityFlags::CLIENT_PROTOCOL_41 | CapabilityFlags::CLIENT_PLUGIN_AUTH) {
            return Err(WireError::Protocol("the server is too old (no protocol 4.1 or pluggable auth)".into()));
        }
        drop(hello);

        let mut buf = Vec::new();
        SslRequest::new(caps, MAX_PACKET as u32, UTF8MB4).serialize(&mut buf);
        f.write(&mut tcp, &buf).await?;
        let name = rustls::pki_types::ServerName::try_from(login.tls_name.to_string())
            .map_err(|e| WireError::Tls(format!("`{}` is not a valid TLS name: {e}", login.tls_name)))?;
        let mut io = tokio_rustls::TlsConnector::from(login.tls.clone()).connect(name, tcp).await.map_err(|e| WireError::Tls(e.to_string()))?;

        // The first answer uses the server's default method; an IAM user's plugin
        // then switches to the cleartext one.
        let native = AuthPlugin::MysqlNativePassword;
        let data = native.gen_data(Some(login.secret), &nonce);
        let mut scramble = Vec::new();
        if let Some(d) = &data {
            d.serialize(&mut scramble);
        }
        buf.clear();
        HandshakeResponse::new(
            Some(scramble.as_slice()),
            version,
            Some(login.user.as_bytes()),
            login.database.map(str::as_bytes),
            Some(native),
            caps,
            None,
            MAX_PACKET as u32,
        )
        .serialize(&mut buf);
        f.write(&mut io, &buf).await?;
        loop {
            f.read(&mut io).await?;
            match f.pkt.first() {
                Some(0x00) => break,
                Some(0xFF) => return Err(server_error(&f.pkt)),
                Some(0xFE) => {
                    let switch: AuthSwitchRequest<'_> =
                        ParseBuf(&f.pkt).parse(()).map_err(|e| WireError::Protocol(format!("unreadable auth switch: {e}")))?;
                    let answer = match switch.auth_plugin() {
                        // Safe here: this connection is TLS, verified.
                        AuthPlugin::MysqlClearPassword => {
                            let mut a = zeroize::Zeroizing::new(Vec::with_capacity(login.secret.len() + 1));
                            a.extend_from_slice(login.secret.as_bytes());
                            a.push(0);
                            a
                        }
                        AuthPlugin::MysqlNativePassword => {
                            let mut a = zeroize::Zeroizing::new(Vec::new());
                            if let Some(d) = AuthPlugin::MysqlNativePassword.gen_data(Some(login.secret), switch.plugin_data()) {
                                d.serialize(&mut a);
                            }
                            a
                        }
                        other => {
                            return Err(WireError::Protocol(format!(
                                "the server asks for the `{}` auth plugin, which `rdsdeck sql` does not speak (IAM users use the cleartext plugin)",
                                String::from_utf8_lossy(other.as_bytes())
                            )));
                        }
                    };
                    f.write(&mut io, &answer).await?;
                }
                Some(0x01) => {
                    return Err(WireError::Protocol("the server wants more authentication data (caching_sha2_password?): not an IAM user".into()));
                }
                _ => return Err(WireError::Protocol("an unexpected packet during authentication".into())),
            }
        }
        let watch = Watch { host: login.host.to_string(), port: login.port };
        Ok(WireConn { io, f, spans: Vec::new(), id, server_version, watch })
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The negotiated TLS version and cipher suite, as the server names them
    /// (`TLSv1.3`; the IANA suite name, `TLS_AES_256_GCM_SHA384`).
    pub fn tls(&self) -> (String, String) {
        let c = self.io.get_ref().1;
        let v = c.protocol_version().map(|v| format!("{v:?}").replace('_', ".")).unwrap_or_default();
        let s = c.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()).replacen("TLS13_", "TLS_", 1)).unwrap_or_default();
        (v, s)
    }

    /// Runs one statement (COM_QUERY) and streams every result set into `sink`.
    pub async fn run<S: Sink + ?Sized>(&mut self, sql: &str, sink: &mut S) -> Result<Outcome, WireError> {
        let start = Instant::now();
        let mut out = Outcome::default();
        self.f.codec.reset_seq_id();
        let mut cmd = Vec::with_capacity(sql.len() + 1);
        cmd.push(0x03);
        cmd.extend_from_slice(sql.as_bytes());
        self.f.write(&mut self.io, &cmd).await?;
        loop {
            self.f.read_watched(&mut self.io, Some(&self.watch)).await?;
            let done = match self.f.pkt.first() {
                Some(0x00) => parse_ok(&self.f.pkt).ok_or_else(|| WireError::Protocol("a malformed OK packet".into()))?,
                Some(0xFF) => return Err(server_error(&self.f.pkt)),
                Some(0xFB) => {
                    // LOAD DATA LOCAL: never offered; answer with no data and report the server's verdict.
                    self.f.write(&mut self.io, &[]).await?;
                    self.f.read_watched(&mut self.io, Some(&self.watch)).await?;
                    if self.f.pkt.first() == Some(&0xFF) {
                        return Err(server_error(&self.f.pkt));
                    }
                    return Err(WireError::Protocol("LOAD DATA LOCAL is not supported: rdsdeck never sends local files".into()));
                }
                _ => self.result_set(sink, &mut out, start).await?,
            };
            out.affected += done.affected;
            if !done.more_results {
                break;
            }
        }
        out.elapsed = start.elapsed();
        Ok(out)
    }

    /// Column definitions, then rows until the EOF packet.
    async fn result_set<S: Sink + ?Sized>(&mut self, sink: &mut S, out: &mut Outcome, start: Instant) -> Result<Done, WireError> {
        let n = lenenc(&self.f.pkt).map(|(n, _)| n as usize).ok_or_else(|| WireError::Protocol("a malformed column count".into()))?;
        let mut columns = Vec::with_capacity(n);
        let mut kinds = Vec::with_capacity(n);
        for _ in 0..n {
            self.f.read_watched(&mut self.io, Some(&self.watch)).await?;
            let c: Column = ParseBuf(&self.f.pkt).parse(()).map_err(|e| WireError::Protocol(format!("a malformed column definition: {e}")))?;
            columns.push(c.name_str().into_owned());
            kinds.push(kind_of(c.column_type()));
        }
        self.f.read_watched(&mut self.io, Some(&self.watch)).await?;
        if !is_eof(&self.f.pkt) {
            return Err(WireError::Protocol("no end-of-columns marker".into()));
        }
        out.result_sets += 1;
        sink.kinds(&kinds).map_err(WireError::Output)?;
        sink.start(&columns).map_err(WireError::Output)?;
        loop {
            self.f.read_watched(&mut self.io, Some(&self.watch)).await?;
            let p = &self.f.pkt;
            match p.first() {
                Some(0xFE) if p.len() < 9 => {
                    sink.finish().map_err(WireError::Output)?;
                    return Ok(parse_eof(p));
                }
                // An error in the middle (KILL QUERY, a runtime error): rows so far stay written.
                Some(0xFF) => {
                    let _ = sink.finish();
                    return Err(server_error(p));
                }
                _ => {}
            }
            parse_row(p, n, &mut self.spans).ok_or_else(|| WireError::Protocol("a malformed row".into()))?;
            out.first_row.get_or_insert_with(|| start.elapsed());
            sink.row_text(&TextRow { data: p, spans: &self.spans }).map_err(WireError::Output)?;
            out.rows += 1;
        }
    }

    /// COM_QUIT and the TLS close.
    pub async fn close(mut self) {
        self.f.codec.reset_seq_id();
        let _ = self.f.write(&mut self.io, &[0x01]).await;
        let _ = self.io.shutdown().await;
    }
}

/// Numbers are the numeric column types (BIT is bytes, TIMESTAMP and the like are text).
fn kind_of(t: mysql_common::constants::ColumnType) -> super::rows::ValueKind {
    use mysql_common::constants::ColumnType::*;
    match t {
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE | MYSQL_TYPE_YEAR => super::rows::ValueKind::Number,
        _ => super::rows::ValueKind::Other,
    }
}

/// Parses `packet` as a row of `n` fields and hands it to `f` (`None` if malformed).
#[cfg(test)]
pub(crate) fn with_row<R>(packet: &[u8], n: usize, f: impl FnOnce(&TextRow<'_>) -> R) -> Option<R> {
    let mut spans = Vec::with_capacity(n);
    parse_row(packet, n, &mut spans)?;
    Some(f(&TextRow { data: packet, spans: &spans }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_packets() {
        match server_error(b"\xff\x15\x04#28000Access denied") {
            WireError::Server { code, state, message } => assert_eq!((code, state.as_str(), message.as_str()), (1045, "28000", "Access denied")),
            e => panic!("{e:?}"),
        }
        assert!(matches!(server_error(&[0xFF]), WireError::Protocol(_)));
    }
}
