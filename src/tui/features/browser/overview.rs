//! The stack overview: the chain app host -> proxy -> target -> instance with
//! health at a glance, the 3306 security-group path, and every pane's state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::Browser;
use crate::stack::{Health, Kind, Located, Resource};
use crate::tui::shared::Phase;
use crate::tui::features::ViewCx;

/// What the overview reads besides the panes.
pub struct Stack<'a> {
    pub phase: &'a Phase,
    pub located: Option<&'a Located>,
}

/// The overview's inputs together.
struct V<'a> {
    b: &'a Browser,
    vx: &'a ViewCx<'a>,
    stack: &'a Stack<'a>,
}

fn items<'a>(app: &V<'a>, k: Kind) -> &'a [Resource] {
    &app.b.pane(k).table.items
}

fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.get_str(key).unwrap_or("")
}

fn ids(r: &Resource, key: &str) -> Vec<String> {
    r.attributes
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Does any SG in `to` allow 3306 from any SG in `from`?
fn sg_path(app: &V, from: &[String], to: &[String]) -> Option<(bool, String)> {
    let sgs = items(app, Kind::SecurityGroup);
    if !app.b.pane(Kind::SecurityGroup).loaded || from.is_empty() || to.is_empty() {
        return None;
    }
    let name = |id: &String| sgs.iter().find(|s| &s.id == id).map(|s| s.name.clone()).unwrap_or(id.clone());
    for t in to {
        if let Some(sg) = sgs.iter().find(|s| &s.id == t) {
            let allowed = ids(sg, "mysql_ingress_from_ids");
            if let Some(f) = from.iter().find(|f| allowed.contains(f)) {
                return Some((true, format!("{} → {} on 3306", name(f), sg.name)));
            }
        }
    }
    Some((
        false,
        format!("no rule lets {} reach {} on 3306", from.iter().map(name).collect::<Vec<_>>().join(","), to.iter().map(name).collect::<Vec<_>>().join(",")),
    ))
}

pub fn render(b: &Browser, vx: &ViewCx, stack: &Stack, f: &mut Frame, area: Rect, border: Style) {
    let app = &V { b, vx, stack };
    let th = vx.theme;
    let block = Block::default().borders(Borders::ALL).border_style(border).title(Span::styled(" Overview ", th.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let wide = inner.width >= 110;
    let parts = if wide {
        Layout::horizontal([Constraint::Min(60), Constraint::Length(34)]).split(inner)
    } else {
        Layout::vertical([Constraint::Min(0), Constraint::Length(0)]).split(inner)
    };
    let mut lines: Vec<Line> = Vec::new();
    match app.stack.phase {
        Phase::Connecting { since } => {
            lines.push(Line::from(Span::styled(format!("{} checking credentials…", app.vx.spinner(*since)), th.accent)));
        }
        Phase::Locating { since } => {
            lines.push(Line::from(Span::styled(format!("{} looking for the RDS Proxy…", app.vx.spinner(*since)), th.accent)));
        }
        Phase::Failed(e) => {
            lines.push(Line::from(Span::styled("✖ no stack to show", th.bad)));
            lines.push(Line::from(e.clone()));
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "r retries · :profile NAME · :region NAME · :stack NAME · :proxy NAME · q quits",
                th.muted,
            )));
        }
        Phase::Ready => chain(app, &mut lines),
    }
    if !wide {
        lines.push(Line::from(""));
        lines.extend(pane_states(app));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), parts[0]);
    if wide {
        let b = Block::default().borders(Borders::LEFT).border_style(th.border);
        let i = b.inner(parts[1]);
        f.render_widget(b, parts[1]);
        f.render_widget(Paragraph::new(pane_states(app)), i);
    }
}

