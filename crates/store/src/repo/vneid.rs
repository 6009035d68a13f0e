//! National-identity sign-in (VNeID): links of personal identification numbers to citizen
//! accounts, sign-ins in flight, identities waiting for a link to be confirmed, and the
//! sessions that came from VNeID. Thin: the service checks tokens and decides.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, Utc};
use motcua_domain::identity::LoginKind;

/// A sign-in sent to the provider, waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Flow {
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
    /// The signed-in citizen who asked to link their account, if that is what it is for.
    pub link_to: Option<i64>,
    pub next_path: String,
    pub expires_at: DateTime<Utc>,
}

/// An identity the provider vouched for, waiting for the citizen to confirm the account
/// it is to be linked to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    pub citizen_id: i64,
    pub personal_id: String,
    pub full_name: String,
    pub id_token: String,
    pub next_path: String,
    pub expires_at: DateTime<Utc>,
}

/// Keeps a sign-in in flight under the hash of the browser's secret; forgets expired ones.
pub async fn add_flow(tx: &mut Tx, secret_hash: &str, flow: &Flow, now: DateTime<Utc>) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM vneid_flows WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
        sqlx::query("DELETE FROM vneid_pending WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
        sqlx::query(
            "INSERT INTO vneid_flows (secret_hash, state, pkce_verifier, nonce, link_to, next_path, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(secret_hash).bind(&flow.state).bind(&flow.pkce_verifier).bind(&flow.nonce).bind(flow.link_to)
        .bind(&flow.next_path).bind(flow.expires_at)
        .execute(c).await?;
    });
    Ok(())
}

/// Takes a sign-in in flight (it is used once, whatever comes of it).
pub async fn take_flow(tx: &mut Tx, secret_hash: &str) -> StoreResult<Option<Flow>> {
    Ok(on_tx!(tx, c => {
        sqlx::query_as(
            "DELETE FROM vneid_flows WHERE secret_hash = $1
             RETURNING state, pkce_verifier, nonce, link_to, next_path, expires_at",
        )
        .bind(secret_hash).fetch_optional(c).await?
    }))
}

pub async fn add_pending(tx: &mut Tx, secret_hash: &str, p: &Pending) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO vneid_pending (secret_hash, citizen_id, personal_id, full_name, id_token, next_path, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(secret_hash).bind(p.citizen_id).bind(&p.personal_id).bind(&p.full_name).bind(&p.id_token)
        .bind(&p.next_path).bind(p.expires_at)
        .execute(c).await?;
    });
    Ok(())
}

pub async fn pending(db: &Db, secret_hash: &str) -> StoreResult<Option<Pending>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(
            "SELECT citizen_id, personal_id, full_name, id_token, next_path, expires_at FROM vneid_pending
             WHERE secret_hash = $1",
        )
        .bind(secret_hash).fetch_optional(pool).await?
    }))
}

/// Removes a pending link; false when it was gone already (confirmed by another request).
pub async fn remove_pending(tx: &mut Tx, secret_hash: &str) -> StoreResult<bool> {
    Ok(on_tx!(tx, c => {
        sqlx::query("DELETE FROM vneid_pending WHERE secret_hash = $1").bind(secret_hash).execute(c).await?.rows_affected() == 1
    }))
}

/// The citizen account a personal identification number is linked to.
pub async fn citizen_of(db: &Db, personal_id: &str) -> StoreResult<Option<i64>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT citizen_id FROM vneid_links WHERE personal_id = $1")
            .bind(personal_id).fetch_optional(pool).await?
    }))
}

/// The personal identification number an account is linked to.
pub async fn personal_id_of(db: &Db, citizen_id: i64) -> StoreResult<Option<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT personal_id FROM vneid_links WHERE citizen_id = $1")
            .bind(citizen_id).fetch_optional(pool).await?
    }))
}

/// Links a personal identification number to an account; Conflict when either is linked
/// already.
pub async fn link(tx: &mut Tx, personal_id: &str, citizen_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    let res = on_tx!(tx, c => {
        sqlx::query("INSERT INTO vneid_links (personal_id, citizen_id, linked_at) VALUES ($1, $2, $3)")
            .bind(personal_id).bind(citizen_id).bind(now).execute(c).await.map(|_| ())
    });
    match res {
        Ok(()) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
            "this identity or this account is linked already".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Creates a confirmed account from what the provider vouched for. It has no password
/// (a hash that never matches): its owner signs in with VNeID, or sets one with a reset
/// code. Conflict when the login has an account already.
pub async fn create_citizen(
    tx: &mut Tx,
    login: &str,
    kind: LoginKind,
    full_name: &str,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id: Option<i64> = on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO citizens (login, login_kind, full_name, password_hash, verified_at, created_at)
             VALUES ($1, $2, $3, '!', $4, $4) ON CONFLICT (login) DO NOTHING RETURNING id",
        )
        .bind(login).bind(kind.as_str()).bind(full_name).bind(now)
        .fetch_optional(c).await?
    });
    id.ok_or_else(|| StoreError::Conflict("this phone number or e-mail already has an account".into()))
}

/// Marks a new session as opened with VNeID, keeping the ID token for the provider's
/// sign-out.
pub async fn mark_session(tx: &mut Tx, token_hash: &str, id_token: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO vneid_sessions (token_hash, id_token) VALUES ($1, $2)")
            .bind(token_hash).bind(id_token).execute(c).await?;
    });
    Ok(())
}

/// Ends a session, answering the ID token it was opened with, if it came from VNeID.
pub async fn end_session(tx: &mut Tx, token_hash: &str) -> StoreResult<Option<String>> {
    Ok(on_tx!(tx, c => {
        let id_token: Option<String> = sqlx::query_scalar("DELETE FROM vneid_sessions WHERE token_hash = $1 RETURNING id_token")
            .bind(token_hash).fetch_optional(&mut *c).await?;
        sqlx::query("DELETE FROM citizen_sessions WHERE token_hash = $1").bind(token_hash).execute(c).await?;
        id_token
    }))
}
