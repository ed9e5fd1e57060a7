//! Overlays: help (built from the key map), the command palette, the detail
//! view and the proxy chooser.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use secrecy::ExposeSecret;

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
        ("sql · token · bootstrap · shell · forwards", "open that view"),
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

pub fn token(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let Some(v) = &app.token else { return };
    let row = |k: &str, val: String| Line::from(vec![Span::styled(format!("{k:>14}  "), th.muted), Span::raw(val)]);
    let mut lines = vec![Line::from(Span::styled(format!("IAM auth token for {}@{}", v.request.username, v.target), th.table_header))];
    match (&v.token, &v.info, &v.error) {
        (_, _, Some(e)) => lines.push(Line::from(Span::styled(format!("✖ {e}"), th.bad))),
        (Some(tok), Some(i), _) => {
            let remaining = v
                .expires
                .map(|e| match e.duration_since(app.wall) {
                    Ok(d) => d.as_secs() as i64,
                    Err(e) => -(e.duration().as_secs() as i64),
                })
                .unwrap_or(0);
            let (style, state) = if remaining <= 0 {
                (th.bad, "EXPIRED — r signs a new one".to_string())
            } else {
                (if remaining < 120 { th.warn } else { th.ok }, format!("{}:{:02} left", remaining / 60, remaining % 60))
            };
            lines.push(row("host", format!("{}:{}", i.host, i.port)));
            lines.push(row("user", i.user.clone()));
            lines.push(row("region", i.region.clone()));
            lines.push(row("access key", format!("…{}", i.key_id_last4)));
            lines.push(row("session token", if i.session_token { "yes (temporary credentials)".into() } else { "no".into() }));
            lines.push(row("signed", i.signed_at.clone()));
            lines.push(Line::from(vec![
                Span::styled(format!("{:>14}  ", "expires"), th.muted),
                Span::raw(format!("{}  ", i.expires_at)),
                Span::styled(state, style),
            ]));
            lines.push(Line::from(""));
            let shown = if v.revealed {
                tok.expose_secret().to_string()
            } else {
                format!("{} ({} characters, hidden)", "•".repeat(24), tok.expose_secret().len())
            };
            lines.push(Line::from(Span::styled(shown, th.accent)));
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "A new connection needs a valid token; one already open outlives it.",
                th.muted,
            )));
        }
        _ => lines.push(Line::from(Span::styled("signing…", th.accent))),
    }
    lines.push(Line::from(Span::styled(
        format!("v {} · y copy{} · r re-sign · Esc close", if v.revealed { "hide" } else { "reveal" }, if v.copied { " (copied)" } else { "" }),
        th.key,
    )));
    let w = area.width.saturating_sub(4).min(100);
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner_w).max(1)).sum();
    let r = centered(area, w, (rows as u16 + 2).min(area.height));
    f.render_widget(Clear, r);
    let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" Token ", th.title));
    f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }), r);
}
