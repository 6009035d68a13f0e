//! What the II.06a report needs of each dossier, read straight from the dossiers table: the
//! recount (slow, exact) path. Dates become local (UTC+7) dates in Rust, never in SQL.

use super::Code;
use crate::{Db, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::local_date;
use motcua_domain::dossier::{Channel, Status};
use motcua_domain::report::counts::{self, Grain, Metric, Prefixes};
use motcua_domain::report::{Facts, Period, Row};
use sqlx::Arguments;
use std::collections::{BTreeMap, HashMap};

/// What a report row can be keyed by: the receiving agency, the procedure and its field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    pub agency_code: String,
    pub agency_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub field_code: String,
    pub field_name: String,
}

/// One counted dossier with the keys it can be grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The dossier code, or `online-ID` for one never given a code.
    pub code: String,
    pub keys: Keys,
    pub facts: Facts,
}

/// Dossiers that may count in a period ending on `to`: received (never refused, not waiting
/// online) on or before `to` (local), and not finished before `from`. `agencies`: receiving
/// agency ids to keep (None: all).
pub async fn counted(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    agencies: Option<&[i64]>,
) -> StoreResult<Vec<Counted>> {
    // A day of margin on each side in UTC; exact local-date filtering happens below.
    let upper: DateTime<Utc> = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(17, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let lower: DateTime<Utc> = from
        .pred_opt()
        .unwrap_or(from)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let scope = match agencies {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!(
            "AND d.agency_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT d.id, d.code, a.code, a.name, p.code, p.name, f.code, f.name, d.channel, d.status, d.received_at, d.original_due_at, d.finished_at, d.paused_at
         FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id JOIN fields f ON f.id = p.field_id
         WHERE d.received_at IS NOT NULL AND d.status <> 'refused' AND d.received_at <= $1
           AND (d.finished_at IS NULL OR d.finished_at >= $2) {scope}"
    );
    type Raw = (
        i64,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
        String,
        Code<Channel>,
        Code<Status>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Raw> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(upper).bind(lower).fetch_all(pool).await?
    });
    let today = local_date(Utc::now());
    Ok(rows
        .into_iter()
        .filter_map(
            |(
                id,
                code,
                ac,
                an,
                pc,
                pn,
                fc,
                fname,
                Code(channel),
                Code(status),
                received,
                due,
                finished,
                paused,
            )| {
                let mut facts = Facts::of(status, channel, Some(received), due, finished)?;
                // A pause open now is open at the period's end only for a period ending today
                // or later; a report of the past cannot know older pauses yet.
                facts.paused_at_end = paused.is_some() && status == Status::AwaitingSupplement && to >= today;
                Some(Counted {
                    code: code.unwrap_or_else(|| format!("online-{id}")),
                    keys: Keys {
                        agency_code: ac,
                        agency_name: an,
                        procedure_code: pc,
                        procedure_name: pn,
                        field_code: fc,
                        field_name: fname,
                    },
                    facts,
                })
            },
        )
        .collect())
}

/// How report rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Field,
    Procedure,
    Agency,
}

/// One row of the report: its key (code), name and columns. By agency, a row counts the
/// agency's own dossiers and every agency below it, and names its parent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyedRow {
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(flatten)]
    pub row: Row,
}

/// Rows (sorted by key) and the total of a period, recounted from the dossiers.
pub fn group(
    counted: &[Counted],
    period: &Period,
    by: By,
    tree: &[(String, String, Option<String>)],
) -> Result<(Vec<KeyedRow>, Row), String> {
    group_rows(
        counted.iter().map(|c| {
            let mut one = Row::default();
            one.count(&c.facts, period);
            (&c.keys, one)
        }),
        by,
        tree,
    )
}

