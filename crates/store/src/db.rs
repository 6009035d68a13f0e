//! The `Db` enum: which backend, how to connect, how to begin a write transaction.
//! SQLite: WAL, busy timeout, foreign keys, one writer connection with `BEGIN IMMEDIATE`.
//!
//! The SQLite writer is one connection behind a fair lock (`Writer`), not a pool: sqlx's
//! pool tests a connection with a ping as it comes back (a round trip to the connection's
//! thread, in a spawned task), and with one writer every transaction waited for the previous
//! one's ping. Transactions on it are begun and ended by `SqliteTx` itself, so the COMMIT goes
//! in the same hand-off as the deferred writes.

use crate::read_pool::ReadPool;
use crate::{StoreError, StoreResult};
use sqlx::Arguments;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, PgPool, Postgres, SqliteConnection, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

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

/// PostgreSQL's two pools on one server: write transactions take from `write`, reads
/// (`on_read!`) from `read`. A request that reads while it holds a write transaction (the
/// assignee's roles, a procedure version not yet cached) so never waits for a connection that
/// only transactions hold: with one pool, as many such requests at once as connections waited
/// for each other until the pool's timeout. Reads have fewer connections than writes (which
/// wait on fsync and row locks): on 2 cores more readers only queue for the CPU.
#[derive(Clone, Debug)]
pub struct PgPools {
    pub write: PgPool,
    /// Not sqlx's pool: ours takes a connection back without a ping (`read_pool.rs`).
    pub read: crate::read_pool::PgReadPool,
    /// What this process knows of the numbering (see `PgKnown`).
    known: Arc<PgKnown>,
}

/// Connections of PostgreSQL's write pool and read pool.
const PG_WRITERS: u32 = 16;
const PG_READERS: u32 = 8;

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

