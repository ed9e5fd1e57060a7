//! The terminal UI: a thin shell over the core. One loop selects over
//! crossterm's event stream, worker messages, signals and a deadline timer;
//! `App::update` changes state, `views::render` draws it, workers do the I/O.

pub mod app;
pub mod bootstrap;
pub mod forwards;
pub mod keymap;
pub mod layout;
pub mod sql;
pub mod table;
pub mod theme;
pub mod views;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::Stdout;
use std::time::{Duration, Instant};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;

use crate::aws::AwsContext;
use crate::config::Config;
use crate::settings::{Flags, Settings};
use crate::stack::{fetch_kind, locate};
use app::{Action, App, Effect, Msg};

type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back: raw mode off, main screen, mouse off, cursor on.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

fn enter_terminal() -> std::io::Result<Term> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// A panic hook that restores the terminal first, then chains the previous hook.
/// The message is sanitised of nothing secret because no secret is ever in a panic message.
fn install_panic_hook() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        prev(info);
    }));
}

/// Builds the app (theme, keys) before touching the terminal, so a bad theme
/// or key override is a plain error message.
pub fn build_app(args: Flags, settings: Settings) -> Result<App, String> {
    let theme_dir = Config::user_theme_dir(settings.config_path.as_deref());
    let theme = theme::Theme::load(&settings.theme, theme_dir.as_deref(), theme::no_color_requested())?;
    let keymap = keymap::Keymap::new(&settings.config.keys).map_err(|e| {
        format!("{}: {e}", settings.config_path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into()))
    })?;
    Ok(App::new(args, settings, theme, keymap))
}

pub async fn run_with_args(args: Flags, settings: Settings) -> anyhow::Result<i32> {
    let mut app = match build_app(args, settings) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rdsdeck: error: {e}");
            return Ok(2);
        }
    };
    install_panic_hook();
    let mut term = enter_terminal()?;
    let result = event_loop(&mut term, &mut app).await;
    restore_terminal();
    result.map(|_| 0)
}

/// The runner's handles on the open SQL session.
#[derive(Default)]
struct SqlHandles {
    cmds: Option<mpsc::UnboundedSender<Vec<String>>>,
    /// Connections for KILL QUERY (a cancel reuses the last one).
    pool: Option<crate::db::pool::Pool>,
}

/// The running forwards, by the view's id (the runner owns them; the view sees status messages).
type ForwardHandles = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, Box<dyn crate::ssm::transport::PortForward>>>>;

/// How often a forward's status is reported, and how often it is probed through.
const FORWARD_STATUS_EVERY: Duration = Duration::from_secs(1);
const FORWARD_PROBE_EVERY: u32 = 10;

