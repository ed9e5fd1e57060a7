//! The resource browser: the overview, one list per kind (fuzzy filter, sort,
//! coalesced refreshes), the detail view of a resource, and the proxy chooser.

pub mod overview;
pub mod resources;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Cx, Effect, ViewCx, centered};
use crate::stack::{Health, Kind, KindResult, Resource};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::layout::tab_positions;
use crate::tui::table::TableView;

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

/// Several proxies: which one is the stack?
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Choose {
    pub names: Vec<String>,
    pub selected: usize,
}

#[derive(Debug)]
pub struct Browser {
    pub panes: BTreeMap<Kind, Pane>,
    /// 0 = overview, 1.. = `Kind::ALL[tab - 1]`.
    pub tab: usize,
    pub choose: Choose,
}

impl Default for Browser {
    fn default() -> Self {
        Browser { panes: Kind::ALL.iter().map(|k| (*k, Pane::default())).collect(), tab: 0, choose: Choose::default() }
    }
}

/// Why a pane has no items yet while its first fetch runs (what [`Browser::loaded_items`] says).
pub const STILL_LOADING: &str = "still loading";

/// The table body's height in the main area.
fn body_height(main: Rect) -> usize {
    main.height.saturating_sub(3) as usize
}

impl Browser {
    /// A new stack: every pane empty.
    pub fn reset(&mut self) {
        for p in self.panes.values_mut() {
            *p = Pane::default();
        }
    }

    pub fn current_kind(&self) -> Option<Kind> {
        self.tab.checked_sub(1).and_then(|i| Kind::ALL.get(i).copied())
    }

    pub fn pane(&self, k: Kind) -> &Pane {
        &self.panes[&k]
    }

    pub fn is_loading(&self) -> bool {
        self.panes.values().any(|p| p.loading_since.is_some())
    }

    /// The selected resource of the list on screen.
    pub fn selected(&self) -> Option<&Resource> {
        self.current_kind().and_then(|k| self.panes[&k].table.selected_item())
    }

    /// Items of a loaded pane, or why there are none ([`STILL_LOADING`] while the first fetch runs).
    pub fn loaded_items(&self, k: Kind) -> Result<&[Resource], String> {
        let p = self.pane(k);
        if p.loaded { Ok(p.table.items.as_slice()) } else { Err(p.error.clone().unwrap_or_else(|| STILL_LOADING.into())) }
    }

    pub fn set_tab(&mut self, tab: usize, main: Rect) {
        self.tab = tab.min(Kind::ALL.len());
        self.fix_scroll(main);
    }

