//! What the II.06a report needs of each dossier, read straight from the dossiers table: the
//! recount (slow, exact) path. Dates become local (UTC+7) dates in Rust, never in SQL.

use crate::{Db, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::local_date;
use motcua_domain::report::counts::{self, Grain, Metric, Prefixes};
use motcua_domain::report::{Facts, Period, Row};
use sqlx::Row as _;
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
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Raw> = on_read!(db, pool => {
        sqlx::query(&sql).bind(upper).bind(lower).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>((
            r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?,
            r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?, r.try_get(12)?, r.try_get(13)?,
        ))).collect::<Result<Vec<_>, _>>()?
    });
    let today = local_date(Utc::now());
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, code, ac, an, pc, pn, fc, fname, channel, status, received, due, finished, paused)| {
                let mut facts = Facts::of_stored(&status, &channel, Some(received), due, finished)?;
                // A pause open now is open at the period's end only for a period ending today
                // or later; a report of the past cannot know older pauses yet.
                facts.paused_at_end = paused.is_some() && status == "awaiting_supplement" && to >= today;
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

/// Rows per statement when writing counters (6 parameters each).
const CHUNK: usize = 1000;

/// Adds the deltas to the counters, in every grain, inside the caller's transaction. Deltas
/// on the same bucket are merged first; one statement per thousand buckets.
pub async fn apply(tx: &mut Tx, deltas: impl IntoIterator<Item = Delta>) -> StoreResult<()> {
    let mut merged: BTreeMap<(&'static str, NaiveDate, i64, i64, i16), i64> = BTreeMap::new();
    for (agency, procedure, day, metric, n) in deltas {
        for g in Grain::ALL {
            *merged
                .entry((g.code(), g.bucket(day), agency, procedure, metric.id()))
                .or_insert(0) += n;
        }
    }
    merged.retain(|_, n| *n != 0);
    let all: Vec<_> = merged.into_iter().collect();
    for chunk in all.chunks(CHUNK) {
        let sql = super::positional(
            tx,
            &format!(
                "INSERT INTO report_counts (grain, bucket, agency_id, procedure_id, metric, n) VALUES {}
                 ON CONFLICT (grain, bucket, agency_id, procedure_id, metric) DO UPDATE SET n = report_counts.n + excluded.n",
                super::values_list(chunk.len(), "(?, ?, ?, ?, ?, ?)")
            ),
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for ((grain, bucket, agency, procedure, metric), n) in chunk {
                q = q.bind(*grain).bind(*bucket).bind(*agency).bind(*procedure).bind(*metric).bind(*n);
            }
            q.execute(c).await?;
        });
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
    String,
    String,
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

/// Prefix sums per (agency id, procedure id) at the day before the period and at its end.
pub async fn prefixes(
    db: &Db,
    period: &Period,
    agencies: Option<&[i64]>,
) -> StoreResult<HashMap<(i64, i64), Prefixes>> {
    if agencies.is_some_and(|a| a.is_empty()) {
        return Ok(HashMap::new());
    }
    // One range scan of the primary key per bucket range (at most three per end).
    let mut out: HashMap<(i64, i64), Prefixes> = HashMap::new();
    let ends = [(counts::day_before(period.from), true), (period.to, false)];
    for (day, is_before) in ends {
        for (grain, lo, hi) in counts::prefix_ranges(day) {
            let sql = format!(
                "SELECT agency_id, procedure_id, metric, CAST(SUM(n) AS BIGINT) FROM report_counts
                 WHERE grain = '{}' AND bucket >= $1 AND bucket <= $2 {}
                 GROUP BY agency_id, procedure_id, metric",
                grain.code(),
                scope_clause(agencies, "agency_id")
            );
            let rows: Vec<(i64, i64, i16, i64)> = on_read!(db, pool => {
                sqlx::query_as(&sql).bind(lo).bind(hi).fetch_all(pool).await?
            });
            for (agency, procedure, metric, n) in rows {
                if let Some(m) = Metric::from_id(metric) {
                    let p = out.entry((agency, procedure)).or_default();
                    if is_before { p.add(m, n, 0) } else { p.add(m, 0, n) }
                }
            }
        }
    }
    Ok(out)
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
         WHERE status = 'awaiting_supplement' AND paused_at IS NOT NULL {}",
        scope_clause(agencies, "agency_id")
    );
    let rows: Vec<Stored> = on_read!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    for (agency, procedure, status, channel, received, due, finished) in rows {
        if let Some(f) = Facts::of_stored(&status, &channel, received, due, finished)
            && counts::overdue_at(&f, period.to)
        {
            *out.entry((agency, procedure)).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// The keys (codes and names) of every agency and procedure, by id.
pub async fn keys(
    db: &Db,
) -> StoreResult<(
    HashMap<i64, (String, String)>,
    HashMap<i64, (String, String, String, String)>,
)> {
    let agencies: Vec<(i64, String, String)> = on_read!(db, pool => {
        sqlx::query_as("SELECT id, code, name FROM agencies").fetch_all(pool).await?
    });
    let procedures: Vec<(i64, String, String, String, String)> = on_read!(db, pool => {
        sqlx::query_as("SELECT p.id, p.code, p.name, f.code, f.name FROM procedures p JOIN fields f ON f.id = p.field_id")
            .fetch_all(pool)
            .await?
    });
    Ok((
        agencies.into_iter().map(|(id, c, n)| (id, (c, n))).collect(),
        procedures
            .into_iter()
            .map(|(id, c, n, fc, fnm)| (id, (c, n, fc, fnm)))
            .collect(),
    ))
}

/// II.06a rows per key set from the counters (the fast path); `agencies`: receiving agency
/// ids to keep (None: all). Equal to `group` over `counted` — `motcua report --verify` and the
/// tests check it.
pub async fn fast(db: &Db, period: &Period, agencies: Option<&[i64]>) -> StoreResult<Vec<(Keys, Row)>> {
    let prefixes = prefixes(db, period, agencies).await?;
    let paused = paused_overdue(db, period, agencies).await?;
    let (agency_keys, procedure_keys) = keys(db).await?;
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
    on_tx!(&mut tx, c => { sqlx::query("DELETE FROM report_counts").execute(c).await?; });
    type Raw = (
        i64,
        i64,
        i64,
        String,
        String,
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
        for (_, agency, procedure, status, channel, received, due, finished) in page {
            if let Some(f) = Facts::of_stored(&status, &channel, received, due, finished) {
                counted += 1;
                all.extend(deltas(agency, procedure, None, Some(&f)));
            }
        }
        apply(&mut tx, all).await?;
    }
    tx.commit().await?;
    Ok(counted)
}
