//! A dossier's event log: one hash-chained row per change (`motcua_domain::dossier::chain`),
//! appended in the change's transaction, never updated.

use crate::{Db, StoreResult, Tx, on_read, write_later};
use sqlx::Arguments;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
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
        sqlx::query_as("SELECT seq, at, actor, action, from_status, to_status, step_seq, note, details, prev_hash, hash
             FROM dossier_events WHERE dossier_id = $1 ORDER BY seq")
            .bind(dossier_id).fetch_all(pool).await?
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

/// The head of a dossier's chain as its row keeps it: how many events it has, and the last
/// one's hash (`chain::GENESIS` for none). Every write of an event moves it in the same
/// transaction, so a stored log can be checked against it (removing the last events shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub event_count: i64,
    pub last_hash: String,
}

/// A dossier's events with the head they must end at, read in one statement (one snapshot:
/// an event written meanwhile is in both or in neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub dossier_id: i64,
    /// The dossier's code; None for an online dossier not yet accepted.
    pub code: Option<String>,
    pub head: ChainHead,
    pub events: Vec<Event>,
}

/// A dossier's head and one of its events (none when it has no event: a LEFT JOIN).
#[derive(sqlx::FromRow)]
struct ChainRow {
    dossier_id: i64,
    code: Option<String>,
    event_count: i64,
    last_hash: String,
    seq: Option<i64>,
    at: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from_status: Option<String>,
    to_status: Option<String>,
    step_seq: Option<i64>,
    note: Option<String>,
    details: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

const CHAIN_COLUMNS: &str =
    "d.id AS dossier_id, d.code, d.event_count, d.last_hash, e.seq, e.at, e.actor, e.action,
    e.from_status, e.to_status, e.step_seq, e.note, e.details, e.prev_hash, e.hash";

/// Groups rows ordered by dossier, then seq, into chains.
fn chains_of(rows: Vec<ChainRow>) -> Vec<Chain> {
    let mut out: Vec<Chain> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|c| c.dossier_id != r.dossier_id) {
            out.push(Chain {
                dossier_id: r.dossier_id,
                code: r.code,
                head: ChainHead {
                    event_count: r.event_count,
                    last_hash: r.last_hash,
                },
                events: Vec::new(),
            });
        }
        let Some(seq) = r.seq else { continue };
        let chain = out.last_mut().expect("pushed above");
        chain.events.push(Event {
            seq,
            at: r.at.unwrap_or_default(),
            actor: r.actor.unwrap_or_default(),
            action: r.action.unwrap_or_default(),
            from_status: r.from_status.unwrap_or_default(),
            to_status: r.to_status.unwrap_or_default(),
            step_seq: r.step_seq,
            note: r.note.unwrap_or_default(),
            details: r.details.unwrap_or_default(),
            prev_hash: r.prev_hash.unwrap_or_default(),
            hash: r.hash.unwrap_or_default(),
        });
    }
    out
}

/// A dossier's events and its chain head, in one statement; None if there is no such dossier.
pub async fn chain(db: &Db, dossier_id: i64) -> StoreResult<Option<Chain>> {
    let sql = format!(
        "SELECT {CHAIN_COLUMNS} FROM dossiers d LEFT JOIN dossier_events e ON e.dossier_id = d.id
         WHERE d.id = $1 ORDER BY e.seq"
    );
    let rows: Vec<ChainRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(dossier_id).fetch_all(pool).await?
    });
    Ok(chains_of(rows).pop())
}

/// The chains of the next `limit` dossiers by id after `after_id` (keyset pagination: pass
/// the last id of a page to get the next), with their events, in one statement; empty past
/// the last dossier. A page of dossiers and their events at a time keeps memory bounded
/// however many dossiers there are.
pub async fn chains_after(db: &Db, after_id: i64, limit: i64) -> StoreResult<Vec<Chain>> {
    let sql = format!(
        "SELECT {CHAIN_COLUMNS}
         FROM (SELECT id, code, event_count, last_hash FROM dossiers WHERE id > $1 ORDER BY id LIMIT $2) d
         LEFT JOIN dossier_events e ON e.dossier_id = d.id
         ORDER BY d.id, e.seq"
    );
    let rows: Vec<ChainRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(after_id).bind(limit).fetch_all(pool).await?
    });
    Ok(chains_of(rows))
}
