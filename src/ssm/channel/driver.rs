//! One data channel over a websocket (SSM_PROTOCOL.md §3): the opening
//! frame, the handshake, reliable delivery ([`Reliable`]), and resuming the
//! same session (ResumeSession, a new token, the same sequence state) when the
//! websocket drops or the agent closes it with code 1000.

use futures::{SinkExt, StreamExt, future::BoxFuture};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::message::{
    ClientAction, Flag, HandshakeRequest, HandshakeResponse, Message, OpenDataChannel, PayloadType, ProcessedAction, Size,
    new_uuid,
};
use super::reliable::{RESEND_TICK, Reliable};
use crate::ssm::api::SessionStart;

/// Reported to the agent: at least 1.1.70, so port sessions use smux.
pub const CLIENT_VERSION: &str = "1.2.694.0";
/// The agent's (and the plugin's) stream payload size.
pub const MAX_PAYLOAD: usize = 1024;
/// Unacked messages in flight before input is held back.
pub const WINDOW: usize = 512;
/// Reconnect attempts in a row before the channel gives up.
pub const MAX_RECONNECTS: u32 = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionType {
    /// A port session; `smux` when the agent multiplexes.
    Port { smux: bool },
    Shell,
}

#[derive(Debug)]
pub enum Output {
    /// The handshake completed.
    Ready(SessionType),
    /// Output (stdout or stderr) or port bytes.
    Data(Vec<u8>),
    Flag(Flag),
    /// The session ended: the agent's reason, or why the channel failed.
    Closed(String),
    /// The agent asked for something the native transport does not do (KMS
    /// encryption, an unknown action): the plugin transport can take over.
    Unsupported(String),
}

#[derive(Debug)]
pub enum Input {
    Data(Vec<u8>),
    Size { cols: u32, rows: u32 },
    Flag(Flag),
}

/// Gets a fresh token for the same session (ResumeSession).
pub type Resume = Arc<dyn Fn() -> BoxFuture<'static, Result<SessionStart, String>> + Send + Sync>;

pub struct Channel {
    pub session_id: String,
    pub input: mpsc::UnboundedSender<Input>,
    pub output: mpsc::UnboundedReceiver<Output>,
}

