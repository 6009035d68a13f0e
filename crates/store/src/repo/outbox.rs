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

/// The undelivered outbox rows (pending or dead), oldest first; served by the partial index
/// `outbox_undelivered` (migration 0011), so it reads only what is pending or dead.
pub const PENDING: &str =
    "SELECT id, topic, payload, attempts FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT $1";

/// Undelivered outbox rows (pending or dead), oldest first: (id, topic, payload, attempts).
pub async fn pending(db: &Db, limit: i64) -> StoreResult<Vec<(i64, String, String, i64)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(PENDING)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// The topics with rows still to deliver, not dead (through the partial index
/// `outbox_undelivered`).
pub async fn pending_topics(db: &Db) -> StoreResult<Vec<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT DISTINCT topic FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL ORDER BY topic")
            .fetch_all(pool)
            .await?
    }))
}

/// A message the worker may deliver now (`due_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    pub topic: String,
    /// The dossier it reports on: its messages of a topic go in order (None: on its own).
    pub dossier_id: Option<i64>,
    pub payload: String,
    /// Failed attempts so far (since the last `retry`).
    pub attempts: i64,
}

/// The first `limit` messages of a topic that may be delivered at `now`, oldest first: not
/// delivered, not dead, due (never tried, or their backoff over), and with no earlier message
/// of their dossier and topic held back (dead, or waiting for its retry). A dossier's later
/// changes thus never overtake an earlier one, and one dossier held back holds back no other.
/// Walks `outbox_undelivered` (id order, only what is pending or dead); the check of the
/// dossier's earlier messages goes through `outbox_dossier (dossier_id, topic)`.
pub const DUE: &str = "SELECT o.id, o.topic, o.dossier_id, o.payload, o.attempts FROM outbox o
    WHERE o.topic = $1 AND o.delivered_at IS NULL AND o.dead_at IS NULL
      AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $2)
      AND NOT EXISTS (SELECT 1 FROM outbox e
          WHERE e.dossier_id = o.dossier_id AND e.topic = o.topic AND e.id < o.id AND e.delivered_at IS NULL
            AND (e.dead_at IS NOT NULL OR e.next_attempt_at > $2))
    ORDER BY o.id LIMIT $3";

/// `DUE`, read.
pub async fn due_of(db: &Db, topic: &str, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Due>> {
    let rows: Vec<(i64, String, Option<i64>, String, i64)> = on_read!(db, pool => {
        sqlx::query_as(DUE).bind(topic).bind(now).bind(limit).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, topic, dossier_id, payload, attempts)| Due {
            id,
            topic,
            dossier_id,
            payload,
            attempts,
        })
        .collect())
}

/// Records a failed delivery: its error, and either when to try again or (`dead_at`) that it
/// is no longer tried. Only a row still undelivered (another worker may have delivered it).
pub async fn failed(
    tx: &mut Tx,
    id: i64,
    error: &str,
    next_attempt_at: Option<DateTime<Utc>>,
    dead_at: Option<DateTime<Utc>>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, dead_at = $3
                     WHERE id = $4 AND delivered_at IS NULL")
            .bind(error).bind(next_attempt_at).bind(dead_at).bind(id).execute(c).await?;
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
/// `cutoff` (pending, or delivered since), which stops the run until it is old enough. Dead
/// rows are passed over and keep their payload (an operator may send them again: `retry`
/// moves the mark back before them).
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
                    "SELECT MIN(id) FROM outbox WHERE id >= $1 AND id <= $2
                     AND ((delivered_at IS NULL AND dead_at IS NULL) OR delivered_at >= $3)")
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
        sqlx::query("UPDATE outbox SET payload = '' WHERE id >= $1 AND id <= $2 AND payload <> '' AND delivered_at IS NOT NULL")
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

/// A topic's messages not delivered, by state (`status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCounts {
    pub topic: String,
    /// Still to deliver (never tried, or waiting for a retry).
    pub pending: i64,
    /// Of those, failed at least once: waiting for their retry.
    pub retrying: i64,
    /// Tried as often as allowed, or refused for good: not tried again until put back.
    pub dead: i64,
    /// When the oldest pending message was queued.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// The undelivered messages of each topic, by state (through `outbox_undelivered`: what is
/// pending or dead, never the table's history).
pub async fn status(db: &Db) -> StoreResult<Vec<TopicCounts>> {
    type Row = (String, i64, i64, i64, Option<DateTime<Utc>>);
    let rows: Vec<Row> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT topic,
                COUNT(CASE WHEN dead_at IS NULL THEN 1 END),
                COUNT(CASE WHEN dead_at IS NULL AND attempts > 0 THEN 1 END),
                COUNT(CASE WHEN dead_at IS NOT NULL THEN 1 END),
                MIN(CASE WHEN dead_at IS NULL THEN created_at END)
             FROM outbox WHERE delivered_at IS NULL GROUP BY topic ORDER BY topic",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(topic, pending, retrying, dead, oldest_pending)| TopicCounts {
            topic,
            pending,
            retrying,
            dead,
            oldest_pending,
        })
        .collect())
}

/// Messages `last_delivered` looks back over.
pub const RECENT: i64 = 5000;

/// When each topic's newest delivery among the newest `RECENT` messages (of all topics) was
/// made: a bounded walk of the ids back from the newest, whatever the table's history. A
/// topic with none there is not in the answer.
pub async fn last_delivered(db: &Db) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
    type Row = (String, Option<DateTime<Utc>>);
    let rows: Vec<Row> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT topic, MAX(delivered_at) FROM (SELECT topic, delivered_at FROM outbox ORDER BY id DESC LIMIT $1) recent
             GROUP BY topic",
        )
        .bind(RECENT)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().filter_map(|(t, at)| Some((t, at?))).collect())
}

