//! Dossiers (*hồ sơ*): the dossier row (current state, optimistic `version`), read alone, for
//! the public lookup, or with its steps and components for an action; written at intake and
//! by every action, keeping the report counters (`repo::report`) in step.
//! Thin: the application service decides; this module reads and writes.

use super::components::ComponentRow;
use super::steps::{STEP_COLUMNS, STEP_FROM, StepRow};
use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx, write_later};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{ApplicantKind, Channel, Component, Dossier, ReturnMethod, Status, Step};
use motcua_domain::report::Facts;
use sqlx::{Arguments, FromRow, Row};

/// A dossier as its row reads (`SELECT`).
#[derive(FromRow)]
struct DossierRow {
    id: i64,
    code: Option<String>,
    agency_id: i64,
    agency_code: String,
    agency_name: String,
    procedure_id: i64,
    procedure_code: String,
    procedure_name: String,
    procedure_version: i64,
    case_code: String,
    channel: Code<Channel>,
    status: Code<Status>,
    applicant_name: String,
    applicant_kind: Code<ApplicantKind>,
    applicant_id_number: String,
    submitter_name: String,
    phone: String,
    email: String,
    address: String,
    request: String,
    submitted_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    actually_received_at: Option<DateTime<Utc>>,
    accept_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    original_due_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    supplements_after_receipt: i64,
    supplement_before_receipt: bool,
    rescheduled_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
    return_method: Option<Code<ReturnMethod>>,
    result_file: Option<String>,
    result_number: Option<String>,
    received_by: String,
    last_hash: String,
    event_count: i64,
    version: i64,
    created_at: DateTime<Utc>,
    portal_id: Option<String>,
    vneid_verified: bool,
}

impl From<DossierRow> for Dossier {
    fn from(r: DossierRow) -> Dossier {
        let (channel, status, applicant_kind) = (r.channel.0, r.status.0, r.applicant_kind.0);
        let return_method = r.return_method.map(|m| m.0);
        record_from!(r => Dossier {
            id, code, agency_id, agency_code, agency_name, procedure_id, procedure_code, procedure_name,
            procedure_version, case_code, applicant_name, applicant_id_number,
            submitter_name, phone, email, address, request, submitted_at, received_at, actually_received_at,
            accept_due_at, due_at, original_due_at, finished_at, paused_at, supplements_after_receipt, supplement_before_receipt,
            rescheduled_at, returned_at, result_file, result_number, received_by, last_hash, event_count,
            version, created_at, portal_id, vneid_verified; channel, status, applicant_kind, return_method,
        })
    }
}

const SELECT: &str = "SELECT d.id, d.code, d.agency_id, a.code AS agency_code, a.name AS agency_name, d.procedure_id,
    p.code AS procedure_code, p.name AS procedure_name, d.procedure_version, d.case_code, d.channel, d.status,
    d.applicant_name, d.applicant_kind, d.applicant_id_number, d.submitter_name, d.phone, d.email, d.address, d.request,
    d.submitted_at, d.received_at, d.actually_received_at, d.accept_due_at, d.due_at, d.original_due_at, d.finished_at,
    d.paused_at, d.supplements_after_receipt, d.supplement_before_receipt, d.rescheduled_at, d.returned_at, d.return_method,
    d.result_file, d.result_number, d.received_by, d.last_hash, d.event_count, d.version, d.created_at,
    d.portal_id, d.vneid_verified
    FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id";

/// The WHERE clause and bind value for a URL key (code or `online-ID`).
fn key_clause(key: &str) -> (String, KeyValue) {
    match key.strip_prefix("online-").and_then(|n| n.parse::<i64>().ok()) {
        Some(id) => ("d.id = $1 AND d.code IS NULL".into(), KeyValue::Id(id)),
        None => ("d.code = $1".into(), KeyValue::Code(key.to_string())),
    }
}

enum KeyValue {
    Id(i64),
    Code(String),
}

/// The code of an online submission by its number (`online-N`): None when there is no such
/// online submission, `Some(None)` while it is not received yet.
pub async fn online_code(db: &Db, id: i64) -> StoreResult<Option<Option<String>>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar::<_, Option<String>>("SELECT code FROM dossiers WHERE id = $1 AND channel = 'online'")
            .bind(id).fetch_optional(pool).await?
    }))
}

