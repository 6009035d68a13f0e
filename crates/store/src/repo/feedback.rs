//! Feedback and petitions (*phản ánh, kiến nghị*): the feedback rows, their event log and the
//! daily reference sequence. Thin: the domain decides what is legal (`feedback::decide`); this module reads and
//! writes.

use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::feedback::{Category, Channel, Feedback, FeedbackRef, Status, search_words};

/// Issues the next reference code of a local date. Runs inside the caller's write
/// transaction: the counter row is locked by the upsert until commit, so concurrent
/// submissions get distinct numbers, and a committed number is never handed out again.
pub async fn next_ref(tx: &mut Tx, day: NaiveDate) -> StoreResult<FeedbackRef> {
    let seq: i64 = on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO feedback_sequences (day, last_seq) VALUES ($1, 1)
             ON CONFLICT (day) DO UPDATE SET last_seq = feedback_sequences.last_seq + 1
             RETURNING last_seq",
        )
        .bind(day.format("%Y-%m-%d").to_string())
        .fetch_one(c)
        .await?
    });
    let seq = u32::try_from(seq).map_err(|_| StoreError::Conflict("feedback sequence overflow".into()))?;
    Ok(FeedbackRef::new(day, seq))
}

/// A feedback as its row reads (`SELECT`).
#[derive(sqlx::FromRow)]
struct FeedbackRow {
    id: i64,
    #[sqlx(rename = "ref")]
    reference: String,
    dossier_code: Option<String>,
    submitter_name: String,
    phone: String,
    email: String,
    channel: Code<Channel>,
    category: Option<Code<Category>>,
    subject: String,
    content: String,
    agency_id: i64,
    agency_code: String,
    agency_name: String,
    status: Code<Status>,
    received_at: DateTime<Utc>,
    clock_started_at: DateTime<Utc>,
    forward_due_at: DateTime<Utc>,
    answer_due_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    answer: String,
    reject_reason: String,
    answered_by: String,
    published: bool,
    published_at: Option<DateTime<Utc>>,
    noted_by: String,
    version: i64,
    created_at: DateTime<Utc>,
}

impl From<FeedbackRow> for Feedback {
    fn from(r: FeedbackRow) -> Feedback {
        let (channel, status, category) = (r.channel.0, r.status.0, r.category.map(|c| c.0));
        record_from!(r => Feedback {
            id, reference, dossier_code, submitter_name, phone, email, subject, content, agency_id, agency_code,
            agency_name, received_at, clock_started_at, forward_due_at, answer_due_at, closed_at, answer,
            reject_reason, answered_by, published, published_at, noted_by, version, created_at;
            channel, status, category
        })
    }
}

const SELECT: &str = "SELECT f.id, f.ref, f.dossier_code, f.submitter_name, f.phone, f.email, f.channel, f.category,
    f.subject, f.content, f.agency_id, a.code AS agency_code, a.name AS agency_name, f.status, f.received_at,
    f.clock_started_at, f.forward_due_at, f.answer_due_at, f.closed_at, f.answer, f.reject_reason, f.answered_by,
    f.published, f.published_at, f.noted_by, f.version, f.created_at
    FROM feedback f JOIN agencies a ON a.id = f.agency_id";

/// A feedback by its reference code.
pub async fn find(db: &Db, reference: &str) -> StoreResult<Option<Feedback>> {
    let sql = format!("{SELECT} WHERE f.ref = $1");
    let row: Option<FeedbackRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(reference).fetch_optional(pool).await?
    });
    Ok(row.map(Feedback::from))
}

/// A feedback by its id.
pub async fn find_by_id(db: &Db, id: i64) -> StoreResult<Option<Feedback>> {
    let sql = format!("{SELECT} WHERE f.id = $1");
    let row: Option<FeedbackRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(Feedback::from))
}

/// A feedback by its reference code, read inside a write transaction.
pub async fn find_tx(tx: &mut Tx, reference: &str) -> StoreResult<Option<Feedback>> {
    let sql = format!("{SELECT} WHERE f.ref = $1");
    let row: Option<FeedbackRow> = on_tx!(tx, c => {
        sqlx::query_as(&sql).bind(reference).fetch_optional(c).await?
    });
    Ok(row.map(Feedback::from))
}

