//! The terminal UI: a thin shell over the core. One loop selects over
//! crossterm's event stream, worker messages, signals and a deadline timer;
//! `App::update` routes each input to a feature, `views::render` draws, the
//! effect runner does the I/O.
//!
//! - `app`: routing and shared state; `event`: what moves between them;
//! - `features/*`: one folder or file per feature (state, keys, update, view);
//! - `keymap`: every mode's named actions; `layout`, `theme`, `table`: drawing helpers;
//! - `effects`: the runner; `term`: the terminal.

pub mod app;
pub mod effects;
pub mod event;
pub mod features;
pub mod keymap;
pub mod layout;
pub mod shared;
pub mod table;
pub mod term;
pub mod theme;
pub mod views;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::settings::{Flags, Settings};
use app::{Action, App, Effect, Inputs, Msg};
use effects::{ForwardHandles, SqlHandles, spawn_effect};
use term::{Term, enter_terminal, install_panic_hook, osc52_copy, restore_terminal, retake, suspend};

/// The key map from the config's `[keys]` (errors name the file and line).
pub fn keymap_for(settings: &Settings) -> Result<keymap::Keymap, String> {
    let path = settings.config_path.as_deref();
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
    let mut overrides = keymap::Overrides::new();
    for ((mode, action), (keys, at)) in settings.config.key_overrides(path) {
        let scope = keymap::Scope::parse(&mode).ok_or_else(|| {
            format!("{file}: [keys.{mode}] is not a mode; modes: {}", keymap::Scope::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "))
        })?;
        overrides.insert((scope, action), keymap::Override { keys, at });
    }
    keymap::Keymap::new(&overrides, features::VIEW_KEYS)
}

/// What the app reads once before it starts: profile and theme names, the SQL history, the export folder.
pub fn read_inputs(settings: &Settings) -> Inputs {
    let history_file = Config::state_dir().map(|d| d.join("sql_history"));
    let history = history_file
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.lines().filter_map(|l| serde_json::from_str::<String>(l).ok()).collect())
        .unwrap_or_default();
    Inputs {
        profiles: crate::aws::profile_names(),
        themes: theme::Theme::names(Config::user_theme_dir(settings.config_path.as_deref()).as_deref()),
        history_file,
        history,
        // Exports are private: the state folder unless RDSDECK_EXPORT_DIR names another (never the shared temp dir).
        export_dir: std::env::var_os("RDSDECK_EXPORT_DIR")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| Config::state_dir().map(|d| d.join("exports")))
            .unwrap_or_else(|| std::path::PathBuf::from(".")),
    }
}

/// Builds the app (theme, keys) before touching the terminal, so a bad theme
/// or key override is a plain error message.
pub fn build_app(args: Flags, settings: Settings) -> Result<App, String> {
    let theme_dir = Config::user_theme_dir(settings.config_path.as_deref());
    let theme = theme::Theme::load(&settings.theme, theme_dir.as_deref(), theme::no_color_requested())?;
    let keymap = keymap_for(&settings)?;
    let inputs = read_inputs(&settings);
    Ok(App::new(args, settings, theme, keymap, inputs))
}

pub async fn run_with_args(args: Flags, settings: Settings) -> anyhow::Result<i32> {
    run_opening(args, settings, None).await
}

/// The TUI with a view open from the start (`rdsdeck tour`).
pub async fn run_opening(args: Flags, settings: Settings, open: Option<shared::Mode>) -> anyhow::Result<i32> {
    let mut app = match build_app(args, settings) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rdsdeck: error: {}", crate::untrusted::text(&e));
            return Ok(2);
        }
    };
    install_panic_hook();
    let mut term = enter_terminal()?;
    let forwards: ForwardHandles = Default::default();
    let result = event_loop(&mut term, &mut app, &forwards, open).await;
    restore_terminal();
    // ratatui's Terminal shows the cursor again when dropped and prints to stderr when it cannot
    // (a terminal that hung up): it was restored above, so it is not dropped.
    std::mem::forget(term);
    // Every forward ends with the TUI, however it ends (quit, a signal, a terminal gone): its
    // session terminated, its port closed.
    let all: Vec<Box<dyn crate::ssm::transport::PortForward>> = forwards.lock().expect("forwards").drain().map(|(_, f)| f).collect();
    // Jobs that opened sessions of their own (the doctor's forwards) end them when their channel
    // closes, which it did with the event loop: give them the same time.
    let stops = futures::future::join_all(all.into_iter().map(|f| f.stop()));
    let _ = tokio::time::timeout(Duration::from_secs(10), futures::future::join(stops, effects::wait_for_jobs())).await;
    result.map(|_| 0)
}

async fn event_loop(term: &mut Term, app: &mut App, forwards: &ForwardHandles, open: Option<shared::Mode>) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Dropped while a shell owns the terminal, so nothing else reads the keyboard.
    let mut events = Some(EventStream::new());
    let size = term.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut sql_handles = SqlHandles::default();
    for e in app.start() {
        spawn_effect(e, &tx, &mut sql_handles, forwards);
    }
    for e in open.map(|m| app.open_view(m)).unwrap_or_default() {
        spawn_effect(e, &tx, &mut sql_handles, forwards);
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
            if let Some(q) = app.f.sql.view.as_mut()
                && q.result().is_some_and(|r| !r.rows.is_empty())
                && let Some(at) = q.first_row_arrived.take()
            {
                tracing::info!("sql: first rows on screen {:.2} ms after the first row arrived", at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if app.quit {
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
        // The clock is an input: elapsed times and countdowns are measured against it.
        app.now = Instant::now();
        app.wall = std::time::SystemTime::now();
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
                    eprintln!("rdsdeck: {}", crate::untrusted::text(&n.to_string()));
                    notices.push(n.to_string());
                };
                let result = crate::ssm::transport::run_shell(&ctx, &target, crate::ssm::transport::Transport::Auto, &mut notify).await;
                retake(term)?;
                for n in notices {
                    app.update(Action::Worker(Msg::Notice(n)));
                }
                events = Some(EventStream::new());
                app.now = Instant::now();
                app.wall = std::time::SystemTime::now();
                app.update(Action::Worker(Msg::ShellEnded { target, result }));
                app.dirty = true;
            } else {
                spawn_effect(e, &tx, &mut sql_handles, forwards);
            }
        }
    }
}

