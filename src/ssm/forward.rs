//! A managed port forward over the native data channel: a local listener,
//! one smux stream per accepted connection (or, in basic mode, a session per
//! connection), byte and connection counters, a health probe that goes
//! through the forward, and a new session with backoff when the agent ends
//! the old one. The websocket itself resumes inside the channel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::api::{SessionRequest, resume_session, start_session, terminate_session};
use super::channel::driver::{self, Input, Output, SessionType};
use super::channel::message::Flag;
use super::smux;
use crate::aws::AwsContext;

/// What to forward.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForwardSpec {
    pub name: String,
    /// The SSM-managed instance the session runs on.
    pub target: String,
    /// The remote host, as the instance resolves it (`None`: the instance itself).
    pub host: Option<String>,
    pub remote_port: u16,
    /// 0: any free port.
    pub local_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Starting,
    Ready,
    /// The session ended; a new one is being started.
    Reconnecting,
    Failed,
    Stopped,
}

/// A forward's live status (the forwards view and `rdsdeck forward` print it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub state: State,
    pub local: Option<SocketAddr>,
    pub session_id: Option<String>,
    pub mode: Option<String>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub open_connections: u64,
    pub total_connections: u64,
    pub reconnects: u64,
    pub started: SystemTime,
    pub last_error: Option<String>,
}

pub struct Forward {
    pub spec: ForwardSpec,
    status: Arc<Mutex<Status>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Forward {
    pub fn status(&self) -> Status {
        self.status.lock().expect("forward status").clone()
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.status().local
    }

    /// Stops accepting, ends the session (TerminateSession) and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        self.status.lock().expect("forward status").state = State::Stopped;
    }
}

/// Why a forward (or a shell) could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The agent asked for what only the plugin transport does (KMS encryption).
    #[error("{0}")]
    NeedsPlugin(String),
    #[error("{0}")]
    Failed(String),
}

impl From<String> for StartError {
    fn from(s: String) -> Self {
        StartError::Failed(s)
    }
}

/// Binds the local port, starts the session and waits until the agent is ready.
pub async fn start(ctx: AwsContext, spec: ForwardSpec) -> Result<Forward, StartError> {
    let listener = TcpListener::bind(("127.0.0.1", spec.local_port)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("local port {} is already in use: pick another with --local-port (0 = any)", spec.local_port)
        } else {
            format!("cannot listen on 127.0.0.1:{}: {e}", spec.local_port)
        }
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let status = Arc::new(Mutex::new(Status {
        state: State::Starting,
        local: Some(local),
        session_id: None,
        mode: None,
        bytes_in: 0,
        bytes_out: 0,
        open_connections: 0,
        total_connections: 0,
        reconnects: 0,
        started: SystemTime::now(),
        last_error: None,
    }));
    let request = SessionRequest::port(&spec.target, spec.host.as_deref(), spec.remote_port, local.port());
    let session = open_session(&ctx, &request).await?;
    status.lock().expect("forward status").session_id = Some(session.0.session_id.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run(ctx, request, listener, session, status.clone(), stop_rx, ready_tx));
    match ready_rx.await {
        Ok(Ok(())) => Ok(Forward { spec, status, stop: stop_tx, task }),
        Ok(Err(e)) => Err(StartError::Failed(e)),
        Err(_) => Err(StartError::Failed("the forward ended while starting".into())),
    }
}

/// A session with its channel, ready (handshake done).
pub async fn open_session(ctx: &AwsContext, request: &SessionRequest) -> Result<(driver::Channel, SessionType), StartError> {
    let start = start_session(ctx, request).await?;
    let id = start.session_id.clone();
    let rctx = ctx.clone();
    let resume: driver::Resume = Arc::new(move || {
        let (ctx, id) = (rctx.clone(), id.clone());
        Box::pin(async move { resume_session(&ctx, &id).await })
    });
    let mut ch = driver::spawn(start, resume);
    let kind = match tokio::time::timeout(Duration::from_secs(30), ch.output.recv()).await {
        Ok(Some(Output::Ready(k))) => k,
        Ok(Some(Output::Closed(why))) => {
            let _ = terminate_session(ctx, &ch.session_id).await;
            return Err(StartError::Failed(why));
        }
        Ok(Some(Output::Unsupported(why))) => {
            let _ = terminate_session(ctx, &ch.session_id).await;
            return Err(StartError::NeedsPlugin(why));
        }
        Ok(_) => return Err(StartError::Failed("the data channel ended before the handshake".into())),
        Err(_) => {
            let _ = terminate_session(ctx, &ch.session_id).await;
            return Err(StartError::Failed("the agent did not complete the handshake within 30 s".into()));
        }
    };
    let wants_port = request.document.as_deref().is_some_and(|d| d.starts_with("AWS-StartPortForwarding"));
    if wants_port && kind == SessionType::Shell {
        let _ = terminate_session(ctx, &ch.session_id).await;
        return Err(StartError::Failed("the agent opened a shell session where a port session was asked for".into()));
    }
    Ok((ch, kind))
}

