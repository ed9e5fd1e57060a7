//! The tour view (`T`, `:tour`, `rdsdeck tour`): the chapters' contents, then one step at a time —
//! its explanation, the key that does it, and what rdsdeck did, beside or below. Back, skip, the
//! contents and leave at any time, by key or by clicking the buttons; progress is saved and resumed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::time::Instant;

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::stack::Health;
use crate::tour::lessons::{Memory, Outcome, Tone};
use crate::tour::{Chapter, Names, Progress, Step};
use crate::tui::event::{Internal, Job, Mode};
use crate::tui::keymap::{Cmd, Def, Scope, pretty};

/// Skip this step.
const SKIP: Cmd = Cmd::Own("skip");
/// The chapters.
const CONTENTS: Cmd = Cmd::Own("contents");

/// The tour's keys; a step's own key (the one that does it) comes from its chapter.
pub const KEYS: &[Def] = &[
    (Scope::Main, Cmd::View(Mode::Tour), "tour", "the tour: learn the zero-secret flow on this stack, step by step", &["T"]),
    (Scope::Tour, Cmd::Right, "next", "next step (once this one is done)", &["right", "enter", "n"]),
    (Scope::Tour, Cmd::Left, "previous", "previous step", &["left", "b"]),
    (Scope::Tour, SKIP, "skip", "skip this step", &["s"]),
    (Scope::Tour, CONTENTS, "contents", "the chapters", &["tab"]),
    (Scope::Tour, Cmd::Up, "up", "scroll up / previous chapter", &["up", "k"]),
    (Scope::Tour, Cmd::Down, "down", "scroll down / next chapter", &["down", "j"]),
    (Scope::Tour, Cmd::PageDown, "page_down", "scroll the result a page down", &["pagedown", "space"]),
    (Scope::Tour, Cmd::PageUp, "page_up", "scroll the result a page up", &["pageup"]),
    (Scope::Tour, Cmd::Back, "leave", "leave the tour (progress is kept)", &["esc", "q"]),
];

const NOT_AS_EXPECTED: &str = "This did not go as the step expects: read the lines above; you may try again or skip.";

/// Rows `lines` take at `width`, wrapped exactly as the view's paragraph wraps them (ratatui's own
/// count: a hand-made one disagreed on long words and cut the last lines of a result off).
fn wrapped_height(lines: &[String], width: u16) -> u16 {
    let text: Vec<Line> = lines.iter().map(|l| Line::raw(l.as_str())).collect();
    Paragraph::new(text).wrap(Wrap { trim: false }).line_count(width.max(1)).min(u16::MAX as usize) as u16
}

/// An outcome's lines as drawn at `width`: wrapped at spaces (a word longer than the width is cut),
/// an indented line's continuations indented two more (while that leaves most of the width), so
/// evidence, ARNs and statements stay under their heading instead of running back to the left edge.
/// The rows of the closing warning (a step that did not do what it teaches) have no tone: `None`.
fn result_rows(o: &Outcome, width: u16) -> Vec<(Option<Tone>, String)> {
    let width = usize::from(width.max(1));
    let lines = o.lines.iter().map(|l| (Some(l.0), l.1.as_str())).chain((!o.done).then_some((None, NOT_AS_EXPECTED)));
    let mut rows = Vec::new();
    for (tone, text) in lines {
        let lead = &text[..text.len() - text.trim_start().len()];
        let more = if lead.is_empty() || lead.len() + 2 > width / 2 { String::new() } else { format!("{lead}  ") };
        let options = textwrap::Options::new(width)
            .subsequent_indent(&more)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(true);
        let wrapped = textwrap::wrap(text, options);
        if wrapped.is_empty() {
            rows.push((tone, String::new()));
        }
        rows.extend(wrapped.into_iter().map(|r| (tone, r.into_owned())));
    }
    rows
}