/// The dossiers whose result file's digest starts with `prefix` (lower-case hex: a
/// verification code's 16 digits, or the whole digest), at most two: (id, key). Led by the
/// `dossiers_result_file` index.
pub async fn with_result(db: &Db, prefix: &str) -> StoreResult<Vec<(i64, Option<String>)>> {
    // Hex digits sort below `g`: every digest starting with the prefix lies in [prefix, prefix+"g").
    let upper = format!("{prefix}g");
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT id, code FROM dossiers WHERE result_file >= $1 AND result_file < $2 ORDER BY id LIMIT 2")
            .bind(prefix).bind(&upper).fetch_all(pool).await?
    }))
}

/// A dossier by its URL key.
pub async fn find(db: &Db, key: &str) -> StoreResult<Option<Dossier>> {
    let (clause, value) = key_clause(key);
    let sql = format!("{SELECT} WHERE {clause}");
    let row: Option<DossierRow> = on_read!(db, pool => {
        let q = sqlx::query_as(&sql);
        let q = match &value { KeyValue::Id(id) => q.bind(*id), KeyValue::Code(c) => q.bind(c.clone()) };
        q.fetch_optional(pool).await?
    });
    Ok(row.map(Dossier::from))
}

/// A dossier by its id.
pub async fn find_by_id(db: &Db, id: i64) -> StoreResult<Option<Dossier>> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let row: Option<DossierRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(Dossier::from))
}

/// What the public lookup reads of a dossier: its own columns only. Agency and procedure
/// names come from the caller's reference data, so the query joins nothing but the steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicDossier {
    pub id: i64,
    pub agency_id: i64,
    pub procedure_id: i64,
    pub status: Status,
    pub applicant_name: String,
    /// A person's name is masked in the lookup; an organisation's is public.
    pub applicant_kind: ApplicantKind,
    pub applicant_id_number: String,
    pub phone: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub has_result: bool,
    /// The started steps, in order.
    pub steps: Vec<PublicStep>,
}

/// A started step as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicStep {
    pub name: String,
    pub agency_id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The public lookup's row: the dossier's columns, then one started step's (NULL without one).
#[derive(FromRow)]
struct PublicRow {
    id: i64,
    agency_id: i64,
    procedure_id: i64,
    status: Code<Status>,
    applicant_name: String,
    applicant_kind: Code<ApplicantKind>,
    applicant_id_number: String,
    phone: String,
    received_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
    has_result: bool,
    step_name: Option<String>,
    step_agency_id: Option<i64>,
    step_started_at: Option<DateTime<Utc>>,
    step_due_at: Option<DateTime<Utc>>,
    step_completed_at: Option<DateTime<Utc>>,
}

/// What `find_public` reads, `$1` the code: the dossier by its unique code, its steps by
/// their key (`dossier_id`, `seq`).
pub const PUBLIC_LOOKUP: &str = "SELECT d.id, d.agency_id, d.procedure_id, d.status, d.applicant_name,
    d.applicant_kind, d.applicant_id_number, d.phone, d.received_at, d.due_at, d.finished_at, d.returned_at,
    d.result_file IS NOT NULL AS has_result, s.name AS step_name, s.agency_id AS step_agency_id,
    s.started_at AS step_started_at, s.due_at AS step_due_at, s.completed_at AS step_completed_at
    FROM dossiers d LEFT JOIN dossier_steps s ON s.dossier_id = d.id AND s.started_at IS NOT NULL
    WHERE d.code = $1 ORDER BY s.seq";