/// A SQLite write transaction and the statements deferred in it (`write_later!`).
///
/// Every sqlx statement on SQLite is a hand-off to the connection's worker thread and back,
/// and the one writer holds the database lock across all of a transaction's hand-offs: the
/// statements whose results nobody reads wait here as one script, sent in one hand-off
/// before the next immediate statement (`on_tx!` flushes first) or with the commit.
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
    fn connection(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .and_then(|c| c.conn.as_mut())
            .expect("a transaction holds an open writer")
    }

    /// The connection's C handle for bulk writes (`sqlite_bulk`), in this transaction, the
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
    async fn commit(mut self) -> Result<(), sqlx::Error> {
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
    /// `bind` adds their values in that order.
    pub fn defer(
        &mut self,
        sql: &str,
        bind: impl FnOnce(&mut SqliteArguments<'static>) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
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

/// Group commit on SQLite (`Db::begin_grouped`): short transactions arriving while others
/// run share one SQLite transaction, each in its own savepoint, and one COMMIT. Every page a
/// transaction dirties (index pages, counters, the day's code sequence) goes to the WAL once
/// per group instead of once per transaction: an intake wrote about 115 KB of WAL and
/// checkpoint alone. A member's `commit` returns once the group's COMMIT is done, with its
/// outcome; a member that fails is rolled back to its savepoint without touching the others.
/// The group is committed by the member that finishes when nobody is waiting for the
/// writer, or when the group is full or older than `GROUP_AGE`; any other use of the writer
/// commits an open group first.
#[derive(Debug)]
struct Group {
    id: u64,
    members: usize,
    started: std::time::Instant,
    outcome: tokio::sync::watch::Sender<Option<Result<(), Arc<str>>>>,
}

impl Group {
    /// Still taking members: neither full nor old.
    fn open(&self) -> bool {
        self.members < GROUP_MAX && self.started.elapsed() < GROUP_AGE
    }
}

/// A group is committed once it has this many members…
const GROUP_MAX: usize = 64;
/// …or has been open this long, whoever is waiting.
const GROUP_AGE: Duration = Duration::from_millis(5);

/// Commits the open group now if nobody is waiting to join it, or it is full or old.
async fn settle(slot: &mut WriterSlot, writer: &Writer) {
    let Some(g) = &slot.group else { return };
    if writer.waiting.load(Ordering::SeqCst) == 0 || !g.open() {
        commit_group(slot).await;
    }
}

/// COMMITs the open group and tells its members how it went.
async fn commit_group(slot: &mut WriterSlot) {
    let Some(g) = slot.group.take() else { return };
    // COMMIT ends a savepoint opened for a member that did not come.
    slot.savepoint_ready = false;
    let result = match slot.conn.as_mut() {
        Some(c) => c
            .execute("COMMIT")
            .await
            .map(|_| ())
            .map_err(|e| Arc::<str>::from(e.to_string())),
        None => Err("the writer was closed".into()),
    };
    if result.is_err() {
        slot.reserved = Reserved::default();
        if let Some(c) = slot.conn.as_mut()
            && c.execute("ROLLBACK").await.is_err()
        {
            slot.conn = None;
        }
    }
    g.outcome.send_replace(Some(result));
}

/// Rolls the whole group back and fails its members.
async fn fail_group(slot: &mut WriterSlot, why: &str) {
    slot.savepoint_ready = false;
    slot.reserved = Reserved::default();
    if let Some(c) = slot.conn.as_mut()
        && c.execute("ROLLBACK").await.is_err()
    {
        slot.conn = None;
    }
    if let Some(g) = slot.group.take() {
        g.outcome.send_replace(Some(Err(why.into())));
    }
}

/// A transaction joining the writer's open group, or beginning one (`Db::begin_grouped`),
/// with the writer already held.
async fn join_group(write: Writer, mut slot: OwnedMutexGuard<WriterSlot>) -> Result<SqliteTx, sqlx::Error> {
    if slot.group.as_ref().is_some_and(|g| !g.open()) {
        commit_group(&mut slot).await;
    }
    if slot.group.is_none() {
        let begun = sqlx::query_scalar::<_, i64>("BEGIN IMMEDIATE; SAVEPOINT member; PRAGMA data_version")
            .fetch_all(slot.conn_mut())
            .await;
        let version = match begun.as_deref() {
            Ok([version]) => *version,
            _ => {
                // BEGIN may have worked and the SAVEPOINT not ("no transaction" otherwise).
                let _ = slot.conn_mut().execute("ROLLBACK").await;
                return Err(begun
                    .err()
                    .unwrap_or_else(|| sqlx::Error::Protocol("no data_version".into())));
            }
        };
        // Another connection committed since the writer last looked: what it knew of ids
        // and sequences may be out of date.
        if slot.reserved.data_version != Some(version) {
            slot.reserved = Reserved {
                data_version: Some(version),
                ..Reserved::default()
            };
        }
        slot.next_group += 1;
        let id = slot.next_group;
        slot.group = Some(Group {
            id,
            members: 0,
            started: std::time::Instant::now(),
            outcome: tokio::sync::watch::Sender::new(None),
        });
        // Normally the member that finishes when nobody waits commits the group; this
        // covers members whose requests were dropped after the others saw them waiting.
        // It must not count as waiting itself (`lock_raw` would): members finishing while it
        // waited for the writer left the group open for it, and finding a newer group it
        // commits nothing, so every member of that one waited for its own timer (about a
        // quarter of the writer's time idle under load, in stalls of 2 × GROUP_AGE).
        let slot_of = Arc::downgrade(&write.slot);
        tokio::spawn(async move {
            tokio::time::sleep(2 * GROUP_AGE).await;
            let Some(slot) = slot_of.upgrade() else { return };
            let mut slot = slot.lock_owned().await;
            if slot.group.as_ref().is_some_and(|g| g.id == id) {
                commit_group(&mut slot).await;
            }
        });
    } else if std::mem::take(&mut slot.savepoint_ready) {
        // Opened by the member before, with its RELEASE.
    } else if let Err(e) = slot.conn_mut().execute("SAVEPOINT member").await {
        fail_group(&mut slot, "a member could not start").await;
        return Err(e);
    }
    Ok(member(write, slot))
}

/// Counts a member into the writer's open group, its savepoint open.
fn member(write: Writer, mut slot: OwnedMutexGuard<WriterSlot>) -> SqliteTx {
    if let Some(g) = slot.group.as_mut() {
        if g.members == 0 {
            write.groups.groups.fetch_add(1, Ordering::Relaxed);
        }
        g.members += 1;
        write.groups.members.fetch_add(1, Ordering::Relaxed);
    }
    SqliteTx {
        conn: Some(slot),
        finished: false,
        grouped: Some(write),
        script: String::new(),
        args: SqliteArguments::default(),
        broken: false,
    }
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

/// SQLite's one writer connection, behind a fair (first come, first served) lock.
#[derive(Clone, Debug)]
pub struct Writer {
    slot: Arc<Mutex<WriterSlot>>,
    options: Arc<SqliteConnectOptions>,
    /// How many tasks wait for `slot` (group commit: see `Group`).
    waiting: Arc<AtomicUsize>,
    /// Groups begun and transactions that joined one, for /metrics.
    groups: Arc<GroupCounts>,
    /// Copies the WAL into the database off the writer's path (see `Checkpointer`).
    checkpointer: Option<Arc<Checkpointer>>,
}

/// WAL checkpoints on a connection of their own. The writer's automatic checkpoint ran
/// inside the COMMIT of whichever transaction crossed 1,000 WAL pages: copying them into
/// the database and syncing both files while every writer waited (intake's p99 was several
/// times its p50). Here a task asks for a PASSIVE checkpoint every `CHECKPOINT_EVERY`; it
/// takes only the checkpoint lock, so the writer goes on appending to the WAL meanwhile.
/// The writer keeps an automatic checkpoint at `WAL_BACKSTOP_PAGES` in case this one
/// falls behind or stops.
#[derive(Debug)]
struct Checkpointer {
    stop: Arc<tokio::sync::Notify>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// 64 MiB of 4 KiB pages.
const WAL_BACKSTOP_PAGES: u32 = 16_384;

impl Checkpointer {
    /// Starts checkpointing for the writer whose slot is `alive`; the task ends with
    /// `shutdown`, or once the writer is gone.
    async fn start(
        options: &SqliteConnectOptions,
        alive: std::sync::Weak<Mutex<WriterSlot>>,
    ) -> Result<Checkpointer, sqlx::Error> {
        let mut conn = SqliteConnection::connect_with(options).await?;
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.notified() => break,
                    _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                }
                if alive.strong_count() == 0 {
                    break;
                }
                if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                    tracing::debug!(error = %e, "WAL checkpoint failed; the next one retries");
                }
            }
            let _ = conn.close().await;
        });
        Ok(Checkpointer {
            stop,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// Stops the task and waits until its connection is closed.
    async fn shutdown(&self) {
        self.stop.notify_one();
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Group commit figures since the start: groups begun, and transactions that joined one.
#[derive(Debug, Default)]
pub struct GroupCounts {
    pub groups: AtomicU64,
    pub members: AtomicU64,
}

#[derive(Debug)]
pub struct WriterSlot {
    /// None after `close` or a failed rollback: the next use opens it again.
    conn: Option<SqliteConnection>,
    /// The group transaction open on `conn`, if any.
    group: Option<Group>,
    /// The last member opened the next one's savepoint (see `SqliteTx::commit`).
    savepoint_ready: bool,
    next_group: u64,
    reserved: Reserved,
}

/// What the writer knows of the next dossier id and of agencies' code sequences for a day
/// (`repo::dossiers::reserve`), so an intake in a group needs no statement of its own to learn
/// them: every dossier insert and sequence step of a group member goes through it. Valid
/// while the writer has been used by group members only, nothing was rolled back and no
/// other connection has committed (`PRAGMA data_version`, read as each group begins);
/// otherwise emptied, and the next reservation reads the database again. Were it ever out
/// of date, the dossier's unique id or code would refuse the insert: never a silent reuse.
#[derive(Debug, Default)]
pub(crate) struct Reserved {
    data_version: Option<i64>,
    /// The id the next new dossier gets.
    pub(crate) next_id: Option<i64>,
    /// Agency code → (local day, the last sequence number issued that day).
    pub(crate) sequences: std::collections::HashMap<String, (chrono::NaiveDate, i64)>,
}

impl std::ops::Deref for WriterSlot {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("opened by Writer::lock")
    }
}

impl std::ops::DerefMut for WriterSlot {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn_mut()
    }
}

impl WriterSlot {
    fn conn_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("opened by Writer::lock")
    }
}

/// How long a write waits for the writer before giving up (as the pool's acquire timeout).
const WRITER_WAIT: Duration = Duration::from_secs(30);
/// SQLite's read-only connections (`ReadPool`), and how long a read waits for one.
const READERS: u32 = 8;
const READ_WAIT: Duration = Duration::from_secs(10);

impl Writer {
    /// `checkpoints`: the options of a connection for WAL checkpoints, whereupon the writer's
    /// own automatic checkpoint becomes a backstop (see `Checkpointer`).
    async fn open(
        options: SqliteConnectOptions,
        checkpoints: Option<SqliteConnectOptions>,
    ) -> Result<Writer, sqlx::Error> {
        let options = match checkpoints {
            Some(_) => options.pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string()),
            None => options,
        };
        let conn = SqliteConnection::connect_with(&options).await?;
        let slot = Arc::new(Mutex::new(WriterSlot {
            conn: Some(conn),
            group: None,
            savepoint_ready: false,
            next_group: 0,
            reserved: Reserved::default(),
        }));
        let checkpointer = match checkpoints {
            Some(c) => Some(Arc::new(Checkpointer::start(&c, Arc::downgrade(&slot)).await?)),
            None => None,
        };
        Ok(Writer {
            slot,
            options: Arc::new(options),
            waiting: Default::default(),
            groups: Default::default(),
            checkpointer,
        })
    }

    /// The writer, to itself until the guard is dropped, outside any transaction (an open
    /// group is committed first): each statement commits on its own. Opens the connection
    /// again if it was closed.
    pub async fn lock(&self) -> Result<OwnedMutexGuard<WriterSlot>, sqlx::Error> {
        let mut slot = self.lock_raw().await?;
        // Its statements may write dossiers or sequences without `Reserved`.
        slot.reserved = Reserved::default();
        if slot.group.is_none() {
            return Ok(slot);
        }
        detached(async move {
            commit_group(&mut slot).await;
            Ok(slot)
        })
        .await
    }

    /// The writer as it is: a group transaction may be open.
    async fn lock_raw(&self) -> Result<OwnedMutexGuard<WriterSlot>, sqlx::Error> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(&self.waiting);
        let slot = tokio::time::timeout(WRITER_WAIT, self.slot.clone().lock_owned()).await;
        drop(queued);
        let mut slot = slot.map_err(|_| sqlx::Error::PoolTimedOut)?;
        if slot.conn.is_none() {
            slot.reserved = Reserved::default();
            slot.conn = Some(SqliteConnection::connect_with(&self.options).await?);
        }
        Ok(slot)
    }

    /// Stops the background checkpoints (see `Checkpointer`), waiting for one under way.
    async fn stop_checkpoints(&self) {
        if let Some(c) = &self.checkpointer {
            c.shutdown().await;
        }
    }

    async fn close(&self) {
        self.stop_checkpoints().await;
        let mut slot = self.slot.lock().await;
        commit_group(&mut slot).await;
        if let Some(conn) = slot.conn.take()
            && let Err(e) = conn.close().await
        {
            tracing::warn!(error = %e, "could not close the SQLite writer");
        }
    }
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
                let mut conn = read.acquire().await?;
                let $pool = &mut *conn;
                $body
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

/// A PostgreSQL write transaction and the statements deferred in it (`write_later!`).
///
/// Every statement is a network round trip: the deferred ones are sent as one statement,
/// the others as data-modifying CTEs of the last (`WITH w1 AS (INSERT …), w2 AS (UPDATE …)
/// INSERT …`), before the next immediate statement or with the commit. The parts of one
/// statement share a snapshot and cannot see each other's rows, so a part writing a table
/// already written by an earlier part starts the next statement; foreign keys are checked at
/// the end of the statement, when every part has run.
///
/// A transaction of `Db::begin_grouped` sends its `BEGIN` only with its first immediate
/// statement (`on_tx!`, `flush`). One that has none, and whose deferred writes are one
/// statement, commits that statement on its own, without `BEGIN` and `COMMIT`: a single
/// statement is atomic. An intake whose day's number this process knows is such a
/// transaction (`repo::dossiers::reserve`): one round trip instead of four.
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
    /// Lost to a failed `BEGIN`.
    Gone,
}

