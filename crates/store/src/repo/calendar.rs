//! Calendar overrides: the administrator's per-date edits of the rule calendar, and the
//! version stamp that tells every server process its cached work calendar is stale.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{NaiveDate, Utc};
use motcua_domain::calendar::{Override, OverrideKind};
use sqlx::Row;

const VERSION_KEY: &str = "calendar_version";

/// Every override, sorted by date.
pub async fn list_overrides(db: &Db) -> StoreResult<Vec<Override>> {
    let rows: Vec<(NaiveDate, String, String)> = on_read!(db, pool => {
        sqlx::query("SELECT day, kind, name FROM calendar_overrides ORDER BY day")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<_>, _>>()?
    });
    rows.into_iter()
        .map(|(date, kind, name)| {
            let kind = OverrideKind::parse(&kind).map_err(|e| StoreError::Conflict(e.to_string()))?;
            Ok(Override { date, kind, name })
        })
        .collect()
}

/// Inserts or replaces the override of a date.
pub async fn upsert_override(tx: &mut Tx, o: &Override, by: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO calendar_overrides (day, kind, name, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(o.date)
        .bind(o.kind.as_str())
        .bind(&o.name)
        .bind(Utc::now())
        .bind(by)
        .execute(c)
        .await?;
    });
    bump_version(tx).await
}

/// Deletes the override of a date; false when there was none.
pub async fn delete_override(tx: &mut Tx, date: NaiveDate) -> StoreResult<bool> {
    let n = on_tx!(tx, c => {
        sqlx::query("DELETE FROM calendar_overrides WHERE day = $1")
            .bind(date)
            .execute(c)
            .await?
            .rows_affected()
    });
    if n > 0 {
        bump_version(tx).await?;
    }
    Ok(n > 0)
}

/// A stamp that changes whenever overrides change (cheap to read on every request).
pub async fn version(db: &Db) -> StoreResult<String> {
    Ok(crate::repo::meta::get(db, VERSION_KEY)
        .await?
        .unwrap_or_else(|| "0".into()))
}

async fn bump_version(tx: &mut Tx) -> StoreResult<()> {
    let current = crate::repo::meta::get_tx(tx, VERSION_KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    crate::repo::meta::set(tx, VERSION_KEY, &(current + 1).to_string()).await
}
