//! The bootstrap view: the plan (a [`Report`] fed by the runner's events), the
//! selected step, the dry-run toggle and the confirmation prompt.

pub mod view;

use std::time::Instant;

use super::{Cx, Effect};
use crate::bootstrap::{Event, Options, Report, StepId};
use crate::stack::Health;
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::Cmd;
use crate::tui::keymap::{Def, Scope};

/// Its keys (rebindable under `[keys.bootstrap]`).
pub const KEYS: &[Def] = &[
    (Scope::Bootstrap, Cmd::Run, "run", "run all steps", &["r", "enter"]),
    (Scope::Bootstrap, Cmd::RunOne, "run_one", "run the selected step", &["o"]),
    (Scope::Bootstrap, Cmd::Resume, "resume", "resume at the failed (or selected) step", &["c"]),
    (Scope::Bootstrap, Cmd::DryRun, "dry_run", "dry run on/off", &["d"]),
    (Scope::Bootstrap, Cmd::Confirm, "confirm", "confirm a run when asked", &["y"]),
    (Scope::Bootstrap, Cmd::Up, "up", "previous step", &["up", "k"]),
    (Scope::Bootstrap, Cmd::Down, "down", "next step", &["down", "j"]),
    (Scope::Bootstrap, Cmd::Top, "top", "first step", &["home", "g"]),
    (Scope::Bootstrap, Cmd::Bottom, "bottom", "last step", &["end", "G"]),
    (Scope::Bootstrap, Cmd::Back, "back", "back to the lists (a run goes on)", &["esc", "q"]),
];

#[derive(Debug)]
pub struct BootstrapView {
    /// When the view opened (the spinner while the plan loads).
    pub opened: Instant,
    /// The plan and, once run, its progress. `None` while the inputs load.
    pub report: Option<Report>,
    /// Step 1 failed: the inputs could not be read (the message names the problem).
    pub error: Option<String>,
    pub selected: usize,
    pub dry_run: bool,
    pub running: Option<Instant>,
    /// A run waiting for `y` (production stack or read-only mode).
    pub confirm: Option<Options>,
    /// Events of older runs are dropped.
    pub run_id: u64,
}

#[derive(Debug, PartialEq)]
pub enum BootstrapAction {
    None,
    Run(Options),
    Close,
}

impl BootstrapView {
    pub fn new(now: Instant) -> BootstrapView {
        BootstrapView { opened: now, report: None, error: None, selected: 0, dry_run: false, running: None, confirm: None, run_id: 0 }
    }

    pub fn step_count(&self) -> usize {
        self.report.as_ref().map(|r| r.steps.len()).unwrap_or(0)
    }

    pub fn selected_step(&self) -> StepId {
        StepId::ALL[self.selected.min(StepId::ALL.len() - 1)]
    }

    /// Applies a runner event; follows the step being worked on.
    pub fn apply(&mut self, ev: &Event) {
        let Some(r) = self.report.as_mut() else { return };
        r.apply(ev);
        match ev {
            Event::Step { id, .. } | Event::Executed { id, .. } => self.selected = id.number() - 1,
            Event::Done { .. } => {
                self.running = None;
                if let Some(id) = r.resume_from {
                    self.selected = id.number() - 1;
                }
            }
            Event::Verification(_) => {}
        }
    }

    /// A fresh report for a new run (statuses back to pending).
    pub fn start_run(&mut self, opts: Options, now: Instant) {
        if let Some(r) = self.report.as_mut() {
            *r = Report::new(r.inputs.clone(), opts.dry_run);
        }
        self.run_id += 1;
        self.running = Some(now);
        self.confirm = None;
    }

    pub fn on_key(&mut self, c: Option<Cmd>, needs_confirm: bool) -> BootstrapAction {
        if let Some(opts) = self.confirm.take() {
            return if c == Some(Cmd::Confirm) { BootstrapAction::Run(opts) } else { BootstrapAction::None };
        }
        let n = self.step_count();
        let idle = self.running.is_none() && self.report.is_some();
        let dry_run = self.dry_run;
        let selected = self.selected_step();
        let run = |this: &mut Self, opts: Options| {
            if needs_confirm && !opts.dry_run {
                this.confirm = Some(opts);
                BootstrapAction::None
            } else {
                BootstrapAction::Run(opts)
            }
        };
        match c {
            Some(Cmd::Back) => return BootstrapAction::Close,
            Some(Cmd::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Cmd::Down) => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Some(Cmd::Top) => self.selected = 0,
            Some(Cmd::Bottom) => self.selected = n.saturating_sub(1),
            Some(Cmd::DryRun) if idle => self.dry_run = !self.dry_run,
            Some(Cmd::Run) if idle => return run(self, Options { from: StepId::Config, only: false, dry_run }),
            Some(Cmd::RunOne) if idle => return run(self, Options { from: selected, only: true, dry_run }),
            Some(Cmd::Resume) if idle => {
                let from = self.report.as_ref().and_then(|r| r.resume_from).unwrap_or(selected);
                return run(self, Options { from, only: false, dry_run });
            }
            _ => {}
        }
        BootstrapAction::None
    }
}

