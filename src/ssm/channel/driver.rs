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


/// Opens the websocket (ws:// or wss://) and sends the opening frame.
async fn open(start: &SessionStart) -> Result<WsStream, String> {
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
        client_id: new_uuid().to_string(),
        client_version: CLIENT_VERSION.into(),
    };
    ws.send(Ws::Text(serde_json::to_string(&opening).expect("JSON").into())).await.map_err(|e| format!("websocket: {e}"))?;
    Ok(ws)
}

/// What the handshake asked for, and our answer.
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
    Ok((kind, HandshakeResponse { client_version: CLIENT_VERSION.into(), processed, errors: vec![] }))
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

async fn run(
    mut start: SessionStart,
    resume: Resume,
    mut input: mpsc::UnboundedReceiver<Input>,
    out: mpsc::UnboundedSender<Output>,
) {
    let mut rel = Reliable::client();
    // The session type between HandshakeRequest and HandshakeComplete.
    let mut pending: Option<SessionType> = None;
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
        let ws = match open(&start).await {
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
        match serve(ws, &mut rel, &mut pending, &mut input, &out).await {
            Served::Finished => return,
            Served::Lost(why) => tracing::info!("ssm {}: websocket lost ({why}); resuming", start.session_id),
        }
    }
}

enum Served {
    Finished,
    Lost(String),
}

async fn serve(
    ws: WsStream,
    rel: &mut Reliable,
    pending: &mut Option<SessionType>,
    input: &mut mpsc::UnboundedReceiver<Input>,
    out: &mpsc::UnboundedSender<Output>,
) -> Served {
    let (mut sink, mut stream) = ws.split();
    let mut tick = tokio::time::interval(RESEND_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Whatever the last websocket did not get acknowledged goes again.
    for f in rel.resend_all(Instant::now()) {
        if let Err(e) = sink.send(Ws::Binary(f.into())).await {
            return Served::Lost(e.to_string());
        }
    }
    loop {
        let mut outgoing: Vec<Vec<u8>> = Vec::new();
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Ws::Binary(b))) => {
                    let m = match Message::decode(&b) {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::debug!("ssm: dropped a frame: {e}");
                            continue;
                        }
                    };
                    let r = rel.receive(m, Instant::now());
                    outgoing.extend(r.send);
                    for d in r.deliver {
                        match handle(d, rel, pending, out) {
                            Ok(frames) => outgoing.extend(frames),
                            Err(e) => {
                                let _ = out.send(Output::Unsupported(e));
                                let _ = sink.close().await;
                                return Served::Finished;
                            }
                        }
                    }
                    if let Some(reason) = r.closed {
                        let _ = out.send(Output::Closed(reason));
                        let _ = sink.close().await;
                        return Served::Finished;
                    }
                }
                Some(Ok(Ws::Close(frame))) => return Served::Lost(format!("closed by the agent ({frame:?})")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Served::Lost(e.to_string()),
                None => return Served::Lost("the websocket ended".into()),
            },
            inp = input.recv(), if rel.unacked() < WINDOW => match inp {
                Some(Input::Data(bytes)) => {
                    for chunk in bytes.chunks(MAX_PAYLOAD) {
                        outgoing.extend(rel.send(PayloadType::Output, chunk.to_vec(), Instant::now()));
                    }
                }
                Some(Input::Size { cols, rows }) => {
                    let body = serde_json::to_vec(&Size { cols, rows }).expect("JSON");
                    outgoing.extend(rel.send(PayloadType::Size, body, Instant::now()));
                }
                Some(Input::Flag(f)) => outgoing.extend(rel.send(PayloadType::Flag, f.payload(), Instant::now())),
                None => {
                    // The owner is gone: the session ends (the owner terminates it through the API).
                    let _ = sink.close().await;
                    return Served::Finished;
                }
            },
            _ = tick.tick() => {
                if let Some(f) = rel.due(Instant::now()) {
                    outgoing.push(f);
                }
            }
        }
        for f in outgoing {
            if let Err(e) = sink.send(Ws::Binary(f.into())).await {
                // The agent may have said goodbye (channel_closed) just before closing: read what is left.
                return drain(&mut stream, rel, pending, out, e.to_string()).await;
            }
        }
    }
}

/// After a failed send: frames still readable may hold the agent's `channel_closed`.
async fn drain(
    stream: &mut futures::stream::SplitStream<WsStream>,
    rel: &mut Reliable,
    pending: &mut Option<SessionType>,
    out: &mpsc::UnboundedSender<Output>,
    why: String,
) -> Served {
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
        let Ws::Binary(b) = msg else { continue };
        let Ok(m) = Message::decode(&b) else { continue };
        let r = rel.receive(m, Instant::now());
        for d in r.deliver {
            let _ = handle(d, rel, pending, out);
        }
        if let Some(reason) = r.closed {
            let _ = out.send(Output::Closed(reason));
            return Served::Finished;
        }
    }
    Served::Lost(why)
}

/// One in-order stream-data message from the agent.
fn handle(
    m: Message,
    rel: &mut Reliable,
    pending: &mut Option<SessionType>,
    out: &mpsc::UnboundedSender<Output>,
) -> Result<Vec<Vec<u8>>, String> {
    let mut frames = Vec::new();
    match m.payload_type {
        PayloadType::HandshakeRequest => {
            let req: HandshakeRequest = serde_json::from_slice(&m.payload).map_err(|e| format!("bad handshake request: {e}"))?;
            let (kind, resp) = answer_handshake(&req)?;
            frames.extend(rel.send(PayloadType::HandshakeResponse, serde_json::to_vec(&resp).expect("JSON"), Instant::now()));
            *pending = Some(kind);
        }
        PayloadType::HandshakeComplete => {
            let kind = pending.take().unwrap_or(SessionType::Shell);
            let _ = out.send(Output::Ready(kind));
        }
        PayloadType::Output | PayloadType::StdErr => {
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
