//! PostgreSQL's side of `Db`: its two pools (`PgPools`) and `PgTx`, a write transaction whose
//! deferred writes go as one statement. Must not guess from SQL text: callers name the table.

pub(crate) mod copy;
mod known;

pub use known::PgKnown;
pub(crate) use known::SeqHold;

use super::{PgReadPool, PoolStats, broken, debug_assert_writes, detached, redact};
use crate::{StoreError, StoreResult};
use sqlx::Arguments;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// PostgreSQL's two pools on one server: write transactions take from `write`, reads
/// (`on_read!`) from `read`. A request that reads while it holds a write transaction (the
/// assignee's roles, a procedure version not yet cached) so never waits for a connection that
/// only transactions hold: with one pool, as many such requests at once as connections waited
/// for each other until the pool's timeout. Reads have fewer connections than writes (which
/// wait on fsync and row locks): on 2 cores more readers only queue for the CPU.
#[derive(Clone, Debug)]
pub struct PgPools {
    pub write: PgPool,
    /// Not sqlx's pool: ours takes a connection back without a ping (`db/read_pool.rs`).
    pub read: PgReadPool,
    /// What this process knows of the numbering (see `PgKnown`).
    known: Arc<PgKnown>,
}

/// Connections of PostgreSQL's write pool and read pool.
const PG_WRITERS: u32 = 16;
const PG_READERS: u32 = 8;

impl PgPools {
    /// Opens both pools (`Db::connect_bounded`), every statement on them stopped by the
    /// server after `statement_timeout`, if any.
    pub(super) async fn connect(url: &str, statement_timeout: Option<Duration>) -> StoreResult<PgPools> {
        let mut opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect {
            url: redact(url),
            source: e,
        })?;
        if let Some(t) = statement_timeout {
            // In milliseconds; at least one, as 0 would mean none.
            opts = opts.options([("statement_timeout", t.as_millis().max(1))]);
        }
        // No ping before each use (a round trip per query): a connection broken by a
        // server restart fails one statement and is dropped by the pool.
        let pool = PgPoolOptions::new()
            .max_connections(PG_WRITERS)
            .min_connections(0)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts.clone());
        let err = |e| StoreError::Connect {
            url: redact(url),
            source: e,
        };
        let write = pool.await.map_err(err)?;
        let read = PgReadPool::open_pg(opts.clone(), PG_READERS, Duration::from_secs(5))
            .await
            .map_err(err)?;
        Ok(PgPools {
            write,
            read,
            known: Default::default(),
        })
    }

    /// Pool figures for /metrics (`Db::pool_stats`).
    pub(super) fn stats(&self) -> Vec<(&'static str, PoolStats)> {
        let write = PoolStats {
            size: self.write.size(),
            idle: self.write.num_idle() as u32,
            max: self.write.options().get_max_connections(),
        };
        vec![("write", write), ("read", self.read.stats())]
    }
}

/// A PostgreSQL write transaction: its deferred writes wait in batches, each sent as one
/// statement, and in a transaction of `Db::begin_grouped` its `BEGIN` waits too (*Deferred
/// writes* in `db`).
pub struct PgTx {
    conn: PgConn,
    /// Statements to send, each with its parts, the tables they write and its arguments.
    pending: Vec<PgBatch>,
    /// As `SqliteTx::broken`.
    broken: bool,
    /// What this process knows of the numbering (a transaction of `begin_grouped`).
    known: Option<Arc<PgKnown>>,
    /// The entry of the agency whose day's number was taken from `known` in this
    /// transaction: its deferred sequence update fails if another transaction took that
    /// number first. Left unknown unless the transaction commits.
    guessed: Option<SeqHold>,
    /// A guard was deferred (`defer_guard`): its failure is `StoreError::Retry`.
    guarded: bool,
}