/// What this process knows of PostgreSQL's numbering, so that an intake needs no statement
/// of its own for its id and its code (`repo::dossiers::reserve`): dossier ids taken from
/// the table's sequence ahead of use, and the last number of each agency's day.
///
/// A number handed out from here is checked by the intake's own write (its sequence update
/// fails unless the row still holds the number before it). The agency's entry stays locked
/// until that write commits or fails, so this process's intakes of one agency send their
/// numbers in order (as the sequence row's lock would make them commit anyway); a failure
/// or a rollback leaves the entry unknown, and the next intake reads the row again.
#[derive(Debug, Default)]
pub struct PgKnown {
    sequences: std::sync::Mutex<std::collections::HashMap<String, Arc<Mutex<Option<KnownSeq>>>>>,
    ids: std::sync::Mutex<Vec<i64>>,
}

/// The day and the last number of an agency's sequence row.
type KnownSeq = (chrono::NaiveDate, i64);

/// An agency's entry, held by the transaction that took its next number.
pub(crate) type SeqHold = OwnedMutexGuard<Option<KnownSeq>>;

impl PgKnown {
    fn entry(&self, agency: &str) -> Arc<Mutex<Option<KnownSeq>>> {
        let mut s = self.sequences.lock().unwrap_or_else(|p| p.into_inner());
        match s.get(agency) {
            Some(e) => e.clone(),
            None => s.entry(agency.to_string()).or_default().clone(),
        }
    }