/// Rows (sorted by key) and the total from rows per key set; every row and the total pass
/// the form's identities (an error names the broken one). Empty rows are left out.
pub fn group_rows<'a>(
    items: impl IntoIterator<Item = (&'a Keys, Row)>,
    by: By,
    tree: &[(String, String, Option<String>)],
) -> Result<(Vec<KeyedRow>, Row), String> {
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let mut total = Row::default();
    let node = |code: &str| tree.iter().find(|t| t.0 == code);
    for (keys, one) in items {
        if one == Row::default() {
            continue;
        }
        for key in keys_of(keys, by, tree) {
            let name = match by {
                By::Field => keys.field_name.clone(),
                By::Procedure => keys.procedure_name.clone(),
                By::Agency => node(&key)
                    .map(|t| t.1.clone())
                    .unwrap_or_else(|| keys.agency_name.clone()),
            };
            rows.entry((key, name)).or_default().add(&one);
        }
        total.add(&one);
    }
    for r in rows.values().chain(std::iter::once(&total)) {
        r.check()?;
    }
    let parent_of = |code: &str| {
        if by == By::Agency {
            node(code).and_then(|t| t.2.clone())
        } else {
            None
        }
    };
    Ok((
        rows.into_iter()
            .map(|((key, name), row)| KeyedRow {
                parent: parent_of(&key),
                key,
                name,
                row,
            })
            .collect(),
        total,
    ))
}

/// The row keys a dossier counts in: its field or procedure code, or by agency its receiving
/// agency and every agency above it (a parent's row includes its whole subtree).
pub fn keys_of(c: &Keys, by: By, tree: &[(String, String, Option<String>)]) -> Vec<String> {
    match by {
        By::Field => vec![c.field_code.clone()],
        By::Procedure => vec![c.procedure_code.clone()],
        By::Agency => {
            let mut out = Vec::new();
            let mut code = Some(c.agency_code.clone());
            while let Some(current) = code.take() {
                if out.contains(&current) || out.len() >= 64 {
                    break;
                }
                code = tree.iter().find(|t| t.0 == current).and_then(|t| t.2.clone());
                out.push(current);
            }
            out
        }
    }
}

/// Every agency as (code, name, parent code), for rolling rows up.
pub async fn tree(db: &Db) -> StoreResult<Vec<(String, String, Option<String>)>> {
    Ok(crate::repo::agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.code, a.name, a.parent_code))
        .collect())
}

// ---------------------------------------------------------------------------------------
// The fast path: counters (`report_counts`) kept by every transition, the import and rebuild.

/// One change to the counters: receiving agency id, procedure id, day, metric, amount.
pub type Delta = (i64, i64, NaiveDate, Metric, i64);