enum PgConn {
    /// Not yet in a transaction: `BEGIN` waits for the first immediate statement.
    Idle(sqlx::pool::PoolConnection<Postgres>),
    Open(Transaction<'static, Postgres>),
    /// Lost to a failed `BEGIN` (or one its caller stopped waiting for): `Transaction::begin`
    /// takes the connection and gives nothing back. What is asked of it then fails (`gone`).
    Gone,
}

/// What a transaction whose `BEGIN` failed answers a caller that goes on with it; that
/// caller got the `BEGIN`'s own error first.
fn gone() -> sqlx::Error {
    sqlx::Error::Protocol("a transaction whose BEGIN failed cannot be used again".into())
}

#[derive(Default)]
struct PgBatch {
    parts: Vec<String>,
    tables: Vec<&'static str>,
    args: sqlx::postgres::PgArguments,
    params: usize,
    /// The part that must write a row (`PgTx::defer_guard`).
    guard: Option<usize>,
}

impl PgBatch {
    /// The parts as one statement (`WITH w0 AS (INSERT …), w1 AS (UPDATE …) INSERT …`): all
    /// but the last as data-modifying CTEs, the last as the main statement. With a guard
    /// (`PgTx::defer_guard`), every part is a CTE and the main statement reads the guard's
    /// rows, failing (division by zero, SQLSTATE 22012) if it wrote none. PostgreSQL runs the
    /// main statement first, then the CTEs nobody reads, in order: the guard's row locks are
    /// taken first.
    fn statement(&self) -> String {
        let main = match self.guard {
            Some(_) => self.parts.len(),
            None => self.parts.len() - 1,
        };
        let mut sql = String::new();
        for (i, part) in self.parts[..main].iter().enumerate() {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ({part})"));
        }
        if !sql.is_empty() {
            sql.push(' ');
        }
        match self.guard {
            Some(g) => sql.push_str(&format!("SELECT 1 / count(*)::int FROM w{g}")),
            None => sql.push_str(&self.parts[main]),
        }
        sql
    }
}

/// For immediate statements on an open transaction: one of `Db::begin`, or after a `flush`
/// that succeeded (`on_tx!` does one). Neither can be `Gone`, which has no connection to give
/// and panics here: only a caller that went on after `flush` failed could reach it, and
/// `flush`, `untransacted` and `commit` answer it with an error instead.
impl std::ops::Deref for PgTx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        match &self.conn {
            PgConn::Idle(c) => c,
            PgConn::Open(t) => t,
            PgConn::Gone => panic!("a transaction whose BEGIN failed is not used again"),
        }
    }
}

impl std::ops::DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        debug_assert!(
            self.pending.is_empty(),
            "deferred statements must be flushed before an immediate one"
        );
        debug_assert!(
            matches!(self.conn, PgConn::Open(_)),
            "an immediate statement runs in the transaction: flush (on_tx!) first"
        );
        self.connection()
            .expect("a transaction whose BEGIN failed is not used again")
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Not committed: the number taken is given back (rolled back), or was taken by
        // another transaction. The next intake of the agency reads the sequence row again.
        if let Some(mut hold) = self.guessed.take() {
            *hold = None;
        }
    }
}

impl PgTx {
    /// A transaction begun at once (`Db::begin`).
    pub(super) async fn begin(pg: &PgPools) -> Result<PgTx, sqlx::Error> {
        let pool = pg.write.clone();
        // Detached: a caller dropped meanwhile must not leave it begun (see `detached`).
        Ok(PgTx::new(
            PgConn::Open(detached(async move { pool.begin().await }).await?),
            None,
        ))
    }

    /// A transaction whose `BEGIN` waits for its first immediate statement
    /// (`Db::begin_grouped`).
    pub(super) async fn begin_grouped(pg: &PgPools) -> Result<PgTx, sqlx::Error> {
        let conn = pg.write.acquire().await?;
        Ok(PgTx::new(PgConn::Idle(conn), Some(pg.known.clone())))
    }

    fn new(conn: PgConn, known: Option<Arc<PgKnown>>) -> PgTx {
        PgTx {
            conn,
            pending: Vec::new(),
            broken: false,
            known,
            guessed: None,
            guarded: false,
        }
    }

    /// Whether `BEGIN` was sent: reads before it see no snapshot of the transaction's own
    /// and lock nothing (`repo::dossiers::find_for_action_tx`).
    pub(crate) fn begun(&self) -> bool {
        matches!(self.conn, PgConn::Open(_))
    }

    /// The connection, in the transaction or not yet (see `untransacted`).
    fn connection(&mut self) -> Result<&mut sqlx::PgConnection, sqlx::Error> {
        match &mut self.conn {
            PgConn::Idle(c) => Ok(c),
            PgConn::Open(t) => Ok(t),
            PgConn::Gone => Err(gone()),
        }
    }

    /// The connection for a statement whose effect no transaction undoes (`nextval`), or a
    /// read before the transaction begins (`begun`): neither begins the transaction nor
    /// sends the deferred writes.
    pub(crate) fn untransacted(&mut self) -> Result<&mut sqlx::PgConnection, sqlx::Error> {
        self.connection()
    }

    /// What this process knows of the numbering (transactions of `begin_grouped`).
    pub(crate) fn known(&self) -> Option<&Arc<PgKnown>> {
        self.known.as_ref()
    }

    /// The day's number of an agency in this transaction came from `known`.
    pub(crate) fn guessed(&mut self, hold: SeqHold) {
        self.guessed = Some(hold);
    }

    /// Begins the transaction if it has not begun.
    async fn open(&mut self) -> Result<(), sqlx::Error> {
        if let PgConn::Idle(_) = self.conn {
            let PgConn::Idle(c) = std::mem::replace(&mut self.conn, PgConn::Gone) else {
                unreachable!()
            };
            // Detached: a caller dropped meanwhile must not leave it begun (see `detached`).
            self.conn = PgConn::Open(detached(Transaction::begin(c, None)).await?);
        }
        match self.conn {
            PgConn::Gone => Err(gone()),
            _ => Ok(()),
        }
    }

