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
    /// Past the rows kept, a row is only counted: no cell is built.
    fn row_text(&mut self, row: &super::rows::TextRow<'_>) -> std::io::Result<()> {
        if self.sent + self.buf.len() >= self.keep {
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

/// The session loop: runs each batch of statements it receives; ends when
/// the command channel closes.
/// `keep`: rows of a result set that are built and sent; the rest are counted.
pub async fn serve(connector: Arc<Connector>, via: String, keep: usize, mut cmds: UnboundedReceiver<Vec<String>>, tx: UnboundedSender<Event>) {
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
            let mut sink = ChannelSink { tx: &tx, buf: Vec::new(), sent_first: false, keep, sent: 0, counted: 0 };
            match c.run(&sql, &mut sink).await.map_err(|e| connector.explain_wire(&e)) {
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