/// A dossier by its code with its started steps, in one query of one row per step (the
/// public lookup, the busiest read: no joins to names, no JSON, see docs/PERFORMANCE.md).
/// An online submission not yet received is found by its reference `online-N` instead.
pub async fn find_public(db: &Db, code: &str) -> StoreResult<Option<PublicDossier>> {
    let rows: Vec<PublicRow> = match code.strip_prefix("online-").and_then(|n| n.parse::<i64>().ok()) {
        Some(id) => {
            let sql = PUBLIC_LOOKUP.replace(
                "WHERE d.code = $1",
                "WHERE d.id = $1 AND d.code IS NULL AND d.channel = 'online'",
            );
            on_read!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await?)
        }
        None => on_read!(db, pool => sqlx::query_as(PUBLIC_LOOKUP).bind(code).fetch_all(pool).await?),
    };
    let mut found: Option<PublicDossier> = None;
    for r in rows {
        let d = found.get_or_insert_with(|| PublicDossier {
            id: r.id,
            agency_id: r.agency_id,
            procedure_id: r.procedure_id,
            status: r.status.0,
            applicant_name: r.applicant_name.clone(),
            applicant_kind: r.applicant_kind.0,
            applicant_id_number: r.applicant_id_number.clone(),
            phone: r.phone.clone(),
            received_at: r.received_at,
            due_at: r.due_at,
            finished_at: r.finished_at,
            returned_at: r.returned_at,
            has_result: r.has_result,
            steps: Vec::new(),
        });
        // No started step: the LEFT JOIN's one row has none.
        if let (Some(started_at), Some(name)) = (r.step_started_at, r.step_name) {
            d.steps.push(PublicStep {
                name,
                agency_id: r.step_agency_id,
                started_at,
                due_at: r.step_due_at,
                completed_at: r.step_completed_at,
            });
        }
    }
    Ok(found)
}

/// Inserts a new dossier under the id `repo::codes::reserve` gave it, as `d` describes it
/// (with the head of its event chain: its first event is computed first, and written after
/// the row it refers to), owned by a citizen when one submitted it. The INSERT waits with the
/// transaction's other writes (`write_later!`). Nothing updates the row again in the
/// intake's transaction: on SQLite an UPDATE rewrites the entry of every index on a column it
/// sets.
pub async fn insert(tx: &mut Tx, d: &Dossier, search_text: &str, citizen_id: Option<i64>) -> StoreResult<()> {
    let (d, search_text) = (d.clone(), search_text.to_string());
    write_later!(tx, "dossiers",
        "INSERT INTO dossiers (id, code, agency_id, procedure_id, procedure_version, case_code, channel, status,
           applicant_name, applicant_kind, applicant_id_number, submitter_name, phone, email, address, request,
           submitted_at, received_at, accept_due_at, due_at, original_due_at, received_by, search_text, created_at, updated_at,
           last_hash, event_count, citizen_id, actually_received_at, portal_id, vneid_verified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
           $26, $27, $28, $29, $30, $31)",
    a => {
        a.add(d.id)?; a.add(d.code.clone())?; a.add(d.agency_id)?; a.add(d.procedure_id)?; a.add(d.procedure_version)?;
        a.add(d.case_code.clone())?; a.add(d.channel.as_str())?; a.add(d.status.as_str())?; a.add(d.applicant_name.clone())?;
        a.add(d.applicant_kind.as_str())?; a.add(d.applicant_id_number.clone())?; a.add(d.submitter_name.clone())?;
        a.add(d.phone.clone())?; a.add(d.email.clone())?; a.add(d.address.clone())?; a.add(d.request.clone())?;
        a.add(d.submitted_at)?; a.add(d.received_at)?; a.add(d.accept_due_at)?; a.add(d.due_at)?; a.add(d.original_due_at)?;
        a.add(d.received_by.clone())?; a.add(search_text.clone())?; a.add(d.created_at)?; a.add(d.created_at)?;
        a.add(d.last_hash.clone())?; a.add(d.event_count)?; a.add(citizen_id)?; a.add(d.actually_received_at)?;
        a.add(d.portal_id.clone())?;
        a.add(d.vneid_verified)?;
    });
    crate::repo::report::apply(
        tx,
        crate::repo::report::deltas(d.agency_id, d.procedure_id, None, Facts::of_dossier(&d).as_ref()),
    )
    .await?;
    Ok(())
}

