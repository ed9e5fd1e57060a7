//! One interface over both transports: rdsdeck's native data channel and
//! AWS's `session-manager-plugin`. `Auto` takes the native one and hands over
//! to the plugin when the agent asks for what only the plugin does (KMS).

use futures::future::BoxFuture;
use std::net::SocketAddr;

use super::api::{SessionRequest, start_session};
use super::forward::{self, ForwardSpec, StartError, State, Status};
use super::{plugin, shell};
use crate::aws::AwsContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// rdsdeck's own data channel.
    Native,
    /// AWS's session-manager-plugin.
    Plugin,
    /// Native, and the plugin when the agent asks for what native does not do.
    Auto,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Native, Transport::Plugin, Transport::Auto];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Native => "native",
            Transport::Plugin => "plugin",
            Transport::Auto => "auto",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Transport::Native => "rdsdeck's own data channel",
            Transport::Plugin => "AWS's session-manager-plugin",
            Transport::Auto => "native, and the plugin when the agent asks for what native does not do (KMS)",
        }
    }
}

/// Something the user should know that is not an error; the front end shows it
/// (the CLI on stderr, the TUI in its log and status line). The core never prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `auto` handed the session to the plugin.
    PluginHandOver { why: String },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::PluginHandOver { why } => write!(f, "{why}; using {} instead", plugin::BINARY),
        }
    }
}

/// Where notices go.
pub type Notify<'a> = &'a mut (dyn FnMut(Notice) + Send);

/// A running port forward, whatever carries it.
pub trait PortForward: Send {
    fn local_addr(&self) -> SocketAddr;
    /// How it travels ("native, smux", "session-manager-plugin 1.2.650.0").
    fn carrier(&self) -> String;
    fn session_id(&self) -> String;
    fn status(&mut self) -> Status;
    /// Ends the session and frees the local port.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl PortForward for forward::Forward {
    fn local_addr(&self) -> SocketAddr {
        forward::Forward::local_addr(self).expect("a started forward is bound")
    }
    fn carrier(&self) -> String {
        format!("native, {}", forward::Forward::status(self).mode.unwrap_or_default())
    }
    fn session_id(&self) -> String {
        forward::Forward::status(self).session_id.unwrap_or_default()
    }
    fn status(&mut self) -> Status {
        forward::Forward::status(self)
    }
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(forward::Forward::stop(*self))
    }
}

/// The plugin forwarding a local port it bound itself.
pub struct PluginForward {
    session: plugin::PluginSession,
    local: SocketAddr,
    started: std::time::SystemTime,
}

impl PortForward for PluginForward {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }
    fn carrier(&self) -> String {
        format!("{} {}", plugin::BINARY, self.session.plugin.version)
    }
    fn session_id(&self) -> String {
        self.session.session_id.clone()
    }
    /// The plugin keeps its counters to itself: state only (it exits when the session ends).
    fn status(&mut self) -> Status {
        let alive = self.session.running();
        Status {
            state: if alive { State::Ready } else { State::Failed },
            local: Some(self.local),
            session_id: Some(self.session.session_id.clone()),
            mode: Some("plugin".into()),
            bytes_in: 0,
            bytes_out: 0,
            open_connections: 0,
            total_connections: 0,
            reconnects: 0,
            started: self.started,
            last_error: (!alive).then(|| format!("{} exited", plugin::BINARY)),
        }
    }
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.session.stop())
    }
}

async fn plugin_forward(ctx: &AwsContext, spec: &ForwardSpec) -> Result<Box<dyn PortForward>, String> {
    let p = plugin::detect().await?;
    // The plugin binds the local port itself: pick a free one when none is asked for.
    let local_port = match spec.local_port {
        0 => std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())?,
        p => p,
    };
    let req = SessionRequest::port(&spec.target, spec.host.as_deref(), spec.remote_port, local_port);
    let session = start_session(ctx, &req).await?;
    let session = plugin::start(ctx, p, &req, session).await?;
    Ok(Box::new(PluginForward { session, local: SocketAddr::from(([127, 0, 0, 1], local_port)), started: std::time::SystemTime::now() }))
}

/// Starts a forward over `transport`; a hand-over to the plugin is told to `notify`.
pub async fn open_forward(ctx: &AwsContext, spec: &ForwardSpec, transport: Transport, notify: Notify<'_>) -> Result<Box<dyn PortForward>, String> {
    match transport {
        Transport::Plugin => plugin_forward(ctx, spec).await,
        Transport::Native | Transport::Auto => match forward::start(ctx.clone(), spec.clone()).await {
            Ok(f) => Ok(Box::new(f)),
            Err(StartError::NeedsPlugin(why)) if transport == Transport::Auto => {
                let n = Notice::PluginHandOver { why };
                tracing::warn!("{n}");
                notify(n);
                plugin_forward(ctx, spec).await
            }
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Runs an interactive shell over `transport` until it exits; a hand-over is told to `notify` first.
pub async fn run_shell(ctx: &AwsContext, target: &str, transport: Transport, notify: Notify<'_>) -> Result<String, String> {
    match transport {
        Transport::Plugin => plugin_shell(ctx, target).await,
        Transport::Native | Transport::Auto => match shell::run(ctx, target).await {
            Ok(why) => Ok(why),
            Err(StartError::NeedsPlugin(why)) if transport == Transport::Auto => {
                let n = Notice::PluginHandOver { why };
                tracing::warn!("{n}");
                notify(n);
                plugin_shell(ctx, target).await
            }
            Err(e) => Err(e.to_string()),
        },
    }
}

async fn plugin_shell(ctx: &AwsContext, target: &str) -> Result<String, String> {
    let p = plugin::detect().await?;
    let req = SessionRequest::shell(target);
    let session = start_session(ctx, &req).await?;
    plugin::run_interactive(ctx, p, &req, session).await
}