    /// The next number of an agency's day, if known, with the entry held until the
    /// transaction that uses it ends (`PgTx::guessed`).
    pub(crate) async fn next_seq(&self, agency: &str, day: chrono::NaiveDate) -> Option<(SeqHold, i64)> {
        let mut hold = self.entry(agency).lock_owned().await;
        match hold.as_mut() {
            Some((known, last)) if *known == day => {
                *last += 1;
                let seq = *last;
                Some((hold, seq))
            }
            _ => None,
        }
    }

    /// The last number of an agency's day, as read from the database by a transaction that
    /// read the row itself. Skipped while another transaction holds the entry.
    pub(crate) fn remember(&self, agency: &str, day: chrono::NaiveDate, seq: i64) {
        let entry = self.entry(agency);
        let Ok(mut known) = entry.try_lock() else { return };
        *known = match *known {
            Some((d, last)) if d == day => Some((day, last.max(seq))),
            _ => Some((day, seq)),
        };
    }

    pub(crate) fn take_id(&self) -> Option<i64> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Keeps ids taken from the sequence (used lowest first).
    pub(crate) fn add_ids(&self, ids: Vec<i64>) {
        let mut kept = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        kept.extend(ids);
        kept.sort_unstable_by(|a, b| b.cmp(a));
    }
}

