//! Rendering: every view draws from `App` alone; nothing here awaits or mutates.

mod bootstrap;
mod forwards;
mod overlays;
mod overview;
mod resources;
mod sql;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{App, Mode, Phase};
use super::layout::{layout, tab_positions};
use super::keymap::Cmd;
use crate::stack::{Health, Kind};

pub fn render(app: &App, f: &mut Frame) {
    let area = f.area();
    let th = &app.theme;
    f.render_widget(Block::default().style(th.base), area);
    let a = layout(area, app.settings.production, app.show_log);
    if let Some(b) = a.banner {
        let name = app.settings.stack_name.as_deref().unwrap_or("this stack");
        let text = format!(" ▲ PRODUCTION ▲  stack `{name}` — changes here affect production ");
        f.render_widget(Paragraph::new(center(&text, b.width)).style(th.banner), b);
    }
    render_header(app, f, a.header);
    render_tabs(app, f, a.tabs);
    let border = if app.settings.production { th.bad } else { th.border };
    match app.current_kind() {
        None => overview::render(app, f, a.main, border),
        Some(k) => resources::render(app, f, a.main, k, border),
    }
    if let Some(l) = a.log {
        render_log(app, f, l);
    }
    render_footer(app, f, a.footer);
    match &app.mode {
        Mode::Help { scroll } => overlays::help(app, f, area, *scroll),
        Mode::Detail { scroll } => overlays::detail(app, f, a.main, *scroll),
        Mode::Palette => overlays::palette(app, f, a.main),
        Mode::ChooseProxy { names, selected } => overlays::choose_proxy(app, f, a.main, names, *selected),
        Mode::Token => overlays::token(app, f, a.main),
        Mode::Sql => sql::render(app, f, a.main),
        Mode::Bootstrap => bootstrap::render(app, f, a.main),
        Mode::Forwards => forwards::render(app, f, a.main),
        Mode::Normal | Mode::Filter => {}
    }
}

fn center(s: &str, w: u16) -> String {
    let sw = unicode_width::UnicodeWidthStr::width(s) as u16;
    format!("{}{s}", " ".repeat(w.saturating_sub(sw) as usize / 2))
}

fn render_header(app: &App, f: &mut Frame, r: Rect) {
    if r.height == 0 {
        return;
    }
    let th = &app.theme;
    let (profile, region) = match &app.ctx {
        Some(c) => (c.profile.clone(), c.region.clone()),
        None => (
            app.settings.aws.profile.clone().unwrap_or_else(|| "default".into()),
            app.settings.aws.region.clone().unwrap_or_else(|| "?".into()),
        ),
    };
    let who = match &app.identity {
        Some(Ok(i)) => format!("{} · {}", i.account, i.arn.rsplit(':').next().unwrap_or(&i.arn)),
        Some(Err(_)) => "identity unknown".into(),
        None => "…".into(),
    };
    let stack = app
        .located
        .as_ref()
        .and_then(|l| l.proxy.clone())
        .or_else(|| app.settings.stack_name.clone())
        .unwrap_or_else(|| "—".into());
    // Everything on the header bar uses the header's colours (themes pick
    // those to contrast with each other); emphasis is by weight only.
    let bold = th.header.add_modifier(Modifier::BOLD);
    let sep = || Span::styled(" │ ", th.header);
    let mut spans = vec![
        Span::styled(" rdsdeck", bold),
        sep(),
        Span::styled(stack, bold),
        sep(),
        Span::styled(format!("profile {profile}"), th.header),
        sep(),
        Span::styled(region, th.header),
        sep(),
        Span::styled(who, th.header),
    ];
    if app.settings.read_only {
        spans.push(sep());
        spans.push(Span::styled(" READ-ONLY ", bold.add_modifier(Modifier::REVERSED)));
    }
    if let Some(e) = app.ctx.as_ref().and_then(|c| c.endpoint.clone()) {
        spans.push(sep());
        spans.push(Span::styled(format!("endpoint {e}"), bold));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(th.header), r);
}

