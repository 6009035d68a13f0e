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
