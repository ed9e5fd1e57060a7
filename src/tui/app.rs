//! The TUI's state and `update`: keys, mouse, ticks and worker messages become
//! state changes and [`Effect`]s (work for the runner to start). Nothing here
//! draws or awaits; `views` render from this state alone.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use std::collections::{BTreeMap, VecDeque};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant, SystemTime};

use super::keymap::{Cmd, Keymap};
use super::table::TableView;
use super::theme::Theme;
use crate::auth::token::{TokenInfo, TokenRequest, inspect};
use crate::aws::{AwsContext, AwsSettings, REGIONS, profile_names};
use crate::settings::{Flags, Settings};
use crate::target::{DbFlags, DbTarget, ForwardFlags, Route, StackFacts};
use crate::stack::{Anchor, DiscoverError, Health, Identity, Kind, KindResult, Located};

/// Results from workers.
#[derive(Debug)]
pub enum Msg {
    Context { generation: u64, result: Result<AwsContext, String> },
    Identity { generation: u64, result: Result<Identity, String> },
    Located { generation: u64, result: Result<Located, DiscoverError> },
    Kind { generation: u64, kind: Kind, result: KindResult, elapsed: Duration },
    Token { generation: u64, target: String, result: Result<SecretString, String> },
    /// `session` tells a reopened shell's events from the one it replaced.
    Sql { generation: u64, session: u64, event: crate::db::session::Event },
    /// The bootstrap's inputs, read and validated (step 1).
    BootstrapPlan { generation: u64, result: Result<crate::bootstrap::Inputs, String> },
    Bootstrap { run_id: u64, event: crate::bootstrap::Event },
    Exported(Result<std::path::PathBuf, String>),
    ForwardStarted { id: u64, result: Result<(), String> },
    ForwardStatus { id: u64, status: Box<crate::ssm::forward::Status>, probe: Option<Result<Duration, String>> },
    ForwardStopped { id: u64, last: Option<Box<crate::ssm::forward::Status>> },
    /// A core notice (a session handed to the plugin): the log and the status line.
    Notice(String),
    /// A shell session ended (the agent's last words, or why it could not start).
    ShellEnded { target: String, result: Result<String, String> },
}

/// Everything that can change the state.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(Instant),
    Worker(Msg),
    /// A signal asked us to stop.
    Quit,
}

/// Work for the runner: every network call happens there, never in `update`.
#[derive(Debug)]
pub enum Effect {
    LoadContext { generation: u64, aws: AwsSettings },
    Identity { generation: u64, ctx: AwsContext },
    Locate { generation: u64, ctx: AwsContext, anchor: Anchor, prefix: String },
    Fetch { generation: u64, ctx: AwsContext, loc: Box<Located>, kind: Kind },
    /// Sign an IAM auth token with the context's credentials.
    Token { generation: u64, ctx: AwsContext, req: TokenRequest, target: String },
    /// Put text on the clipboard of the terminal (OSC 52).
    Copy(SecretString),
    /// Start an SQL session (a task owning one IAM connection).
    SqlOpen { generation: u64, session: u64, spec: crate::db::connect::ConnectSpec, ctx: AwsContext, via: String },
    SqlRun(Vec<String>),
    SqlCancel { connection_id: u32 },
    SqlExport { path: std::path::PathBuf, columns: Vec<String>, rows: Vec<Vec<crate::db::output::Cell>> },
    /// Append a statement to the SQL history file.
    SqlHistory { path: std::path::PathBuf, text: String },
    SqlClose,
    /// Read the bootstrap's inputs (rds.conf, or the stack's instance).
    BootstrapPlan { generation: u64, settings: Box<Settings>, ctx: Option<AwsContext>, located: Option<Box<Located>> },
    BootstrapRun { run_id: u64, inputs: Box<crate::bootstrap::Inputs>, ctx: AwsContext, opts: crate::bootstrap::Options },
    Suspend,
    /// Start a port forward (its worker reports status every second).
    ForwardStart { id: u64, ctx: Box<AwsContext>, spec: Box<crate::ssm::forward::ForwardSpec> },
    ForwardStop { id: u64 },
    /// Hand the terminal to a shell on an instance (Session Manager) until it exits.
    Shell { ctx: AwsContext, target: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Connecting { since: Instant },
    Locating { since: Instant },
    Ready,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Filter,
    Palette,
    Help { scroll: u16 },
    Detail { scroll: u16 },
    ChooseProxy { names: Vec<String>, selected: usize },
    Token,
    Sql,
    Bootstrap,
    Forwards,
}

/// An IAM auth token on screen: masked until revealed.
pub struct TokenView {
    pub target: String,
    pub token: Option<SecretString>,
    pub info: Option<TokenInfo>,
    pub expires: Option<SystemTime>,
    pub error: Option<String>,
    pub revealed: bool,
    pub copied: bool,
    pub request: TokenRequest,
}

#[derive(Debug, Default)]
pub struct Pane {
    pub table: TableView,
    pub loading_since: Option<Instant>,
    /// A refresh was asked for while one was running: run once more after it.
    pub queued: bool,
    pub error: Option<String>,
    pub loaded: bool,
    pub last_elapsed: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: String,
    pub level: Health,
    pub text: String,
}

pub struct App {
    pub args: Flags,
    pub settings: Settings,
    pub theme: Theme,
    pub keymap: Keymap,
    pub generation: u64,
    pub phase: Phase,
    pub ctx: Option<AwsContext>,
    pub identity: Option<Result<Identity, String>>,
    pub located: Option<Located>,
    pub panes: BTreeMap<Kind, Pane>,
    /// 0 = overview, 1.. = `Kind::ALL[tab - 1]`.
    pub tab: usize,
    pub mode: Mode,
    pub palette: String,
    pub palette_selected: usize,
    pub status: Option<(Health, String)>,
    pub log: VecDeque<LogLine>,
    pub show_log: bool,
    pub now: Instant,
    pub size: Rect,
    pub next_refresh: Option<Instant>,
    pub quit: bool,
    /// Set when the screen must be drawn again.
    pub dirty: bool,
    /// Lines of the open detail view.
    pub detail: Vec<String>,
    pub detail_title: String,
    pub token: Option<TokenView>,
    pub sql: Option<super::sql::SqlView>,
    pub bootstrap: Option<super::bootstrap::BootstrapView>,
    pub forwards: super::forwards::ForwardsView,
    /// Saved forwards with `auto_start` were started (once per stack).
    forwards_autostarted: bool,
    /// The SQL shell waits for this forward to be ready, then connects to the target through it.
    sql_via_pending: Option<(u64, DbTarget)>,
    /// Where SQL statements are remembered (an input: read from the environment once).
    pub history_file: Option<std::path::PathBuf>,
    /// Counts SQL shells opened (stale events of a replaced one are dropped).
    pub sql_session: u64,
    /// Completions read once at start (never from disk while drawing).
    pub profiles: Vec<String>,
    pub themes: Vec<String>,
    /// Wall-clock time of the latest update, for token countdowns.
    pub wall: SystemTime,
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const LOG_CAP: usize = 500;

impl App {
    pub fn new(args: Flags, settings: Settings, theme: Theme, keymap: Keymap) -> App {
        let now = Instant::now();
        let themes = Theme::names(crate::config::Config::user_theme_dir(settings.config_path.as_deref()).as_deref());
        App {
            args,
            settings,
            theme,
            keymap,
            generation: 0,
            phase: Phase::Connecting { since: now },
            ctx: None,
            identity: None,
            located: None,
            panes: Kind::ALL.iter().map(|k| (*k, Pane::default())).collect(),
            tab: 0,
            mode: Mode::Normal,
            palette: String::new(),
            palette_selected: 0,
            status: None,
            log: VecDeque::new(),
            show_log: false,
            now,
            size: Rect::new(0, 0, 80, 24),
            next_refresh: None,
            quit: false,
            dirty: true,
            detail: Vec::new(),
            detail_title: String::new(),
            token: None,
            sql: None,
            bootstrap: None,
            forwards: Default::default(),
            forwards_autostarted: false,
            sql_via_pending: None,
            history_file: crate::config::Config::state_dir().map(|d| d.join("sql_history")),
            sql_session: 0,
            profiles: profile_names(),
            themes,
            wall: SystemTime::now(),
        }
    }