/// Writes the mutable state of a dossier and bumps its `version`, if it still has the
/// version `d` was read with. The caller holds the row (read with `find_for_action_tx`, which
/// locks it: concurrent actions wait, then see the new version, and `expected_version`
/// makes that a 409), or read it unlocked before its PostgreSQL transaction began (the
/// same function, in a transaction of `begin_grouped`), in which case a changed version
/// fails the commit with `StoreError::Retry`. `before`: its `counted_facts` as read; the report counters move
/// from them to `d`'s.
pub async fn save_state(
    tx: &mut Tx,
    before: Option<&Facts>,
    d: &Dossier,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    const UPDATE: &str = "UPDATE dossiers SET code = $1, status = $2, received_at = $3, accept_due_at = $4, due_at = $5,
        original_due_at = $6, finished_at = $7, paused_at = $8, supplements_after_receipt = $9, supplement_before_receipt = $10,
        rescheduled_at = $11, returned_at = $12, return_method = $13, result_file = $14, result_number = $15,
        received_by = $16, last_hash = $17, event_count = $18, updated_at = $19, version = version + 1,
        actually_received_at = $20
        WHERE id = $21 AND version = $22";
    // The dossier was read by `find_for_action_tx`, locked (SQLite's write lock holds the
    // whole database; PostgreSQL's FOR UPDATE the row) or, on PostgreSQL, unlocked before the
    // transaction began: the version in the WHERE clause is then checked when the update is
    // sent (a guard: `StoreError::Retry` if it wrote nothing). Either way the update is
    // deferred without waiting for its row count.
    crate::write_guarded!(tx, "dossiers", UPDATE, a => {
        a.add(d.code.clone())?; a.add(d.status.as_str())?; a.add(d.received_at)?; a.add(d.accept_due_at)?;
        a.add(d.due_at)?; a.add(d.original_due_at)?; a.add(d.finished_at)?; a.add(d.paused_at)?;
        a.add(d.supplements_after_receipt)?; a.add(d.supplement_before_receipt)?; a.add(d.rescheduled_at)?;
        a.add(d.returned_at)?; a.add(d.return_method.map(ReturnMethod::as_str))?; a.add(d.result_file.clone())?;
        a.add(d.result_number.clone())?; a.add(d.received_by.clone())?; a.add(d.last_hash.clone())?;
        a.add(d.event_count)?; a.add(now)?; a.add(d.actually_received_at)?; a.add(d.id)?; a.add(d.version)?;
    });
    // The report counters follow the change (II.06a fast path). The receiving agency and
    // procedure never change.
    let changes =
        crate::repo::report::deltas(d.agency_id, d.procedure_id, before, Facts::of_dossier(d).as_ref());
    crate::repo::report::apply(tx, changes).await
}

/// The steps (`part` 0) and the components (`part` 1) of the dossier whose id `id` gives,
/// in one statement: the steps' columns, then the components' own (NULL in a step's row).
fn steps_and_components(id: &str) -> String {
    format!(
        "SELECT 0 AS part, {STEP_COLUMNS}, NULL AS kind, NULL AS originals, NULL AS copies,
           NULL AS required, NULL AS provided, NULL AS file_sha256
         {STEP_FROM} WHERE s.dossier_id = {id}
         UNION ALL
         SELECT 1, NULL, c.seq, c.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           c.kind, c.originals, c.copies, c.required, c.provided, c.file_sha256
         FROM dossier_components c WHERE c.dossier_id = {id}
         ORDER BY part, seq"
    )
}

/// Steps and components from the rows of `steps_and_components`: a step's row reads as a
/// step, a component's (its columns named after the steps' where they share a place) as a
/// component.
fn steps_and_components_of<R: Row>(rows: &[R]) -> StoreResult<(Vec<Step>, Vec<Component>)>
where
    for<'r> StepRow: FromRow<'r, R>,
    for<'r> ComponentRow: FromRow<'r, R>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let (mut steps, mut components) = (Vec::new(), Vec::new());
    for r in rows {
        if r.try_get::<i32, _>("part")? == 0 {
            steps.push(Step::from(StepRow::from_row(r)?));
        } else {
            components.push(Component::from(ComponentRow::from_row(r)?));
        }
    }
    Ok((steps, components))
}

