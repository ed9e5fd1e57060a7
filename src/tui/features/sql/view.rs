//! The SQL shell: editor on top, the streamed result grid below (only the
//! visible window is built), and the session's status line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell as TCell, Clear, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use super::session::SqlView;
use crate::tui::features::ViewCx;
use crate::tui::keymap::{Cmd, Scope, pretty};

pub fn render(q: &SqlView, vx: &ViewCx, f: &mut Frame, area: Rect) {
    let th = vx.theme;
    f.render_widget(Clear, area);
    let editor_h = (area.height / 3).clamp(3.min(area.height), 10);
    let parts = Layout::vertical([Constraint::Length(editor_h), Constraint::Min(0), Constraint::Length(1)]).split(area);

    let editor_block = Block::default()
        .borders(Borders::ALL)
        .border_style(if q.focus_grid { th.border } else { th.border_focus })
        .title(Span::styled(format!(" SQL · {} ", q.target), th.title));
    let editor_inner = editor_block.inner(parts[0]);
    f.render_widget(editor_block, parts[0]);
    f.render_widget(&q.editor, editor_inner);

    // Status line: what is happening first (it must not be cut off), then who, how, TLS, token age.
    let mut status = Vec::new();
    let back = pretty(&vx.keymap.label(Scope::Sql, Cmd::Back));
    if let (Some(since), Some(asked)) = (q.running, q.cancelling) {
        // A cancel in flight: said at once; one the server does not answer is said too.
        let waited = vx.now.saturating_duration_since(asked).as_secs();
        let text = match &q.cancel_failed {
            Some(why) => format!(" {} cancel failed: {why} · {back} abandons the statement (closes its connection) ", vx.spinner(since)),
            None if waited >= 2 => format!(
                " {} KILL QUERY not answered for {waited}s: the database may be hung · {back} abandons the statement (closes its connection) ",
                vx.spinner(since)
            ),
            None => format!(" {} cancelling (KILL QUERY)… ", vx.spinner(since)),
        };
        status.push(Span::styled(text, th.warn));
    } else if let Some((since, rows)) = q.exporting {
        status.push(Span::styled(format!(" {} exporting: {rows} rows written · {back} stops ", vx.spinner(since)), th.accent));
    } else if let Some(since) = q.running {
        status.push(Span::styled(format!(" {} running · {back} cancels ", vx.spinner(since)), th.accent));
    } else if let Some((h, m)) = &q.message {
        status.push(Span::styled(format!(" {m} "), th.health(*h)));
    }
    match &q.session {
        Some(s) => {
            let age = q.connected_at.map(|t| vx.now.saturating_duration_since(t).as_secs()).unwrap_or(0);
            // Who and where are the frame's title (AWS endpoint names are long): here how, TLS, token age.
            status.push(Span::styled(format!("│ via {} ", s.via), th.accent));
            status.push(Span::styled(format!("· {} {} · conn {} · token {}m{:02}s old", s.tls_version, s.tls_cipher, s.connection_id, age / 60, age % 60), th.muted));
        }
        None => status.push(Span::styled("│ not connected yet (the first run connects with a fresh IAM token)", th.muted)),
    }
    f.render_widget(Paragraph::new(Line::from(status)), parts[2]);

    // The grid: the shown statement's result; a script's others one key away.
    let empty = super::session::ResultSet::default();
    let q = ResultView { r: q.result().unwrap_or(&empty), focus_grid: q.focus_grid, n: q.results.len(), shown: q.shown };
    let which = if q.n > 1 {
        let g = |c: Cmd| pretty(&vx.keymap.label(Scope::SqlGrid, c));
        format!(" · {}/{} {} · {}{}", q.shown + 1, q.n, q.r.label, g(Cmd::PrevTab), g(Cmd::NextTab))
    } else {
        String::new()
    };
    let title = if q.r.columns.is_empty() {
        match &q.r.summary {
            Some((_, m)) if q.n > 1 => format!(" Result{which} · {m} "),
            _ => format!(" Result{which} "),
        }
    } else {
        format!(
            " Result{which} · {} rows{} · row {} col {} ",
            q.r.total_rows,
            if (q.r.total_rows as usize) > q.r.rows.len() { format!(" ({} kept)", q.r.rows.len()) } else { String::new() },
            q.r.row + 1,
            q.r.col + 1
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if q.focus_grid { th.border_focus } else { th.border })
        .title(Span::styled(title, th.title));
    let inner = block.inner(parts[1]);
    f.render_widget(block, parts[1]);
    if q.r.columns.is_empty() || inner.height < 2 {
        return;
    }
    let h = inner.height.saturating_sub(1) as usize;
    let first = q.r.row.saturating_sub(h.saturating_sub(1));
    let window = &q.r.rows[first.min(q.r.rows.len())..(first + h).min(q.r.rows.len())];
    let mut widths = Vec::new();
    let mut used = 0u16;
    for c in q.r.col..q.r.columns.len() {
        let w = window
            .iter()
            .map(|r| r.get(c).map(|x| x.display(40).width()).unwrap_or(0))
            .chain(std::iter::once(q.r.columns[c].width()))
            .max()
            .unwrap_or(4)
            .min(40) as u16;
        if used + w > inner.width && !widths.is_empty() {
            break;
        }
        widths.push(w.min(inner.width));
        used += w + 1;
    }
    let shown = q.r.col..q.r.col + widths.len();
    let header = Row::new(q.r.columns[shown.clone()].iter().map(|c| TCell::from(c.as_str()))).style(th.table_header);
    let rows: Vec<Row> = window
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cells = r[shown.clone()].iter().map(|c| match c {
                crate::db::rows::Cell::Null => TCell::from(Span::styled("NULL", th.muted)),
                crate::db::rows::Cell::Binary(_) => TCell::from(Span::styled(c.display(40), th.warn)),
                crate::db::rows::Cell::Text(_) => TCell::from(c.display(40)),
            });
            Row::new(cells).style(if first + i == q.r.row && q.focus_grid { th.selected } else { Style::default() })
        })
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w))).header(header).column_spacing(1);
    f.render_widget(table, inner);
}

/// What the grid draws: one result, and where it is among the script's.
struct ResultView<'a> {
    r: &'a super::session::ResultSet,
    focus_grid: bool,
    n: usize,
    shown: usize,
}
