//! Credentials and sessions: users by name, browser sessions, bearer tokens. Secrets arrive
//! already hashed (SHA-256 of a random token); only hashes are stored.

use super::{Code, record_from};
use crate::{Db, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, Utc};
use motcua_domain::access::{Role, TokenKind};

/// What a login needs: id, stored password hash, whether the account is disabled.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub user_id: i64,
    pub password_hash: String,
    pub disabled: bool,
}

pub async fn credentials(db: &Db, username: &str) -> StoreResult<Option<Credentials>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT id AS user_id, password_hash, disabled FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(pool)
            .await?
    }))
}

/// A signed-in user with the roles they hold per agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub full_name: String,
    /// (agency id, agency code, role)
    pub roles: Vec<(i64, String, Role)>,
}

const PRINCIPAL_SELECT: &str =
    "SELECT u.id AS user_id, u.username, u.full_name, u.disabled, a.id AS agency_id,
    a.code AS agency_code, r.role";
const PRINCIPAL_ROLES: &str =
    "LEFT JOIN user_roles r ON r.user_id = u.id LEFT JOIN agencies a ON a.id = r.agency_id";

/// A user and one of their roles as a row of `PRINCIPAL_SELECT` reads (the role's columns
/// NULL for a user without any).
#[derive(sqlx::FromRow)]
struct PrincipalRow {
    user_id: i64,
    username: String,
    full_name: String,
    disabled: bool,
    agency_id: Option<i64>,
    agency_code: Option<String>,
    role: Option<Code<Role>>,
}

/// An enabled user with their roles; None for an unknown or disabled user.
pub async fn principal(db: &Db, user_id: i64) -> StoreResult<Option<Principal>> {
    let sql =
        format!("{PRINCIPAL_SELECT} FROM users u {PRINCIPAL_ROLES} WHERE u.id = $1 ORDER BY a.code, r.role");
    let rows: Vec<PrincipalRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
    });
    Ok(fold_principal(rows))
}

/// The user behind a live bearer token and the reference stamp.
pub struct TokenUser {
    /// None when the user is disabled.
    pub principal: Option<Principal>,
    /// `meta.reference_version` as read in the same query (a request needs both: one round
    /// trip instead of two).
    pub reference_version: Option<String>,
}

/// A row of `token_principal`: the principal's, and the reference stamp.
#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    principal: PrincipalRow,
    reference_version: Option<String>,
}

/// The user behind a live (not revoked, not expired) bearer token, in one query: None for no
/// such token.
pub async fn token_principal(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenUser>> {
    let sql = format!(
        "{PRINCIPAL_SELECT}, (SELECT value FROM meta WHERE key = '{}') AS reference_version
         FROM api_tokens t JOIN users u ON u.id = t.user_id {PRINCIPAL_ROLES}
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
         ORDER BY a.code, r.role",
        super::meta::REFERENCE_VERSION
    );
    let rows: Vec<TokenRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(token_hash).bind(now).fetch_all(pool).await?
    });
    let reference_version = rows.first().and_then(|r| r.reference_version.clone());
    Ok((!rows.is_empty()).then(|| TokenUser {
        principal: fold_principal(rows.into_iter().map(|r| r.principal).collect()),
        reference_version,
    }))
}

/// One row per role (one with no role for a user without any): the principal, unless disabled.
fn fold_principal(rows: Vec<PrincipalRow>) -> Option<Principal> {
    let (user_id, username, full_name, disabled) = {
        let first = rows.first()?;
        (
            first.user_id,
            first.username.clone(),
            first.full_name.clone(),
            first.disabled,
        )
    };
    if disabled {
        return None;
    }
    let roles = rows
        .into_iter()
        .filter_map(|r| Some((r.agency_id?, r.agency_code?, r.role?.0)))
        .collect();
    Some(Principal {
        user_id,
        username,
        full_name,
        roles,
    })
}

pub async fn create_session(
    tx: &mut Tx,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(Utc::now())
            .bind(expires_at)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// The user id and CSRF token of a live session.
pub async fn session(db: &Db, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(i64, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT user_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(c).await?;
    });
    Ok(())
}

pub async fn create_token(
    tx: &mut Tx,
    token_hash: &str,
    user_id: i64,
    name: &str,
    kind: TokenKind,
    expires_at: Option<DateTime<Utc>>,
) -> StoreResult<i64> {
    Ok(on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, token_hash, name, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(name)
        .bind(kind.as_str())
        .bind(Utc::now())
        .bind(expires_at)
        .fetch_one(c)
        .await?
    }))
}

/// An API token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub kind: TokenKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token as its row reads.
#[derive(sqlx::FromRow)]
struct TokenViewRow {
    id: i64,
    username: String,
    name: String,
    kind: Code<TokenKind>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenViewRow> for TokenView {
    fn from(r: TokenViewRow) -> TokenView {
        let kind = r.kind.0;
        record_from!(r => TokenView { id, username, name, created_at, expires_at, revoked_at; kind })
    }
}

/// Long-lived API tokens (kind `api`), of one user or of everyone.
pub async fn list_tokens(db: &Db, user_id: Option<i64>) -> StoreResult<Vec<TokenView>> {
    let rows: Vec<TokenViewRow> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT t.id, u.username, t.name, t.kind, t.created_at, t.expires_at, t.revoked_at FROM api_tokens t
             JOIN users u ON u.id = t.user_id WHERE t.kind = 'api' AND ($1 IS NULL OR t.user_id = $1) ORDER BY t.id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(TokenView::from).collect())
}

/// The owner of a token id.
pub async fn token_owner(db: &Db, id: i64) -> StoreResult<Option<i64>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT user_id FROM api_tokens WHERE id = $1").bind(id).fetch_optional(pool).await?
    }))
}

/// Revokes a token; false when it was already revoked or does not exist.
pub async fn revoke_token(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    Ok(on_tx!(tx, c => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected() > 0
    }))
}

/// Ends every session of a user (password change, disabled account).
pub async fn end_sessions(tx: &mut Tx, user_id: i64) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(c).await?;
    });
    Ok(())
}
