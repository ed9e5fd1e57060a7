//! The doctor view (`D`, `:doctor`): the chain's checks as they finish, the
//! first failure highlighted and selected, its evidence and fix below, the fix
//! one key away (copied with OSC 52). The same core as `rdsdeck doctor`.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use secrecy::SecretString;
use std::time::Instant;

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::doctor::{CHECKS, Finding, Status};
use crate::stack::Health;
use crate::tui::event::{Internal, Job, Mode};
use crate::tui::keymap::{Cmd, Def, Scope, pretty};

/// The doctor's keys: `D` on the lists opens it; in the view, these.
pub const KEYS: &[Def] = &[
    (Scope::Main, Cmd::View(Mode::Doctor), "doctor", "the doctor: walk the chain and name the broken link", &["D"]),
    (Scope::Doctor, Cmd::Up, "up", "previous check", &["up", "k"]),
    (Scope::Doctor, Cmd::Down, "down", "next check", &["down", "j"]),
    (Scope::Doctor, Cmd::Copy, "copy", "copy the selected check's fix (OSC 52)", &["y"]),
    (Scope::Doctor, Cmd::Refresh, "refresh", "run the doctor again", &["r"]),
    (Scope::Doctor, Cmd::Back, "back", "back to the lists", &["esc", "q"]),
];

/// What a doctor run sends back, tagged with the run it belongs to.
#[derive(Debug)]
pub enum DoctorMsg {
    Finding(u64, Box<Finding>),
    Done(u64),
}

/// The feature's state, as the registry names it.
pub type Feature = Doctor;

#[derive(Debug, Default)]
pub struct Doctor {
    pub findings: Vec<Finding>,
    pub selected: usize,
    /// A run is going on since then; its findings carry this run's number.
    pub running: Option<Instant>,
    pub run: u64,
    /// Dropping it ends the run in flight (and the forwards it opened): `r` during a run starts over.
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    /// The user moved the selection: do not jump to the first failure any more.
    moved: bool,
}

impl Doctor {

    fn start(&mut self, cx: &mut Cx) -> Vec<Effect> {
        let Some(ctx) = cx.ctx else {
            cx.status(Health::Bad, "no AWS credentials yet: the doctor needs them (run `rdsdeck doctor` to see why)");
            return Vec::new();
        };
        self.run += 1;
        self.findings.clear();
        self.selected = 0;
        self.moved = false;
        self.running = Some(cx.now);
        cx.log(Health::Unknown, "doctor: walking the chain");
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        // Replacing the sender drops the one before: the run in flight ends and closes its forwards.
        self.cancel = Some(cancel);
        let (run, ctx, settings) = (self.run, ctx.clone(), cx.settings.clone());
        let job = Job::holding_sessions(move |reply| async move {
            // The route as `rdsdeck doctor` decides it (the config's sql_via, else direct).
            let opts = crate::doctor::Options::new(&settings, None, None, crate::ssm::transport::Transport::Auto);
            crate::doctor::run(&ctx, &settings, &opts, |f| {
                reply.send(DoctorMsg::Finding(run, Box::new(f.clone())));
            }, async {
                tokio::select! {
                    _ = reply.closed() => {}
                    _ = cancelled => {}
                }
            }).await;
            reply.send(DoctorMsg::Done(run));
        });
        vec![Effect::Job { to: Mode::Doctor, job }]
    }

    /// A check finished.
    fn on_finding(&mut self, run: u64, f: Finding) -> bool {
        if run != self.run {
            return false;
        }
        self.findings.push(f);
        // Follow the first failure until the user chooses.
        if !self.moved
            && let Some(i) = self.findings.iter().position(|f| f.status == Status::Fail)
        {
            self.selected = i;
        }
        true
    }