#[derive(Default)]
struct PgBatch {
    parts: Vec<String>,
    tables: Vec<String>,
    args: sqlx::postgres::PgArguments,
    params: usize,
    /// The part that must write a row (`PgTx::defer_guard`).
    guard: Option<usize>,
}

impl PgBatch {
    /// The parts as one statement: all but the last as data-modifying CTEs, the last as the
    /// main statement. With a guard (`PgTx::defer_guard`), every part is a CTE and the main
    /// statement reads the guard's rows, failing (SQLSTATE 22012) if it wrote none.
    /// PostgreSQL runs the main statement first, then the CTEs nobody reads, in order: the
    /// guard's row locks are taken first.
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

impl std::ops::Deref for PgTx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        match &self.conn {
            PgConn::Idle(c) => c,
            PgConn::Open(t) => t,
            PgConn::Gone => unreachable!("a transaction whose BEGIN failed is not used again"),
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
    /// and lock nothing (`repo::lifecycle::find_for_action_tx`).
    pub(crate) fn begun(&self) -> bool {
        matches!(self.conn, PgConn::Open(_))
    }

    /// The connection, in the transaction or not yet (see `untransacted`).
    fn connection(&mut self) -> &mut sqlx::PgConnection {
        match &mut self.conn {
            PgConn::Idle(c) => c,
            PgConn::Open(t) => t,
            PgConn::Gone => unreachable!("a transaction whose BEGIN failed is not used again"),
        }
    }