    /// The first effect: load the AWS context.
    pub fn start(&mut self) -> Vec<Effect> {
        self.generation += 1;
        self.phase = Phase::Connecting { since: self.now };
        self.ctx = None;
        self.identity = None;
        self.located = None;
        if self.mode == Mode::Bootstrap {
            self.mode = Mode::Normal;
        }
        // A plan belongs to one stack.
        self.bootstrap = None;
        self.forwards_autostarted = false;
        for p in self.panes.values_mut() {
            *p = Pane::default();
        }
        for w in self.settings.warnings.clone() {
            self.log_line(Health::Warn, w);
        }
        let aws = &self.settings.aws;
        self.log_line(
            Health::Unknown,
            format!(
                "connecting: profile {}, region {}{}",
                aws.profile.as_deref().unwrap_or("(environment)"),
                aws.region.as_deref().unwrap_or("(profile's)"),
                aws.endpoint_url.as_deref().map(|u| format!(", endpoint {u}")).unwrap_or_default()
            ),
        );
        vec![Effect::LoadContext { generation: self.generation, aws: self.settings.aws.clone() }]
    }

    pub fn current_kind(&self) -> Option<Kind> {
        self.tab.checked_sub(1).and_then(|i| Kind::ALL.get(i).copied())
    }

    pub fn pane(&self, k: Kind) -> &Pane {
        &self.panes[&k]
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.phase, Phase::Connecting { .. } | Phase::Locating { .. })
            || self.panes.values().any(|p| p.loading_since.is_some())
            || self.sql.as_ref().is_some_and(|q| q.running.is_some())
            || self.bootstrap.as_ref().is_some_and(|b| b.running.is_some() || (b.report.is_none() && b.error.is_none()))
    }

    pub fn spinner(&self, since: Instant) -> String {
        let e = self.now.saturating_duration_since(since);
        format!("{} {:.1}s", SPINNER[(e.as_millis() / 100) as usize % SPINNER.len()], e.as_secs_f64())
    }

