//! The SQL shell: opened on the target [`crate::target`] decides (as `rdsdeck
//! sql` decides it), directly or through a Session Manager forward it asks the
//! forwards feature for, and waits for.

pub mod session;
pub mod view;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::PathBuf;
use std::time::Duration;

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::ssm::forward::ForwardSpec;
use crate::stack::Health;
use crate::target::{DbFlags, DbTarget, Route};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::keymap::Def;

/// Its keys (rebindable under `[keys.sql]`).
pub const KEYS: &[Def] = &[
    (Scope::Sql, Cmd::Run, "run", "run the editor's statements", &["f5", "ctrl-r"]),
    (Scope::Sql, Cmd::Back, "back", "cancel the running query (KILL QUERY), else close the shell", &["esc"]),
    (Scope::Sql, Cmd::SwitchFocus, "switch_focus", "editor / results", &["tab"]),
    (Scope::Sql, Cmd::HistoryPrev, "history_prev", "older statement from the history", &["ctrl-p"]),
    (Scope::Sql, Cmd::HistoryNext, "history_next", "newer statement from the history", &["ctrl-n"]),
    (Scope::Sql, Cmd::Export, "export", "export the result to CSV", &["ctrl-e"]),
    (Scope::Sql, Cmd::Confirm, "confirm", "run a destructive statement when asked", &["y"]),
    (Scope::SqlGrid, Cmd::Up, "up", "previous row", &["up", "k"]),
    (Scope::SqlGrid, Cmd::Down, "down", "next row", &["down", "j"]),
    (Scope::SqlGrid, Cmd::PageUp, "page_up", "page up", &["pageup"]),
    (Scope::SqlGrid, Cmd::PageDown, "page_down", "page down", &["pagedown"]),
    (Scope::SqlGrid, Cmd::Top, "top", "first row", &["home", "g"]),
    (Scope::SqlGrid, Cmd::Bottom, "bottom", "last row", &["end", "G"]),
    (Scope::SqlGrid, Cmd::Left, "left", "previous column", &["left", "h"]),
    (Scope::SqlGrid, Cmd::Right, "right", "next column", &["right", "l"]),
    (Scope::SqlGrid, Cmd::PrevTab, "previous_result", "the previous statement's result (a script's)", &["["]),
    (Scope::SqlGrid, Cmd::NextTab, "next_result", "the next statement's result", &["]"]),
];

pub use session::{MAX_ROWS, SqlAction, SqlView};

/// The feature's state, as the registry names it.
pub type Feature = Sql;

pub struct Sql {
    pub view: Option<SqlView>,
    /// Counts shells opened (stale events of a replaced one are dropped).
    pub session: u64,
    /// The shell waits for a forward to this target, then connects through it.
    pub pending: Option<DbTarget>,
    /// Statements run so far (the history file's, read at start, and this run's).
    pub history: Vec<String>,
    pub history_file: Option<PathBuf>,
    /// Where `export` writes.
    pub export_dir: PathBuf,
    /// Where closing the shell goes back to (the forwards view when it was opened there).
    pub return_to: Mode,
}

impl Default for Sql {
    /// No history file, exports in the current folder (the app passes the real ones).
    fn default() -> Self {
        Sql::new(None, Vec::new(), PathBuf::from("."))
    }
}

impl Sql {
    /// `history` is the history file's content, read before the TUI started.
    pub fn new(history_file: Option<PathBuf>, history: Vec<String>, export_dir: PathBuf) -> Sql {
        Sql { view: None, session: 0, pending: None, history, history_file, export_dir, return_to: Mode::Normal }
    }

    /// `e` / `:sql`: the open shell, else one on the stack's endpoint by the config's `sql_via`.
    pub fn open(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.return_to = back_to(cx.mode);
        if self.view.is_some() {
            cx.send(Internal::Focus(Mode::Sql));
            return Vec::new();
        }
        self.open_route(Route::decide(None, None, cx.settings.sql_via.as_deref()), DbFlags::default(), cx)
    }

    /// `:sql via direct|auto|NAME`.
    pub fn open_via(&mut self, via: &str, cx: &mut Cx) -> Vec<Effect> {
        self.return_to = back_to(cx.mode);
        self.open_route(Route::decide(Some(via), None, None), DbFlags::default(), cx)
    }

