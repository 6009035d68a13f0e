//! Agencies (*cơ quan*): a tree of any depth, keyed by their identifier code.

use crate::{Db, StoreResult, Tx, on_read, on_tx};
use motcua_domain::text::fold_vi;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Agency {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub address: String,
    pub is_one_stop: bool,
}

#[derive(Debug, Clone)]
pub struct NewAgency<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub parent_code: Option<&'a str>,
    pub address: &'a str,
    pub is_one_stop: bool,
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
            "INSERT INTO agencies (code, name, level, parent_id, address, is_one_stop, search_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
               parent_id = excluded.parent_id, address = excluded.address,
               is_one_stop = excluded.is_one_stop, search_text = excluded.search_text
             RETURNING id",
        )
        .bind(a.code)
        .bind(a.name)
        .bind(a.level)
        .bind(parent_id)
        .bind(a.address)
        .bind(a.is_one_stop)
        .bind(search)
        .fetch_one(c)
        .await?
    }))
}

const SELECT: &str = "SELECT a.id, a.code, a.name, a.level, p.code AS parent_code, a.address, a.is_one_stop
     FROM agencies a LEFT JOIN agencies p ON p.id = a.parent_id";

/// Builds an `Agency` from a row of `SELECT` on either backend (expanded per backend).
macro_rules! agency_from_row {
    ($r:expr) => {
        Agency {
            id: $r.try_get("id")?,
            code: $r.try_get("code")?,
            name: $r.try_get("name")?,
            level: $r.try_get("level")?,
            parent_code: $r.try_get("parent_code")?,
            address: $r.try_get("address")?,
            is_one_stop: $r.try_get("is_one_stop")?,
        }
    };
}

pub async fn list(db: &Db) -> StoreResult<Vec<Agency>> {
    let sql = format!("{SELECT} ORDER BY a.code");
    Ok(on_read!(db, pool => {
        sqlx::query(&sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok::<_, sqlx::Error>(agency_from_row!(r)))
            .collect::<Result<Vec<_>, _>>()?
    }))
}

pub async fn by_code(db: &Db, code: &str) -> StoreResult<Option<Agency>> {
    let sql = format!("{SELECT} WHERE a.code = $1");
    Ok(on_read!(db, pool => {
        sqlx::query(&sql)
            .bind(code)
            .fetch_optional(pool)
            .await?
            .map(|r| Ok::<_, sqlx::Error>(agency_from_row!(r)))
            .transpose()?
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
