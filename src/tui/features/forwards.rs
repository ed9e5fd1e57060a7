//! The forwards view: every forward started from the TUI (or saved in the
//! config with `auto_start`), with the status its worker reports every second
//! and a probe through it, so a dead forward never shows as alive. It also
//! finds or starts the forward the SQL shell asks for.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row as TRow, Table, Wrap};
use std::time::{Duration, Instant};

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::ssm::forward::{ForwardSpec, State, Status};
use crate::stack::Health;
use crate::target::{DbFlags, DbTarget, ForwardFlags, Route};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::keymap::Def;

/// Its keys (rebindable under `[keys.forwards]`).
pub const KEYS: &[Def] = &[
    (Scope::Forwards, Cmd::New, "new", "new forward to the DB (through the selected or only host)", &["n"]),
    (Scope::Forwards, Cmd::Sql, "sql", "SQL shell through the selected forward", &["e"]),
    (Scope::Forwards, Cmd::Stop, "stop", "stop the selected forward", &["s", "d", "delete"]),
    (Scope::Forwards, Cmd::Up, "up", "previous forward", &["up", "k"]),
    (Scope::Forwards, Cmd::Down, "down", "next forward", &["down", "j"]),
    (Scope::Forwards, Cmd::Back, "back", "back to the lists", &["esc", "q"]),
];

fn bytes(n: u64) -> String {
    match n {
        n if n >= 10 << 20 => format!("{} MiB", n >> 20),
        n if n >= 10 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn age(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: u64,
    pub spec: ForwardSpec,
    /// `None` until the worker reports.
    pub status: Option<Status>,
    /// Starting failed, or the forward stopped with an error.
    pub error: Option<String>,
    /// The last probe through the forward: its time, or why it failed.
    pub probe: Option<Result<Duration, String>>,
    pub created: Instant,
    /// Asked to stop (waiting for the worker).
    pub stopping: bool,
}

impl Row {
    pub fn state_text(&self) -> String {
        if self.error.is_some() {
            // The error itself is under the table (it does not fit a column).
            return "failed".into();
        }
        if self.stopping {
            return "stopping".into();
        }
        match &self.status {
            None => "starting".into(),
            Some(s) => match s.state {
                State::Ready => match &self.probe {
                    Some(Err(_)) => "DEAD".into(),
                    _ => "ready".into(),
                },
                State::Starting => "starting".into(),
                State::Reconnecting => "reconnecting".into(),
                State::Failed => "failed".into(),
                State::Stopped => "stopped".into(),
            },
        }
    }

    /// Carrying connections: ready, with its local port bound.
    pub fn ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.state == State::Ready && s.local.is_some())
    }

    pub fn running(&self) -> bool {
        self.error.is_none() && !matches!(self.status.as_ref().map(|s| &s.state), Some(State::Stopped))
    }
}

/// The feature's state, as the registry names it.
pub type Feature = Forwards;

#[derive(Debug, Default)]
pub struct Forwards {
    pub rows: Vec<Row>,
    pub selected: usize,
    next_id: u64,
    /// Saved forwards with `auto_start` were started (once per stack).
    autostarted: bool,
}

impl Forwards {
    /// A new stack: its saved forwards may start again (running ones go on).
    pub fn reset(&mut self) {
        self.autostarted = false;
    }

    pub fn row_mut(&mut self, id: u64) -> Option<&mut Row> {
        self.rows.iter_mut().find(|r| r.id == id)
    }

    /// Names of the running forwards (palette completions).
    pub fn running_names(&self) -> Vec<String> {
        self.rows.iter().filter(|r| r.running()).map(|r| r.spec.name.clone()).collect()
    }

