//! The detail view: one resource as the AWS API describes it (the field names `aws … describe-…`
//! prints), as YAML (as k9s shows a resource) or JSON, highlighted, foldable section by section, and
//! copyable whole. When AWS's response could not be read, rdsdeck's own reading of the resource is
//! shown instead, and the title says so.

use crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeSet;

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::stack::api::{self, Format};
use crate::stack::{Health, Resource};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Def, Scope, pretty};
use crate::tui::theme::Theme;

/// Fold or unfold the section at the cursor.
const FOLD: Cmd = Cmd::Own("fold");
/// Fold every top section, or unfold all.
const FOLD_ALL: Cmd = Cmd::Own("fold_all");
/// YAML or JSON.
const FORMAT: Cmd = Cmd::Own("format");

/// Its keys (rebindable under `[keys.detail]`).
pub const KEYS: &[Def] = &[
    (Scope::Detail, Cmd::Back, "back", "close the detail view", &["esc", "enter", "d"]),
    (Scope::Detail, Cmd::Up, "up", "previous line", &["up", "k"]),
    (Scope::Detail, Cmd::Down, "down", "next line", &["down", "j"]),
    (Scope::Detail, Cmd::PageUp, "page_up", "page up", &["pageup", "ctrl-b"]),
    (Scope::Detail, Cmd::PageDown, "page_down", "page down", &["pagedown", "ctrl-f"]),
    (Scope::Detail, Cmd::Top, "top", "first line", &["g", "home"]),
    (Scope::Detail, Cmd::Bottom, "bottom", "last line", &["G", "end"]),
    (Scope::Detail, FOLD, "fold", "fold or unfold the section at the cursor", &["z", "space"]),
    (Scope::Detail, FOLD_ALL, "fold_all", "fold every top section, or unfold all", &["Z"]),
    (Scope::Detail, FORMAT, "format", "YAML or JSON (as the AWS CLI prints it)", &["J"]),
    (Scope::Detail, Cmd::Copy, "copy", "copy the whole document (OSC 52)", &["y"]),
    (Scope::Detail, Cmd::Help, "help", "help", &["?", "f1"]),
    (Scope::Detail, Cmd::Quit, "quit", "quit rdsdeck", &["q"]),
];

/// The feature's state, as the registry names it.
pub type Feature = Detail;

#[derive(Debug, Default)]
pub struct Detail {
    title: String,
    /// The object shown: AWS's, else rdsdeck's own reading of the resource.
    doc: Value,
    from_api: bool,
    format: Format,
    /// The document's text, a line each, and each line's indentation.
    lines: Vec<String>,
    indent: Vec<usize>,
    /// Lines whose section is folded.
    folded: BTreeSet<usize>,
    /// The line at the cursor and the first line on screen (both visible lines).
    cursor: usize,
    top: usize,
}

impl Detail {
    /// Shows `r` (the format stays what the user chose last).
    pub fn show(&mut self, r: &Resource) {
        self.title = format!("{} › {}", r.kind.name(), r.name);
        self.from_api = r.api.is_some();
        self.doc = r.api.clone().unwrap_or_else(|| Value::Object(r.attributes.clone()));
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let text = api::text(&self.doc, self.format);
        self.lines = text.lines().map(str::to_string).collect();
        self.indent = self.lines.iter().map(|l| l.len() - l.trim_start_matches(' ').len()).collect();
        self.folded.clear();
        self.cursor = 0;
        self.top = 0;
    }

    /// The end (exclusive) of line `i`'s section: the lines below it that are indented deeper, and
    /// in YAML the `- ` items of a key, which sit at the key's own indentation.
    fn section_end(&self, i: usize) -> usize {
        let key = self.lines[i].ends_with(':');
        let mut j = i + 1;
        while j < self.lines.len() && (self.indent[j] > self.indent[i] || (key && self.indent[j] == self.indent[i] && self.lines[j][self.indent[j]..].starts_with("- "))) {
            j += 1;
        }
        // JSON: the closing bracket stays on screen.
        j
    }

