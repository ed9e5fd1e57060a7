//! The effect runner: each [`Effect`] becomes work on tokio (or a blocking
//! thread) through the core, and its result comes back as a [`Msg`]. It owns
//! the handles of what runs: the SQL session and the port forwards.

use std::time::Duration;
use tokio::sync::mpsc;

use super::app::{Effect, Msg};
use crate::aws::AwsContext;
use crate::stack::{fetch_kind, locate};

/// The runner's handles on the open SQL session.
#[derive(Default)]
pub struct SqlHandles {
    cmds: Option<mpsc::UnboundedSender<Vec<String>>>,
    /// The second connection that sends KILL QUERY (opened at the first cancel, kept).
    canceller: Option<std::sync::Arc<crate::db::cancel::Canceller>>,
    /// Cancel and abandon the running batch (see `db::session::Controls`).
    controls: Option<std::sync::Arc<crate::db::session::Controls>>,
    /// The session's connector: a whole-result export opens its own connection with it.
    connector: Option<std::sync::Arc<crate::db::connect::Connector>>,
    /// Stops the running whole-result export.
    export_stop: Option<std::sync::Arc<tokio::sync::Notify>>,
}

/// Counts the rows on their way to the export's file and reports every 100 ms or so.
struct Progress<'a> {
    inner: Box<dyn crate::db::rows::Sink + 'a>,
    rows: u64,
    at: std::time::Instant,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Progress<'_> {
    fn counted(&mut self) {
        self.rows += 1;
        if self.rows % 4096 == 0 && self.at.elapsed() >= Duration::from_millis(100) {
            self.at = std::time::Instant::now();
            let _ = self.tx.send(Msg::ExportProgress(self.rows));
        }
    }
}

impl crate::db::rows::Sink for Progress<'_> {
    fn start(&mut self, columns: &[String]) -> std::io::Result<()> {
        self.inner.start(columns)
    }
    fn row(&mut self, row: Vec<crate::db::rows::Cell>) -> std::io::Result<()> {
        self.counted();
        self.inner.row(row)
    }
    fn row_text(&mut self, row: &crate::db::rows::TextRow<'_>) -> std::io::Result<()> {
        self.counted();
        self.inner.row_text(row)
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.inner.finish()
    }
    fn kinds(&mut self, kinds: &[crate::db::rows::ValueKind]) -> std::io::Result<()> {
        self.inner.kinds(kinds)
    }
}

/// Runs `sql` again on a connection of its own, straight into a new private CSV file in `dir`.
async fn export_query(
    c: std::sync::Arc<crate::db::connect::Connector>,
    dir: std::path::PathBuf,
    stem: String,
    sql: String,
    tx: mpsc::UnboundedSender<Msg>,
    stop: std::sync::Arc<tokio::sync::Notify>,
) -> Result<std::path::PathBuf, String> {
    let (file, path) = crate::files::create_unique(&dir, &stem, "csv").map_err(|e| format!("{}: {e}", dir.display()))?;
    let gone = |why: String| {
        let _ = std::fs::remove_file(&path);
        why
    };
    let mut conn = c.connect_wire().await.map_err(|e| gone(e.to_string()))?;
    let mut sink = Progress { inner: crate::db::output::sink(crate::db::output::Format::Csv, std::io::BufWriter::with_capacity(1 << 20, file)), rows: 0, at: std::time::Instant::now(), tx: tx.clone() };
    let r = tokio::select! {
        r = conn.run(&sql, &mut sink) => Some(r),
        _ = stop.notified() => None,
    };
    let rows = sink.rows;
    drop(sink);
    match r {
        Some(Ok(_)) => {
            conn.close().await;
            let _ = tx.send(Msg::ExportProgress(rows));
            Ok(path)
        }
        Some(Err(e)) => Err(gone(c.explain_wire(&e).to_string())),
        // Dropped: the server ends the statement when it finds the connection gone.
        None => Err(gone(format!("stopped after {rows} rows; the partial file was removed"))),
    }
}

/// The running forwards, by the view's id (the runner owns them; the view sees status messages).
/// Jobs still running: at exit they see their reply channel close and end what they opened (the
/// doctor's forwards); the TUI waits for them a little (see [`wait_for_jobs`]).
static JOBS: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> = std::sync::Mutex::new(Vec::new());

/// Waits for the jobs still running that hold sessions (after the event loop, whose channel they
/// answer on is gone); other jobs are simply dropped with the runtime.
pub async fn wait_for_jobs() {
    let jobs: Vec<_> = JOBS.lock().map(|mut j| std::mem::take(&mut *j)).unwrap_or_default();
    futures::future::join_all(jobs).await;
}

pub type ForwardHandles = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, Box<dyn crate::ssm::transport::PortForward>>>>;

/// How often a forward's status is reported, and how often it is probed through.
const FORWARD_STATUS_EVERY: Duration = Duration::from_secs(1);
const FORWARD_PROBE_EVERY: u32 = 10;

