//! The command palette (`:`): the command language, completion, and the line
//! that `App` runs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::aws::REGIONS;
use crate::stack::{Health, Kind};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::keymap::Def;

/// Its keys (rebindable under `[keys.palette]`).
pub const KEYS: &[Def] = &[
    (Scope::Palette, Cmd::Run, "run", "run the command", &["enter"]),
    (Scope::Palette, Cmd::Complete, "complete", "complete the selected candidate", &["tab"]),
    (Scope::Palette, Cmd::Up, "up", "previous candidate", &["up"]),
    (Scope::Palette, Cmd::Down, "down", "next candidate", &["down"]),
    (Scope::Palette, Cmd::Back, "back", "cancel", &["esc"]),
];

/// Verbs that take no argument.
pub const VERBS: [&str; 11] = ["overview", "refresh", "log", "help", "quit", "sql", "token", "bootstrap", "shell", "forwards", "q"];
/// Verbs that take a name.
pub const NAMED: [&str; 5] = ["profile", "region", "stack", "proxy", "theme"];

/// What the arguments can be completed from (read once by `App`, never from disk while typing).
#[derive(Debug, Default, Clone)]
pub struct Completions {
    pub profiles: Vec<String>,
    pub themes: Vec<String>,
    pub stacks: Vec<String>,
    pub proxies: Vec<String>,
    /// Running forwards, then saved ones.
    pub forwards: Vec<String>,
}

/// The feature's state, as the registry names it.
pub type Feature = Palette;

#[derive(Debug, Default)]
pub struct Palette {
    pub input: String,
    pub selected: usize,
    /// What arguments complete from, as of when the palette opened.
    pub completions: Completions,
}

/// Whether `line` is a command (and if not, why).
pub fn parse_command(line: &str) -> Result<(), String> {
    let (verb, arg) = line.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((line, ""));
    match verb {
        v if VERBS.contains(&v) || super::OPENERS.iter().any(|o| o.1 == v) => Ok(()),
        v if NAMED.contains(&v) && !arg.is_empty() => Ok(()),
        v if NAMED.contains(&v) => Err(format!("`{verb}` needs a name, e.g. :{verb} NAME")),
        v if Kind::parse(v).is_some() => Ok(()),
        _ => Err(format!("unknown command `{line}`: try a kind (proxies, hosts…), profile, region, stack, proxy, theme, refresh, sql, token, bootstrap, shell, forwards, doctor")),
    }
}

impl Palette {
    pub fn open(&mut self, completions: Completions) {
        self.input.clear();
        self.selected = 0;
        self.completions = completions;
    }

    /// Completions for the current input.
    pub fn candidates(&self) -> Vec<String> {
        let c = &self.completions;
        let input = self.input.trim_start().to_lowercase();
        let mut all: Vec<String> = vec!["overview".into()];
        all.extend(Kind::ALL.iter().map(|k| k.name().to_string()));
        all.extend(VERBS.iter().filter(|v| **v != "q").map(|v| v.to_string()));
        all.extend(super::OPENERS.iter().map(|o| o.1.to_string()));
        let (verb, arg) = input.split_once(' ').unwrap_or((input.as_str(), ""));
        let args: Vec<String> = match verb {
            "profile" => c.profiles.clone(),
            "sql" => ["via direct".to_string(), "via auto".to_string()].into_iter().chain(c.forwards.iter().map(|n| format!("via {n}"))).collect(),
            "region" => REGIONS.iter().map(|s| s.to_string()).collect(),
            "stack" => c.stacks.clone(),
            "proxy" => c.proxies.clone(),
            "theme" => c.themes.clone(),
            _ => Vec::new(),
        };
        if input.contains(' ') {
            let mut seen = std::collections::BTreeSet::new();
            return args
                .into_iter()
                .filter(|a| a.to_lowercase().starts_with(arg.trim()) && seen.insert(a.clone()))
                .map(|a| format!("{verb} {a}"))
                .take(8)
                .collect();
        }
        all.extend(NAMED.iter().map(|v| format!("{v} ")));
        let mut v: Vec<String> = all.iter().filter(|c| c.starts_with(&input)).cloned().collect();
        for k in Kind::ALL {
            if k.aliases().iter().any(|a| a.starts_with(&input)) && !v.iter().any(|c| c == k.name()) && !input.is_empty() {
                v.push(k.name().to_string());
            }
        }
        v.truncate(8);
        v
    }

    fn on_key_in(&mut self, k: KeyEvent, c: Option<Cmd>, cx: &mut Cx) {
        match (c, k.code) {
            (Some(Cmd::Back), _) => cx.send(Internal::Focus(Mode::Normal)),
            (Some(Cmd::Up), _) => self.selected = self.selected.saturating_sub(1),
            (Some(Cmd::Down), _) => {
                let n = self.candidates().len();
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
            }
            (Some(Cmd::Complete), _) => {
                if let Some(c) = self.candidates().get(self.selected) {
                    self.input = c.clone();
                    self.selected = 0;
                }
            }
            (Some(Cmd::Run), _) => {
                cx.send(Internal::Focus(Mode::Normal));
                let input = self.input.trim().to_string();
                if input.is_empty() {
                    return;
                }
                let line = if parse_command(&input).is_ok() {
                    input
                } else {
                    self.candidates().get(self.selected).cloned().unwrap_or(input)
                };
                match parse_command(&line) {
                    Ok(()) => cx.send(Internal::Command(line)),
                    Err(e) => cx.status(Health::Bad, e),
                }
            }
            (_, KeyCode::Backspace) => {
                self.input.pop();
                self.selected = 0;
            }
            (_, KeyCode::Char(ch)) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(ch);
                self.selected = 0;
            }
            _ => {}
        }
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let cands = self.candidates();
        // Inside the main pane's frame: above its bottom border, right of its left one.
        let h = (cands.len() as u16 + 2).min(area.height.saturating_sub(2));
        if cands.is_empty() || h < 3 {
            return;
        }
        let r = Rect::new(area.x + 1, area.bottom().saturating_sub(h + 1), area.width.saturating_sub(2).min(50), h);
        f.render_widget(Clear, r);
        let lines: Vec<Line> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| Line::from(Span::styled(format!(" {c} "), if i == self.selected { th.selected } else { th.base })))
            .collect();
        let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" commands ", th.title));
        f.render_widget(Paragraph::new(lines).block(b), r);
    }

    fn input_line(&self, vx: &ViewCx) -> Line<'static> {
        let th = vx.theme;
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Palette, c));
        Line::from(vec![
            Span::styled(" :", th.key),
            Span::raw(self.input.clone()),
            Span::styled("▏", th.accent),
            Span::styled(format!("  {} complete · {} run · {} cancel", k(Cmd::Complete), k(Cmd::Run), k(Cmd::Back)), th.muted),
        ])
    }
}

impl View for Palette {
    fn scope(&self) -> Scope {
        Scope::Palette
    }
    fn on_key(&mut self, key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_key_in(key, cmd, cx);
        Vec::new()
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &ViewCx) -> Footer {
        Footer::Input(self.input_line(vx))
    }
}
