//! The bootstrap view: steps with their status on the left, the selected
//! step's SQL and outcome on the right, the verification table at the bottom.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell as TCell, Clear, Paragraph, Row, Table, Wrap};

use super::BootstrapView;
use crate::bootstrap::Status;
use crate::tui::features::ViewCx;
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::theme::Theme;

fn status_style(th: &Theme, s: Status) -> Style {
    match s {
        Status::Ok | Status::AlreadyDone => th.ok,
        Status::Failed => th.bad,
        Status::Checking | Status::Running => th.accent,
        Status::Pending | Status::Skipped => th.muted,
    }
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Ok => "✔",
        Status::AlreadyDone => "=",
        Status::Failed => "✘",
        Status::Checking | Status::Running => "…",
        Status::Skipped => "-",
        Status::Pending => "·",
    }
}

pub fn render(v: &BootstrapView, vx: &ViewCx, f: &mut Frame, area: Rect) {
    let th = vx.theme;
    let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Bootstrap, c));
    f.render_widget(Clear, area);
    let title = match &v.report {
        Some(r) => format!(" Bootstrap · {} · {} ", r.inputs.endpoint, r.inputs.source),
        None => " Bootstrap ".to_string(),
    };
    let block = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(title, th.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(r) = &v.report else {
        let text = match &v.error {
            Some(e) => vec![
                Line::from(Span::styled("The bootstrap's inputs could not be read:", th.bad)),
                Line::from(Span::raw(e.clone())),
                Line::from(""),
                Line::from(Span::styled(format!("Fix the file or config it names, then {} and {} to read it again.", k(Cmd::Back), vx.keymap.label(Scope::Main, Cmd::Bootstrap)), th.muted)),
            ],
            None => vec![Line::from(Span::styled(
                format!("{} reading the plan (rds.conf or the stack's instance)…", vx.spinner(v.opened)),
                th.accent,
            ))],
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
        return;
    };

    let verify_h = if r.verification.is_empty() { 0 } else { (r.verification.len() as u16 + 3).min(inner.height / 3) };
    let rows = Layout::vertical([Constraint::Min(3), Constraint::Length(verify_h), Constraint::Length(1)]).split(inner);
    let cols = Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).split(rows[0]);

    // Steps.
    // Narrow: the mark and its colour carry the status; the selected step's status is on the right.
    let labels = cols[0].width >= 50;
    let steps: Vec<Line> = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = if labels { format!("{:<13}", s.status.label()) } else { String::new() };
            let style = if i == v.selected { th.selected } else { Style::default() };
            Line::from(vec![
                Span::styled(format!(" {} ", mark(s.status)), status_style(th, s.status)),
                Span::styled(st, status_style(th, s.status)),
                Span::styled(format!("{}. {}", s.number, s.plan.title), style),
            ])
        })
        .collect();
    let steps_block = Block::default().borders(Borders::RIGHT).border_style(th.border);
    f.render_widget(Paragraph::new(steps).block(steps_block), cols[0]);

    // The selected step.
    let s = &r.steps[v.selected.min(r.steps.len() - 1)];
    let mut lines = vec![
        Line::from(Span::styled(format!("{}. {} ({})", s.number, s.plan.title, s.plan.id.name()), th.title)),
        Line::from(Span::styled(s.plan.what.clone(), th.muted)),
        Line::from(""),
    ];
    if s.plan.statements.is_empty() {
        lines.push(Line::from(Span::styled("(no SQL: see above)", th.muted)));
    }
    let mut ran = s.executed.clone();
    for st in &s.plan.statements {
        let done = if let Some(p) = ran.iter().position(|x| x == st) {
            ran.remove(p);
            true
        } else {
            false
        };
        lines.push(Line::from(vec![
            Span::styled(if done { "✔ " } else { "  " }, th.ok),
            Span::styled(format!("{st};"), if done { th.base } else { th.accent }),
        ]));
    }
    if !s.detail.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(format!("{}: ", s.status.label()), status_style(th, s.status).add_modifier(Modifier::BOLD)),
            Span::raw(s.detail.clone()),
        ]));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), cols[1].inner(ratatui::layout::Margin { horizontal: 1, vertical: 0 }));

    // Verification.
    if verify_h > 0 {
        let header = Row::new(["USER", "PLUGIN", "SSL", "IAM LOGIN", "GRANTS"].map(TCell::from)).style(th.table_header);
        let body: Vec<Row> = r
            .verification
            .iter()
            .map(|x| {
                Row::new([
                    TCell::from(Span::styled(x.user.clone(), if x.ok { th.ok } else { th.bad })),
                    TCell::from(x.plugin.clone()),
                    TCell::from(x.ssl_type.clone()),
                    TCell::from(x.login.clone()),
                    TCell::from(x.grants.len().to_string()),
                ])
            })
            .collect();
        let t = Table::new(body, [Constraint::Length(12), Constraint::Length(24), Constraint::Length(5), Constraint::Min(20), Constraint::Length(6)])
            .header(header)
            .block(Block::default().borders(Borders::TOP).border_style(th.border).title(Span::styled(" Verification ", th.title)));
        f.render_widget(t, rows[1]);
    }

    // Status line.
    let status: Line = if let Some(o) = v.confirm {
        Line::from(Span::styled(
            format!(
                " {}: press {} to run the bootstrap{}, any other key cancels",
                if vx.settings.production { "production stack" } else { "read-only mode" },
                k(Cmd::Confirm),
                if o.only { format!(" step {}", o.from.number()) } else { String::new() }
            ),
            th.warn,
        ))
    } else if let Some(since) = v.running {
        Line::from(Span::styled(format!(" {} running", vx.spinner(since)), th.accent))
    } else if r.done {
        let (msg, style) = if r.dry_run {
            ("dry run: nothing was run".to_string(), th.accent)
        } else if let Some(id) = r.resume_from {
            (format!("failed at step {} ({}): fix the cause, then {} resumes there", id.number(), id.name(), k(Cmd::Resume)), th.bad)
        } else if r.changed() {
            ("bootstrap complete".to_string(), th.ok)
        } else {
            ("bootstrap complete: everything was already in place, nothing changed".to_string(), th.ok)
        };
        Line::from(Span::styled(format!(" {msg}"), style))
    } else {
        Line::from(Span::styled(
            format!(" plan ready{} — {} runs all steps", if v.dry_run { " · DRY RUN on" } else { "" }, k(Cmd::Run)),
            th.muted,
        ))
    };
    f.render_widget(Paragraph::new(status), rows[2]);
}
