//! The frame: the layout, the shared header, the footer and the status line,
//! and each feature drawn where it belongs. Every view draws from state alone;
//! nothing here awaits or mutates.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::app::{App, Mode, Phase};
use super::features::{Footer, ViewCx};
use super::features::browser::overview::Stack;
use super::keymap::{Cmd, Scope};
use super::layout::layout;
use crate::stack::Health;

/// What every feature draws with.
pub fn view_cx(app: &App) -> ViewCx<'_> {
    ViewCx { theme: &app.theme, keymap: &app.keymap, settings: &app.settings, now: app.now, wall: app.wall }
}

pub fn render(app: &App, f: &mut Frame) {
    let area = f.area();
    let vx = view_cx(app);
    let th = &app.theme;
    f.render_widget(ratatui::widgets::Block::default().style(th.base), area);
    let a = layout(area, app.settings.production, app.f.log.shown);
    if let Some(b) = a.banner {
        let name = app.settings.stack_name.as_deref().unwrap_or("this stack");
        let text = format!(" ▲ PRODUCTION ▲  stack `{name}` — changes here affect production ");
        f.render_widget(Paragraph::new(center(&text, b.width)).style(th.banner), b);
    }
    render_header(app, f, a.header);
    app.f.browser.draw_tabs(&vx, f, a.tabs);
    let stack = Stack { phase: &app.phase, located: app.located.as_ref() };
    // A view that covers the main area hides the lists: they are not drawn for nothing.
    if !app.f.view(app.mode).is_some_and(|v| v.covers_main()) {
        app.f.browser.draw(&vx, &stack, f, a.main, app.mode == Mode::Filter);
    }
    if let Some(l) = a.log {
        app.f.log.draw(&vx, f, l);
    }
    render_footer(app, &vx, f, a.footer);
    match app.f.view(app.mode) {
        Some(v) => v.draw(&vx, f, a.main, area),
        None => match app.mode {
            Mode::ChooseProxy => app.f.browser.draw_choose(&vx, f, a.main),
            _ => {}
        },
    }
}

fn center(s: &str, w: u16) -> String {
    let sw = width(s) as u16;
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

fn render_footer(app: &App, vx: &ViewCx, f: &mut Frame, r: Rect) {
    let th = &app.theme;
    let footer = match app.f.view(app.mode) {
        Some(v) => v.footer(vx),
        None if app.mode == Mode::Filter => Footer::Input(app.f.browser.filter_footer(vx)),
        None => Footer::Keys,
    };
    let line = match footer {
        Footer::Input(line) => line,
        _ => {
            if let Some((h, s)) = &app.status {
                Line::from(Span::styled(format!(" {s}"), if *h == Health::Unknown { th.base } else { th.health(*h) }))
            } else {
                if let Footer::Hints(hint) = footer {
                    let mut parts: Vec<&str> = hint.split(" · ").collect();
                    fit(&mut parts, r.width, |ps| width(&ps.join(" · ")));
                    f.render_widget(Clear, r);
                    f.render_widget(Paragraph::new(Span::styled(parts.join(" · "), th.muted)).style(th.base), r);
                    return;
                }
                let (scope, hints): (Scope, &[(Cmd, &str)]) = (
                    Scope::Main,
                    &[
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
                );
                let failed = match &app.phase {
                    Phase::Failed(e) => Some(format!(" {} ", first_words(e, 40))),
                    _ => None,
                };
                let mut pairs: Vec<(String, String)> = hints.iter().map(|(c, label)| (format!(" {}", app.keymap.label(scope, *c)), format!(" {label} "))).collect();
                fit(&mut pairs, r.width, |ps| failed.as_deref().map_or(0, width) + ps.iter().map(|(k, l)| width(k) + width(l)).sum::<usize>());
                let mut spans: Vec<Span> = failed.map(|f| Span::styled(f, th.bad)).into_iter().collect();
                for (k, label) in pairs {
                    spans.push(Span::styled(k, th.key));
                    spans.push(Span::styled(label, th.muted));
                }
                Line::from(spans)
            }
        }
    };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(line).style(th.base), r);
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A footer's hints that do not fit `cols` whole are left out, from the end but for the last one
/// (quit, back: the help, `?`, lists every key), and never the first: a hint cut mid-word reads as
/// noise.
fn fit<T>(hints: &mut Vec<T>, cols: u16, width: impl Fn(&[T]) -> usize) {
    while hints.len() > 2 && width(hints) > usize::from(cols) {
        hints.remove(hints.len() - 2);
    }
}

fn first_words(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}