    fn on_done(&mut self, run: u64, cx: &mut Cx) -> bool {
        if run != self.run {
            return false;
        }
        self.running = None;
        self.cancel = None;
        let failed = self.findings.iter().filter(|f| f.status == Status::Fail).count();
        match self.findings.iter().find(|f| f.status == Status::Fail) {
            Some(f) => cx.log(Health::Bad, format!("doctor: {failed} failed; first broken link: {} — {}", f.id, f.summary)),
            None => cx.log(Health::Ok, "doctor: every check passed"),
        }
        true
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        let n = self.findings.len();
        match c {
            Some(Cmd::Up) => {
                self.selected = self.selected.saturating_sub(1);
                self.moved = true;
            }
            Some(Cmd::Down) => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                self.moved = true;
            }
            Some(Cmd::Copy) => match self.findings.get(self.selected).and_then(|f| f.fix.clone()) {
                Some(fix) => {
                    cx.status(Health::Ok, "the fix was copied to the clipboard (OSC 52)");
                    return vec![Effect::Copy(SecretString::from(fix))];
                }
                None => cx.status(Health::Unknown, "this check has no fix to copy"),
            },
            // During a run, `r` starts over: the world may have changed since it began.
            Some(Cmd::Refresh) => return self.start(cx),
            Some(Cmd::Back) => cx.send(Internal::Focus(Mode::Normal)),
            _ => {}
        }
        Vec::new()
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let failed = self.findings.iter().filter(|f| f.status == Status::Fail).count();
        let title = match self.running {
            Some(since) => format!(" Doctor · {} ", vx.spinner(since)),
            None if self.findings.is_empty() => " Doctor ".to_string(),
            None if failed == 0 => " Doctor · nothing failed ".to_string(),
            None => format!(" Doctor · {failed} failed "),
        };
        let block = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(title, th.title));
        let inner = block.inner(area);
        f.render_widget(block, area);
        // Every check when it fits, with room left for the selected one's evidence and fix.
        let rows = Layout::vertical([Constraint::Length((CHECKS.len() as u16).min(inner.height.saturating_sub(5)).max(1)), Constraint::Min(0)]).split(inner);
        let first_fail = self.findings.iter().position(|f| f.status == Status::Fail);
        let mut lines: Vec<Line> = Vec::new();
        for (id, title, _) in CHECKS {
            let found = self.findings.iter().find(|f| f.id == *id);
            let (sym, style, text) = match found {
                Some(f) => {
                    let style = match f.status {
                        Status::Pass => th.ok,
                        Status::Warn => th.warn,
                        Status::Fail => th.bad,
                        Status::Skipped => th.muted,
                    };
                    (f.status.symbol(), style, f.summary.clone())
                }
                None if self.running.is_some() => ("…", th.accent, title.to_string()),
                None => (" ", th.muted, title.to_string()),
            };
            let pos = found.and_then(|f| self.findings.iter().position(|g| g.id == f.id));
            let row_style = if pos.is_some() && pos == Some(self.selected) { th.selected } else { ratatui::style::Style::default() };
            let marker = if pos.is_some() && pos == first_fail { "▶" } else { " " };
            lines.push(
                Line::from(vec![
                    Span::styled(format!("{marker}{sym} "), style),
                    Span::styled(format!("{id:<19} "), th.key),
                    Span::styled(text, if found.is_some() { style } else { th.muted }),
                ])
                .style(row_style),
            );
        }
        f.render_widget(Paragraph::new(lines), rows[0]);
        // The selected check: its evidence and its fix.
        let mut detail = Vec::new();
        if let Some(f) = self.findings.get(self.selected) {
            detail.push(Line::from(Span::styled(format!("{} — {}", f.id, f.title), th.table_header)));
            for e in &f.evidence {
                detail.push(Line::from(Span::styled(format!("  {e}"), th.muted)));
            }
            if let Some(n) = f.waited_for {
                detail.push(Line::from(Span::styled(format!("  skipped: {n} did not hold"), th.muted)));
            }
            if let Some(fix) = &f.fix {
                detail.push(Line::from(vec![
                    Span::styled(format!("  fix ({} copies): ", pretty(&vx.keymap.label(Scope::Doctor, Cmd::Copy))), th.key),
                    Span::raw(fix.clone()),
                ]));
            }
        }
        let b = Block::default().borders(Borders::TOP).border_style(th.border);
        f.render_widget(Paragraph::new(detail).block(b).wrap(Wrap { trim: false }), rows[1]);
    }

    fn hints(&self, vx: &ViewCx) -> String {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Doctor, c));
        format!(" {}{} select · {} copy the fix · {} run again · {} back", k(Cmd::Up), k(Cmd::Down), k(Cmd::Copy), k(Cmd::Refresh), k(Cmd::Back))
    }

}

impl View for Doctor {
    fn covers_main(&self) -> bool {
        true
    }
    fn scope(&self) -> Scope {
        Scope::Doctor
    }
    fn on_key(&mut self, _key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx)
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &ViewCx) -> Footer {
        Footer::Hints(self.hints(vx))
    }
    /// Runs the doctor unless it has a result (r runs it again).
    fn open(&mut self, cx: &mut Cx) -> Vec<Effect> {
        if self.running.is_some() || !self.findings.is_empty() {
            return Vec::new();
        }
        self.start(cx)
    }
    fn busy(&self) -> bool {
        self.running.is_some()
    }
    fn on_msg(&mut self, msg: Box<dyn std::any::Any + Send>, cx: &mut Cx) -> (bool, Vec<Effect>) {
        match msg.downcast::<DoctorMsg>().map(|m| *m) {
            Ok(DoctorMsg::Finding(run, f)) => (self.on_finding(run, *f), Vec::new()),
            Ok(DoctorMsg::Done(run)) => (self.on_done(run, cx), Vec::new()),
            Err(_) => (false, Vec::new()),
        }
    }
}