fn spawn_effect(e: Effect, tx: &mpsc::UnboundedSender<Msg>, sql: &mut SqlHandles, fwd: &ForwardHandles) {
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
            let spawned = std::thread::Builder::new().name("rdsdeck-sql".into()).spawn(move || {
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(crate::db::session::serve(c, via, cmd_rx, ev_tx)),
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
            sql.pool = Some(crate::db::pool::Pool::new(connector, 2, 1, std::time::Duration::from_secs(120)));
        }
        Effect::SqlRun(stmts) => {
            if let Some(c) = &sql.cmds {
                let _ = c.send(stmts);
            }
        }
        Effect::SqlCancel { connection_id } => {
            if let Some(p) = sql.pool.clone() {
                tokio::spawn(async move {
                    if let Err(e) = p.kill_query(connection_id).await {
                        tracing::warn!("cancel: {e}");
                    }
                });
            }
        }
        Effect::SqlExport { path, columns, rows } => {
            tokio::task::spawn_blocking(move || {
                let r = sql::export_csv(&path, &columns, &rows).map(|_| path).map_err(|e| e.to_string());
                let _ = tx.send(Msg::Exported(r));
            });
        }
        Effect::SqlHistory { path, text } => {
            tokio::task::spawn_blocking(move || {
                if let Err(e) = sql::append_history(&path, &text) {
                    tracing::warn!("SQL history {}: {e}", path.display());
                }
            });
        }
        Effect::SqlClose => {
            // Dropping the command channel ends the session task, which disconnects.
            *sql = SqlHandles::default();
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
        Effect::Copy(_) | Effect::Suspend | Effect::Shell { .. } => {}
    }
}

async fn event_loop(term: &mut Term, app: &mut App) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Dropped while a shell owns the terminal, so nothing else reads the keyboard.
    let mut events = Some(EventStream::new());
    let size = term.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut sql_handles = SqlHandles::default();
    let forwards: ForwardHandles = Default::default();
    for e in app.start() {
        spawn_effect(e, &tx, &mut sql_handles, &forwards);
    }
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    loop {
        if app.dirty {
            term.draw(|f| views::render(app, f))?;
            app.dirty = false;
            // The latency the SQL view promises (bench/tui_first_rows.sh reads this line).
            if let Some(q) = app.sql.as_mut()
                && !q.rows.is_empty()
                && let Some(at) = q.first_row_arrived.take()
            {
                tracing::info!("sql: first rows on screen {:.2} ms after the first row arrived", at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if app.quit {
            // Every forward ends with the TUI: its session is terminated, its port closed.
            let all: Vec<Box<dyn crate::ssm::transport::PortForward>> = forwards.lock().expect("forwards").drain().map(|(_, f)| f).collect();
            let _ = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(all.into_iter().map(|f| f.stop()))).await;
            return Ok(());
        }
        let deadline = app.next_deadline();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending::<()>().await,
            }
        };
        let action = tokio::select! {
            ev = events.as_mut().expect("the event stream").next() => match ev {
                Some(Ok(Event::Key(k))) => Action::Key(k),
                Some(Ok(Event::Mouse(m))) => Action::Mouse(m),
                Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => Action::Quit,
            },
            Some(m) = rx.recv() => Action::Worker(m),
            _ = sleep => Action::Tick(Instant::now()),
            _ = sigterm.recv() => Action::Quit,
            _ = sighup.recv() => Action::Quit,
            _ = sigint.recv() => Action::Quit,
        };
        // Elapsed times shown on panes are measured against the latest instant.
        app.now = Instant::now();
        for e in app.update(action) {
            if matches!(e, Effect::Suspend) {
                suspend(term)?;
                app.dirty = true;
            } else if let Effect::Copy(text) = e {
                osc52_copy(&text)?;
            } else if let Effect::Shell { ctx, target } = e {
                drop(events.take());
                restore_terminal();
                println!("Starting a shell on {target} (Session Manager); exit or Ctrl-D returns to rdsdeck");
                let mut notices = Vec::new();
                // The terminal is the shell's now: a hand-over is said there, and logged after.
                let mut notify = |n: crate::ssm::transport::Notice| {
                    eprintln!("rdsdeck: {n}");
                    notices.push(n.to_string());
                };
                let result = crate::ssm::transport::run_shell(&ctx, &target, crate::ssm::transport::Transport::Auto, &mut notify).await;
                retake(term)?;
                for n in notices {
                    app.update(Action::Worker(Msg::Notice(n)));
                }
                events = Some(EventStream::new());
                app.now = Instant::now();
                app.update(Action::Worker(Msg::ShellEnded { target, result }));
                app.dirty = true;
            } else {
                spawn_effect(e, &tx, &mut sql_handles, &forwards);
            }
        }
    }
}

/// Copies to the terminal's clipboard with OSC 52 (works over SSH and in tmux
/// with `set-clipboard on`); the text never touches argv or a file.
fn osc52_copy(text: &SecretString) -> std::io::Result<()> {
    use base64::Engine;
    use std::io::Write;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.expose_secret().as_bytes());
    let mut out = std::io::stdout().lock();
    write!(out, "\x1b]52;c;{b64}\x07")?;
    out.flush()
}

/// Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT.
fn suspend(term: &mut Term) -> anyhow::Result<()> {
    restore_terminal();
    // SAFETY: raising a signal on our own process; the default SIGTSTP action stops it.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    retake(term)?;
    std::thread::sleep(Duration::from_millis(1));
    Ok(())
}

/// Takes the terminal back after a suspend or a shell: raw mode, the alternate
/// screen, the mouse, and a fresh terminal so the next frame redraws everything
/// (without asking the terminal where its cursor is).
fn retake(term: &mut Term) -> anyhow::Result<()> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture, crossterm::terminal::Clear(crossterm::terminal::ClearType::All))?;
    *term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    Ok(())
}