/// Probes a forward end to end: connect to it and wait for the first byte
/// the remote service sends (MySQL greets first). Returns the time it took.
pub async fn probe(local: SocketAddr, timeout: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    let mut s = tokio::time::timeout(timeout, TcpStream::connect(local))
        .await
        .map_err(|_| "the local port does not accept connections".to_string())?
        .map_err(|e| format!("connect to {local}: {e}"))?;
    let mut b = [0u8; 1];
    match tokio::time::timeout(timeout, s.read(&mut b)).await {
        Ok(Ok(1)) => Ok(t.elapsed()),
        Ok(Ok(_)) => Err("the forward closed the connection at once: the remote end is not reachable from the instance".into()),
        Ok(Err(e)) => Err(format!("through the forward: {e}")),
        Err(_) => Err(format!("nothing came back through the forward within {} s", timeout.as_secs())),
    }
}

type Streams = HashMap<u32, mpsc::UnboundedSender<Option<Vec<u8>>>>;

async fn run(
    ctx: AwsContext,
    request: SessionRequest,
    listener: TcpListener,
    first: (driver::Channel, SessionType),
    status: Arc<Mutex<Status>>,
    mut stop: watch::Receiver<bool>,
    ready: tokio::sync::oneshot::Sender<Result<(), String>>,
) {
    let mut ready = Some(ready);
    let mut session = Some(first);
    let mut failures = 0u32;
    loop {
        let (mut ch, kind) = match session.take() {
            Some(s) => s,
            None => {
                let wait = Duration::from_millis(250 * 2u64.pow(failures.min(5))).min(Duration::from_secs(8));
                status.lock().expect("forward status").state = State::Reconnecting;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => break,
                }
                match open_session(&ctx, &request).await {
                    Ok(s) => {
                        let mut st = status.lock().expect("forward status");
                        st.reconnects += 1;
                        st.session_id = Some(s.0.session_id.clone());
                        s
                    }
                    Err(e) => {
                        failures += 1;
                        status.lock().expect("forward status").last_error = Some(e.to_string());
                        continue;
                    }
                }
            }
        };
        failures = 0;
        {
            let mut st = status.lock().expect("forward status");
            st.state = State::Ready;
            st.mode = Some(if kind == (SessionType::Port { smux: true }) { "smux" } else { "basic, a session per connection" }.into());
        }
        if let Some(r) = ready.take() {
            let _ = r.send(Ok(()));
        }
        let session_id = ch.session_id.clone();
        let ended = match kind {
            SessionType::Port { smux: true } => serve_smux(&listener, &mut ch, &status, &mut stop).await,
            _ => serve_basic(&ctx, &request, &listener, ch, &status, &mut stop).await,
        };
        status.lock().expect("forward status").open_connections = 0;
        let _ = terminate_session(&ctx, &session_id).await;
        match ended {
            Ended::Stopped => break,
            Ended::Lost(why) => {
                tracing::warn!("forward {}: session {session_id} ended: {why}", request.target);
                status.lock().expect("forward status").last_error = Some(why);
            }
        }
    }
    status.lock().expect("forward status").state = State::Stopped;
}

enum Ended {
    Stopped,
    Lost(String),
}

