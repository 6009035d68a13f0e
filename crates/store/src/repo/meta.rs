//! Small key/value facts about the installation (e.g. which demo seed was applied).

use crate::{Db, StoreResult, Tx, on_read, on_tx};

/// The stamp the reference tables' triggers bump on every change (migration 0009).
pub const REFERENCE_VERSION: &str = "reference_version";

pub async fn get(db: &Db, key: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn get_tx(tx: &mut Tx, key: &str) -> StoreResult<Option<String>> {
    Ok(on_tx!(tx, c => {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(c)
            .await?
    }))
}

pub async fn set(tx: &mut Tx, key: &str, value: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(c)
            .await?;
    });
    Ok(())
}