/// What a submission writes.
#[derive(Debug, Clone)]
pub struct NewFeedback<'a> {
    pub reference: &'a str,
    pub dossier_code: Option<&'a str>,
    pub submitter_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub channel: Channel,
    pub subject: &'a str,
    pub content: &'a str,
    pub agency_id: i64,
    pub status: Status,
    pub received_at: DateTime<Utc>,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub noted_by: &'a str,
    pub search_text: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert(tx: &mut Tx, f: &NewFeedback<'_>) -> StoreResult<i64> {
    Ok(on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO feedback (ref, dossier_code, submitter_name, phone, email, channel, subject, content, agency_id,
               status, received_at, clock_started_at, forward_due_at, answer_due_at, noted_by, search_text, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16, $16)
             RETURNING id",
        )
        .bind(f.reference).bind(f.dossier_code).bind(f.submitter_name).bind(f.phone).bind(f.email).bind(f.channel.as_str())
        .bind(f.subject).bind(f.content).bind(f.agency_id).bind(f.status.as_str()).bind(f.received_at).bind(f.forward_due_at)
        .bind(f.answer_due_at).bind(f.noted_by).bind(f.search_text).bind(f.now)
        .fetch_one(c)
        .await?
    }))
}

/// Writes the mutable state of a feedback if nobody changed it since it was read (`version`);
/// a concurrent change is a Conflict and nothing is written.
pub async fn save(tx: &mut Tx, f: &Feedback, now: DateTime<Utc>) -> StoreResult<()> {
    let search_text = f.search_text();
    let n = on_tx!(tx, c => {
        sqlx::query(
            "UPDATE feedback SET category = $1, agency_id = $2, status = $3, clock_started_at = $4, forward_due_at = $5,
               answer_due_at = $6, closed_at = $7, answer = $8, reject_reason = $9, answered_by = $10, published = $11,
               published_at = $12, search_text = $13, updated_at = $14, version = version + 1
             WHERE id = $15 AND version = $16",
        )
        .bind(f.category.map(Category::as_str)).bind(f.agency_id).bind(f.status.as_str()).bind(f.clock_started_at).bind(f.forward_due_at)
        .bind(f.answer_due_at).bind(f.closed_at).bind(&f.answer).bind(&f.reject_reason).bind(&f.answered_by)
        .bind(f.published).bind(f.published_at).bind(&search_text).bind(now).bind(f.id).bind(f.version)
        .execute(c)
        .await?
        .rows_affected()
    });
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "the feedback was changed by someone else; reload it and try again".into(),
        ))
    }
}

/// What an event records.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    /// None for the submission.
    pub from_status: Option<Status>,
    pub to_status: Status,
    /// The agency holding the feedback when the event happened.
    pub agency_id: i64,
    /// Forward: the agency it went to.
    pub to_agency_id: Option<i64>,
    /// The deadline the event is judged against (forward deadline for a decision, answer
    /// deadline for an answer).
    pub due_at: Option<DateTime<Utc>>,
    pub note: &'a str,
}

