//! A dossier's components: the documents submitted at intake, supplements, the result.

use super::{Code, record_from};
use crate::{Db, StoreResult, Tx, on_read, write_later};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{Component, ComponentKind};
use sqlx::Arguments;

/// A component as its row reads.
#[derive(sqlx::FromRow)]
pub(super) struct ComponentRow {
    seq: i64,
    kind: Code<ComponentKind>,
    name: String,
    originals: i64,
    copies: i64,
    required: bool,
    provided: bool,
    file_sha256: Option<String>,
}

impl From<ComponentRow> for Component {
    fn from(r: ComponentRow) -> Component {
        let kind = r.kind.0;
        record_from!(r => Component { seq, name, originals, copies, required, provided, file_sha256; kind })
    }
}

pub async fn components(db: &Db, dossier_id: i64) -> StoreResult<Vec<Component>> {
    let rows: Vec<ComponentRow> = on_read!(db, pool => {
        sqlx::query_as("SELECT seq, kind, name, originals, copies, required, provided, file_sha256
             FROM dossier_components WHERE dossier_id = $1 ORDER BY seq")
            .bind(dossier_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Component::from).collect())
}

/// Inserts components with their sequence numbers set, in one statement.
pub async fn add_components(
    tx: &mut Tx,
    dossier_id: i64,
    components: &[Component],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if components.is_empty() {
        return Ok(());
    }
    let sql = super::positional(
        tx,
        &format!(
            "INSERT INTO dossier_components (dossier_id, seq, kind, name, originals, copies, required, provided, file_sha256, added_at)
             VALUES {}",
            super::values_list(components.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        ),
    );
    write_later!(tx, "dossier_components", &sql, a => {
        for c in components {
            a.add(dossier_id)?; a.add(c.seq)?; a.add(c.kind.as_str())?; a.add(c.name.clone())?; a.add(c.originals)?;
            a.add(c.copies)?; a.add(c.required)?; a.add(c.provided)?; a.add(c.file_sha256.clone())?; a.add(now)?;
        }
    });
    Ok(())
}
