//! SQLite's one writer connection (`Writer`): its fair lock, group commit and WAL checkpoints.
//! Must not run a transaction's own statements: `SqliteTx` does, this only hands it the writer.
//!
//! The writer is one connection behind a fair lock, not a pool: sqlx's pool tests a
//! connection with a ping as it comes back (a round trip to the connection's thread, in a
//! spawned task), and with one writer every transaction waited for the previous one's ping.
//! Transactions on it are begun and ended by `SqliteTx` itself, so the COMMIT goes in the
//! same hand-off as the deferred writes.

use super::SqliteTx;
use crate::db::detached;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor, SqliteConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

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
pub(super) struct Group {
    id: u64,
    members: usize,
    started: std::time::Instant,
    pub(super) outcome: tokio::sync::watch::Sender<Option<Result<(), Arc<str>>>>,
}

impl Group {
    /// Still taking members: neither full nor old.
    pub(super) fn open(&self) -> bool {
        self.members < GROUP_MAX && self.started.elapsed() < GROUP_AGE
    }
}

/// A group is committed once it has this many members…
const GROUP_MAX: usize = 64;
/// …or has been open this long, whoever is waiting.
const GROUP_AGE: Duration = Duration::from_millis(5);

/// Commits the open group now if nobody is waiting to join it, or it is full or old.
pub(super) async fn settle(slot: &mut WriterSlot, writer: &Writer) {
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
pub(super) async fn fail_group(slot: &mut WriterSlot, why: &str) {
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
    SqliteTx::on(slot, Some(write))
}

/// SQLite's one writer connection, behind a fair (first come, first served) lock.
#[derive(Clone, Debug)]
pub struct Writer {
    slot: Arc<Mutex<WriterSlot>>,
    options: Arc<SqliteConnectOptions>,
    /// How many tasks wait for `slot` (group commit: see `Group`).
    pub(super) waiting: Arc<AtomicUsize>,
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
    pub(super) conn: Option<SqliteConnection>,
    /// The group transaction open on `conn`, if any.
    pub(super) group: Option<Group>,
    /// The last member opened the next one's savepoint (see `SqliteTx::commit`).
    pub(super) savepoint_ready: bool,
    next_group: u64,
    pub(super) reserved: Reserved,
}

/// What the writer knows of the next dossier id and of agencies' code sequences for a day
/// (`repo::codes::reserve`), so an intake in a group needs no statement of its own to learn
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

impl Writer {
    /// `checkpoints`: the options of a connection for WAL checkpoints, whereupon the writer's
    /// own automatic checkpoint becomes a backstop (see `Checkpointer`).
    pub(super) async fn open(
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

    /// A member of the open group, or of a group begun for it (`Db::begin_grouped`).
    pub(in crate::db) async fn begin_grouped(&self) -> Result<SqliteTx, sqlx::Error> {
        let mut slot = self.lock_raw().await?;
        if slot.savepoint_ready && slot.group.as_ref().is_some_and(Group::open) {
            // The member before opened this one's savepoint: nothing to send.
            slot.savepoint_ready = false;
            return Ok(member(self.clone(), slot));
        }
        detached(join_group(self.clone(), slot)).await
    }

    /// Someone holds the writer (for /metrics).
    pub(in crate::db) fn busy(&self) -> bool {
        self.slot.try_lock().is_err()
    }

    /// Groups begun and transactions that joined one (`Db::group_stats`).
    pub(in crate::db) fn group_stats(&self) -> (u64, u64) {
        (
            self.groups.groups.load(Ordering::Relaxed),
            self.groups.members.load(Ordering::Relaxed),
        )
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
    pub(super) async fn stop_checkpoints(&self) {
        if let Some(c) = &self.checkpointer {
            c.shutdown().await;
        }
    }

    pub(super) async fn close(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

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
}