/// Opens the channel in a task; the first output is `Ready` or `Closed`.
pub fn spawn(start: SessionStart, resume: Resume) -> Channel {
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let session_id = start.session_id.clone();
    tokio::spawn(run(start, resume, in_rx, out_tx));
    Channel { session_id, input: in_tx, output: out_rx }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type WsStream = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;


/// Opens the websocket (ws:// or wss://) and sends the opening frame, with the session's one
/// ClientId (the plugin keeps one per session across reconnects).
async fn open(start: &SessionStart, client_id: &str) -> Result<WsStream, String> {
    let request = start.stream_url.as_str().into_client_request().map_err(|e| format!("bad stream URL: {e}"))?;
    let uri = request.uri().clone();
    let host = uri.host().ok_or("the stream URL has no host")?.to_string();
    let tls = uri.scheme_str() == Some("wss");
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let tcp = tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| format!("timed out connecting to {host}:{port}"))?
        .map_err(|e| format!("cannot reach {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if tls {
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
        Box::new(tokio_rustls::TlsConnector::from(crate::tls::default_client_config()).connect(name, tcp).await.map_err(|e| format!("TLS with {host}: {e}"))?)
    } else {
        Box::new(tcp)
    };
    let (mut ws, _) = tokio_tungstenite::client_async(request, io).await.map_err(|e| format!("websocket to {host}: {e}"))?;
    let opening = OpenDataChannel {
        schema_version: "1.0".into(),
        request_id: new_uuid().to_string(),
        token: start.token.expose_secret().to_string(),
        client_id: client_id.to_string(),
        client_version: CLIENT_VERSION.into(),
    };
    ws.send(Ws::Text(serde_json::to_string(&opening).expect("JSON").into())).await.map_err(|e| format!("websocket: {e}"))?;
    Ok(ws)
}

/// What the handshake asked for, and our answer (shaped as the plugin's: every action with its
/// `ActionResult` and `Error`, `Errors` null when there are none).
fn answer_handshake(req: &HandshakeRequest) -> Result<(SessionType, HandshakeResponse), String> {
    let mut kind = SessionType::Shell;
    let mut processed = Vec::new();
    for a in &req.actions {
        match a.action_type.as_str() {
            "SessionType" => {
                kind = session_type(a, &req.agent_version);
                processed.push(ProcessedAction { action_type: a.action_type.clone(), status: 1, result: serde_json::Value::Null, error: String::new() });
            }
            "KMSEncryption" => {
                return Err("the agent requires KMS encryption of the session, which the native transport does not do: use --transport plugin".into());
            }
            other => return Err(format!("the agent asked for `{other}`, which the native transport does not know: use --transport plugin")),
        }
    }
    Ok((kind, HandshakeResponse { client_version: CLIENT_VERSION.into(), processed, errors: None }))
}

fn session_type(a: &ClientAction, agent_version: &str) -> SessionType {
    let p = &a.parameters;
    match p["SessionType"].as_str() {
        Some("Port") => {
            let local = p["Properties"]["type"].as_str() == Some("LocalPortForwarding");
            SessionType::Port { smux: local && version_gt(agent_version, "3.0.196.0") }
        }
        _ => SessionType::Shell,
    }
}

fn version_gt(a: &str, b: &str) -> bool {
    let parse = |v: &str| v.split('.').map(|x| x.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    parse(a) > parse(b)
}

/// What outlives one websocket: delivery state, the handshake in progress, whether the owner was
/// told the channel is ready, and the session's ClientId.
struct State {
    rel: Reliable,
    /// The session type between HandshakeRequest and HandshakeComplete.
    pending: Option<SessionType>,
    ready: bool,
    client_id: String,
}

async fn run(
    mut start: SessionStart,
    resume: Resume,
    mut input: mpsc::UnboundedReceiver<Input>,
    out: mpsc::UnboundedSender<Output>,
) {
    let mut st = State { rel: Reliable::client(), pending: None, ready: false, client_id: new_uuid().to_string() };
    let mut failures = 0u32;
    let mut first = true;
    loop {
        if !first {
            // Backoff: 0.1 s, 0.2 s, ... up to 5 s between attempts.
            let wait = Duration::from_millis(100 * 2u64.pow(failures.min(6))).min(Duration::from_secs(5));
            tokio::time::sleep(wait).await;
            match resume().await {
                Ok(s) => start = s,
                Err(e) if e.contains("DoesNotExist") || e.contains("terminated") => {
                    let _ = out.send(Output::Closed(format!("the session ended while its data channel was down: {e}")));
                    return;
                }
                Err(e) => {
                    failures += 1;
                    if failures > MAX_RECONNECTS {
                        let _ = out.send(Output::Closed(format!("the data channel was lost and could not be resumed: {e}")));
                        return;
                    }
                    continue;
                }
            }
        }
        first = false;
        let ws = match open(&start, &st.client_id).await {
            Ok(ws) => ws,
            Err(e) => {
                failures += 1;
                if failures > MAX_RECONNECTS {
                    let _ = out.send(Output::Closed(format!("the data channel could not be opened: {e}")));
                    return;
                }
                tracing::info!("ssm {}: {e}; resuming", start.session_id);
                continue;
            }
        };
        failures = 0;
        match serve(ws, &mut st, &mut input, &out).await {
            Served::Finished => return,
            Served::Lost(why) => tracing::info!("ssm {}: websocket lost ({why}); resuming", start.session_id),
        }
        tracing::debug!("ssm {}: delivery {:?}", start.session_id, st.rel.counters);
    }
}

enum Served {
    Finished,
    Lost(String),
}

/// Frames for the writer: acks never wait behind data.
struct Outbox {
    acks: mpsc::UnboundedSender<Vec<u8>>,
    data: mpsc::UnboundedSender<Vec<u8>>,
}

/// Writes frames as they come, acks first, flushing when nothing else is ready. It runs beside
/// the reader, so a websocket that is slow to take our frames never stops us reading the agent's
/// (both ends writing into full buffers, neither reading, is a deadlock).
async fn write_loop(
    mut sink: futures::stream::SplitSink<WsStream, Ws>,
    mut acks: mpsc::UnboundedReceiver<Vec<u8>>,
    mut data: mpsc::UnboundedReceiver<Vec<u8>>,
) -> Result<(), String> {
    loop {
        let first = tokio::select! {
            biased;
            a = acks.recv() => a,
            d = data.recv() => d,
        };
        let Some(frame) = first else { break };
        sink.feed(Ws::Binary(frame.into())).await.map_err(|e| e.to_string())?;
        while let Some(f) = acks.try_recv().ok().or_else(|| data.try_recv().ok()) {
            sink.feed(Ws::Binary(f.into())).await.map_err(|e| e.to_string())?;
        }
        sink.flush().await.map_err(|e| e.to_string())?;
    }
    // The reader is done: what is queued goes out, then the close.
    while let Some(f) = acks.try_recv().ok().or_else(|| data.try_recv().ok()) {
        sink.feed(Ws::Binary(f.into())).await.map_err(|e| e.to_string())?;
    }
    let _ = sink.close().await;
    Ok(())
}

async fn serve(ws: WsStream, st: &mut State, input: &mut mpsc::UnboundedReceiver<Input>, out: &mpsc::UnboundedSender<Output>) -> Served {
    let (sink, mut stream) = ws.split();
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let (data_tx, data_rx) = mpsc::unbounded_channel();
    let outbox = Outbox { acks: ack_tx, data: data_tx };
    let mut writer = tokio::spawn(write_loop(sink, ack_rx, data_rx));
    let mut tick = tokio::time::interval(RESEND_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The acks the last websocket may have lost, then whatever it did not get acknowledged.
    for f in st.rel.reacks() {
        let _ = outbox.acks.send(f);
    }
    st.rel.begin_epoch();
    for f in st.rel.resend_all(Instant::now()) {
        let _ = outbox.data.send(f);
    }
    // Ends the websocket: the writer sends what is queued and closes.
    async fn finish(outbox: Outbox, writer: tokio::task::JoinHandle<Result<(), String>>) {
        drop(outbox);
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    }
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Ws::Binary(b))) => match on_frame(&b, st, &outbox, out) {
                    Step::Go => {}
                    Step::Done => {
                        finish(outbox, writer).await;
                        return Served::Finished;
                    }
                },
                Some(Ok(Ws::Close(frame))) => {
                    // The writer sends what is queued and the close reply, so the agent reads our acks.
                    finish(outbox, writer).await;
                    return Served::Lost(format!("closed by the agent ({frame:?})"));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    writer.abort();
                    return Served::Lost(e.to_string());
                }
                None => {
                    writer.abort();
                    return Served::Lost("the websocket ended".into());
                }
            },
            inp = input.recv(), if st.rel.unacked() < WINDOW => {
                let now = Instant::now();
                match inp {
                    Some(Input::Data(bytes)) => {
                        for chunk in bytes.chunks(MAX_PAYLOAD) {
                            if let Some(f) = st.rel.send(PayloadType::Output, chunk.to_vec(), now) {
                                let _ = outbox.data.send(f);
                            }
                        }
                    }
                    Some(Input::Size { cols, rows }) => {
                        let body = serde_json::to_vec(&Size { cols, rows }).expect("JSON");
                        if let Some(f) = st.rel.send(PayloadType::Size, body, now) {
                            let _ = outbox.data.send(f);
                        }
                    }
                    Some(Input::Flag(f)) => {
                        if let Some(f) = st.rel.send(PayloadType::Flag, f.payload(), now) {
                            let _ = outbox.data.send(f);
                        }
                    }
                    None => {
                        // The owner is gone: the session ends (the owner terminates it through the API).
                        finish(outbox, writer).await;
                        return Served::Finished;
                    }
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                if let Some(seq) = st.rel.stuck(now) {
                    let _ = out.send(Output::Closed(format!(
                        "the agent has not acknowledged message {seq} for {} s: the session is stuck and was ended",
                        super::reliable::STUCK_AFTER.as_secs()
                    )));
                    finish(outbox, writer).await;
                    return Served::Finished;
                }
                for f in st.rel.nudge(now).into_iter().chain(st.rel.due(now)) {
                    let _ = outbox.data.send(f);
                }
            }
            res = &mut writer => {
                // The websocket would not take our frames: what the agent still sends may hold its
                // channel_closed (it says goodbye just before closing).
                let why = match res {
                    Ok(Err(e)) => e,
                    _ => "the websocket writer ended".into(),
                };
                return drain(&mut stream, st, out, why).await;
            }
        }
    }
}

