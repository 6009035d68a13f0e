//! Dossiers submitted on the national portal (Cổng DVCQG), by the portal's own dossier id
//! (`dossiers.portal_id`, unique: migration 0020).

use crate::{Db, StoreResult, on_read};

/// The dossier made from a portal dossier id, if any: (id, code — None until received).
pub async fn find(db: &Db, portal_id: &str) -> StoreResult<Option<(i64, Option<String>)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT id, code FROM dossiers WHERE portal_id = $1")
            .bind(portal_id)
            .fetch_optional(pool)
            .await?
    }))
}