    /// When the runner must wake up even if nothing happens.
    pub fn next_deadline(&self) -> Option<Instant> {
        let spin = self
            .is_loading()
            .then(|| self.now + Duration::from_millis(100))
            .or_else(|| (self.mode == Mode::Token).then(|| self.now + Duration::from_secs(1)));
        match (spin, self.next_refresh) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn log_line(&mut self, level: Health, text: impl Into<String>) {
        let text = text.into();
        match level {
            Health::Bad => tracing::warn!("{text}"),
            _ => tracing::info!("{text}"),
        }
        self.log_pane(level, text);
    }

    /// A line in the log pane only (the core already wrote it to the log file).
    pub fn log_pane(&mut self, level: Health, text: String) {
        let at = chrono::Local::now().format("%H:%M:%S").to_string();
        self.log.push_back(LogLine { at, level, text });
        while self.log.len() > LOG_CAP {
            self.log.pop_front();
        }
    }

    /// Height of the table body in the current layout.
    fn table_height(&self) -> usize {
        super::layout::layout(self.size, self.settings.production, self.show_log).main.height.saturating_sub(3) as usize
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        match action {
            Action::Tick(now) => {
                self.now = now;
                self.wall = SystemTime::now();
                if self.next_refresh.is_some_and(|t| now >= t) {
                    self.next_refresh = self.settings.refresh.map(|d| now + d);
                    return self.refresh_all();
                }
                self.dirty = self.is_loading() || self.mode == Mode::Token;
                Vec::new()
            }
            Action::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                self.fix_scroll();
                Vec::new()
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Worker(m) => self.on_msg(m),
            Action::Key(k) => self.on_key(k),
            Action::Mouse(m) => self.on_mouse(m),
        }
    }

    fn fix_scroll(&mut self) {
        let h = self.table_height();
        if let Some(k) = self.current_kind()
            && let Some(p) = self.panes.get_mut(&k)
        {
            p.table.ensure_visible(h);
        }
    }

    fn on_msg(&mut self, m: Msg) -> Vec<Effect> {
        let current = self.generation;
        match m {
            Msg::Context { generation, .. }
            | Msg::Identity { generation, .. }
            | Msg::Located { generation, .. }
            | Msg::Kind { generation, .. }
            | Msg::Token { generation, .. }
            | Msg::Sql { generation, .. }
            | Msg::BootstrapPlan { generation, .. }
                if generation != current =>
            {
                self.dirty = false;
                Vec::new()
            }
            Msg::Context { result: Err(e), .. } => {
                self.log_line(Health::Bad, format!("AWS context: {e}"));
                self.phase = Phase::Failed(e);
                Vec::new()
            }
            Msg::Context { result: Ok(ctx), .. } => {
                self.log_line(Health::Ok, format!("credentials ok: profile {}, region {}", ctx.profile, ctx.region));
                self.phase = Phase::Locating { since: self.now };
                self.ctx = Some(ctx.clone());
                vec![
                    Effect::Identity { generation: current, ctx: ctx.clone() },
                    Effect::Locate {
                        generation: current,
                        ctx,
                        anchor: self.settings.anchor.clone(),
                        prefix: self.settings.parameter_prefix.clone(),
                    },
                ]
            }
            Msg::Identity { result, .. } => {
                match &result {
                    Ok(i) => self.log_line(Health::Ok, format!("identity {} (account {})", i.arn, i.account)),
                    Err(e) => self.log_line(Health::Bad, format!("identity: {e}")),
                }
                self.identity = Some(result);
                Vec::new()
            }
            Msg::Located { result: Err(DiscoverError::Ambiguous { names, .. }), .. } => {
                self.log_line(Health::Warn, format!("{} proxies: choose one", names.len()));
                self.phase = Phase::Failed("several RDS Proxies: choose one".into());
                self.mode = Mode::ChooseProxy { names, selected: 0 };
                Vec::new()
            }
            Msg::Located { result: Err(e), .. } => {
                let e = e.to_string();
                self.log_line(Health::Bad, format!("discovery: {e}"));
                self.phase = Phase::Failed(e);
                Vec::new()
            }
            Msg::Located { result: Ok(loc), .. } => {
                self.log_line(
                    Health::Ok,
                    format!(
                        "stack found: proxy {} · vpc {} · {} instance(s)",
                        loc.proxy.as_deref().unwrap_or("(none)"),
                        loc.vpc_id.as_deref().unwrap_or("?"),
                        loc.instances.len()
                    ),
                );
                self.phase = Phase::Ready;
                self.located = Some(loc);
                self.next_refresh = self.settings.refresh.map(|d| self.now + d);
                Kind::ALL.iter().filter_map(|k| self.request_fetch(*k)).collect()
            }
            Msg::Sql { session, event, .. } => {
                if session != self.sql_session {
                    return Vec::new();
                }
                if let Some(q) = self.sql.as_mut() {
                    q.on_event(event, self.now);
                }
                Vec::new()
            }
            Msg::BootstrapPlan { result, .. } => {
                let warnings = result.as_ref().map(|i| i.warnings.clone()).unwrap_or_default();
                for w in warnings {
                    self.log_line(Health::Warn, w);
                }
                if let Some(b) = self.bootstrap.as_mut() {
                    match result {
                        Ok(inputs) => {
                            b.report = Some(crate::bootstrap::Report::new(inputs, b.dry_run));
                            b.error = None;
                        }
                        Err(e) => b.error = Some(e),
                    }
                }
                Vec::new()
            }
            Msg::Bootstrap { run_id, event } => {
                let Some(b) = self.bootstrap.as_mut().filter(|b| b.run_id == run_id) else {
                    self.dirty = false;
                    return Vec::new();
                };
                b.apply(&event);
                let line = match &event {
                    crate::bootstrap::Event::Step { id, status, detail } if status.is_final() => {
                        Some((if *status == crate::bootstrap::Status::Failed { Health::Bad } else { Health::Ok }, format!("bootstrap step {} ({}): {}: {detail}", id.number(), id.name(), status.label())))
                    }
                    crate::bootstrap::Event::Executed { sql, .. } => Some((Health::Unknown, format!("bootstrap ran: {sql}"))),
                    _ => None,
                };
                if let Some((h, l)) = line {
                    self.log_pane(h, l);
                }
                Vec::new()
            }
            Msg::ForwardStarted { id, result } => {
                let name = self.forwards.row_mut(id).map(|r| r.spec.name.clone()).unwrap_or_default();
                match result {
                    Ok(()) => self.log_line(Health::Ok, format!("forward {name} started")),
                    Err(e) => {
                        self.log_line(Health::Bad, format!("forward {name}: {e}"));
                        if self.sql_via_pending.as_ref().is_some_and(|p| p.0 == id) {
                            self.sql_via_pending = None;
                            self.status = Some((Health::Bad, format!("SQL via forward {name}: {e}")));
                        }
                        if let Some(r) = self.forwards.row_mut(id) {
                            r.error = Some(e);
                        }
                    }
                }
                Vec::new()
            }
            Msg::ForwardStatus { id, status, probe } => {
                let mut ready = false;
                if let Some(r) = self.forwards.row_mut(id) {
                    r.status = Some(*status);
                    if probe.is_some() {
                        r.probe = probe;
                    }
                    ready = r.ready();
                }
                self.dirty = self.mode == Mode::Forwards;
                if ready && self.sql_via_pending.as_ref().is_some_and(|p| p.0 == id) {
                    self.dirty = true;
                    let (_, target) = self.sql_via_pending.take().expect("checked");
                    return self.open_sql_session(target, Some(id));
                }
                Vec::new()
            }
            Msg::ForwardStopped { id, last } => {
                if let Some(r) = self.forwards.row_mut(id) {
                    r.stopping = false;
                    let mut st = last.map(|b| *b).or(r.status.clone());
                    if let Some(s) = st.as_mut() {
                        s.state = crate::ssm::forward::State::Stopped;
                        s.open_connections = 0;
                    }
                    r.status = st;
                    let name = r.spec.name.clone();
                    self.log_line(Health::Unknown, format!("forward {name} stopped"));
                }
                Vec::new()
            }
            Msg::Notice(text) => {
                self.log_line(Health::Warn, text.clone());
                self.status = Some((Health::Warn, text));
                Vec::new()
            }
            Msg::ShellEnded { target, result } => {
                let (h, m) = match result {
                    Ok(why) => (Health::Ok, format!("shell on {target} ended: {why}")),
                    Err(e) => (Health::Bad, format!("shell on {target}: {e}")),
                };
                self.log_line(h, m.clone());
                self.status = Some((h, m));
                Vec::new()
            }
            Msg::Exported(r) => {
                let m = match r {
                    Ok(p) => (Health::Ok, format!("exported to {}", p.display())),
                    Err(e) => (Health::Bad, format!("export failed: {e}")),
                };
                if let Some(q) = self.sql.as_mut() {
                    q.message = Some(m);
                }
                Vec::new()
            }
            Msg::Token { target, result, .. } => {
                let Some(view) = self.token.as_mut().filter(|v| v.target == target) else { return Vec::new() };
                match result {
                    Ok(tok) => {
                        let info = inspect(tok.expose_secret(), self.wall).ok();
                        view.expires = info.as_ref().map(|i| self.wall + Duration::from_secs(i.remaining_seconds.max(0) as u64));
                        view.info = info;
                        view.token = Some(tok);
                        view.error = None;
                        view.copied = false;
                        let who = format!("token signed for {}@{}", view.request.username, target);
                        self.log_line(Health::Ok, who);
                    }
                    Err(e) => {
                        view.error = Some(e.clone());
                        self.log_line(Health::Bad, format!("token: {e}"));
                    }
                }
                Vec::new()
            }
            Msg::Kind { kind, result, elapsed, .. } => {
                let pane = self.panes.get_mut(&kind).expect("every kind has a pane");
                pane.loading_since = None;
                pane.last_elapsed = Some(elapsed);
                let text = match result {
                    KindResult::Ok { items } => {
                        let n = items.len();
                        pane.table.set_items(items);
                        pane.error = None;
                        pane.loaded = true;
                        Some((Health::Ok, format!("{}: {n} loaded in {} ms", kind.name(), elapsed.as_millis())))
                    }
                    KindResult::Error { error } => {
                        pane.error = Some(error.clone());
                        Some((Health::Bad, format!("{}: failed after {} ms: {error}", kind.name(), elapsed.as_millis())))
                    }
                };
                let again = std::mem::take(&mut pane.queued);
                if let Some((l, t)) = text {
                    self.log_line(l, t);
                }
                self.fix_scroll();
                let mut effects: Vec<Effect> = if again { self.request_fetch(kind).into_iter().collect() } else { Vec::new() };
                effects.extend(self.autostart_forwards());
                effects
            }
        }
    }

    /// Coalesced: at most one fetch running and one queued per pane.
    fn request_fetch(&mut self, kind: Kind) -> Option<Effect> {
        let (Some(ctx), Some(loc)) = (self.ctx.clone(), self.located.clone()) else { return None };
        let now = self.now;
        let pane = self.panes.get_mut(&kind)?;
        if pane.loading_since.is_some() {
            pane.queued = true;
            return None;
        }
        pane.loading_since = Some(now);
        Some(Effect::Fetch { generation: self.generation, ctx, loc: Box::new(loc), kind })
    }

    fn refresh_all(&mut self) -> Vec<Effect> {
        match &self.phase {
            Phase::Failed(_) if !matches!(self.mode, Mode::ChooseProxy { .. }) => self.start(),
            Phase::Ready => {
                let mut v: Vec<Effect> = Kind::ALL.iter().filter_map(|k| self.request_fetch(*k)).collect();
                if let Some(ctx) = self.ctx.clone() {
                    v.push(Effect::Identity { generation: self.generation, ctx });
                }
                v
            }
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == crossterm::event::KeyEventKind::Release {
            self.dirty = false;
            return Vec::new();
        }
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        match self.mode.clone() {
            Mode::Filter => self.on_filter_key(k),
            Mode::Palette => self.on_palette_key(k),
            Mode::ChooseProxy { names, selected } => self.on_choose_key(k, names, selected),
            Mode::Token => self.on_token_key(k),
            Mode::Sql => self.on_sql_key(k),
            Mode::Bootstrap => self.on_bootstrap_key(k),
            Mode::Forwards => self.on_forwards_key(k),
            Mode::Help { scroll } => {
                match self.keymap.lookup(&k) {
                    Some(Cmd::Down) => self.mode = Mode::Help { scroll: scroll.saturating_add(1) },
                    Some(Cmd::Up) => self.mode = Mode::Help { scroll: scroll.saturating_sub(1) },
                    Some(Cmd::PageDown) => self.mode = Mode::Help { scroll: scroll.saturating_add(10) },
                    Some(Cmd::PageUp) => self.mode = Mode::Help { scroll: scroll.saturating_sub(10) },
                    Some(Cmd::Quit) => self.quit = true,
                    _ => self.mode = Mode::Normal,
                }
                Vec::new()
            }
            Mode::Detail { scroll } => {
                let page = self.size.height.saturating_sub(6).max(1);
                let max = (self.detail.len() as u16).saturating_sub(page);
                let s = match self.keymap.lookup(&k) {
                    Some(Cmd::Down) => scroll.saturating_add(1),
                    Some(Cmd::Up) => scroll.saturating_sub(1),
                    Some(Cmd::PageDown) => scroll.saturating_add(page),
                    Some(Cmd::PageUp) => scroll.saturating_sub(page),
                    Some(Cmd::Top) => 0,
                    Some(Cmd::Bottom) => max,
                    Some(Cmd::Quit) => {
                        self.quit = true;
                        scroll
                    }
                    Some(Cmd::Back | Cmd::Open) => {
                        self.mode = Mode::Normal;
                        return Vec::new();
                    }
                    Some(Cmd::Help) => {
                        self.mode = Mode::Help { scroll: 0 };
                        return Vec::new();
                    }
                    _ => scroll,
                };
                self.mode = Mode::Detail { scroll: s.min(max) };
                Vec::new()
            }
            Mode::Normal => match self.keymap.lookup(&k) {
                Some(c) => self.command(c),
                None => {
                    self.dirty = false;
                    Vec::new()
                }
            },
        }
    }

    fn command(&mut self, c: Cmd) -> Vec<Effect> {
        let h = self.table_height();
        let kind = self.current_kind();
        let table = kind.and_then(|k| self.panes.get_mut(&k)).map(|p| &mut p.table);
        match c {
            Cmd::Quit => self.quit = true,
            Cmd::Help => self.mode = Mode::Help { scroll: 0 },
            Cmd::Palette => {
                self.palette.clear();
                self.palette_selected = 0;
                self.mode = Mode::Palette;
            }
            Cmd::Filter => {
                if kind.is_some() {
                    self.mode = Mode::Filter;
                } else {
                    self.status = Some((Health::Unknown, "filter works on a resource list: Tab to one first".into()));
                }
            }
            Cmd::Back => {
                if let Some(t) = table
                    && !t.filter.is_empty()
                {
                    t.set_filter("");
                } else {
                    self.status = None;
                }
            }
            Cmd::Open => self.open_detail(),
            Cmd::Up | Cmd::Down | Cmd::PageUp | Cmd::PageDown | Cmd::Top | Cmd::Bottom => {
                if let Some(t) = table {
                    let page = h.max(1) as isize;
                    match c {
                        Cmd::Up => t.move_by(-1),
                        Cmd::Down => t.move_by(1),
                        Cmd::PageUp => t.move_by(-page),
                        Cmd::PageDown => t.move_by(page),
                        Cmd::Top => t.move_by(isize::MIN / 2),
                        _ => t.move_by(isize::MAX / 2),
                    }
                    t.ensure_visible(h);
                }
            }
            Cmd::NextTab => self.set_tab((self.tab + 1) % (Kind::ALL.len() + 1)),
            Cmd::PrevTab => self.set_tab((self.tab + Kind::ALL.len()) % (Kind::ALL.len() + 1)),
            Cmd::Overview => self.set_tab(0),
            Cmd::Refresh => {
                self.status = Some((Health::Unknown, "refreshing".into()));
                return self.refresh_all();
            }
            Cmd::Sort | Cmd::SortReverse => {
                if let (Some(k), Some(t)) = (kind, table) {
                    if c == Cmd::Sort { t.cycle_sort(k.columns().len()) } else { t.reverse_sort() }
                    t.ensure_visible(h);
                }
            }
            Cmd::ToggleLog => {
                self.show_log = !self.show_log;
                self.fix_scroll();
            }
            Cmd::Suspend => return vec![Effect::Suspend],
            Cmd::Token => return self.open_token(),
            Cmd::Sql => return self.open_sql(),
            Cmd::Bootstrap => return self.open_bootstrap(),
            Cmd::Shell => return self.open_shell(),
            Cmd::Forwards => self.mode = Mode::Forwards,
        }
        Vec::new()
    }

    /// What the panes know about the stack, for the decisions in [`crate::target`] (the CLI
    /// reads the same facts from AWS).
    pub fn facts(&self) -> StackFacts {
        let items = |k: Kind| {
            let p = self.pane(k);
            if p.loaded { Ok(p.table.items.as_slice()) } else { Err(p.error.clone().unwrap_or_else(|| "still loading".into())) }
        };
        StackFacts::from_resources(self.located.as_ref().and_then(|l| l.proxy_endpoint.clone()), items(Kind::Parameter), items(Kind::Host))
    }

    /// The host selected in the Hosts list, when that list is on screen.
    pub fn selected_host(&self) -> Option<String> {
        (self.current_kind() == Some(Kind::Host)).then(|| self.pane(Kind::Host).table.selected_item().map(|h| h.id.clone())).flatten()
    }

    /// The DB user tokens are made for: the app's `/dev/database/username`
    /// parameter when the stack has it, else the seed's `node_app`.
    pub fn token_user(&self) -> String {
        self.facts().app_user()
    }

    /// Opens the SQL shell on the stack's endpoint as the app's user: directly,
    /// or through a forward when the config says so (`sql_via`).
    pub fn open_sql(&mut self) -> Vec<Effect> {
        if self.sql.is_some() {
            self.mode = Mode::Sql;
            return Vec::new();
        }
        self.open_sql_route(Route::decide(None, None, self.settings.sql_via.as_deref()), DbFlags::default())
    }

    /// `:sql via direct|auto|NAME`: `auto` reuses a running forward to the
    /// stack's database or starts one; NAME is a running forward of that name or
    /// a saved `[forwards.NAME]`. The shell opens once the forward is ready.
    pub fn open_sql_via(&mut self, via: &str) -> Vec<Effect> {
        self.open_sql_route(Route::decide(Some(via), None, None), DbFlags::default())
    }

    /// The SQL shell on the target the route and flags decide (as `rdsdeck sql` decides it).
    fn open_sql_route(&mut self, route: Route, flags: DbFlags) -> Vec<Effect> {
        if self.ctx.is_none() {
            self.status = Some((Health::Bad, "no AWS credentials yet: the SQL shell signs tokens with them".into()));
            return Vec::new();
        }
        if !self.pane(Kind::Parameter).loaded && self.pane(Kind::Parameter).error.is_none() {
            self.status = Some((Health::Unknown, "the stack's parameters (the app's endpoint and user) are still loading: a moment".into()));
            return Vec::new();
        }
        let facts = self.facts();
        let target = match crate::target::db_target(&facts, &flags, route, &self.settings.config.forwards) {
            Ok(t) => t,
            Err(e) => {
                self.status = Some((Health::Bad, format!("SQL shell: {e}")));
                return Vec::new();
            }
        };
        if !matches!(target.route, Route::Forward(_)) {
            return self.open_sql_session(target, None);
        }
        let running = self.forwards.rows.iter().rev().find(|r| r.running() && !r.stopping && crate::target::reuses(&target, &r.spec)).map(|r| r.id);
        if let Some(id) = running {
            return self.open_sql_on_forward(id, target);
        }
        let via = target.route.describe();
        match crate::target::sql_forward_spec(&facts, &self.settings.config.forwards, &target, self.selected_host().as_deref()) {
            Ok(Some(spec)) => {
                let effects = self.start_forward(spec);
                self.sql_via_pending = effects.iter().find_map(|e| match e {
                    Effect::ForwardStart { id, .. } => Some((*id, target.clone())),
                    _ => None,
                });
                self.status = Some((Health::Unknown, format!("SQL shell: starting {via}, then connecting through it")));
                effects
            }
            Ok(None) => Vec::new(),
            Err(e) => {
                self.status = Some((Health::Bad, format!("SQL via {via}: {}", tui_hint(&e))));
                Vec::new()
            }
        }
    }

    /// The SQL shell through running forward `id` to what it reaches: now if it is ready, else once it is.
    fn open_sql_on_forward(&mut self, id: u64, target: DbTarget) -> Vec<Effect> {
        let Some(r) = self.forwards.rows.iter().find(|r| r.id == id) else { return Vec::new() };
        if r.ready() {
            return self.open_sql_session(target, Some(id));
        }
        self.status = Some((Health::Unknown, format!("SQL shell: waiting for forward {} to be ready", r.spec.name)));
        self.sql_via_pending = Some((id, target));
        Vec::new()
    }

    /// `e` on a forward: the SQL shell on what that forward reaches.
    fn open_sql_through_row(&mut self, id: u64) -> Vec<Effect> {
        let Some(r) = self.forwards.rows.iter().find(|r| r.id == id) else { return Vec::new() };
        let flags = DbFlags { host: r.spec.host.clone(), port: Some(r.spec.remote_port), ..Default::default() };
        let route = Route::Forward(r.spec.name.clone());
        match crate::target::db_target(&self.facts(), &flags, route, &Default::default()) {
            Ok(t) => self.open_sql_on_forward(id, t),
            Err(e) => {
                self.status = Some((Health::Bad, format!("SQL shell: {e}")));
                Vec::new()
            }
        }
    }

    /// Opens the SQL shell on `target`, directly or through forward `via` (its local port; the
    /// token and the certificate name stay the target's). An open shell is replaced.
    fn open_sql_session(&mut self, target: DbTarget, via: Option<u64>) -> Vec<Effect> {
        self.sql_via_pending = None;
        let Some(ctx) = self.ctx.clone() else {
            self.status = Some((Health::Bad, "no AWS credentials yet: the SQL shell signs tokens with them".into()));
            return Vec::new();
        };
        let mut local = None;
        let mut via_text = "direct".to_string();
        if let Some(id) = via {
            let Some(r) = self.forwards.rows.iter().find(|r| r.id == id) else { return Vec::new() };
            let Some(addr) = r.status.as_ref().and_then(|s| s.local) else {
                self.status = Some((Health::Bad, format!("forward {} has no local port yet", r.spec.name)));
                return Vec::new();
            };
            local = Some(addr.port());
            via_text = format!("forward {} (127.0.0.1:{})", r.spec.name, addr.port());
        }
        let spec = crate::target::connect_spec(&target, local, &ctx.region, self.settings.ca.clone(), Duration::from_secs(10));
        let mut effects = Vec::new();
        if self.sql.take().is_some() {
            effects.push(Effect::SqlClose);
        }
        let shown = format!("{}@{}:{}{}", target.user, target.host, target.port, if via.is_some() { format!(" via {via_text}") } else { String::new() });
        self.sql = Some(super::sql::SqlView::new(shown.clone(), self.history_file.clone()));
        self.mode = Mode::Sql;
        self.log_line(Health::Unknown, format!("SQL shell on {shown}"));
        self.sql_session += 1;
        effects.push(Effect::SqlOpen { generation: self.generation, session: self.sql_session, spec, ctx, via: via_text });
        effects
    }

    fn on_sql_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::sql::SqlAction;
        let guard = crate::db::exec::Guard { read_only: self.settings.read_only, confirmed: false };
        let page = self.size.height.saturating_sub(14).max(1) as usize;
        let export_dir = std::env::var_os("RDSDECK_EXPORT_DIR").map(std::path::PathBuf::from);
        let Some(q) = self.sql.as_mut() else {
            self.mode = Mode::Normal;
            return Vec::new();
        };
        let action = q.on_key(k, guard, page, export_dir);
        let mut effects: Vec<Effect> = match (q.to_persist.take(), q.history_file.clone()) {
            (Some(text), Some(path)) => vec![Effect::SqlHistory { path, text }],
            _ => Vec::new(),
        };
        effects.extend(match action {
            SqlAction::None => Vec::new(),
            SqlAction::Run(stmts) => vec![Effect::SqlRun(stmts)],
            SqlAction::Cancel => match q.session.as_ref().map(|s| s.connection_id) {
                Some(connection_id) => vec![Effect::SqlCancel { connection_id }],
                None => Vec::new(),
            },
            SqlAction::Export(path) => vec![Effect::SqlExport { path, columns: q.columns.clone(), rows: q.rows.clone() }],
            SqlAction::Close => {
                self.mode = Mode::Normal;
                self.sql = None;
                vec![Effect::SqlClose]
            }
        });
        effects
    }

    /// A forward named `name` (`auto`: the stack's database through its host), as `rdsdeck forward NAME` decides it.
    fn forward_spec(&self, name: &str) -> Result<crate::ssm::forward::ForwardSpec, String> {
        crate::target::forward_spec(&self.facts(), &self.settings.config.forwards, Some(name), &ForwardFlags::default(), self.selected_host().as_deref())
            .map_err(|e| tui_hint(&e))
    }

    fn start_forward(&mut self, spec: crate::ssm::forward::ForwardSpec) -> Vec<Effect> {
        let Some(ctx) = self.ctx.clone() else {
            self.status = Some((Health::Bad, "no AWS credentials yet: a forward needs them".into()));
            return Vec::new();
        };
        self.log_line(
            Health::Unknown,
            format!("forward {}: -> {}:{} through {}", spec.name, spec.host.as_deref().unwrap_or("?"), spec.remote_port, spec.target),
        );
        let id = self.forwards.add(spec.clone(), self.now);
        vec![Effect::ForwardStart { id, ctx: Box::new(ctx), spec: Box::new(spec) }]
    }

    /// Saved forwards with `auto_start`, once the stack's hosts and parameters are known.
    fn autostart_forwards(&mut self) -> Vec<Effect> {
        if self.forwards_autostarted || !self.pane(Kind::Host).loaded || !self.pane(Kind::Parameter).loaded {
            return Vec::new();
        }
        self.forwards_autostarted = true;
        let saved: Vec<String> = self.settings.config.forwards.iter().filter(|(_, f)| f.auto_start).map(|(n, _)| n.clone()).collect();
        let mut effects = Vec::new();
        for name in saved {
            match self.forward_spec(&name) {
                Ok(spec) => effects.extend(self.start_forward(spec)),
                Err(e) => self.log_line(Health::Bad, format!("forward {name}: {e}")),
            }
        }
        effects
    }

    fn on_forwards_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::forwards::ForwardsAction;
        match self.forwards.on_key(k) {
            ForwardsAction::None => Vec::new(),
            ForwardsAction::Close => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            ForwardsAction::Stop(id) => vec![Effect::ForwardStop { id }],
            ForwardsAction::Sql(id) => self.open_sql_through_row(id),
            ForwardsAction::New => match self.forward_spec("auto") {
                Ok(spec) => self.start_forward(spec),
                Err(e) => {
                    self.status = Some((Health::Bad, format!("new forward: {e}")));
                    Vec::new()
                }
            },
        }
    }

