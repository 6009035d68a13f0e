//! The dossier lifecycle tables: the dossier row (current state, optimistic `version`),
//! its workflow steps, components, hash-chained events, outbox rows; every write keeps the
//! report counters (`repo::report`) in step.
//! Thin: the application service decides; this module reads and writes.

use super::{IN_PROCESS, OPEN};
use crate::{Db, StoreResult, Tx, on_read, on_tx, write_later};
use chrono::{DateTime, Utc};
use motcua_domain::report::Facts;
use sqlx::Arguments;
use sqlx::Row;

/// A dossier as stored, with the names of its agency and procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Dossier {
    pub id: i64,
    pub code: Option<String>,
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub procedure_id: i64,
    pub procedure_code: String,
    pub procedure_name: String,
    pub procedure_version: i64,
    pub case_code: String,
    pub channel: String,
    pub status: String,
    pub applicant_name: String,
    pub applicant_kind: String,
    pub applicant_id_number: String,
    pub submitter_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub request: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub original_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub supplements_after_receipt: i64,
    pub supplement_before_receipt: bool,
    pub rescheduled_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_method: Option<String>,
    pub result_file: Option<String>,
    pub result_number: Option<String>,
    pub received_by: String,
    pub last_hash: String,
    pub event_count: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl Dossier {
    /// The identifier used in URLs: the dossier code, or `online-ID` before one is issued.
    pub fn key(&self) -> String {
        self.code.clone().unwrap_or_else(|| format!("online-{}", self.id))
    }

    /// Its status (until the row is typed: a stored status every writer sets from `Status`).
    pub fn status(&self) -> motcua_domain::dossier::Status {
        self.status
            .parse()
            .unwrap_or(motcua_domain::dossier::Status::Submitted)
    }

    /// What II.06a counts of it (None: refused or not received).
    pub fn counted_facts(&self) -> Option<Facts> {
        Facts::of_stored(
            &self.status,
            &self.channel,
            self.received_at,
            self.original_due_at,
            self.finished_at,
        )
    }
}

const SELECT: &str = "SELECT d.id, d.code, d.agency_id, a.code AS agency_code, a.name AS agency_name, d.procedure_id,
    p.code AS procedure_code, p.name AS procedure_name, d.procedure_version, d.case_code, d.channel, d.status,
    d.applicant_name, d.applicant_kind, d.applicant_id_number, d.submitter_name, d.phone, d.email, d.address, d.request,
    d.submitted_at, d.received_at, d.accept_due_at, d.due_at, d.original_due_at, d.finished_at, d.paused_at,
    d.supplements_after_receipt, d.supplement_before_receipt, d.rescheduled_at, d.returned_at, d.return_method,
    d.result_file, d.result_number, d.received_by, d.last_hash, d.event_count, d.version, d.created_at
    FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id";

macro_rules! dossier_from_row {
    ($r:expr) => {
        Dossier {
            id: $r.try_get("id")?,
            code: $r.try_get("code")?,
            agency_id: $r.try_get("agency_id")?,
            agency_code: $r.try_get("agency_code")?,
            agency_name: $r.try_get("agency_name")?,
            procedure_id: $r.try_get("procedure_id")?,
            procedure_code: $r.try_get("procedure_code")?,
            procedure_name: $r.try_get("procedure_name")?,
            procedure_version: $r.try_get("procedure_version")?,
            case_code: $r.try_get("case_code")?,
            channel: $r.try_get("channel")?,
            status: $r.try_get("status")?,
            applicant_name: $r.try_get("applicant_name")?,
            applicant_kind: $r.try_get("applicant_kind")?,
            applicant_id_number: $r.try_get("applicant_id_number")?,
            submitter_name: $r.try_get("submitter_name")?,
            phone: $r.try_get("phone")?,
            email: $r.try_get("email")?,
            address: $r.try_get("address")?,
            request: $r.try_get("request")?,
            submitted_at: $r.try_get("submitted_at")?,
            received_at: $r.try_get("received_at")?,
            accept_due_at: $r.try_get("accept_due_at")?,
            due_at: $r.try_get("due_at")?,
            original_due_at: $r.try_get("original_due_at")?,
            finished_at: $r.try_get("finished_at")?,
            paused_at: $r.try_get("paused_at")?,
            supplements_after_receipt: $r.try_get("supplements_after_receipt")?,
            supplement_before_receipt: $r.try_get("supplement_before_receipt")?,
            rescheduled_at: $r.try_get("rescheduled_at")?,
            returned_at: $r.try_get("returned_at")?,
            return_method: $r.try_get("return_method")?,
            result_file: $r.try_get("result_file")?,
            result_number: $r.try_get("result_number")?,
            received_by: $r.try_get("received_by")?,
            last_hash: $r.try_get("last_hash")?,
            event_count: $r.try_get("event_count")?,
            version: $r.try_get("version")?,
            created_at: $r.try_get("created_at")?,
        }
    };
}

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