/// Appends an event with the next sequence number of its feedback.
pub async fn append_event(tx: &mut Tx, feedback_id: i64, e: &NewEvent<'_>) -> StoreResult<()> {
    on_tx!(tx, c => {
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback_events WHERE feedback_id = $1")
            .bind(feedback_id)
            .fetch_one(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO feedback_events (feedback_id, seq, at, actor, action, from_status, to_status, agency_id, to_agency_id, due_at, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(feedback_id).bind(seq).bind(e.at).bind(e.actor).bind(e.action).bind(e.from_status.map_or("", Status::as_str)).bind(e.to_status.as_str())
        .bind(e.agency_id).bind(e.to_agency_id).bind(e.due_at).bind(e.note)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// One stored event, with agency codes and names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub agency: String,
    pub agency_name: String,
    pub to_agency: Option<String>,
    pub to_agency_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub note: String,
}

/// The events of a feedback, oldest first.
pub async fn events(db: &Db, feedback_id: i64) -> StoreResult<Vec<Event>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(
            "SELECT e.seq, e.at, e.actor, e.action, e.from_status, e.to_status, a.code AS agency, a.name AS agency_name,
               b.code AS to_agency, b.name AS to_agency_name, e.due_at, e.note
             FROM feedback_events e JOIN agencies a ON a.id = e.agency_id LEFT JOIN agencies b ON b.id = e.to_agency_id
             WHERE e.feedback_id = $1 ORDER BY e.seq",
        )
        .bind(feedback_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Officers' list filters; the agency scope is required (the caller decides what the user
/// may see).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub agency_ids: Vec<i64>,
    pub status: Option<Status>,
    pub q: Option<String>,
}

const OPEN: &str = "('received','classified','forwarded','processing')";
const UNDECIDED: &str = "('received','forwarded')";

fn ids(list: &[i64]) -> String {
    list.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `LIKE` patterns for the folded words of a query, with `%` and `_` taken literally.
fn like_patterns(q: Option<&str>) -> Vec<String> {
    q.map(search_words)
        .unwrap_or_default()
        .into_iter()
        .map(|w| {
            let escaped = w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        })
        .collect()
}

fn offset(page: u32, per_page: u32) -> u64 {
    u64::from(page.saturating_sub(1)) * u64::from(per_page)
}

/// A page of feedback for officers — open ones first, nearest deadline first; then the closed
/// ones, newest first — and the total.
pub async fn list(db: &Db, f: &ListFilter, page: u32, per_page: u32) -> StoreResult<(Vec<Feedback>, i64)> {
    if f.agency_ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut conds = vec![format!("f.agency_id IN ({})", ids(&f.agency_ids))];
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = f.status {
        args.push(s.as_str().to_string());
        conds.push(format!("f.status = ${}", args.len()));
    }
    for p in like_patterns(f.q.as_deref()) {
        args.push(p);
        conds.push(format!("f.search_text LIKE ${} ESCAPE '\\'", args.len()));
    }
    let filter = conds.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM feedback f WHERE {filter}");
    let list_sql = format!(
        "{SELECT} WHERE {filter}
         ORDER BY CASE WHEN f.status IN {OPEN} THEN 0 ELSE 1 END,
           CASE WHEN f.status IN {UNDECIDED} THEN f.forward_due_at WHEN f.status IN {OPEN} THEN f.answer_due_at END,
           f.id DESC
         LIMIT {per_page} OFFSET {}",
        offset(page, per_page)
    );
    let total = on_read!(db, pool => {
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            count = count.bind(a);
        }
        count.fetch_one(pool).await?
    });
    let rows: Vec<FeedbackRow> = on_read!(db, pool => {
        let mut rows = sqlx::query_as(&list_sql);
        for a in &args {
            rows = rows.bind(a);
        }
        rows.fetch_all(pool).await?
    });
    Ok((rows.into_iter().map(Feedback::from).collect(), total))
}

/// A page of published feedback (newest first) matching every folded word of `q`, and the
/// total.
pub async fn published(
    db: &Db,
    q: Option<&str>,
    page: u32,
    per_page: u32,
) -> StoreResult<(Vec<Feedback>, i64)> {
    let mut conds = vec!["f.published = $1".to_string()];
    let patterns = like_patterns(q);
    for (i, _) in patterns.iter().enumerate() {
        conds.push(format!("f.search_text LIKE ${} ESCAPE '\\'", i + 2));
    }
    let filter = conds.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM feedback f WHERE {filter}");
    let list_sql = format!(
        "{SELECT} WHERE {filter} ORDER BY f.published_at DESC, f.id DESC LIMIT {per_page} OFFSET {}",
        offset(page, per_page)
    );
    let total = on_read!(db, pool => {
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(true);
        for p in &patterns {
            count = count.bind(p);
        }
        count.fetch_one(pool).await?
    });
    let rows: Vec<FeedbackRow> = on_read!(db, pool => {
        let mut rows = sqlx::query_as(&list_sql).bind(true);
        for p in &patterns {
            rows = rows.bind(p);
        }
        rows.fetch_all(pool).await?
    });
    Ok((rows.into_iter().map(Feedback::from).collect(), total))
}
