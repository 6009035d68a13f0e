//! Idempotency keys of creating calls: claimed in the transaction that creates the record
//! (a second claim of the same key fails that transaction), read back when a try fails so.

use crate::{Db, StoreResult, Tx, on_read, write_later};
use chrono::{DateTime, Utc};
use sqlx::Arguments;

/// What a key was first used for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claim {
    pub request_hash: String,
    pub dossier_id: Option<i64>,
    pub feedback_id: Option<i64>,
}

/// What a claim names.
#[derive(Debug, Clone, Copy)]
pub enum Created {
    Dossier(i64),
    Feedback(i64),
}

/// Claims `(scope, key)` for the record the transaction creates; if another transaction
/// claimed it first, this one fails (a unique violation) when its writes are sent.
pub async fn claim(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    request_hash: &str,
    created: Created,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (dossier, feedback) = match created {
        Created::Dossier(id) => (Some(id), None),
        Created::Feedback(id) => (None, Some(id)),
    };
    let (scope, key, hash) = (scope.to_string(), key.to_string(), request_hash.to_string());
    write_later!(tx, "idempotency_keys",
        "INSERT INTO idempotency_keys (scope, key, request_hash, dossier_id, feedback_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    a => {
        a.add(scope.clone())?; a.add(key.clone())?; a.add(hash.clone())?; a.add(dossier)?; a.add(feedback)?; a.add(now)?;
    });
    Ok(())
}

/// The claim of a key, if any.
pub async fn find(db: &Db, scope: &str, key: &str) -> StoreResult<Option<Claim>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT request_hash, dossier_id, feedback_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(pool)
            .await?
    }))
}

/// Forgets keys claimed before `cutoff`: a retry comes within minutes, not weeks.
pub async fn forget_before(db: &Db, cutoff: DateTime<Utc>) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
    let n = crate::on_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(cutoff).execute(c).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(n)
}
