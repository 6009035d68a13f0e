//! Officers and their roles per agency. Password hashes are stored here and never leave
//! this module except to the verifier.

use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::Utc;
use motcua_domain::access::Role;

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub password_hash: &'a str,
    /// (agency code, role)
    pub roles: &'a [(&'a str, Role)],
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
                .bind(role.as_str())
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
    pub role: Role,
}

/// A user's role as its row reads.
#[derive(sqlx::FromRow)]
struct UserRoleRow {
    username: String,
    full_name: String,
    agency_code: String,
    agency_name: String,
    role: Code<Role>,
}

impl From<UserRoleRow> for UserRole {
    fn from(r: UserRoleRow) -> UserRole {
        let role = r.role.0;
        record_from!(r => UserRole { username, full_name, agency_code, agency_name; role })
    }
}

pub async fn list_roles(db: &Db) -> StoreResult<Vec<UserRole>> {
    let rows: Vec<UserRoleRow> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT u.username, u.full_name, a.code AS agency_code, a.name AS agency_name, r.role FROM users u
             JOIN user_roles r ON r.user_id = u.id JOIN agencies a ON a.id = r.agency_id
             ORDER BY u.username, a.code, r.role",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(UserRole::from).collect())
}

/// Creates a user; Conflict when the username is taken.
pub async fn create(tx: &mut Tx, username: &str, full_name: &str, password_hash: &str) -> StoreResult<i64> {
    let res: Result<i64, sqlx::Error> = on_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO users (username, full_name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(username)
            .bind(full_name)
            .bind(password_hash)
            .bind(Utc::now())
            .fetch_one(c)
            .await
    });
    match res {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::Conflict(format!("user {username:?} already exists")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces a user's roles with (agency code, role) pairs; NotFound for an unknown agency.
pub async fn set_roles(tx: &mut Tx, user_id: i64, roles: &[(&str, Role)]) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *c).await?;
        for (agency, role) in roles {
            let agency_id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(*agency)
                .fetch_optional(&mut *c)
                .await?
                .ok_or_else(|| StoreError::Conflict(format!("unknown agency {agency:?}")))?;
            sqlx::query("INSERT INTO user_roles (user_id, agency_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(user_id)
                .bind(agency_id)
                .bind(role.as_str())
                .execute(&mut *c)
                .await?;
        }
    });
    Ok(())
}

pub async fn set_password(tx: &mut Tx, user_id: i64, password_hash: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id).execute(c).await?;
    });
    Ok(())
}

pub async fn set_profile(tx: &mut Tx, user_id: i64, full_name: &str, disabled: bool) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE users SET full_name = $1, disabled = $2 WHERE id = $3")
            .bind(full_name)
            .bind(disabled)
            .bind(user_id)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// Enabled users holding the administrator's role, as the transaction sees them (on
/// PostgreSQL their rows are locked until it ends, so two administrators demoting each other
/// at once cannot both succeed).
pub async fn enabled_admins(tx: &mut Tx) -> StoreResult<i64> {
    let lock = match tx {
        Tx::Postgres(_) => " FOR UPDATE OF u",
        Tx::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE r.role = 'admin' AND u.disabled = $1{lock}"
    );
    let ids: Vec<i64> = on_tx!(tx, c => {
        sqlx::query_scalar(&sql).bind(false).fetch_all(c).await?
    });
    Ok(ids.len() as i64)
}

/// A user as listed to administrators: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub disabled: bool,
    /// (agency code, role)
    pub roles: Vec<(String, Role)>,
}

/// A user and one of their roles as a row reads (the role's columns NULL for a user
/// without any).
#[derive(sqlx::FromRow)]
struct UserViewRow {
    id: i64,
    username: String,
    full_name: String,
    disabled: bool,
    agency_code: Option<String>,
    role: Option<Code<Role>>,
}

/// Users (optionally only those holding a role in one agency), by username.
pub async fn list(db: &Db, agency_code: Option<&str>) -> StoreResult<Vec<UserView>> {
    let rows: Vec<UserViewRow> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT u.id, u.username, u.full_name, u.disabled, a.code AS agency_code, r.role FROM users u
             LEFT JOIN user_roles r ON r.user_id = u.id LEFT JOIN agencies a ON a.id = r.agency_id
             WHERE $1 IS NULL OR u.id IN (SELECT r2.user_id FROM user_roles r2 JOIN agencies a2 ON a2.id = r2.agency_id WHERE a2.code = $1)
             ORDER BY u.username, a.code, r.role",
        )
        .bind(agency_code)
        .fetch_all(pool)
        .await?
    });
    let mut out: Vec<UserView> = Vec::new();
    for r in rows {
        if out.last().map(|u| u.id) != Some(r.id) {
            out.push(UserView {
                id: r.id,
                username: r.username,
                full_name: r.full_name,
                disabled: r.disabled,
                roles: Vec::new(),
            });
        }
        if let (Some(a), Some(role), Some(last)) = (r.agency_code, r.role, out.last_mut()) {
            last.roles.push((a, role.0));
        }
    }
    Ok(out)
}

pub async fn by_username(db: &Db, username: &str) -> StoreResult<Option<UserView>> {
    Ok(list(db, None).await?.into_iter().find(|u| u.username == username))
}
