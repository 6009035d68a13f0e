//! Online submissions not yet sent (`submission_drafts`), their files
//! (`submission_draft_files`), and how a sent one's applicant wants the result
//! (`result_deliveries`).

use crate::{Db, StoreResult, Tx, on_read, on_tx, write_later};
use chrono::{DateTime, Utc};
use sqlx::Arguments;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub token: String,
    pub citizen_id: Option<i64>,
    pub procedure_code: String,
    /// JSON, read by the service.
    pub answers: String,
    pub updated_at: DateTime<Utc>,
}

/// A file a draft holds for one component of the procedure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftFile {
    pub component: i64,
    pub sha256: String,
    pub filename: String,
}

pub async fn create(
    tx: &mut Tx,
    token: &str,
    citizen_id: Option<i64>,
    procedure_code: &str,
    answers: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO submission_drafts (token, citizen_id, procedure_code, answers, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(token).bind(citizen_id).bind(procedure_code).bind(answers).bind(now).execute(c).await?;
    });
    Ok(())
}

pub async fn get(db: &Db, token: &str) -> StoreResult<Option<Draft>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT token, citizen_id, procedure_code, answers, updated_at FROM submission_drafts WHERE token = $1")
            .bind(token).fetch_optional(pool).await?
    }))
}

/// Saves a draft's answers (and its owner: a guest's draft is claimed when they sign in).
pub async fn save(
    tx: &mut Tx,
    token: &str,
    citizen_id: Option<i64>,
    answers: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE submission_drafts SET answers = $1, citizen_id = $2, updated_at = $3 WHERE token = $4")
            .bind(answers).bind(citizen_id).bind(now).bind(token).execute(c).await?;
    });
    Ok(())
}

pub async fn files(db: &Db, token: &str) -> StoreResult<Vec<DraftFile>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT component, sha256, filename FROM submission_draft_files WHERE token = $1 ORDER BY component")
            .bind(token).fetch_all(pool).await?
    }))
}

/// Puts a file in a draft for a component (replacing the one it held).
pub async fn set_file(
    tx: &mut Tx,
    token: &str,
    component: i64,
    sha256: &str,
    filename: &str,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM submission_draft_files WHERE token = $1 AND component = $2")
            .bind(token).bind(component).execute(&mut *c).await?;
        sqlx::query("INSERT INTO submission_draft_files (token, component, sha256, filename) VALUES ($1, $2, $3, $4)")
            .bind(token).bind(component).bind(sha256).bind(filename).execute(c).await?;
    });
    Ok(())
}

pub async fn remove_file(tx: &mut Tx, token: &str, component: i64) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM submission_draft_files WHERE token = $1 AND component = $2")
            .bind(token).bind(component).execute(c).await?;
    });
    Ok(())
}

/// Forgets a draft and its files' names (sent, or abandoned).
pub async fn delete(tx: &mut Tx, token: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM submission_draft_files WHERE token = $1").bind(token).execute(&mut *c).await?;
        sqlx::query("DELETE FROM submission_drafts WHERE token = $1").bind(token).execute(c).await?;
    });
    Ok(())
}

/// A citizen's drafts, the latest touched first: (token, procedure code, updated).
pub async fn of_citizen(db: &Db, citizen_id: i64) -> StoreResult<Vec<(String, String, DateTime<Utc>)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT token, procedure_code, updated_at FROM submission_drafts WHERE citizen_id = $1 ORDER BY updated_at DESC LIMIT 50")
            .bind(citizen_id).fetch_all(pool).await?
    }))
}

/// Forgets the drafts untouched since `cutoff`; how many.
pub async fn forget_before(db: &Db, cutoff: DateTime<Utc>) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM submission_draft_files WHERE token IN (SELECT token FROM submission_drafts WHERE updated_at < $1)")
            .bind(cutoff).execute(&mut *c).await?;
        sqlx::query("DELETE FROM submission_drafts WHERE updated_at < $1").bind(cutoff).execute(c).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(n)
}

/// Records how the applicant wants the result.
pub async fn set_delivery(tx: &mut Tx, dossier_id: i64, method: &str, address: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO result_deliveries (dossier_id, method, address) VALUES ($1, $2, $3)")
            .bind(dossier_id).bind(method).bind(address).execute(c).await?;
    });
    Ok(())
}

/// How the applicant wants the result: (method, address), if they said.
pub async fn delivery_of(db: &Db, dossier_id: i64) -> StoreResult<Option<(String, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT method, address FROM result_deliveries WHERE dossier_id = $1")
            .bind(dossier_id).fetch_optional(pool).await?
    }))
}

/// Records where the dossier's notices go, when not to every contact given.
/// Waits with the transaction's other writes (`write_later!`): an immediate statement here
/// would send the intake's guarded writes early.
pub async fn set_channels(tx: &mut Tx, dossier_id: i64, channels: &str) -> StoreResult<()> {
    write_later!(tx, "notice_channels", "INSERT INTO notice_channels (dossier_id, channels) VALUES ($1, $2)", a => {
        a.add(dossier_id)?; a.add(channels.to_string())?;
    });
    Ok(())
}

/// Where the dossier's notices go, if the applicant narrowed it (`sms` or `email`).
pub async fn channels_of_dossier(db: &Db, dossier_id: i64) -> StoreResult<Option<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT channels FROM notice_channels WHERE dossier_id = $1")
            .bind(dossier_id).fetch_optional(pool).await?
    }))
}
