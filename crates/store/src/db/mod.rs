//! The `Db` enum and the write transaction `Tx` over both backends, and the macros that
//! repositories use on them. Must not hold a backend's machinery: that is `sqlite`, `pg`.
//!
//! # Deferred writes
//!
//! Most of a request's writes are INSERTs and UPDATEs whose result nobody reads: a dossier's
//! row, its steps and events, outbox messages, report counters. Sent one at a time, each
//! would cost a round trip to PostgreSQL or a hand-off to SQLite's connection thread and
//! back, while the transaction holds the SQLite writer or its PostgreSQL row locks. So they
//! wait, and go together. This is the contract; other places point here.
//!
//! - **What may wait**: an `INSERT INTO t …` or `UPDATE t …` without RETURNING whose row
//!   count nobody needs (`write_later!`, or `write_guarded!` for a guard). The caller names
//!   `t`, the table it writes; debug builds check the SQL against it.
//! - **When it is sent**: before the transaction's next immediate statement (`on_tx!` and
//!   `Tx::flush` send what waits first, so a read in the transaction sees it), or with the
//!   commit.
//! - **How errors surface**: a deferred write's error (a constraint, a foreign key) comes
//!   from that later call, the next `on_tx!`, `flush` or `commit`, and the transaction is
//!   lost as after any failed statement. A value that cannot be encoded fails at once, and
//!   the transaction can no longer commit (its values no longer match its statements).
//! - **Guards** (`write_guarded!`): an UPDATE of a row read earlier, which must still match
//!   its WHERE clause (a dossier's version, a day's last number). A guard that writes no row
//!   fails the commit with `StoreError::Retry` and nothing of the transaction is kept: another
//!   transaction changed the row in between, and the caller may simply try again.
//!
//! How each backend carries it out:
//!
//! - **SQLite** (`SqliteTx`): what waits is one script, sent to the connection's thread in
//!   one hand-off, the COMMIT (or a group member's RELEASE) in the same one. The one writer
//!   holds the database lock from the transaction's start (`BEGIN IMMEDIATE`), so a row read
//!   in it cannot change: a guard is a plain deferred write there.
//! - **PostgreSQL** (`PgTx`): what waits is sent as one statement, the writes but the last as
//!   its data-modifying CTEs (`PgBatch::statement`): one round trip. The parts of a statement
//!   share one snapshot and cannot see each other's rows, so a write to a table the statement
//!   already writes starts another statement (this is what the table's name is for); foreign
//!   keys are checked when every part has run. A guard leads its statement, so its row locks
//!   come first, and the statement fails when it writes no row. A transaction of
//!   `Db::begin_grouped` sends `BEGIN` only with its first immediate statement, and one with
//!   none whose writes are one statement sends that statement alone, without `BEGIN` and
//!   `COMMIT` (a single statement is atomic): an intake whose day's number this process knows
//!   (`PgKnown`) is one round trip instead of four. What it read before `BEGIN` was not
//!   locked: its guards check it.

mod pg;
mod read_pool;
pub(crate) mod sqlite;

pub(crate) use pg::copy;
pub use pg::{PgPools, PgTx};
pub(crate) use read_pool::PgReadPool;
pub use read_pool::{ReadConn, ReadPool};
pub use sqlite::SqliteTx;
pub(crate) use sqlite::bulk;

use crate::{StoreError, StoreResult};
use sqlite::Writer;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, by its scheme.
    pub fn of_url(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite://") || url.starts_with("sqlite:") && !url.contains("://") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnknownScheme(redact(url)))
        }
    }
}

/// The database: embedded SQLite (one file) or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        /// One connection: SQLite has one writer; serialising in-process avoids BUSY.
        write: Writer,
        read: ReadPool,
        path: PathBuf,
        /// Opened by `connect_bulk` with a rollback journal, put back to WAL by `close`.
        bulk: bool,
    },
    Postgres(PgPools),
}

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

/// Runs `f` to its end even if the caller stops waiting for it (a request dropped while its
/// transaction begins or commits). A statement handed to SQLite runs whether or not anyone
/// waits for its answer, so what the writer's state depends on — the group's outcome, the
/// savepoint to release — must be done too; cut short, a member's RELEASE could have run
/// while its rollback then failed the whole group, and a group's members could be told it
/// failed although its COMMIT ran.
///
/// A PostgreSQL `BEGIN` runs detached too. sqlx (0.8.6) counts a transaction as begun only
/// once the server's answer to `BEGIN` is read; a caller dropped in between would send the
/// connection back to the pool inside a transaction nobody rolls back. The next transaction
/// given it that sends no `BEGIN` of its own (a single-statement write of `begin_grouped`)
/// would write uncommitted, holding its row locks until the connection was used again.
/// Run to its end, the begun transaction is dropped with its `Transaction`, which rolls it
/// back.
async fn detached<T: Send + 'static>(
    f: impl std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    match tokio::spawn(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(sqlx::Error::Protocol("the runtime stopped".into())),
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Runs the same body against whichever pool the `Db` holds (read side). The connection goes
/// back to its pool only after a body that ended well; cut short (an error, or the caller
/// gone), it is closed, and a statement still running on it is stopped (`read_pool`, *Bounds*).
#[macro_export]
macro_rules! on_read {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite { read, .. } => {
                let mut conn = read.acquire().await?;
                let out = {
                    let $pool = &mut *conn;
                    $body
                };
                conn.keep();
                out
            }
            $crate::Db::Postgres(pg) => {
                let mut conn = pg.read.acquire().await?;
                let out = {
                    let $pool = &mut *conn;
                    $body
                };
                // Back to the pool only after a read that ended well (`ReadConn::keep`).
                conn.keep();
                out
            }
        }
    };
}