    fn open_route(&mut self, route: Route, flags: DbFlags, cx: &mut Cx) -> Vec<Effect> {
        if cx.ctx.is_none() {
            cx.status(Health::Bad, "no AWS credentials yet: the SQL shell signs tokens with them");
            return Vec::new();
        }
        if let Err(e) = &cx.facts.params
            && e == super::browser::STILL_LOADING
        {
            cx.status(Health::Unknown, "the stack's parameters (the app's endpoint and user) are still loading: a moment");
            return Vec::new();
        }
        match crate::target::db_target(cx.facts, &flags, route, &cx.settings.config.forwards) {
            Ok(t) => self.open_target(t, cx),
            Err(e) => {
                cx.status(Health::Bad, format!("SQL shell: {e}"));
                Vec::new()
            }
        }
    }

    /// The shell on `t`: now when it goes direct, else once a forward to it is ready.
    pub fn open_target(&mut self, t: DbTarget, cx: &mut Cx) -> Vec<Effect> {
        if cx.mode == Mode::Forwards {
            self.return_to = Mode::Forwards;
        }
        if !matches!(t.route, Route::Forward(_)) {
            return self.open_session(t, None, cx);
        }
        self.pending = Some(t.clone());
        cx.send(Internal::ForwardFor(t));
        Vec::new()
    }

    /// A forward is ready: the shell waiting for one that reaches its target connects through it.
    pub fn forward_ready(&mut self, spec: &ForwardSpec, local_port: u16, cx: &mut Cx) -> Vec<Effect> {
        match self.pending.take() {
            Some(t) if crate::target::reuses(&t, spec) => self.open_session(t, Some((spec.name.clone(), local_port)), cx),
            other => {
                self.pending = other;
                Vec::new()
            }
        }
    }

    pub fn forward_failed(&mut self, spec: &ForwardSpec, error: &str, cx: &mut Cx) {
        if self.pending.as_ref().is_some_and(|t| spec.host.as_deref() == Some(t.host.as_str()) && spec.remote_port == t.port) {
            self.pending = None;
            cx.status(Health::Bad, format!("SQL via forward {}: {error}", spec.name));
        }
    }

    /// Opens the shell on `target`, directly or through `via` (a forward's name and local port; the
    /// token and the certificate name stay the target's). An open shell is replaced.
    fn open_session(&mut self, target: DbTarget, via: Option<(String, u16)>, cx: &mut Cx) -> Vec<Effect> {
        self.pending = None;
        let Some(ctx) = cx.ctx else {
            cx.status(Health::Bad, "no AWS credentials yet: the SQL shell signs tokens with them");
            return Vec::new();
        };
        let via_text = match &via {
            Some((name, port)) => format!("forward {name} (127.0.0.1:{port})"),
            None => "direct".to_string(),
        };
        let spec = crate::target::connect_spec(&target, via.as_ref().map(|v| v.1), &ctx.region, cx.settings, Duration::from_secs(10), cx.settings.read_only);
        let mut effects = Vec::new();
        if self.view.take().is_some() {
            effects.push(Effect::SqlClose);
        }
        let shown = format!("{}@{}:{}{}", target.user, target.host, target.port, if via.is_some() { format!(" via {via_text}") } else { String::new() });
        let k = |c: Cmd| pretty(&cx.keymap.label(Scope::Sql, c));
        let placeholder = format!(
            "SQL — {} runs · {}/{} history · {} to the results · {} closes",
            cx.keymap.keys(Scope::Sql, Cmd::Run).iter().map(|k| k.label()).collect::<Vec<_>>().join(" or "),
            k(Cmd::HistoryPrev),
            k(Cmd::HistoryNext),
            k(Cmd::SwitchFocus),
            k(Cmd::Back)
        );
        let mut view = SqlView::new(shown.clone(), self.history.clone(), self.history_file.clone(), &placeholder);
        view.confirm_key = cx.keymap.label(Scope::Sql, Cmd::Confirm);
        self.view = Some(view);
        cx.send(Internal::Focus(Mode::Sql));
        cx.log(Health::Unknown, format!("SQL shell on {shown}"));
        self.session += 1;
        effects.push(Effect::SqlOpen { generation: cx.generation, session: self.session, spec, ctx: ctx.clone(), via: via_text });
        effects
    }

    /// The scope keys are read in: the grid's when the grid has focus.
    fn key_scope(&self) -> Scope {
        if self.view.as_ref().is_some_and(|q| q.focus_grid) { Scope::SqlGrid } else { Scope::Sql }
    }