    fn foldable(&self, i: usize) -> bool {
        self.section_end(i) > i + 1
    }

    /// The lines on screen, in order (folded sections' insides left out).
    fn visible(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.lines.len());
        let mut i = 0;
        while i < self.lines.len() {
            out.push(i);
            i = if self.folded.contains(&i) { self.section_end(i) } else { i + 1 };
        }
        out
    }

    /// A line as drawn (a folded one says how much it hides).
    fn shown(&self, i: usize) -> String {
        if self.folded.contains(&i) {
            format!("{}  ▸ {} lines", self.lines[i], self.section_end(i) - i - 1)
        } else {
            self.lines[i].clone()
        }
    }

    fn rows(&self, i: usize, width: u16) -> usize {
        Paragraph::new(self.shown(i)).wrap(Wrap { trim: false }).line_count(width).max(1)
    }

    /// Moves the cursor `by` visible lines and keeps it on screen in `area`.
    fn move_by(&mut self, by: isize, area: Rect) {
        let vis = self.visible();
        let at = vis.iter().position(|&l| l == self.cursor).unwrap_or(0) as isize;
        let to = (at + by).clamp(0, vis.len().saturating_sub(1) as isize) as usize;
        self.cursor = vis.get(to).copied().unwrap_or(0);
        self.follow(area);
    }

    fn follow(&mut self, area: Rect) {
        let (width, height) = (area.width.saturating_sub(2).max(1), area.height.saturating_sub(2).max(1) as usize);
        let vis = self.visible();
        let cur = vis.iter().position(|&l| l == self.cursor).unwrap_or(0);
        let mut top = vis.iter().position(|&l| l == self.top).unwrap_or(0).min(cur);
        while top < cur && vis[top..=cur].iter().map(|&l| self.rows(l, width)).sum::<usize>() > height {
            top += 1;
        }
        self.top = vis.get(top).copied().unwrap_or(0);
    }

    fn fold(&mut self, area: Rect) {
        let i = self.cursor;
        if i >= self.lines.len() {
            return;
        }
        if self.folded.contains(&i) {
            self.folded.remove(&i);
        } else if self.foldable(i) {
            self.folded.insert(i);
        } else if let Some(p) = (0..i).rev().find(|&p| self.indent[p] < self.indent[i] && self.foldable(p) && self.section_end(p) > i) {
            // on a leaf: fold the section it is in
            self.folded.insert(p);
            self.cursor = p;
        }
        self.follow(area);
    }

    fn fold_all(&mut self, area: Rect) {
        if !self.folded.is_empty() {
            self.folded.clear();
        } else {
            let n = self.lines.len();
            // every outermost section, but not the whole document (JSON's braces)
            let sections: Vec<usize> = (0..n).filter(|&i| self.foldable(i) && !(i == 0 && self.section_end(i) + 1 >= n)).collect();
            if let Some(min) = sections.iter().map(|&i| self.indent[i]).min() {
                self.folded.extend(sections.into_iter().filter(|&i| self.indent[i] == min));
            }
            self.cursor = self.visible().into_iter().rev().find(|&l| l <= self.cursor).unwrap_or(0);
        }
        self.top = self.top.min(self.cursor);
        self.follow(area);
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        let area = cx.main;
        let page = area.height.saturating_sub(3).max(1) as isize;
        match c {
            Some(Cmd::Down) => self.move_by(1, area),
            Some(Cmd::Up) => self.move_by(-1, area),
            Some(Cmd::PageDown) => self.move_by(page, area),
            Some(Cmd::PageUp) => self.move_by(-page, area),
            Some(Cmd::Top) => self.move_by(-(self.lines.len() as isize), area),
            Some(Cmd::Bottom) => self.move_by(self.lines.len() as isize, area),
            Some(FOLD) => self.fold(area),
            Some(FOLD_ALL) => self.fold_all(area),
            Some(FORMAT) => {
                self.format = if self.format == Format::Yaml { Format::Json } else { Format::Yaml };
                self.rebuild();
            }
            Some(Cmd::Copy) => {
                cx.status(Health::Ok, format!("copied the {} document, {} lines (OSC 52)", self.format.name(), self.lines.len()));
                return vec![Effect::Copy(SecretString::from(api::text(&self.doc, self.format)))];
            }
            Some(Cmd::Quit) => cx.send(Internal::Quit),
            Some(Cmd::Back) => cx.send(Internal::Focus(Mode::Normal)),
            Some(Cmd::Help) => cx.send(Internal::Focus(Mode::Help)),
            _ => {}
        }
        Vec::new()
    }
}

