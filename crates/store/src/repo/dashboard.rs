//! Reads behind the officers' dashboard: dossiers in process past or near their due instant,
//! open steps per officer and open dossiers per agency. Instants only; no calendar maths here
//! (the caller computes "now" and "two working days from now" and shows local dates).

use super::plan::{Bind, Read, bind_read};
use super::scope::{Scope, all_of, open_step};
use super::{Code, IN_PROCESS, record_from};
use crate::{Backend, Db, StoreResult, on_read};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::Status;

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
/// before `before`, that were received by or have a step at an agency of `scope` — soonest due
/// first, at most `limit`.
pub async fn in_process_due(
    db: &Db,
    scope: &Scope,
    after: Option<DateTime<Utc>>,
    before: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<OpenDossier>> {
    let Some(read) = in_process_due_read(db.backend(), scope, after, before, limit) else {
        return Ok(Vec::new());
    };
    let rows: Vec<OpenRow> = on_read!(db, pool => {
        bind_read!(sqlx::query_as(&read.sql), read).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(OpenDossier::from).collect())
}

/// What `in_process_due` reads: each part of the scope (`repo::scope`) its first `limit`
/// dossiers by due instant (`dossiers_due`, or the scope's own indexes), the soonest of
/// those with their names and assignee. None when the scope holds nothing.
pub fn in_process_due_read(
    backend: Backend,
    scope: &Scope,
    after: Option<DateTime<Utc>>,
    before: DateTime<Utc>,
    limit: i64,
) -> Option<Read> {
    let mut binds = vec![Bind::Instant(before)];
    let mut due = format!(
        "d.status IN {IN_PROCESS} AND d.paused_at IS NULL AND d.due_at IS NOT NULL AND d.due_at < $1"
    );
    if let Some(a) = after {
        binds.push(Bind::Instant(a));
        due.push_str(" AND d.due_at >= $2");
    }
    let ids = match scope.parts(backend).as_slice() {
        [] => return None,
        [one] => format!(
            "SELECT d.id FROM dossiers d WHERE {} ORDER BY d.due_at, d.id LIMIT {limit}",
            all_of([due.as_str(), one])
        ),
        many => format!(
            "SELECT c.id FROM ({}) c ORDER BY c.due_at, c.id LIMIT {limit}",
            many.iter()
                .enumerate()
                .map(|(i, part)| format!(
                    "SELECT * FROM (SELECT d.id, d.due_at FROM dossiers d WHERE {} ORDER BY d.due_at, d.id LIMIT {limit}) p{i}",
                    all_of([due.as_str(), part])
                ))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        ),
    };
    Some(Read {
        sql: format!(
            "SELECT d.id, d.code, d.status, d.applicant_name, p.code AS procedure_code, p.name AS procedure_name,
               a.code AS agency_code, a.name AS agency_name, d.received_at, d.due_at,
               (SELECT u.full_name FROM dossier_steps s JOIN users u ON u.id = s.assignee_id
                 WHERE s.dossier_id = d.id AND {} ORDER BY s.seq LIMIT 1) AS assignee
             FROM ({ids}) page
             JOIN dossiers d ON d.id = page.id JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
             ORDER BY d.due_at, d.id",
            open_step("s")
        ),
        binds,
    })
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

/// Workload per officer over open steps at the agencies of `scope`, busiest first.
pub async fn officer_load(db: &Db, scope: &Scope, now: DateTime<Utc>) -> StoreResult<Vec<OfficerLoad>> {
    let Some(read) = officer_load_read(scope, now) else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, String, i64, i64)> = on_read!(db, pool => {
        bind_read!(sqlx::query_as(&read.sql), read).fetch_all(pool).await?
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

/// What `officer_load` reads: the open steps at the scope's agencies (`dossier_steps_open`),
/// each asking its dossier's status by key (a scalar subquery, which PostgreSQL does not turn
/// into a join: as one it read every dossier in process to keep a commune's few). None when
/// the scope holds nothing.
pub fn officer_load_read(scope: &Scope, now: DateTime<Utc>) -> Option<Read> {
    let at = match scope {
        Scope::Nothing => return None,
        Scope::Every => String::new(),
        Scope::Agencies(_) => format!("s.agency_id IN ({})", scope.ids().unwrap_or_default()),
    };
    let open = open_step("s");
    Some(Read {
        sql: format!(
            "SELECT u.username, u.full_name, COUNT(*),
               CAST(SUM(CASE WHEN s.due_at IS NOT NULL AND s.due_at < $1 THEN 1 ELSE 0 END) AS BIGINT)
             FROM dossier_steps s JOIN users u ON u.id = s.assignee_id
             WHERE {} AND (SELECT d.status FROM dossiers d WHERE d.id = s.dossier_id) IN {IN_PROCESS}
             GROUP BY u.username, u.full_name
             ORDER BY COUNT(*) DESC, u.username",
            all_of([open.as_str(), at.as_str()])
        ),
        binds: vec![Bind::Instant(now)],
    })
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

/// Workload per receiving agency of `scope` (agencies with nothing open are absent).
pub async fn agency_load(db: &Db, scope: &Scope, now: DateTime<Utc>) -> StoreResult<Vec<AgencyLoad>> {
    let Some(read) = agency_load_read(scope, now) else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, String, i64, i64)> = on_read!(db, pool => {
        bind_read!(sqlx::query_as(&read.sql), read).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter(|(_, _, open, _)| *open > 0)
        .map(|(code, name, open, overdue)| AgencyLoad {
            code,
            name,
            open,
            overdue,
        })
        .collect())
}

/// What `agency_load` reads: for each agency of the scope, its dossiers in process
/// (`dossiers_agency_status`, the agency and the statuses), counted, and of those the overdue.
/// Asked agency by agency, so that no plan reads every dossier in process to keep a few
/// agencies' (PostgreSQL did, through `dossiers_due`). None when the scope holds nothing.
pub fn agency_load_read(scope: &Scope, now: DateTime<Utc>) -> Option<Read> {
    let at = match scope {
        Scope::Nothing => return None,
        Scope::Every => String::new(),
        Scope::Agencies(_) => format!("WHERE a.id IN ({})", scope.ids().unwrap_or_default()),
    };
    let in_process = format!("d.agency_id = a.id AND d.status IN {IN_PROCESS}");
    Some(Read {
        sql: format!(
            "SELECT a.code, a.name,
               (SELECT COUNT(*) FROM dossiers d WHERE {in_process}),
               (SELECT COUNT(*) FROM dossiers d
                 WHERE {in_process} AND d.paused_at IS NULL AND d.due_at IS NOT NULL AND d.due_at < $1)
             FROM agencies a {at}
             ORDER BY a.code"
        ),
        binds: vec![Bind::Instant(now)],
    })
}
