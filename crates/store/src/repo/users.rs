//! Officers and their roles per agency. Password hashes are stored here and never leave
//! this module except to the verifier.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::Utc;

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub password_hash: &'a str,
    /// (agency code, role id)
    pub roles: &'a [(&'a str, &'a str)],
}

/// Inserts or updates a user by username and replaces their roles; returns the user id.
pub async fn upsert(tx: &mut Tx, u: &NewUser<'_>) -> StoreResult<i64> {
    Ok(on_tx!(tx, c => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, full_name, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (username) DO UPDATE SET full_name = excluded.full_name, password_hash = excluded.password_hash
             RETURNING id",
        )
        .bind(u.username)
        .bind(u.full_name)
        .bind(u.password_hash)
        .bind(Utc::now())
        .fetch_one(&mut *c)
        .await?;
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&mut *c).await?;
        for (agency, role) in u.roles {
            let agency_id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(*agency)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound)?;
            sqlx::query("INSERT INTO user_roles (user_id, agency_id, role) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(agency_id)
                .bind(*role)
                .execute(&mut *c)
                .await?;
        }
        id
    }))
}

/// Users with their roles, for listings (no password hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRole {
    pub username: String,
    pub full_name: String,
    pub agency_code: String,
    pub agency_name: String,
    pub role: String,
}

pub async fn list_roles(db: &Db) -> StoreResult<Vec<UserRole>> {
    use sqlx::Row;
    Ok(on_read!(db, pool => {
        sqlx::query(
            "SELECT u.username, u.full_name, a.code, a.name, r.role FROM users u
             JOIN user_roles r ON r.user_id = u.id JOIN agencies a ON a.id = r.agency_id
             ORDER BY u.username, a.code, r.role",
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok::<_, sqlx::Error>(UserRole {
                username: r.try_get(0)?,
                full_name: r.try_get(1)?,
                agency_code: r.try_get(2)?,
                agency_name: r.try_get(3)?,
                role: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?
    }))
}