/// A dossier by its URL key.
pub async fn find(db: &Db, key: &str) -> StoreResult<Option<Dossier>> {
    let (clause, value) = key_clause(key);
    let sql = format!("{SELECT} WHERE {clause}");
    Ok(on_read!(db, pool => {
        let q = sqlx::query(&sql);
        let q = match &value { KeyValue::Id(id) => q.bind(*id), KeyValue::Code(c) => q.bind(c.clone()) };
        q.fetch_optional(pool).await?.map(|r| Ok::<_, sqlx::Error>(dossier_from_row!(r))).transpose()?
    }))
}

/// What the public lookup reads of a dossier: its own columns only. Agency and procedure
/// names come from the caller's reference data, so the query joins nothing but the steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicDossier {
    pub id: i64,
    pub agency_id: i64,
    pub procedure_id: i64,
    pub status: String,
    pub applicant_name: String,
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

/// A dossier by its code with its started steps, in one query of one row per step (the
/// public lookup, the busiest read: no joins to names, no JSON, see docs/PERFORMANCE.md).
pub async fn find_public(db: &Db, code: &str) -> StoreResult<Option<PublicDossier>> {
    const SQL: &str = "SELECT d.id, d.agency_id, d.procedure_id, d.status, d.applicant_name,
        d.applicant_id_number, d.phone, d.received_at, d.due_at, d.finished_at, d.returned_at,
        d.result_file IS NOT NULL AS has_result, s.name AS step_name, s.agency_id AS step_agency_id,
        s.started_at AS step_started_at, s.due_at AS step_due_at, s.completed_at AS step_completed_at
        FROM dossiers d LEFT JOIN dossier_steps s ON s.dossier_id = d.id AND s.started_at IS NOT NULL
        WHERE d.code = $1 ORDER BY s.seq";
    Ok(on_read!(db, pool => {
        let rows = sqlx::query(SQL).bind(code).fetch_all(pool).await?;
        let mut found: Option<PublicDossier> = None;
        for r in rows {
            let d = match &mut found {
                Some(d) => d,
                None => found.insert(PublicDossier {
                    id: r.try_get("id")?,
                    agency_id: r.try_get("agency_id")?,
                    procedure_id: r.try_get("procedure_id")?,
                    status: r.try_get("status")?,
                    applicant_name: r.try_get("applicant_name")?,
                    applicant_id_number: r.try_get("applicant_id_number")?,
                    phone: r.try_get("phone")?,
                    received_at: r.try_get("received_at")?,
                    due_at: r.try_get("due_at")?,
                    finished_at: r.try_get("finished_at")?,
                    returned_at: r.try_get("returned_at")?,
                    has_result: r.try_get("has_result")?,
                    steps: Vec::new(),
                }),
            };
            // No started step: the LEFT JOIN's one row has none.
            if let Some(started_at) = r.try_get::<Option<DateTime<Utc>>, _>("step_started_at")? {
                d.steps.push(PublicStep {
                    name: r.try_get("step_name")?,
                    agency_id: r.try_get("step_agency_id")?,
                    started_at,
                    due_at: r.try_get("step_due_at")?,
                    completed_at: r.try_get("step_completed_at")?,
                });
            }
        }
        found
    }))
}

/// What an intake writes.
#[derive(Debug, Clone)]
pub struct NewDossier {
    pub code: Option<String>,
    pub agency_id: i64,
    pub procedure_id: i64,
    pub procedure_version: i64,
    pub case_code: String,
    pub channel: String,
    pub status: String,
    pub applicant_name: String,
    pub applicant_kind: String,
    pub applicant_id_number: String,
    pub submitter_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub request: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub received_by: String,
    pub search_text: String,
    pub now: DateTime<Utc>,
}

/// The names a dossier is shown with: its agency's and its procedure's.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub agency_code: &'a str,
    pub agency_name: &'a str,
    pub procedure_code: &'a str,
    pub procedure_name: &'a str,
}