/// One counter row to add: grain code, bucket, agency id, procedure id, metric id, n.
pub(crate) type CountRow = (&'static str, NaiveDate, i64, i64, i16, i64);

/// Adds the deltas to the counters, in every grain, inside the caller's transaction. Deltas
/// on the same bucket are merged first.
pub async fn apply(tx: &mut Tx, deltas: impl IntoIterator<Item = Delta>) -> StoreResult<()> {
    let mut merged: BTreeMap<(&'static str, NaiveDate, i64, i64, i16), i64> = BTreeMap::new();
    for (agency, procedure, day, metric, n) in deltas {
        for g in Grain::ALL {
            *merged
                .entry((g.code(), g.bucket(day), agency, procedure, metric.id()))
                .or_insert(0) += n;
        }
    }
    let rows: Vec<CountRow> = merged
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((g, bucket, a, p, m), n)| (g, bucket, a, p, m, n))
        .collect();
    add_rows(tx, &rows).await
}

/// [`add_rows`] into an empty `report_counts` that the caller's transaction holds locked
/// (`LOCK TABLE … ACCESS EXCLUSIVE`; the bulk import into an empty database), with rows
/// unique on the primary key: the key is dropped, the rows copied in (binary `COPY`), and
/// the key built again in one sorted pass instead of an upsert's lookup per row.
pub(crate) async fn add_rows_to_empty(t: &mut crate::PgTx, rows: &[CountRow]) -> StoreResult<()> {
    t.flush().await?;
    let (name, def): (String, String) = sqlx::query_as(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = 'report_counts'::regclass AND contype = 'p'",
    )
    .fetch_one(&mut **t)
    .await?;
    sqlx::query(&format!("ALTER TABLE report_counts DROP CONSTRAINT {name}"))
        .execute(&mut **t)
        .await?;
    let mut copy = crate::db::copy::Copy::begin(
        t,
        "COPY report_counts (grain, bucket, agency_id, procedure_id, metric, n) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for (grain, bucket, agency, procedure, metric, n) in rows {
        copy.row(6)
            .text(grain)
            .date(*bucket)
            .int8(*agency)
            .int8(*procedure)
            .int2(*metric)
            .int8(*n);
        copy.flush_piece().await?;
    }
    copy.finish().await?;
    sqlx::query(&format!("ALTER TABLE report_counts ADD CONSTRAINT {name} {def}"))
        .execute(&mut **t)
        .await?;
    Ok(())
}

/// Adds `n` of each row to the counter already there (or creates it): the one writer of
/// `report_counts`, for transitions (`apply`) and the bulk import. A transition's few rows
/// are deferred as one `VALUES` list; a bulk load's many go as `UNNEST` arrays on
/// PostgreSQL and through one prepared row statement on SQLite (`db::bulk`).
pub(crate) async fn add_rows(tx: &mut Tx, rows: &[CountRow]) -> StoreResult<()> {
    const UPSERT: &str = "ON CONFLICT (grain, bucket, agency_id, procedure_id, metric) DO UPDATE SET n = report_counts.n + excluded.n";
    if rows.is_empty() {
        return Ok(());
    }
    // A transition's few rows wait for the commit with its other writes (`write_later!`); a
    // bulk load's many are sent at once.
    let few = rows.len() <= 64;
    match tx {
        Tx::Postgres(t) if !few => {
            t.flush().await?;
            for chunk in rows.chunks(10_000) {
                let grain: Vec<&str> = chunk.iter().map(|r| r.0).collect();
                let bucket: Vec<NaiveDate> = chunk.iter().map(|r| r.1).collect();
                let agency: Vec<i64> = chunk.iter().map(|r| r.2).collect();
                let procedure: Vec<i64> = chunk.iter().map(|r| r.3).collect();
                let metric: Vec<i16> = chunk.iter().map(|r| r.4).collect();
                let n: Vec<i64> = chunk.iter().map(|r| r.5).collect();
                sqlx::query(&format!(
                    "INSERT INTO report_counts (grain, bucket, agency_id, procedure_id, metric, n)
                     SELECT * FROM UNNEST($1::text[], $2::date[], $3::int8[], $4::int8[], $5::int2[], $6::int8[]) {UPSERT}"
                ))
                .bind(&grain)
                .bind(&bucket)
                .bind(&agency)
                .bind(&procedure)
                .bind(&metric)
                .bind(&n)
                .execute(&mut **t)
                .await?;
            }
        }
        Tx::Sqlite(t) if !few => {
            let mut handle = t.bulk_handle().await?;
            let mut upsert = crate::db::bulk::Statement::prepare(
                &mut handle,
                &format!(
                    "INSERT INTO report_counts (grain, bucket, agency_id, procedure_id, metric, n) VALUES (?, ?, ?, ?, ?, ?) {UPSERT}"
                ),
            )?;
            let mut day = String::with_capacity(10);
            for (g, bucket, agency, procedure, metric, n) in rows {
                day.clear();
                // As sqlx stores a NaiveDate (`%F`).
                use chrono::Datelike;
                use std::fmt::Write;
                let _ = write!(
                    day,
                    "{:04}-{:02}-{:02}",
                    bucket.year(),
                    bucket.month(),
                    bucket.day()
                );
                upsert.run(&[
                    (*g).into(),
                    day.as_str().into(),
                    (*agency).into(),
                    (*procedure).into(),
                    i64::from(*metric).into(),
                    (*n).into(),
                ])?;
            }
        }
        _ => {
            let sql = super::positional(
                tx,
                &format!(
                    "INSERT INTO report_counts (grain, bucket, agency_id, procedure_id, metric, n) VALUES {} {UPSERT}",
                    super::values_list(rows.len(), "(?, ?, ?, ?, ?, ?)")
                ),
            );
            crate::write_later!(tx, "report_counts", &sql, a => {
                for (g, bucket, agency, procedure, metric, n) in rows {
                    a.add(*g)?; a.add(*bucket)?; a.add(*agency)?; a.add(*procedure)?; a.add(*metric)?; a.add(*n)?;
                }
            });
        }
    }
    Ok(())
}

/// The deltas for a dossier whose counted facts change from `old` to `new`.
pub fn deltas(agency_id: i64, procedure_id: i64, old: Option<&Facts>, new: Option<&Facts>) -> Vec<Delta> {
    counts::diff(old, new)
        .into_iter()
        .map(|(day, metric, n)| (agency_id, procedure_id, day, metric, n))
        .collect()
}

/// agency_id, procedure_id, status, channel, received_at, original_due_at, finished_at.
type Stored = (
    i64,
    i64,
    Code<Status>,
    Code<Channel>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn scope_clause(agencies: Option<&[i64]>, column: &str) -> String {
    match agencies {
        Some(ids) => format!(
            "AND {column} IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    }
}

/// What the database groups the counters of one report by: the receiving agency and the
/// procedure (every key set), the agency alone (rows by agency; roll-ups to parents are
/// summed in Rust) or the procedure alone (rows by procedure or field; the total is the sum
/// of either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    AgencyProcedure,
    Agency,
    Procedure,
}

impl Grouping {
    /// The grouping a report by `by` needs.
    pub fn of(by: By) -> Grouping {
        match by {
            By::Agency => Grouping::Agency,
            By::Field | By::Procedure => Grouping::Procedure,
        }
    }

    /// The (agency, procedure) key columns selected (0 for the one not grouped by) and the
    /// GROUP BY list.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Grouping::AgencyProcedure => ("agency_id, procedure_id", "agency_id, procedure_id"),
            Grouping::Agency => ("agency_id, CAST(0 AS BIGINT)", "agency_id"),
            Grouping::Procedure => ("CAST(0 AS BIGINT), procedure_id", "procedure_id"),
        }
    }

    /// The key of an (agency, procedure) pair under this grouping.
    fn key(self, agency: i64, procedure: i64) -> (i64, i64) {
        match self {
            Grouping::AgencyProcedure => (agency, procedure),
            Grouping::Agency => (agency, 0),
            Grouping::Procedure => (0, procedure),
        }
    }
}

/// One range scan of the primary key of `report_counts`: a grain, its first and last bucket,
/// and the bucket ranges within it summed into the prefix at the day before the period and
/// into the prefix at its end (None: the scan adds nothing to that end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    pub grain: Grain,
    pub lo: NaiveDate,
    pub hi: NaiveDate,
    pub before: Option<(NaiveDate, NaiveDate)>,
    pub at_end: Option<(NaiveDate, NaiveDate)>,
}