    /// A shell on the selected host (or the stack's only host).
    fn open_shell(&mut self) -> Vec<Effect> {
        let Some(ctx) = self.ctx.clone() else {
            self.status = Some((Health::Bad, "no AWS credentials yet: a session needs them".into()));
            return Vec::new();
        };
        let target = match crate::target::carrier_host(&self.facts(), None, self.selected_host().as_deref()) {
            Ok(t) => t,
            Err(e) => {
                self.status = Some((Health::Bad, format!("shell: {}", tui_hint(&e))));
                return Vec::new();
            }
        };
        self.log_line(Health::Unknown, format!("shell on {target}"));
        vec![Effect::Shell { ctx, target }]
    }

    /// Opens the bootstrap view; the plan is read once per stack (Esc keeps it and any run going).
    pub fn open_bootstrap(&mut self) -> Vec<Effect> {
        self.mode = Mode::Bootstrap;
        if let Some(b) = &self.bootstrap
            && b.error.is_none()
        {
            return Vec::new();
        }
        self.bootstrap = Some(super::bootstrap::BootstrapView::new(self.now));
        vec![Effect::BootstrapPlan {
            generation: self.generation,
            settings: Box::new(self.settings.clone()),
            ctx: self.ctx.clone(),
            located: self.located.clone().map(Box::new),
        }]
    }