fn broken() -> sqlx::Error {
    sqlx::Error::Protocol(
        "a deferred statement could not encode its values; the transaction cannot commit".into(),
    )
}

/// Defers a write whose result nobody reads: `write_later!(tx, "table", sql, args => { … })`.
/// What may be deferred, when it is sent and where its error comes from: *Deferred writes*
/// in the store's `db` module. `"table"` is the table `sql` writes; `sql` is in the
/// transaction's dialect (`repo::positional`); the block adds one value per parameter, in
/// order, with `sqlx::Arguments::add` on `args`.
#[macro_export]
macro_rules! write_later {
    // The expansion both macros share: PostgreSQL's `PgTx` method named, SQLite's `defer`.
    (@via $pg:ident, $tx:expr, $table:expr, $sql:expr, $args:ident => $binds:block) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                t.defer($table, $sql, |$args| {
                    $binds;
                    Ok(())
                })?;
            }
            $crate::Tx::Postgres(t) => {
                t.$pg($table, $sql, |$args| {
                    $binds;
                    Ok(())
                })?;
            }
        }
    };
    ($tx:expr, $table:expr, $sql:expr, $args:ident => $binds:block) => {
        $crate::write_later!(@via defer, $tx, $table, $sql, $args => $binds)
    };
}

/// As `write_later!`, for a guard: an UPDATE (no RETURNING) of a row read earlier, which must
/// still match its WHERE clause, or the commit fails with `StoreError::Retry` (*Deferred
/// writes* in the store's `db` module).
#[macro_export]
macro_rules! write_guarded {
    ($tx:expr, $table:expr, $sql:expr, $args:ident => $binds:block) => {
        $crate::write_later!(@via defer_guard, $tx, $table, $sql, $args => $binds)
    };
}

/// Debug builds: a deferred statement writes the table its caller named, so that a wrong name
/// (which PostgreSQL relies on: *Deferred writes*) fails the tests instead of a request.
fn debug_assert_writes(table: &str, sql: &str) {
    debug_assert!(
        writes(table, sql),
        "a deferred statement must write `{table}`: {sql}"
    );
}

/// `sql` begins `INSERT INTO table` or `UPDATE table`.
fn writes(table: &str, sql: &str) -> bool {
    let mut words = sql.split_whitespace();
    let target = match words.next() {
        Some(w) if w.eq_ignore_ascii_case("UPDATE") => words.next(),
        Some(w) if w.eq_ignore_ascii_case("INSERT") => match words.next() {
            Some(into) if into.eq_ignore_ascii_case("INTO") => words.next(),
            _ => None,
        },
        _ => None,
    };
    // `INSERT INTO t(a, b)`: the name ends at its column list.
    target.is_some_and(|t| t.split('(').next() == Some(table))
}