/// A line of YAML or JSON, its key, strings and other scalars in their own colours.
fn highlight(line: &str, th: &Theme) -> Vec<Span<'static>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[indent..];
    let mut spans = vec![Span::raw(line[..indent].to_string())];
    if let Some(r) = rest.strip_prefix("- ") {
        spans.push(Span::styled("- ", th.muted));
        rest = r;
    }
    let key_end = if let Some(quoted) = rest.strip_prefix('"') {
        // JSON's "Key": (a key's quotes are never escaped in AWS's names)
        quoted.find("\":").map(|e| e + 2)
    } else {
        rest.find(": ").or_else(|| rest.ends_with(':').then(|| rest.len() - 1)).filter(|&e| !rest[..e].contains(' ') || rest.starts_with('\''))
    };
    if let Some(e) = key_end {
        spans.push(Span::styled(rest[..e + 1].to_string(), th.key));
        rest = &rest[e + 1..];
    }
    let value = rest.trim_end_matches(',');
    let trailing = &rest[value.len()..];
    let v = value.trim_start();
    let lead = &value[..value.len() - v.len()];
    let style = match v {
        "" | "{" | "}" | "[" | "]" | "{}" | "[]" | "[{" => th.muted,
        "true" | "false" | "null" | "~" => th.accent,
        _ if v.parse::<f64>().is_ok() => th.accent,
        _ => th.base,
    };
    spans.push(Span::raw(lead.to_string()));
    spans.push(Span::styled(v.to_string(), style));
    spans.push(Span::styled(trailing.to_string(), th.muted));
    spans
}

impl View for Detail {
    fn scope(&self) -> Scope {
        Scope::Detail
    }

    fn covers_main(&self) -> bool {
        true
    }