    /// The connection for a statement whose effect no transaction undoes (`nextval`), or a
    /// read before the transaction begins (`begun`): neither begins the transaction nor
    /// sends the deferred writes.
    pub(crate) fn untransacted(&mut self) -> &mut sqlx::PgConnection {
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
            PgConn::Gone => Err(sqlx::Error::PoolClosed),
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
                .execute(self.connection())
                .await?;
        }
        Ok(())
    }

    /// Commits: the deferred writes, then `COMMIT`; a transaction never begun whose writes
    /// are one statement sends that statement alone.
    async fn commit(mut self) -> StoreResult<()> {
        let result = match self.conn {
            _ if self.broken => Err(broken()),
            PgConn::Idle(_) if self.pending.len() <= 1 => self.send_pending().await,
            _ => match self.flush().await {
                Ok(()) => match std::mem::replace(&mut self.conn, PgConn::Gone) {
                    PgConn::Open(t) => t.commit().await,
                    _ => Err(sqlx::Error::PoolClosed),
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
            // number (`repo::dossiers::reserve`; `Drop` leaves the agency's entry unknown) or
            // changed the dossier read before `BEGIN` (`repo::lifecycle::save_state`).
            Err(sqlx::Error::Database(e)) if self.guarded && e.code().as_deref() == Some("22012") => Err(
                StoreError::Retry("a row this transaction relies on was changed meanwhile".into()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Defers one INSERT or UPDATE with parameters `$1…$n` (each may repeat); `bind` adds
    /// the n values in order.
    pub fn defer(
        &mut self,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
        self.defer_part(sql, bind, false)
    }

    /// As `defer`, for an UPDATE (without RETURNING: added here) that must write a row, or
    /// the statement sent with it fails (division by zero, SQLSTATE 22012) and writes
    /// nothing; the commit then fails with `StoreError::Retry`. It runs before the others
    /// sent with it, so its row locks come first (in the order every transaction takes
    /// them, so none deadlock).
    pub fn defer_guard(
        &mut self,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), sqlx::Error> {
        self.defer_part(&format!("{sql} RETURNING 1"), bind, true)
    }

    fn defer_part(
        &mut self,
        sql: &str,
        bind: impl FnOnce(&mut sqlx::postgres::PgArguments) -> Result<(), sqlx::error::BoxDynError>,
        guard: bool,
    ) -> Result<(), sqlx::Error> {
        let table = written_table(sql).to_string();
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

fn broken() -> sqlx::Error {
    sqlx::Error::Protocol(
        "a deferred statement could not encode its values; the transaction cannot commit".into(),
    )
}

/// The table an `INSERT INTO t …` or `UPDATE t …` writes.
fn written_table(sql: &str) -> &str {
    let mut words = sql.split_whitespace();
    match words.next().map(str::to_ascii_uppercase).as_deref() {
        Some("INSERT") => {
            words.next();
            words.next().unwrap_or("").split('(').next().unwrap_or("")
        }
        _ => words.next().unwrap_or(""),
    }
}

/// A statement whose result nobody reads (an INSERT or UPDATE without RETURNING), in a write
/// transaction: deferred, and sent with the next immediate statement or the commit (see
/// `SqliteTx`, `PgTx`); an error it raises comes from that later call. `$sql` is in the
/// transaction's dialect (`repo::positional`); the block adds one value per parameter, in
/// order, with `sqlx::Arguments::add` on `$args`.
#[macro_export]
macro_rules! write_later {
    // The expansion both macros share: PostgreSQL's `PgTx` method named, SQLite's `defer`.
    (@via $pg:ident, $tx:expr, $sql:expr, $args:ident => $binds:block) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                t.defer($sql, |$args| {
                    $binds;
                    Ok(())
                })?;
            }
            $crate::Tx::Postgres(t) => {
                t.$pg($sql, |$args| {
                    $binds;
                    Ok(())
                })?;
            }
        }
    };
    ($tx:expr, $sql:expr, $args:ident => $binds:block) => {
        $crate::write_later!(@via defer, $tx, $sql, $args => $binds)
    };
}

/// As `write_later!`, for an UPDATE (no RETURNING) of a row read earlier, which must still
/// match its WHERE clause. PostgreSQL: a guard (`PgTx::defer_guard`), whose commit fails
/// with `StoreError::Retry` if the row changed meanwhile (read before `BEGIN`, unlocked).
/// SQLite: a plain deferred statement — the write lock, held since the row was read, leaves
/// nobody to change it.
#[macro_export]
macro_rules! write_guarded {
    ($tx:expr, $sql:expr, $args:ident => $binds:block) => {
        $crate::write_later!(@via defer_guard, $tx, $sql, $args => $binds)
    };
}

/// Runs the same body against the connection of a write transaction.
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
    /// (not its directory) if missing.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        match Backend::of_url(url)? {
            Backend::Sqlite => Self::connect_sqlite(sqlite_path(url), false).await,
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect {
                    url: redact(url),
                    source: e,
                })?;
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
                let read =
                    crate::read_pool::PgReadPool::open_pg(opts.clone(), PG_READERS, Duration::from_secs(5))
                        .await
                        .map_err(err)?;
                Ok(Db::Postgres(PgPools {
                    write,
                    read,
                    known: Default::default(),
                }))
            }
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
            Backend::Sqlite => Self::connect_sqlite(sqlite_path(url), true).await,
            Backend::Postgres => Self::connect(url).await,
        }
    }

