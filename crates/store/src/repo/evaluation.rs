//! What service-quality evaluation (DOMAIN.md §7, docs/evaluation.md) reads: dossiers with
//! their steps, supplement requests, feedback and rating; the per-agency counts behind the
//! Decision 766 index; the scales setting in `meta`. Read-only SQL; scoring is in the domain.

use super::{Code, record_from};
use crate::{Db, StoreResult, Tx, on_read};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar::local_instant;
use motcua_domain::dossier::{Channel, Status};
use motcua_domain::evaluation::Satisfaction;
use motcua_domain::feedback;
use motcua_domain::procedure::OnlineLevel;

/// The `meta` key holding the Decision 766 sub-point scales (JSON).
pub const SCALES_KEY: &str = "evaluation.scales";

/// A workflow step as evaluation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalStep {
    pub seq: i64,
    pub role: Role,
    pub agency_code: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
}

/// A step as its row reads, with its dossier's id.
#[derive(sqlx::FromRow)]
struct StepRow {
    dossier_id: i64,
    seq: i64,
    role: Code<Role>,
    agency_code: Option<String>,
    started_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    completed_by: Option<String>,
}

impl From<StepRow> for EvalStep {
    fn from(r: StepRow) -> EvalStep {
        let role = r.role.0;
        record_from!(r => EvalStep { seq, agency_code, started_at, due_at, completed_at, completed_by; role })
    }
}

/// A feedback about a dossier, as evaluation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFeedback {
    pub status: feedback::Status,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A feedback as its row reads.