/// The feature: the view of the current stack's plan (kept while it runs in the background).
/// The feature's state, as the registry names it.
pub type Feature = Bootstrap;

#[derive(Debug, Default)]
pub struct Bootstrap {
    pub view: Option<BootstrapView>,
}

impl Bootstrap {
    /// A new stack: its plan is read again.
    pub fn reset(&mut self) {
        self.view = None;
    }

    /// Opens the view; the plan is read once per stack (Esc keeps it and any run going).
    pub fn open(&mut self, cx: &mut Cx) -> Vec<Effect> {
        cx.send(Internal::Focus(Mode::Bootstrap));
        if let Some(b) = &self.view
            && b.error.is_none()
        {
            return Vec::new();
        }
        self.view = Some(BootstrapView::new(cx.now));
        vec![Effect::BootstrapPlan {
            generation: cx.generation,
            settings: Box::new(cx.settings.clone()),
            ctx: cx.ctx.cloned(),
            located: cx.located.cloned().map(Box::new),
        }]
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        let needs_confirm = cx.settings.production || cx.settings.read_only;
        let Some(b) = self.view.as_mut() else {
            cx.send(Internal::Focus(Mode::Normal));
            return Vec::new();
        };
        match b.on_key(c, needs_confirm) {
            BootstrapAction::None => Vec::new(),
            BootstrapAction::Close => {
                cx.send(Internal::Focus(Mode::Normal));
                Vec::new()
            }
            BootstrapAction::Run(opts) => {
                let Some(ctx) = cx.ctx else {
                    cx.status(Health::Bad, "no AWS credentials: the bootstrap needs them for the secret and the tokens");
                    return Vec::new();
                };
                let Some(inputs) = b.report.as_ref().map(|r| r.inputs.clone()) else { return Vec::new() };
                b.start_run(opts, cx.now);
                let run_id = b.run_id;
                cx.log(Health::Unknown, format!("bootstrap {} on {}:{}", if opts.dry_run { "dry run" } else { "run" }, inputs.host, inputs.port));
                vec![Effect::BootstrapRun { run_id, inputs: Box::new(inputs), ctx: ctx.clone(), opts }]
            }
        }
    }

    pub fn on_plan(&mut self, result: Result<crate::bootstrap::Inputs, String>, cx: &mut Cx) {
        for w in result.as_ref().map(|i| i.warnings.clone()).unwrap_or_default() {
            cx.log(Health::Warn, w);
        }
        if let Some(b) = self.view.as_mut() {
            match result {
                Ok(inputs) => {
                    b.report = Some(Report::new(inputs, b.dry_run));
                    b.error = None;
                }
                Err(e) => b.error = Some(e),
            }
        }
    }

    /// A runner event; false when it belongs to an older run.
    pub fn on_event(&mut self, run_id: u64, event: Event, cx: &mut Cx) -> bool {
        let Some(b) = self.view.as_mut().filter(|b| b.run_id == run_id) else { return false };
        b.apply(&event);
        let line = match &event {
            Event::Step { id, status, detail } if status.is_final() => Some((
                if *status == crate::bootstrap::Status::Failed { Health::Bad } else { Health::Ok },
                format!("bootstrap step {} ({}): {}: {detail}", id.number(), id.name(), status.label()),
            )),
            Event::Executed { sql, .. } => Some((Health::Unknown, format!("bootstrap ran: {sql}"))),
            _ => None,
        };
        if let Some((h, l)) = line {
            cx.send(Internal::LogPane(h, l));
        }
        true
    }

    fn draw_in(&self, vx: &super::ViewCx, f: &mut ratatui::Frame, area: ratatui::layout::Rect) {
        if let Some(v) = &self.view {
            view::render(v, vx, f, area);
        }
    }

    fn hints(&self, vx: &super::ViewCx) -> String {
        use crate::tui::keymap::{Scope, pretty};
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Bootstrap, c));
        let letter = |c: Cmd| vx.keymap.letter(Scope::Bootstrap, c);
        format!(
            " {} run all · {} run the selected step · {} resume · {} dry run on/off · {}/{} select · {} back",
            k(Cmd::Run),
            k(Cmd::RunOne),
            k(Cmd::Resume),
            k(Cmd::DryRun),
            letter(Cmd::Down),
            letter(Cmd::Up),
            k(Cmd::Back)
        )
    }

    pub fn is_busy(&self) -> bool {
        self.view.as_ref().is_some_and(|b| b.running.is_some() || (b.report.is_none() && b.error.is_none()))
    }
}

impl super::View for Bootstrap {
    fn scope(&self) -> crate::tui::keymap::Scope {
        crate::tui::keymap::Scope::Bootstrap
    }
    fn on_key(&mut self, _key: crossterm::event::KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx)
    }
    fn draw(&self, vx: &super::ViewCx, f: &mut ratatui::Frame, main: ratatui::layout::Rect, _screen: ratatui::layout::Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &super::ViewCx) -> super::Footer {
        super::Footer::Hints(self.hints(vx))
    }
}
