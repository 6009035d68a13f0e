//! Who is asking: officers' sessions and bearer tokens resolved to a `CurrentUser` with roles
//! per agency, passwords checked under throttling, sessions and tokens issued. The adapters
//! read the secret from wherever they carry it (a cookie, a header) and hand it here.

pub mod password;

use crate::{ServiceError, ServiceResult, Services};
use chrono::Duration;
use motcua_domain::access::{Role, TokenKind};
use motcua_domain::msg;
use motcua_store::repo::auth as repo;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Lifetime of an officer's browser session.
pub const SESSION_HOURS: i64 = 10;
/// Lifetime of a bearer token from signing in through the API.
pub const LOGIN_TOKEN_HOURS: i64 = 12;

/// The signed-in officer.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub principal: repo::Principal,
    /// Set for browser sessions: the token every form must carry.
    pub csrf_token: Option<String>,
    /// The reference stamp read with the bearer token (`Services::reference_for`).
    pub reference_version: Option<String>,
}

impl CurrentUser {
    /// The access decisions for this user (motcua_domain::access).
    pub fn access(&self) -> motcua_domain::access::Access {
        motcua_domain::access::Access::new(
            self.principal
                .roles
                .iter()
                .map(|&(agency_id, _, role)| motcua_domain::access::Grant { agency_id, role })
                .collect(),
        )
    }

    pub fn user_id(&self) -> i64 {
        self.principal.user_id
    }

    pub fn username(&self) -> &str {
        &self.principal.username
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.principal.roles.iter().any(|(_, _, r)| *r == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// Holds a role that handles or supervises dossiers.
    pub fn is_officer(&self) -> bool {
        self.principal.roles.iter().any(|(_, _, r)| *r != Role::Admin)
    }

    /// Administrator, or forbidden.
    pub fn require_admin(&self) -> ServiceResult<()> {
        if self.is_admin() { Ok(()) } else { Err(forbidden()) }
    }

    /// The form's CSRF token matches the session's (always true for bearer tokens, which
    /// browsers never send on their own).
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        match &self.csrf_token {
            Some(expected) => constant_time_eq(expected.as_bytes(), submitted.as_bytes()),
            None => true,
        }
    }
}

/// The refusal of an action that needs a role the caller does not have.
pub fn forbidden() -> ServiceError {
    ServiceError::Forbidden(msg!("forbidden"))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random secret, hex-encoded (256 bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    motcua_domain::text::hex(&bytes)
}

/// What is stored for a secret: its SHA-256, hex-encoded.
pub fn secret_hash(secret: &str) -> String {
    motcua_domain::text::hex(&Sha256::digest(secret.as_bytes()))
}

impl Services {
    /// May read an agency's data (members, supervisors above, administrators): the agency
    /// and its ancestors (ids). Not found for an unknown agency, forbidden otherwise.
    pub async fn require_read_agency(&self, user: &CurrentUser, code: &str) -> ServiceResult<Vec<i64>> {
        let chain = self.reference().await?.chain(code);
        if chain.is_empty() {
            return Err(ServiceError::NotFound(msg!(
                "agency.unknown",
                motcua_domain::msg::quoted(code)
            )));
        }
        if user.access().may_read(&chain) {
            Ok(chain)
        } else {
            Err(forbidden())
        }
    }

    /// Checks an officer's username and password under sign-in throttling (per username and
    /// per `client`, the adapter's name for the caller): the user id on success, None on a
    /// wrong pair, too many when the caller must wait.
    pub async fn sign_in(&self, username: &str, password: &str, client: &str) -> ServiceResult<Option<i64>> {
        let throttle = &self.limits().login;
        if let Err(wait) = throttle.check(username, client) {
            return Err(ServiceError::TooMany {
                msg: msg!("auth.too_many", wait),
                wait_seconds: wait,
            });
        }
        let result = self.check_password(username, password).await?;
        match result {
            Some(_) => throttle.succeeded(username, client),
            None => throttle.failed(username, client),
        }
        Ok(result)
    }

    /// Checks a username and password; the user id on success. Constant work on unknown users.
    async fn check_password(&self, username: &str, password: &str) -> ServiceResult<Option<i64>> {
        let creds = repo::credentials(self.db(), username.trim()).await?;
        let password = password.to_string();
        Ok(tokio::task::spawn_blocking(move || match creds {
            Some(c) if !c.disabled => password::verify(&password, &c.password_hash).then_some(c.user_id),
            _ => {
                password::dummy_verify(&password);
                None
            }
        })
        .await?)
    }

    /// Starts an officer's browser session: its secret, for the adapter to hand back.
    pub async fn start_session(&self, user_id: i64) -> ServiceResult<String> {
        let secret = new_secret();
        let mut tx = self.db().begin().await?;
        repo::create_session(
            &mut tx,
            &secret_hash(&secret),
            user_id,
            &new_secret(),
            self.now() + Duration::hours(SESSION_HOURS),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Ends an officer's browser session.
    pub async fn end_session(&self, secret: &str) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        repo::delete_session(&mut tx, &secret_hash(secret)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues a bearer token of the given kind; returns the secret (shown once).
    pub async fn issue_token(
        &self,
        user_id: i64,
        name: &str,
        kind: TokenKind,
        hours: Option<i64>,
    ) -> ServiceResult<String> {
        let secret = new_secret();
        let mut tx = self.db().begin().await?;
        repo::create_token(
            &mut tx,
            &secret_hash(&secret),
            user_id,
            name,
            kind,
            hours.map(|h| self.now() + Duration::hours(h)),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// The officer a bearer token stands for: None for a disabled user; unauthenticated for
    /// a token that is unknown, expired or revoked.
    pub async fn user_of_token(&self, token: &str) -> ServiceResult<Option<CurrentUser>> {
        let Some(found) = repo::token_principal(self.db(), &secret_hash(token), self.now()).await? else {
            return Err(ServiceError::Unauthenticated(msg!("auth.token_invalid")));
        };
        Ok(found.principal.map(|principal| CurrentUser {
            principal,
            csrf_token: None,
            reference_version: found.reference_version,
        }))
    }

    /// The officer of a browser session, if it is live.
    pub async fn user_of_session(&self, secret: &str) -> ServiceResult<Option<CurrentUser>> {
        let Some((user_id, csrf)) = repo::session(self.db(), &secret_hash(secret), self.now()).await? else {
            return Ok(None);
        };
        Ok(repo::principal(self.db(), user_id)
            .await?
            .map(|principal| CurrentUser {
                principal,
                csrf_token: Some(csrf),
                reference_version: None,
            }))
    }
}
