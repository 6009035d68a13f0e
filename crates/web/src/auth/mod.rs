//! Who is asking, as HTTP carries it: the officer's session cookie or a bearer token, the
//! citizen's session cookie, the client's address. Resolving them is the services' work
//! (`motcua_service::auth`); this module only reads requests and writes the extractors.

use crate::AppState;
use crate::cookies::cookie;
use crate::error::ApiError;
use crate::layout::{self, SignedIn};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use motcua_service::ServiceResult;
pub use motcua_service::auth::CurrentUser;
use motcua_service::citizens::Citizen;
use std::net::IpAddr;

/// The officer's browser session.
pub const SESSION_COOKIE: &str = "motcua_session";
/// The citizen's browser session.
pub const CITIZEN_COOKIE: &str = "motcua_citizen";

/// The client address of a request (for throttling), or "unknown": as `find_client` found it.
pub fn client_address(extensions: &axum::http::Extensions) -> String {
    match extensions.get::<ClientAddr>() {
        Some(ClientAddr(ip)) => ip.to_string(),
        None => peer(extensions).map_or_else(|| "unknown".into(), |ip| ip.to_string()),
    }
}

/// The client of a request, as `find_client` decided.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

fn peer(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client behind a chain of proxies: the socket's peer, unless it is a trusted proxy; then
/// the last address of `X-Forwarded-For` that is not one (each proxy appends the address it
/// saw, so only the trusted end of the list can be believed).
pub fn client_of(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded.iter().flat_map(|h| h.split(',')).rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            // A hop we cannot read: nothing before it can be trusted.
            Err(_) => return client,
        }
    }
    client
}

/// Middleware: records the request's client (`ClientAddr`) for throttles and logs.
pub async fn find_client(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(peer) = peer(req.extensions()) {
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client = client_of(peer, &forwarded, &state.config.trusted_proxies);
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// Middleware: finds who a page request's cookies sign in (an officer, a citizen, both or
/// nobody) and serves the request with it (`layout::signed_in`), as `i18n::layer` does
/// the language. The API and static files do without.
pub async fn find_signed_in(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/static/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let services = &state.services;
    let officer = match cookie(headers, SESSION_COOKIE) {
        Some(secret) => services.user_of_session(secret).await,
        None => Ok(None),
    };
    let citizen = match cookie(headers, CITIZEN_COOKIE) {
        Some(secret) => services.citizen_of_session(secret).await,
        None => Ok(None),
    };
    let answered = officer.is_ok() && citizen.is_ok();
    let signed = SignedIn::new(officer.ok().flatten(), citizen.ok().flatten(), answered);
    layout::with_signed_in(signed, next.run(req)).await
}

/// Resolves the officer from a bearer token or the session cookie; None if anonymous.
pub async fn resolve(state: &AppState, parts: &Parts) -> ServiceResult<Option<CurrentUser>> {
    let services = &state.services;
    if let Some(auth) = parts.headers.get(AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                motcua_service::ServiceError::Unauthenticated(motcua_domain::msg!("auth.bearer_form"))
            })?;
        return services.user_of_token(token).await;
    }
    match cookie(&parts.headers, SESSION_COOKIE) {
        Some(secret) => match layout::known(|s| s.officer.clone()) {
            Some(officer) => Ok(officer),
            None => services.user_of_session(secret).await,
        },
        None => Ok(None),
    }
}

/// The caller of an API request, as `resolve` finds them; a browser session (a cookie, not a
/// bearer token) that writes (any method but GET, HEAD, OPTIONS) must also send its CSRF token
/// in `X-CSRF-Token`, or a page of another site could write in the officer's name.
pub async fn resolve_api(state: &AppState, parts: &Parts) -> Result<Option<CurrentUser>, ApiError> {
    let user = resolve(state, parts).await?;
    let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(u) = &user
        && writes
        && u.csrf_token.is_some()
    {
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !u.csrf_ok(sent) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                motcua_domain::msg!("auth.api_csrf").en(),
            ));
        }
    }
    Ok(user)
}

/// The signed-in citizen of a request, if any, with the session's CSRF token.
pub async fn citizen(state: &AppState, headers: &axum::http::HeaderMap) -> Option<(Citizen, String)> {
    let secret = cookie(headers, CITIZEN_COOKIE)?;
    match layout::known(|s| s.citizen.clone()) {
        Some(citizen) => citizen,
        None => state.services.citizen_of_session(secret).await.ok().flatten(),
    }
}

/// API extractor: the caller must be signed in (401 problem otherwise).
pub struct ApiUser(pub CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match resolve_api(state, parts).await? {
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
                let to = format!("/login?next={}", crate::urls::url_encode(next));
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

#[cfg(test)]
mod tests {
    use super::client_of;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        // Not from a trusted proxy: the header is anyone's to forge.
        assert_eq!(
            client_of(ip("203.0.113.5"), &["1.2.3.4"], &trusted),
            ip("203.0.113.5")
        );
        // Through two trusted proxies: the last address they did not add is the client's, not a
        // forged one the client put first.
        assert_eq!(
            client_of(proxy, &["6.6.6.6, 198.51.100.7, 10.0.0.2"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_of(proxy, &["6.6.6.6", "198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(client_of(proxy, &[], &trusted), proxy);
        assert_eq!(
            client_of(proxy, &["not-an-ip, 10.0.0.2"], &trusted),
            ip("10.0.0.2")
        );
    }
}
