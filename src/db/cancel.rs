//! Cancelling the SQL shell's running statement: `KILL QUERY <id>` from a
//! second connection. The connection is opened at the first cancel (with a
//! fresh token, like every connection) and kept for the next; one that broke
//! or was closed while idle (RDS Proxy closes idle clients) is replaced once.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use super::connect::{Connector, DbError};

/// How long a KILL QUERY may go unanswered.
const KILL_WAIT: Duration = Duration::from_secs(10);

pub struct Canceller {
    connector: Arc<Connector>,
    conn: Mutex<Option<Conn>>,
}

impl Canceller {
    pub fn new(connector: Arc<Connector>) -> Canceller {
        Canceller { connector, conn: Mutex::new(None) }
    }

    /// Interrupts the statement running on connection `id`; returns how long it took.
    pub async fn kill_query(&self, id: u32) -> Result<Duration, DbError> {
        let t = Instant::now();
        let mut slot = self.conn.lock().await;
        let kept = slot.is_some();
        for attempt in 0..2 {
            let conn = match slot.as_mut() {
                Some(c) => c,
                None => slot.insert(self.connector.connect().await?),
            };
            // A hung server does not answer the KILL either: the connection is dropped after
            // KILL_WAIT, so the next cancel opens a fresh one instead of queueing behind it.
            let answered = tokio::time::timeout(KILL_WAIT, conn.query_drop(format!("KILL QUERY {id}"))).await;
            let Ok(answered) = answered else {
                *slot = None;
                return Err(DbError { code: None, message: format!("KILL QUERY not answered within {}s: the server may be hung", KILL_WAIT.as_secs()) });
            };
            match answered {
                Ok(()) => return Ok(t.elapsed()),
                Err(e) => {
                    let err = self.connector.explain(&e);
                    *slot = None;
                    // A server error (unknown thread, no privilege) will not change on a new connection.
                    if attempt == 1 || !kept || err.code.is_some() {
                        return Err(err);
                    }
                    tracing::info!("cancel: the kept connection is gone ({err}); opening another");
                }
            }
        }
        unreachable!("the loop returns")
    }

    /// Opens the kept connection ahead of the first cancel.
    pub async fn warm(&self) -> Result<(), DbError> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.connector.connect().await?);
        }
        Ok(())
    }

    /// The id of the kept connection, if one is open (for tests).
    pub async fn connection_id(&self) -> Option<u32> {
        self.conn.lock().await.as_ref().map(|c| c.id())
    }

    pub async fn close(&self) {
        if let Some(c) = self.conn.lock().await.take() {
            let _ = c.disconnect().await;
        }
    }
}