#[derive(Debug)]
pub enum TourMsg {
    /// The chapters and the saved progress.
    Loaded(Result<Vec<Chapter>, String>, Progress),
    /// A step's outcome, for the run it belongs to.
    Done(u64, Box<Outcome>),
}

/// A button on screen: what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Button {
    Do,
    Back,
    Next,
    Skip,
    Contents,
    Leave,
    Start,
}

/// The feature's state, as the registry names it.
pub type Feature = Tour;

#[derive(Default)]
pub struct Tour {
    pub chapters: Vec<Chapter>,
    pub error: Option<String>,
    pub progress: Progress,
    /// The contents (true) or a step.
    pub contents: bool,
    /// The chapter chosen in the contents.
    pub selected: usize,
    /// The current step's outcome.
    pub outcome: Option<Outcome>,
    /// Outcomes of the steps done in this session, by (chapter, step): going back shows them again.
    done_steps: std::collections::HashMap<(usize, usize), Outcome>,
    pub running: Option<Instant>,
    run: u64,
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    memory: Memory,
    /// The stack's names for the text, read when the tour opens.
    pub names: Names,
    /// Steps that change the stack run (the sandbox), or are only shown.
    pub may_change: bool,
    pub scroll: u16,
    loaded: bool,
}

impl Tour {
    fn chapter_index(&self) -> Option<usize> {
        let id = self.progress.chapter.as_ref()?;
        self.chapters.iter().position(|c| &c.id == id)
    }

    /// The chapters are on screen (asked for, or no chapter open).
    fn on_contents(&self) -> bool {
        self.contents || self.chapter().is_none()
    }

    /// (chapter, step) of the step on screen.
    fn here(&self) -> Option<(usize, usize)> {
        self.chapter_index().map(|i| (i, self.progress.step))
    }

    fn chapter(&self) -> Option<&Chapter> {
        self.chapter_index().map(|i| &self.chapters[i])
    }

    fn step(&self) -> Option<&Step> {
        self.chapter().and_then(|c| c.steps.get(self.progress.step))
    }

    /// The step may be left forward: it has nothing to do, or it was done.
    fn can_go_on(&self) -> bool {
        match self.step() {
            Some(s) => s.action.is_none() || self.outcome.as_ref().is_some_and(|o| o.done),
            None => false,
        }
    }

    /// The stack's names and whether it is the sandbox, as known now (the stack may have been read
    /// since the tour opened).
    pub fn refresh(&mut self, cx: &Cx) {
        self.names = Tour::names_from(cx);
        self.may_change = cx.ctx.is_some_and(|c| crate::tour::lessons::may_change(c, cx.settings));
    }