enum Step {
    Go,
    Done,
}

/// One frame from the agent: acks and held frames to the writer, in-order messages handled.
fn on_frame(b: &[u8], st: &mut State, outbox: &Outbox, out: &mpsc::UnboundedSender<Output>) -> Step {
    let m = match Message::decode(b) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!("ssm: dropped a frame: {e}");
            return Step::Go;
        }
    };
    let r = st.rel.receive(m, Instant::now());
    for f in r.send {
        let _ = outbox.acks.send(f);
    }
    for d in r.deliver {
        match handle(d, st, out) {
            Ok(frames) => {
                for f in frames {
                    let _ = outbox.data.send(f);
                }
            }
            Err(e) => {
                let _ = out.send(Output::Unsupported(e));
                return Step::Done;
            }
        }
    }
    match r.closed {
        Some(reason) => {
            let _ = out.send(Output::Closed(reason));
            Step::Done
        }
        None => Step::Go,
    }
}

/// After the writer failed: frames still readable may hold the agent's `channel_closed`.
async fn drain(stream: &mut futures::stream::SplitStream<WsStream>, st: &mut State, out: &mpsc::UnboundedSender<Output>, why: String) -> Served {
    let (acks, _a) = mpsc::unbounded_channel();
    let (data, _d) = mpsc::unbounded_channel();
    let outbox = Outbox { acks, data };
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
        let Ws::Binary(b) = msg else { continue };
        if let Step::Done = on_frame(&b, st, &outbox, out) {
            return Served::Finished;
        }
    }
    Served::Lost(why)
}

