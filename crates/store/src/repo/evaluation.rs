//! What service-quality evaluation (DOMAIN.md §7, docs/evaluation.md) reads: dossiers with
//! their steps, supplement requests, feedback and rating; the per-agency counts behind the
//! Decision 766 index; the scales setting in `meta`. Read-only SQL; scoring is in the domain.

use crate::{Db, StoreResult, Tx, on_read};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use motcua_domain::calendar::local_instant;
use sqlx::Row;

/// The `meta` key holding the Decision 766 sub-point scales (JSON).
pub const SCALES_KEY: &str = "evaluation.scales";

/// A workflow step as evaluation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalStep {
    pub seq: i64,
    pub role: String,
    pub agency_code: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
}

/// A feedback about a dossier, as evaluation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFeedback {
    pub status: String,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One dossier with everything its nine indicators need.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalDossier {
    pub id: i64,
    /// The dossier code, or `online-ID` for one never given a code.
    pub key: String,
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub online_level: String,
    pub status: String,
    pub channel: String,
    pub received_at: Option<DateTime<Utc>>,
    pub original_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub received_by: String,
    pub has_result_file: bool,
    pub supplement_before_receipt: bool,
    pub steps: Vec<EvalStep>,
    /// The step (seq) at which each supplement request was made (None: before receipt).
    pub supplement_requests: Vec<Option<i64>>,
    pub feedback: Vec<EvalFeedback>,
    /// The citizen's rating: (answers JSON, satisfaction).
    pub rating: Option<(String, String)>,
}

/// The half-open UTC range of a span of local (UTC+7) dates.
pub fn utc_range(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let lo = local_instant(from, NaiveTime::MIN);
    let hi = local_instant(to.succ_opt().unwrap_or(to), NaiveTime::MIN);
    (lo, hi)
}

fn ids_clause(column: &str, ids: &[i64]) -> String {
    if ids.is_empty() {
        return "AND 1 = 0".into();
    }
    format!(
        "AND {column} IN ({})",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    )
}

/// Which dossiers to read.
enum Which<'a> {
    One(i64),
    /// Finished (statuses 7–10) inside the UTC range, received by one of these agencies.
    FinishedIn(DateTime<Utc>, DateTime<Utc>, &'a [i64]),
}

impl Which<'_> {
    fn clause(&self) -> String {
        match self {
            Which::One(_) => "d.id = $1".into(),
            Which::FinishedIn(_, _, ids) => format!(
                "d.finished_at IS NOT NULL AND d.finished_at >= $1 AND d.finished_at < $2
                 AND d.status IN ('resolved', 'returned', 'withdrawn', 'stopped') {}",
                ids_clause("d.agency_id", ids)
            ),
        }
    }
}

macro_rules! bind_which {
    ($q:expr, $w:expr) => {
        match $w {
            Which::One(id) => $q.bind(*id),
            Which::FinishedIn(lo, hi, _) => $q.bind(*lo).bind(*hi),
        }
    };
}

/// One dossier by id, for its indicators.
pub async fn dossier(db: &Db, id: i64) -> StoreResult<Option<EvalDossier>> {
    Ok(load(db, &Which::One(id)).await?.into_iter().next())
}

/// Dossiers finished between two local dates (inclusive) and received by one of `agencies`.
pub async fn finished_between(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    agencies: &[i64],
) -> StoreResult<Vec<EvalDossier>> {
    let (lo, hi) = utc_range(from, to);
    load(db, &Which::FinishedIn(lo, hi, agencies)).await
}

