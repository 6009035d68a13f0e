//! Read connections: a pool that takes a connection back untested (`ReadPool`, `PgReadPool`).
//! Must not serve writes: a write transaction has its own connection (`Writer`, `PgPools::write`).
//!
//! sqlx's pool tests every connection as it comes back, with a ping sent from a task spawned
//! for it. For SQLite a ping is a round trip to the connection's worker thread, as costly as
//! the query itself (perf: a reader thread woke twice per read); for PostgreSQL it is a
//! network round trip, and perf of lookups read from PostgreSQL had its backends spend more
//! time sending than executing. So a connection here is not tested on its way back: it goes
//! back to the idle list only if its holder says the read ended well (`ReadConn::keep`, which
//! `on_read!` calls after its body). One dropped otherwise (an error, a request that went
//! away mid-read, a server that went away) is closed, and the next read opens a new one.
//!
//! # Bounds (issue 25)
//!
//! A statement whose caller has gone must not run on: sqlx hands a SQLite statement to the
//! connection's thread, which runs it to its end whether or not anyone waits (two abandoned
//! requests held the server's reads for ten minutes), and PostgreSQL runs a query until it
//! has rows to send. So:
//! - SQLite: each connection has a progress handler (`Watch`) that stops its statement
//!   (`SQLITE_INTERRUPT`) once the holder dropped the connection without `keep`, or once the
//!   read has run longer than the pool's `timeout` (`Db::connect_bounded`), counted from
//!   `acquire`;
//! - PostgreSQL: the server stops any statement after `statement_timeout`, set on the
//!   connection by `PgPools::connect`.

use crate::db::PoolStats;
use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Connection};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
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
    /// How long a read may run, from `acquire` (SQLite; PostgreSQL bounds its statements
    /// itself). None: no bound.
    timeout: Option<Duration>,
    idle: Mutex<Vec<(C, Arc<Watch>)>>,
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
    watch: Arc<Watch>,
    pool: Arc<Inner<C>>,
    /// Goes back to the idle list when dropped.
    keep: bool,
    _permit: OwnedSemaphorePermit,
}

/// What a connection's statements are stopped by (SQLite's progress handler reads it): the
/// read's deadline, and whether its holder went away.
#[derive(Debug, Default)]
pub struct Watch {
    /// Milliseconds after `epoch()` past which the statement stops, plus one; 0: none.
    deadline: AtomicU64,
    /// The holder dropped the connection without `keep`.
    cancelled: AtomicBool,
}

/// The instant deadlines count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Watch {
    /// A new read: not cancelled, due to end within `timeout` if any.
    fn arm(&self, timeout: Option<Duration>) {
        self.cancelled.store(false, Ordering::SeqCst);
        let deadline = timeout.map_or(0, |t| {
            let at = epoch().elapsed().saturating_add(t).as_millis();
            u64::try_from(at).unwrap_or(u64::MAX - 1) + 1
        });
        self.deadline.store(deadline, Ordering::SeqCst);
    }

    /// Whether the statement may go on.
    pub fn proceed(&self) -> bool {
        if self.cancelled.load(Ordering::Relaxed) {
            return false;
        }
        match self.deadline.load(Ordering::Relaxed) {
            0 => true,
            d => (epoch().elapsed().as_millis() as u64) < d - 1,
        }
    }
}

/// SQLite virtual machine steps between two calls of the progress handler: a few
/// microseconds of work, so a statement stops within about a millisecond of its bound.
const PROGRESS_STEPS: i32 = 1000;

/// A connection whose statements a `Watch` can stop.
pub trait Watched: Connection {
    /// Makes `watch` stop this connection's statements (once, when it is opened).
    fn watch(
        &mut self,
        watch: Arc<Watch>,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send;
}

impl Watched for SqliteConnection {
    async fn watch(&mut self, watch: Arc<Watch>) -> Result<(), sqlx::Error> {
        let mut handle = self.lock_handle().await?;
        handle.set_progress_handler(PROGRESS_STEPS, move || watch.proceed());
        Ok(())
    }
}

/// PostgreSQL stops its statements itself (`statement_timeout`).
impl Watched for sqlx::PgConnection {
    async fn watch(&mut self, _: Arc<Watch>) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl ReadPool<SqliteConnection> {
    /// A pool of up to `max` SQLite connections, each read stopped after `timeout` if any;
    /// `eager` opens one now, so a bad path fails here.
    pub async fn open(
        options: sqlx::sqlite::SqliteConnectOptions,
        max: u32,
        wait: Duration,
        timeout: Option<Duration>,
        eager: bool,
    ) -> Result<ReadPool, sqlx::Error> {
        let pool = ReadPool::<SqliteConnection>::new(options, max, wait, timeout);
        if eager {
            pool.acquire().await?.keep();
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
        let pool = PgReadPool::new(options, max, wait, None);
        pool.acquire().await?.keep();
        Ok(pool)
    }
}

impl<C: Watched> ReadPool<C> {
    fn new(options: C::Options, max: u32, wait: Duration, timeout: Option<Duration>) -> Self {
        ReadPool(Arc::new(Inner {
            options,
            max,
            wait,
            timeout,
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
        let (conn, watch) = match idle {
            Some(c) => c,
            None => {
                let mut c = inner.options.connect().await?;
                let watch = Arc::new(Watch::default());
                c.watch(watch.clone()).await?;
                inner.open.fetch_add(1, Ordering::Relaxed);
                (c, watch)
            }
        };
        watch.arm(inner.timeout);
        Ok(ReadConn {
            conn: Some(conn),
            watch,
            keep: false,
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
        for (c, _) in idle {
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
        if !self.keep {
            // A statement may still be running (its caller went away): SQLite's progress
            // handler stops it, and its thread ends with the connection.
            self.watch.cancelled.store(true, Ordering::SeqCst);
        }
        if !self.keep || self.pool.closed.load(Ordering::SeqCst) {
            // Dropped, a connection is closed (SQLite: its thread ends once its statement
            // has stopped; PostgreSQL: its socket, and the server ends the session).
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.pool
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((conn, self.watch.clone()));
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
        let pool = ReadPool::open(options, 2, Duration::from_millis(50), None, true)
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
        a.keep();
        drop(a);
        // Given back untested, and taken again rather than a new one opened.
        let mut c = pool.acquire().await.unwrap();
        assert_eq!(pool.stats().size, 2);
        c.keep();
        // Dropped without `keep` (a read cut short), a connection is closed.
        drop(b);
        assert_eq!(pool.stats().size, 1);
        drop(c);
        pool.close().await;
        assert_eq!(pool.stats().size, 0);
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
        let _ = std::fs::remove_file(&path);
    }
}