    async fn connect_sqlite(path: &Path, bulk: bool) -> StoreResult<Db> {
        crate::sqlite_setup::configure();
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
            true => ReadPool::open(base.read_only(true), READERS, READ_WAIT, false).await,
            false => ReadPool::open(wal.read_only(true), READERS, READ_WAIT, true).await,
        }
        .map_err(err)?;
        Ok(Db::Sqlite {
            write,
            read,
            path: path.to_path_buf(),
            bulk,
        })
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
            Db::Sqlite { write, .. } => Tx::Sqlite({
                let mut conn = write.lock().await?;
                detached(async move {
                    conn.execute("BEGIN IMMEDIATE").await?;
                    Ok(SqliteTx {
                        conn: Some(conn),
                        finished: false,
                        grouped: None,
                        script: String::new(),
                        args: SqliteArguments::default(),
                        broken: false,
                    })
                })
                .await?
            }),
            Db::Postgres(pg) => {
                let pool = pg.write.clone();
                // Detached: a caller dropped meanwhile must not leave it begun (see `detached`).
                Tx::Postgres(PgTx::new(
                    PgConn::Open(detached(async move { pool.begin().await }).await?),
                    None,
                ))
            }
        })
    }

    /// Begins a short write transaction that may share its COMMIT with others arriving
    /// meanwhile (group commit on SQLite: see `Group`); `commit` still returns only once it
    /// is durable, and a failure rolls back this transaction alone. For the transactions of
    /// requests (an intake, an action): never for long ones, which would hold the group's
    /// members waiting. PostgreSQL commits concurrent transactions' WAL together by itself:
    /// there the transaction begins with its first immediate statement, and one with none
    /// sends its writes as one statement without `BEGIN` and `COMMIT` (see `PgTx`).
    pub async fn begin_grouped(&self) -> StoreResult<Tx> {
        let write = match self {
            Db::Sqlite { write, .. } => write,
            Db::Postgres(pg) => {
                let conn = pg.write.acquire().await?;
                return Ok(Tx::Postgres(PgTx::new(
                    PgConn::Idle(conn),
                    Some(pg.known.clone()),
                )));
            }
        };
        let mut slot = write.lock_raw().await?;
        if slot.savepoint_ready && slot.group.as_ref().is_some_and(Group::open) {
            // The member before opened this one's savepoint: nothing to send.
            slot.savepoint_ready = false;
            return Ok(Tx::Sqlite(member(write.clone(), slot)));
        }
        Ok(Tx::Sqlite(detached(join_group(write.clone(), slot)).await?))
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
            Db::Sqlite { write, .. } => Some((
                write.groups.groups.load(Ordering::Relaxed),
                write.groups.members.load(Ordering::Relaxed),
            )),
            Db::Postgres(_) => None,
        }
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
            Db::Sqlite { write, read, .. } => {
                let busy = write.slot.try_lock().is_err() as u32;
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
            Db::Postgres(pg) => vec![("write", stats(&pg.write)), ("read", pg.read.stats())],
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                write, read, bulk, ..
            } => {
                // The WAL is copied into the database and emptied before closing (after a
                // large import it would stay behind, gigabytes of it): the read-only
                // connections first, then a truncating checkpoint on the writer, whose close
                // then also removes the file when no reader lingers. The background
                // checkpoints stop before: a checkpoint running elsewhere makes this one BUSY.
                write.stop_checkpoints().await;
                read.close().await;
                match write.lock().await {
                    Ok(mut w) => {
                        if *bulk
                            && let Err(e) = sqlx::query("PRAGMA journal_mode = WAL").execute(&mut **w).await
                        {
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
            Db::Postgres(pg) => {
                pg.read.close().await;
                pg.write.close().await;
            }
        }
    }
}

impl Tx {
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

    fn batch(parts: &[&str], guard: Option<usize>) -> PgBatch {
        PgBatch {
            parts: parts.iter().map(|p| p.to_string()).collect(),
            guard,
            ..Default::default()
        }
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

    #[tokio::test]
    async fn a_known_number_is_held_until_its_transaction_ends_and_lost_unless_kept() {
        let known = PgKnown::default();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert!(known.next_seq("A", day).await.is_none(), "nothing known yet");
        known.remember("A", day, 4);
        let (hold, seq) = known.next_seq("A", day).await.unwrap();
        assert_eq!(seq, 5);
        // Held: a row read meanwhile is not remembered over it, the next number waits.
        known.remember("A", day, 9);
        let waiting = tokio::time::timeout(Duration::from_millis(20), known.next_seq("A", day)).await;
        assert!(
            waiting.is_err(),
            "the next intake of the agency waits for the holder"
        );
        drop(hold); // committed: kept
        assert_eq!(known.next_seq("A", day).await.map(|(_, s)| s), Some(6));
        // A transaction that did not commit leaves the entry unknown.
        let (mut hold, _) = known.next_seq("A", day).await.unwrap();
        *hold = None;
        drop(hold);
        assert!(known.next_seq("A", day).await.is_none());
        // Read again from the row; a later row read never moves it back; another day resets it.
        known.remember("A", day, 10);
        known.remember("A", day, 8);
        assert_eq!(known.next_seq("A", day).await.map(|(_, s)| s), Some(11));
        assert!(known.next_seq("A", day.succ_opt().unwrap()).await.is_none());
        known.remember("A", day.succ_opt().unwrap(), 1);
        assert_eq!(
            known.next_seq("A", day.succ_opt().unwrap()).await.map(|(_, s)| s),
            Some(2)
        );
        assert!(known.next_seq("B", day).await.is_none(), "per agency");
        // Ids: lowest first.
        known.add_ids(vec![7, 3, 5]);
        assert_eq!(
            [known.take_id(), known.take_id(), known.take_id(), known.take_id()],
            [Some(3), Some(5), Some(7), None]
        );
    }

    /// The timer that commits a group left open by dropped requests does not count as
    /// waiting for the writer. It did: a member finishing while an earlier group's timer
    /// waited for the writer left its group open for it, the timer found a newer group and
    /// committed nothing, and that group's members all waited for its own timer.
    #[tokio::test]
    async fn a_groups_timer_is_not_taken_for_a_member_waiting_for_the_writer() {
        let path = std::env::temp_dir().join(format!("motcua-group-timer-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let Db::Sqlite { write, .. } = &db else {
            unreachable!()
        };
        // An earlier group, committed at once (nobody waited): its timer is still to come.
        db.begin_grouped().await.unwrap().commit().await.unwrap();
        // A member holds the writer while that timer (and its own group's) fires.
        let held = db.begin_grouped().await.unwrap();
        tokio::time::sleep(4 * GROUP_AGE).await;
        assert_eq!(write.waiting.load(Ordering::SeqCst), 0);
        held.commit().await.unwrap();
        assert!(
            write.slot.lock().await.group.is_none(),
            "the member committed its group"
        );
        db.close().await;
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
    }

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
    fn the_written_table_starts_a_new_statement_when_written_again() {
        assert_eq!(written_table("INSERT INTO outbox (topic) VALUES ($1)"), "outbox");
        assert_eq!(
            written_table("INSERT INTO report_counts(grain) VALUES ($1)"),
            "report_counts"
        );
        assert_eq!(written_table("UPDATE dossiers SET status = $1"), "dossiers");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://me:secret@db/x"), "postgres://me:***@db/x");
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
    }
}
