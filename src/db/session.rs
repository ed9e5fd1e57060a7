//! A long-lived SQL session for the shell: one task owns the connection,
//! runs statements in order and streams results back as events. Rows come
//! through the same lean text-protocol reader as `rdsdeck sql` ([`super::wire`]),
//! with the same connection rules and error translation. A broken connection is
//! reopened with a fresh token on the next run.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::connect::{Connector, SessionInfo};
use super::rows::{Cell, Sink};
use super::wire::WireConn;

#[derive(Debug)]
pub enum Event {
    Connected(SessionInfo),
    Columns(Vec<String>),
    /// When the statement's first row came off the connection (sent just before it).
    FirstRow(std::time::Instant),
    Rows(Vec<Vec<Cell>>),
    /// Rows past what the consumer keeps: counted, never built or sent.
    Counted(u64),
    StatementDone { rows: u64, affected: u64, elapsed: Duration, first_row: Option<Duration> },
    Failed(String),
    /// KILL QUERY from the second connection failed (sent by the canceller, not the session).
    CancelFailed(String),
    /// Every statement of the batch ran (or one failed).
    Idle,
}

/// Sends rows in chunks, so a million-row result is a few thousand messages; past `keep` rows of a
/// result set it only counts them (memory stays bounded whatever the result's size).
struct ChannelSink<'a> {
    tx: &'a UnboundedSender<Event>,
    buf: Vec<Vec<Cell>>,
    sent_first: bool,
    keep: usize,
    sent: usize,
    counted: u64,
    cancelled: &'a std::sync::atomic::AtomicBool,
}

impl ChannelSink<'_> {
    fn send(&self, e: Event) -> std::io::Result<()> {
        self.tx.send(e).map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

const CHUNK: usize = 512;
/// How often rows past the kept ones are reported.
const COUNT_EVERY: u64 = 65_536;

impl Sink for ChannelSink<'_> {
    fn start(&mut self, columns: &[String]) -> std::io::Result<()> {
        self.sent_first = false;
        self.sent = 0;
        self.counted = 0;
        self.send(Event::Columns(columns.to_vec()))
    }
    /// Past the rows kept (or once cancelled), a row is only counted: no cell is built.
    fn row_text(&mut self, row: &super::rows::TextRow<'_>) -> std::io::Result<()> {
        if self.sent + self.buf.len() >= self.keep || self.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
            self.counted += 1;
            if self.counted % COUNT_EVERY == 0 {
                self.send(Event::Counted(COUNT_EVERY))?;
            }
            return Ok(());
        }
        self.row(row.iter().map(Cell::from_bytes).collect())
    }
    fn row(&mut self, row: Vec<Cell>) -> std::io::Result<()> {
        if !self.sent_first {
            self.send(Event::FirstRow(std::time::Instant::now()))?;
        }
        self.buf.push(row);
        // The first row goes at once (first rows on screen fast), then in chunks.
        if self.buf.len() >= CHUNK || !self.sent_first {
            self.sent_first = true;
            let rows = std::mem::take(&mut self.buf);
            self.sent += rows.len();
            self.send(Event::Rows(rows))?;
        }
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let rows = std::mem::take(&mut self.buf);
            self.sent += rows.len();
            self.send(Event::Rows(rows))?;
        }
        let rest = self.counted % COUNT_EVERY;
        if rest > 0 {
            self.send(Event::Counted(rest))?;
        }
        Ok(())
    }
}

/// What the shell can do to a running batch from outside the session's task.
#[derive(Default)]
pub struct Controls {
    /// Set when the user cancels (cleared by whoever sends the next batch, before sending it): a
    /// statement not sent yet is not sent, and rows still in flight (the server stops at KILL
    /// QUERY, but what it already sent must be read) are counted, not built or sent.
    pub cancelled: std::sync::atomic::AtomicBool,
    /// `notify_waiters` drops the running statement's connection at once (a cancel the server
    /// does not answer); the batch ends with a failure and the next one reconnects.
    pub abandon: tokio::sync::Notify,
}

/// The session loop: runs each batch of statements it receives; ends when
/// the command channel closes.
/// `keep`: rows of a result set that are built and sent; the rest are counted.
pub async fn serve(
    connector: Arc<Connector>,
    via: String,
    keep: usize,
    mut cmds: UnboundedReceiver<Vec<String>>,
    tx: UnboundedSender<Event>,
    controls: Arc<Controls>,
) {
    let mut conn: Option<WireConn> = None;
    while let Some(batch) = cmds.recv().await {
        if conn.is_none() {
            match connector.connect_wire().await {
                Ok(c) => {
                    let info = connector.wire_session_info(&c, &via);
                    let _ = tx.send(Event::Connected(info));
                    conn = Some(c);
                }
                Err(e) => {
                    let _ = tx.send(Event::Failed(e.to_string()));
                    let _ = tx.send(Event::Idle);
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        for sql in batch {
            if controls.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = tx.send(Event::Failed("cancelled before it was sent".into()));
                break;
            }
            let mut sink = ChannelSink { tx: &tx, buf: Vec::new(), sent_first: false, keep, sent: 0, counted: 0, cancelled: &controls.cancelled };
            let outcome = tokio::select! {
                r = c.run(&sql, &mut sink) => Some(r),
                _ = controls.abandon.notified() => None,
            };
            let Some(outcome) = outcome else {
                // Dropped, not closed: a COM_QUIT would wait behind the statement.
                conn = None;
                let _ = tx.send(Event::Failed(
                    "abandoned: the statement's connection is closed (the server may still finish the statement); the next run opens a new one".into(),
                ));
                break;
            };
            match outcome.map_err(|e| connector.explain_wire(&e)) {
                Ok(o) => {
                    let _ = tx.send(Event::StatementDone { rows: o.rows, affected: o.affected, elapsed: o.elapsed, first_row: o.first_row });
                }
                Err(e) => {
                    // A lost connection is reopened (with a new token) next time.
                    if e.code.is_none() {
                        conn = None;
                    }
                    let _ = tx.send(Event::Failed(e.to_string()));
                    break;
                }
            }
        }
        let _ = tx.send(Event::Idle);
    }
    if let Some(c) = conn {
        c.close().await;
    }
}