impl NewDossier {
    /// The dossier as `insert` stored it under `id`, the other columns at their defaults:
    /// what a read would return, without the read.
    pub fn stored(&self, id: i64, names: Names<'_>) -> Dossier {
        Dossier {
            id,
            code: self.code.clone(),
            agency_id: self.agency_id,
            agency_code: names.agency_code.into(),
            agency_name: names.agency_name.into(),
            procedure_id: self.procedure_id,
            procedure_code: names.procedure_code.into(),
            procedure_name: names.procedure_name.into(),
            procedure_version: self.procedure_version,
            case_code: self.case_code.clone(),
            channel: self.channel.clone(),
            status: self.status.clone(),
            applicant_name: self.applicant_name.clone(),
            applicant_kind: self.applicant_kind.clone(),
            applicant_id_number: self.applicant_id_number.clone(),
            submitter_name: self.submitter_name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            address: self.address.clone(),
            request: self.request.clone(),
            submitted_at: self.submitted_at,
            received_at: self.received_at,
            accept_due_at: self.accept_due_at,
            due_at: self.due_at,
            original_due_at: self.due_at,
            finished_at: None,
            paused_at: None,
            supplements_after_receipt: 0,
            supplement_before_receipt: false,
            rescheduled_at: None,
            returned_at: None,
            return_method: None,
            result_file: None,
            result_number: None,
            received_by: self.received_by.clone(),
            last_hash: motcua_domain::dossier::chain::GENESIS.into(),
            event_count: 0,
            version: 1,
            created_at: self.now,
        }
    }
}

/// Inserts a new dossier under the id `repo::dossiers::reserve` gave it, with the head of
/// its event chain (`last_hash`, `event_count`: its first event is computed first, and
/// written after the row it refers to), as `NewDossier::stored` with that head describes
/// it; the INSERT waits with the transaction's other writes (`write_later!`). Nothing
/// updates the row again in the intake's transaction: on SQLite an UPDATE rewrites the
/// entry of every index on a column it sets.
pub async fn insert(
    tx: &mut Tx,
    id: i64,
    d: &NewDossier,
    last_hash: &str,
    event_count: i64,
) -> StoreResult<()> {
    let last_hash = last_hash.to_string();
    write_later!(tx, "dossiers",
        "INSERT INTO dossiers (id, code, agency_id, procedure_id, procedure_version, case_code, channel, status,
           applicant_name, applicant_kind, applicant_id_number, submitter_name, phone, email, address, request,
           submitted_at, received_at, accept_due_at, due_at, original_due_at, received_by, search_text, created_at, updated_at,
           last_hash, event_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
           $26, $27)",
    a => {
        a.add(id)?; a.add(d.code.clone())?; a.add(d.agency_id)?; a.add(d.procedure_id)?; a.add(d.procedure_version)?;
        a.add(d.case_code.clone())?; a.add(d.channel.clone())?; a.add(d.status.clone())?; a.add(d.applicant_name.clone())?;
        a.add(d.applicant_kind.clone())?; a.add(d.applicant_id_number.clone())?; a.add(d.submitter_name.clone())?;
        a.add(d.phone.clone())?; a.add(d.email.clone())?; a.add(d.address.clone())?; a.add(d.request.clone())?;
        a.add(d.submitted_at)?; a.add(d.received_at)?; a.add(d.accept_due_at)?; a.add(d.due_at)?; a.add(d.due_at)?;
        a.add(d.received_by.clone())?; a.add(d.search_text.clone())?; a.add(d.now)?; a.add(d.now)?;
        a.add(last_hash)?; a.add(event_count)?;
    });
    let facts = Facts::of_stored(&d.status, &d.channel, d.received_at, d.due_at, None);
    crate::repo::report::apply(
        tx,
        crate::repo::report::deltas(d.agency_id, d.procedure_id, None, facts.as_ref()),
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
        received_by = $16, last_hash = $17, event_count = $18, updated_at = $19, version = version + 1
        WHERE id = $20 AND version = $21";
    // The dossier was read by `find_for_action_tx`, locked (SQLite's write lock holds the
    // whole database; PostgreSQL's FOR UPDATE the row) or, on PostgreSQL, unlocked before the
    // transaction began: the version in the WHERE clause is then checked when the update is
    // sent (a guard: `StoreError::Retry` if it wrote nothing). Either way the update is
    // deferred without waiting for its row count.
    crate::write_guarded!(tx, "dossiers", UPDATE, a => {
        a.add(d.code.clone())?; a.add(d.status.clone())?; a.add(d.received_at)?; a.add(d.accept_due_at)?;
        a.add(d.due_at)?; a.add(d.original_due_at)?; a.add(d.finished_at)?; a.add(d.paused_at)?;
        a.add(d.supplements_after_receipt)?; a.add(d.supplement_before_receipt)?; a.add(d.rescheduled_at)?;
        a.add(d.returned_at)?; a.add(d.return_method.clone())?; a.add(d.result_file.clone())?;
        a.add(d.result_number.clone())?; a.add(d.received_by.clone())?; a.add(d.last_hash.clone())?;
        a.add(d.event_count)?; a.add(now)?; a.add(d.id)?; a.add(d.version)?;
    });
    // The report counters follow the change (II.06a fast path). The receiving agency and
    // procedure never change.
    let changes =
        crate::repo::report::deltas(d.agency_id, d.procedure_id, before, d.counted_facts().as_ref());
    crate::repo::report::apply(tx, changes).await
}