/// One smux stream per local connection.
async fn serve_smux(listener: &TcpListener, ch: &mut driver::Channel, status: &Arc<Mutex<Status>>, stop: &mut watch::Receiver<bool>) -> Ended {
    let mut streams: Streams = HashMap::new();
    let mut decoder = smux::Decoder::default();
    let mut ids = smux::Ids::default();
    let (gone_tx, mut gone_rx) = mpsc::unbounded_channel::<u32>();
    loop {
        tokio::select! {
            _ = stop.changed() => return Ended::Stopped,
            accepted = listener.accept() => {
                let Ok((sock, _)) = accepted else { continue };
                let _ = sock.set_nodelay(true);
                let id = ids.next_id();
                if ch.input.send(Input::Data(smux::encode(smux::Cmd::Syn, id, &[]))).is_err() {
                    return Ended::Lost("the data channel is gone".into());
                }
                let (to_conn_tx, to_conn_rx) = mpsc::unbounded_channel();
                streams.insert(id, to_conn_tx);
                {
                    let mut st = status.lock().expect("forward status");
                    st.open_connections += 1;
                    st.total_connections += 1;
                }
                tokio::spawn(pump_smux(sock, id, ch.input.clone(), to_conn_rx, status.clone(), gone_tx.clone()));
            }
            id = gone_rx.recv() => {
                if let Some(id) = id {
                    streams.remove(&id);
                    let mut st = status.lock().expect("forward status");
                    st.open_connections = st.open_connections.saturating_sub(1);
                }
            }
            out = ch.output.recv() => match out {
                Some(Output::Data(bytes)) => {
                    decoder.push(&bytes);
                    loop {
                        match decoder.next_frame() {
                            Ok(Some(f)) => match f.cmd {
                                smux::Cmd::Psh => {
                                    status.lock().expect("forward status").bytes_in += f.data.len() as u64;
                                    if let Some(s) = streams.get(&f.stream) {
                                        let _ = s.send(Some(f.data));
                                    }
                                }
                                smux::Cmd::Fin => {
                                    if let Some(s) = streams.get(&f.stream) {
                                        let _ = s.send(None);
                                    }
                                }
                                smux::Cmd::Syn | smux::Cmd::Nop => {}
                            },
                            Ok(None) => break,
                            Err(e) => return Ended::Lost(e),
                        }
                    }
                }
                Some(Output::Closed(why) | Output::Unsupported(why)) => return Ended::Lost(why),
                Some(_) => {}
                None => return Ended::Lost("the data channel ended".into()),
            },
        }
    }
}

/// Copies one local connection to and from its smux stream.
async fn pump_smux(
    sock: TcpStream,
    id: u32,
    input: mpsc::UnboundedSender<Input>,
    mut from_agent: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
    status: Arc<Mutex<Status>>,
    gone: mpsc::UnboundedSender<u32>,
) {
    let (mut r, mut w) = sock.into_split();
    let writer = tokio::spawn(async move {
        while let Some(Some(data)) = from_agent.recv().await {
            if w.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    });
    let mut buf = vec![0u8; driver::MAX_PAYLOAD - smux::HEADER];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                status.lock().expect("forward status").bytes_out += n as u64;
                if input.send(Input::Data(smux::encode(smux::Cmd::Psh, id, &buf[..n]))).is_err() {
                    break;
                }
            }
        }
    }
    let _ = input.send(Input::Data(smux::encode(smux::Cmd::Fin, id, &[])));
    let _ = writer.await;
    let _ = gone.send(id);
}

/// How long the session that told us the mode may wait for its first local connection: the
/// agent connected to the remote port when it started, and a server that speaks first (MySQL's
/// greeting) drops a client that stays silent for its connect timeout (10 s on MySQL and RDS).
const BASIC_FRESH: Duration = Duration::from_secs(5);