fn render_tabs(app: &App, f: &mut Frame, r: Rect) {
    if r.height == 0 {
        return;
    }
    let th = &app.theme;
    let mut spans = Vec::new();
    let mut x = 0;
    let positions = tab_positions(&app.tab_widths(), app.tab, r.width.saturating_sub(1));
    let hidden_left = positions.first().is_some_and(|(t, _)| *t > 0);
    let hidden_right = positions.last().is_some_and(|(t, _)| *t < Kind::ALL.len());
    for (t, range) in positions {
        if range.start > x {
            spans.push(Span::raw(" ".repeat((range.start - x) as usize)));
        }
        let err = t > 0 && app.pane(Kind::ALL[t - 1]).error.is_some();
        let style = if t == app.tab {
            th.tab_active
        } else if err {
            th.bad
        } else {
            th.tab
        };
        spans.push(Span::styled(app.tab_title(t), style));
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

fn render_log(app: &App, f: &mut Frame, r: Rect) {
    let th = &app.theme;
    let h = r.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = app
        .log
        .iter()
        .rev()
        .take(h)
        .rev()
        .map(|l| {
            Line::from(vec![
                Span::styled(format!("{} ", l.at), th.muted),
                Span::styled(format!("{} ", l.level.symbol()), th.health(l.level)),
                Span::raw(l.text.clone()),
            ])
        })
        .collect();
    let block = Block::default().borders(Borders::ALL).border_style(th.border).title(Span::styled(" log ", th.title));
    f.render_widget(Paragraph::new(lines).block(block), r);
}

fn render_footer(app: &App, f: &mut Frame, r: Rect) {
    let th = &app.theme;
    let line = match &app.mode {
        Mode::Filter => {
            let f = app.current_kind().map(|k| app.pane(k).table.filter.clone()).unwrap_or_default();
            Line::from(vec![Span::styled(" /", th.key), Span::raw(f), Span::styled("▏", th.accent), Span::styled("  Enter keep · Esc clear", th.muted)])
        }
        Mode::Palette => Line::from(vec![
            Span::styled(" :", th.key),
            Span::raw(app.palette.clone()),
            Span::styled("▏", th.accent),
            Span::styled("  Tab complete · Enter run · Esc cancel", th.muted),
        ]),
        _ => {
            if let Some((h, s)) = &app.status {
                Line::from(Span::styled(format!(" {s}"), if *h == Health::Unknown { th.base } else { th.health(*h) }))
            } else {
                let mut spans = Vec::new();
                if matches!(app.mode, Mode::Sql | Mode::Bootstrap | Mode::Forwards) {
                    let hint = match app.mode {
                        Mode::Sql => " F5/C-r run · Esc cancel a query, else close · Tab editor/results · C-p/C-n history · C-e export CSV",
                        Mode::Bootstrap => " r run all · o run the selected step · c resume · d dry run on/off · j/k select · Esc back",
                        _ => " n new forward to the DB (through the selected or only host) · s stop · j/k select · Esc back",
                    };
                    f.render_widget(Clear, r);
                    f.render_widget(Paragraph::new(Span::styled(hint, th.muted)).style(th.base), r);
                    return;
                }
                let hints: &[(Cmd, &str)] = match app.mode {
                    Mode::Detail { .. } => &[(Cmd::Back, "back"), (Cmd::Down, "scroll"), (Cmd::Bottom, "end"), (Cmd::Help, "help")],
                    _ => &[
                        (Cmd::Help, "help"),
                        (Cmd::Palette, "cmd"),
                        (Cmd::Filter, "filter"),
                        (Cmd::NextTab, "next"),
                        (Cmd::Open, "detail"),
                        (Cmd::Sort, "sort"),
                        (Cmd::Refresh, "refresh"),
                        (Cmd::ToggleLog, "log"),
                        (Cmd::Quit, "quit"),
                    ],
                };
                for (c, label) in hints {
                    spans.push(Span::styled(format!(" {}", app.keymap.label(*c)), th.key));
                    spans.push(Span::styled(format!(" {label} "), th.muted));
                }
                if let Phase::Failed(e) = &app.phase {
                    spans.insert(0, Span::styled(format!(" {} ", first_words(e, 40)), th.bad));
                }
                Line::from(spans)
            }
        }
    };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(line).style(th.base), r);
}

fn first_words(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}
