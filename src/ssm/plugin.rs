//! Transport A: AWS's own `session-manager-plugin`, run the way the AWS CLI
//! runs it (SSM_PROTOCOL.md §2), but never with the session token in argv: the
//! StartSession response goes in `AWS_SSM_START_SESSION_RESPONSE`, which
//! plugins newer than 1.2.497.0 read; older ones are refused. The plugin runs
//! in its own process group, is ready when it says "Waiting for connections",
//! stops on SIGINT (it ignores SIGTERM), and the session is terminated after.

use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::api::{SessionRequest, SessionStart, terminate_session};
use crate::aws::AwsContext;

pub const BINARY: &str = "session-manager-plugin";
pub const ENV_RESPONSE: &str = "AWS_SSM_START_SESSION_RESPONSE";
/// The first version that reads the response from the environment.
pub const MIN_VERSION: &str = "1.2.497.0";
pub const INSTALL_HINT: &str = "install it (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html), or use --transport native";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub path: PathBuf,
    pub version: String,
}

fn newer_than(a: &str, b: &str) -> bool {
    let parse = |v: &str| v.trim().split('.').map(|x| x.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    parse(a) > parse(b)
}

/// Finds the plugin on PATH and checks its version.
pub async fn detect() -> Result<Plugin, String> {
    let path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(BINARY)).find(|f| f.is_file()))
        .unwrap_or_default()
        .ok_or_else(|| format!("{BINARY} is not installed (not on PATH): {INSTALL_HINT}"))?;
    let out = tokio::time::timeout(Duration::from_secs(10), Command::new(&path).arg("--version").stdin(Stdio::null()).output())
        .await
        .map_err(|_| format!("{} --version did not answer", path.display()))?
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !newer_than(&version, MIN_VERSION) {
        return Err(format!(
            "{BINARY} {version} is older than {MIN_VERSION}, which would need the session token on its command line: upgrade it, or use --transport native"
        ));
    }
    Ok(Plugin { path, version })
}

/// A running plugin process for one session.
pub struct PluginSession {
    pub session_id: String,
    pub plugin: Plugin,
    child: Child,
    ctx: AwsContext,
}

/// The plugin's arguments: [ENV name, region, "StartSession", profile, request JSON, endpoint].
pub fn argv(ctx: &AwsContext, req: &SessionRequest) -> Vec<String> {
    let request = serde_json::json!({
        "Target": req.target,
        "DocumentName": req.document,
        "Parameters": req.parameters,
    });
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SSM")
        .ok()
        .or_else(|| ctx.endpoint.clone())
        .unwrap_or_else(|| format!("https://ssm.{}.amazonaws.com", ctx.region));
    let profile = if ctx.profile == "default" && std::env::var("AWS_PROFILE").is_err() { String::new() } else { ctx.profile.clone() };
    vec![ENV_RESPONSE.into(), ctx.region.clone(), "StartSession".into(), profile, request.to_string(), endpoint]
}

/// Starts the plugin on a session already started through the API, and waits
/// until it accepts connections (port sessions) or has started (shells).
pub async fn start(ctx: &AwsContext, plugin: Plugin, req: &SessionRequest, session: SessionStart) -> Result<PluginSession, String> {
    let response = serde_json::json!({
        "SessionId": session.session_id,
        "TokenValue": session.token.expose_secret(),
        "StreamUrl": session.stream_url,
    });
    let mut child = Command::new(&plugin.path)
        .args(argv(ctx, req))
        .env(ENV_RESPONSE, response.to_string())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", plugin.path.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let ps = PluginSession { session_id: session.session_id.clone(), plugin, child, ctx: ctx.clone() };
    let mut lines = BufReader::new(stdout).lines();
    let mut errs = BufReader::new(stderr).lines();
    let ready = async {
        loop {
            tokio::select! {
                l = lines.next_line() => match l {
                    Ok(Some(l)) if l.contains("Waiting for connections") => return Ok(()),
                    Ok(Some(l)) if l.contains("address already in use") => return Err(format!("the local port is taken: {l}")),
                    Ok(Some(l)) => tracing::info!("{BINARY}: {l}"),
                    _ => return Err(format!("{BINARY} exited before it was ready")),
                },
                l = errs.next_line() => match l {
                    Ok(Some(l)) if l.contains("address already in use") => return Err(format!("the local port is taken: {l}")),
                    Ok(Some(l)) => tracing::warn!("{BINARY}: {l}"),
                    _ => {}
                },
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(30), ready).await {
        Ok(Ok(())) => {
            // Keep draining its output so it never blocks on a full pipe.
            tokio::spawn(async move {
                while let Ok(Some(l)) = lines.next_line().await {
                    tracing::info!("{BINARY}: {l}");
                }
            });
            tokio::spawn(async move {
                while let Ok(Some(l)) = errs.next_line().await {
                    tracing::warn!("{BINARY}: {l}");
                }
            });
            Ok(ps)
        }
        Ok(Err(e)) => {
            ps.stop().await;
            Err(e)
        }
        Err(_) => {
            ps.stop().await;
            Err(format!("{BINARY} did not get ready within 30 s"))
        }
    }
}

impl PluginSession {
    /// SIGINT to the plugin's process group, a wait (SIGKILL after 5 s), then TerminateSession.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling the process group we created for the plugin.
            unsafe { libc::kill(-(pid as i32), libc::SIGINT) };
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
        if let Err(e) = terminate_session(&self.ctx, &self.session_id).await {
            tracing::warn!("{e}");
        }
    }

    /// The plugin has not exited.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A shell through the plugin: it owns the terminal (same process group, so
/// it stays in the foreground; Ctrl-C goes to it, not to rdsdeck) until it
/// exits; then the session is terminated.
pub async fn run_interactive(ctx: &AwsContext, plugin: Plugin, req: &SessionRequest, session: SessionStart) -> Result<String, String> {
    let response = serde_json::json!({
        "SessionId": session.session_id,
        "TokenValue": session.token.expose_secret(),
        "StreamUrl": session.stream_url,
    });
    // While the plugin runs, SIGINT is its business: keep it from ending rdsdeck.
    let mut ignore_int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut child = Command::new(&plugin.path)
        .args(argv(ctx, req))
        .env(ENV_RESPONSE, response.to_string())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", plugin.path.display()))?;
    let status = loop {
        tokio::select! {
            st = child.wait() => break st,
            _ = ignore_int.recv() => {}
        }
    };
    if let Err(e) = terminate_session(ctx, &session.session_id).await {
        tracing::warn!("{e}");
    }
    match status {
        Ok(st) if st.success() => Ok(format!("the session ended ({BINARY} exited)")),
        Ok(st) => Err(format!("{BINARY} exited with {st}")),
        Err(e) => Err(format!("{BINARY}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(newer_than("1.2.650.0", MIN_VERSION));
        assert!(newer_than("1.10.0.0", MIN_VERSION));
        assert!(!newer_than("1.2.497.0", MIN_VERSION));
        assert!(!newer_than("1.2.331.0", MIN_VERSION));
        assert!(!newer_than("garbage", MIN_VERSION));
    }
}