/// An undelivered message that failed at least once (`dead`, `retrying`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub topic: String,
    /// The dossier's key (its code, or `online-ID` before it has one); None for a message not
    /// about a dossier (a one-time code).
    pub dossier: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub dead_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

type HeldRow = (
    i64,
    String,
    Option<i64>,
    Option<String>,
    DateTime<Utc>,
    i64,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

const HELD: &str = "SELECT o.id, o.topic, o.dossier_id, d.code, o.created_at, o.attempts, o.next_attempt_at, o.dead_at, o.last_error
    FROM outbox o LEFT JOIN dossiers d ON d.id = o.dossier_id";

fn held_of(rows: Vec<HeldRow>) -> Vec<Held> {
    rows.into_iter()
        .map(
            |(id, topic, dossier_id, code, created_at, attempts, next_attempt_at, dead_at, last_error)| {
                Held {
                    id,
                    topic,
                    dossier: dossier_id.map(|d| code.unwrap_or_else(|| format!("online-{d}"))),
                    created_at,
                    attempts,
                    next_attempt_at,
                    dead_at,
                    last_error,
                }
            },
        )
        .collect()
}

/// Dead messages (of one topic, or all), oldest first, at most `limit`.
pub async fn dead(db: &Db, topic: Option<&str>, limit: i64) -> StoreResult<Vec<Held>> {
    let sql = format!(
        "{HELD} WHERE o.delivered_at IS NULL AND o.dead_at IS NOT NULL AND ($1 = '' OR o.topic = $1) ORDER BY o.id LIMIT $2"
    );
    let rows: Vec<HeldRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(topic.unwrap_or("")).bind(limit).fetch_all(pool).await?
    });
    Ok(held_of(rows))
}

/// Pending messages that failed at least once and wait for their retry, oldest first.
pub async fn retrying(db: &Db, limit: i64) -> StoreResult<Vec<Held>> {
    let sql = format!(
        "{HELD} WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.attempts > 0 ORDER BY o.id LIMIT $1"
    );
    let rows: Vec<HeldRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?
    });
    Ok(held_of(rows))
}

/// What `retry` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retried {
    /// Every row named is pending again, due now, its attempts counted from 0.
    Queued(u64),
    /// Nothing changed: no row has this id.
    Unknown(i64),
    /// Nothing changed: this row was delivered already.
    Delivered(i64),
}

/// Puts messages back in the queue (dead ones, or pending ones waiting for their retry): due
/// now, attempts counted from 0, the last error kept until the next attempt. All or nothing.
pub async fn retry(db: &Db, ids: &[i64]) -> StoreResult<Retried> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let Some(&first) = ids.first() else {
        return Ok(Retried::Queued(0));
    };
    // Ids are integers: written into the statement, nothing to escape.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut tx = db.begin().await?;
    let found: Vec<(i64, Option<DateTime<Utc>>)> = on_tx!(&mut tx, c => {
        sqlx::query_as(&format!("SELECT id, delivered_at FROM outbox WHERE id IN ({list})")).fetch_all(c).await?
    });
    for id in &ids {
        match found.iter().find(|(f, _)| f == id) {
            None => return Ok(Retried::Unknown(*id)),
            Some((_, Some(_))) => return Ok(Retried::Delivered(*id)),
            Some(_) => {}
        }
    }
    let n = on_tx!(&mut tx, c => {
        sqlx::query(&format!(
            "UPDATE outbox SET attempts = 0, next_attempt_at = NULL, dead_at = NULL WHERE id IN ({list}) AND delivered_at IS NULL"
        ))
        .execute(c).await?.rows_affected()
    });
    untrim_from(&mut tx, first).await?;
    tx.commit().await?;
    Ok(Retried::Queued(n))
}

/// Puts every dead message (of one topic, or all) back in the queue, as `retry` does; returns
/// how many.
pub async fn retry_dead(db: &Db, topic: Option<&str>) -> StoreResult<u64> {
    let topic = topic.unwrap_or("");
    let mut tx = db.begin().await?;
    let first: Option<i64> = on_tx!(&mut tx, c => {
        sqlx::query_scalar("SELECT MIN(id) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NOT NULL AND ($1 = '' OR topic = $1)")
            .bind(topic).fetch_one(c).await?
    });
    let Some(first) = first else { return Ok(0) };
    let n = on_tx!(&mut tx, c => {
        sqlx::query("UPDATE outbox SET attempts = 0, next_attempt_at = NULL, dead_at = NULL
                     WHERE delivered_at IS NULL AND dead_at IS NOT NULL AND ($1 = '' OR topic = $1)")
            .bind(topic).execute(c).await?.rows_affected()
    });
    untrim_from(&mut tx, first).await?;
    tx.commit().await?;
    Ok(n)
}

/// Moves the trimming mark back before `id`, so that once the message put back in the queue
/// is delivered (and old enough) its payload is cleared like the others'.
async fn untrim_from(tx: &mut Tx, id: i64) -> StoreResult<()> {
    let mark = super::meta::get_tx(tx, OUTBOX_TRIMMED_TO).await?;
    if let Some(mark) = mark.and_then(|m| m.parse::<i64>().ok())
        && mark >= id
    {
        super::meta::set(tx, OUTBOX_TRIMMED_TO, &(id - 1).to_string()).await?;
    }
    Ok(())
}
