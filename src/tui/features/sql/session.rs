//! One open SQL shell: the editor, history, the streamed result, and its keys.
//! Network work happens in `db::session` through effects.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::db::classify::Class;
use crate::db::connect::SessionInfo;
use crate::db::guard::Guard;
use crate::db::rows::Cell;
use crate::db::session::Event;
use crate::db::split::split;
use crate::stack::Health;
use crate::tui::keymap::Cmd;

/// Rows kept for the grid; beyond this the result is counted, not kept.
pub const MAX_ROWS: usize = 200_000;

pub struct SqlView {
    pub editor: TextArea<'static>,
    pub focus_grid: bool,
    pub target: String,
    pub session: Option<SessionInfo>,
    pub connected_at: Option<Instant>,
    pub running: Option<Instant>,
    /// When the user asked to cancel the running statement.
    pub cancelling: Option<Instant>,
    /// Why the KILL QUERY failed, while the statement still runs.
    pub cancel_failed: Option<String>,
    /// The statement was given up on (its connection dropped): its failure says so, as it is.
    pub abandoned: bool,
    /// One per statement of the last run, in order (a statement without rows has no columns).
    pub results: Vec<ResultSet>,
    /// The result the grid shows.
    pub shown: usize,
    /// The running batch's statements (the results' labels) and how many have finished.
    labels: Vec<String>,
    sqls: Vec<String>,
    finished: usize,
    /// A whole-result export running: since when, and the rows written so far.
    pub exporting: Option<(Instant, u64)>,
    pub message: Option<(Health, String)>,
    /// Statements waiting for the user's "y" (destructive).
    pub confirm: Option<Vec<String>>,
    pub history: Vec<String>,
    pub history_pos: Option<usize>,
    pub history_file: Option<PathBuf>,
    pub first_row_after: Option<Duration>,
    /// When the current statement's first row came off the connection, until it is on screen.
    pub first_row_arrived: Option<Instant>,
    /// A statement to append to the history file (written off the UI thread).
    pub to_persist: Option<String>,
    /// The confirm action's key, for the prompt.
    pub confirm_key: String,
}

/// The result of one statement: its rows (at most [`MAX_ROWS`] kept), where the grid's cursor is,
/// and what the statement did.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    /// The statement's beginning, for the grid's title.
    pub label: String,
    /// The statement (a whole-result export runs it again).
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub total_rows: u64,
    pub row: usize,
    pub col: usize,
    /// "100 row(s) in 0.004 s", "ok, 1 row(s) affected", or its error.
    pub summary: Option<(Health, String)>,
}

/// A statement's beginning on one line: spacing collapsed, at most 32 characters, safe to draw.
fn label(sql: &str) -> String {
    let one: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = one.chars().take(32).collect();
    let short = if one.chars().count() > 32 { format!("{short}…") } else { short };
    crate::untrusted::line(&short).into_owned()
}

/// What a key in the SQL view asks the runner to do.
pub enum SqlAction {
    None,
    Run(Vec<String>),
    Cancel,
    /// Drop the running statement's connection: the cancel was not answered.
    Abandon,
    /// Run the shown result's statement again into a new file in this folder (stem): every row.
    ExportQuery(PathBuf, String, String),
    /// Stop the running whole-result export.
    ExportStop,
    /// A new file in this folder, named from this stem.
    Export(PathBuf, String),
    Close,
}

impl SqlView {
    /// A shell on `target`; `history` is what the history file held (read before the TUI started).
    pub fn new(target: String, history: Vec<String>, history_file: Option<PathBuf>, placeholder: &str) -> SqlView {
        let mut editor = TextArea::default();
        editor.set_cursor_line_style(ratatui::style::Style::default());
        editor.set_placeholder_text(placeholder);
        SqlView {
            editor,
            focus_grid: false,
            target,
            session: None,
            connected_at: None,
            running: None,
            cancelling: None,
            cancel_failed: None,
            abandoned: false,
            results: Vec::new(),
            shown: 0,
            labels: Vec::new(),
            sqls: Vec::new(),
            finished: 0,
            exporting: None,
            message: None,
            confirm: None,
            history,
            history_pos: None,
            history_file,
            first_row_after: None,
            first_row_arrived: None,
            to_persist: None,
            confirm_key: "y".into(),
        }
    }

