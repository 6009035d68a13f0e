//! SQLite's side of `Db`: opening and closing the file, and `SqliteTx`, a write transaction on
//! the one writer (`writer`). Must not hold connections of its own outside `Writer`, `ReadPool`.

pub(crate) mod bulk;
pub(crate) mod setup;
mod writer;

pub(crate) use writer::Reserved;
pub use writer::Writer;
use writer::{WriterSlot, fail_group, settle};

use super::{Db, ReadPool, broken, debug_assert_writes, detached};
use crate::{StoreError, StoreResult};
use sqlx::Arguments;
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Executor, SqliteConnection};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

/// SQLite's read-only connections (`ReadPool`), and how long a read waits for one.
const READERS: u32 = 8;
const READ_WAIT: Duration = Duration::from_secs(10);

/// A SQLite write transaction on the one writer, its deferred writes waiting as one script
/// (*Deferred writes* in `db`).
pub struct SqliteTx {
    /// The writer, in a transaction until `finished`; dropped unfinished, the transaction is
    /// rolled back before anyone else gets the writer (see `Drop`).
    conn: Option<OwnedMutexGuard<WriterSlot>>,
    finished: bool,
    /// A member of a group commit (`Db::begin_grouped`): its own part is a savepoint.
    grouped: Option<Writer>,
    /// Deferred statements, `;`-separated, with anonymous `?` parameters only: they bind
    /// in order across the whole script.
    script: String,
    args: SqliteArguments<'static>,
    /// A value failed to encode: the arguments no longer match the script, and the
    /// transaction cannot commit.
    broken: bool,
}

impl std::ops::Deref for SqliteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .and_then(|c| c.conn.as_ref())
            .expect("a transaction holds an open writer")
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        debug_assert!(
            self.script.is_empty(),
            "deferred statements must be flushed before an immediate one"
        );
        self.connection()
    }
}

impl SqliteTx {
    /// A transaction of its own on the writer (`Db::begin`).
    pub(super) async fn begin(write: &Writer) -> Result<SqliteTx, sqlx::Error> {
        let mut conn = write.lock().await?;
        detached(async move {
            conn.execute("BEGIN IMMEDIATE").await?;
            Ok(SqliteTx::on(conn, None))
        })
        .await
    }

    /// A transaction on the writer `slot`, just begun (a group member: its savepoint open).
    fn on(slot: OwnedMutexGuard<WriterSlot>, grouped: Option<Writer>) -> SqliteTx {
        SqliteTx {
            conn: Some(slot),
            finished: false,
            grouped,
            script: String::new(),
            args: SqliteArguments::default(),
            broken: false,
        }
    }

    fn connection(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .and_then(|c| c.conn.as_mut())
            .expect("a transaction holds an open writer")
    }

    /// The connection's C handle for bulk writes (`bulk`), in this transaction, the
    /// deferred statements sent first; sqlx's thread for it waits meanwhile.
    pub(crate) async fn bulk_handle(&mut self) -> Result<sqlx::sqlite::LockedSqliteHandle<'_>, sqlx::Error> {
        self.flush().await?;
        self.connection().lock_handle().await
    }

    /// What the writer knows of ids and code sequences (see `Reserved`), for a group member
    /// only: other transactions may write dossiers without it.
    pub(crate) fn reserved(&mut self) -> Option<&mut Reserved> {
        self.grouped.as_ref()?;
        self.conn.as_mut().map(|s| &mut s.reserved)
    }

    /// Sends the deferred statements, if any, in one hand-off.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        if self.broken {
            return Err(broken());
        }
        if self.script.is_empty() {
            return Ok(());
        }
        let sql = std::mem::take(&mut self.script);
        let args = std::mem::take(&mut self.args);
        sqlx::query_with(&sql, args).execute(self.connection()).await?;
        Ok(())
    }

    /// Sends the deferred statements and the COMMIT (for a group member, the RELEASE of its
    /// savepoint) in one hand-off. A group member then waits for the group's COMMIT, or
    /// sends it when nobody else is waiting for the writer (see `Group`).
    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        // Someone waits to join the group: open their savepoint in the same hand-off.
        let next_ready = match (&self.grouped, self.conn.as_ref().and_then(|c| c.group.as_ref())) {
            (Some(writer), Some(g)) => writer.waiting.load(Ordering::SeqCst) > 0 && g.open(),
            _ => false,
        };
        if !self.script.is_empty() {
            self.script.push_str(";\n");
        }
        self.script.push_str(match (&self.grouped, next_ready) {
            (None, _) => "COMMIT",
            (Some(_), false) => "RELEASE member",
            (Some(_), true) => "RELEASE member; SAVEPOINT member",
        });
        self.flush().await?;
        self.finished = true;
        if let Some(slot) = self.conn.as_mut() {
            slot.savepoint_ready = next_ready;
        }
        let (Some(writer), Some(mut slot)) = (self.grouped.take(), self.conn.take()) else {
            return Ok(());
        };
        let Some(group) = &slot.group else {
            return Err(sqlx::Error::Protocol("a group member outside its group".into()));
        };
        let mut outcome = group.outcome.subscribe();
        settle(&mut slot, &writer).await;
        drop(slot);
        let result = match outcome.wait_for(Option::is_some).await {
            Ok(r) => r.clone().expect("waited for Some"),
            Err(_) => Err("the writer closed before the group's commit".into()),
        };
        result.map_err(|e| sqlx::Error::Protocol(format!("group commit: {e}")))
    }

    /// Defers one statement whose parameters are `?` or `$1, $2, …` each once and in order;
    /// `bind` adds their values in that order. `table` (the one `sql` writes) is only checked
    /// here: the script is sent in order, so every statement sees the ones before it.
    pub fn defer(
        &mut self,
        table: &'static str,
        sql: &str,
        bind: impl FnOnce(&mut SqliteArguments<'static>) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
        debug_assert_writes(table, sql);
        let before = self.args.len();
        if let Err(e) = bind(&mut self.args) {
            self.broken = true;
            return Err(sqlx::Error::Encode(e));
        }
        let mut params = 0;
        let mut chars = sql.chars().peekable();
        let script = &mut self.script;
        if !script.is_empty() {
            script.push_str(";\n");
        }
        while let Some(c) = chars.next() {
            match c {
                '?' => {
                    params += 1;
                    script.push('?');
                }
                '$' => {
                    let mut n = 0usize;
                    while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                        n = n * 10 + d as usize;
                        chars.next();
                    }
                    params += 1;
                    debug_assert_eq!(
                        n, params,
                        "deferred parameters are numbered in order, each once: {sql}"
                    );
                    script.push('?');
                }
                c => script.push(c),
            }
        }
        debug_assert_eq!(self.args.len() - before, params, "one value per parameter: {sql}");
        Ok(())
    }
}

