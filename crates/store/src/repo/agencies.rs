//! Agencies (*cơ quan*): a tree of any depth, keyed by their identifier code.

use crate::{Db, StoreResult, Tx, on_read, on_tx};
use motcua_domain::text::fold_vi;

/// An agency as its row reads (`SELECT`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Agency {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub address: String,
    pub is_one_stop: bool,
    /// None: the default office hours.
    pub office_hours: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewAgency<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub parent_code: Option<&'a str>,
    pub address: &'a str,
    pub is_one_stop: bool,
    pub office_hours: Option<&'a str>,
}

/// Inserts or updates an agency by code; returns its id. The parent must exist already.
pub async fn upsert(tx: &mut Tx, a: &NewAgency<'_>) -> StoreResult<i64> {
    let search = fold_vi(&format!("{} {}", a.code, a.name));
    Ok(on_tx!(tx, c => {
        let parent_id: Option<i64> = match a.parent_code {
            Some(code) => Some(
                sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *c)
                    .await?
                    .ok_or(crate::StoreError::NotFound)?,
            ),
            None => None,
        };
        sqlx::query_scalar(
            "INSERT INTO agencies (code, name, level, parent_id, address, is_one_stop, search_text, office_hours)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
               parent_id = excluded.parent_id, address = excluded.address,
               is_one_stop = excluded.is_one_stop, search_text = excluded.search_text,
               office_hours = excluded.office_hours
             RETURNING id",
        )
        .bind(a.code)
        .bind(a.name)
        .bind(a.level)
        .bind(parent_id)
        .bind(a.address)
        .bind(a.is_one_stop)
        .bind(search)
        .bind(a.office_hours)
        .fetch_one(c)
        .await?
    }))
}

const SELECT: &str =
    "SELECT a.id, a.code, a.name, a.level, p.code AS parent_code, a.address, a.is_one_stop, a.office_hours
     FROM agencies a LEFT JOIN agencies p ON p.id = a.parent_id";

pub async fn list(db: &Db) -> StoreResult<Vec<Agency>> {
    let sql = format!("{SELECT} ORDER BY a.code");
    Ok(on_read!(db, pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    }))
}

pub async fn by_code(db: &Db, code: &str) -> StoreResult<Option<Agency>> {
    let sql = format!("{SELECT} WHERE a.code = $1");
    Ok(on_read!(db, pool => {
        sqlx::query_as(&sql).bind(code).fetch_optional(pool).await?
    }))
}

/// The stored office hours of an agency: None if the agency does not exist, Some(None) when
/// it uses the default hours.
pub async fn office_hours(db: &Db, code: &str) -> StoreResult<Option<Option<String>>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar::<_, Option<String>>("SELECT office_hours FROM agencies WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await?
    }))
}

/// The agency with this code followed by its ancestors (ids), nearest first; empty when the
/// code is unknown.
pub async fn chain(db: &Db, code: &str) -> StoreResult<Vec<i64>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar(
            "WITH RECURSIVE chain(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM agencies WHERE code = $1
                UNION ALL
                SELECT a.id, a.parent_id, c.depth + 1 FROM agencies a JOIN chain c ON a.id = c.parent_id WHERE c.depth < 64
             ) SELECT id FROM chain ORDER BY depth",
        )
        .bind(code)
        .fetch_all(pool)
        .await?
    }))
}

/// Ids of an agency and every agency below it (empty if the code is unknown).
pub async fn subtree_ids(db: &Db, code: &str) -> StoreResult<Vec<i64>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar(
            "WITH RECURSIVE tree(id, depth) AS (
                SELECT id, 0 FROM agencies WHERE code = $1
                UNION ALL
                SELECT a.id, t.depth + 1 FROM agencies a JOIN tree t ON a.parent_id = t.id WHERE t.depth < 64
             ) SELECT id FROM tree ORDER BY id",
        )
        .bind(code)
        .fetch_all(pool)
        .await?
    }))
}