    /// The result the grid shows.
    pub fn result(&self) -> Option<&ResultSet> {
        self.results.get(self.shown)
    }

    /// The running statement's result (made on its first event).
    fn current(&mut self) -> &mut ResultSet {
        while self.results.len() <= self.finished {
            let label = self.labels.get(self.results.len()).cloned().unwrap_or_default();
            let sql = self.sqls.get(self.results.len()).cloned().unwrap_or_default();
            self.results.push(ResultSet { label, sql, ..ResultSet::default() });
        }
        &mut self.results[self.finished]
    }

    pub fn on_event(&mut self, e: Event, now: Instant) {
        match e {
            Event::Connected(info) => {
                self.session = Some(info);
                self.connected_at = Some(now);
            }
            Event::Columns(c) => {
                let r = self.current();
                r.columns = c;
                r.rows.clear();
                r.total_rows = 0;
                r.row = 0;
                r.col = 0;
                // The grid follows the script as it runs.
                self.shown = self.finished;
            }
            Event::FirstRow(at) => self.first_row_arrived = Some(at),
            // Asked to stop: what is still in flight is counted, not shown.
            Event::Rows(r) if self.cancelling.is_some() => self.current().total_rows += r.len() as u64,
            Event::Rows(mut r) => {
                let running = self.running;
                let cur = self.current();
                let first = cur.total_rows == 0;
                cur.total_rows += r.len() as u64;
                let room = MAX_ROWS.saturating_sub(cur.rows.len());
                r.truncate(room);
                cur.rows.extend(r);
                if first && self.first_row_after.is_none() {
                    self.first_row_after = running.map(|s| now.saturating_duration_since(s));
                }
            }
            Event::Counted(n) => self.current().total_rows += n,
            Event::StatementDone { rows, affected, elapsed, .. } => {
                let cur = self.current();
                let kept = if rows as usize > cur.rows.len() && !cur.columns.is_empty() {
                    format!(" (first {} kept)", cur.rows.len())
                } else {
                    String::new()
                };
                let summary = (
                    Health::Ok,
                    if cur.columns.is_empty() || rows == 0 && affected > 0 {
                        format!("ok, {affected} row(s) affected in {:.3} s", elapsed.as_secs_f64())
                    } else {
                        format!("{rows} row(s) in {:.3} s{kept}", elapsed.as_secs_f64())
                    },
                );
                cur.summary = Some(summary.clone());
                self.message = Some(summary);
                self.finished += 1;
            }
            Event::Failed(m) => {
                // The failing statement's result says so too, and the grid shows it.
                if self.finished < self.labels.len() {
                    self.current().summary = Some((Health::Bad, m.clone()));
                    self.shown = self.finished;
                }
                self.message = Some((Health::Bad, m));
                if let Some(asked) = self.cancelling.filter(|_| !self.abandoned) {
                    let ms = now.saturating_duration_since(asked).as_secs_f64() * 1000.0;
                    tracing::info!("sql: query cancelled {ms:.1} ms after the request");
                    self.message = Some((Health::Warn, format!("query cancelled ({ms:.0} ms)")));
                }
            }
            Event::CancelFailed(m) => {
                if self.running.is_some() {
                    self.cancel_failed = Some(m);
                }
            }
            Event::Idle => {
                self.running = None;
                self.cancelling = None;
                self.cancel_failed = None;
                self.abandoned = false;
            }
        }
    }

    fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    /// Statements to run, or a message why not.
    fn prepare(&mut self, guard: Guard, now: Instant) -> SqlAction {
        let text = self.text();
        let stmts = match split(&text) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => return SqlAction::None,
            Err(e) => {
                self.message = Some((Health::Bad, e.to_string()));
                return SqlAction::None;
            }
        };
        let mut destructive = Vec::new();
        for s in &stmts {
            match (Guard { confirmed: true, ..guard }).check(&s.sql) {
                Err(e) => {
                    self.message = Some((Health::Bad, format!("line {}: {e}", s.line)));
                    return SqlAction::None;
                }
                Ok(Class::Destructive) => destructive.push(crate::db::classify::classify(&s.sql).reason),
                Ok(_) => {}
            }
        }
        self.remember(&text);
        let sqls: Vec<String> = stmts.into_iter().map(|s| s.sql).collect();
        if !destructive.is_empty() && !guard.confirmed {
            self.message = Some((Health::Warn, format!("{} — press {} to run it, any other key cancels", destructive.join(", "), self.confirm_key)));
            self.confirm = Some(sqls);
            return SqlAction::None;
        }
        self.start(sqls, now)
    }

    fn start(&mut self, sqls: Vec<String>, now: Instant) -> SqlAction {
        self.running = Some(now);
        self.message = Some((Health::Unknown, "running…".into()));
        self.results.clear();
        self.shown = 0;
        self.finished = 0;
        self.first_row_after = None;
        self.labels = sqls.iter().map(|s| label(s)).collect();
        self.sqls = sqls.clone();
        SqlAction::Run(sqls)
    }

    /// History without secrets: a script whose tokens carry one is not kept (see `carries_secret`).
    fn remember(&mut self, text: &str) {
        if text.trim().is_empty() || crate::db::classify::carries_secret(text) {
            return;
        }
        if self.history.last().map(String::as_str) != Some(text) {
            self.history.push(text.to_string());
            self.to_persist = Some(text.to_string());
        }
        self.history_pos = None;
    }

    fn recall(&mut self, older: bool) {
        if self.history.is_empty() {
            return;
        }
        let n = self.history.len();
        let pos = match (self.history_pos, older) {
            (None, true) => n - 1,
            (None, false) => return,
            (Some(p), true) => p.saturating_sub(1),
            (Some(p), false) if p + 1 >= n => {
                self.history_pos = None;
                self.editor = TextArea::default();
                return;
            }
            (Some(p), false) => p + 1,
        };
        self.history_pos = Some(pos);
        self.editor = TextArea::new(self.history[pos].lines().map(str::to_string).collect());
    }

    /// A key: `cmd` is what the key map says it means here (the grid's keys when the grid has focus);
    /// other keys type into the editor.
    pub fn on_key(&mut self, k: KeyEvent, cmd: Option<Cmd>, guard: Guard, page: usize, clock: (Instant, SystemTime), export_dir: &std::path::Path) -> SqlAction {
        let (now, wall) = clock;
        if let Some(sqls) = self.confirm.take() {
            if cmd == Some(Cmd::Confirm) {
                return self.start(sqls, now);
            }
            self.message = Some((Health::Unknown, "not run".into()));
            return SqlAction::None;
        }
        if self.exporting.is_some() && cmd == Some(Cmd::Back) {
            self.exporting = None;
            self.message = Some((Health::Warn, "stopping the export…".into()));
            return SqlAction::ExportStop;
        }
        if self.running.is_some() && cmd == Some(Cmd::Back) && self.cancelling.is_some() {
            // Asked again: the cancel is slow or failed (a hung server); give the statement up.
            self.abandoned = true;
            self.message = Some((Health::Warn, "abandoning the statement: closing its connection…".into()));
            return SqlAction::Abandon;
        }
        if self.running.is_some() && cmd == Some(Cmd::Back) {
            self.cancelling = Some(now);
            self.message = Some((Health::Warn, "cancelling (KILL QUERY)…".into()));
            return SqlAction::Cancel;
        }
        let n_results = self.results.len();
        match cmd {
            Some(Cmd::Run) if self.running.is_none() => return self.prepare(guard, now),
            Some(Cmd::Run) => {}
            Some(Cmd::Export) => {
                let Some(r) = self.result().filter(|r| !r.columns.is_empty()) else {
                    self.message = Some((Health::Unknown, "no result to export".into()));
                    return SqlAction::None;
                };
                if self.exporting.is_some() || self.running.is_some() {
                    self.message = Some((Health::Unknown, "wait for the running statement or export to end".into()));
                    return SqlAction::None;
                }
                let stamp = chrono::DateTime::<chrono::Local>::from(wall).format("%Y%m%d-%H%M%S");
                let stem = format!("rdsdeck-result-{stamp}");
                if (r.total_rows as usize) <= r.rows.len() {
                    return SqlAction::Export(export_dir.to_path_buf(), stem);
                }
                // More rows than the grid keeps: the statement runs again straight into the file —
                // a read only (running a write twice is not an export).
                if crate::db::classify::classify(&r.sql).class == Class::Read {
                    let (total, sql) = (r.total_rows, r.sql.clone());
                    self.exporting = Some((now, 0));
                    self.message = Some((Health::Unknown, format!("exporting all {total} rows: the statement runs again into a file…")));
                    return SqlAction::ExportQuery(export_dir.to_path_buf(), stem, sql);
                }
                self.message = Some((Health::Warn, format!("exporting the {} rows kept (of {}): the statement is not a read, so it is not run again", r.rows.len(), r.total_rows)));
                return SqlAction::Export(export_dir.to_path_buf(), stem);
            }
            Some(Cmd::Back) => return SqlAction::Close,
            Some(Cmd::SwitchFocus) => self.focus_grid = !self.focus_grid,
            Some(Cmd::HistoryPrev) => self.recall(true),
            Some(Cmd::HistoryNext) => self.recall(false),
            Some(Cmd::NextTab) if self.focus_grid => self.shown = (self.shown + 1).min(n_results.saturating_sub(1)),
            Some(Cmd::PrevTab) if self.focus_grid => self.shown = self.shown.saturating_sub(1),
            Some(c) if self.focus_grid => {
                if let Some(r) = self.results.get_mut(self.shown) {
                    let last = r.rows.len().saturating_sub(1);
                    match c {
                        Cmd::Down => r.row = (r.row + 1).min(last),
                        Cmd::Up => r.row = r.row.saturating_sub(1),
                        Cmd::PageDown => r.row = (r.row + page).min(last),
                        Cmd::PageUp => r.row = r.row.saturating_sub(page),
                        Cmd::Top => r.row = 0,
                        Cmd::Bottom => r.row = last,
                        Cmd::Right => r.col = (r.col + 1).min(r.columns.len().saturating_sub(1)),
                        Cmd::Left => r.col = r.col.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            _ if self.focus_grid => {}
            _ => {
                self.editor.input(k);
            }
        }
        SqlAction::None
    }
}

/// Appends one statement to the history file (runs on a blocking thread): 0600 in a 0700 folder.
pub fn append_history(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = crate::files::append_private(path)?;
    writeln!(f, "{}", serde_json::to_string(text).unwrap_or_default())
}

/// Writes the kept rows as CSV to a new file in `dir` (runs on a blocking thread): a unique name,
/// 0600, never over an existing file. Returns where it went.
pub fn export_csv(dir: &std::path::Path, stem: &str, columns: &[String], rows: &[Vec<Cell>]) -> std::io::Result<PathBuf> {
    let (f, path) = crate::files::create_unique(dir, stem, "csv")?;
    let mut s = crate::db::output::sink(crate::db::output::Format::Csv, std::io::BufWriter::new(f));
    s.start(columns)?;
    for r in rows {
        s.row(r.clone())?;
    }
    s.finish()?;
    Ok(path)
}
