//! Reads behind the officers' dashboard: dossiers in process past or near their due instant,
//! open steps per officer and open dossiers per agency. Instants only; no calendar maths here
//! (the caller computes "now" and "two working days from now" and shows local dates).

use super::{Code, IN_PROCESS, record_from};
use crate::{Db, StoreResult, on_read};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::Status;

fn ids(list: &[i64]) -> String {
    list.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// One dossier in process, with who holds its open step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpenDossier {
    /// The key of the officers' dossier page (`/ho-so/{key}`): its code, or `online-ID`.
    pub key: String,
    pub status: Status,
    pub applicant_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub agency_code: String,
    pub agency_name: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// Full name of the officer assigned the open step, if any.
    pub assignee: Option<String>,
}

/// An open dossier as its row reads.
#[derive(sqlx::FromRow)]
struct OpenRow {
    id: i64,
    code: Option<String>,
    status: Code<Status>,
    applicant_name: String,
    procedure_code: String,
    procedure_name: String,
    agency_code: String,
    agency_name: String,
    received_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    assignee: Option<String>,
}

impl From<OpenRow> for OpenDossier {
    fn from(r: OpenRow) -> OpenDossier {
        let key = r.code.clone().unwrap_or_else(|| format!("online-{}", r.id));
        let status = r.status.0;
        record_from!(r => OpenDossier {
            applicant_name, procedure_code, procedure_name, agency_code, agency_name, received_at, due_at,
            assignee; key, status
        })
    }
}

/// Dossiers in process, not paused for a supplement, due at or after `after` (if given) and
/// before `before`, that were received by or have a step at one of `agency_ids` — soonest due
/// first, at most `limit`.
pub async fn in_process_due(
    db: &Db,
    agency_ids: &[i64],
    after: Option<DateTime<Utc>>,
    before: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<OpenDossier>> {
    if agency_ids.is_empty() {
        return Ok(Vec::new());
    }
    let scope = ids(agency_ids);
    let lower = if after.is_some() { "AND d.due_at >= $2" } else { "" };
    let sql = format!(
        "SELECT d.id, d.code, d.status, d.applicant_name, p.code AS procedure_code, p.name AS procedure_name,
           a.code AS agency_code, a.name AS agency_name, d.received_at, d.due_at,
           (SELECT u.full_name FROM dossier_steps s JOIN users u ON u.id = s.assignee_id
             WHERE s.dossier_id = d.id AND s.completed_at IS NULL AND s.started_at IS NOT NULL ORDER BY s.seq LIMIT 1)
             AS assignee
         FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
         WHERE d.status IN {IN_PROCESS} AND d.paused_at IS NULL AND d.due_at IS NOT NULL AND d.due_at < $1 {lower}
           AND (d.agency_id IN ({scope}) OR EXISTS (SELECT 1 FROM dossier_steps s WHERE s.dossier_id = d.id AND s.agency_id IN ({scope})))
         ORDER BY d.due_at, d.id LIMIT {limit}"
    );
    let rows: Vec<OpenRow> = on_read!(db, pool => {
        let mut q = sqlx::query_as(&sql).bind(before);
        if let Some(a) = after {
            q = q.bind(a);
        }
        q.fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(OpenDossier::from).collect())
}

/// Open steps of one officer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfficerLoad {
    pub username: String,
    pub full_name: String,
    /// Steps started, not completed, assigned to the officer, of dossiers in process.
    pub open_steps: i64,
    /// Of which past the step's due instant.
    pub overdue_steps: i64,
}

/// Workload per officer over steps at `agency_ids`, busiest first.
pub async fn officer_load(db: &Db, agency_ids: &[i64], now: DateTime<Utc>) -> StoreResult<Vec<OfficerLoad>> {
    if agency_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT u.username, u.full_name, COUNT(*),
           CAST(SUM(CASE WHEN s.due_at IS NOT NULL AND s.due_at < $1 THEN 1 ELSE 0 END) AS BIGINT)
         FROM dossier_steps s JOIN users u ON u.id = s.assignee_id JOIN dossiers d ON d.id = s.dossier_id
         WHERE s.completed_at IS NULL AND s.started_at IS NOT NULL AND s.agency_id IN ({})
           AND d.status IN {IN_PROCESS}
         GROUP BY u.username, u.full_name
         ORDER BY COUNT(*) DESC, u.username",
        ids(agency_ids)
    );
    let rows: Vec<(String, String, i64, i64)> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(now).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(username, full_name, open_steps, overdue_steps)| OfficerLoad {
            username,
            full_name,
            open_steps,
            overdue_steps,
        })
        .collect())
}

/// Dossiers in process at one receiving agency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgencyLoad {
    pub code: String,
    pub name: String,
    pub open: i64,
    /// Of which past their due instant and not paused for a supplement.
    pub overdue: i64,
}

/// Workload per receiving agency among `agency_ids` (agencies with nothing open are absent).
pub async fn agency_load(db: &Db, agency_ids: &[i64], now: DateTime<Utc>) -> StoreResult<Vec<AgencyLoad>> {
    if agency_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.code, a.name, COUNT(*),
           CAST(SUM(CASE WHEN d.paused_at IS NULL AND d.due_at IS NOT NULL AND d.due_at < $1 THEN 1 ELSE 0 END) AS BIGINT)
         FROM dossiers d JOIN agencies a ON a.id = d.agency_id
         WHERE d.status IN {IN_PROCESS} AND d.agency_id IN ({})
         GROUP BY a.code, a.name
         ORDER BY a.code",
        ids(agency_ids)
    );
    let rows: Vec<(String, String, i64, i64)> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(now).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(code, name, open, overdue)| AgencyLoad {
            code,
            name,
            open,
            overdue,
        })
        .collect())
}