    pub fn fix_scroll(&mut self, main: Rect) {
        if let Some(k) = self.current_kind()
            && let Some(p) = self.panes.get_mut(&k)
        {
            p.table.ensure_visible(body_height(main));
        }
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

    /// Coalesced: at most one fetch running and one queued per pane.
    pub fn request_fetch(&mut self, kind: Kind, cx: &Cx) -> Option<Effect> {
        let (Some(ctx), Some(loc)) = (cx.ctx, cx.located) else { return None };
        let pane = self.panes.get_mut(&kind)?;
        if pane.loading_since.is_some() {
            pane.queued = true;
            return None;
        }
        pane.loading_since = Some(cx.now);
        Some(Effect::Fetch { generation: cx.generation, ctx: ctx.clone(), loc: Box::new(loc.clone()), kind })
    }

    pub fn fetch_all(&mut self, cx: &Cx) -> Vec<Effect> {
        Kind::ALL.iter().filter_map(|k| self.request_fetch(*k, cx)).collect()
    }

    /// A kind's fetch finished.
    pub fn on_kind(&mut self, kind: Kind, result: KindResult, elapsed: Duration, cx: &mut Cx) -> Vec<Effect> {
        let pane = self.panes.get_mut(&kind).expect("every kind has a pane");
        pane.loading_since = None;
        pane.last_elapsed = Some(elapsed);
        match result {
            KindResult::Ok { items } => {
                let n = items.len();
                pane.table.set_items(items);
                pane.error = None;
                pane.loaded = true;
                cx.log(Health::Ok, format!("{}: {n} loaded in {} ms", kind.name(), elapsed.as_millis()));
            }
            KindResult::Error { error } => {
                pane.error = Some(error.clone());
                cx.log(Health::Bad, format!("{}: failed after {} ms: {error}", kind.name(), elapsed.as_millis()));
            }
        }
        let again = std::mem::take(&mut pane.queued);
        self.fix_scroll(cx.main);
        if matches!(kind, Kind::Host | Kind::Parameter) {
            cx.send(Internal::StackKnown);
        }
        if again { self.request_fetch(kind, cx).into_iter().collect() } else { Vec::new() }
    }

    /// The lists' actions (the main scope's navigation).
    pub fn on_main(&mut self, c: Cmd, cx: &mut Cx) {
        let h = body_height(cx.main);
        let kind = self.current_kind();
        let table = kind.and_then(|k| self.panes.get_mut(&k)).map(|p| &mut p.table);
        match c {
            Cmd::Filter => {
                if kind.is_some() {
                    cx.send(Internal::Focus(Mode::Filter));
                } else {
                    cx.status(Health::Unknown, "filter works on a resource list: Tab to one first");
                }
            }
            Cmd::Back => {
                if let Some(t) = table
                    && !t.filter.is_empty()
                {
                    t.set_filter("");
                } else {
                    cx.send(Internal::ClearStatus);
                }
            }
            Cmd::Open => self.open_detail(cx),
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
            Cmd::NextTab => self.set_tab((self.tab + 1) % (Kind::ALL.len() + 1), cx.main),
            Cmd::PrevTab => self.set_tab((self.tab + Kind::ALL.len()) % (Kind::ALL.len() + 1), cx.main),
            Cmd::Overview => self.set_tab(0, cx.main),
            Cmd::Sort | Cmd::SortReverse => {
                if let (Some(k), Some(t)) = (kind, table) {
                    if c == Cmd::Sort { t.cycle_sort(k.columns().len()) } else { t.reverse_sort() }
                    t.ensure_visible(h);
                }
            }
            _ => {}
        }
    }

    fn open_detail(&mut self, cx: &mut Cx) {
        let Some(k) = self.current_kind() else {
            cx.status(Health::Unknown, "select a resource list (Tab) to see details");
            return;
        };
        let Some(r) = self.panes[&k].table.selected_item() else { return };
        cx.send(Internal::Describe(Box::new(r.clone())));
    }

    /// Typing in the filter: printable keys edit it, the filter's actions keep or clear it.
    pub fn on_filter(&mut self, k: KeyEvent, c: Option<Cmd>, cx: &mut Cx) {
        let h = body_height(cx.main);
        let Some(kind) = self.current_kind() else {
            cx.send(Internal::Focus(Mode::Normal));
            return;
        };
        let t = &mut self.panes.get_mut(&kind).expect("pane").table;
        match (c, k.code) {
            (Some(Cmd::Back), _) => {
                t.set_filter("");
                cx.send(Internal::Focus(Mode::Normal));
            }
            (Some(Cmd::Open), _) => cx.send(Internal::Focus(Mode::Normal)),
            (Some(Cmd::Up), _) => t.move_by(-1),
            (Some(Cmd::Down), _) => t.move_by(1),
            (_, KeyCode::Backspace) => {
                let mut f = t.filter.clone();
                f.pop();
                t.set_filter(&f);
            }
            (_, KeyCode::Char(ch)) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                let f = format!("{}{ch}", t.filter);
                t.set_filter(&f);
            }
            _ => {}
        }
        t.ensure_visible(h);
    }

    /// Several proxies were found: the stack is the one chosen here.
    pub fn choose_among(&mut self, names: Vec<String>) {
        self.choose = Choose { names, selected: 0 };
    }

    pub fn on_choose(&mut self, c: Option<Cmd>, cx: &mut Cx) {
        let n = self.choose.names.len();
        match c {
            Some(Cmd::Up) => self.choose.selected = self.choose.selected.saturating_sub(1),
            Some(Cmd::Down) => self.choose.selected = (self.choose.selected + 1).min(n.saturating_sub(1)),
            Some(Cmd::Open) => {
                if let Some(name) = self.choose.names.get(self.choose.selected) {
                    cx.send(Internal::Focus(Mode::Normal));
                    cx.send(Internal::Command(format!("proxy {name}")));
                }
            }
            Some(Cmd::Back) => cx.send(Internal::Focus(Mode::Normal)),
            Some(Cmd::Quit) => cx.send(Internal::Quit),
            Some(Cmd::Palette) => cx.send(Internal::Focus(Mode::Palette)),
            _ => {}
        }
    }