/// Basic mode (an agent that does not multiplex): a session per local connection. The agent
/// connects to the remote port when a session starts; after DisconnectToPort it closes that
/// connection and dials again only when the client sends data (port_basic.go), so a second
/// connection through one session never sees a server that speaks first. Each accepted
/// connection gets its own session (the first one the session that is already up, while it is
/// fresh), and each session ends with its connection.
async fn serve_basic(
    ctx: &AwsContext,
    request: &SessionRequest,
    listener: &TcpListener,
    first: driver::Channel,
    status: &Arc<Mutex<Status>>,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    // The session already up, when it came, and what its remote end said before a client came.
    let mut spare = Some((first, Instant::now(), Vec::new()));
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let expiry = spare.as_ref().map(|(_, t, _)| *t + BASIC_FRESH);
        tokio::select! {
            _ = stop.changed() => break,
            _ = async { match expiry { Some(t) => tokio::time::sleep_until(t.into()).await, None => std::future::pending().await } } => {
                if let Some((ch, _, _)) = spare.take() {
                    let _ = terminate_session(ctx, &ch.session_id).await;
                }
            }
            out = async { match spare.as_mut() { Some((ch, _, _)) => ch.output.recv().await, None => std::future::pending().await } } => {
                // What the spare's remote end says before a client comes waits in `early`; a spare
                // whose channel ended is dropped.
                match out {
                    Some(Output::Data(bytes)) => {
                        if let Some((_, _, early)) = spare.as_mut() {
                            status.lock().expect("forward status").bytes_in += bytes.len() as u64;
                            early.extend_from_slice(&bytes);
                        }
                    }
                    Some(Output::Closed(_) | Output::Unsupported(_)) | None => {
                        if let Some((ch, _, _)) = spare.take() {
                            let _ = terminate_session(ctx, &ch.session_id).await;
                        }
                    }
                    Some(_) => {}
                }
            }
            accepted = listener.accept() => {
                let Ok((sock, _)) = accepted else { continue };
                let _ = sock.set_nodelay(true);
                {
                    let mut st = status.lock().expect("forward status");
                    st.open_connections += 1;
                    st.total_connections += 1;
                }
                let ready = spare.take().map(|(ch, _, early)| (ch, early));
                conns.spawn(basic_connection(ctx.clone(), request.clone(), sock, ready, status.clone(), stop.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    if let Some((ch, _, _)) = spare.take() {
        let _ = terminate_session(ctx, &ch.session_id).await;
    }
    // Every connection's task sees the stop and terminates its session.
    while conns.join_next().await.is_some() {}
    Ended::Stopped
}

/// One local connection over its own basic-mode session, terminated when either side ends.
async fn basic_connection(
    ctx: AwsContext,
    request: SessionRequest,
    sock: TcpStream,
    ready: Option<(driver::Channel, Vec<u8>)>,
    status: Arc<Mutex<Status>>,
    mut stop: watch::Receiver<bool>,
) {
    let ch = match ready {
        Some(ready) => Ok(ready),
        None => match open_session(&ctx, &request).await {
            Ok((ch, SessionType::Port { smux: false })) => Ok((ch, Vec::new())),
            Ok((ch, _)) => {
                let _ = terminate_session(&ctx, &ch.session_id).await;
                Err("the agent changed to multiplexing between sessions: restart the forward".to_string())
            }
            Err(e) => Err(e.to_string()),
        },
    };
    let (mut ch, early) = match ch {
        Ok(ch) => ch,
        Err(e) => {
            let mut st = status.lock().expect("forward status");
            st.last_error = Some(e);
            st.open_connections = st.open_connections.saturating_sub(1);
            return;
        }
    };
    status.lock().expect("forward status").session_id = Some(ch.session_id.clone());
    let (mut r, mut w) = sock.into_split();
    let mut buf = vec![0u8; driver::MAX_PAYLOAD];
    let mut ok = early.is_empty() || w.write_all(&early).await.is_ok();
    while ok {
        tokio::select! {
            _ = stop.changed() => break,
            n = r.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    status.lock().expect("forward status").bytes_out += n as u64;
                    ok = ch.input.send(Input::Data(buf[..n].to_vec())).is_ok();
                }
            },
            out = ch.output.recv() => match out {
                Some(Output::Data(bytes)) => {
                    status.lock().expect("forward status").bytes_in += bytes.len() as u64;
                    ok = w.write_all(&bytes).await.is_ok();
                }
                Some(Output::Flag(Flag::ConnectToPortError)) => {
                    status.lock().expect("forward status").last_error = Some("the instance could not connect to the remote port".into());
                    break;
                }
                Some(Output::Closed(why) | Output::Unsupported(why)) => {
                    status.lock().expect("forward status").last_error = Some(why);
                    break;
                }
                None => break,
                Some(_) => {}
            },
        }
    }
    let _ = w.shutdown().await;
    let _ = ch.input.send(Input::Flag(Flag::TerminateSession));
    let _ = terminate_session(&ctx, &ch.session_id).await;
    let mut st = status.lock().expect("forward status");
    st.open_connections = st.open_connections.saturating_sub(1);
}
