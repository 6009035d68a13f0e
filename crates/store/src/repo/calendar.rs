//! Calendar overrides: the administrator's per-date edits of the rule calendar, and the
//! version stamp that tells every server process its cached work calendar is stale.

use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{NaiveDate, Utc};
use motcua_domain::calendar::{Override, OverrideKind};

const VERSION_KEY: &str = "calendar_version";

/// An override as its row reads.
#[derive(sqlx::FromRow)]
struct OverrideRow {
    date: NaiveDate,
    kind: Code<OverrideKind>,
    name: String,
}

impl From<OverrideRow> for Override {
    fn from(r: OverrideRow) -> Override {
        let kind = r.kind.0;
        record_from!(r => Override { date, name; kind })
    }
}

/// Every override, sorted by date.
pub async fn list_overrides(db: &Db) -> StoreResult<Vec<Override>> {
    let rows: Vec<OverrideRow> = on_read!(db, pool => {
        sqlx::query_as("SELECT day AS date, kind, name FROM calendar_overrides ORDER BY day")
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Override::from).collect())
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

/// Moves the stamp on by one (none stored counts as 0); a stored stamp that is not a number
/// is `StoreError::Corrupt`, not restarted from 0 (a stamp seen before would come back).
async fn bump_version(tx: &mut Tx) -> StoreResult<()> {
    let current = match crate::repo::meta::get_tx(tx, VERSION_KEY).await? {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|e| StoreError::Corrupt(format!("meta {VERSION_KEY} = {v:?}: {e}")))?,
    };
    crate::repo::meta::set(tx, VERSION_KEY, &(current + 1).to_string()).await
}
