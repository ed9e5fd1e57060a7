//! The screen's geometry, a pure function of the terminal's size and a few
//! flags: the views draw into it and the mouse handler maps clicks with it.

use ratatui::layout::{Constraint, Layout, Rect};
use std::ops::Range;

pub struct Areas {
    pub banner: Option<Rect>,
    pub header: Rect,
    pub tabs: Rect,
    pub main: Rect,
    pub log: Option<Rect>,
    pub footer: Rect,
}

/// The screen's layout: a production banner, the header, the tabs, the main pane, the log, the footer.
pub fn layout(area: Rect, production: bool, show_log: bool) -> Areas {
    let banner = production && area.height >= 6;
    let log = show_log && area.height >= 16;
    let log_h = if log { (area.height / 3).min(12) } else { 0 };
    let chunks = Layout::vertical([
        Constraint::Length(banner as u16),
        Constraint::Length(if area.height >= 4 { 1 } else { 0 }),
        Constraint::Length(if area.height >= 6 { 1 } else { 0 }),
        Constraint::Min(0),
        Constraint::Length(log_h),
        Constraint::Length(1),
    ])
    .split(area);
    Areas {
        banner: banner.then_some(chunks[0]),
        header: chunks[1],
        tabs: chunks[2],
        main: chunks[3],
        log: log.then_some(chunks[4]),
        footer: chunks[5],
    }
}

/// Column ranges of each tab in a bar of `width`, scrolled so the active tab shows.
/// `titles` are the tabs' widths, `active` the one that must show.
pub fn tab_positions(titles: &[u16], active: usize, width: u16) -> Vec<(usize, Range<u16>)> {
    let titles: Vec<(usize, u16)> = titles.iter().copied().enumerate().collect();
    if titles.is_empty() {
        return Vec::new();
    }
    let active = active.min(titles.len() - 1);
    // First tab to show: move right until the active one fits.
    let mut first = 0;
    loop {
        let used: u16 = titles[first..=active.max(first)].iter().map(|(_, w)| w + 1).sum();
        if used <= width || first >= active {
            break;
        }
        first += 1;
    }
    let mut x = 0u16;
    let mut out = Vec::new();
    for (t, w) in &titles[first..] {
        if x >= width {
            break;
        }
        out.push((*t, x..(x + w).min(width)));
        x = x.saturating_add(w + 1);
    }
    out
}

