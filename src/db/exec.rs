//! Running statements: the guard (read-only, destructive confirmation) and
//! streaming a statement's result sets into a sink.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::time::Instant;

use super::classify::{Class, classify};
use super::connect::{Connector, DbError};
pub use super::rows::Outcome;
use super::rows::{Cell, Sink};

/// One decision point for what may run (read-only mode, destructive statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub read_only: bool,
    /// Destructive statements were confirmed (`--yes`, or the shell's prompt).
    pub confirmed: bool,
}

impl Guard {
    pub fn check(&self, sql: &str) -> Result<Class, String> {
        let v = classify(sql);
        match v.class {
            Class::Read => Ok(v.class),
            _ if self.read_only => Err(format!("read-only mode: refusing a write ({})", v.reason)),
            Class::Destructive if !self.confirmed => {
                Err(format!("{} is destructive: confirm it (--yes on the command line)", v.reason))
            }
            c => Ok(c),
        }
    }
}


/// Runs one statement, writing every result set's rows to `sink` as they arrive.
pub async fn run<S: Sink + ?Sized>(conn: &mut Conn, connector: &Connector, sql: &str, sink: &mut S) -> Result<Outcome, DbError> {
    let start = Instant::now();
    let mut out = Outcome::default();
    let mut result = conn.query_iter(sql).await.map_err(|e| connector.explain(&e))?;
    loop {
        let columns: Vec<String> = result.columns_ref().iter().map(|c| c.name_str().into_owned()).collect();
        if !columns.is_empty() {
            out.result_sets += 1;
            sink.start(&columns).map_err(io)?;
            while let Some(row) = result.next().await.map_err(|e| connector.explain(&e))? {
                out.first_row.get_or_insert_with(|| start.elapsed());
                sink.row(row.unwrap().into_iter().map(Cell::from_value).collect()).map_err(io)?;
                out.rows += 1;
            }
            sink.finish().map_err(io)?;
        } else {
            out.affected += result.affected_rows();
            // Consume the (empty) set to move on.
            while result.next().await.map_err(|e| connector.explain(&e))?.is_some() {}
        }
        if result.is_empty() {
            break;
        }
    }
    out.elapsed = start.elapsed();
    Ok(out)
}

fn io(e: std::io::Error) -> DbError {
    DbError { code: None, message: if e.kind() == std::io::ErrorKind::BrokenPipe { "output closed".into() } else { e.to_string() } }
}
