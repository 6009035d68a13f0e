//! Fields (*lĩnh vực*) and procedures (*thủ tục hành chính*): the catalog.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use motcua_domain::text::fold_vi;

pub async fn upsert_field(tx: &mut Tx, code: &str, name: &str) -> StoreResult<i64> {
    Ok(on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO fields (code, name) VALUES ($1, $2)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(code)
        .bind(name)
        .fetch_one(c)
        .await?
    }))
}

#[derive(Debug, Clone)]
pub struct NewProcedure<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub field_code: &'a str,
    pub level: &'a str,
    pub time_limit: &'a str,
    pub fee_text: &'a str,
    pub online_level: &'a str,
}

pub async fn upsert_procedure(tx: &mut Tx, p: &NewProcedure<'_>) -> StoreResult<i64> {
    let search = fold_vi(&format!("{} {}", p.code, p.name));
    Ok(on_tx!(tx, c => {
        let field_id: i64 = sqlx::query_scalar("SELECT id FROM fields WHERE code = $1")
            .bind(p.field_code)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query_scalar(
            "INSERT INTO procedures (code, name, field_id, level, time_limit, fee_text, online_level, search_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, field_id = excluded.field_id,
               level = excluded.level, time_limit = excluded.time_limit, fee_text = excluded.fee_text,
               online_level = excluded.online_level, search_text = excluded.search_text
             RETURNING id",
        )
        .bind(p.code)
        .bind(p.name)
        .bind(field_id)
        .bind(p.level)
        .bind(p.time_limit)
        .bind(p.fee_text)
        .bind(p.online_level)
        .bind(search)
        .fetch_one(c)
        .await?
    }))
}

pub async fn count_procedures(db: &Db) -> StoreResult<i64> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM procedures").fetch_one(pool).await?
    }))
}