/// One in-order stream-data message from the agent.
fn handle(m: Message, st: &mut State, out: &mpsc::UnboundedSender<Output>) -> Result<Vec<Vec<u8>>, String> {
    let mut frames = Vec::new();
    match m.payload_type {
        PayloadType::HandshakeRequest => {
            let req: HandshakeRequest = serde_json::from_slice(&m.payload).map_err(|e| format!("bad handshake request: {e}"))?;
            let (kind, resp) = answer_handshake(&req)?;
            frames.extend(st.rel.send(PayloadType::HandshakeResponse, serde_json::to_vec(&resp).expect("JSON"), Instant::now()));
            st.pending = Some(kind);
        }
        PayloadType::HandshakeComplete => {
            let kind = st.pending.take().unwrap_or(SessionType::Shell);
            if !std::mem::replace(&mut st.ready, true) {
                let _ = out.send(Output::Ready(kind));
            }
        }
        PayloadType::Output | PayloadType::StdErr => {
            // A shell without KMS has no handshake: its first output says the session is up (the
            // plugin sets the session type to shell on it, too).
            if st.pending.is_none() && !std::mem::replace(&mut st.ready, true) {
                let _ = out.send(Output::Ready(SessionType::Shell));
            }
            let _ = out.send(Output::Data(m.payload));
        }
        PayloadType::Flag => {
            if let Some(f) = Flag::from_payload(&m.payload) {
                let _ = out.send(Output::Flag(f));
            }
        }
        PayloadType::EncChallengeRequest => {
            return Err("the agent started an encryption challenge (KMS), which the native transport does not do: use --transport plugin".into());
        }
        _ => {}
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> HandshakeRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn handshake_answers_and_smux_selection() {
        let (k, resp) = answer_handshake(&req(
            r#"{"AgentVersion":"3.3.40.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"3306","type":"LocalPortForwarding"}}}]}"#,
        ))
        .unwrap();
        assert_eq!(k, SessionType::Port { smux: true });
        assert_eq!(resp.processed[0].status, 1);
        assert_eq!(resp.client_version, CLIENT_VERSION);
        let (k, _) = answer_handshake(&req(
            r#"{"AgentVersion":"3.0.196.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"type":"LocalPortForwarding"}}}]}"#,
        ))
        .unwrap();
        assert_eq!(k, SessionType::Port { smux: false }, "an old agent: basic mode");
        let (k, _) = answer_handshake(&req(
            r#"{"AgentVersion":"3.3.40.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Standard_Stream","Properties":null}}]}"#,
        ))
        .unwrap();
        assert_eq!(k, SessionType::Shell);
        let e = answer_handshake(&req(
            r#"{"AgentVersion":"3.3.40.0","RequestedClientActions":[{"ActionType":"KMSEncryption","ActionParameters":{"KMSKeyId":"k"}}]}"#,
        ))
        .unwrap_err();
        assert!(e.contains("--transport plugin"), "{e}");
    }
}