async fn load(db: &Db, which: &Which<'_>) -> StoreResult<Vec<EvalDossier>> {
    let clause = which.clause();
    let main = format!(
        "SELECT d.id, d.code, d.agency_id, a.code AS agency_code, a.name AS agency_name, p.code AS procedure_code,
            p.name AS procedure_name, p.online_level, d.status, d.channel, d.received_at, d.original_due_at, d.finished_at,
            d.received_by, d.result_file, d.supplement_before_receipt, r.answers, r.satisfaction
         FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
         LEFT JOIN ratings r ON r.dossier_id = d.id
         WHERE {clause} ORDER BY d.id"
    );
    let steps = format!(
        "SELECT s.dossier_id, s.seq, s.role, a.code AS agency_code, s.started_at, s.due_at, s.completed_at, s.completed_by
         FROM dossier_steps s LEFT JOIN agencies a ON a.id = s.agency_id
         WHERE s.dossier_id IN (SELECT d.id FROM dossiers d WHERE {clause}) ORDER BY s.dossier_id, s.seq"
    );
    let events = format!(
        "SELECT e.dossier_id, e.step_seq, e.from_status FROM dossier_events e
         WHERE e.action = 'request_supplement' AND e.dossier_id IN (SELECT d.id FROM dossiers d WHERE {clause})
         ORDER BY e.dossier_id, e.seq"
    );
    let feedback = format!(
        "SELECT f.dossier_code, f.status, f.forward_due_at, f.answer_due_at, f.closed_at FROM feedback f
         WHERE f.dossier_code IN (SELECT d.code FROM dossiers d WHERE d.code IS NOT NULL AND {clause}) ORDER BY f.id"
    );
    let mut out: Vec<EvalDossier> = on_read!(db, pool => {
        bind_which!(sqlx::query(&main), which).fetch_all(pool).await?.iter().map(|r| {
            let id: i64 = r.try_get("id")?;
            let code: Option<String> = r.try_get("code")?;
            let answers: Option<String> = r.try_get("answers")?;
            let satisfaction: Option<String> = r.try_get("satisfaction")?;
            let result_file: Option<String> = r.try_get("result_file")?;
            Ok::<_, sqlx::Error>(EvalDossier {
                id,
                key: code.unwrap_or_else(|| format!("online-{id}")),
                agency_id: r.try_get("agency_id")?,
                agency_code: r.try_get("agency_code")?,
                agency_name: r.try_get("agency_name")?,
                procedure_code: r.try_get("procedure_code")?,
                procedure_name: r.try_get("procedure_name")?,
                online_level: r.try_get("online_level")?,
                status: r.try_get("status")?,
                channel: r.try_get("channel")?,
                received_at: r.try_get("received_at")?,
                original_due_at: r.try_get("original_due_at")?,
                finished_at: r.try_get("finished_at")?,
                received_by: r.try_get("received_by")?,
                has_result_file: result_file.is_some(),
                supplement_before_receipt: r.try_get("supplement_before_receipt")?,
                steps: Vec::new(),
                supplement_requests: Vec::new(),
                feedback: Vec::new(),
                rating: answers.zip(satisfaction),
            })
        }).collect::<Result<Vec<_>, _>>()?
    });
    if out.is_empty() {
        return Ok(out);
    }
    let index: std::collections::HashMap<i64, usize> =
        out.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
    let step_rows: Vec<(i64, EvalStep)> = on_read!(db, pool => {
        bind_which!(sqlx::query(&steps), which).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>((
            r.try_get::<i64, _>("dossier_id")?,
            EvalStep {
                seq: r.try_get("seq")?,
                role: r.try_get("role")?,
                agency_code: r.try_get("agency_code")?,
                started_at: r.try_get("started_at")?,
                due_at: r.try_get("due_at")?,
                completed_at: r.try_get("completed_at")?,
                completed_by: r.try_get("completed_by")?,
            },
        ))).collect::<Result<Vec<_>, _>>()?
    });
    for (id, s) in step_rows {
        if let Some(&i) = index.get(&id) {
            out[i].steps.push(s);
        }
    }
    let event_rows: Vec<(i64, Option<i64>, String)> = on_read!(db, pool => {
        bind_which!(sqlx::query(&events), which).fetch_all(pool).await?.iter()
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<_>, _>>()?
    });
    for (id, step, from) in event_rows {
        if let Some(&i) = index.get(&id) {
            // A request before receipt (status 1) belongs to no step.
            out[i]
                .supplement_requests
                .push(step.filter(|_| from != "submitted"));
        }
    }
    let feedback_rows: Vec<(String, EvalFeedback)> = on_read!(db, pool => {
        bind_which!(sqlx::query(&feedback), which).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>((
            r.try_get::<String, _>(0)?,
            EvalFeedback {
                status: r.try_get(1)?,
                forward_due_at: r.try_get(2)?,
                answer_due_at: r.try_get(3)?,
                closed_at: r.try_get(4)?,
            },
        ))).collect::<Result<Vec<_>, _>>()?
    });
    let by_key: std::collections::HashMap<String, usize> =
        out.iter().enumerate().map(|(i, d)| (d.key.clone(), i)).collect();
    for (code, f) in feedback_rows {
        if let Some(&i) = by_key.get(&code) {
            out[i].feedback.push(f);
        }
    }
    Ok(out)
}