/// Runs the same body against the connection of a write transaction, once the writes
/// deferred in it are sent (*Deferred writes*).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                t.flush().await?;
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                t.flush().await?;
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Opens the database a URL names; the scheme picks the backend. Creates a SQLite file
    /// (not its directory) if missing. Statements run as long as they take (the commands);
    /// a server bounds them (`connect_bounded`).
    pub async fn connect(url: &str) -> StoreResult<Db> {
        Self::connect_bounded(url, None).await
    }

    /// `connect`, each statement stopped with an error once it has run `statement_timeout`
    /// (`StoreError::is_timeout`): on SQLite every read (from taking its connection; the one
    /// writer's statements are short, and a read never holds it up: WAL), on PostgreSQL
    /// every statement (`statement_timeout`; migrations and counter rebuilds lift it for
    /// their own transaction, `Tx::unbounded`). A read whose caller goes away is stopped in
    /// any case (`read_pool`, *Bounds*).
    pub async fn connect_bounded(url: &str, statement_timeout: Option<Duration>) -> StoreResult<Db> {
        match Backend::of_url(url)? {
            Backend::Sqlite => sqlite::connect(sqlite_path(url), false, statement_timeout).await,
            Backend::Postgres => Ok(Db::Postgres(PgPools::connect(url, statement_timeout).await?)),
        }
    }

    /// Opens the database for a bulk load (`motcua import dossiers`). On SQLite, when no
    /// other connection has the file open, writes go through a rollback journal instead of
    /// the WAL: pages new to the file are written once, not to the WAL and again at the
    /// checkpoint (about 20% faster at 1M rows); `close` puts the file back in WAL mode. A
    /// server opening the file meanwhile gets "database is locked" until the load ends. When
    /// another connection has it open (a running server), the load goes through the WAL as
    /// usual. PostgreSQL: as `connect`.
    pub async fn connect_bulk(url: &str) -> StoreResult<Db> {
        match Backend::of_url(url)? {
            Backend::Sqlite => sqlite::connect(sqlite_path(url), true, None).await,
            Backend::Postgres => Self::connect(url).await,
        }
    }

    /// A SQLite database opened for a bulk load (`connect_bulk`) that another connection
    /// had open: the load goes through the WAL instead of a rollback journal.
    pub fn loads_through_wal(&self) -> bool {
        matches!(self, Db::Sqlite { bulk: false, .. })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite so a read-then-write never
    /// fails with BUSY halfway; a plain `BEGIN` on PostgreSQL.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(SqliteTx::begin(write).await?),
            Db::Postgres(pg) => Tx::Postgres(PgTx::begin(pg).await?),
        })
    }

    /// Begins a short write transaction that may share its COMMIT with others arriving
    /// meanwhile (group commit on SQLite: see `Group`); `commit` still returns only once it
    /// is durable, and a failure rolls back this transaction alone. For the transactions of
    /// requests (an intake, an action): never for long ones, which would hold the group's
    /// members waiting. PostgreSQL commits concurrent transactions' WAL together by itself:
    /// there the transaction begins late instead (*Deferred writes*).
    pub async fn begin_grouped(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_grouped().await?),
            Db::Postgres(pg) => Tx::Postgres(PgTx::begin_grouped(pg).await?),
        })
    }

    /// The database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        on_read!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Group commit figures (`begin_grouped`) for /metrics: (groups, transactions in them).
    /// SQLite only.
    pub fn group_stats(&self) -> Option<(u64, u64)> {
        match self {
            Db::Sqlite { write, .. } => Some(write.group_stats()),
            Db::Postgres(_) => None,
        }
    }

    /// Pool figures for /metrics.
    pub fn pool_stats(&self) -> Vec<(&'static str, PoolStats)> {
        match self {
            Db::Sqlite { write, read, .. } => {
                let busy = write.busy() as u32;
                vec![
                    (
                        "write",
                        PoolStats {
                            size: 1,
                            idle: 1 - busy,
                            max: 1,
                        },
                    ),
                    ("read", read.stats()),
                ]
            }
            Db::Postgres(pg) => pg.stats(),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                write, read, bulk, ..
            } => sqlite::close(write, read, *bulk).await,
            Db::Postgres(pg) => {
                pg.read.close().await;
                pg.write.close().await;
            }
        }
    }
}

impl Tx {
    /// Lifts the statement bound (`Db::connect_bounded`) for the rest of this transaction:
    /// for migrations and rebuilds, whose statements may run long on a large database.
    /// PostgreSQL only: SQLite's writer is not bounded.
    pub async fn unbounded(&mut self) -> StoreResult<()> {
        if let Tx::Postgres(t) = self {
            t.flush().await?;
            sqlx::query("SET LOCAL statement_timeout = 0")
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Sends the deferred statements now (`write_later!`).
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.flush().await,
            Tx::Postgres(t) => t.flush().await,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            // Seen through even if the caller goes away (see `detached`).
            Tx::Sqlite(t) => detached(t.commit()).await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The file path of a `sqlite://PATH` (or `sqlite:PATH`) URL.
pub fn sqlite_path(url: &str) -> &Path {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Path::new(rest.split('?').next().unwrap_or(rest))
}

/// A URL fit for logs and error messages: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((auth, host)) = rest.split_once('@')
        && let Some((user, _)) = auth.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(Backend::of_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of_url("postgres://u@h/d").unwrap(), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://u@h/d").unwrap(), Backend::Postgres);
        assert!(matches!(
            Backend::of_url("mysql://u@h/d"),
            Err(StoreError::UnknownScheme(_))
        ));
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://motcua-data/motcua.db"),
            Path::new("motcua-data/motcua.db")
        );
        assert_eq!(sqlite_path("sqlite:///tmp/a.db"), Path::new("/tmp/a.db"));
    }

    #[test]
    fn a_deferred_statement_writes_the_table_it_names() {
        assert!(writes("outbox", "INSERT INTO outbox (topic) VALUES ($1)"));
        assert!(writes(
            "report_counts",
            "INSERT INTO report_counts(grain) VALUES ($1)"
        ));
        assert!(writes("dossiers", "UPDATE dossiers SET status = $1"));
        assert!(writes(
            "dossier_steps",
            "update\n  dossier_steps AS s SET note = $1"
        ));
        assert!(
            !writes("dossiers", "UPDATE dossier_steps SET note = $1"),
            "a prefix is not the name"
        );
        assert!(!writes(
            "dossier_steps",
            "INSERT INTO dossiers (id) SELECT id FROM dossier_steps"
        ));
        assert!(!writes("dossiers", "SELECT 1 FROM dossiers"));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://me:secret@db/x"), "postgres://me:***@db/x");
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
    }
}