/// A workflow step of a dossier.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: i64,
    pub seq: i64,
    pub name: String,
    pub role: String,
    pub agency_id: Option<i64>,
    pub agency_code: Option<String>,
    pub agency_name: Option<String>,
    pub agency_rule: String,
    pub quota_thousandths: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_username: Option<String>,
    pub note: String,
}

/// A step's columns (`step_from_row!`) and the tables they come from.
const STEP_COLUMNS: &str =
    "s.id, s.seq, s.name, s.role, s.agency_id, a.code AS agency_code, a.name AS agency_name,
    s.agency_rule, s.quota_thousandths, s.started_at, s.due_at, s.completed_at, s.completed_by, s.assignee_id,
    u.username AS assignee_username, s.note";
const STEP_FROM: &str = "FROM dossier_steps s LEFT JOIN agencies a ON a.id = s.agency_id LEFT JOIN users u ON u.id = s.assignee_id";

macro_rules! step_from_row {
    ($r:expr) => {
        Step {
            id: $r.try_get("id")?,
            seq: $r.try_get("seq")?,
            name: $r.try_get("name")?,
            role: $r.try_get("role")?,
            agency_id: $r.try_get("agency_id")?,
            agency_code: $r.try_get("agency_code")?,
            agency_name: $r.try_get("agency_name")?,
            agency_rule: $r.try_get("agency_rule")?,
            quota_thousandths: $r.try_get("quota_thousandths")?,
            started_at: $r.try_get("started_at")?,
            due_at: $r.try_get("due_at")?,
            completed_at: $r.try_get("completed_at")?,
            completed_by: $r.try_get("completed_by")?,
            assignee_id: $r.try_get("assignee_id")?,
            assignee_username: $r.try_get("assignee_username")?,
            note: $r.try_get("note")?,
        }
    };
}

pub async fn steps(db: &Db, dossier_id: i64) -> StoreResult<Vec<Step>> {
    let sql = format!("SELECT {STEP_COLUMNS} {STEP_FROM} WHERE s.dossier_id = $1 ORDER BY s.seq");
    Ok(on_read!(db, pool => {
        sqlx::query(&sql).bind(dossier_id).fetch_all(pool).await?.iter()
            .map(|r| Ok::<_, sqlx::Error>(step_from_row!(r))).collect::<Result<Vec<_>, _>>()?
    }))
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

/// A component from a row with its columns by name (`components`, `steps_and_components`).
macro_rules! component_from_row {
    ($r:expr) => {
        Component {
            seq: $r.try_get("seq")?,
            kind: $r.try_get("kind")?,
            name: $r.try_get("name")?,
            originals: $r.try_get("originals")?,
            copies: $r.try_get("copies")?,
            required: $r.try_get("required")?,
            provided: $r.try_get("provided")?,
            file_sha256: $r.try_get("file_sha256")?,
        }
    };
}

/// Steps and components from the rows of `steps_and_components` (a macro: the rows are of
/// either backend).
macro_rules! steps_and_components_of {
    ($rows:expr) => {{
        let (mut steps, mut components) = (Vec::new(), Vec::new());
        for r in $rows {
            if r.try_get::<i32, _>("part")? == 0 {
                steps.push(step_from_row!(r));
            } else {
                components.push(component_from_row!(r));
            }
        }
        (steps, components)
    }};
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
        let d = dossier_from_row!(row);
        let rows = sqlx::query(&steps_and_components("$1"))
            .bind(d.id)
            .fetch_all(&mut *c)
            .await?;
        let (steps, components) = steps_and_components_of!(rows.iter());
        return Ok(Some((d, steps, components)));
    }
    // `$1` names the first value in both statements.
    let sql = format!(
        "{SELECT} WHERE {clause};\n{}",
        steps_and_components(&format!("(SELECT d.id FROM dossiers d WHERE {clause})"))
    );
    Ok(on_tx!(tx, c => {
        let q = sqlx::query(&sql);
        let q = match &value { KeyValue::Id(id) => q.bind(*id), KeyValue::Code(code) => q.bind(code.clone()) };
        let rows = q.fetch_all(c).await?;
        match rows.split_first() {
            None => None,
            Some((first, rest)) => {
                let (steps, components) = steps_and_components_of!(rest);
                Some((dossier_from_row!(first), steps, components))
            }
        }
    }))
}