    fn on_bootstrap_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::bootstrap::BootstrapAction;
        let needs_confirm = self.settings.production || self.settings.read_only;
        let Some(b) = self.bootstrap.as_mut() else {
            self.mode = Mode::Normal;
            return Vec::new();
        };
        match b.on_key(k, needs_confirm) {
            BootstrapAction::None => Vec::new(),
            BootstrapAction::Close => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            BootstrapAction::Run(opts) => {
                let Some(ctx) = self.ctx.clone() else {
                    self.status = Some((Health::Bad, "no AWS credentials: the bootstrap needs them for the secret and the tokens".into()));
                    return Vec::new();
                };
                let Some(inputs) = b.report.as_ref().map(|r| r.inputs.clone()) else { return Vec::new() };
                b.start_run(opts, self.now);
                let run_id = b.run_id;
                self.log_line(
                    Health::Unknown,
                    format!("bootstrap {} on {}:{}", if opts.dry_run { "dry run" } else { "run" }, inputs.host, inputs.port),
                );
                vec![Effect::BootstrapRun { run_id, inputs: Box::new(inputs), ctx, opts }]
            }
        }
    }

    /// Opens the token view for the selected proxy or instance (or the stack's proxy).
    fn open_token(&mut self) -> Vec<Effect> {
        let Some(ctx) = self.ctx.clone() else {
            self.status = Some((Health::Bad, "no AWS credentials yet: a token needs them".into()));
            return Vec::new();
        };
        let pick = |r: &crate::stack::Resource| -> Option<(String, u16)> {
            match r.kind {
                Kind::Proxy => r.get_str("endpoint").filter(|e| !e.is_empty()).map(|e| (e.to_string(), 3306)),
                Kind::Instance => {
                    let port = r.attributes.get("endpoint_port").and_then(|p| p.as_u64()).unwrap_or(3306) as u16;
                    r.get_str("endpoint_address").map(|a| (a.to_string(), port))
                }
                _ => None,
            }
        };
        let selected = self.current_kind().and_then(|k| self.panes[&k].table.selected_item()).and_then(pick);
        let stack_proxy = self.located.as_ref().and_then(|l| l.proxy_endpoint.clone()).map(|e| (e, 3306));
        let Some((host, port)) = selected.or(stack_proxy) else {
            self.status = Some((Health::Bad, "select a proxy or DB instance to sign a token for".into()));
            return Vec::new();
        };
        let request = TokenRequest { hostname: host.clone(), port, region: ctx.region.clone(), username: self.token_user() };
        let target = format!("{host}:{port}");
        self.token = Some(TokenView {
            target: target.clone(),
            token: None,
            info: None,
            expires: None,
            error: None,
            revealed: false,
            copied: false,
            request: request.clone(),
        });
        self.mode = Mode::Token;
        vec![Effect::Token { generation: self.generation, ctx, req: request, target }]
    }

