//! Historic dossiers from a legacy system (`motcua import dossiers`): one transaction, all or
//! nothing, idempotent on the dossier code, and the report counters written in the same
//! transaction, so imported dossiers count in II.06a exactly like live ones.
//!
//! Streaming: [`Importer::begin`] opens the transaction, [`Importer::write`] takes the rows a
//! chunk at a time (the caller never holds the whole file), [`Importer::finish`] writes the
//! counters (summed per bucket while writing) and commits.

use super::Code;
use crate::db::bulk::Statement;
use crate::repo::report::{self, CountRow};
use crate::{Db, StoreError, Tx, on_tx};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::dossier::{Channel, Status};
use motcua_domain::import::{ImportErrors, LegacyDossier, LineError, Outcome};
use motcua_domain::report::Facts;
use motcua_domain::report::counts::{self, Grain, Metric};
use motcua_domain::text::fold_vi as fold;
use std::collections::HashMap;

/// Rows per call on SQLite (each row bound to one prepared statement).
const SQLITE_CHUNK: usize = 2000;
/// Rows per INSERT … SELECT FROM UNNEST on PostgreSQL (one array per column).
const PG_CHUNK: usize = 5_000;
/// Rows per `COPY` into an emptied table on PostgreSQL (streamed in pieces; fewer `COPY`
/// statements kept PostgreSQL busier: 1M rows written in 3.3 s against 3.7 s with 5,000).
const PG_COPY_CHUNK: usize = 50_000;
const MAX_ERRORS: usize = 50;
/// SQLite page cache of the import's connection while it writes rows, KiB: the unique
/// `code` index and the table's last pages stay in memory (pages are taken as needed, so a
/// small import uses little of it). At 10M rows, 256 MiB wrote the rows in 44–49 s against
/// 57–63 s with 64 MiB (docs/performance-history.md).
const SQLITE_WRITE_CACHE_KIB: u64 = 256 * 1024;
/// …and while it rebuilds the secondary indexes: SQLite's sorter was slower with the larger
/// cache (28–33 s against 23 s at 10M rows).
const SQLITE_INDEX_CACHE_KIB: u64 = 64 * 1024;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub created_agencies: Vec<String>,
    pub created_procedures: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Invalid(ImportErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportFailure {
    fn from(e: sqlx::Error) -> Self {
        ImportFailure::Store(e.into())
    }
}

/// The field placeholder procedures are filed under.
pub const PLACEHOLDER_FIELD: (&str, &str) = ("NHAP-CU", "Chưa phân loại (nhập từ hệ thống cũ)");

/// Imports validated rows held in memory (tests and small files; the command streams through
/// [`Importer`]). `progress(done, total)` is called after each chunk.
pub async fn import(
    db: &Db,
    rows: &[LegacyDossier],
    create_missing: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Summary, ImportFailure> {
    let mut agencies: Vec<(String, u64)> = Vec::new();
    let mut procedures: Vec<(String, u64)> = Vec::new();
    for r in rows {
        if !agencies.iter().any(|a| a.0 == r.agency_code) {
            agencies.push((r.agency_code.clone(), r.line));
        }
        if !procedures.iter().any(|p| p.0 == r.procedure_code) {
            procedures.push((r.procedure_code.clone(), r.line));
        }
    }
    let mut importer = Importer::begin(db, &agencies, &procedures, create_missing).await?;
    let mut done = 0;
    for chunk in rows.chunks(importer.chunk_rows()) {
        importer.write(chunk).await?;
        done += chunk.len();
        progress(done, rows.len());
    }
    importer.finish().await
}

/// One import in progress: an open transaction, the codes resolved to ids, the counters
/// summed so far. Dropped without [`Importer::finish`], it rolls back.
pub struct Importer {
    tx: Tx,
    agencies: HashMap<String, i64>,
    procedures: HashMap<String, i64>,
    now: DateTime<Utc>,
    /// No dossier existed when the transaction began: no code of the file can be taken, so
    /// rows are inserted without looking for their codes first. On PostgreSQL the table is
    /// then held by this transaction, without its keys (`pg_take_empty`), and the rows go
    /// in by `COPY`.
    was_empty: bool,
    /// Definitions of the indexes on `dossiers` dropped for the load (into an empty table),
    /// created again (sorted builds) before the commit; on PostgreSQL also its unique key on
    /// `code` and its foreign keys (`pg_take_empty`).
    rebuilt_indexes: Vec<String>,
    /// PostgreSQL: `report_counts` was empty and is held by this transaction; its rows are
    /// loaded without the primary key, which is built after them.
    counters_into_empty: bool,
    counters: Counters,
    errors: Vec<LineError>,
    summary: Summary,
    /// Time spent writing rows (for the debug log).
    writing: std::time::Duration,
}

impl Importer {
    /// Begins the transaction and resolves the agency and procedure codes the file uses
    /// (each with the first line using it). Unknown codes are errors naming that line unless
    /// `create_missing`, which creates placeholders.
    pub async fn begin(
        db: &Db,
        agencies_used: &[(String, u64)],
        procedures_used: &[(String, u64)],
        create_missing: bool,
    ) -> Result<Importer, ImportFailure> {
        let mut tx = db.begin().await?;
        // A load of millions of rows: no statement bound holds it (`Tx::unbounded`).
        tx.unbounded().await?;
        let mut agencies = ids(&mut tx, "agencies").await?;
        let mut procedures = ids(&mut tx, "procedures").await?;
        let missing_agencies: Vec<&(String, u64)> = agencies_used
            .iter()
            .filter(|(c, _)| !agencies.contains_key(c))
            .collect();
        let missing_procedures: Vec<&(String, u64)> = procedures_used
            .iter()
            .filter(|(c, _)| !procedures.contains_key(c))
            .collect();
        let mut summary = Summary::default();
        if create_missing {
            for (code, _) in missing_agencies {
                let id: i64 = on_tx!(&mut tx, c => {
                    sqlx::query_scalar("INSERT INTO agencies (code, name, level, search_text) VALUES ($1, $2, 'unit', $3) RETURNING id")
                        .bind(code)
                        .bind(format!("{code} (nhập từ hệ thống cũ)"))
                        .bind(fold(code))
                        .fetch_one(c)
                        .await?
                });
                agencies.insert(code.clone(), id);
                summary.created_agencies.push(code.clone());
            }
            if !missing_procedures.is_empty() {
                let field: i64 = on_tx!(&mut tx, c => {
                    sqlx::query_scalar(
                        "INSERT INTO fields (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = fields.name RETURNING id",
                    )
                    .bind(PLACEHOLDER_FIELD.0)
                    .bind(PLACEHOLDER_FIELD.1)
                    .fetch_one(c)
                    .await?
                });
                for (code, _) in missing_procedures {
                    let id: i64 = on_tx!(&mut tx, c => {
                        sqlx::query_scalar(
                            "INSERT INTO procedures (code, name, field_id, level, time_limit, search_text) VALUES ($1, $2, $3, 'province', '', $4) RETURNING id",
                        )
                        .bind(code)
                        .bind(format!("Thủ tục {code} (nhập từ hệ thống cũ)"))
                        .bind(field)
                        .bind(fold(code))
                        .fetch_one(c)
                        .await?
                    });
                    procedures.insert(code.clone(), id);
                    summary.created_procedures.push(code.clone());
                }
            }
        } else {
            let mut errors = Vec::new();
            for (code, line) in missing_agencies {
                errors.push(LineError {
                    line: *line,
                    message: format!("unknown agency code {code:?} (--create-missing creates a placeholder)"),
                });
            }
            for (code, line) in missing_procedures {
                errors.push(LineError {
                    line: *line,
                    message: format!(
                        "unknown procedure code {code:?} (--create-missing creates a placeholder)"
                    ),
                });
            }
            if !errors.is_empty() {
                errors.sort_by_key(|e| e.line);
                errors.truncate(MAX_ERRORS);
                return Err(ImportFailure::Invalid(ImportErrors(errors)));
            }
        }
        if let Tx::Sqlite(t) = &mut tx {
            // Index leaves are written all over: keep them in memory rather than spilling
            // pages to the WAL and reading them back (the default cache is 2 MiB).
            sqlx::query(&format!("PRAGMA cache_size = -{SQLITE_WRITE_CACHE_KIB}"))
                .execute(&mut **t)
                .await?;
        }
        let any: Option<i64> = on_tx!(&mut tx, c => {
            sqlx::query_scalar("SELECT id FROM dossiers LIMIT 1").fetch_optional(c).await?
        });
        let mut was_empty = any.is_none();
        let mut counters_into_empty = false;
        // Into an empty table, both backends load faster without what they would maintain
        // row by row, and build it after (sorted): SQLite its secondary indexes; PostgreSQL
        // also the unique key on `code` and the foreign keys, taking the tables for itself
        // until the commit (docs/reports.md).
        let rebuilt_indexes = match &mut tx {
            Tx::Sqlite(t) if was_empty => drop_secondary_indexes(t).await?,
            Tx::Postgres(t) if was_empty => match pg_take_empty(t).await? {
                Some(load) => {
                    counters_into_empty = load.counters_empty;
                    load.restore
                }
                None => {
                    // A dossier arrived between the look and the lock, or another session
                    // kept the tables busy: row by row.
                    was_empty = false;
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        Ok(Importer {
            tx,
            agencies,
            procedures,
            now: Utc::now(),
            was_empty,
            rebuilt_indexes,
            counters_into_empty,
            counters: Counters::default(),
            errors: Vec::new(),
            summary,
            writing: std::time::Duration::ZERO,
        })
    }

    /// Rows per [`Importer::write`] that suit the backend (any number works).
    pub fn chunk_rows(&self) -> usize {
        match self.tx {
            Tx::Sqlite(_) => SQLITE_CHUNK,
            Tx::Postgres(_) if self.was_empty => PG_COPY_CHUNK,
            Tx::Postgres(_) => PG_CHUNK,
        }
    }

    /// Whether errors were found: the import will fail; writing more only finds more errors.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Writes validated rows (codes unique across every call): new codes are inserted; a code
    /// already imported is left alone if its values are the same and updated otherwise; a
    /// code of a dossier handled here is an error.
    pub async fn write(&mut self, rows: &[LegacyDossier]) -> Result<(), ImportFailure> {
        if self.errors.len() >= MAX_ERRORS {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.summary.rows += rows.len();
        let mut ids: Vec<(i64, i64)> = Vec::with_capacity(rows.len());
        for r in rows {
            match (
                self.agencies.get(&r.agency_code),
                self.procedures.get(&r.procedure_code),
            ) {
                (Some(a), Some(p)) => ids.push((*a, *p)),
                _ => {
                    // Only if the file changed after it was checked.
                    self.errors.push(LineError {
                        line: r.line,
                        message: "agency or procedure code not in the file when it was checked (did the file change?)".into(),
                    });
                    return Ok(());
                }
            }
        }
        let step = self.chunk_rows();
        for (rows, ids) in rows.chunks(step).zip(ids.chunks(step)) {
            let taken = if self.was_empty {
                HashMap::new()
            } else {
                self.existing(rows).await?
            };
            let fresh: Vec<usize> = (0..rows.len())
                .filter(|i| !taken.contains_key(&rows[*i].code))
                .collect();
            // Also counts the rows (they are all inserted, or the import fails).
            let inserted = self.insert(rows, ids, &fresh).await?;
            if inserted != fresh.len() as u64 {
                // Another writer (PostgreSQL) added one of these codes since the lookup.
                return Err(ImportFailure::Store(StoreError::Conflict(
                    "dossiers with codes of the file were added during the import; run it again".into(),
                )));
            }
            self.summary.inserted += fresh.len();
            for (r, &(a, p)) in rows.iter().zip(ids) {
                if let Some(stored) = taken.get(&r.code) {
                    self.again(r, a, p, stored).await?;
                }
            }
        }
        self.writing += started.elapsed();
        Ok(())
    }

    /// Writes the counters and commits; or, if errors were found, rolls back and lists them.
    pub async fn finish(mut self) -> Result<Summary, ImportFailure> {
        if !self.errors.is_empty() {
            let mut errors = std::mem::take(&mut self.errors);
            errors.sort_by_key(|e| e.line);
            errors.truncate(MAX_ERRORS);
            return Err(ImportFailure::Invalid(ImportErrors(errors)));
        }
        let started = std::time::Instant::now();
        // The counter rows are summed and sorted on another thread while the indexes build.
        let counters = std::mem::take(&mut self.counters);
        let buckets = counters.buckets();
        let counter_rows = tokio::task::spawn_blocking(move || counters.into_rows());
        if !self.rebuilt_indexes.is_empty()
            && let Tx::Sqlite(t) = &mut self.tx
        {
            sqlx::query(&format!("PRAGMA cache_size = -{SQLITE_INDEX_CACHE_KIB}"))
                .execute(&mut **t)
                .await?;
        }
        for sql in std::mem::take(&mut self.rebuilt_indexes) {
            on_tx!(&mut self.tx, c => {
                sqlx::query(&sql).execute(c).await?;
            });
        }
        let indexed = started.elapsed();
        let counter_rows = counter_rows
            .await
            .map_err(|e| StoreError::Io(format!("summing the counters failed: {e}")))?;
        let summed = started.elapsed();
        if self.counters_into_empty
            && let Tx::Postgres(t) = &mut self.tx
        {
            report::add_rows_to_empty(t, &counter_rows).await?;
        } else {
            report::add_rows(&mut self.tx, &counter_rows).await?;
        }
        let counted = started.elapsed();
        self.tx.commit().await?;
        tracing::debug!(
            rows = self.summary.rows,
            writing_ms = self.writing.as_millis() as u64,
            day_buckets = buckets,
            indexes_ms = indexed.as_millis() as u64,
            summing_wait_ms = (summed - indexed).as_millis() as u64,
            counters_ms = (counted - summed).as_millis() as u64,
            commit_ms = (started.elapsed() - counted).as_millis() as u64,
            "import written"
        );
        Ok(self.summary)
    }

    /// The dossiers already stored under the codes of `rows`.
    async fn existing(&mut self, rows: &[LegacyDossier]) -> Result<HashMap<String, Stored>, ImportFailure> {
        let found: Vec<Stored> = match &mut self.tx {
            Tx::Sqlite(t) => {
                let sql = format!(
                    "SELECT code, id, imported, agency_id, procedure_id, channel, status, received_at, original_due_at, finished_at
                     FROM dossiers WHERE code IN ({})",
                    vec!["?"; rows.len()].join(",")
                );
                let mut q = sqlx::query_as(&sql);
                for r in rows {
                    q = q.bind(&r.code);
                }
                q.fetch_all(&mut **t).await?
            }
            Tx::Postgres(t) => {
                let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
                sqlx::query_as(
                    "SELECT code, id, imported, agency_id, procedure_id, channel, status, received_at, original_due_at, finished_at
                     FROM dossiers WHERE code = ANY($1::text[])",
                )
                .bind(&codes)
                .fetch_all(&mut **t)
                .await?
            }
        };
        Ok(found.into_iter().map(|s| (s.0.clone(), s)).collect())
    }

    /// Inserts the rows at `only` and adds them to the counters; returns how many were
    /// inserted.
    async fn insert(
        &mut self,
        rows: &[LegacyDossier],
        ids: &[(i64, i64)],
        only: &[usize],
    ) -> Result<u64, ImportFailure> {
        if only.is_empty() {
            return Ok(0);
        }
        let count = |counters: &mut Counters| {
            for &i in only {
                let (a, p) = ids[i];
                counters.add(a, p, None, facts_of(&rows[i]).as_ref());
            }
        };
        let now = self.now;
        let done = match &mut self.tx {
            Tx::Sqlite(t) => {
                // One prepared row statement through SQLite's C API (`db::bulk`).
                let mut handle = t.bulk_handle().await?;
                let mut insert = Statement::prepare(
                    &mut handle,
                    "INSERT INTO dossiers (code, agency_id, procedure_id, channel, status, applicant_name, submitted_at, received_at,
                       due_at, original_due_at, finished_at, returned_at, created_at, updated_at, imported, search_text)
                     VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)
                     ON CONFLICT (code) DO NOTHING",
                )?;
                // Instants as sqlx stores them (two columns share each).
                let now = sqlite_instant(now);
                let counters = &mut self.counters;
                // The counting (hash-map updates, about a fifth of this thread's time) runs on
                // a thread of its own meanwhile.
                std::thread::scope(|scope| {
                    scope.spawn(|| count(counters));
                    let mut done = 0;
                    // In code order: the unique index on `code` is then walked forward.
                    let mut order = only.to_vec();
                    order.sort_unstable_by(|x, y| rows[*x].code.cmp(&rows[*y].code));
                    for i in order {
                        let (r, (a, p)) = (&rows[i], ids[i]);
                        let received = sqlite_instant(r.received_at);
                        let due = r.due_at.map(sqlite_instant);
                        let finished = r.finished_at.map(sqlite_instant);
                        let search = search_text(&r.code);
                        let returned = if r.outcome == Outcome::Returned {
                            finished.as_deref()
                        } else {
                            None
                        };
                        done += insert.run(&[
                            r.code.as_str().into(),
                            a.into(),
                            p.into(),
                            r.channel.as_str().into(),
                            r.outcome.status().as_str().into(),
                            received.as_str().into(),
                            received.as_str().into(),
                            due.as_deref().into(),
                            due.as_deref().into(),
                            finished.as_deref().into(),
                            returned.into(),
                            now.as_str().into(),
                            now.as_str().into(),
                            search.as_str().into(),
                        ])?;
                    }
                    Ok::<u64, ImportFailure>(done)
                })?
            }
            Tx::Postgres(t) => {
                // The counting runs on a blocking thread while PostgreSQL inserts the rows.
                let facts: Vec<(i64, i64, Option<Facts>)> = only
                    .iter()
                    .map(|&i| (ids[i].0, ids[i].1, facts_of(&rows[i])))
                    .collect();
                let mut counters = std::mem::take(&mut self.counters);
                let counting = tokio::task::spawn_blocking(move || {
                    for (a, p, f) in facts {
                        counters.add(a, p, None, f.as_ref());
                    }
                    counters
                });
                let inserted = if self.was_empty {
                    copy_into_emptied(t, rows, ids, only, now).await
                } else {
                    unnest_insert(t, rows, ids, only, now).await
                };
                self.counters = counting
                    .await
                    .map_err(|e| StoreError::Io(format!("counting the rows failed: {e}")))?;
                inserted?
            }
        };
        Ok(done)
    }

    /// A code already stored: the same import again (unchanged), a legacy dossier that moved
    /// on (updated), or a dossier handled here (an error).
    async fn again(
        &mut self,
        r: &LegacyDossier,
        a: i64,
        p: i64,
        stored: &Stored,
    ) -> Result<(), ImportFailure> {
        let (_, id, imported, agency, procedure, Code(channel), Code(status), received, due, finished) =
            stored;
        if !imported {
            self.errors.push(LineError {
                line: r.line,
                message: format!(
                    "code {:?} belongs to a dossier handled in motcua, not an imported one",
                    r.code
                ),
            });
            return Ok(());
        }
        let status_now = r.outcome.status();
        let same = *agency == a
            && *procedure == p
            && *channel == r.channel
            && *status == status_now
            && *received == Some(r.received_at)
            && *due == r.due_at
            && *finished == r.finished_at;
        if same {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let old = Facts::of(*status, *channel, *received, *due, *finished);
        self.counters.add(*agency, *procedure, old.as_ref(), None);
        self.counters.add(a, p, None, facts_of(r).as_ref());
        let returned = returned_at(r);
        let now = self.now;
        on_tx!(&mut self.tx, c => {
            sqlx::query(
                "UPDATE dossiers SET agency_id = $1, procedure_id = $2, channel = $3, status = $4, submitted_at = $5, received_at = $5,
                   due_at = $6, original_due_at = $6, finished_at = $7, returned_at = $8, updated_at = $9, version = version + 1
                 WHERE id = $10",
            )
            .bind(a).bind(p).bind(r.channel.as_str()).bind(status_now.as_str()).bind(r.received_at).bind(r.due_at)
            .bind(r.finished_at).bind(returned).bind(now).bind(*id)
            .execute(c)
            .await?;
        });
        self.summary.updated += 1;
        Ok(())
    }
}

/// code, id, imported, agency_id, procedure_id, channel, status, received_at,
/// original_due_at, finished_at of a stored dossier.
type Stored = (
    String,
    i64,
    bool,
    i64,
    i64,
    Code<Channel>,
    Code<Status>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Counter changes summed per (agency, procedure, day, metric) as rows are written: memory
/// grows with the buckets touched (17 bytes each), not with the rows.
#[derive(Default)]
struct Counters {
    /// (agency id, procedure id) of each pair index.
    pairs: Vec<(i64, i64)>,
    pair_index: HashMap<(i64, i64), u32>,
    /// pair index << 32 | days from the common era << 3 | metric id → sum.
    days: HashMap<u64, i32, std::hash::BuildHasherDefault<Fx>>,
}

impl Counters {
    fn add(&mut self, agency: i64, procedure: i64, old: Option<&Facts>, new: Option<&Facts>) {
        let pair = match self.pair_index.get(&(agency, procedure)) {
            Some(p) => *p,
            None => {
                let p = self.pairs.len() as u32;
                self.pairs.push((agency, procedure));
                self.pair_index.insert((agency, procedure), p);
                p
            }
        };
        for (day, metric, n) in counts::diff(old, new) {
            let key = (u64::from(pair) << 32)
                | ((day.num_days_from_ce() as u64 & 0x1FFF_FFFF) << 3)
                | metric.id() as u64;
            *self.days.entry(key).or_insert(0) += n as i32;
        }
    }

    fn buckets(&self) -> usize {
        self.days.len()
    }

    /// Every counter row to add, in every grain, in primary key order; none is zero.
    fn into_rows(self) -> Vec<CountRow> {
        let pairs = self.pairs;
        let mut coarse: HashMap<(Grain, NaiveDate, u32, Metric), i64> = HashMap::new();
        let mut out: Vec<CountRow> = Vec::with_capacity(self.days.len());
        for (key, n) in self.days {
            if n == 0 {
                continue;
            }
            let pair = (key >> 32) as u32;
            let (Some(day), Some(metric)) = (
                NaiveDate::from_num_days_from_ce_opt(((key >> 3) & 0x1FFF_FFFF) as i32),
                Metric::from_id((key & 7) as i16),
            ) else {
                continue;
            };
            let (a, p) = pairs[pair as usize];
            out.push((Grain::Day.code(), day, a, p, metric.id(), i64::from(n)));
            for g in [Grain::Month, Grain::Year] {
                *coarse.entry((g, g.bucket(day), pair, metric)).or_insert(0) += i64::from(n);
            }
        }
        for ((g, bucket, pair, metric), n) in coarse {
            if n != 0 {
                let (a, p) = pairs[pair as usize];
                out.push((g.code(), bucket, a, p, metric.id(), n));
            }
        }
        out.sort_unstable_by_key(|r| (r.0, r.1, r.2, r.3, r.4));
        out
    }
}

/// A multiplicative hasher for integer keys (FxHash): the keys are not chosen by an attacker.
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// An instant as sqlx stores a `DateTime<Utc>` in SQLite (RFC 3339, `AutoSi` fractions,
/// `+00:00`), without going through `fmt` for the usual whole second of a four-digit year.
fn sqlite_instant(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if t.nanosecond() != 0 || !(1000..=9999).contains(&year) {
        return t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    }
    let mut b = *b"0000-00-00T00:00:00+00:00";
    let mut put = |at: usize, digits: usize, mut v: u32| {
        for i in (0..digits).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    String::from_utf8_lossy(&b).into_owned()
}

fn facts_of(r: &LegacyDossier) -> Option<Facts> {
    Facts::of(
        r.outcome.status(),
        r.channel,
        Some(r.received_at),
        r.due_at,
        r.finished_at,
    )
}

/// `fold_vi` of a code, without its Unicode decomposition for the usual ASCII code (a code
/// has no spaces, and ASCII folds to its lower case).
fn search_text(code: &str) -> String {
    if code.is_ascii() {
        code.to_ascii_lowercase()
    } else {
        fold(code)
    }
}

/// Drops the indexes on `dossiers` that enforce nothing (not unique), returning the
/// statements creating them again, as SQLite keeps them.
async fn drop_secondary_indexes(t: &mut crate::SqliteTx) -> Result<Vec<String>, ImportFailure> {
    let found: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dossiers' AND sql IS NOT NULL
           AND sql NOT LIKE 'CREATE UNIQUE%'",
    )
    .fetch_all(&mut **t)
    .await?;
    for (name, _) in &found {
        sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .execute(&mut **t)
            .await?;
    }
    Ok(found.into_iter().map(|(_, sql)| sql).collect())
}

/// Rows of an import into a table that holds codes already (PostgreSQL): one statement of
/// `UNNEST` arrays, a code taken meanwhile left out (`ON CONFLICT`).
async fn unnest_insert(
    t: &mut crate::PgTx,
    rows: &[LegacyDossier],
    ids: &[(i64, i64)],
    only: &[usize],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let n = only.len();
    let mut code = Vec::with_capacity(n);
    let mut agency = Vec::with_capacity(n);
    let mut procedure = Vec::with_capacity(n);
    let mut channel = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut received = Vec::with_capacity(n);
    let mut due = Vec::with_capacity(n);
    let mut finished = Vec::with_capacity(n);
    let mut returned = Vec::with_capacity(n);
    let mut search = Vec::with_capacity(n);
    for &i in only {
        let (r, (a, p)) = (&rows[i], ids[i]);
        code.push(r.code.as_str());
        agency.push(a);
        procedure.push(p);
        channel.push(r.channel.as_str());
        status.push(r.outcome.status().as_str());
        received.push(r.received_at);
        due.push(r.due_at);
        finished.push(r.finished_at);
        returned.push(returned_at(r));
        search.push(search_text(&r.code));
    }
    let sql = "INSERT INTO dossiers (code, agency_id, procedure_id, channel, status, applicant_name, submitted_at, received_at,
               due_at, original_due_at, finished_at, returned_at, created_at, updated_at, imported, search_text)
             SELECT code, agency_id, procedure_id, channel, status, '', received_at, received_at, due_at, due_at, finished_at,
               returned_at, $11, $11, TRUE, search_text
             FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
               $8::timestamptz[], $9::timestamptz[], $10::text[])
               AS t(code, agency_id, procedure_id, channel, status, received_at, due_at, finished_at, returned_at, search_text)
             ON CONFLICT (code) DO NOTHING";
    let inserted = sqlx::query(sql)
        .bind(&code)
        .bind(&agency)
        .bind(&procedure)
        .bind(&channel)
        .bind(&status)
        .bind(&received)
        .bind(&due)
        .bind(&finished)
        .bind(&returned)
        .bind(&search)
        .bind(now)
        .execute(&mut **t)
        .await?;
    Ok(inserted.rows_affected())
}

/// Rows of an import into the emptied `dossiers` (PostgreSQL, `pg_take_empty`): one binary
/// `COPY` (`db::copy`). There is no unique key to conflict on until the commit builds it,
/// which fails if a code came twice.
async fn copy_into_emptied(
    t: &mut crate::PgTx,
    rows: &[LegacyDossier],
    ids: &[(i64, i64)],
    only: &[usize],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut copy = crate::db::copy::Copy::begin(
        t,
        "COPY dossiers (code, agency_id, procedure_id, channel, status, applicant_name, submitted_at, received_at,
           due_at, original_due_at, finished_at, returned_at, created_at, updated_at, imported, search_text)
         FROM STDIN (FORMAT binary)",
    )
    .await?;
    for &i in only {
        let (r, (a, p)) = (&rows[i], ids[i]);
        copy.row(16)
            .text(&r.code)
            .int8(a)
            .int8(p)
            .text(r.channel.as_str())
            .text(r.outcome.status().as_str())
            .text("")
            .timestamptz(Some(r.received_at))
            .timestamptz(Some(r.received_at))
            .timestamptz(r.due_at)
            .timestamptz(r.due_at)
            .timestamptz(r.finished_at)
            .timestamptz(returned_at(r))
            .timestamptz(Some(now))
            .timestamptz(Some(now))
            .bool(true)
            .text(&search_text(&r.code));
        copy.flush_piece().await?;
    }
    copy.finish().await
}

/// When a legacy dossier was returned: its finish, if its outcome is a return.
fn returned_at(r: &LegacyDossier) -> Option<DateTime<Utc>> {
    (r.outcome == Outcome::Returned)
        .then_some(r.finished_at)
        .flatten()
}

/// How long the import waits for the tables it loads into empty (`pg_take_empty`) before it
/// goes row by row instead: while it waits, readers of `dossiers` wait behind it.
const PG_LOCK_WAIT: &str = "5s";

/// Takes every lock the load needs, at once and first, so that none is waited for later
/// (where a deadlock would cost the whole import): `dossiers`, `report_counts` and the
/// tables the foreign keys of `dossiers` name (agencies, procedures, citizens), all for this
/// transaction alone, since dropping a foreign key takes its other table so too (keeping
/// them cost 7 s per million rows). Gives up after [`PG_LOCK_WAIT`].
async fn pg_lock_for_load(t: &mut crate::PgTx) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("SET LOCAL lock_timeout = '{PG_LOCK_WAIT}'"))
        .execute(&mut **t)
        .await?;
    // Both at once, in the order of every writer's statement (a dossier, then its counters).
    sqlx::query("LOCK TABLE dossiers, report_counts IN ACCESS EXCLUSIVE MODE")
        .execute(&mut **t)
        .await?;
    let referenced: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
         WHERE conrelid = 'dossiers'::regclass AND contype = 'f' AND confrelid <> conrelid",
    )
    .fetch_all(&mut **t)
    .await?;
    if !referenced.is_empty() {
        sqlx::query(&format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            referenced.join(", ")
        ))
        .execute(&mut **t)
        .await?;
    }
    sqlx::query("SET LOCAL lock_timeout TO DEFAULT")
        .execute(&mut **t)
        .await?;
    Ok(())
}