    fn on_key(&mut self, _key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx)
    }

    fn on_mouse(&mut self, m: MouseEvent, cx: &mut Cx) -> Vec<Effect> {
        match m.kind {
            MouseEventKind::ScrollDown => self.move_by(3, cx.main),
            MouseEventKind::ScrollUp => self.move_by(-3, cx.main),
            _ => {}
        }
        Vec::new()
    }

    fn footer(&self, vx: &ViewCx) -> Footer {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Detail, c));
        Footer::Hints(format!(
            " {} fold · {} fold all · {} {} · {} copy · {}{} move · {} back",
            k(FOLD),
            k(FOLD_ALL),
            k(FORMAT),
            if self.format == Format::Yaml { "JSON" } else { "YAML" },
            k(Cmd::Copy),
            k(Cmd::Up),
            k(Cmd::Down),
            k(Cmd::Back)
        ))
    }

    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        let th = vx.theme;
        let vis = self.visible();
        let source = if self.from_api { self.format.name().to_string() } else { format!("{} · rdsdeck's reading: AWS's response could not be read", self.format.name()) };
        let title = format!(" {} · {source} · {}/{} ", self.title, self.cursor + 1, self.lines.len());
        let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(title, th.title));
        let top = vis.iter().position(|&l| l == self.top).unwrap_or(0);
        let height = main.height.saturating_sub(2) as usize;
        let lines: Vec<Line> = vis[top..]
            .iter()
            .take(height)
            .map(|&i| {
                let mut spans = highlight(&self.lines[i], th);
                if self.folded.contains(&i) {
                    spans.push(Span::styled(format!("  ▸ {} lines", self.section_end(i) - i - 1), th.muted));
                }
                let line = Line::from(spans);
                if i == self.cursor { line.patch_style(th.selected) } else { line }
            })
            .collect();
        f.render_widget(Paragraph::new(lines).block(b).style(th.base).wrap(Wrap { trim: false }), main);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Kind;
    use serde_json::json;

    fn detail(doc: Value, format: Format) -> Detail {
        let mut r = Resource::new(Kind::Proxy, "arn", "p");
        r.api = Some(doc);
        let mut d = Detail { format, ..Detail::default() };
        d.show(&r);
        d
    }

    const AREA: Rect = Rect { x: 0, y: 0, width: 80, height: 24 };

    #[test]
    fn a_yaml_key_folds_its_list_items_and_unfolds() {
        let mut d = detail(json!({"Auth": [{"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED"}], "DBProxyName": "p"}), Format::Yaml);
        assert_eq!(d.lines, ["Auth:", "- AuthScheme: SECRETS", "  IAMAuth: REQUIRED", "DBProxyName: p"]);
        d.fold(AREA);
        assert_eq!(d.visible(), [0, 3]);
        assert_eq!(d.shown(0), "Auth:  ▸ 2 lines");
        d.fold(AREA);
        assert_eq!(d.visible(), [0, 1, 2, 3]);
        // on a leaf, fold folds the section it is in, and the cursor goes to its head
        d.move_by(2, AREA);
        assert_eq!(d.cursor, 2);
        d.fold(AREA);
        assert_eq!((d.cursor, d.visible()), (1, vec![0, 1, 3]));
    }

    #[test]
    fn json_folds_keep_the_closing_bracket_and_fold_all_spares_the_root() {
        let mut d = detail(json!({"A": {"B": 1}, "C": [1, 2]}), Format::Json);
        assert_eq!(d.lines.first().map(String::as_str), Some("{"));
        d.fold_all(AREA);
        let shown: Vec<String> = d.visible().into_iter().map(|i| d.shown(i)).collect();
        assert_eq!(shown, ["{", "  \"A\": {  ▸ 1 lines", "  },", "  \"C\": [  ▸ 2 lines", "  ]", "}"]);
        d.fold_all(AREA);
        assert!(d.folded.is_empty());
    }

    #[test]
    fn the_cursor_stays_on_screen_as_it_moves() {
        let doc = Value::Object((0..100).map(|i| (format!("K{i:03}"), Value::from(i))).collect());
        let mut d = detail(doc, Format::Yaml);
        d.move_by(50, AREA);
        let vis = d.visible();
        let (top, cur) = (vis.iter().position(|&l| l == d.top).unwrap(), vis.iter().position(|&l| l == d.cursor).unwrap());
        assert!(cur - top < 22 && cur >= top, "top {top} cursor {cur}");
        d.move_by(-49, AREA);
        assert_eq!(d.top, d.cursor);
    }

    #[test]
    fn an_empty_document_neither_panics_nor_moves() {
        let mut d = Detail::default();
        d.move_by(5, AREA);
        d.fold(AREA);
        d.fold_all(AREA);
        assert_eq!((d.cursor, d.top), (0, 0));
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let th = Theme::load("dark", None, false).unwrap();
        for l in ["  \"DBProxyName\": \"p\",", "- Key: Name", "Port: 3306", "  ]", "IAMAuth: REQUIRED", "'a b': c"] {
            let text: String = highlight(l, &th).iter().map(|s| s.content.as_ref()).collect();
            assert_eq!(text, l);
        }
    }
}