    fn names_from(cx: &Cx) -> Names {
        let mut n = Names::default();
        let mut put = |k: &'static str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                n.0.insert(k, v);
            }
        };
        let loc = cx.located;
        put("proxy", loc.and_then(|l| l.proxy.clone()));
        put("proxy_endpoint", loc.and_then(|l| l.proxy_endpoint.clone()));
        put("instance", loc.and_then(|l| l.instances.first().cloned()));
        put("prefix", loc.map(|l| l.parameter_prefix.clone()));
        put("region", loc.map(|l| l.region.clone()));
        put("port", cx.facts.param("port").map(str::to_string));
        put("user", Some(cx.facts.app_user()));
        put("database", cx.facts.param("dbname").map(str::to_string));
        put("host", cx.facts.hosts.as_ref().ok().and_then(|h| h.first().map(|h| h.id.clone())));
        n
    }

    /// Saves where the learner is (a job: the update touches no disk).
    fn save(&self) -> Effect {
        let p = self.progress.clone();
        Effect::Job {
            to: Mode::Tour,
            job: Job::new(move |_reply| async move {
                let _ = tokio::task::spawn_blocking(move || crate::config::Config::state_dir().map(|d| p.save(&d))).await;
            }),
        }
    }

    /// Goes to step `step` of chapter `i` (its outcome cleared, a run in flight dropped).
    fn go(&mut self, i: usize, step: usize) -> Vec<Effect> {
        self.cancel = None;
        self.running = None;
        if let (Some(at), Some(o)) = (self.here(), self.outcome.take()) {
            self.done_steps.insert(at, o);
        }
        self.outcome = self.done_steps.remove(&(i, step));
        self.scroll = 0;
        self.contents = false;
        self.selected = i;
        self.progress.chapter = self.chapters.get(i).map(|c| c.id.clone());
        self.progress.step = step;
        vec![self.save()]
    }

    fn finish_chapter(&mut self, i: usize) -> Vec<Effect> {
        if let Some(c) = self.chapters.get(i)
            && !self.progress.done.contains(&c.id)
        {
            self.progress.done.push(c.id.clone());
        }
        if i + 1 < self.chapters.len() {
            self.go(i + 1, 0)
        } else {
            // The end: back to the contents, every chapter ticked.
            self.cancel = None;
            self.outcome = None;
            self.contents = true;
            self.progress.chapter = None;
            self.progress.step = 0;
            vec![self.save()]
        }
    }

    fn next(&mut self, cx: &mut Cx, force: bool) -> Vec<Effect> {
        let Some(i) = self.chapter_index() else { return Vec::new() };
        if !force && !self.can_go_on() {
            let k = self.step().and_then(|s| s.key()).map(|k| k.to_string()).unwrap_or_default();
            let skip = pretty(&cx.keymap.label(Scope::Tour, SKIP));
            cx.status(Health::Unknown, format!("press {k} first to do this step (or {skip} to skip it)"));
            return Vec::new();
        }
        if self.progress.step + 1 < self.chapters[i].steps.len() {
            let s = self.progress.step + 1;
            self.go(i, s)
        } else {
            self.finish_chapter(i)
        }
    }

    fn previous(&mut self) -> Vec<Effect> {
        let Some(i) = self.chapter_index() else { return Vec::new() };
        match (self.progress.step, i) {
            (0, 0) => {
                self.contents = true;
                Vec::new()
            }
            (0, i) => {
                let last = self.chapters[i - 1].steps.len().saturating_sub(1);
                self.go(i - 1, last)
            }
            (s, i) => self.go(i, s - 1),
        }
    }

    /// Does the current step: a job that ends (and closes what it opened) when replaced or left.
    fn perform(&mut self, cx: &mut Cx) -> Vec<Effect> {
        let Some(step) = self.step().cloned() else { return Vec::new() };
        let Some(ctx) = cx.ctx else {
            cx.status(Health::Bad, "no AWS credentials yet: the tour's steps need them");
            return Vec::new();
        };
        if step.action.is_none() {
            return Vec::new();
        }
        self.run += 1;
        self.running = Some(cx.now);
        self.outcome = None;
        self.scroll = 0;
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        self.cancel = Some(cancel);
        let (run, ctx, settings, memory, may_change) = (self.run, ctx.clone(), cx.settings.clone(), self.memory.clone(), self.may_change);
        let job = Job::holding_sessions(move |reply| async move {
            let (stop, stop_rx) = tokio::sync::watch::channel(false);
            let mut work = Box::pin(crate::tour::lessons::perform(&ctx, &settings, &step, &memory, may_change, stop_rx));
            tokio::select! {
                out = &mut work => {
                    reply.send(TourMsg::Done(run, Box::new(out)));
                }
                // Replaced, left, or the TUI ends: the step closes what it opened, and is waited for.
                _ = async { tokio::select! { _ = reply.closed() => {}, _ = cancelled => {} } } => {
                    let _ = stop.send(true);
                    let _ = work.await;
                }
            }
        });
        vec![Effect::Job { to: Mode::Tour, job }]
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        if self.on_contents() {
            return match c {
                Some(Cmd::Up) => {
                    self.selected = self.selected.saturating_sub(1);
                    Vec::new()
                }
                Some(Cmd::Down) => {
                    self.selected = (self.selected + 1).min(self.chapters.len().saturating_sub(1));
                    Vec::new()
                }
                Some(Cmd::Right) if !self.chapters.is_empty() => self.start_selected(),
                Some(Cmd::Back) => self.leave(cx),
                _ => Vec::new(),
            };
        }
        match c {
            Some(Cmd::Right) => self.next(cx, false),
            Some(SKIP) => self.next(cx, true),
            Some(Cmd::Left) => self.previous(),
            Some(CONTENTS) => {
                self.contents = true;
                self.selected = self.chapter_index().unwrap_or(0);
                Vec::new()
            }
            Some(Cmd::Up) => {
                self.scroll = self.scroll.saturating_sub(1);
                Vec::new()
            }
            Some(Cmd::Down) => {
                let (body, _) = Tour::frame(cx.main);
                self.scroll = self.scroll.saturating_add(1).min(self.max_scroll(body));
                Vec::new()
            }
            Some(c @ (Cmd::PageDown | Cmd::PageUp)) => {
                let (body, _) = Tour::frame(cx.main);
                let page = self.step().map(|s| self.step_areas(s, body).1.height.saturating_sub(1).max(1)).unwrap_or(1);
                self.scroll = if c == Cmd::PageDown { self.scroll.saturating_add(page).min(self.max_scroll(body)) } else { self.scroll.saturating_sub(page) };
                Vec::new()
            }
            Some(Cmd::Back) => self.leave(cx),
            _ => Vec::new(),
        }
    }

    /// Starts the chosen chapter where it was left (or at its beginning).
    fn start_selected(&mut self) -> Vec<Effect> {
        let i = self.selected.min(self.chapters.len().saturating_sub(1));
        let step = if self.chapter_index() == Some(i) { self.progress.step } else { 0 };
        self.go(i, step)
    }

    /// Leaves: what a step opened is closed, the token forgotten, the place kept.
    fn leave(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.cancel = None;
        self.running = None;
        // The token (and results that may show its parts) leave memory with the tour.
        self.memory = Memory::default();
        self.done_steps.clear();
        self.outcome = None;
        cx.send(Internal::Focus(Mode::Normal));
        // A step may have changed the stack (the on-call chapter's rule): the lists show it now.
        cx.send(Internal::Command("refresh".into()));
        Vec::new()
    }

    fn on_done(&mut self, run: u64, out: Outcome, cx: &mut Cx) -> bool {
        if run != self.run || self.running.is_none() {
            return false;
        }
        self.running = None;
        self.cancel = None;
        if let Some(t) = &out.token {
            self.memory.token = Some(t.clone());
        }
        let what = self.step().map(|s| s.title.clone()).unwrap_or_default();
        cx.log(if out.done { Health::Ok } else { Health::Bad }, format!("tour: {what}: {}", if out.done { "done" } else { "did not work (see the tour)" }));
        self.outcome = Some(out);
        true
    }

    /// The buttons of the bottom row, laid out from the left of `row`.
    fn buttons(&self, vx_keys: &dyn Fn(Cmd) -> String, row: Rect) -> Vec<(Rect, Button, String)> {
        let mut items: Vec<(Button, String)> = Vec::new();
        if self.on_contents() {
            items.push((Button::Start, format!("{} start", vx_keys(Cmd::Right))));
            items.push((Button::Leave, format!("{} leave", vx_keys(Cmd::Back))));
        } else {
            if let Some((k, a)) = self.step().and_then(|s| Some((s.key()?, s.action?))) {
                items.push((Button::Do, format!("{k} {}", a.verb())));
            }
            items.push((Button::Back, format!("{} back", vx_keys(Cmd::Left))));
            items.push((Button::Next, format!("{} next", vx_keys(Cmd::Right))));
            items.push((Button::Skip, format!("{} skip", vx_keys(SKIP))));
            items.push((Button::Contents, format!("{} contents", vx_keys(CONTENTS))));
            items.push((Button::Leave, format!("{} leave", vx_keys(Cmd::Back))));
        }
        // Every button must fit (the mouse reaches each): a long verb gives way to "do it", said in full above.
        let width = |items: &[(Button, String)]| items.iter().map(|(_, l)| l.chars().count() as u16 + 3).sum::<u16>();
        if width(&items) > row.width
            && let Some((Button::Do, label)) = items.first_mut()
        {
            let k = label.split(' ').next().unwrap_or_default().to_string();
            *label = format!("{k} do it");
        }
        let mut x = row.x;
        let mut out = Vec::new();
        for (b, label) in items {
            let text = format!("[{label}]");
            let w = text.chars().count() as u16;
            if x + w > row.x + row.width {
                break;
            }
            out.push((Rect::new(x, row.y, w, 1), b, text));
            x += w + 1;
        }
        out
    }

    fn press(&mut self, b: Button, cx: &mut Cx) -> Vec<Effect> {
        match b {
            Button::Do => self.perform(cx),
            Button::Back => self.previous(),
            Button::Next => self.next(cx, false),
            Button::Skip => self.next(cx, true),
            Button::Contents => self.on_cmd(Some(CONTENTS), cx),
            Button::Leave => self.leave(cx),
            Button::Start => self.start_selected(),
        }
    }

    fn frame(area: Rect) -> (Rect, Rect) {
        let inner = Block::default().borders(Borders::ALL).inner(area);
        let [body, buttons] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        (body, buttons)
    }

    fn title(&self) -> String {
        match (self.contents, self.chapter_index()) {
            (false, Some(i)) => {
                let c = &self.chapters[i];
                format!(" Tour · {}/{} {} · step {}/{} ", i + 1, self.chapters.len(), crate::untrusted::line(&c.title), self.progress.step + 1, c.steps.len())
            }
            _ => " Tour · the zero-secret flow, on this stack ".to_string(),
        }
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let block = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(self.title(), th.title));
        f.render_widget(block, area);
        let (body, row) = Tour::frame(area);
        let key = |c: Cmd| pretty(&vx.keymap.label(Scope::Tour, c));
        let spans: Vec<Span> = self
            .buttons(&key, row)
            .into_iter()
            .flat_map(|(_, b, text)| {
                let style = match b {
                    Button::Do | Button::Start => th.selected,
                    Button::Next if self.can_go_on() => th.selected,
                    Button::Next => th.muted,
                    _ => th.key,
                };
                [Span::styled(text, style), Span::raw(" ")]
            })
            .collect();
        f.render_widget(Paragraph::new(Line::from(spans)), row);
        if let Some(e) = &self.error {
            f.render_widget(Paragraph::new(vec![Line::from(Span::styled(e.clone(), th.bad))]).wrap(Wrap { trim: false }), body);
            return;
        }
        if !self.loaded {
            f.render_widget(Paragraph::new(Line::from(Span::styled("reading the chapters…", th.muted))), body);
            return;
        }
        if self.on_contents() {
            self.draw_contents(vx, f, body);
        } else {
            self.draw_step(vx, f, body);
        }
    }

    fn draw_contents(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let finished = !self.chapters.is_empty() && self.chapters.iter().all(|c| self.progress.done.contains(&c.id));
        let mut lines = vec![
            Line::from(Span::styled(
                if finished {
                    "Tour complete: every chapter done. Choose one to see it again."
                } else if self.may_change {
                    "The sandbox: every step runs for real, on this machine."
                } else {
                    "Not the sandbox: steps that would change this stack are shown, not run."
                },
                th.muted,
            )),
            Line::from(""),
        ];
        for (i, c) in self.chapters.iter().enumerate() {
            let done = self.progress.done.contains(&c.id);
            let here = self.progress.chapter.as_deref() == Some(c.id.as_str());
            let mark = if done { "✓" } else if here { "…" } else { " " };
            let style = if i == self.selected { th.selected } else { Style::default() };
            lines.push(
                Line::from(vec![
                    Span::styled(format!("{} {} ", if i == self.selected { "▶" } else { " " }, mark), if done { th.ok } else { th.muted }),
                    Span::styled(format!("{}. {}", i + 1, crate::untrusted::line(&c.title)), th.key),
                    Span::styled(format!("  {} step{}", c.steps.len(), if c.steps.len() == 1 { "" } else { "s" }), th.muted),
                ])
                .style(style),
            );
        }
        f.render_widget(Paragraph::new(lines), area);
    }

    /// The row of the contents' first chapter, below the two lines of introduction.
    const CONTENTS_TOP: u16 = 2;

    /// The step's text, as drawn (the title first).
    fn step_text(&self, step: &Step) -> Vec<String> {
        std::iter::once(crate::untrusted::line(&step.title).into_owned())
            .chain(self.names.fill(&step.text).lines().map(|l| crate::untrusted::line(l).into_owned()))
            .collect()
    }

    /// Where the text goes and where the result goes (inside its border), in the step's `body`: side
    /// by side when wide, else the text as tall as it wraps (leaving the result four rows at least).
    fn step_areas(&self, step: &Step, body: Rect) -> (Rect, Rect, bool) {
        let wide = body.width >= 120;
        let [text_area, result_area] = if wide {
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body)
        } else {
            let need = wrapped_height(&self.step_text(step), body.width);
            // A step with nothing to run needs one line below its text, not a result box.
            let reserve = if step.action.is_some() { 5 } else { 2 };
            let text_h = need.min(body.height.saturating_sub(reserve)).max(3);
            Layout::vertical([Constraint::Length(text_h), Constraint::Min(1)]).areas(body)
        };
        let border = if wide { Borders::LEFT } else { Borders::TOP };
        (text_area, Block::default().borders(border).inner(result_area), wide)
    }

    /// How far the result scrolls: until its last wrapped line is at the bottom.
    fn max_scroll(&self, body: Rect) -> u16 {
        let (Some(step), Some(o)) = (self.step(), self.outcome.as_ref()) else { return 0 };
        let (_, inner, _) = self.step_areas(step, body);
        // Counted as ratatui wraps the rows it draws (a character textwrap and ratatui measure
        // differently would otherwise hide the last rows).
        let rows: Vec<String> = result_rows(o, inner.width).into_iter().map(|r| r.1).collect();
        wrapped_height(&rows, inner.width).saturating_sub(inner.height)
    }

    fn draw_step(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let Some(step) = self.step() else { return };
        let (text_area, inner, wide) = self.step_areas(step, area);
        let result_area = if wide { Rect { x: inner.x - 1, width: inner.width + 1, ..inner } } else { Rect { y: inner.y - 1, height: inner.height + 1, ..inner } };
        let mut text: Vec<Line> = Vec::new();
        for (i, l) in self.step_text(step).into_iter().enumerate() {
            text.push(if i == 0 { Line::from(Span::styled(l, th.table_header)) } else { Line::from(l) });
        }
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), text_area);
        let border = if wide { Borders::LEFT } else { Borders::TOP };
        let b = Block::default().borders(border).border_style(th.border).title(Span::styled(" what rdsdeck did ", th.muted));
        f.render_widget(b, result_area);
        let lines: Vec<Line> = match (&self.outcome, self.running, step.key(), step.action) {
            (_, Some(since), _, Some(a)) => vec![Line::from(Span::styled(format!("{} {}…", vx.spinner(since), a.verb()), th.accent))],
            (Some(o), _, _, _) => result_rows(o, inner.width)
                .into_iter()
                .map(|(tone, text)| {
                    let style = match tone {
                        None => th.warn,
                        Some(Tone::Plain) => Style::default(),
                        Some(Tone::Good) => th.ok,
                        Some(Tone::Bad) => th.bad,
                        Some(Tone::Muted) => th.muted,
                        Some(Tone::Focus) => th.accent,
                    };
                    Line::from(Span::styled(text, style))
                })
                .collect(),
            (None, None, Some(k), Some(a)) => {
                let shown = if a.changes_the_stack() && !self.may_change { " (shown, not run: this is not the sandbox)" } else { "" };
                vec![Line::from(vec![Span::raw("Press "), Span::styled(k.to_string(), th.key), Span::raw(format!(" to {}{shown}.", a.verb()))])]
            }
            _ => vec![Line::from(Span::styled(format!("Nothing to run here: read, then press {} for the next step.", pretty(&vx.keymap.label(Scope::Tour, Cmd::Right))), th.muted))],
        };
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((self.scroll, 0)), inner);
        // More above or below: said on the result's frame, with the keys that scroll.
        let below = self.scroll < self.max_scroll(area);
        if (below || self.scroll > 0) && inner.width > 20 {
            let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Tour, c));
            let mark = match (self.scroll > 0, below) {
                (true, true) => format!(" {} {} more ", k(Cmd::Up), k(Cmd::Down)),
                (false, true) => format!(" {} more below ", k(Cmd::Down)),
                _ => format!(" {} more above ", k(Cmd::Up)),
            };
            let w = mark.chars().count() as u16;
            let at = if wide {
                Rect { x: inner.x + inner.width.saturating_sub(w), y: inner.y + inner.height.saturating_sub(1), width: w.min(inner.width), height: 1 }
            } else {
                Rect { x: result_area.x + result_area.width.saturating_sub(w + 1), y: result_area.y, width: w.min(result_area.width), height: 1 }
            };
            f.render_widget(Paragraph::new(Span::styled(mark, th.accent)), at);
        }
    }

    fn hints(&self, vx: &ViewCx) -> String {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Tour, c));
        if self.on_contents() {
            format!(" {}{} choose · {} start · {} leave", k(Cmd::Up), k(Cmd::Down), k(Cmd::Right), k(Cmd::Back))
        } else {
            format!(
                " {} next · {} back · {} skip · {}{} {} scroll · {} contents · {} leave",
                k(Cmd::Right),
                k(Cmd::Left),
                k(SKIP),
                k(Cmd::Up),
                k(Cmd::Down),
                k(Cmd::PageDown),
                k(CONTENTS),
                k(Cmd::Back)
            )
        }
    }
}