    fn start(&mut self, spec: ForwardSpec, cx: &mut Cx) -> Vec<Effect> {
        let Some(ctx) = cx.ctx else {
            cx.status(Health::Bad, "no AWS credentials yet: a forward needs them");
            return Vec::new();
        };
        cx.log(Health::Unknown, format!("forward {}: -> {}:{} through {}", spec.name, spec.host.as_deref().unwrap_or("?"), spec.remote_port, spec.target));
        self.next_id += 1;
        let id = self.next_id;
        self.rows.push(Row { id, spec: spec.clone(), status: None, error: None, probe: None, created: cx.now, stopping: false });
        self.selected = self.rows.len() - 1;
        vec![Effect::ForwardStart { id, ctx: Box::new(ctx.clone()), spec: Box::new(spec) }]
    }

    /// A forward named `name` (`auto`: the stack's database through its host), as `rdsdeck forward NAME` decides it.
    fn spec(&self, name: &str, cx: &Cx) -> Result<ForwardSpec, String> {
        crate::target::forward_spec(cx.facts, &cx.settings.config.forwards, Some(name), &ForwardFlags::default(), cx.selected_host).map_err(|e| hint(&e))
    }

    /// Saved forwards with `auto_start`, once the stack's hosts and parameters are known.
    pub fn autostart(&mut self, cx: &mut Cx) -> Vec<Effect> {
        if self.autostarted || cx.facts.hosts.is_err() || cx.facts.params.is_err() {
            return Vec::new();
        }
        self.autostarted = true;
        let saved: Vec<String> = cx.settings.config.forwards.iter().filter(|(_, f)| f.auto_start).map(|(n, _)| n.clone()).collect();
        let mut effects = Vec::new();
        for name in saved {
            match self.spec(&name, cx) {
                Ok(spec) => effects.extend(self.start(spec, cx)),
                Err(e) => cx.log(Health::Bad, format!("forward {name}: {e}")),
            }
        }
        effects
    }

