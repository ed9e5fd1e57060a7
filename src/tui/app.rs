//! The app routes: it holds what features share (flags and settings, the AWS
//! context and the stack it found, theme, key map, clock, status line), gives
//! the keys to the focused feature, worker messages to the feature they belong
//! to, and carries features' [`Internal`] events between them. The stack's
//! life (context, identity, discovery, switching) is the only logic here.
//! Nothing here draws, awaits, or reads the disk, the environment or the clock:
//! those arrive as inputs; work leaves as [`Effect`]s.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::features::palette::Completions;
use super::features::sql::Sql;
use super::features::{Cx, shell};

pub use super::features::Features;
use super::keymap::{Cmd, Keymap, Scope};
use super::layout::layout;
use super::theme::Theme;
use crate::aws::AwsContext;
use crate::settings::{Flags, Settings};
use crate::stack::{DiscoverError, Health, Identity, Kind, Located};
use crate::target::StackFacts;

pub use super::event::{Action, Effect, Internal, Msg};
pub use super::shared::{Mode, Phase};

/// What the app is given at start (read from the disk and the environment once, before the loop).
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub profiles: Vec<String>,
    pub themes: Vec<String>,
    pub history_file: Option<PathBuf>,
    pub history: Vec<String>,
    pub export_dir: PathBuf,
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
    pub mode: Mode,
    pub status: Option<(Health, String)>,
    /// When the status line's message gives the footer back to the key hints.
    pub status_until: Option<Instant>,
    /// The clock, as of the latest input.
    pub now: Instant,
    pub wall: SystemTime,
    pub size: Rect,
    pub next_refresh: Option<Instant>,
    pub quit: bool,
    /// Set when the screen must be drawn again.
    pub dirty: bool,
    /// Profile and theme names for the palette.
    pub inputs: Inputs,
    pub f: Features,
}

/// How long a status message stays before the footer shows the keys again.
pub const STATUS_FOR: Duration = Duration::from_secs(6);

/// How many internal events one input may cause before the chain is cut (a bug, never a hang).
const MAX_INTERNAL: usize = 256;