/// A dossier received in a period, with the counts the 766 index needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Received {
    pub online: bool,
    /// Sync messages to the national portal queued, and those not yet delivered.
    pub sync_messages: i64,
    pub sync_pending: i64,
    /// Components handed in, and those scanned (a file stored).
    pub components_provided: i64,
    pub components_scanned: i64,
    /// Payment requests, and payments completed through the payment platform.
    pub payment_requests: i64,
    pub paid_online: i64,
}

/// Dossiers received (not refused) between two local dates by one of `agencies`.
pub async fn received_between(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    agencies: &[i64],
) -> StoreResult<Vec<Received>> {
    let (lo, hi) = utc_range(from, to);
    let sql = format!(
        "SELECT d.channel,
            (SELECT COUNT(*) FROM outbox o WHERE o.dossier_id = d.id AND o.topic = 'dvcqg_sync'),
            (SELECT COUNT(*) FROM outbox o WHERE o.dossier_id = d.id AND o.topic = 'dvcqg_sync' AND o.delivered_at IS NULL),
            (SELECT COUNT(*) FROM dossier_components c WHERE c.dossier_id = d.id AND c.kind = 'component' AND c.provided),
            (SELECT COUNT(*) FROM dossier_components c WHERE c.dossier_id = d.id AND c.kind = 'component' AND c.provided
                AND c.file_sha256 IS NOT NULL),
            (SELECT COUNT(*) FROM dossier_events e WHERE e.dossier_id = d.id AND e.action = 'request_payment'),
            (SELECT COUNT(*) FROM payments p WHERE p.dossier_id = d.id AND p.status = 'paid')
         FROM dossiers d
         WHERE d.received_at IS NOT NULL AND d.received_at >= $1 AND d.received_at < $2 AND d.status <> 'refused' {}",
        ids_clause("d.agency_id", agencies)
    );
    Ok(on_read!(db, pool => {
        sqlx::query(&sql).bind(lo).bind(hi).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>(Received {
            online: r.try_get::<String, _>(0)? == "online",
            sync_messages: r.try_get(1)?,
            sync_pending: r.try_get(2)?,
            components_provided: r.try_get(3)?,
            components_scanned: r.try_get(4)?,
            payment_requests: r.try_get(5)?,
            paid_online: r.try_get(6)?,
        })).collect::<Result<Vec<_>, _>>()?
    }))
}

/// The procedures the agencies implement: (code, published in the catalog, online level).
pub async fn procedures_of(db: &Db, agencies: &[i64]) -> StoreResult<Vec<(String, bool, String)>> {
    let sql = format!(
        "SELECT p.code, p.current_version, p.online_level FROM procedures p
         WHERE p.id IN (SELECT pa.procedure_id FROM procedure_agencies pa WHERE 1 = 1 {}) ORDER BY p.code",
        ids_clause("pa.agency_id", agencies)
    );
    Ok(on_read!(db, pool => {
        sqlx::query(&sql).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>((
            r.try_get::<String, _>(0)?,
            r.try_get::<i64, _>(1)? > 0,
            r.try_get::<String, _>(2)?,
        ))).collect::<Result<Vec<_>, _>>()?
    }))
}

/// Feedback received between two local dates and handled by one of `agencies`.
pub async fn feedback_between(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    agencies: &[i64],
) -> StoreResult<Vec<EvalFeedback>> {
    let (lo, hi) = utc_range(from, to);
    let sql = format!(
        "SELECT f.status, f.forward_due_at, f.answer_due_at, f.closed_at FROM feedback f
         WHERE f.received_at >= $1 AND f.received_at < $2 {}",
        ids_clause("f.agency_id", agencies)
    );
    Ok(on_read!(db, pool => {
        sqlx::query(&sql).bind(lo).bind(hi).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>(EvalFeedback {
            status: r.try_get(0)?,
            forward_due_at: r.try_get(1)?,
            answer_due_at: r.try_get(2)?,
            closed_at: r.try_get(3)?,
        })).collect::<Result<Vec<_>, _>>()?
    }))
}

/// Officers' full names by username.
pub async fn officer_names(db: &Db) -> StoreResult<Vec<(String, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT username, full_name FROM users ORDER BY username").fetch_all(pool).await?
    }))
}

/// The stored scales JSON, if an administrator has set one.
pub async fn scales(db: &Db) -> StoreResult<Option<String>> {
    super::meta::get(db, SCALES_KEY).await
}

/// Stores the scales JSON (the caller has validated it).
pub async fn set_scales(tx: &mut Tx, json: &str) -> StoreResult<()> {
    super::meta::set(tx, SCALES_KEY, json).await
}
