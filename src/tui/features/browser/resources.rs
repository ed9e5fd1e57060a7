//! The resource list of one kind: only the visible rows are built, so 10k+
//! rows cost what a screenful costs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use unicode_width::UnicodeWidthStr;

use super::Browser;
use crate::stack::Kind;
use crate::tui::features::ViewCx;

pub fn render(b: &Browser, vx: &ViewCx, f: &mut Frame, area: Rect, kind: Kind, border: Style, filtering: bool) {
    let th = vx.theme;
    let pane = b.pane(kind);
    let t = &pane.table;
    let mut title = vec![Span::styled(format!(" {} ", kind.title()), th.title)];
    let count = if t.filter.is_empty() {
        format!("({}) ", t.items.len())
    } else {
        format!("({}/{}) ", t.visible.len(), t.items.len())
    };
    title.push(Span::styled(count, th.muted));
    if !t.filter.is_empty() || filtering {
        title.push(Span::styled(format!("/{} ", t.filter), th.accent));
    }
    if let Some((c, desc)) = t.sort {
        let col = kind.columns().get(c).copied().unwrap_or("?");
        title.push(Span::styled(format!("sort {col} {} ", if desc { "↓" } else { "↑" }), th.muted));
    }
    if let Some(since) = pane.loading_since {
        title.push(Span::styled(format!("{} ", vx.spinner(since)), th.accent));
    } else if let Some(e) = pane.last_elapsed {
        title.push(Span::styled(format!("{} ms ", e.as_millis()), th.muted));
    }
    if pane.error.is_some() && pane.loaded {
        title.push(Span::styled("stale: refresh failed ", th.bad));
    }
    let block = Block::default().borders(Borders::ALL).border_style(border).title(Line::from(title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }

    if !pane.loaded {
        let text: Vec<Line> = if let Some(e) = &pane.error {
            vec![
                Line::from(Span::styled(format!("✖ {} could not be loaded", kind.name()), th.bad)),
                Line::from(e.clone()),
                Line::from(Span::styled("r retries · the other panes are unaffected", th.muted)),
            ]
        } else if let Some(since) = pane.loading_since {
            vec![Line::from(Span::styled(format!("{} loading {}…", vx.spinner(since), kind.name()), th.accent))]
        } else {
            vec![Line::from(Span::styled("waiting for the stack to be found…", th.muted))]
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        return;
    }
    if t.visible.is_empty() {
        let msg = if t.items.is_empty() {
            format!("no {} in this stack", kind.name())
        } else {
            format!("nothing matches /{} (Esc clears the filter)", t.filter)
        };
        f.render_widget(Paragraph::new(Span::styled(msg, th.muted)), inner);
        return;
    }

    let body_h = inner.height.saturating_sub(1) as usize;
    let start = t.offset.min(t.visible.len());
    let end = (start + body_h).min(t.visible.len());
    let window = &t.visible[start..end];
    let cols = kind.columns();
    // Widths from the header and the visible rows only.
    let mut widths: Vec<u16> = cols.iter().map(|c| c.width() as u16).collect();
    for &i in window {
        for (c, cell) in t.items[i].cells.iter().enumerate().take(cols.len()) {
            widths[c] = widths[c].max(cell.width().min(64) as u16);
        }
    }
    // Columns left to right at their natural width; the last one that fits
    // takes what is left, the rest are dropped (the detail view has them all).
    let mut left = inner.width.saturating_sub(1 + 2);
    let mut shown = 0;
    for w in widths.iter_mut() {
        if left < 4 {
            break;
        }
        *w = (*w).min(left);
        left = left.saturating_sub(*w + 2);
        shown += 1;
    }
    let shown = shown.max(1);
    let mut constraints = vec![Constraint::Length(1)];
    constraints.extend(widths.iter().take(shown).map(|w| Constraint::Length(*w)));
    let header =
        Row::new(std::iter::once(Cell::from("")).chain(cols.iter().take(shown).map(|c| Cell::from(*c)))).style(th.table_header);
    let rows: Vec<Row> = window
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let r = &t.items[i];
            let style = if start + n == t.selected { th.selected } else { Style::default() };
            let mut cells = vec![Cell::from(Span::styled(r.health.symbol(), th.health(r.health)))];
            cells.extend(r.cells.iter().take(shown).map(|c| Cell::from(c.as_str())));
            Row::new(cells).style(style)
        })
        .collect();
    let table = Table::new(rows, constraints).header(header).column_spacing(2);
    f.render_widget(table, inner);
}