fn node<'a>(app: &V<'a>, label: &str, r: Option<&Resource>, detail: String, loading: bool) -> Line<'a> {
    let th = app.vx.theme;
    let label = format!("{label:<10} ");
    match r {
        Some(r) => Line::from(vec![
            Span::styled(label, th.muted),
            Span::styled(format!("{} ", r.health.symbol()), th.health(r.health)),
            Span::styled(r.name.clone(), th.accent),
            Span::raw(format!("  {detail}")),
        ]),
        None if loading => Line::from(vec![Span::styled(label, th.muted), Span::styled("loading…", th.muted)]),
        None => Line::from(vec![Span::styled(label, th.muted), Span::styled("— not found", th.warn)]),
    }
}

fn link<'a>(app: &V<'a>, text: Option<(bool, String)>, plain: &str) -> Line<'a> {
    let th = app.vx.theme;
    match text {
        Some((true, t)) => Line::from(vec![Span::styled("    │      ", th.muted), Span::styled("✔ ", th.ok), Span::styled(t, th.muted)]),
        Some((false, t)) => Line::from(vec![Span::styled("    │      ", th.muted), Span::styled("✖ ", th.bad), Span::styled(t, th.bad)]),
        None => Line::from(Span::styled(format!("    │      {plain}"), th.muted)),
    }
}

