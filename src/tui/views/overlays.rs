//! Overlays: help (built from the key map), the command palette, the detail
//! view and the proxy chooser.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::app::App;

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

pub fn help(app: &App, f: &mut Frame, area: Rect, scroll: u16) {
    let th = &app.theme;
    let mut lines = vec![Line::from(Span::styled("Keys", th.table_header))];
    for (_, name, desc, keys) in &app.keymap.bindings {
        let k = keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!("{k:>14}  "), th.key),
            Span::raw(desc.to_string()),
            Span::styled(format!("  [{name}]"), th.muted),
        ]));
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
        ("refresh · log · help · quit", ""),
    ] {
        lines.push(Line::from(vec![Span::styled(format!("{c:>28}  "), th.key), Span::raw(d)]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Keys can be changed in [keys] of config.toml, e.g. quit = \"ctrl-q\".", th.muted)));
    let width = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 2;
    let r = centered(area, width, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" Help — any key closes ", th.title));
    f.render_widget(Paragraph::new(lines).block(b).style(th.base).scroll((scroll, 0)), r);
}

pub fn detail(app: &App, f: &mut Frame, area: Rect, scroll: u16) {
    let th = &app.theme;
    f.render_widget(Clear, area);
    let total = app.detail.len();
    let title = format!(" {} — {}/{} ", app.detail_title, (scroll as usize + 1).min(total), total);
    let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(title, th.title));
    let lines: Vec<Line> = app
        .detail
        .iter()
        .map(|l| match l.split_once(": ") {
            Some((k, v)) if !k.starts_with(' ') && !k.contains(' ') => {
                Line::from(vec![Span::styled(format!("{k}: "), th.key), Span::raw(v.to_string())])
            }
            _ if l.starts_with("──") => Line::from(Span::styled(l.clone(), th.table_header)),
            _ => Line::from(l.clone()),
        })
        .collect();
    // Long values wrap instead of being cut at the border.
    f.render_widget(Paragraph::new(lines).block(b).style(th.base).wrap(Wrap { trim: false }).scroll((scroll, 0)), area);
}

pub fn palette(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let cands = app.palette_candidates();
    if cands.is_empty() || area.height < 3 {
        return;
    }
    let h = (cands.len() as u16 + 2).min(area.height);
    let r = Rect::new(area.x + 1, area.bottom().saturating_sub(h), area.width.saturating_sub(2).min(50), h);
    f.render_widget(Clear, r);
    let lines: Vec<Line> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| Line::from(Span::styled(format!(" {c} "), if i == app.palette_selected { th.selected } else { th.base })))
        .collect();
    let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" commands ", th.title));
    f.render_widget(Paragraph::new(lines).block(b), r);
}

pub fn choose_proxy(app: &App, f: &mut Frame, area: Rect, names: &[String], selected: usize) {
    let th = &app.theme;
    let mut lines = vec![Line::from(Span::styled("Several RDS Proxies: which one is the stack?", th.table_header))];
    for (i, n) in names.iter().enumerate() {
        lines.push(Line::from(Span::styled(format!(" {n} "), if i == selected { th.selected } else { th.base })));
    }
    lines.push(Line::from(Span::styled("↑↓ choose · Enter open · Esc cancel", th.muted)));
    let r = centered(area, 60, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" Choose a proxy ", th.title));
    f.render_widget(Paragraph::new(lines).block(b), r);
}