/// A dossier by its URL key, with its steps and components, read inside a write transaction
/// and locked until it ends: what an action reads. SQLite: one hand-off to the writer's
/// thread (two statements in one call: the dossier's row first, then its steps and
/// components), the write lock holding the whole database. PostgreSQL: two statements, the
/// dossier's row locked first (`FOR UPDATE`), so the second sees what the transaction before
/// it committed — except in a transaction of `Db::begin_grouped` not yet begun, where both
/// are read before `BEGIN`, unlocked, and the version read is checked when the transaction
/// commits (`save_state`).
pub async fn find_for_action_tx(
    tx: &mut Tx,
    key: &str,
) -> StoreResult<Option<(Dossier, Vec<Step>, Vec<Component>)>> {
    let (clause, value) = key_clause(key);
    if let Tx::Postgres(t) = tx {
        // Not begun: `save_state`'s update is guarded by the version read here, so the
        // commit fails with `StoreError::Retry` if the dossier changed in between (any change
        // to it or its steps moves the version), and the caller acts again.
        let lock = if t.begun() { " FOR UPDATE OF d" } else { "" };
        let c = if t.begun() {
            t.flush().await?;
            &mut **t
        } else {
            t.untransacted()?
        };
        let sql = format!("{SELECT} WHERE {clause}{lock}");
        let q = sqlx::query(&sql);
        let q = match &value {
            KeyValue::Id(id) => q.bind(*id),
            KeyValue::Code(code) => q.bind(code.clone()),
        };
        let Some(row) = q.fetch_optional(&mut *c).await? else {
            return Ok(None);
        };
        let d = Dossier::from(DossierRow::from_row(&row)?);
        let rows = sqlx::query(&steps_and_components("$1"))
            .bind(d.id)
            .fetch_all(&mut *c)
            .await?;
        let (steps, components) = steps_and_components_of(&rows)?;
        return Ok(Some((d, steps, components)));
    }
    // `$1` names the first value in both statements.
    let sql = format!(
        "{SELECT} WHERE {clause};\n{}",
        steps_and_components(&format!("(SELECT d.id FROM dossiers d WHERE {clause})"))
    );
    on_tx!(tx, c => {
        let q = sqlx::query(&sql);
        let q = match &value { KeyValue::Id(id) => q.bind(*id), KeyValue::Code(code) => q.bind(code.clone()) };
        let rows = q.fetch_all(c).await?;
        match rows.split_first() {
            None => Ok(None),
            Some((first, rest)) => {
                let (steps, components) = steps_and_components_of(rest)?;
                Ok(Some((Dossier::from(DossierRow::from_row(first)?), steps, components)))
            }
        }
    })
}

/// A dossier written directly, outside intake: only what the report counters and the
/// status counts need (store tests, and the conformance suite's counter checks).
#[derive(Debug, Clone)]
pub struct BareDossier<'a> {
    pub code: Option<&'a str>,
    pub agency_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: Channel,
    pub status: Status,
    pub applicant_name: &'a str,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub async fn insert_bare(tx: &mut Tx, d: &BareDossier<'_>) -> StoreResult<i64> {
    let now = Utc::now();
    let (id, agency_id, procedure_id): (i64, i64, i64) = on_tx!(tx, c => {
        let agency_id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
            .bind(d.agency_code)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?;
        let procedure_id: i64 = sqlx::query_scalar("SELECT id FROM procedures WHERE code = $1")
            .bind(d.procedure_code)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dossiers (code, agency_id, procedure_id, channel, status, applicant_name,
               submitted_at, received_at, due_at, original_due_at, finished_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $11) RETURNING id",
        )
        .bind(d.code)
        .bind(agency_id)
        .bind(procedure_id)
        .bind(d.channel.as_str())
        .bind(d.status.as_str())
        .bind(d.applicant_name)
        .bind(d.submitted_at)
        .bind(d.received_at)
        .bind(d.due_at)
        .bind(d.finished_at)
        .bind(now)
        .fetch_one(c)
        .await?;
        (id, agency_id, procedure_id)
    });
    let facts = Facts::of(d.status, d.channel, d.received_at, d.due_at, d.finished_at);
    crate::repo::report::apply(
        tx,
        crate::repo::report::deltas(agency_id, procedure_id, None, facts.as_ref()),
    )
    .await?;
    Ok(id)
}

/// Number of dossiers per status (statuses with none are absent).
pub async fn count_by_status(db: &Db) -> StoreResult<Vec<(Status, i64)>> {
    let rows: Vec<(String, i64)> = on_read!(db, pool => {
        sqlx::query_as("SELECT status, COUNT(*) FROM dossiers GROUP BY status")
            .fetch_all(pool)
            .await?
    });
    let mut out = rows
        .into_iter()
        .map(|(s, n)| Ok((s.parse::<Status>().map_err(StoreError::Corrupt)?, n)))
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort();
    Ok(out)
}