    fn on_key_in(&mut self, k: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        let guard = crate::db::guard::Guard { read_only: cx.settings.read_only, confirmed: false };
        let page = cx.size.height.saturating_sub(14).max(1) as usize;
        let Some(q) = self.view.as_mut() else {
            cx.send(Internal::Focus(Mode::Normal));
            return Vec::new();
        };
        let action = q.on_key(k, cmd, guard, page, (cx.now, cx.wall), &self.export_dir);
        let mut effects: Vec<Effect> = Vec::new();
        if let Some(text) = q.to_persist.take() {
            self.history.push(text.clone());
            if let Some(path) = self.history_file.clone() {
                effects.push(Effect::SqlHistory { path, text });
            }
        }
        effects.extend(match action {
            SqlAction::None => Vec::new(),
            SqlAction::Run(stmts) => vec![Effect::SqlRun(stmts)],
            SqlAction::Cancel => {
                vec![Effect::SqlCancel { generation: cx.generation, session: self.session, connection_id: q.session.as_ref().map(|s| s.connection_id) }]
            }
            SqlAction::Abandon => vec![Effect::SqlAbandon],
            SqlAction::ExportQuery(dir, stem, sql) => vec![Effect::SqlExportQuery { dir, stem, sql }],
            SqlAction::ExportStop => vec![Effect::SqlExportStop],
            SqlAction::Export(dir, stem) => match q.result() {
                Some(r) => vec![Effect::SqlExport { dir, stem, columns: r.columns.clone(), rows: r.rows.clone() }],
                None => Vec::new(),
            },
            SqlAction::Close => {
                cx.send(Internal::Focus(self.return_to));
                self.view = None;
                vec![Effect::SqlClose]
            }
        });
        effects
    }

    /// A session event; says whether the screen changed (a stale session's events and the
    /// first-row timestamp, which the rows right behind it show, do not redraw).
    pub fn on_event(&mut self, session: u64, event: crate::db::session::Event, cx: &Cx) -> bool {
        if session != self.session {
            return false;
        }
        let redraw = !matches!(event, crate::db::session::Event::FirstRow(_));
        if let Some(q) = self.view.as_mut() {
            q.on_event(event, cx.now);
        }
        redraw
    }

    pub fn on_exported(&mut self, r: Result<PathBuf, String>) {
        let Some(q) = self.view.as_mut() else { return };
        let rows = q.exporting.take().map(|(_, n)| n);
        q.message = Some(match (r, rows) {
            (Ok(p), Some(n)) => (Health::Ok, format!("exported all {n} rows to {}", p.display())),
            (Ok(p), None) => (Health::Ok, format!("exported to {}", p.display())),
            (Err(e), _) => (Health::Bad, format!("export failed: {e}")),
        });
    }

    /// Rows a whole-result export has written so far.
    pub fn on_export_progress(&mut self, rows: u64) {
        if let Some((_, n)) = self.view.as_mut().and_then(|q| q.exporting.as_mut()) {
            *n = rows;
        }
    }

    pub fn is_running(&self) -> bool {
        self.view.as_ref().is_some_and(|q| q.running.is_some() || q.exporting.is_some())
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        if let Some(q) = &self.view {
            view::render(q, vx, f, area);
        }
    }

    fn hints(&self, vx: &ViewCx) -> String {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Sql, c));
        let keys = |c: Cmd| vx.keymap.keys(Scope::Sql, c).iter().map(|k| pretty(&k.label())).collect::<Vec<_>>().join("/");
        format!(
            " {} run · {} cancel a query, else close · {} editor/results · {}/{} history · {} export CSV",
            keys(Cmd::Run),
            k(Cmd::Back),
            k(Cmd::SwitchFocus),
            k(Cmd::HistoryPrev),
            k(Cmd::HistoryNext),
            k(Cmd::Export)
        )
    }
}

impl View for Sql {
    /// The grid's keys when the grid has focus.
    fn scope(&self) -> Scope {
        self.key_scope()
    }
    fn on_key(&mut self, key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_key_in(key, cmd, cx)
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &ViewCx) -> Footer {
        Footer::Hints(self.hints(vx))
    }
}

/// Where closing the shell returns to: the view it was opened from, else the lists.
fn back_to(mode: Mode) -> Mode {
    match mode {
        Mode::Forwards => Mode::Forwards,
        _ => Mode::Normal,
    }
}