    fn on_token_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        match (k.code, self.keymap.lookup(&k)) {
            (KeyCode::Char('v'), _) => {
                if let Some(v) = self.token.as_mut() {
                    v.revealed = !v.revealed;
                }
            }
            (KeyCode::Char('y'), _) => {
                if let Some(tok) = self.token.as_mut().and_then(|v| {
                    v.copied = v.token.is_some();
                    v.token.clone()
                }) {
                    self.status = Some((Health::Ok, "token copied to the clipboard (OSC 52)".into()));
                    return vec![Effect::Copy(tok)];
                }
            }
            (_, Some(Cmd::Refresh | Cmd::Token)) => {
                if let (Some(ctx), Some(v)) = (self.ctx.clone(), self.token.as_mut()) {
                    v.token = None;
                    v.info = None;
                    v.revealed = false;
                    return vec![Effect::Token { generation: self.generation, ctx, req: v.request.clone(), target: v.target.clone() }];
                }
            }
            (_, Some(Cmd::Quit)) => self.quit = true,
            (_, Some(Cmd::Back)) | (KeyCode::Esc, _) => {
                self.mode = Mode::Normal;
                // The token leaves memory with the view.
                self.token = None;
            }
            _ => {}
        }
        Vec::new()
    }

    /// A tab's title: the kind and its count, `…` while loading, `!` after an error.
    pub fn tab_title(&self, tab: usize) -> String {
        match tab.checked_sub(1).and_then(|i| Kind::ALL.get(i)) {
            None => " Overview ".to_string(),
            Some(k) => {
                let p = self.pane(*k);
                let badge = if p.loading_since.is_some() && !p.loaded {
                    "…".to_string()
                } else if p.error.is_some() {
                    "!".to_string()
                } else {
                    p.table.items.len().to_string()
                };
                format!(" {} {badge} ", k.title())
            }
        }
    }

    /// The tabs' widths on screen, for the layout.
    pub fn tab_widths(&self) -> Vec<u16> {
        (0..=Kind::ALL.len()).map(|t| unicode_width::UnicodeWidthStr::width(self.tab_title(t).as_str()) as u16).collect()
    }

    pub fn set_tab(&mut self, tab: usize) {
        self.tab = tab.min(Kind::ALL.len());
        self.fix_scroll();
    }

    fn open_detail(&mut self) {
        let Some(k) = self.current_kind() else {
            self.status = Some((Health::Unknown, "select a resource list (Tab) to see details".into()));
            return;
        };
        let Some(r) = self.panes[&k].table.selected_item() else { return };
        let mut lines = vec![format!("{} {}", r.health.symbol(), r.name), format!("id: {}", r.id), String::new()];
        for (key, v) in &r.attributes {
            match v {
                serde_json::Value::String(s) => lines.push(format!("{key}: {s}")),
                serde_json::Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
                    lines.push(format!("{key}: [{}]", a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string())).collect::<Vec<_>>().join(", ")))
                }
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                    lines.push(format!("{key}:"));
                    let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
                    lines.extend(pretty.lines().map(|l| format!("  {l}")));
                }
                other => lines.push(format!("{key}: {other}")),
            }
        }
        lines.push(String::new());
        lines.push("── describe output (AWS SDK) ──".into());
        // Fields the API left unset only add noise.
        lines.extend(r.raw.lines().filter(|l| !l.trim_end().ends_with(": None,")).map(str::to_string));
        self.detail_title = format!("{} › {}", k.name(), r.name);
        self.detail = lines;
        self.mode = Mode::Detail { scroll: 0 };
    }

    fn on_filter_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let h = self.table_height();
        let Some(kind) = self.current_kind() else {
            self.mode = Mode::Normal;
            return Vec::new();
        };
        let t = &mut self.panes.get_mut(&kind).expect("pane").table;
        match k.code {
            KeyCode::Esc => {
                t.set_filter("");
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                let mut f = t.filter.clone();
                f.pop();
                t.set_filter(&f);
            }
            KeyCode::Up => t.move_by(-1),
            KeyCode::Down => t.move_by(1),
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                let f = format!("{}{c}", t.filter);
                t.set_filter(&f);
            }
            _ => {}
        }
        t.ensure_visible(h);
        Vec::new()
    }

    fn on_choose_key(&mut self, k: KeyEvent, names: Vec<String>, selected: usize) -> Vec<Effect> {
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => self.mode = Mode::ChooseProxy { selected: selected.saturating_sub(1), names },
            KeyCode::Down | KeyCode::Char('j') => {
                let s = (selected + 1).min(names.len().saturating_sub(1));
                self.mode = Mode::ChooseProxy { selected: s, names }
            }
            KeyCode::Enter => {
                if let Some(n) = names.get(selected) {
                    self.mode = Mode::Normal;
                    return self.run_command(&format!("proxy {n}"));
                }
            }
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char(':') => {
                self.palette.clear();
                self.mode = Mode::Palette;
            }
            _ => {}
        }
        Vec::new()
    }

    /// Palette completions for the current input.
    pub fn palette_candidates(&self) -> Vec<String> {
        let input = self.palette.trim_start().to_lowercase();
        let mut all: Vec<String> = vec!["overview".into()];
        all.extend(Kind::ALL.iter().map(|k| k.name().to_string()));
        all.extend(["refresh", "log", "help", "quit", "sql", "token", "bootstrap", "shell", "forwards"].map(String::from));
        let (verb, arg) = input.split_once(' ').unwrap_or((input.as_str(), ""));
        let args: Vec<String> = match verb {
            "profile" => self.profiles.clone(),
            "sql" => ["via direct".to_string(), "via auto".to_string()]
                .into_iter()
                .chain(self.forwards.rows.iter().filter(|r| r.running()).map(|r| format!("via {}", r.spec.name)))
                .chain(self.settings.config.forwards.keys().map(|n| format!("via {n}")))
                .collect(),
            "region" => REGIONS.iter().map(|s| s.to_string()).collect(),
            "stack" => self.settings.config.stacks.keys().cloned().collect(),
            "proxy" => self.located.as_ref().map(|l| l.all_proxies.clone()).unwrap_or_default(),
            "theme" => self.themes.clone(),
            _ => Vec::new(),
        };
        if input.contains(' ') {
            return args.into_iter().filter(|a| a.to_lowercase().starts_with(arg.trim())).map(|a| format!("{verb} {a}")).take(8).collect();
        }
        all.extend(["profile ", "region ", "stack ", "proxy ", "theme "].map(String::from));
        let mut v: Vec<String> = all.iter().filter(|c| c.starts_with(&input)).cloned().collect();
        for k in Kind::ALL {
            if k.aliases().iter().any(|a| a.starts_with(&input)) && !v.iter().any(|c| c == k.name()) && !input.is_empty() {
                v.push(k.name().to_string());
            }
        }
        v.truncate(8);
        v
    }

    fn on_palette_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.palette.pop();
                self.palette_selected = 0;
            }
            KeyCode::Up => self.palette_selected = self.palette_selected.saturating_sub(1),
            KeyCode::Down => {
                let n = self.palette_candidates().len();
                self.palette_selected = (self.palette_selected + 1).min(n.saturating_sub(1));
            }
            KeyCode::Tab => {
                if let Some(c) = self.palette_candidates().get(self.palette_selected) {
                    self.palette = c.clone();
                    self.palette_selected = 0;
                }
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                let input = self.palette.trim().to_string();
                if input.is_empty() {
                    return Vec::new();
                }
                let cands = self.palette_candidates();
                let exact = self.parse_command(&input).is_ok();
                let line = if exact { input } else { cands.get(self.palette_selected).cloned().unwrap_or(input) };
                return self.run_command(&line);
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.palette.push(c);
                self.palette_selected = 0;
            }
            _ => {}
        }
        Vec::new()
    }

    fn parse_command(&self, line: &str) -> Result<(), String> {
        let (verb, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((line, ""));
        match verb {
            "overview" | "refresh" | "log" | "help" | "quit" | "q" | "sql" | "token" | "bootstrap" | "shell" | "forwards" => Ok(()),
            "profile" | "region" | "stack" | "proxy" | "theme" if !arg.is_empty() => Ok(()),
            "profile" | "region" | "stack" | "proxy" | "theme" => Err(format!("`{verb}` needs a name, e.g. :{verb} NAME")),
            v if Kind::parse(v).is_some() => Ok(()),
            _ => Err(format!("unknown command `{line}`: try a kind (proxies, hosts…), profile, region, stack, proxy, theme, refresh, sql, token, bootstrap, shell, forwards")),
        }
    }

    /// Runs a palette command line.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        if let Err(e) = self.parse_command(line) {
            self.status = Some((Health::Bad, e));
            return Vec::new();
        }
        let (verb, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim().to_string())).unwrap_or((line, String::new()));
        let mut args = self.args.clone();
        match verb {
            "overview" => self.set_tab(0),
            "refresh" => return self.refresh_all(),
            "log" => self.show_log = !self.show_log,
            "help" => self.mode = Mode::Help { scroll: 0 },
            "quit" | "q" => self.quit = true,
            "sql" if arg.is_empty() => return self.open_sql(),
            "sql" => match arg.strip_prefix("via").map(str::trim) {
                Some(v) if !v.is_empty() => return self.open_sql_via(v),
                _ => self.status = Some((Health::Bad, "usage: :sql, or :sql via direct|auto|FORWARD".into())),
            },
            "shell" => return self.open_shell(),
            "forwards" => self.mode = Mode::Forwards,
            "token" => return self.open_token(),
            "bootstrap" => return self.open_bootstrap(),
            "theme" => {
                let dir = crate::config::Config::user_theme_dir(self.settings.config_path.as_deref());
                match Theme::load(&arg, dir.as_deref(), super::theme::no_color_requested()) {
                    Ok(t) => {
                        self.theme = t;
                        self.status = Some((Health::Ok, format!("theme {arg}")));
                    }
                    Err(e) => self.status = Some((Health::Bad, e)),
                }
            }
            "profile" | "region" | "stack" | "proxy" => {
                match verb {
                    "profile" => args.profile = Some(arg.clone()),
                    "region" => args.region = Some(arg.clone()),
                    "stack" => {
                        args.stack = Some(arg.clone());
                        args.proxy = None;
                    }
                    _ => args.proxy = Some(arg.clone()),
                }
                match Settings::from_config(&args, self.settings.config.clone(), self.settings.config_path.clone()) {
                    Ok(s) => {
                        self.args = args;
                        self.settings = s;
                        self.status = Some((Health::Unknown, format!("switched {verb} to {arg}")));
                        self.log_line(Health::Unknown, format!("switch {verb} -> {arg}"));
                        return self.start();
                    }
                    Err(e) => self.status = Some((Health::Bad, e.to_string())),
                }
            }
            v => {
                if let Some(k) = Kind::parse(v) {
                    let i = Kind::ALL.iter().position(|x| *x == k).unwrap_or(0);
                    self.set_tab(i + 1);
                }
            }
        }
        Vec::new()
    }

    fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let areas = super::layout::layout(self.size, self.settings.production, self.show_log);
        let h = self.table_height();
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if matches!(m.kind, MouseEventKind::ScrollDown) { 3 } else { -3 };
                match &mut self.mode {
                    Mode::Detail { scroll } | Mode::Help { scroll } => {
                        *scroll = (*scroll as isize + d).max(0) as u16;
                    }
                    _ => {
                        if let Some(k) = self.current_kind() {
                            let t = &mut self.panes.get_mut(&k).expect("pane").table;
                            t.move_by(d);
                            t.ensure_visible(h);
                        }
                    }
                }
            }
            MouseEventKind::Down(MouseButton::Left) if self.mode == Mode::Normal => {
                if m.row == areas.tabs.y && areas.tabs.height > 0 {
                    for (tab, range) in super::layout::tab_positions(&self.tab_widths(), self.tab, areas.tabs.width) {
                        if range.contains(&(m.column.saturating_sub(areas.tabs.x))) {
                            self.set_tab(tab);
                        }
                    }
                } else if let Some(k) = self.current_kind() {
                    let body_top = areas.main.y + 2;
                    if m.row >= body_top && m.row < areas.main.bottom().saturating_sub(1) {
                        let t = &mut self.panes.get_mut(&k).expect("pane").table;
                        let row = t.offset + (m.row - body_top) as usize;
                        if row < t.visible.len() {
                            if t.selected == row {
                                self.open_detail();
                            } else {
                                t.select(row);
                            }
                        }
                    }
                }
            }
            _ => self.dirty = false,
        }
        Vec::new()
    }
}

/// A decision's error, with how to settle it in the TUI.
fn tui_hint(e: &crate::target::DecideError) -> String {
    use crate::target::DecideError;
    match e {
        DecideError::SeveralHosts(_) => format!("{e}: select one in Hosts first"),
        _ => e.to_string(),
    }
}