    /// The SQL shell waits for a forward to `t`: a running one that reaches it, else a new one.
    pub fn forward_for(&mut self, t: &DbTarget, cx: &mut Cx) -> Vec<Effect> {
        if let Some(r) = self.rows.iter().rev().find(|r| r.running() && !r.stopping && crate::target::reuses(t, &r.spec)) {
            match r.status.as_ref().and_then(|s| s.local).filter(|_| r.ready()) {
                Some(local) => cx.send(Internal::ForwardReady { spec: r.spec.clone(), local_port: local.port() }),
                None => cx.status(Health::Unknown, format!("SQL shell: waiting for forward {} to be ready", r.spec.name)),
            }
            return Vec::new();
        }
        let via = t.route.describe();
        match crate::target::sql_forward_spec(cx.facts, &cx.settings.config.forwards, t, cx.selected_host) {
            Ok(Some(spec)) => {
                cx.status(Health::Unknown, format!("SQL shell: starting {via}, then connecting through it"));
                self.start(spec, cx)
            }
            Ok(None) => Vec::new(),
            Err(e) => {
                let e = hint(&e);
                cx.send(Internal::ForwardFailed { spec: ForwardSpec { name: via.clone(), target: String::new(), host: Some(t.host.clone()), remote_port: t.port, local_port: 0 }, error: e.clone() });
                cx.status(Health::Bad, format!("SQL via {via}: {e}"));
                Vec::new()
            }
        }
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        let n = self.rows.len();
        match c {
            Some(Cmd::Back) => cx.send(Internal::Focus(Mode::Normal)),
            Some(Cmd::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Cmd::Down) => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Some(Cmd::New) => match self.spec("auto", cx) {
                Ok(spec) => return self.start(spec, cx),
                Err(e) => cx.status(Health::Bad, format!("new forward: {e}")),
            },
            Some(Cmd::Sql | Cmd::Stop) if self.rows.get(self.selected).is_some_and(|r| !r.running() || r.stopping) => {
                let r = &self.rows[self.selected];
                let why = if r.stopping { "is stopping" } else if r.error.is_some() { "failed" } else { "is stopped" };
                cx.status(Health::Unknown, format!("forward {} {why}: {} starts a new one", r.spec.name, cx.keymap.label(Scope::Forwards, Cmd::New)));
            }
            Some(Cmd::Sql) => {
                if let Some(r) = self.rows.get(self.selected) {
                    // The SQL shell on what this forward reaches.
                    let flags = DbFlags { host: r.spec.host.clone(), port: Some(r.spec.remote_port), ..Default::default() };
                    match crate::target::db_target(cx.facts, &flags, Route::Forward(r.spec.name.clone()), &Default::default()) {
                        Ok(t) => cx.send(Internal::OpenSql(t)),
                        Err(e) => cx.status(Health::Bad, format!("SQL shell: {e}")),
                    }
                }
            }
            Some(Cmd::Stop) => {
                if let Some(r) = self.rows.get_mut(self.selected)
                    && r.running()
                    && !r.stopping
                {
                    r.stopping = true;
                    return vec![Effect::ForwardStop { id: r.id }];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub fn on_started(&mut self, id: u64, result: Result<(), String>, cx: &mut Cx) {
        let Some(r) = self.row_mut(id) else { return };
        let name = r.spec.name.clone();
        match result {
            Ok(()) => cx.log(Health::Ok, format!("forward {name} started")),
            Err(e) => {
                r.error = Some(e.clone());
                let spec = r.spec.clone();
                cx.log(Health::Bad, format!("forward {name}: {e}"));
                cx.send(Internal::ForwardFailed { spec, error: e });
            }
        }
    }

    /// A status report; says whether the view needs drawing.
    pub fn on_status(&mut self, id: u64, status: Status, probe: Option<Result<Duration, String>>, cx: &mut Cx) {
        let Some(r) = self.row_mut(id) else { return };
        r.status = Some(status);
        if probe.is_some() {
            r.probe = probe;
        }
        if let (true, Some(local)) = (r.ready(), r.status.as_ref().and_then(|s| s.local)) {
            let spec = r.spec.clone();
            cx.send(Internal::ForwardReady { spec, local_port: local.port() });
        }
    }

    pub fn on_stopped(&mut self, id: u64, last: Option<Status>, cx: &mut Cx) {
        let Some(r) = self.row_mut(id) else { return };
        r.stopping = false;
        // A probe of a forward that is gone says nothing any more.
        r.probe = None;
        let mut st = last.or(r.status.clone());
        if let Some(s) = st.as_mut() {
            s.state = State::Stopped;
            s.open_connections = 0;
        }
        r.status = st;
        let name = r.spec.name.clone();
        cx.log(Health::Unknown, format!("forward {name} stopped"));
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let v = self;
        f.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(th.border_focus)
            .title(Span::styled(format!(" Forwards · {} ", v.rows.len()), th.title));
        let inner = block.inner(area);
        f.render_widget(block, area);
        if v.rows.is_empty() {
            let mut lines = vec![
                Line::from(Span::styled("No forwards yet.", th.muted)),
                Line::from(""),
                Line::from(vec![
                    Span::styled(vx.keymap.label(Scope::Forwards, Cmd::New), th.key),
                    Span::raw(" forwards a local port to the stack's database endpoint through its host (Session Manager)."),
                ]),
            ];
            if !vx.settings.config.forwards.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("Saved in the config: {} (auto_start = true starts them with the TUI)", vx.settings.config.forwards.keys().cloned().collect::<Vec<_>>().join(", ")),
                    th.muted,
                )));
            }
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
            return;
        }
        let parts = Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).split(inner);
        let header = TRow::new(["NAME", "LOCAL", "REMOTE", "VIA", "STATE", "MODE", "IN", "OUT", "CONNS", "AGE", "PROBE"].map(Cell::from)).style(th.table_header);
        let rows: Vec<TRow> = v
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let st = r.status.as_ref();
                let state = r.state_text();
                let style = if state.starts_with("ready") {
                    th.ok
                } else if state.starts_with("failed") || state.starts_with("DEAD") {
                    th.bad
                } else {
                    th.warn
                };
                let probe = match &r.probe {
                    Some(Ok(d)) => format!("ok {} ms", d.as_millis()),
                    Some(Err(_)) => "failed".into(),
                    None => "-".into(),
                };
                TRow::new([
                    Cell::from(r.spec.name.clone()),
                    Cell::from(st.and_then(|s| s.local).map(|a| a.to_string()).unwrap_or_else(|| "-".into())),
                    Cell::from(format!("{}:{}", r.spec.host.as_deref().unwrap_or("(instance)"), r.spec.remote_port)),
                    Cell::from(r.spec.target.clone()),
                    Cell::from(Span::styled(state, style)),
                    Cell::from(st.and_then(|s| s.mode.clone()).unwrap_or_default()),
                    Cell::from(st.map(|s| bytes(s.bytes_in)).unwrap_or_default()),
                    Cell::from(st.map(|s| bytes(s.bytes_out)).unwrap_or_default()),
                    Cell::from(st.map(|s| format!("{}/{}", s.open_connections, s.total_connections)).unwrap_or_default()),
                    Cell::from(age(vx.now.saturating_duration_since(r.created).as_secs())),
                    Cell::from(probe),
                ])
                .style(if i == v.selected { th.selected } else { ratatui::style::Style::default() })
            })
            .collect();
        let widths = [
            Constraint::Length(8),
            Constraint::Length(16),
            Constraint::Min(16),
            Constraint::Length(20),
            Constraint::Length(12),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(9),
        ];
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), parts[0]);
        // The selected forward's last error, in full.
        if let Some(r) = v.rows.get(v.selected) {
            let err = r
                .error
                .clone()
                .or_else(|| match &r.probe {
                    Some(Err(e)) => Some(format!("probe: {e}")),
                    _ => None,
                })
                .or_else(|| r.status.as_ref().and_then(|s| s.last_error.clone()));
            let line = match err {
                Some(e) => Line::from(vec![Span::styled("last error: ", th.bad), Span::raw(e)]),
                None => Line::from(Span::styled(
                    format!(
                        "session {}{}",
                        r.status.as_ref().and_then(|s| s.session_id.clone()).unwrap_or_else(|| "-".into()),
                        r.status.as_ref().map(|s| format!(" · {} reconnects", s.reconnects)).unwrap_or_default()
                    ) + &if r.running() && !r.stopping {
                        format!(" · {}: SQL shell through it · {}: stop", vx.keymap.label(Scope::Forwards, Cmd::Sql), vx.keymap.label(Scope::Forwards, Cmd::Stop))
                    } else {
                        format!(" · stopped: {} starts a new one", vx.keymap.label(Scope::Forwards, Cmd::New))
                    },
                    th.muted,
                )),
            };
            f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), parts[1]);
        }
    }

    fn hints(&self, vx: &ViewCx) -> String {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Forwards, c));
        format!(
            " {} new forward to the DB (through the selected or only host) · {} stop · {}/{} select · {} back",
            k(Cmd::New),
            k(Cmd::Stop),
            vx.keymap.letter(Scope::Forwards, Cmd::Down),
            vx.keymap.letter(Scope::Forwards, Cmd::Up),
            k(Cmd::Back)
        )
    }
}

impl View for Forwards {
    fn scope(&self) -> Scope {
        Scope::Forwards
    }
    fn on_key(&mut self, _key: crossterm::event::KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx)
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &ViewCx) -> Footer {
        Footer::Hints(self.hints(vx))
    }
}

/// A decision's error, with how to settle it in the TUI.
pub fn hint(e: &crate::target::DecideError) -> String {
    match e {
        crate::target::DecideError::SeveralHosts(_) => format!("{e}: select one in Hosts first"),
        _ => e.to_string(),
    }
}
