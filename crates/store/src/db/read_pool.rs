//! Read connections: a pool that takes a connection back untested (`ReadPool`, `PgReadPool`).
//! Must not serve writes: a write transaction has its own connection (`Writer`, `PgPools::write`).
//!
//! sqlx's pool tests every connection as it comes back, with a ping sent from a task spawned
//! for it. For SQLite a ping is a round trip to the connection's worker thread, as costly as
//! the query itself (perf: a reader thread woke twice per read); for PostgreSQL it is a
//! network round trip, and perf of lookups read from PostgreSQL had its backends spend more
//! time sending than executing. So a connection here is not tested on its way back:
//! - SQLite (`ReadPool`): an embedded file has no connection to lose, and a read cut short
//!   leaves nothing behind (the connection's thread finishes or resets the statement before
//!   it takes the next one), so a connection goes back to the idle list when its guard is
//!   dropped;
//! - PostgreSQL (`PgReadPool`): a connection goes back only if its holder says the read
//!   ended well (`ReadConn::keep`, which `on_read!` calls after its body). One dropped
//!   otherwise (an error, a request that went away mid-read, a server that went away) is
//!   closed, and the next read opens a new one.

use crate::db::PoolStats;
use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Connection};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Read connections, at most `max` of them, opened as needed.
#[derive(Debug)]
pub struct ReadPool<C: Connection = SqliteConnection>(Arc<Inner<C>>);

/// PostgreSQL's read connections.
pub type PgReadPool = ReadPool<sqlx::PgConnection>;

impl<C: Connection> Clone for ReadPool<C> {
    fn clone(&self) -> Self {
        ReadPool(self.0.clone())
    }
}

#[derive(Debug)]
struct Inner<C: Connection> {
    options: C::Options,
    max: u32,
    /// How long `acquire` waits for a connection before giving up.
    wait: Duration,
    /// Whether a connection dropped without `keep` goes back (SQLite) or is closed.
    keep_on_drop: bool,
    idle: Mutex<Vec<C>>,
    /// One permit per connection that may be in use.
    permits: Arc<Semaphore>,
    /// Connections open, idle or in use.
    open: AtomicU32,
    closed: AtomicBool,
}

/// A connection of the pool, to the holder until dropped.
#[derive(Debug)]
pub struct ReadConn<C: Connection = SqliteConnection> {
    conn: Option<C>,
    pool: Arc<Inner<C>>,
    /// Goes back to the idle list when dropped.
    keep: bool,
    _permit: OwnedSemaphorePermit,
}

impl ReadPool<SqliteConnection> {
    /// A pool of up to `max` SQLite connections; `eager` opens one now, so a bad path fails
    /// here.
    pub async fn open(
        options: sqlx::sqlite::SqliteConnectOptions,
        max: u32,
        wait: Duration,
        eager: bool,
    ) -> Result<ReadPool, sqlx::Error> {
        let pool = ReadPool::<SqliteConnection>::new(options, max, wait, true);
        if eager {
            drop(pool.acquire().await?);
        }
        Ok(pool)
    }
}

impl PgReadPool {
    /// A pool of up to `max` PostgreSQL connections, one opened now (a bad URL fails here).
    pub async fn open_pg(
        options: sqlx::postgres::PgConnectOptions,
        max: u32,
        wait: Duration,
    ) -> Result<PgReadPool, sqlx::Error> {
        let pool = PgReadPool::new(options, max, wait, false);
        pool.acquire().await?.keep();
        Ok(pool)
    }
}

impl<C: Connection> ReadPool<C> {
    fn new(options: C::Options, max: u32, wait: Duration, keep_on_drop: bool) -> Self {
        ReadPool(Arc::new(Inner {
            options,
            max,
            wait,
            keep_on_drop,
            idle: Mutex::new(Vec::with_capacity(max as usize)),
            permits: Arc::new(Semaphore::new(max as usize)),
            open: AtomicU32::new(0),
            closed: AtomicBool::new(false),
        }))
    }

    /// An idle connection, or a new one while fewer than `max` are open; waits otherwise.
    pub async fn acquire(&self) -> Result<ReadConn<C>, sqlx::Error> {
        let inner = &self.0;
        let permit = tokio::time::timeout(inner.wait, inner.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(sqlx::Error::PoolClosed);
        }
        let idle = inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let c = inner.options.connect().await?;
                inner.open.fetch_add(1, Ordering::Relaxed);
                c
            }
        };
        Ok(ReadConn {
            conn: Some(conn),
            keep: inner.keep_on_drop,
            pool: inner.clone(),
            _permit: permit,
        })
    }

    pub fn stats(&self) -> PoolStats {
        let idle = self.0.idle.lock().unwrap_or_else(|p| p.into_inner()).len() as u32;
        PoolStats {
            size: self.0.open.load(Ordering::Relaxed),
            idle,
            max: self.0.max,
        }
    }

    /// Waits (up to the acquire timeout) for the connections in use to come back, then
    /// closes them all; later acquires fail with `PoolClosed`.
    pub async fn close(&self) {
        let inner = &self.0;
        if inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // Every permit back means every connection is idle (or was dropped, closing it).
        let all = tokio::time::timeout(inner.wait, inner.permits.acquire_many(inner.max)).await;
        inner.permits.close();
        let idle = std::mem::take(&mut *inner.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for c in idle {
            inner.open.fetch_sub(1, Ordering::Relaxed);
            if let Err(e) = c.close().await {
                tracing::debug!(error = %e, "closing a read connection");
            }
        }
        if all.is_err() {
            tracing::warn!("read connections still in use at close");
        }
    }
}

impl<C: Connection> ReadConn<C> {
    /// The read ended well: the connection goes back to the idle list when dropped.
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl<C: Connection> Drop for ReadConn<C> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !self.keep || self.pool.closed.load(Ordering::SeqCst) {
            // Dropped, a connection is closed (SQLite: its thread ends; PostgreSQL: its
            // socket, and the server ends the session).
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.pool
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
    }
}

impl<C: Connection> std::ops::Deref for ReadConn<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn.as_ref().expect("held until dropped")
    }
}

impl<C: Connection> std::ops::DerefMut for ReadConn<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn.as_mut().expect("held until dropped")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_are_capped_reused_and_closed() {
        // As `Db::connect` does, before SQLite initialises (tests run on parallel threads).
        crate::db::sqlite::setup::configure();
        let path = std::env::temp_dir().join(format!("motcua-read-pool-{}.db", std::process::id()));
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = ReadPool::open(options, 2, Duration::from_millis(50), true)
            .await
            .unwrap();
        assert_eq!((pool.stats().size, pool.stats().idle), (1, 1));
        let mut a = pool.acquire().await.unwrap();
        let b = pool.acquire().await.unwrap();
        assert_eq!((pool.stats().size, pool.stats().idle), (2, 0));
        // Both in use: the third waits, then gives up.
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolTimedOut)));
        let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *a).await.unwrap();
        assert_eq!(one, 1);
        drop(a);
        // Given back untested, and taken again rather than a new one opened.
        let c = pool.acquire().await.unwrap();
        assert_eq!(pool.stats().size, 2);
        drop((b, c));
        pool.close().await;
        assert_eq!(pool.stats().size, 0);
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
        let _ = std::fs::remove_file(&path);
    }
}