fn chain<'a>(app: &V<'a>, lines: &mut Vec<Line<'a>>) {
    let th = app.vx.theme;
    let loc = app.stack.located;
    let loading = |k: Kind| !app.b.pane(k).loaded;
    let proxy = items(app, Kind::Proxy).iter().find(|p| Some(&p.name) == loc.and_then(|l| l.proxy.as_ref()));
    let host = items(app, Kind::Host).first();
    let target = items(app, Kind::Target).first();
    let db = items(app, Kind::Instance).first();
    let vpc = items(app, Kind::Vpc).first();
    lines.push(Line::from(vec![
        Span::styled("Stack ", th.muted),
        Span::styled(loc.and_then(|l| l.proxy.clone()).unwrap_or_else(|| "(no proxy)".into()), th.title),
        Span::styled(format!("  from {}", loc.map(|l| l.source.as_str()).unwrap_or("")), th.muted),
    ]));
    if let Some(v) = vpc {
        lines.push(Line::from(Span::styled(format!("VPC   {} {} {}", v.name, v.id, attr(v, "cidr")), th.muted)));
    }
    let tour = crate::tui::keymap::pretty(&app.vx.keymap.label(crate::tui::keymap::Scope::Main, crate::tui::keymap::Cmd::View(crate::tui::shared::Mode::Tour)));
    if tour != "—" {
        lines.push(Line::from(vec![
            Span::styled("New here? ", th.muted),
            Span::styled(tour, th.key),
            Span::styled(" takes the tour: the zero-secret flow on this stack, step by step", th.muted),
        ]));
    }
    lines.push(Line::from(""));
    let n_hosts = items(app, Kind::Host).len();
    lines.push(node(
        app,
        "App host",
        host,
        host.map(|h| {
            format!(
                "{} · {} · SSM {}{}",
                h.id,
                attr(h, "state"),
                attr(h, "ssm_ping_status"),
                if n_hosts > 1 { format!(" (+{} more)", n_hosts - 1) } else { String::new() }
            )
        })
        .unwrap_or_default(),
        loading(Kind::Host),
    ));
    let host_sgs: Vec<String> = items(app, Kind::Host).iter().flat_map(|h| ids(h, "security_group_ids")).collect();
    let proxy_sgs = loc.map(|l| l.proxy_sgs.clone()).unwrap_or_default();
    let db_sgs = loc.map(|l| l.instance_sgs.clone()).unwrap_or_default();
    lines.push(link(app, sg_path(app, &host_sgs, &proxy_sgs), "IAM token over TLS, port 3306"));
    lines.push(node(
        app,
        "RDS Proxy",
        proxy,
        proxy
            .map(|p| {
                let tls = match p.attributes.get("require_tls").and_then(|v| v.as_bool()) {
                    Some(true) => "TLS required",
                    Some(false) => "TLS optional",
                    None => "TLS ?",
                };
                format!("{} · {tls} · IAM {} · {}", attr(p, "status"), attr(p, "iam_auth"), attr(p, "engine_family"))
            })
            .unwrap_or_default(),
        loading(Kind::Proxy),
    ));
    let tg = items(app, Kind::TargetGroup).first();
    lines.push(link(
        app,
        target.map(|t| {
            (
                t.health != Health::Bad,
                format!(
                    "target {} {}{}",
                    attr(t, "health_state"),
                    attr(t, "health_reason"),
                    tg.map(|g| format!(" · pool max {}% · borrow {}s", g.cells.get(4).cloned().unwrap_or_default(), g.cells.get(6).cloned().unwrap_or_default()))
                        .unwrap_or_default()
                ),
            )
        }),
        "target: loading",
    ));
    lines.push(node(
        app,
        "DB",
        db,
        db.map(|d| {
            let iam = if d.attributes.get("iam_auth").and_then(|v| v.as_bool()) == Some(true) { "IAM auth on" } else { "IAM AUTH OFF" };
            format!("{} · {} {} · {iam}", attr(d, "status"), attr(d, "engine"), attr(d, "engine_version"))
        })
        .unwrap_or_default(),
        loading(Kind::Instance),
    ));
    lines.push(link(app, sg_path(app, &proxy_sgs, &db_sgs), ""));
    lines.push(Line::from(""));
    // The app's configuration and the secret.
    let params = items(app, Kind::Parameter);
    let ep = params.iter().find(|p| p.name.ends_with("/endpoint"));
    let ep_value = ep.map(|p| attr(p, "value").to_string()).unwrap_or_default();
    let ep_ok = match (ep, loc.and_then(|l| l.proxy_endpoint.as_ref())) {
        (Some(p), Some(e)) => Some(attr(p, "value") == e),
        _ => None,
    };
    lines.push(Line::from(vec![
        Span::styled(format!("{:<10} ", "Config"), th.muted),
        Span::raw(format!("{} SSM parameters under {}", params.len(), loc.map(|l| l.parameter_prefix.as_str()).unwrap_or(""))),
        match ep_ok {
            Some(true) => Span::styled("  ✔ endpoint = proxy", th.ok),
            // The app connects wherever the parameter says; not the proxy is worth a look.
            Some(false) => Span::styled(format!("  ▲ app's endpoint is {ep_value}, not the proxy"), th.warn),
            None => Span::raw(""),
        },
    ]));
    for s in items(app, Kind::Secret) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10} ", "Secret"), th.muted),
            Span::raw(s.name.clone()),
            Span::styled(format!("  ({})", attr(s, "used_by")), th.muted),
        ]));
    }
    for lb in items(app, Kind::LoadBalancer) {
        lines.push(node(app, "ALB", Some(lb), attr(lb, "target_health_summary").to_string(), false));
    }
}

fn pane_states<'a>(app: &V<'a>) -> Vec<Line<'a>> {
    let th = app.vx.theme;
    let mut v = vec![Line::from(Span::styled("Panes", th.table_header))];
    for k in Kind::ALL {
        let p = app.b.pane(k);
        let (style, text) = if let Some(since) = p.loading_since {
            (th.accent, app.vx.spinner(since))
        } else if let Some(e) = &p.error {
            (th.bad, format!("✖ {}", e.chars().take(60).collect::<String>()))
        } else if p.loaded {
            (th.ok, format!("{} · {} ms", p.table.items.len(), p.last_elapsed.map(|d| d.as_millis()).unwrap_or(0)))
        } else {
            (th.muted, "—".into())
        };
        v.push(Line::from(vec![Span::styled(format!("{:<16}", k.name()), th.muted), Span::styled(text, style)]));
    }
    v
}