/// The scans whose sums are both prefixes of a period (`counts::prefix_ranges` at the day
/// before it and at its end). A grain both ends read in overlapping ranges is scanned once
/// (its union), so the whole years before a period — both prefixes' largest part — are
/// read once, not twice: at most three scans.
pub fn scans(period: &Period) -> Vec<Scan> {
    let before = counts::prefix_ranges(counts::day_before(period.from));
    let at_end = counts::prefix_ranges(period.to);
    let mut out = Vec::with_capacity(4);
    for grain in Grain::ALL {
        let b = before.iter().find(|r| r.0 == grain).map(|r| (r.1, r.2));
        let e = at_end.iter().find(|r| r.0 == grain).map(|r| (r.1, r.2));
        match (b, e) {
            (Some(b), Some(e)) if b.0 <= e.1 && e.0 <= b.1 => out.push(Scan {
                grain,
                lo: b.0.min(e.0),
                hi: b.1.max(e.1),
                before: Some(b),
                at_end: Some(e),
            }),
            (b, e) => {
                if let Some(b) = b {
                    out.push(Scan {
                        grain,
                        lo: b.0,
                        hi: b.1,
                        before: Some(b),
                        at_end: None,
                    });
                }
                if let Some(e) = e {
                    out.push(Scan {
                        grain,
                        lo: e.0,
                        hi: e.1,
                        before: None,
                        at_end: Some(e),
                    });
                }
            }
        }
    }
    out
}

