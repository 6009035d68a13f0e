//! Historic dossiers from a legacy system (`motcua import dossiers`): one transaction, all or
//! nothing, idempotent on the dossier code, and the report counters written in the same
//! transaction, so imported dossiers count in II.06a exactly like live ones.

use crate::repo::report::{self, Delta};
use crate::{Db, StoreError, Tx, on_tx};
use chrono::{DateTime, Utc};
use motcua_domain::import::{ImportErrors, LegacyDossier, LineError, Outcome};
use motcua_domain::report::Facts;
use motcua_domain::text::fold_vi as fold;
use std::collections::HashMap;

/// Rows per INSERT statement (14 parameters each).
const CHUNK: usize = 1000;
const MAX_ERRORS: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub created_agencies: Vec<String>,
    pub created_procedures: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Invalid(ImportErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportFailure {
    fn from(e: sqlx::Error) -> Self {
        ImportFailure::Store(e.into())
    }
}

/// The field placeholder procedures are filed under.
pub const PLACEHOLDER_FIELD: (&str, &str) = ("NHAP-CU", "Chưa phân loại (nhập từ hệ thống cũ)");

/// Imports validated rows. Unknown agency or procedure codes are errors (each named with the
/// first line using it) unless `create_missing`, which creates placeholders. A code already
/// imported with the same values is left as is; with other values it is updated (a legacy
/// system finishing its last dossiers); a code of a dossier handled here is an error.
/// `progress(done, total)` is called after each chunk.
pub async fn import(
    db: &Db,
    rows: &[LegacyDossier],
    create_missing: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Summary, ImportFailure> {
    let mut summary = Summary {
        rows: rows.len(),
        ..Summary::default()
    };
    let mut tx = db.begin().await?;
    let agencies = ids(&mut tx, "agencies").await?;
    let procedures = ids(&mut tx, "procedures").await?;
    let mut errors = Vec::new();
    let mut missing_agencies: Vec<(&str, u64)> = Vec::new();
    let mut missing_procedures: Vec<(&str, u64)> = Vec::new();
    for r in rows {
        if !agencies.contains_key(&r.agency_code) && !missing_agencies.iter().any(|m| m.0 == r.agency_code) {
            missing_agencies.push((&r.agency_code, r.line));
        }
        if !procedures.contains_key(&r.procedure_code)
            && !missing_procedures.iter().any(|m| m.0 == r.procedure_code)
        {
            missing_procedures.push((&r.procedure_code, r.line));
        }
    }
    let (mut agencies, mut procedures) = (agencies, procedures);
    if create_missing {
        for (code, _) in &missing_agencies {
            let id: i64 = on_tx!(&mut tx, c => {
                sqlx::query_scalar("INSERT INTO agencies (code, name, level, search_text) VALUES ($1, $2, 'unit', $3) RETURNING id")
                    .bind(*code)
                    .bind(format!("{code} (nhập từ hệ thống cũ)"))
                    .bind(fold(code))
                    .fetch_one(c)
                    .await?
            });
            agencies.insert(code.to_string(), id);
            summary.created_agencies.push(code.to_string());
        }
        if !missing_procedures.is_empty() {
            let field: i64 = on_tx!(&mut tx, c => {
                sqlx::query_scalar(
                    "INSERT INTO fields (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = fields.name RETURNING id",
                )
                .bind(PLACEHOLDER_FIELD.0)
                .bind(PLACEHOLDER_FIELD.1)
                .fetch_one(c)
                .await?
            });
            for (code, _) in &missing_procedures {
                let id: i64 = on_tx!(&mut tx, c => {
                    sqlx::query_scalar(
                        "INSERT INTO procedures (code, name, field_id, level, time_limit, search_text) VALUES ($1, $2, $3, 'province', '', $4) RETURNING id",
                    )
                    .bind(*code)
                    .bind(format!("Thủ tục {code} (nhập từ hệ thống cũ)"))
                    .bind(field)
                    .bind(fold(code))
                    .fetch_one(c)
                    .await?
                });
                procedures.insert(code.to_string(), id);
                summary.created_procedures.push(code.to_string());
            }
        }
    } else {
        for (code, line) in &missing_agencies {
            errors.push(LineError {
                line: *line,
                message: format!("unknown agency code {code:?} (--create-missing creates a placeholder)"),
            });
        }
        for (code, line) in &missing_procedures {
            errors.push(LineError {
                line: *line,
                message: format!("unknown procedure code {code:?} (--create-missing creates a placeholder)"),
            });
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            errors.truncate(MAX_ERRORS);
            return Err(ImportFailure::Invalid(ImportErrors(errors)));
        }
    }

    // New codes are inserted; codes already there come back for a closer look.
    let now = Utc::now();
    let mut deltas: Vec<Delta> = Vec::with_capacity(rows.len() * 3);
    let mut taken: Vec<&LegacyDossier> = Vec::new();
    let mut done = 0;
    for chunk in rows.chunks(CHUNK) {
        let sql = super::positional(
            &tx,
            &format!(
                "INSERT INTO dossiers (code, agency_id, procedure_id, channel, status, applicant_name, submitted_at, received_at,
                   due_at, original_due_at, finished_at, returned_at, created_at, updated_at, imported, search_text) VALUES {}
                 ON CONFLICT (code) DO NOTHING RETURNING code",
                super::values_list(chunk.len(), "(?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)")
            ),
        );
        let inserted: Vec<String> = on_tx!(&mut tx, c => {
            let mut q = sqlx::query_scalar(&sql);
            for r in chunk {
                let returned = (r.outcome == Outcome::Returned).then_some(r.finished_at).flatten();
                q = q
                    .bind(&r.code)
                    .bind(agencies[&r.agency_code])
                    .bind(procedures[&r.procedure_code])
                    .bind(r.channel.as_str())
                    .bind(r.outcome.status().as_str())
                    .bind(r.received_at)
                    .bind(r.received_at)
                    .bind(r.due_at)
                    .bind(r.due_at)
                    .bind(r.finished_at)
                    .bind(returned)
                    .bind(now)
                    .bind(now)
                    .bind(fold(&r.code));
            }
            q.fetch_all(c).await?
        });
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        for r in chunk {
            if inserted.contains(&r.code) {
                summary.inserted += 1;
                let facts = facts_of(r);
                deltas.extend(report::deltas(
                    agencies[&r.agency_code],
                    procedures[&r.procedure_code],
                    None,
                    facts.as_ref(),
                ));
            } else {
                taken.push(r);
            }
        }
        done += chunk.len();
        progress(done, rows.len());
    }

    // Codes already present: the same import again (unchanged), a legacy dossier that moved
    // on (updated), or a dossier handled here (an error).
    for chunk in taken.chunks(CHUNK) {
        let sql = super::positional(
            &tx,
            &format!(
                "SELECT code, id, imported, agency_id, procedure_id, channel, status, received_at, original_due_at, finished_at
                 FROM dossiers WHERE code IN ({})",
                vec!["?"; chunk.len()].join(",")
            ),
        );
        type Raw = (
            String,
            i64,
            bool,
            i64,
            i64,
            String,
            String,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        );
        let found: Vec<Raw> = on_tx!(&mut tx, c => {
            let mut q = sqlx::query_as(&sql);
            for r in chunk {
                q = q.bind(&r.code);
            }
            q.fetch_all(c).await?
        });
        let found: HashMap<String, Raw> = found.into_iter().map(|r| (r.0.clone(), r)).collect();
        for r in chunk {
            let Some((_, id, imported, agency, procedure, channel, status, received, due, finished)) =
                found.get(&r.code)
            else {
                continue;
            };
            if !imported {
                errors.push(LineError {
                    line: r.line,
                    message: format!(
                        "code {:?} belongs to a dossier handled in motcua, not an imported one",
                        r.code
                    ),
                });
                continue;
            }
            let (a, p) = (agencies[&r.agency_code], procedures[&r.procedure_code]);
            let status_now = r.outcome.status().as_str();
            let same = *agency == a
                && *procedure == p
                && channel == r.channel.as_str()
                && status == status_now
                && *received == Some(r.received_at)
                && *due == r.due_at
                && *finished == r.finished_at;
            if same {
                summary.unchanged += 1;
                continue;
            }
            let old = Facts::of_stored(status, channel, *received, *due, *finished);
            deltas.extend(report::deltas(*agency, *procedure, old.as_ref(), None));
            deltas.extend(report::deltas(a, p, None, facts_of(r).as_ref()));
            let returned = (r.outcome == Outcome::Returned)
                .then_some(r.finished_at)
                .flatten();
            on_tx!(&mut tx, c => {
                sqlx::query(
                    "UPDATE dossiers SET agency_id = $1, procedure_id = $2, channel = $3, status = $4, submitted_at = $5, received_at = $5,
                       due_at = $6, original_due_at = $6, finished_at = $7, returned_at = $8, updated_at = $9, version = version + 1
                     WHERE id = $10",
                )
                .bind(a).bind(p).bind(r.channel.as_str()).bind(status_now).bind(r.received_at).bind(r.due_at)
                .bind(r.finished_at).bind(returned).bind(now).bind(*id)
                .execute(c)
                .await?;
            });
            summary.updated += 1;
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        errors.truncate(MAX_ERRORS);
        return Err(ImportFailure::Invalid(ImportErrors(errors)));
    }
    report::apply(&mut tx, deltas).await?;
    tx.commit().await?;
    Ok(summary)
}

fn facts_of(r: &LegacyDossier) -> Option<Facts> {
    Facts::of_stored(
        r.outcome.status().as_str(),
        r.channel.as_str(),
        Some(r.received_at),
        r.due_at,
        r.finished_at,
    )
}

async fn ids(tx: &mut Tx, table: &str) -> Result<HashMap<String, i64>, ImportFailure> {
    let sql = format!("SELECT code, id FROM {table}");
    let rows: Vec<(String, i64)> = on_tx!(tx, c => sqlx::query_as(&sql).fetch_all(c).await?);
    Ok(rows.into_iter().collect())
}