#[derive(sqlx::FromRow)]
struct FeedbackRow {
    status: Code<feedback::Status>,
    forward_due_at: DateTime<Utc>,
    answer_due_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl From<FeedbackRow> for EvalFeedback {
    fn from(r: FeedbackRow) -> EvalFeedback {
        let status = r.status.0;
        record_from!(r => EvalFeedback { forward_due_at, answer_due_at, closed_at; status })
    }
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
    pub online_level: OnlineLevel,
    pub status: Status,
    pub channel: Channel,
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
    pub rating: Option<(String, Satisfaction)>,
}

/// A dossier as its row reads, with its rating (NULL when not rated).
#[derive(sqlx::FromRow)]
struct DossierRow {
    id: i64,
    code: Option<String>,
    agency_id: i64,
    agency_code: String,
    agency_name: String,
    procedure_code: String,
    procedure_name: String,
    online_level: Code<OnlineLevel>,
    status: Code<Status>,
    channel: Code<Channel>,
    received_at: Option<DateTime<Utc>>,
    original_due_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    received_by: String,
    has_result_file: bool,
    supplement_before_receipt: bool,
    answers: Option<String>,
    satisfaction: Option<Code<Satisfaction>>,
}

impl From<DossierRow> for EvalDossier {
    fn from(r: DossierRow) -> EvalDossier {
        let key = r.code.clone().unwrap_or_else(|| format!("online-{}", r.id));
        let (online_level, status, channel) = (r.online_level.0, r.status.0, r.channel.0);
        let rating = r.answers.clone().zip(r.satisfaction.map(|s| s.0));
        let (steps, supplement_requests, feedback) = (Vec::new(), Vec::new(), Vec::new());
        record_from!(r => EvalDossier {
            id, agency_id, agency_code, agency_name, procedure_code, procedure_name, received_at,
            original_due_at, finished_at, received_by, has_result_file, supplement_before_receipt;
            key, online_level, status, channel, steps, supplement_requests, feedback, rating
        })
    }
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

/// A feedback about a dossier as its row reads, with the dossier's code.
#[derive(sqlx::FromRow)]
struct DossierFeedbackRow {
    dossier_code: String,
    #[sqlx(flatten)]
    feedback: FeedbackRow,
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
            d.received_by, d.result_file IS NOT NULL AS has_result_file, d.supplement_before_receipt, r.answers,
            r.satisfaction
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
    let rows: Vec<DossierRow> = on_read!(db, pool => {
        bind_which!(sqlx::query_as(&main), which).fetch_all(pool).await?
    });
    let mut out: Vec<EvalDossier> = rows.into_iter().map(EvalDossier::from).collect();
    if out.is_empty() {
        return Ok(out);
    }
    let index: std::collections::HashMap<i64, usize> =
        out.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
    let step_rows: Vec<StepRow> = on_read!(db, pool => {
        bind_which!(sqlx::query_as(&steps), which).fetch_all(pool).await?
    });
    for r in step_rows {
        if let Some(&i) = index.get(&r.dossier_id) {
            out[i].steps.push(EvalStep::from(r));
        }
    }
    let event_rows: Vec<(i64, Option<i64>, Code<Status>)> = on_read!(db, pool => {
        bind_which!(sqlx::query_as(&events), which).fetch_all(pool).await?
    });
    for (id, step, from) in event_rows {
        if let Some(&i) = index.get(&id) {
            // A request before receipt (status 1) belongs to no step.
            out[i]
                .supplement_requests
                .push(step.filter(|_| from.0 != Status::Submitted));
        }
    }
    let feedback_rows: Vec<DossierFeedbackRow> = on_read!(db, pool => {
        bind_which!(sqlx::query_as(&feedback), which).fetch_all(pool).await?
    });
    let by_key: std::collections::HashMap<String, usize> =
        out.iter().enumerate().map(|(i, d)| (d.key.clone(), i)).collect();
    for r in feedback_rows {
        if let Some(&i) = by_key.get(&r.dossier_code) {
            out[i].feedback.push(EvalFeedback::from(r.feedback));
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
    /// Components whose file the same applicant had handed in or received as a result in
    /// an earlier dossier (reused from their data store).
    pub components_reused: i64,
    /// Payment requests, and payments completed through the payment platform.
    pub payment_requests: i64,
    pub paid_online: i64,
    /// Sent from an account verified with the national identity (VNeID).
    pub vneid_verified: bool,
}

/// A received dossier as its row reads.
#[derive(sqlx::FromRow)]
struct ReceivedRow {
    channel: Code<Channel>,
    sync_messages: i64,
    sync_pending: i64,
    components_provided: i64,
    components_scanned: i64,
    components_reused: i64,
    payment_requests: i64,
    paid_online: i64,
    vneid_verified: bool,
}

impl From<ReceivedRow> for Received {
    fn from(r: ReceivedRow) -> Received {
        let online = r.channel.0 == Channel::Online;
        record_from!(r => Received {
            sync_messages, sync_pending, components_provided, components_scanned, components_reused,
            payment_requests, paid_online, vneid_verified;
            online
        })
    }
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
        "SELECT d.channel, d.vneid_verified,
            (SELECT COUNT(*) FROM outbox o WHERE o.dossier_id = d.id AND o.topic = 'dvcqg_sync') AS sync_messages,
            (SELECT COUNT(*) FROM outbox o WHERE o.dossier_id = d.id AND o.topic = 'dvcqg_sync' AND o.delivered_at IS NULL)
              AS sync_pending,
            (SELECT COUNT(*) FROM dossier_components c WHERE c.dossier_id = d.id AND c.kind = 'component' AND c.provided)
              AS components_provided,
            (SELECT COUNT(*) FROM dossier_components c WHERE c.dossier_id = d.id AND c.kind = 'component' AND c.provided
                AND c.file_sha256 IS NOT NULL) AS components_scanned,
            (SELECT COUNT(*) FROM dossier_components c WHERE c.dossier_id = d.id AND c.kind = 'component' AND c.provided
                AND c.file_sha256 IS NOT NULL
                AND (EXISTS (SELECT 1 FROM dossier_components p JOIN dossiers pd ON pd.id = p.dossier_id
                             WHERE p.file_sha256 = c.file_sha256 AND p.dossier_id < d.id
                               AND pd.applicant_id_number = d.applicant_id_number)
                  OR EXISTS (SELECT 1 FROM dossiers r WHERE r.result_file = c.file_sha256 AND r.id < d.id
                               AND r.applicant_id_number = d.applicant_id_number))) AS components_reused,
            (SELECT COUNT(*) FROM dossier_events e WHERE e.dossier_id = d.id AND e.action = 'request_payment')
              AS payment_requests,
            (SELECT COUNT(*) FROM payments p WHERE p.dossier_id = d.id AND p.status = 'paid') AS paid_online
         FROM dossiers d
         WHERE d.received_at IS NOT NULL AND d.received_at >= $1 AND d.received_at < $2 AND d.status <> 'refused' {}",
        ids_clause("d.agency_id", agencies)
    );
    let rows: Vec<ReceivedRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(lo).bind(hi).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Received::from).collect())
}

/// The procedures the agencies implement: (code, published in the catalog, online level).
pub async fn procedures_of(db: &Db, agencies: &[i64]) -> StoreResult<Vec<(String, bool, OnlineLevel)>> {
    let sql = format!(
        "SELECT p.code, p.current_version, p.online_level FROM procedures p
         WHERE p.id IN (SELECT pa.procedure_id FROM procedure_agencies pa WHERE 1 = 1 {}) ORDER BY p.code",
        ids_clause("pa.agency_id", agencies)
    );
    let rows: Vec<(String, i64, Code<OnlineLevel>)> = on_read!(db, pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(code, version, level)| (code, version > 0, level.0))
        .collect())
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
    let rows: Vec<FeedbackRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(lo).bind(hi).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(EvalFeedback::from).collect())
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