/// Inserts a dossier's steps (from its case template) in one statement.
pub async fn insert_steps(tx: &mut Tx, dossier_id: i64, steps: &[Step]) -> StoreResult<()> {
    if steps.is_empty() {
        return Ok(());
    }
    let sql = super::positional(
        tx,
        &format!(
            "INSERT INTO dossier_steps (dossier_id, seq, name, role, agency_id, agency_rule, quota_thousandths, started_at, due_at)
             VALUES {}",
            super::values_list(steps.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
        ),
    );
    write_later!(tx, "dossier_steps", &sql, a => {
        for s in steps {
            a.add(dossier_id)?; a.add(s.seq)?; a.add(s.name.clone())?; a.add(s.role.clone())?; a.add(s.agency_id)?;
            a.add(s.agency_rule.clone())?; a.add(s.quota_thousandths)?; a.add(s.started_at)?; a.add(s.due_at)?;
        }
    });
    Ok(())
}

/// Writes the mutable fields of steps: on PostgreSQL one statement for them all, so that an
/// action's writes stay one statement (a second UPDATE of a table starts another: *Deferred
/// writes* in `db`); on SQLite one each (sent to the writer together anyway).
pub async fn save_steps(tx: &mut Tx, steps: &[&Step]) -> StoreResult<()> {
    if steps.is_empty() {
        return Ok(());
    }
    if let Tx::Postgres(_) = tx {
        let sql = super::positional(
            tx,
            &format!(
                "UPDATE dossier_steps AS s SET agency_id = v.agency_id, started_at = v.started_at, due_at = v.due_at,
                   completed_at = v.completed_at, completed_by = v.completed_by, assignee_id = v.assignee_id, note = v.note
                 FROM (VALUES {}) AS v(id, agency_id, started_at, due_at, completed_at, completed_by, assignee_id, note)
                 WHERE s.id = v.id",
                super::values_list(
                    steps.len(),
                    "(?::int8, ?::int8, ?::timestamptz, ?::timestamptz, ?::timestamptz, ?::text, ?::int8, ?::text)"
                )
            ),
        );
        write_later!(tx, "dossier_steps", &sql, a => {
            for s in steps {
                a.add(s.id)?; a.add(s.agency_id)?; a.add(s.started_at)?; a.add(s.due_at)?; a.add(s.completed_at)?;
                a.add(s.completed_by.clone())?; a.add(s.assignee_id)?; a.add(s.note.clone())?;
            }
        });
        return Ok(());
    }
    for s in steps {
        write_later!(tx, "dossier_steps",
        "UPDATE dossier_steps SET agency_id = $1, started_at = $2, due_at = $3, completed_at = $4, completed_by = $5,
           assignee_id = $6, note = $7 WHERE id = $8",
        a => {
            a.add(s.agency_id)?; a.add(s.started_at)?; a.add(s.due_at)?; a.add(s.completed_at)?;
            a.add(s.completed_by.clone())?; a.add(s.assignee_id)?; a.add(s.note.clone())?; a.add(s.id)?;
        });
    }
    Ok(())
}

/// A component of a dossier (what was submitted), a supplement, or a result document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub seq: i64,
    /// `component`, `supplement` or `result`.
    pub kind: String,
    pub name: String,
    pub originals: i64,
    pub copies: i64,
    pub required: bool,
    pub provided: bool,
    pub file_sha256: Option<String>,
}

pub async fn components(db: &Db, dossier_id: i64) -> StoreResult<Vec<Component>> {
    Ok(on_read!(db, pool => {
        sqlx::query("SELECT seq, kind, name, originals, copies, required, provided, file_sha256 FROM dossier_components WHERE dossier_id = $1 ORDER BY seq")
            .bind(dossier_id).fetch_all(pool).await?.iter()
            .map(|r| Ok::<_, sqlx::Error>(component_from_row!(r)))
            .collect::<Result<Vec<_>, _>>()?
    }))
}