impl App {
    pub fn new(args: Flags, settings: Settings, theme: Theme, keymap: Keymap, inputs: Inputs) -> App {
        let now = Instant::now();
        // A feature whose state starts empty needs no line here.
        let f = Features { sql: Sql::new(inputs.history_file.clone(), inputs.history.clone(), inputs.export_dir.clone()), ..Features::default() };
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
            mode: Mode::Normal,
            status: None,
            status_until: None,
            now,
            wall: SystemTime::now(),
            size: Rect::new(0, 0, 80, 24),
            next_refresh: None,
            quit: false,
            dirty: true,
            inputs,
            f,
        }
    }

    /// The first effect: load the AWS context (again, after a switch).
    pub fn start(&mut self) -> Vec<Effect> {
        self.generation += 1;
        self.phase = Phase::Connecting { since: self.now };
        self.ctx = None;
        self.identity = None;
        self.located = None;
        if matches!(self.mode, Mode::Bootstrap | Mode::Pulse) {
            self.mode = Mode::Normal;
        }
        // A plan belongs to one stack; so do saved forwards that start with it, and the pulse's charts.
        self.f.bootstrap.reset();
        self.f.pulse.reset();
        self.f.forwards.reset();
        self.f.browser.reset();
        for w in self.settings.warnings.clone().into_iter().chain(self.keymap.warnings.clone()) {
            self.log_line(Health::Warn, w);
        }
        let aws = &self.settings.aws;
        let line = format!(
            "connecting: profile {}, region {}{}",
            aws.profile.as_deref().unwrap_or("(environment)"),
            aws.region.as_deref().unwrap_or("(profile's)"),
            aws.endpoint_url.as_deref().map(|u| format!(", endpoint {u}")).unwrap_or_default()
        );
        self.log_line(Health::Unknown, line);
        vec![Effect::LoadContext { generation: self.generation, aws: self.settings.aws.clone() }]
    }

    // --- what features share, read-only -------------------------------------------------------

    pub fn current_kind(&self) -> Option<Kind> {
        self.f.browser.current_kind()
    }

    pub fn pane(&self, k: Kind) -> &super::features::browser::Pane {
        self.f.browser.pane(k)
    }

    /// What the panes know about the stack, for the decisions in [`crate::target`] (the CLI
    /// reads the same facts from AWS).
    pub fn facts(&self) -> StackFacts {
        let b = &self.f.browser;
        StackFacts::from_resources(self.located.as_ref().and_then(|l| l.proxy_endpoint.clone()), b.loaded_items(Kind::Parameter), b.loaded_items(Kind::Host))
    }

    /// The host selected in the Hosts list, when that list is on screen.
    pub fn selected_host(&self) -> Option<String> {
        (self.current_kind() == Some(Kind::Host)).then(|| self.f.browser.selected().map(|h| h.id.clone())).flatten()
    }

    fn main_area(&self) -> Rect {
        layout(self.size, self.settings.production, self.f.log.shown).main
    }

    pub fn set_tab(&mut self, tab: usize) {
        let main = self.main_area();
        self.f.browser.set_tab(tab, main);
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.phase, Phase::Connecting { .. } | Phase::Locating { .. })
            || self.f.browser.is_loading()
            || self.f.sql.is_running()
            || self.f.bootstrap.is_busy()
            || self.f.any_busy()
    }

    /// When the runner must wake up even if nothing happens.
    pub fn next_deadline(&self) -> Option<Instant> {
        let spin = self
            .is_loading()
            .then(|| self.now + Duration::from_millis(100))
            .or_else(|| (self.mode == Mode::Token).then(|| self.now + Duration::from_secs(1)));
        let view = self.f.view(self.mode).and_then(|v| v.deadline());
        [spin, self.next_refresh, self.status_until, view].into_iter().flatten().min()
    }

    /// Palette completions.
    pub fn completions(&self) -> Completions {
        Completions {
            profiles: self.inputs.profiles.clone(),
            themes: self.inputs.themes.clone(),
            stacks: self.settings.config.stacks.keys().cloned().collect(),
            proxies: self.located.as_ref().map(|l| l.all_proxies.clone()).unwrap_or_default(),
            forwards: self.f.forwards.running_names().into_iter().chain(self.settings.config.forwards.keys().cloned()).collect(),
        }
    }

    /// A message on the status line; it gives the footer back to the key hints after a while.
    pub fn say(&mut self, h: Health, text: impl Into<String>) {
        self.status = Some((h, text.into()));
        self.status_until = Some(self.now + STATUS_FOR);
    }

    /// A line in the log file and the log pane.
    pub fn log_line(&mut self, level: Health, text: impl Into<String>) {
        let text = text.into();
        match level {
            Health::Bad => tracing::warn!("{text}"),
            _ => tracing::info!("{text}"),
        }
        self.f.log.push(self.wall, level, text);
    }

    // --- routing --------------------------------------------------------------------------------

    /// Runs `f` on the features with the shared state as a [`Cx`]; returns its effects and the events it queued.
    fn with(&mut self, f: impl FnOnce(&mut Features, &mut Cx) -> Vec<Effect>) -> (Vec<Effect>, Vec<Internal>) {
        let facts = self.facts();
        let selected = self.selected_host();
        let main = self.main_area();
        let mut queue = Vec::new();
        let effects = {
            let mut cx = Cx {
                settings: &self.settings,
                ctx: self.ctx.as_ref(),
                located: self.located.as_ref(),
                generation: self.generation,
                keymap: &self.keymap,
                now: self.now,
                wall: self.wall,
                size: self.size,
                main,
                facts: &facts,
                selected_host: selected.as_deref(),
                mode: self.mode,
                queue: &mut queue,
            };
            f(&mut self.f, &mut cx)
        };
        (effects, queue)
    }

    /// Runs `f` (as [`App::with`]), then carries the events it queued.
    fn route(&mut self, f: impl FnOnce(&mut Features, &mut Cx) -> Vec<Effect>) -> Vec<Effect> {
        let (mut effects, queue) = self.with(f);
        effects.extend(self.carry(queue));
        effects
    }

    /// Delivers internal events (and the ones they cause) to whom they are for.
    fn carry(&mut self, queue: Vec<Internal>) -> Vec<Effect> {
        let mut pending: VecDeque<Internal> = queue.into();
        let mut effects = Vec::new();
        let mut n = 0;
        while let Some(e) = pending.pop_front() {
            n += 1;
            if n > MAX_INTERNAL {
                tracing::error!("internal events did not settle; dropped {} (last: {e:?})", pending.len() + 1);
                break;
            }
            let (out, more) = match e {
                Internal::Status(h, t) => {
                    self.say(h, t);
                    (Vec::new(), Vec::new())
                }
                Internal::ClearStatus => {
                    self.status = None;
                    self.status_until = None;
                    (Vec::new(), Vec::new())
                }
                Internal::Log(h, t) => {
                    self.log_line(h, t);
                    (Vec::new(), Vec::new())
                }
                Internal::LogPane(h, t) => {
                    self.f.log.push(self.wall, h, t);
                    (Vec::new(), Vec::new())
                }
                Internal::Focus(m) => {
                    self.focus(m);
                    (Vec::new(), Vec::new())
                }
                Internal::Quit => {
                    self.quit = true;
                    (Vec::new(), Vec::new())
                }
                Internal::Command(line) => (self.run_command(&line), Vec::new()),
                Internal::ForwardFor(t) => self.with(|f, cx| f.forwards.forward_for(&t, cx)),
                Internal::ForwardReady { spec, local_port } => self.with(|f, cx| f.sql.forward_ready(&spec, local_port, cx)),
                Internal::ForwardFailed { spec, error } => self.with(|f, cx| {
                    f.sql.forward_failed(&spec, &error, cx);
                    Vec::new()
                }),
                Internal::OpenSql(t) => self.with(|f, cx| f.sql.open_target(t, cx)),
                Internal::Describe(r) => {
                    self.f.detail.show(&r);
                    self.focus(Mode::Detail);
                    (Vec::new(), Vec::new())
                }
                Internal::StackKnown => self.with(|f, cx| {
                    // The tour's names and whether this is the sandbox come with the stack.
                    f.tour.refresh(cx);
                    f.forwards.autostart(cx)
                }),
            };
            effects.extend(out);
            pending.extend(more);
        }
        effects
    }

    fn focus(&mut self, m: Mode) {
        match m {
            Mode::Palette => {
                let c = self.completions();
                self.f.palette.open(c);
            }
            Mode::Help => self.f.help.open(),
            _ => {}
        }
        self.mode = m;
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        match action {
            Action::Tick(now) => {
                self.now = now;
                let expired = self.status_until.is_some_and(|t| now >= t);
                if expired {
                    self.status = None;
                    self.status_until = None;
                }
                if self.next_refresh.is_some_and(|t| now >= t) {
                    self.next_refresh = self.settings.refresh.map(|d| now + d);
                    return self.refresh_all();
                }
                // The focused view's own clock (a poll, a refresh): only while it is on screen.
                let mode = self.mode;
                if self.f.view(mode).and_then(|v| v.deadline()).is_some_and(|t| now >= t) {
                    return self.route(|f, cx| f.view_mut(mode).map(|v| v.on_tick(cx)).unwrap_or_default());
                }
                self.dirty = expired || self.is_loading() || self.mode == Mode::Token;
                Vec::new()
            }
            Action::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                let main = self.main_area();
                self.f.browser.fix_scroll(main);
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

    fn refresh_all(&mut self) -> Vec<Effect> {
        match &self.phase {
            Phase::Failed(_) if self.mode != Mode::ChooseProxy => self.start(),
            Phase::Ready => {
                let mut v = self.route(|f, cx| f.browser.fetch_all(cx));
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
        let mode = self.mode;
        let c = self.keymap.lookup(self.scope(), &k);
        if mode == Mode::Normal {
            return match c {
                Some(c) => self.main_command(c),
                None => {
                    self.dirty = false;
                    Vec::new()
                }
            };
        }
        self.route(|f, cx| {
            if let Some(v) = f.view_mut(mode) {
                return v.on_key(k, c, cx);
            }
            match mode {
                Mode::Filter => f.browser.on_filter(k, c, cx),
                Mode::ChooseProxy => f.browser.on_choose(c, cx),
                _ => {}
            }
            Vec::new()
        })
    }

    /// Where keys are read now.
    fn scope(&self) -> Scope {
        if let Some(v) = self.f.view(self.mode) {
            return v.scope();
        }
        match self.mode {
            Mode::Filter => Scope::Filter,
            Mode::ChooseProxy => Scope::Choose,
            _ => Scope::Main,
        }
    }

    /// The main list's actions: the app's own, or the feature they open.
    fn main_command(&mut self, c: Cmd) -> Vec<Effect> {
        match c {
            Cmd::View(mode) => return self.open_view(mode),
            Cmd::Quit => self.quit = true,
            Cmd::Help => self.focus(Mode::Help),
            Cmd::Palette => self.focus(Mode::Palette),
            Cmd::Refresh => {
                self.say(Health::Unknown, "refreshing");
                return self.refresh_all();
            }
            Cmd::ToggleLog => {
                self.f.log.shown = !self.f.log.shown;
                let main = self.main_area();
                self.f.browser.fix_scroll(main);
            }
            Cmd::Suspend => return vec![Effect::Suspend],
            Cmd::Token => {
                return self.route(|f, cx| {
                    let selected = f.browser.selected().cloned();
                    f.token.open(selected.as_ref(), cx)
                });
            }
            Cmd::Sql => return self.route(|f, cx| f.sql.open(cx)),
            Cmd::Bootstrap => return self.route(|f, cx| f.bootstrap.open(cx)),
            Cmd::Shell => return self.route(|_, cx| shell::open(cx)),
            Cmd::Forwards => self.focus(Mode::Forwards),
            c => {
                return self.route(|f, cx| {
                    f.browser.on_main(c, cx);
                    Vec::new()
                });
            }
        }
        Vec::new()
    }

    /// Gives the keys to the view of `mode` and lets it start what it shows.
    pub fn open_view(&mut self, mode: Mode) -> Vec<Effect> {
        self.focus(mode);
        self.route(|f, cx| f.view_mut(mode).map(|v| v.open(cx)).unwrap_or_default())
    }

    fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let mode = self.mode;
        if matches!(mode, Mode::Tour | Mode::Detail) {
            return self.route(|f, cx| f.view_mut(mode).map(|v| v.on_mouse(m, cx)).unwrap_or_default());
        }
        match (m.kind, self.mode) {
            (MouseEventKind::ScrollDown | MouseEventKind::ScrollUp, Mode::Help) => {
                self.f.help.scroll_by(if matches!(m.kind, MouseEventKind::ScrollDown) { 3 } else { -3 });
                Vec::new()
            }
            (MouseEventKind::ScrollDown | MouseEventKind::ScrollUp, _) | (MouseEventKind::Down(MouseButton::Left), Mode::Normal) => {
                let tabs = layout(self.size, self.settings.production, self.f.log.shown).tabs;
                self.route(|f, cx| {
                    f.browser.on_mouse(m, tabs, cx);
                    Vec::new()
                })
            }
            _ => {
                self.dirty = false;
                Vec::new()
            }
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
                    Effect::Locate { generation: current, ctx, anchor: self.settings.anchor.clone(), prefix: self.settings.parameter_prefix.clone() },
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
                self.f.browser.choose_among(names);
                self.mode = Mode::ChooseProxy;
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
                self.route(|f, cx| f.browser.fetch_all(cx))
            }
            Msg::Kind { kind, result, elapsed, .. } => self.route(|f, cx| f.browser.on_kind(kind, result, elapsed, cx)),
            Msg::Token { target, result, .. } => self.route(|f, cx| {
                f.token.on_signed(target, result, cx);
                Vec::new()
            }),
            Msg::Sql { session, event, .. } => {
                let mut fresh = true;
                let e = self.route(|f, cx| {
                    fresh = f.sql.on_event(session, event, cx);
                    Vec::new()
                });
                self.dirty = fresh;
                e
            }
            Msg::Exported(r) => {
                self.f.sql.on_exported(r);
                Vec::new()
            }
            Msg::ExportProgress(n) => {
                self.f.sql.on_export_progress(n);
                Vec::new()
            }
            Msg::BootstrapPlan { result, .. } => self.route(|f, cx| {
                f.bootstrap.on_plan(result, cx);
                Vec::new()
            }),
            Msg::Bootstrap { run_id, event } => {
                let mut fresh = true;
                let e = self.route(|f, cx| {
                    fresh = f.bootstrap.on_event(run_id, event, cx);
                    Vec::new()
                });
                self.dirty = fresh;
                e
            }
            Msg::ForwardStarted { id, result } => self.route(|f, cx| {
                f.forwards.on_started(id, result, cx);
                Vec::new()
            }),
            Msg::ForwardStatus { id, status, probe } => {
                // A status every second per forward: draw only when it is on screen or it changed something.
                let before = (self.mode, self.status.clone());
                let e = self.route(|f, cx| {
                    f.forwards.on_status(id, *status, probe, cx);
                    Vec::new()
                });
                self.dirty = self.mode == Mode::Forwards || !e.is_empty() || before != (self.mode, self.status.clone());
                e
            }
            Msg::ForwardStopped { id, last } => self.route(|f, cx| {
                f.forwards.on_stopped(id, last.map(|b| *b), cx);
                Vec::new()
            }),
            Msg::To { to, msg } => {
                let mut fresh = false;
                let e = self.route(|f, cx| match f.view_mut(to) {
                    Some(v) => {
                        let (changed, effects) = v.on_msg(msg, cx);
                        fresh = changed;
                        effects
                    }
                    None => Vec::new(),
                });
                self.dirty = fresh || !e.is_empty();
                e
            }
            Msg::Notice(text) => {
                self.log_line(Health::Warn, text.clone());
                self.say(Health::Warn, text);
                Vec::new()
            }
            Msg::ShellEnded { target, result } => self.route(|_, cx| {
                shell::ended(&target, result, cx);
                Vec::new()
            }),
            Msg::Switched { verb, arg, args, result } => match result {
                Ok(s) => {
                    self.args = args;
                    self.settings = *s;
                    self.say(Health::Unknown, format!("switched {verb} to {arg}"));
                    self.log_line(Health::Unknown, format!("switch {verb} -> {arg}"));
                    self.start()
                }
                Err(e) => {
                    self.say(Health::Bad, e);
                    Vec::new()
                }
            },
            Msg::Theme { name, result } => {
                match result {
                    Ok(t) => {
                        self.theme = *t;
                        self.say(Health::Ok, format!("theme {name}"));
                    }
                    Err(e) => self.say(Health::Bad, e),
                }
                Vec::new()
            }
        }
    }

    /// Runs a palette command line.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        if let Err(e) = super::features::palette::parse_command(line) {
            self.say(Health::Bad, e);
            return Vec::new();
        }
        let (verb, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim().to_string())).unwrap_or((line, String::new()));
        let mut args = self.args.clone();
        match verb {
            v if super::features::OPENERS.iter().any(|o| o.1 == v) => {
                let mode = super::features::OPENERS.iter().find(|o| o.1 == v).map(|o| o.0).expect("found");
                return self.open_view(mode);
            }
            "overview" => self.set_tab(0),
            "refresh" => return self.refresh_all(),
            "log" => self.f.log.shown = !self.f.log.shown,
            "help" => self.focus(Mode::Help),
            "quit" | "q" => self.quit = true,
            "sql" if arg.is_empty() => return self.route(|f, cx| f.sql.open(cx)),
            "sql" => match arg.strip_prefix("via").map(str::trim) {
                Some(v) if !v.is_empty() => {
                    let v = v.to_string();
                    return self.route(|f, cx| f.sql.open_via(&v, cx));
                }
                _ => self.say(Health::Bad, "usage: :sql, or :sql via direct|auto|FORWARD"),
            },
            "shell" => return self.route(|_, cx| shell::open(cx)),
            "forwards" => self.focus(Mode::Forwards),
            "token" => return self.main_command(Cmd::Token),
            "bootstrap" => return self.route(|f, cx| f.bootstrap.open(cx)),
            "theme" => {
                let dir = crate::config::Config::user_theme_dir(self.settings.config_path.as_deref());
                return vec![Effect::LoadTheme { name: arg, dir }];
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
                return vec![Effect::Switch {
                    verb: verb.to_string(),
                    arg,
                    args: Box::new(args),
                    config: Box::new(self.settings.config.clone()),
                    config_path: self.settings.config_path.clone(),
                }];
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
}
