//! The `Db` enum: which backend, how to connect, how to begin a write transaction.
//! SQLite: WAL, busy timeout, foreign keys, one writer connection with `BEGIN IMMEDIATE`.

use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
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
        write: SqlitePool,
        read: SqlitePool,
        path: PathBuf,
    },
    Postgres(PgPool),
}

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Runs the same body against whichever pool the `Db` holds (read side).
#[macro_export]
macro_rules! on_read {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite { read, .. } => {
                let $pool = read;
                $body
            }
            $crate::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    };
}

/// Runs the same body against the connection of a write transaction.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Opens the database a URL names; the scheme picks the backend. Creates a SQLite file
    /// (not its directory) if missing.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        match Backend::of_url(url)? {
            Backend::Sqlite => Self::connect_sqlite(sqlite_path(url)).await,
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect {
                    url: redact(url),
                    source: e,
                })?;
                // No ping before each use (a round trip per query): a connection broken by a
                // server restart fails one statement and is dropped by the pool.
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .min_connections(0)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await
                    .map_err(|e| StoreError::Connect {
                        url: redact(url),
                        source: e,
                    })?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    async fn connect_sqlite(path: &Path) -> StoreResult<Db> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let err = |e| StoreError::Connect {
            url: format!("sqlite://{}", path.display()),
            source: e,
        };
        // An embedded file has no connection to lose: no ping before each use (for SQLite a
        // ping is a round trip to the connection's worker thread, as costly as a query).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone())
            .await
            .map_err(err)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(base.read_only(true))
            .await
            .map_err(err)?;
        Ok(Db::Sqlite {
            write,
            read,
            path: path.to_path_buf(),
        })
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
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pg) => Tx::Postgres(pg.begin().await?),
        })
    }

    /// The database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        on_read!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Pool figures for /metrics.
    pub fn pool_stats(&self) -> Vec<(&'static str, PoolStats)> {
        fn stats<DB: sqlx::Database>(p: &sqlx::Pool<DB>) -> PoolStats {
            PoolStats {
                size: p.size(),
                idle: p.num_idle() as u32,
                max: p.options().get_max_connections(),
            }
        }
        match self {
            Db::Sqlite { write, read, .. } => vec![("write", stats(write)), ("read", stats(read))],
            Db::Postgres(pg) => vec![("main", stats(pg))],
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read, .. } => {
                // The WAL is copied into the database and emptied before closing (after a
                // large import it would stay behind, gigabytes of it): the read-only
                // connections first, then a truncating checkpoint on the writer, whose close
                // then also removes the file when no reader lingers.
                read.close().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(write)
                    .await
                {
                    tracing::warn!(error = %e, "could not checkpoint the SQLite WAL on close");
                }
                write.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
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
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://me:secret@db/x"), "postgres://me:***@db/x");
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
    }
}
