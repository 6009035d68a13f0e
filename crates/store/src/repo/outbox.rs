//! The outbox: side effects (the national portal's copy, notices to citizens, one-time codes)
//! written in the transaction of the change they follow and delivered at least once by a
//! worker (`motcua_service::outbox`); delivered payloads are trimmed after a while.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx, write_later};
use chrono::{DateTime, Utc};
use sqlx::Arguments;

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
pub async fn of_dossier(db: &Db, dossier_id: i64) -> StoreResult<Vec<(String, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT topic, payload FROM outbox WHERE dossier_id = $1 ORDER BY id").bind(dossier_id).fetch_all(pool).await?
    }))
}

/// The undelivered outbox rows, oldest first; served by the partial index
/// `outbox_undelivered` (migration 0011), so it reads only what is pending.
pub const PENDING: &str =
    "SELECT id, topic, payload, attempts FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT $1";

/// Undelivered outbox rows, oldest first: (id, topic, payload, attempts).
pub async fn pending(db: &Db, limit: i64) -> StoreResult<Vec<(i64, String, String, i64)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(PENDING)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// The topics with undelivered rows (through the partial index `outbox_undelivered`).
pub async fn pending_topics(db: &Db) -> StoreResult<Vec<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT DISTINCT topic FROM outbox WHERE delivered_at IS NULL ORDER BY topic")
            .fetch_all(pool)
            .await?
    }))
}

/// A topic's undelivered rows, oldest first: (id, topic, payload, attempts); led by the
/// `outbox_pending (topic, delivered_at)` index.
pub async fn pending_of(db: &Db, topic: &str, limit: i64) -> StoreResult<Vec<(i64, String, String, i64)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT id, topic, payload, attempts FROM outbox WHERE topic = $1 AND delivered_at IS NULL ORDER BY id LIMIT $2")
            .bind(topic).bind(limit).fetch_all(pool).await?
    }))
}

/// Records a delivery attempt: delivered (error None) or failed with its error.
pub async fn attempt(tx: &mut Tx, id: i64, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
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
pub async fn delivered(tx: &mut Tx, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()> {
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

/// The `meta` key holding the outbox id up to which `trim` has looked.
const OUTBOX_TRIMMED_TO: &str = "outbox_trimmed_to";

/// Clears the payloads of the next run of delivered outbox rows, oldest first, from where the
/// last call stopped: at most `chunk` ids, and only up to the first row not delivered before
/// `cutoff` (undelivered, or delivered since), which stops the run until it is old enough.
/// Topic, dossier, instants, attempts stay: the record of what was sent and when (the 766
/// index counts it); the payload was a copy of the dossier, a notice or a one-time code.
/// Returns the rows cleared, or None when there is nothing further to look at yet.
pub async fn trim(db: &Db, cutoff: DateTime<Utc>, chunk: i64) -> StoreResult<Option<u64>> {
    // A stored mark that is not a number is corrupt: starting again from 0 would hide it.
    let from: i64 = match super::meta::get(db, OUTBOX_TRIMMED_TO).await? {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("meta {OUTBOX_TRIMMED_TO} = {v:?}: {e}")))?,
    };
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
