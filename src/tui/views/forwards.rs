//! The forwards view: one row per forward with its state, counters, age,
//! probe and last error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use crate::tui::app::App;

fn bytes(n: u64) -> String {
    match n {
        n if n >= 10 << 20 => format!("{} MiB", n >> 20),
        n if n >= 10 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn age(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let th = &app.theme;
    let v = &app.forwards;
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border_focus)
        .title(Span::styled(format!(" Forwards · {} ", v.rows.len()), th.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if v.rows.is_empty() {
        let mut lines = vec![
            Line::from(Span::styled("No forwards yet.", th.muted)),
            Line::from(""),
            Line::from(vec![
                Span::styled("n", th.key),
                Span::raw(" forwards a local port to the stack's database endpoint through its host (Session Manager)."),
            ]),
        ];
        if !app.settings.config.forwards.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("Saved in the config: {} (auto_start = true starts them with the TUI)", app.settings.config.forwards.keys().cloned().collect::<Vec<_>>().join(", ")),
                th.muted,
            )));
        }
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    let parts = Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).split(inner);
    let header = Row::new(["NAME", "LOCAL", "REMOTE", "VIA", "STATE", "MODE", "IN", "OUT", "CONNS", "AGE", "PROBE"].map(Cell::from)).style(th.table_header);
    let rows: Vec<Row> = v
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let st = r.status.as_ref();
            let state = r.state_text();
            let style = if state.starts_with("ready") {
                th.ok
            } else if state.starts_with("failed") || state.starts_with("DEAD") {
                th.bad
            } else {
                th.warn
            };
            let probe = match &r.probe {
                Some(Ok(d)) => format!("ok {} ms", d.as_millis()),
                Some(Err(_)) => "failed".into(),
                None => "-".into(),
            };
            Row::new([
                Cell::from(r.spec.name.clone()),
                Cell::from(st.and_then(|s| s.local).map(|a| a.to_string()).unwrap_or_else(|| "-".into())),
                Cell::from(format!("{}:{}", r.spec.host.as_deref().unwrap_or("(instance)"), r.spec.remote_port)),
                Cell::from(r.spec.target.clone()),
                Cell::from(Span::styled(state, style)),
                Cell::from(st.and_then(|s| s.mode.clone()).unwrap_or_default()),
                Cell::from(st.map(|s| bytes(s.bytes_in)).unwrap_or_default()),
                Cell::from(st.map(|s| bytes(s.bytes_out)).unwrap_or_default()),
                Cell::from(st.map(|s| format!("{}/{}", s.open_connections, s.total_connections)).unwrap_or_default()),
                Cell::from(age(app.now.saturating_duration_since(r.created).as_secs())),
                Cell::from(probe),
            ])
            .style(if i == v.selected { th.selected } else { ratatui::style::Style::default() })
        })
        .collect();
    let widths = [
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Min(16),
        Constraint::Length(20),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(9),
    ];
    f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), parts[0]);
    // The selected forward's last error, in full.
    if let Some(r) = v.rows.get(v.selected) {
        let err = r
            .error
            .clone()
            .or_else(|| match &r.probe {
                Some(Err(e)) => Some(format!("probe: {e}")),
                _ => None,
            })
            .or_else(|| r.status.as_ref().and_then(|s| s.last_error.clone()));
        let line = match err {
            Some(e) => Line::from(vec![Span::styled("last error: ", th.bad), Span::raw(e)]),
            None => Line::from(Span::styled(
                format!(
                    "session {}{}",
                    r.status.as_ref().and_then(|s| s.session_id.clone()).unwrap_or_else(|| "-".into()),
                    r.status.as_ref().map(|s| format!(" · {} reconnects", s.reconnects)).unwrap_or_default()
                ) + " · e: SQL shell through it · s: stop",
                th.muted,
            )),
        };
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), parts[1]);
    }
}
