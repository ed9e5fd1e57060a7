//! The Session Manager API (SSM_PROTOCOL.md §1): start, resume and terminate
//! sessions. The token of a session is a secret: it opens the data channel.

use secrecy::SecretString;
use std::collections::HashMap;

use crate::aws::{AwsContext, explain};

/// What StartSession and ResumeSession return.
#[derive(Clone)]
pub struct SessionStart {
    pub session_id: String,
    pub token: SecretString,
    pub stream_url: String,
}

impl std::fmt::Debug for SessionStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStart").field("session_id", &self.session_id).field("stream_url", &self.stream_url).finish_non_exhaustive()
    }
}

/// A document and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    pub target: String,
    pub document: Option<String>,
    pub parameters: HashMap<String, Vec<String>>,
}

pub const PORT_TO_REMOTE_HOST: &str = "AWS-StartPortForwardingSessionToRemoteHost";
pub const PORT_FORWARDING: &str = "AWS-StartPortForwardingSession";

impl SessionRequest {
    /// An interactive shell (the account's default session document).
    pub fn shell(target: &str) -> SessionRequest {
        SessionRequest { target: target.into(), document: None, parameters: HashMap::new() }
    }

    /// A port forward: to `host:port` through the instance, or to the instance's own port.
    pub fn port(target: &str, host: Option<&str>, port: u16, local_port: u16) -> SessionRequest {
        let mut parameters = HashMap::from([
            ("portNumber".to_string(), vec![port.to_string()]),
            ("localPortNumber".to_string(), vec![local_port.to_string()]),
        ]);
        let document = match host {
            Some(h) => {
                parameters.insert("host".into(), vec![h.to_string()]);
                PORT_TO_REMOTE_HOST
            }
            None => PORT_FORWARDING,
        };
        SessionRequest { target: target.into(), document: Some(document.into()), parameters }
    }
}

fn client(ctx: &AwsContext) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&ctx.sdk)
}

pub async fn start_session(ctx: &AwsContext, req: &SessionRequest) -> Result<SessionStart, String> {
    let mut call = client(ctx).start_session().target(&req.target).reason("rdsdeck");
    if let Some(d) = &req.document {
        call = call.document_name(d);
    }
    for (k, v) in &req.parameters {
        call = call.parameters(k, v.clone());
    }
    let out = call.send().await.map_err(|e| {
        let text = explain(&e);
        if text.contains("TargetNotConnected") {
            format!("{} is not connected to Session Manager (agent offline, no SSM role, or no route to the SSM endpoints): {text}", req.target)
        } else {
            format!("StartSession on {}: {text}", req.target)
        }
    })?;
    session_start(out.session_id, out.token_value, out.stream_url)
}

pub async fn resume_session(ctx: &AwsContext, session_id: &str) -> Result<SessionStart, String> {
    let out = client(ctx)
        .resume_session()
        .session_id(session_id)
        .send()
        .await
        .map_err(|e| format!("ResumeSession {session_id}: {}", explain(&e)))?;
    session_start(out.session_id, out.token_value, out.stream_url)
}

pub async fn terminate_session(ctx: &AwsContext, session_id: &str) -> Result<(), String> {
    client(ctx)
        .terminate_session()
        .session_id(session_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("TerminateSession {session_id}: {}", explain(&e)))
}

fn session_start(id: Option<String>, token: Option<String>, url: Option<String>) -> Result<SessionStart, String> {
    match (id, token, url) {
        (Some(session_id), Some(token), Some(stream_url)) => Ok(SessionStart { session_id, token: SecretString::from(token), stream_url }),
        _ => Err("the SSM API answered without a session id, token or stream URL".into()),
    }
}