/// The one statement summing the counters of `scans`, grouped by `grouping` and metric:
/// rows (agency id or 0, procedure id or 0, metric, sum into the prefix before, sum into the
/// prefix at the end). Each scan is its own SELECT over one range of the primary key
/// (`grain`, `bucket`), aggregated by the database; they are joined by UNION ALL. Bucket
/// bounds are the parameters, in order (`scan_parameters`). Sums are cast to BIGINT
/// (PostgreSQL's SUM(bigint) is NUMERIC); they are exact on both engines.
pub fn sums_sql(scans: &[Scan], grouping: Grouping, agencies: Option<&[i64]>) -> String {
    let (select, group) = grouping.columns();
    let scope = scope_clause(agencies, "agency_id");
    let mut n = 0;
    let mut param = || {
        n += 1;
        format!("${n}")
    };
    let mut parts = Vec::with_capacity(scans.len());
    for s in scans {
        let (lo, hi) = (param(), param());
        let mut sum = |range: Option<(NaiveDate, NaiveDate)>| match range {
            None => "CAST(0 AS BIGINT)".to_string(),
            Some(r) if r == (s.lo, s.hi) => "CAST(SUM(n) AS BIGINT)".to_string(),
            Some(_) => format!(
                "CAST(SUM(CASE WHEN bucket >= {} AND bucket <= {} THEN n ELSE 0 END) AS BIGINT)",
                param(),
                param()
            ),
        };
        let (before, at_end) = (sum(s.before), sum(s.at_end));
        parts.push(format!(
            "SELECT {select}, metric, {before}, {at_end} FROM report_counts
             WHERE grain = '{}' AND bucket >= {lo} AND bucket <= {hi} {scope} GROUP BY {group}, metric",
            s.grain.code()
        ));
    }
    parts.join("\nUNION ALL\n")
}

/// The parameters of `sums_sql(scans, …)`, in order.
pub fn scan_parameters(scans: &[Scan]) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for s in scans {
        out.extend([s.lo, s.hi]);
        for r in [s.before, s.at_end].into_iter().flatten() {
            if r != (s.lo, s.hi) {
                out.extend([r.0, r.1]);
            }
        }
    }
    out
}

/// Prefix sums at the day before the period and at its end, per key of `grouping` (see
/// `Grouping::key`), summed by the database in one statement.
pub async fn prefixes_by(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
    grouping: Grouping,
) -> StoreResult<HashMap<(i64, i64), Prefixes>> {
    let mut out: HashMap<(i64, i64), Prefixes> = HashMap::new();
    if agencies.is_some_and(|a| a.is_empty()) {
        return Ok(out);
    }
    let scans = scans(period);
    if scans.is_empty() {
        return Ok(out);
    }
    let sql = sums_sql(&scans, grouping, agencies);
    let parameters = scan_parameters(&scans);
    let rows: Vec<(i64, i64, i16, i64, i64)> = on_read!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for p in &parameters {
            q = q.bind(*p);
        }
        q.fetch_all(pool).await?
    });
    for (agency, procedure, metric, before, at_end) in rows {
        if let Some(m) = Metric::from_id(metric) {
            out.entry((agency, procedure)).or_default().add(m, before, at_end);
        }
    }
    Ok(out)
}

/// Prefix sums per (agency id, procedure id) at the day before the period and at its end.
pub async fn prefixes(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
) -> StoreResult<HashMap<(i64, i64), Prefixes>> {
    prefixes_by(db, period, agencies, Grouping::AgencyProcedure).await
}