/// Inserts components with their sequence numbers set, in one statement.
pub async fn add_components(
    tx: &mut Tx,
    dossier_id: i64,
    components: &[Component],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if components.is_empty() {
        return Ok(());
    }
    let sql = super::positional(
        tx,
        &format!(
            "INSERT INTO dossier_components (dossier_id, seq, kind, name, originals, copies, required, provided, file_sha256, added_at)
             VALUES {}",
            super::values_list(components.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        ),
    );
    write_later!(tx, "dossier_components", &sql, a => {
        for c in components {
            a.add(dossier_id)?; a.add(c.seq)?; a.add(c.kind.clone())?; a.add(c.name.clone())?; a.add(c.originals)?;
            a.add(c.copies)?; a.add(c.required)?; a.add(c.provided)?; a.add(c.file_sha256.clone())?; a.add(now)?;
        }
    });
    Ok(())
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub step_seq: Option<i64>,
    pub note: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

pub async fn events(db: &Db, dossier_id: i64) -> StoreResult<Vec<Event>> {
    Ok(on_read!(db, pool => {
        sqlx::query("SELECT seq, at, actor, action, from_status, to_status, step_seq, note, details, prev_hash, hash FROM dossier_events WHERE dossier_id = $1 ORDER BY seq")
            .bind(dossier_id).fetch_all(pool).await?.iter()
            .map(|r| Ok::<_, sqlx::Error>(Event {
                seq: r.try_get(0)?, at: r.try_get(1)?, actor: r.try_get(2)?, action: r.try_get(3)?, from_status: r.try_get(4)?,
                to_status: r.try_get(5)?, step_seq: r.try_get(6)?, note: r.try_get(7)?, details: r.try_get(8)?,
                prev_hash: r.try_get(9)?, hash: r.try_get(10)?,
            }))
            .collect::<Result<Vec<_>, _>>()?
    }))
}

pub async fn append_event(tx: &mut Tx, dossier_id: i64, e: &Event) -> StoreResult<()> {
    write_later!(tx, "dossier_events",
    "INSERT INTO dossier_events (dossier_id, seq, at, actor, action, from_status, to_status, step_seq, note, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    a => {
        a.add(dossier_id)?; a.add(e.seq)?; a.add(e.at.clone())?; a.add(e.actor.clone())?; a.add(e.action.clone())?;
        a.add(e.from_status.clone())?; a.add(e.to_status.clone())?; a.add(e.step_seq)?; a.add(e.note.clone())?;
        a.add(e.details.clone())?; a.add(e.prev_hash.clone())?; a.add(e.hash.clone())?;
    });
    Ok(())
}

/// Queues a side effect (delivered at least once by a worker).
pub async fn enqueue(
    tx: &mut Tx,
    topic: &str,
    dossier_id: i64,
    payload: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    enqueue_all(tx, dossier_id, &[(topic, payload.to_string())], now).await
}

/// Queues side effects of a dossier, in order, in one statement.
pub async fn enqueue_all(
    tx: &mut Tx,
    dossier_id: i64,
    messages: &[(&str, String)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = super::positional(
        tx,
        &format!(
            "INSERT INTO outbox (topic, dossier_id, payload, created_at) VALUES {}",
            super::values_list(messages.len(), "(?, ?, ?, ?)")
        ),
    );
    write_later!(tx, "outbox", &sql, a => {
        for (topic, payload) in messages {
            a.add(topic.to_string())?; a.add(dossier_id)?; a.add(payload.clone())?; a.add(now)?;
        }
    });
    Ok(())
}

/// Outbox rows of a dossier: (topic, payload), oldest first.
pub async fn outbox_of(db: &Db, dossier_id: i64) -> StoreResult<Vec<(String, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT topic, payload FROM outbox WHERE dossier_id = $1 ORDER BY id").bind(dossier_id).fetch_all(pool).await?
    }))
}

/// List filters; agency scope is required (the caller decides what the user may see).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Dossiers received by, or with an open step at, one of these agencies.
    pub agency_ids: Vec<i64>,
    pub status: Option<String>,
    pub procedure: Option<String>,
    /// Only dossiers in process past their due instant (at `now`).
    pub overdue: bool,
    /// Only dossiers in process due before this instant (e.g. within 2 working days).
    pub due_before: Option<DateTime<Utc>>,
    /// Only dossiers whose open step is assigned to this user.
    pub assignee_id: Option<i64>,
    /// Only dossiers whose open step is at one of these agencies.
    pub open_step_agency_ids: Vec<i64>,
    pub q: Option<String>,
    pub now: Option<DateTime<Utc>>,
}

/// One row of a dossier list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub key: String,
    pub code: Option<String>,
    pub status: String,
    pub channel: String,
    pub applicant_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub agency_code: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
}

