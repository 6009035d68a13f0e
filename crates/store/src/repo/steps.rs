//! A dossier's workflow steps: instantiated at intake from its case's template, started,
//! assigned and completed by actions.

use super::{Code, record_from};
use crate::{Db, StoreResult, Tx, on_read, write_later};
use chrono::{DateTime, Utc};
use motcua_domain::access::Role;
use motcua_domain::dossier::Step;
use motcua_domain::procedure::AgencyRule;
use sqlx::Arguments;

/// A step as its row reads (`STEP_COLUMNS`).
#[derive(sqlx::FromRow)]
pub(super) struct StepRow {
    id: i64,
    seq: i64,
    name: String,
    role: Code<Role>,
    agency_id: Option<i64>,
    agency_code: Option<String>,
    agency_name: Option<String>,
    agency_rule: Code<AgencyRule>,
    quota_thousandths: i64,
    started_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    completed_by: Option<String>,
    assignee_id: Option<i64>,
    assignee_username: Option<String>,
    note: String,
}

impl From<StepRow> for Step {
    fn from(r: StepRow) -> Step {
        let (role, agency_rule) = (r.role.0, r.agency_rule.0);
        record_from!(r => Step {
            id, seq, name, agency_id, agency_code, agency_name, quota_thousandths, started_at, due_at,
            completed_at, completed_by, assignee_id, assignee_username, note; role, agency_rule
        })
    }
}

/// A step's columns (`StepRow`) and the tables they come from.
pub(super) const STEP_COLUMNS: &str =
    "s.id, s.seq, s.name, s.role, s.agency_id, a.code AS agency_code, a.name AS agency_name,
    s.agency_rule, s.quota_thousandths, s.started_at, s.due_at, s.completed_at, s.completed_by, s.assignee_id,
    u.username AS assignee_username, s.note";
pub(super) const STEP_FROM: &str = "FROM dossier_steps s LEFT JOIN agencies a ON a.id = s.agency_id LEFT JOIN users u ON u.id = s.assignee_id";

pub async fn steps(db: &Db, dossier_id: i64) -> StoreResult<Vec<Step>> {
    let sql = format!("SELECT {STEP_COLUMNS} {STEP_FROM} WHERE s.dossier_id = $1 ORDER BY s.seq");
    let rows: Vec<StepRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(dossier_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Step::from).collect())
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
            a.add(dossier_id)?; a.add(s.seq)?; a.add(s.name.clone())?; a.add(s.role.as_str())?; a.add(s.agency_id)?;
            a.add(s.agency_rule.as_string())?; a.add(s.quota_thousandths)?; a.add(s.started_at)?; a.add(s.due_at)?;
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