/// What [`pg_take_empty`] took apart.
struct PgLoad {
    /// Statements putting back what was dropped from `dossiers`: its unique key first (the
    /// one check the load can fail), then its indexes, then its foreign keys.
    restore: Vec<String>,
    /// `report_counts` holds no row.
    counters_empty: bool,
}

/// A load into an empty `dossiers` on PostgreSQL, as `pg_restore` does it: locks the tables
/// it touches until the commit (their readers wait; `pg_lock_for_load`), and, if `dossiers`
/// is still empty, drops its unique key on `code`, its indexes that are not partial and its
/// foreign keys, returning the statements that build them again after the rows (one sorted
/// build, one check per foreign key, instead of an index entry and a check per row). All of
/// it is in the import's transaction: a failure anywhere rolls it all back. `None`: a
/// dossier arrived before the lock, or the tables were not free within [`PG_LOCK_WAIT`];
/// nothing was dropped.
async fn pg_take_empty(t: &mut crate::PgTx) -> Result<Option<PgLoad>, ImportFailure> {
    t.flush().await?;
    sqlx::query("SAVEPOINT take_empty").execute(&mut **t).await?;
    match pg_lock_for_load(t).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT take_empty")
                .execute(&mut **t)
                .await?;
        }
        // Another session holds them: rather than stall every reader queued behind this
        // lock, or lose the whole import to a deadlock later, load row by row.
        Err(e)
            if matches!(
                e.as_database_error().and_then(|d| d.code()).as_deref(),
                Some("55P03" | "40P01")
            ) =>
        {
            tracing::warn!(
                "dossiers are in use by another session, so the import writes them row by row: {e}"
            );
            sqlx::query("ROLLBACK TO SAVEPOINT take_empty")
                .execute(&mut **t)
                .await?;
            sqlx::query("RELEASE SAVEPOINT take_empty")
                .execute(&mut **t)
                .await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    let any: Option<i64> = sqlx::query_scalar("SELECT id FROM dossiers LIMIT 1")
        .fetch_optional(&mut **t)
        .await?;
    if any.is_some() {
        return Ok(None);
    }
    let counters_empty = sqlx::query_scalar::<_, i32>("SELECT 1 FROM report_counts LIMIT 1")
        .fetch_optional(&mut **t)
        .await?
        .is_none();
    // Constraints: unique ('u') before foreign keys ('f').
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT quote_ident(conname), contype::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = 'dossiers'::regclass AND contype IN ('u', 'f')
           AND NOT (contype = 'u' AND EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = pg_constraint.conindid))
         ORDER BY contype DESC, conname",
    )
    .fetch_all(&mut **t)
    .await?;
    // Indexes that back no constraint of the table (those go with their constraint). Partial
    // indexes stay: they hold open dossiers only, few in a history, and a build would scan
    // the whole table for them.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = 'dossiers'::regclass AND i.indpred IS NULL
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid)
         ORDER BY c.relname",
    )
    .fetch_all(&mut **t)
    .await?;
    let mut restore = Vec::new();
    for (name, _, def) in constraints.iter().filter(|c| c.1 == "u") {
        restore.push(format!("ALTER TABLE dossiers ADD CONSTRAINT {name} {def}"));
    }
    restore.extend(indexes.iter().map(|(_, def)| def.clone()));
    for (name, _, def) in constraints.iter().filter(|c| c.1 == "f") {
        restore.push(format!("ALTER TABLE dossiers ADD CONSTRAINT {name} {def}"));
    }
    for (name, _, _) in &constraints {
        sqlx::query(&format!("ALTER TABLE dossiers DROP CONSTRAINT {name}"))
            .execute(&mut **t)
            .await?;
    }
    for (name, _) in &indexes {
        sqlx::query(&format!("DROP INDEX {name}"))
            .execute(&mut **t)
            .await?;
    }
    Ok(Some(PgLoad {
        restore,
        counters_empty,
    }))
}

async fn ids(tx: &mut Tx, table: &str) -> Result<HashMap<String, i64>, ImportFailure> {
    let sql = format!("SELECT code, id FROM {table}");
    let rows: Vec<(String, i64)> = on_tx!(tx, c => sqlx::query_as(&sql).fetch_all(c).await?);
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    #[test]
    fn instants_are_written_as_sqlx_writes_them() {
        let mut t = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2199, 12, 31, 23, 59, 59).unwrap();
        while t < end {
            assert_eq!(
                super::sqlite_instant(t),
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
            );
            t += chrono::Duration::seconds(86_399 * 17 + 3_601);
        }
        let odd = Utc.with_ymd_and_hms(2025, 3, 4, 1, 2, 3).unwrap() + chrono::Duration::milliseconds(5);
        assert_eq!(super::sqlite_instant(odd), "2025-03-04T01:02:03.005+00:00");
    }

    #[test]
    fn search_text_of_an_ascii_code_is_its_fold() {
        for code in ["H56.01-250304-0001", "CU-000001", "Đ-1", "ABC_xyz"] {
            assert_eq!(super::search_text(code), super::fold(code), "{code}");
        }
    }
}