fn ids(list: &[i64]) -> String {
    list.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// A page of dossiers (most urgent first) and the total.
pub async fn list(db: &Db, f: &ListFilter, page: u32, per_page: u32) -> StoreResult<(Vec<Summary>, i64)> {
    if f.agency_ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let scope = ids(&f.agency_ids);
    let mut conds = vec![format!(
        "(d.agency_id IN ({scope}) OR EXISTS (SELECT 1 FROM dossier_steps s WHERE s.dossier_id = d.id AND s.agency_id IN ({scope})))"
    )];
    let mut args: Vec<String> = Vec::new();
    let mut instants: Vec<DateTime<Utc>> = Vec::new();
    if let Some(s) = &f.status {
        args.push(s.clone());
        conds.push(format!("d.status = ${}", args.len()));
    }
    if let Some(p) = &f.procedure {
        args.push(p.clone());
        conds.push(format!(
            "d.procedure_id IN (SELECT id FROM procedures WHERE code = ${})",
            args.len()
        ));
    }
    if let Some(q) = &f.q {
        for word in motcua_domain::text::fold_vi(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(6)
        {
            let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            args.push(format!("%{escaped}%"));
            conds.push(format!("d.search_text LIKE ${} ESCAPE '\\'", args.len()));
        }
    }
    let n_text = args.len();
    if f.overdue {
        instants.push(f.now.unwrap_or_else(Utc::now));
        conds.push(format!(
            "d.status IN {IN_PROCESS} AND d.paused_at IS NULL AND d.due_at < ${}",
            n_text + instants.len()
        ));
    }
    if let Some(before) = f.due_before {
        instants.push(before);
        conds.push(format!(
            "d.status IN {IN_PROCESS} AND d.due_at < ${}",
            n_text + instants.len()
        ));
    }
    let open_step = |extra: String| {
        format!(
            "EXISTS (SELECT 1 FROM dossier_steps s WHERE s.dossier_id = d.id AND s.completed_at IS NULL AND s.started_at IS NOT NULL AND {extra})"
        )
    };
    if let Some(a) = f.assignee_id {
        conds.push(open_step(format!("s.assignee_id = {a}")));
    }
    if !f.open_step_agency_ids.is_empty() {
        conds.push(open_step(format!(
            "s.agency_id IN ({})",
            ids(&f.open_step_agency_ids)
        )));
    }
    // The filter reads `dossiers` alone: the count and the page's ordering run on it without
    // joins, and the agency and procedure names are joined to the page's rows only. Joined
    // first, a supervisor's list at 1M dossiers looked up 2M names to show 25 (1.27 s).
    let filter = conds.join(" AND ");
    // Open dossiers first: the same `OPEN` the open-first read below relies on.
    let order = format!(
        "CASE WHEN d.status IN {OPEN} THEN 0 ELSE 1 END, COALESCE(d.due_at, d.accept_due_at), d.id DESC"
    );
    let count_sql = format!("SELECT COUNT(*) FROM dossiers d WHERE {filter}");
    // Open dossiers come first. On a list narrowed only by scope (and procedure), a page
    // that holds only open ones is read from them alone (the partial index
    // `dossiers_status`, its term repeated verbatim): a full page from them means no closed
    // dossier sorts before its end. Otherwise every dossier the filter keeps is sorted. The
    // other filters narrow by status or text already, and trying the open ones first only
    // added a read (at 1M dossiers: 0.3 → 0.6 s for the returned ones).
    let open_first = f.status.is_none()
        && f.q.is_none()
        && !f.overdue
        && f.due_before.is_none()
        && f.assignee_id.is_none()
        && f.open_step_agency_ids.is_empty();
    let page_sql = |only_open: bool| {
        let open = if only_open {
            format!(" AND d.status IN {OPEN}")
        } else {
            String::new()
        };
        format!(
            "SELECT d.id, d.code, d.status, d.channel, d.applicant_name, p.code, p.name, a.code, d.received_at, d.due_at, d.accept_due_at
             FROM (SELECT d.id FROM dossiers d WHERE {filter}{open} ORDER BY {order} LIMIT {per_page} OFFSET {}) page
             JOIN dossiers d ON d.id = page.id JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
             ORDER BY {order}",
            u64::from(page.saturating_sub(1)) * u64::from(per_page)
        )
    };
    let total = on_read!(db, pool => {
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            count = count.bind(a);
        }
        for t in &instants {
            count = count.bind(*t);
        }
        count.fetch_one(pool).await?
    });
    let mut list = Vec::new();
    for only_open in [open_first, false] {
        let list_sql = page_sql(only_open);
        list = on_read!(db, pool => {
            let mut rows = sqlx::query(&list_sql);
            for a in &args {
                rows = rows.bind(a);
            }
            for t in &instants {
                rows = rows.bind(*t);
            }
            rows.fetch_all(pool).await?.iter().map(|r| {
                let id: i64 = r.try_get(0)?;
                let code: Option<String> = r.try_get(1)?;
                Ok::<_, sqlx::Error>(Summary {
                    key: code.clone().unwrap_or_else(|| format!("online-{id}")),
                    code,
                    status: r.try_get(2)?, channel: r.try_get(3)?, applicant_name: r.try_get(4)?, procedure_code: r.try_get(5)?,
                    procedure_name: r.try_get(6)?, agency_code: r.try_get(7)?, received_at: r.try_get(8)?, due_at: r.try_get(9)?,
                    accept_due_at: r.try_get(10)?,
                })
            }).collect::<Result<Vec<_>, _>>()?
        });
        if !only_open || list.len() == per_page as usize {
            break;
        }
    }
    Ok((list, total))
}

/// The undelivered outbox rows, oldest first; served by the partial index
/// `outbox_undelivered` (migration 0011), so it reads only what is pending.
pub const PENDING_OUTBOX: &str =
    "SELECT id, topic, payload, attempts FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT $1";

/// Undelivered outbox rows, oldest first: (id, topic, payload, attempts).
pub async fn pending_outbox(db: &Db, limit: i64) -> StoreResult<Vec<(i64, String, String, i64)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(PENDING_OUTBOX)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// Records a delivery attempt: delivered (error None) or failed with its error.
pub async fn outbox_attempt(
    tx: &mut Tx,
    id: i64,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        match error {
            None => sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
                .bind(now).bind(id).execute(c).await?,
            Some(e) => sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
                .bind(e).bind(id).execute(c).await?,
        };
    });
    Ok(())
}

