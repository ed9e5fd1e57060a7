//! The bootstrap view's state: the plan (a [`Report`] fed by the runner's
//! events), the selected step, the dry-run toggle and the confirmation prompt.

use crossterm::event::{KeyCode, KeyEvent};
use std::time::Instant;

use crate::bootstrap::{Event, Options, Report, StepId};

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

    pub fn on_key(&mut self, k: KeyEvent, needs_confirm: bool) -> BootstrapAction {
        if let Some(opts) = self.confirm.take() {
            return if k.code == KeyCode::Char('y') { BootstrapAction::Run(opts) } else { BootstrapAction::None };
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
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return BootstrapAction::Close,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = n.saturating_sub(1),
            KeyCode::Char('d') if idle => self.dry_run = !self.dry_run,
            KeyCode::Char('r') | KeyCode::Enter if idle => {
                return run(self, Options { from: StepId::Config, only: false, dry_run });
            }
            KeyCode::Char('o') if idle => {
                return run(self, Options { from: selected, only: true, dry_run });
            }
            KeyCode::Char('c') if idle => {
                let from = self.report.as_ref().and_then(|r| r.resume_from).unwrap_or(selected);
                return run(self, Options { from, only: false, dry_run });
            }
            _ => {}
        }
        BootstrapAction::None
    }
}