/// Dossiers awaiting a supplement now that the counters hold as overdue at the end of a
/// period ending today or later (they count as within time), per (agency, procedure).
pub async fn paused_overdue(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
) -> StoreResult<HashMap<(i64, i64), i64>> {
    let mut out = HashMap::new();
    if period.to < local_date(Utc::now()) || agencies.is_some_and(|a| a.is_empty()) {
        return Ok(out);
    }
    let sql = format!(
        "SELECT agency_id, procedure_id, status, channel, received_at, original_due_at, finished_at FROM dossiers
         WHERE status IN {} AND status = 'awaiting_supplement' AND paused_at IS NOT NULL {}",
        super::OPEN,
        scope_clause(agencies, "agency_id")
    );
    let rows: Vec<Stored> = on_read!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    for (agency, procedure, Code(status), Code(channel), received, due, finished) in rows {
        if let Some(f) = Facts::of(status, channel, received, due, finished)
            && counts::overdue_at(&f, period.to)
        {
            *out.entry((agency, procedure)).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Agency id → (code, name).
async fn agency_keys(db: &Db) -> StoreResult<HashMap<i64, (String, String)>> {
    let agencies: Vec<(i64, String, String)> = on_read!(db, pool => {
        sqlx::query_as("SELECT id, code, name FROM agencies").fetch_all(pool).await?
    });
    Ok(agencies.into_iter().map(|(id, c, n)| (id, (c, n))).collect())
}

/// Procedure id → (code, name, field code, field name).
async fn procedure_keys(db: &Db) -> StoreResult<HashMap<i64, (String, String, String, String)>> {
    let procedures: Vec<(i64, String, String, String, String)> = on_read!(db, pool => {
        sqlx::query_as("SELECT p.id, p.code, p.name, f.code, f.name FROM procedures p JOIN fields f ON f.id = p.field_id")
            .fetch_all(pool)
            .await?
    });
    Ok(procedures
        .into_iter()
        .map(|(id, c, n, fc, fnm)| (id, (c, n, fc, fnm)))
        .collect())
}

/// The keys (codes and names) of every agency and procedure, by id.
pub async fn keys(
    db: &Db,
) -> StoreResult<(
    HashMap<i64, (String, String)>,
    HashMap<i64, (String, String, String, String)>,
)> {
    Ok((agency_keys(db).await?, procedure_keys(db).await?))
}

/// II.06a rows per key set from the counters (the fast path); `agencies`: receiving agency
/// ids to keep (None: all). Equal to `group` over `counted` — `motcua report --verify` and the
/// tests check it.
pub async fn fast(db: &Db, period: &Period, agencies: Option<&[i64]>) -> StoreResult<Vec<(Keys, Row)>> {
    fast_grouped(db, period, agencies, Grouping::AgencyProcedure).await
}

/// II.06a rows from the counters summed by the database for a report by `by`: one row per
/// agency (by agency) or per procedure (by procedure or field), with only those keys filled
/// in. `group_rows` over them gives the same rows and total as over `fast` (every column is
/// a sum over dossiers, so it is additive over key sets), reading a few hundred rows instead
/// of one per (agency, procedure, metric).
pub async fn fast_by(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
    by: By,
) -> StoreResult<Vec<(Keys, Row)>> {
    fast_grouped(db, period, agencies, Grouping::of(by)).await
}

/// II.06a rows per key of `grouping` from the counters; `agencies`: receiving agency ids to
/// keep (None: all). Sorted by (agency code, procedure code).
pub async fn fast_grouped(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
    grouping: Grouping,
) -> StoreResult<Vec<(Keys, Row)>> {
    let agency_keys = agency_keys(db).await?;
    // A scope holding every agency (an administrator's) keeps every counter: agencies are
    // never deleted and every counter belongs to a dossier's agency. Without the filter the
    // database does not test each counter row against the list.
    let agencies = agencies.filter(|ids| {
        let ids: std::collections::HashSet<i64> = ids.iter().copied().collect();
        !agency_keys.keys().all(|id| ids.contains(id))
    });
    let prefixes = prefixes_by(db, period, agencies, grouping).await?;
    let mut paused: HashMap<(i64, i64), i64> = HashMap::new();
    for ((agency, procedure), n) in paused_overdue(db, period, agencies).await? {
        *paused.entry(grouping.key(agency, procedure)).or_insert(0) += n;
    }
    let procedure_keys = match grouping {
        Grouping::Agency => HashMap::new(),
        _ => procedure_keys(db).await?,
    };
    let mut out: Vec<(Keys, Row)> = prefixes
        .into_iter()
        .map(|((agency, procedure), p)| {
            let row = p.row(paused.get(&(agency, procedure)).copied().unwrap_or(0));
            let (agency_code, agency_name) = agency_keys.get(&agency).cloned().unwrap_or_default();
            let (procedure_code, procedure_name, field_code, field_name) =
                procedure_keys.get(&procedure).cloned().unwrap_or_default();
            (
                Keys {
                    agency_code,
                    agency_name,
                    procedure_code,
                    procedure_name,
                    field_code,
                    field_name,
                },
                row,
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0.agency_code, &a.0.procedure_code).cmp(&(&b.0.agency_code, &b.0.procedure_code)));
    Ok(out)
}

/// Recomputes every counter from the dossiers, in one transaction (after the migration that
/// creates them, and on demand: `motcua report --rebuild`). Returns the dossiers counted.
pub async fn rebuild(db: &Db) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
    // At millions of dossiers its statements may run past a server's bound.
    tx.unbounded().await?;
    on_tx!(&mut tx, c => { sqlx::query("DELETE FROM report_counts").execute(c).await?; });
    type Raw = (
        i64,
        i64,
        i64,
        Code<Status>,
        Code<Channel>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let mut after = 0i64;
    let mut counted = 0u64;
    loop {
        let page: Vec<Raw> = on_tx!(&mut tx, c => {
            sqlx::query_as(
                "SELECT id, agency_id, procedure_id, status, channel, received_at, original_due_at, finished_at
                 FROM dossiers WHERE id > $1 ORDER BY id LIMIT 20000",
            )
            .bind(after)
            .fetch_all(c)
            .await?
        });
        let Some(last) = page.last() else { break };
        after = last.0;
        let mut all = Vec::new();
        for (_, agency, procedure, Code(status), Code(channel), received, due, finished) in page {
            if let Some(f) = Facts::of(status, channel, received, due, finished) {
                counted += 1;
                all.extend(deltas(agency, procedure, None, Some(&f)));
            }
        }
        apply(&mut tx, all).await?;
    }
    tx.commit().await?;
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    /// Each end's ranges are exactly `prefix_ranges` at that end, inside their scan; a grain
    /// is scanned twice only when the ends' ranges do not overlap.
    #[test]
    fn scans_read_each_prefix_range_once() {
        let start = NaiveDate::from_ymd_opt(2023, 12, 1).unwrap();
        for a in 0..800 {
            for len in [0, 1, 9, 27, 30, 31, 45, 60, 200, 364, 365, 366, 700] {
                let from = start + Duration::days(a);
                let period = Period::new(from, from + Duration::days(len)).unwrap();
                let scans = scans(&period);
                for (day, end) in [(counts::day_before(period.from), 0), (period.to, 1)] {
                    let mut got: Vec<_> = scans
                        .iter()
                        .filter_map(|s| {
                            let r = if end == 0 { s.before } else { s.at_end }?;
                            assert!(s.lo <= r.0 && r.1 <= s.hi, "{period:?}: {s:?}");
                            Some((s.grain, r.0, r.1))
                        })
                        .collect();
                    got.sort();
                    let mut want = counts::prefix_ranges(day);
                    want.sort();
                    assert_eq!(got, want, "{period:?}");
                }
                for s in &scans {
                    let covered = |r: Option<(NaiveDate, NaiveDate)>| r.is_some_and(|r| r == (s.lo, s.hi));
                    let union = match (s.before, s.at_end) {
                        (Some(b), Some(e)) => (b.0.min(e.0), b.1.max(e.1)) == (s.lo, s.hi),
                        _ => covered(s.before) || covered(s.at_end),
                    };
                    assert!(union, "a scan reads only what an end needs: {s:?}");
                }
                assert!(scans.len() <= 5, "{period:?}: {scans:?}");
                // The parameters are the bounds in the order the statement numbers them.
                let sql = sums_sql(&scans, Grouping::Agency, None);
                let n = scan_parameters(&scans).len();
                assert!(
                    sql.contains(&format!("${n}")) && !sql.contains(&format!("${}", n + 1)),
                    "{sql}"
                );
            }
        }
        // A calendar year reads the year rows once: both prefixes from one scan.
        let year = Period::year(2025).unwrap();
        assert_eq!(scans(&year).len(), 1, "{:?}", scans(&year));
    }
}
