//! The forwards view's state: every forward started from the TUI (or saved in
//! the config), with the status its worker reports every second and the
//! result of a probe through it, so a dead forward never shows as alive.

use crossterm::event::{KeyCode, KeyEvent};
use std::time::{Duration, Instant};

use crate::ssm::forward::{ForwardSpec, State, Status};

#[derive(Debug, Clone)]
pub struct Row {
    pub id: u64,
    pub spec: ForwardSpec,
    /// `None` until the worker reports.
    pub status: Option<Status>,
    /// Starting failed, or the forward stopped with an error.
    pub error: Option<String>,
    /// The last probe through the forward: its time, or why it failed.
    pub probe: Option<Result<Duration, String>>,
    pub created: Instant,
    /// Asked to stop (waiting for the worker).
    pub stopping: bool,
}

impl Row {
    pub fn state_text(&self) -> String {
        if self.error.is_some() {
            // The error itself is under the table (it does not fit a column).
            return "failed".into();
        }
        if self.stopping {
            return "stopping".into();
        }
        match &self.status {
            None => "starting".into(),
            Some(s) => match s.state {
                State::Ready => match &self.probe {
                    Some(Err(_)) => "DEAD".into(),
                    _ => "ready".into(),
                },
                State::Starting => "starting".into(),
                State::Reconnecting => "reconnecting".into(),
                State::Failed => "failed".into(),
                State::Stopped => "stopped".into(),
            },
        }
    }

    /// Carrying connections: ready, with its local port bound.
    pub fn ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.state == State::Ready && s.local.is_some())
    }

    pub fn running(&self) -> bool {
        self.error.is_none() && !matches!(self.status.as_ref().map(|s| &s.state), Some(State::Stopped))
    }
}

#[derive(Debug, Default)]
pub struct ForwardsView {
    pub rows: Vec<Row>,
    pub selected: usize,
    next_id: u64,
}

#[derive(Debug, PartialEq)]
pub enum ForwardsAction {
    None,
    /// Start a forward to the stack's database through its host.
    New,
    Stop(u64),
    /// Open the SQL shell through this forward.
    Sql(u64),
    Close,
}

impl ForwardsView {
    pub fn add(&mut self, spec: ForwardSpec, now: Instant) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.rows.push(Row { id, spec, status: None, error: None, probe: None, created: now, stopping: false });
        self.selected = self.rows.len() - 1;
        id
    }

    pub fn row_mut(&mut self, id: u64) -> Option<&mut Row> {
        self.rows.iter_mut().find(|r| r.id == id)
    }

    pub fn running_ids(&self) -> Vec<u64> {
        self.rows.iter().filter(|r| r.running()).map(|r| r.id).collect()
    }

    pub fn on_key(&mut self, k: KeyEvent) -> ForwardsAction {
        let n = self.rows.len();
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return ForwardsAction::Close,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Char('n') => return ForwardsAction::New,
            KeyCode::Char('e') => {
                if let Some(r) = self.rows.get(self.selected).filter(|r| r.running() && !r.stopping) {
                    return ForwardsAction::Sql(r.id);
                }
            }
            KeyCode::Char('s') | KeyCode::Char('d') | KeyCode::Delete => {
                if let Some(r) = self.rows.get_mut(self.selected)
                    && r.running()
                    && !r.stopping
                {
                    r.stopping = true;
                    return ForwardsAction::Stop(r.id);
                }
            }
            _ => {}
        }
        ForwardsAction::None
    }
}