    /// Begins the transaction if need be and sends the deferred statements, if any, one
    /// round trip per batch.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        if self.broken {
            return Err(broken());
        }
        self.open().await?;
        self.send_pending().await
    }

    async fn send_pending(&mut self) -> Result<(), sqlx::Error> {
        for batch in std::mem::take(&mut self.pending) {
            let sql = batch.statement();
            sqlx::query_with(&sql, batch.args)
                .execute(self.connection()?)
                .await?;
        }
        Ok(())
    }

    /// Commits: the deferred writes, then `COMMIT`; a transaction never begun whose writes
    /// are one statement sends that statement alone.
    pub(super) async fn commit(mut self) -> StoreResult<()> {
        let result = match self.conn {
            _ if self.broken => Err(broken()),
            PgConn::Idle(_) if self.pending.len() <= 1 => self.send_pending().await,
            _ => match self.flush().await {
                Ok(()) => match std::mem::replace(&mut self.conn, PgConn::Gone) {
                    PgConn::Open(t) => t.commit().await,
                    _ => Err(gone()),
                },
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => {
                // Committed: the entry keeps the number.
                drop(self.guessed.take());
                Ok(())
            }
            // A guard wrote no row (`defer_guard`): another transaction took the day's
            // number (`repo::codes::reserve`; `Drop` leaves the agency's entry unknown) or
            // changed the dossier read before `BEGIN` (`repo::dossiers::save_state`).
            Err(sqlx::Error::Database(e)) if self.guarded && e.code().as_deref() == Some("22012") => Err(
                StoreError::Retry("a row this transaction relies on was changed meanwhile".into()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Defers one INSERT or UPDATE of `table` with parameters `$1…$n` (each may repeat);
    /// `bind` adds the n values in order.
    pub fn defer(
        &mut self,
        table: &'static str,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
        self.defer_part(table, sql, bind, false)
    }

    /// As `defer`, for a guard (*Deferred writes* in `db`): an UPDATE without RETURNING (added
    /// here). It leads the statement sent with it (`PgBatch::statement`), so its row locks
    /// come first, in the order every transaction takes them: none deadlock.
    pub fn defer_guard(
        &mut self,
        table: &'static str,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
        self.defer_part(table, &format!("{sql} RETURNING 1"), bind, true)
    }

    fn defer_part(
        &mut self,
        table: &'static str,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
        guard: bool,
    ) -> Result<(), sqlx::Error> {
        debug_assert_writes(table, sql);
        // A new statement for a table already written (its rows would not be seen) or for a
        // second guard (a statement checks one).
        let joins = |b: &PgBatch| !(b.tables.contains(&table) || guard && b.guard.is_some());
        if !self.pending.last().is_some_and(joins) {
            self.pending.push(PgBatch::default());
        }
        let batch = self.pending.last_mut().expect("just pushed");
        let before = batch.args.len();
        if let Err(e) = bind(&mut batch.args) {
            self.broken = true;
            return Err(sqlx::Error::Encode(e));
        }
        let offset = batch.params;
        let mut part = String::with_capacity(sql.len() + 16);
        let mut highest = 0;
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                highest = highest.max(n);
                part.push_str(&format!("${}", n + offset));
            } else {
                part.push(c);
            }
        }
        debug_assert_eq!(
            batch.args.len() - before,
            highest,
            "one value per parameter: {sql}"
        );
        batch.params += highest;
        if guard {
            batch.guard = Some(batch.parts.len());
            self.guarded = true;
        }
        batch.parts.push(part);
        batch.tables.push(table);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(parts: &[&str], guard: Option<usize>) -> PgBatch {
        PgBatch {
            parts: parts.iter().map(|p| p.to_string()).collect(),
            guard,
            ..Default::default()
        }
    }

    /// After a failed `BEGIN` the transaction answers with errors, never a panic.
    #[tokio::test]
    async fn a_transaction_whose_begin_failed_fails_what_it_is_asked() {
        let mut tx = PgTx::new(PgConn::Gone, None);
        assert!(!tx.begun());
        assert!(tx.untransacted().is_err());
        assert!(tx.flush().await.is_err());
        assert!(tx.commit().await.is_err());
    }

    #[test]
    fn a_batch_is_one_statement_led_by_its_guard() {
        assert_eq!(batch(&["INSERT a"], None).statement(), "INSERT a");
        assert_eq!(
            batch(&["INSERT a", "INSERT b", "UPDATE c"], None).statement(),
            "WITH w0 AS (INSERT a), w1 AS (INSERT b) UPDATE c"
        );
        // Every part a CTE; the main statement reads the guard's rows (and fails on none).
        assert_eq!(
            batch(&["UPDATE g RETURNING x", "INSERT a"], Some(0)).statement(),
            "WITH w0 AS (UPDATE g RETURNING x), w1 AS (INSERT a) SELECT 1 / count(*)::int FROM w0"
        );
    }
}
