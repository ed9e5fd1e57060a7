//! The worker log pane: the last lines of what the workers did (the log file
//! has everything), toggled with `L`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::collections::VecDeque;
use std::time::SystemTime;

use super::ViewCx;
use crate::stack::Health;

const CAP: usize = 500;

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: String,
    pub level: Health,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Log {
    pub lines: VecDeque<LogLine>,
    pub shown: bool,
}

impl Log {
    /// A line in the pane only, stamped with the wall clock of the update.
    pub fn push(&mut self, wall: SystemTime, level: Health, text: String) {
        let at = chrono::DateTime::<chrono::Local>::from(wall).format("%H:%M:%S").to_string();
        self.lines.push_back(LogLine { at, level, text });
        while self.lines.len() > CAP {
            self.lines.pop_front();
        }
    }

    pub fn draw(&self, vx: &ViewCx, f: &mut Frame, r: Rect) {
        let th = vx.theme;
        let h = r.height.saturating_sub(2) as usize;
        let lines: Vec<Line> = self
            .lines
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
}