impl Drop for SqliteTx {
    /// Not committed (an error, or the request was dropped): roll back before the writer
    /// serves anyone else (a group member: back to its savepoint, the group goes on). The
    /// guard moves into the task, so the next transaction waits for the ROLLBACK; without a
    /// runtime the connection is closed, which rolls back too.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Some(mut slot) = self.conn.take() else { return };
        // What this transaction reserved is rolled back with it.
        slot.reserved = Reserved::default();
        let grouped = self.grouped.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    match grouped {
                        Some(writer) => {
                            let undone = match slot.conn.as_mut() {
                                Some(c) => c.execute("ROLLBACK TO member; RELEASE member").await.is_ok(),
                                None => false,
                            };
                            if !undone {
                                fail_group(&mut slot, "a member could not be rolled back alone").await;
                            }
                            settle(&mut slot, &writer).await;
                        }
                        None => {
                            if let Some(c) = slot.conn.as_mut()
                                && let Err(e) = c.execute("ROLLBACK").await
                            {
                                // SQLite may have rolled back already (some errors end the
                                // transaction): a fresh connection is the sure way back.
                                tracing::debug!(error = %e, "ROLLBACK failed; reopening the SQLite writer");
                                slot.conn = None;
                            }
                        }
                    }
                });
            }
            Err(_) => {
                slot.conn = None;
                if let Some(g) = slot.group.take() {
                    g.outcome.send_replace(Some(Err("the writer was closed".into())));
                }
            }
        }
    }
}

/// Opens the file for `Db::connect_bounded` and `Db::connect_bulk` (see there): reads
/// stopped after `read_timeout`, if any.
pub(super) async fn connect(path: &Path, bulk: bool, read_timeout: Option<Duration>) -> StoreResult<Db> {
    setup::configure();
    let base = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let wal = base
        .clone()
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let err = |e| StoreError::Connect {
        url: format!("sqlite://{}", path.display()),
        source: e,
    };
    let write = if bulk {
        // Full: a rollback journal with NORMAL may lose the file to a power cut.
        Writer::open(base.clone().synchronous(SqliteSynchronous::Full), None).await
    } else {
        // Each group commit member is a savepoint, whose journal of page images went to a
        // temporary file: about 100 KB of write calls per intake (measured), kept in
        // memory instead. Not for a bulk load, whose index rebuilds would sort in memory.
        Writer::open(wal.clone().pragma("temp_store", "memory"), Some(wal.clone())).await
    }
    .map_err(err)?;
    let bulk = bulk && {
        // Leaving WAL needs the file to itself: "database is locked" at once otherwise.
        let mut w = write.lock().await.map_err(err)?;
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut **w)
            .await
        {
            Ok(mode) => mode.eq_ignore_ascii_case("delete"),
            Err(e) => {
                // Said by the caller once it loads (`Db::loads_through_wal`).
                tracing::debug!(error = %e, "the database is open elsewhere");
                false
            }
        }
    };
    // During a bulk load the read-only connections leave the journal mode alone (a
    // read-only connection cannot change it).
    let read = match bulk {
        true => ReadPool::open(base.read_only(true), READERS, READ_WAIT, read_timeout, false).await,
        false => ReadPool::open(wal.read_only(true), READERS, READ_WAIT, read_timeout, true).await,
    }
    .map_err(err)?;
    Ok(Db::Sqlite {
        write,
        read,
        path: path.to_path_buf(),
        bulk,
    })
}

/// Closes the writer and the read-only connections (`Db::close`).
pub(super) async fn close(write: &Writer, read: &ReadPool, bulk: bool) {
    // The WAL is copied into the database and emptied before closing (after a
    // large import it would stay behind, gigabytes of it): the read-only
    // connections first, then a truncating checkpoint on the writer, whose close
    // then also removes the file when no reader lingers. The background
    // checkpoints stop before: a checkpoint running elsewhere makes this one BUSY.
    write.stop_checkpoints().await;
    read.close().await;
    match write.lock().await {
        Ok(mut w) => {
            if bulk && let Err(e) = sqlx::query("PRAGMA journal_mode = WAL").execute(&mut **w).await {
                tracing::warn!(error = %e, "could not put the SQLite database back in WAL mode");
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut **w)
                .await
            {
                tracing::warn!(error = %e, "could not checkpoint the SQLite WAL on close");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not reach the SQLite writer to close it"),
    }
    write.close().await;
}