/// Marks outbox rows delivered (one statement per thousand rows).
pub async fn outbox_delivered(tx: &mut Tx, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()> {
    for chunk in ids.chunks(1000) {
        // Ids are integers: written into the statement, nothing to escape.
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id IN ({list})"
        );
        on_tx!(tx, c => {
            sqlx::query(&sql).bind(now).execute(c).await?;
        });
    }
    Ok(())
}

/// The `meta` key holding the outbox id up to which `trim_outbox` has looked.
const OUTBOX_TRIMMED_TO: &str = "outbox_trimmed_to";

/// Clears the payloads of the next run of delivered outbox rows, oldest first, from where the
/// last call stopped: at most `chunk` ids, and only up to the first row not delivered before
/// `cutoff` (undelivered, or delivered since), which stops the run until it is old enough.
/// Topic, dossier, instants, attempts stay: the record of what was sent and when (the 766
/// index counts it); the payload was a copy of the dossier, a notice or a one-time code.
/// Returns the rows cleared, or None when there is nothing further to look at yet.
pub async fn trim_outbox(db: &Db, cutoff: DateTime<Utc>, chunk: i64) -> StoreResult<Option<u64>> {
    let from: i64 = super::meta::get(db, OUTBOX_TRIMMED_TO)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (first, end) = on_read!(db, pool => {
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM outbox WHERE id > $1")
            .bind(from).fetch_one(&mut *pool).await?;
        match first {
            None => (0, None),
            Some(first) => {
                let hi = first.saturating_add(chunk.max(1) - 1);
                let stop: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(id) FROM outbox WHERE id >= $1 AND id <= $2 AND (delivered_at IS NULL OR delivered_at >= $3)")
                    .bind(first).bind(hi).bind(cutoff).fetch_one(&mut *pool).await?;
                let end = stop.map_or(hi, |s| s - 1);
                // Up to the last row there is: the range may reach past the newest row, and
                // rows numbered there later must not be passed over.
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM outbox WHERE id >= $1 AND id <= $2")
                    .bind(first).bind(end).fetch_one(&mut *pool).await?;
                (first, last)
            }
        }
    });
    let Some(end) = end else { return Ok(None) };
    let mut tx = db.begin_grouped().await?;
    let cleared = on_tx!(&mut tx, c => {
        sqlx::query("UPDATE outbox SET payload = '' WHERE id >= $1 AND id <= $2 AND payload <> ''")
            .bind(first).bind(end).execute(c).await?.rows_affected()
    });
    super::meta::set(&mut tx, OUTBOX_TRIMMED_TO, &end.to_string()).await?;
    tx.commit().await?;
    Ok(Some(cleared))
}

/// Queues a message not tied to a dossier (e.g. a one-time code for a citizen).
pub async fn enqueue_message(tx: &mut Tx, topic: &str, payload: &str, now: DateTime<Utc>) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2, $3)")
            .bind(topic).bind(payload).bind(now).execute(c).await?;
    });
    Ok(())
}