    /// The wheel scrolls the list; a click picks a tab or a row (a second click opens it).
    pub fn on_mouse(&mut self, m: MouseEvent, tabs: Rect, cx: &mut Cx) {
        let main = cx.main;
        let h = body_height(main);
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if matches!(m.kind, MouseEventKind::ScrollDown) { 3 } else { -3 };
                if let Some(k) = self.current_kind() {
                    let t = &mut self.panes.get_mut(&k).expect("pane").table;
                    t.move_by(d);
                    t.ensure_visible(h);
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if m.row == tabs.y && tabs.height > 0 {
                    for (tab, range) in tab_positions(&self.tab_widths(), self.tab, tabs.width) {
                        if range.contains(&(m.column.saturating_sub(tabs.x))) {
                            self.set_tab(tab, main);
                        }
                    }
                } else if let Some(k) = self.current_kind() {
                    let body_top = main.y + 2;
                    if m.row >= body_top && m.row < main.bottom().saturating_sub(1) {
                        let t = &mut self.panes.get_mut(&k).expect("pane").table;
                        let row = t.offset + (m.row - body_top) as usize;
                        if row < t.visible.len() {
                            if t.selected == row {
                                self.open_detail(cx);
                            } else {
                                t.select(row);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The overview or the list on screen.
    pub fn draw(&self, vx: &ViewCx, stack: &overview::Stack, f: &mut Frame, area: Rect, filtering: bool) {
        let border = if vx.settings.production { vx.theme.bad } else { vx.theme.border };
        match self.current_kind() {
            None => overview::render(self, vx, stack, f, area, border),
            Some(k) => resources::render(self, vx, f, area, k, border, filtering),
        }
    }

    pub fn draw_tabs(&self, vx: &ViewCx, f: &mut Frame, r: Rect) {
        if r.height == 0 {
            return;
        }
        let th = vx.theme;
        let mut spans = Vec::new();
        let mut x = 0;
        let widths = self.tab_widths();
        let positions = tab_positions(&widths, self.tab, r.width.saturating_sub(1));
        let hidden_left = positions.first().is_some_and(|(t, _)| *t > 0);
        // More tabs to the right, or the last one shown is cut short.
        let hidden_right = positions.last().is_some_and(|(t, range)| *t < Kind::ALL.len() || range.end - range.start < widths[*t]);
        for (t, range) in positions {
            if range.start > x {
                spans.push(Span::raw(" ".repeat((range.start - x) as usize)));
            }
            let err = t > 0 && self.pane(Kind::ALL[t - 1]).error.is_some();
            let style = if t == self.tab {
                th.tab_active
            } else if err {
                th.bad
            } else {
                th.tab
            };
            spans.push(Span::styled(self.tab_title(t), style));
            x = range.end;
        }
        f.render_widget(Paragraph::new(Line::from(spans)), r);
        // Markers where tabs are scrolled out of sight.
        if hidden_left && r.width > 2 {
            f.render_widget(Paragraph::new(Span::styled("‹", th.accent)), Rect::new(r.x, r.y, 1, 1));
        }
        if hidden_right && r.width > 2 {
            f.render_widget(Paragraph::new(Span::styled("›", th.accent)), Rect::new(r.right() - 1, r.y, 1, 1));
        }
    }

    pub fn draw_choose(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let mut lines = vec![Line::from(Span::styled("Several RDS Proxies: which one is the stack?", th.table_header))];
        for (i, n) in self.choose.names.iter().enumerate() {
            lines.push(Line::from(Span::styled(format!(" {n} "), if i == self.choose.selected { th.selected } else { th.base })));
        }
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Choose, c));
        lines.push(Line::from(Span::styled(format!("{}{} choose · {} open · {} cancel", k(Cmd::Up), k(Cmd::Down), k(Cmd::Open), k(Cmd::Back)), th.muted)));
        let r = centered(area, 60, lines.len() as u16 + 2);
        f.render_widget(Clear, r);
        let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" Choose a proxy ", th.title));
        f.render_widget(Paragraph::new(lines).block(b), r);
    }

    /// The footer while filtering.
    pub fn filter_footer(&self, vx: &ViewCx) -> Line<'static> {
        let th = vx.theme;
        let f = self.current_kind().map(|k| self.pane(k).table.filter.clone()).unwrap_or_default();
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Filter, c));
        Line::from(vec![
            Span::styled(" /", th.key),
            Span::raw(f),
            Span::styled("▏", th.accent),
            Span::styled(format!("  {} keep · {} clear", k(Cmd::Open), k(Cmd::Back)), th.muted),
        ])
    }
}
