//! Who is asking: browser sessions (cookie + CSRF token) and bearer tokens, resolved to a
//! `CurrentUser` with roles per agency. Authorisation checks live here, in one place.

pub mod password;
pub mod throttle;

use crate::AppState;
use crate::error::{ApiError, PageError};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use chrono::{Duration, Utc};
use motcua_store::repo::auth as repo;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "motcua_session";
/// Lifetime of a browser session.
pub const SESSION_HOURS: i64 = 10;
/// Lifetime of a bearer token from `POST /api/v1/auth/login`.
pub const LOGIN_TOKEN_HOURS: i64 = 12;

/// The signed-in officer.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub principal: repo::Principal,
    /// Set for browser sessions: the token every form must carry.
    pub csrf_token: Option<String>,
    /// The reference stamp read with the bearer token (`AppState::reference_for`).
    pub reference_version: Option<String>,
}

impl CurrentUser {
    /// The access decisions for this user (motcua_domain::access).
    pub fn access(&self) -> motcua_domain::access::Access {
        motcua_domain::access::Access::new(
            self.principal
                .roles
                .iter()
                .filter_map(|(agency_id, _, role)| {
                    role.parse().ok().map(|role| motcua_domain::access::Grant {
                        agency_id: *agency_id,
                        role,
                    })
                })
                .collect(),
        )
    }

    /// May read an agency's data (members, supervisors above, administrators); 404 for an
    /// unknown agency, 403 otherwise.
    pub async fn require_read_agency(&self, state: &AppState, code: &str) -> Result<Vec<i64>, ApiError> {
        let chain = state.reference().await?.chain(code);
        if chain.is_empty() {
            return Err(ApiError::not_found(format!("unknown agency {code:?}")));
        }
        if self.access().may_read(&chain) {
            Ok(chain)
        } else {
            Err(Forbidden.into())
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.principal.roles.iter().any(|(_, _, r)| r == role)
    }
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }
    /// Administrator, or 403.
    pub fn require_admin(&self) -> Result<(), Forbidden> {
        if self.is_admin() { Ok(()) } else { Err(Forbidden) }
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

#[derive(Debug)]
pub struct Forbidden;

impl From<Forbidden> for ApiError {
    fn from(_: Forbidden) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "this action needs a role you do not have")
    }
}

impl From<Forbidden> for PageError {
    fn from(_: Forbidden) -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            message: "Bạn không có quyền thực hiện thao tác này.".into(),
        }
    }
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

pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client address of a request (for throttling), or "unknown".
pub fn client_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Checks a username and password under login throttling: Ok(Some(user id)) on success,
/// Ok(None) on a wrong pair, a 429 problem when the caller must wait.
pub async fn login_attempt(
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> Result<Option<i64>, ApiError> {
    if let Err(wait) = state.login_throttle.check(username, address) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed sign-ins; try again in {wait} s"),
        )
        .with_header("retry-after", wait.to_string()));
    }
    let result = check_password(state, username, password).await?;
    match result {
        Some(_) => state.login_throttle.succeeded(username),
        None => state.login_throttle.failed(username, address),
    }
    Ok(result)
}

/// Checks a username and password; the user id on success. Constant work on unknown users.
pub async fn check_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<i64>, ApiError> {
    let creds = repo::credentials(&state.db, username.trim()).await?;
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || match creds {
        Some(c) if !c.disabled => password::verify(&password, &c.password_hash).then_some(c.user_id),
        _ => {
            password::dummy_verify(&password);
            None
        }
    })
    .await
    .map_err(|_| ApiError::internal())?;
    Ok(ok)
}

/// Starts a browser session; returns (cookie value, Set-Cookie header value).
pub async fn start_session(state: &AppState, user_id: i64) -> Result<String, ApiError> {
    let secret = new_secret();
    let mut tx = state.db.begin().await?;
    repo::create_session(
        &mut tx,
        &secret_hash(&secret),
        user_id,
        &new_secret(),
        Utc::now() + Duration::hours(SESSION_HOURS),
    )
    .await?;
    tx.commit().await?;
    Ok(session_cookie(state, &secret, SESSION_HOURS * 3600))
}

/// The Set-Cookie value for a session secret (max_age 0 clears it).
pub fn session_cookie(state: &AppState, secret: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Issues a bearer token of the given kind; returns the secret (shown once).
pub async fn issue_token(
    state: &AppState,
    user_id: i64,
    name: &str,
    kind: &str,
    hours: Option<i64>,
) -> Result<String, ApiError> {
    let secret = new_secret();
    let mut tx = state.db.begin().await?;
    repo::create_token(
        &mut tx,
        &secret_hash(&secret),
        user_id,
        name,
        kind,
        hours.map(|h| Utc::now() + Duration::hours(h)),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Resolves the caller from a bearer token or the session cookie; None if anonymous.
pub async fn resolve(state: &AppState, parts: &Parts) -> Result<Option<CurrentUser>, ApiError> {
    let now = Utc::now();
    if let Some(auth) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let Some(token) = auth.strip_prefix("Bearer ").map(str::trim) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Authorization must be `Bearer TOKEN`",
            ));
        };
        let Some(found) = repo::token_principal(&state.db, &secret_hash(token), now).await? else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid, expired or revoked token",
            ));
        };
        return Ok(found.principal.map(|principal| CurrentUser {
            principal,
            csrf_token: None,
            reference_version: found.reference_version,
        }));
    }
    if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
        && let Some((user_id, csrf)) = repo::session(&state.db, &secret_hash(secret), now).await?
    {
        return Ok(repo::principal(&state.db, user_id)
            .await?
            .map(|principal| CurrentUser {
                principal,
                csrf_token: Some(csrf),
                reference_version: None,
            }));
    }
    Ok(None)
}

/// API extractor: the caller must be signed in (401 problem otherwise).
pub struct ApiUser(pub CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(state, parts).await? {
            Some(u) => Ok(ApiUser(u)),
            None => Err(
                ApiError::new(StatusCode::UNAUTHORIZED, "sign in first: POST /api/v1/auth/login")
                    .with_header("www-authenticate", "Bearer"),
            ),
        }
    }
}

/// Page extractor: the caller must be signed in (redirect to the login page otherwise).
pub struct PageUser(pub CurrentUser);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = axum::response::Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        match resolve(state, parts).await {
            Ok(Some(u)) => Ok(PageUser(u)),
            Ok(None) | Err(_) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!("/login?next={}", crate::pages::url_encode(next));
                Err(axum::response::Redirect::to(&to).into_response())
            }
        }
    }
}

/// Page extractor for optional sign-in (the header shows who is signed in).
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(resolve(state, parts).await.ok().flatten()))
    }
}
