//! `?` help: every mode's keys, read from the key map (so a rebinding shows
//! here), and the palette's commands. It scrolls; any other key closes it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{Cx, Effect, View, ViewCx, centered};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope};
use crate::tui::keymap::Def;

/// Its keys (rebindable under `[keys.help]`).
pub const KEYS: &[Def] = &[
    (Scope::Help, Cmd::Up, "up", "scroll up", &["up", "k"]),
    (Scope::Help, Cmd::Down, "down", "scroll down", &["down", "j"]),
    (Scope::Help, Cmd::PageUp, "page_up", "page up", &["pageup", "ctrl-b"]),
    (Scope::Help, Cmd::PageDown, "page_down", "page down", &["pagedown", "ctrl-f"]),
    (Scope::Help, Cmd::Quit, "quit", "quit rdsdeck", &["q"]),
];

/// The feature's state, as the registry names it.
pub type Feature = Help;

#[derive(Debug, Default)]
pub struct Help {
    pub scroll: u16,
}

impl Help {
    pub fn open(&mut self) {
        self.scroll = 0;
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) {
        match c {
            Some(Cmd::Down) => self.scroll = self.scroll.saturating_add(1),
            Some(Cmd::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Cmd::PageDown) => self.scroll = self.scroll.saturating_add(10),
            Some(Cmd::PageUp) => self.scroll = self.scroll.saturating_sub(10),
            Some(Cmd::Quit) => cx.send(Internal::Quit),
            _ => cx.send(Internal::Focus(Mode::Normal)),
        }
    }

    pub fn scroll_by(&mut self, d: isize) {
        self.scroll = (self.scroll as isize + d).max(0) as u16;
    }

    pub fn lines<'a>(vx: &ViewCx<'a>) -> Vec<Line<'a>> {
        let th = vx.theme;
        let mut lines = Vec::new();
        for &scope in Scope::ALL {
            if scope == Scope::Help {
                continue;
            }
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(Span::styled(format!("Keys · {}", scope.title()), th.table_header)));
            for b in vx.keymap.bindings.iter().filter(|b| b.scope == scope) {
                let k = vx.keymap.keys(scope, b.cmd).iter().map(|k| k.label()).collect::<Vec<_>>().join(" ");
                lines.push(Line::from(vec![Span::styled(format!("{k:>14}  "), th.key), Span::raw(b.desc.to_string()), Span::styled(format!("  [{}]", b.name), th.muted)]));
            }
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("Command palette (:)", th.table_header)));
        for (c, d) in [
            ("proxies, hosts, sg, params…", "jump to a resource kind"),
            ("overview", "the stack overview"),
            ("profile NAME", "switch AWS profile"),
            ("region NAME", "switch region"),
            ("stack NAME", "switch to a stack from the config"),
            ("proxy NAME", "centre the stack on another proxy"),
            ("theme NAME", "dark, light, high-contrast, or yours"),
            ("sql via direct|auto|NAME", "the SQL shell directly or through a forward"),
            ("sql · token · bootstrap · shell · forwards · doctor", "open that view"),
            ("refresh · log · help · quit", ""),
        ] {
            lines.push(Line::from(vec![Span::styled(format!("{c:>28}  "), th.key), Span::raw(d)]));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("Rebind keys in config.toml: [keys] quit = \"ctrl-q\"; a mode's under [keys.MODE], e.g. [keys.sql] run = \"f9\".", th.muted)));
        lines
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let lines = Help::lines(vx);
        let width = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 2;
        // Long lines wrap in a narrow terminal (nothing is cut off); the scroll stops at the end.
        let body = Paragraph::new(lines).style(th.base).wrap(Wrap { trim: false });
        let inner_w = width.min(area.width).saturating_sub(2).max(1);
        let rows = body.line_count(inner_w).min(u16::MAX as usize) as u16;
        let r = centered(area, width, rows.saturating_add(2));
        let scroll = self.scroll.min((rows + 2).saturating_sub(r.height));
        f.render_widget(Clear, r);
        let b = Block::default()
            .borders(Borders::ALL)
            .border_style(th.border_focus)
            .title(Span::styled(format!(" Help — {} scroll, any other key closes ", pretty_pair(vx)), th.title));
        f.render_widget(body.block(b).scroll((scroll, 0)), r);
    }
}

fn pretty_pair(vx: &ViewCx) -> String {
    let k = |c: Cmd| crate::tui::keymap::pretty(&vx.keymap.label(Scope::Help, c));
    format!("{}{}", k(Cmd::Up), k(Cmd::Down))
}

impl View for Help {
    fn scope(&self) -> Scope {
        Scope::Help
    }
    fn on_key(&mut self, _key: crossterm::event::KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx);
        Vec::new()
    }
    /// The whole screen: every mode's keys.
    fn draw(&self, vx: &ViewCx, f: &mut Frame, _main: Rect, screen: Rect) {
        self.draw_in(vx, f, screen)
    }
}