impl View for Tour {
    fn covers_main(&self) -> bool {
        true
    }
    fn scope(&self) -> Scope {
        Scope::Tour
    }

    fn on_key(&mut self, key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.refresh(cx);
        // The step's own key first: the chapter chose it, free of the tour's.
        if let KeyCode::Char(c) = key.code
            && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            && !self.contents
            && self.step().and_then(|s| s.key()) == Some(c)
        {
            return self.perform(cx);
        }
        self.on_cmd(cmd, cx)
    }

    fn on_mouse(&mut self, m: MouseEvent, cx: &mut Cx) -> Vec<Effect> {
        self.refresh(cx);
        let (body, row) = Tour::frame(cx.main);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) if m.row == row.y => {
                let label = |c: Cmd| pretty(&cx.keymap.label(Scope::Tour, c));
                let hit = self.buttons(&label, row).into_iter().find(|(r, _, _)| m.column >= r.x && m.column < r.x + r.width).map(|(_, b, _)| b);
                match hit {
                    Some(b) => self.press(b, cx),
                    None => Vec::new(),
                }
            }
            MouseEventKind::Down(MouseButton::Left) if self.on_contents() => {
                let i = m.row.checked_sub(body.y + Tour::CONTENTS_TOP).map(usize::from);
                match i.filter(|i| *i < self.chapters.len()) {
                    // A click chooses; a click on the chosen one starts it.
                    Some(i) if i == self.selected => self.start_selected(),
                    Some(i) => {
                        self.selected = i;
                        Vec::new()
                    }
                    None => Vec::new(),
                }
            }
            MouseEventKind::ScrollDown => self.on_cmd(Some(Cmd::Down), cx),
            MouseEventKind::ScrollUp => self.on_cmd(Some(Cmd::Up), cx),
            _ => Vec::new(),
        }
    }

    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }

    fn footer(&self, vx: &ViewCx) -> Footer {
        Footer::Hints(self.hints(vx))
    }

    /// Reads the chapters and the saved place (a job), and the stack's names.
    fn open(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.refresh(cx);
        if self.loaded {
            return Vec::new();
        }
        let dir = crate::tour::user_dir(cx.settings.config_path.as_deref());
        let job = Job::new(move |reply| async move {
            let loaded = tokio::task::spawn_blocking(move || {
                let chapters = crate::tour::chapters(dir.as_deref());
                (chapters, Progress::load(crate::config::Config::state_dir().as_deref()))
            })
            .await;
            if let Ok((chapters, progress)) = loaded {
                reply.send(TourMsg::Loaded(chapters, progress));
            }
        });
        vec![Effect::Job { to: Mode::Tour, job }]
    }

    fn busy(&self) -> bool {
        self.running.is_some()
    }

    fn on_msg(&mut self, msg: Box<dyn std::any::Any + Send>, cx: &mut Cx) -> (bool, Vec<Effect>) {
        self.refresh(cx);
        match msg.downcast::<TourMsg>().map(|m| *m) {
            Ok(TourMsg::Loaded(chapters, progress)) => {
                self.loaded = true;
                match chapters {
                    Ok(c) => {
                        self.chapters = c;
                        self.progress = progress;
                        // Resume where the learner was, else the contents.
                        self.contents = self.chapter_index().is_none();
                        if let Some(i) = self.chapter_index() {
                            self.selected = i;
                            self.progress.step = self.progress.step.min(self.chapters[i].steps.len().saturating_sub(1));
                        }
                    }
                    Err(e) => self.error = Some(e),
                }
                (true, Vec::new())
            }
            Ok(TourMsg::Done(run, out)) => (self.on_done(run, *out, cx), Vec::new()),
            Err(_) => (false, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tour::lessons::Said;

    #[test]
    fn results_wrap_under_their_indent_and_long_words_are_cut() {
        let o = Outcome {
            done: false,
            lines: vec![
                Said(Tone::Muted, "    sg-1 allows tcp 3306 from the app host's group".into()),
                Said(Tone::Plain, "signed for node_user in us-east-1".into()),
                Said(Tone::Plain, "x".repeat(50)),
                Said(Tone::Plain, String::new()),
            ],
            token: None,
        };
        let rows = result_rows(&o, 24);
        // An indent that would leave less than half the width is not kept for the continuations.
        let deep = Outcome { done: true, lines: vec![Said(Tone::Plain, format!("{}a b c d e f g h i j k l m n", " ".repeat(14)))], token: None };
        assert!(result_rows(&deep, 24).iter().skip(1).all(|r| !r.1.starts_with(' ') && r.1.chars().count() <= 24));
        assert!(result_rows(&o, 0).iter().all(|r| r.1.chars().count() <= 1));
        let text: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(&text[..3], ["    sg-1 allows tcp 3306", "      from the app", "      host's group"], "{text:?}");
        assert_eq!(&text[3..5], ["signed for node_user in", "us-east-1"], "{text:?}");
        assert!(text[5..7].iter().all(|r| r.chars().all(|c| c == 'x')) && text[5].len() == 24, "{text:?}");
        assert!(rows.iter().all(|r| r.1.chars().count() <= 24), "{text:?}");
        // The empty line stays a line; the warning of a step not done has no tone of its own.
        assert_eq!(rows[8], (Some(Tone::Plain), String::new()));
        assert!(rows[9..].iter().all(|r| r.0.is_none()) && text[9].starts_with("This did not go"), "{text:?}");
    }
}
