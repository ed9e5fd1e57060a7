//! A pool of IAM connections that signs a fresh token for every physical
//! connection it opens. mysql_async's own pool keeps one password for its
//! lifetime, which for IAM is a token that expires after 15 minutes; here the
//! [`Connector`] signs at each connect, so an idle pool never fails later on a
//! stale token. (RDS checks the token only at login: an open connection
//! outlives it.) Idle connections are reused after a ping, and closed after
//! `idle_timeout` (RDS Proxy closes idle client connections too).

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::connect::{Connector, DbError};

#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Arc<Connector>,
    idle: Mutex<Vec<(Conn, Instant)>>,
    open: Arc<Semaphore>,
    max_idle: usize,
    idle_timeout: Duration,
    stats: Mutex<PoolStats>,
}

/// What the pool has done (for the status line and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Physical connections opened, each with its own freshly signed token.
    pub opened: u64,
    /// Checkouts served by an idle connection.
    pub reused: u64,
    /// Idle connections dropped (too old, or the ping failed).
    pub discarded: u64,
}

/// A checked-out connection; it goes back to the pool when dropped.
pub struct Pooled {
    conn: Option<Conn>,
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// At most `max_open` connections at once, `max_idle` kept when returned.
    pub fn new(connector: Arc<Connector>, max_open: usize, max_idle: usize, idle_timeout: Duration) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                connector,
                idle: Mutex::new(Vec::new()),
                open: Arc::new(Semaphore::new(max_open.max(1))),
                max_idle,
                idle_timeout,
                stats: Mutex::new(PoolStats::default()),
            }),
        }
    }

    pub fn connector(&self) -> &Connector {
        &self.inner.connector
    }

    pub fn stats(&self) -> PoolStats {
        *self.inner.stats.lock().expect("pool stats")
    }

    /// An idle connection that still answers, else a new one with a fresh token.
    pub async fn get(&self) -> Result<Pooled, DbError> {
        let permit = self.inner.open.clone().acquire_owned().await.map_err(|_| DbError { code: None, message: "the pool is closed".into() })?;
        loop {
            let next = self.inner.idle.lock().expect("pool idle list").pop();
            let Some((mut conn, since)) = next else { break };
            if since.elapsed() <= self.inner.idle_timeout && conn.ping().await.is_ok() {
                self.inner.stats.lock().expect("pool stats").reused += 1;
                return Ok(Pooled { conn: Some(conn), inner: self.inner.clone(), _permit: permit });
            }
            self.inner.stats.lock().expect("pool stats").discarded += 1;
            tokio::spawn(async move {
                let _ = conn.disconnect().await;
            });
        }
        let conn = self.inner.connector.connect().await?;
        self.inner.stats.lock().expect("pool stats").opened += 1;
        Ok(Pooled { conn: Some(conn), inner: self.inner.clone(), _permit: permit })
    }

    /// Stops the running statement of connection `id` from another (pooled) connection.
    pub async fn kill_query(&self, id: u32) -> Result<Duration, DbError> {
        let t = Instant::now();
        let mut c = self.get().await?;
        match c.query_drop(format!("KILL QUERY {id}")).await {
            Ok(()) => Ok(t.elapsed()),
            Err(e) => {
                let err = self.inner.connector.explain(&e);
                c.discard();
                Err(err)
            }
        }
    }

    /// Closes every idle connection.
    pub async fn close(&self) {
        let idle: Vec<(Conn, Instant)> = std::mem::take(&mut *self.inner.idle.lock().expect("pool idle list"));
        for (c, _) in idle {
            let _ = c.disconnect().await;
        }
    }
}

impl Pooled {
    /// Closes this connection instead of returning it (after an error that may have broken it).
    pub fn discard(mut self) {
        if let Some(c) = self.conn.take() {
            tokio::spawn(async move {
                let _ = c.disconnect().await;
            });
        }
    }
}

impl Deref for Pooled {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("a pooled connection until dropped")
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a pooled connection until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let mut idle = self.inner.idle.lock().expect("pool idle list");
        if idle.len() < self.inner.max_idle {
            idle.push((conn, Instant::now()));
        } else {
            drop(idle);
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    let _ = conn.disconnect().await;
                });
            }
        }
    }
}