pub fn spawn_effect(e: Effect, tx: &mpsc::UnboundedSender<Msg>, sql: &mut SqlHandles, fwd: &ForwardHandles) {
    let tx = tx.clone();
    match e {
        Effect::ForwardStart { id, ctx, spec } => {
            let handles = fwd.clone();
            tokio::spawn(async move {
                // Native, or the plugin when the agent asks for KMS encryption.
                let ntx = tx.clone();
                let mut notify = move |n: crate::ssm::transport::Notice| {
                    let _ = ntx.send(Msg::Notice(n.to_string()));
                };
                match crate::ssm::transport::open_forward(&ctx, &spec, crate::ssm::transport::Transport::Auto, &mut notify).await {
                    Err(e) => {
                        let _ = tx.send(Msg::ForwardStarted { id, result: Err(e) });
                    }
                    Ok(f) => {
                        let local = Some(f.local_addr());
                        handles.lock().expect("forwards").insert(id, f);
                        let _ = tx.send(Msg::ForwardStarted { id, result: Ok(()) });
                        let mut n = 0u32;
                        loop {
                            let probe = match (n % FORWARD_PROBE_EVERY, local) {
                                (0, Some(addr)) => Some(crate::ssm::forward::probe(addr, Duration::from_secs(5)).await),
                                _ => None,
                            };
                            let status = match handles.lock().expect("forwards").get_mut(&id) {
                                Some(f) => f.status(),
                                None => break,
                            };
                            if tx.send(Msg::ForwardStatus { id, status: Box::new(status), probe }).is_err() {
                                break;
                            }
                            n += 1;
                            tokio::time::sleep(FORWARD_STATUS_EVERY).await;
                        }
                    }
                }
            });
        }
        Effect::ForwardStop { id } => {
            let f = fwd.lock().expect("forwards").remove(&id);
            tokio::spawn(async move {
                let last = match f {
                    Some(mut f) => {
                        let s = f.status();
                        f.stop().await;
                        Some(s)
                    }
                    None => None,
                };
                let _ = tx.send(Msg::ForwardStopped { id, last: last.map(Box::new) });
            });
        }
        Effect::SqlOpen { generation, session, spec, ctx, via } => {
            let Some(provider) = ctx.sdk.credentials_provider() else { return };
            let connector = std::sync::Arc::new(crate::db::connect::Connector::new(spec, crate::db::connect::Auth::Iam(provider)));
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
            // The session decodes rows flat out: on a thread of its own it never delays a frame
            // (a task woken on the same tokio worker would wait for it to yield).
            let c = connector.clone();
            let controls = std::sync::Arc::new(crate::db::session::Controls::default());
            let a = controls.clone();
            let spawned = std::thread::Builder::new().name("rdsdeck-sql".into()).spawn(move || {
                // Decoding is background work: when it and the UI both want a core (two cores,
                // the database server on one), the UI wins and the first rows reach the screen
                // at once. (Linux: a thread's nice value is its own.)
                // SAFETY: setpriority on this thread's own id; no memory is involved.
                unsafe {
                    let tid = libc::gettid();
                    libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
                }
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(crate::db::session::serve(c, via, super::features::sql::MAX_ROWS, cmd_rx, ev_tx, a)),
                    Err(e) => {
                        let _ = ev_tx.send(crate::db::session::Event::Failed(format!("cannot start the SQL session: {e}")));
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::warn!("cannot start the SQL session thread: {e}");
            }
            tokio::spawn(async move {
                while let Some(event) = ev_rx.recv().await {
                    if tx.send(Msg::Sql { generation, session, event }).is_err() {
                        break;
                    }
                }
            });
            sql.cmds = Some(cmd_tx);
            sql.controls = Some(controls);
            sql.connector = Some(connector.clone());
            // The cancel connection opens now, beside the session's: Esc then costs one KILL
            // QUERY, not a TLS handshake and an IAM login first.
            let canceller = std::sync::Arc::new(crate::db::cancel::Canceller::new(connector));
            sql.canceller = Some(canceller.clone());
            tokio::spawn(async move {
                if let Err(e) = canceller.warm().await {
                    tracing::debug!("cancel connection not opened yet ({e}); the first cancel opens it");
                }
            });
        }
        Effect::SqlAbandon => {
            if let Some(c) = &sql.controls {
                c.abandon.notify_waiters();
            }
        }
        Effect::SqlRun(stmts) => {
            if let Some(c) = &sql.controls {
                c.cancelled.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            if let Some(c) = &sql.cmds {
                let _ = c.send(stmts);
            }
        }
        Effect::SqlCancel { generation, session, connection_id } => {
            if let Some(c) = &sql.controls {
                c.cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            // Not connected yet: the flag alone stops the batch before its first statement.
            if let (Some(c), Some(connection_id)) = (sql.canceller.clone(), connection_id) {
                tokio::spawn(async move {
                    if let Err(e) = c.kill_query(connection_id).await {
                        tracing::warn!("cancel: {e}");
                        let event = crate::db::session::Event::CancelFailed(e.to_string());
                        let _ = tx.send(Msg::Sql { generation, session, event });
                    }
                });
            }
        }
        Effect::SqlExport { dir, stem, columns, rows } => {
            tokio::task::spawn_blocking(move || {
                let r = super::features::sql::session::export_csv(&dir, &stem, &columns, &rows).map_err(|e| e.to_string());
                let _ = tx.send(Msg::Exported(r));
            });
        }
        Effect::SqlExportQuery { dir, stem, sql: statement } => {
            let Some(c) = sql.connector.clone() else { return };
            let stop = std::sync::Arc::new(tokio::sync::Notify::new());
            sql.export_stop = Some(stop.clone());
            // On a thread of its own, as the session: writing a big file never delays a frame.
            let spawned = std::thread::Builder::new().name("rdsdeck-export".into()).spawn(move || {
                let r = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(export_query(c, dir, stem, statement, tx.clone(), stop)),
                    Err(e) => Err(format!("cannot start the export: {e}")),
                };
                let _ = tx.send(Msg::Exported(r));
            });
            if let Err(e) = spawned {
                tracing::warn!("cannot start the export thread: {e}");
            }
        }
        Effect::SqlExportStop => {
            if let Some(s) = sql.export_stop.take() {
                s.notify_one();
            }
        }
        Effect::SqlHistory { path, text } => {
            tokio::task::spawn_blocking(move || {
                if let Err(e) = super::features::sql::session::append_history(&path, &text) {
                    tracing::warn!("SQL history {}: {e}", path.display());
                }
            });
        }
        Effect::SqlClose => {
            // Dropping the command channel ends the session task, which disconnects.
            if let Some(c) = std::mem::take(sql).canceller {
                tokio::spawn(async move { c.close().await });
            }
        }
        Effect::LoadContext { generation, aws } => {
            tokio::spawn(async move {
                let result = AwsContext::load(&aws).await.map_err(|e| e.to_string());
                let _ = tx.send(Msg::Context { generation, result });
            });
        }
        Effect::Identity { generation, ctx } => {
            tokio::spawn(async move {
                let result = ctx.identity().await;
                let _ = tx.send(Msg::Identity { generation, result });
            });
        }
        Effect::Locate { generation, ctx, anchor, prefix } => {
            tokio::spawn(async move {
                let result = locate(&ctx, &anchor, &prefix).await;
                let _ = tx.send(Msg::Located { generation, result });
            });
        }
        Effect::Fetch { generation, ctx, loc, kind } => {
            tokio::spawn(async move {
                let (result, elapsed) = fetch_kind(&ctx, &loc, kind).await;
                let _ = tx.send(Msg::Kind { generation, kind, result, elapsed });
            });
        }
        Effect::Token { generation, ctx, req, target } => {
            tokio::spawn(async move {
                let result = crate::auth::sign_with_context(&ctx, &req, std::time::SystemTime::now()).await.map_err(|e| e.to_string());
                let _ = tx.send(Msg::Token { generation, target, result });
            });
        }
        Effect::BootstrapPlan { generation, settings, ctx, located } => {
            tokio::spawn(async move {
                let ov = crate::bootstrap::Overrides::default();
                let result = crate::bootstrap::resolve(&settings, None, ov, ctx.as_ref(), located.as_deref()).await;
                let _ = tx.send(Msg::BootstrapPlan { generation, result });
            });
        }
        Effect::BootstrapRun { run_id, inputs, ctx, opts } => {
            let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
            tokio::spawn(crate::bootstrap::run::execute(*inputs, ctx, opts, ev_tx));
            tokio::spawn(async move {
                while let Some(event) = ev_rx.recv().await {
                    if tx.send(Msg::Bootstrap { run_id, event }).is_err() {
                        break;
                    }
                }
            });
        }
        Effect::Switch { verb, arg, args, config, config_path } => {
            tokio::task::spawn_blocking(move || {
                let result = crate::settings::Settings::from_config(&args, *config, config_path).map(Box::new).map_err(|e| e.to_string());
                let _ = tx.send(Msg::Switched { verb, arg, args: *args, result });
            });
        }
        Effect::LoadTheme { name, dir } => {
            tokio::task::spawn_blocking(move || {
                let result = super::theme::Theme::load(&name, dir.as_deref(), super::theme::no_color_requested()).map(Box::new);
                let _ = tx.send(Msg::Theme { name, result });
            });
        }
        Effect::Job { to, job } => {
            let handle = tokio::spawn((job.0)(super::event::Reply::new(tx, to)));
            if job.1 == super::event::Ends::Awaited
                && let Ok(mut jobs) = JOBS.lock()
            {
                jobs.retain(|h| !h.is_finished());
                jobs.push(handle);
            }
        }
        Effect::Copy(_) | Effect::Suspend | Effect::Shell { .. } => {}
    }
}

