//! Signing in with the national identity (VNeID) under `/cong-dan/vneid`: the start, the
//! provider's callback, and the page confirming a link to an existing account. The sign-in
//! in flight is bound to this browser by a short-lived cookie; the use cases decide.

use crate::AppState;
use crate::auth::{CITIZEN_COOKIE, citizen};
use crate::cookies::{Cookie, cookie};
use crate::error::PageError;
use crate::i18n;
use crate::pages::common::{Errors, csrf_rejected, see_other};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use motcua_service::auth::constant_time_eq;
use motcua_service::citizens::SESSION_HOURS;
use motcua_service::vneid::{FLOW_MINUTES, Finished, Vneid, VneidError};
use serde::Deserialize;

/// The cookie binding a sign-in in flight (or a link waiting for confirmation) to the
/// browser that started it. SameSite=Lax: the provider sends the browser back with a
/// top-level GET.
const FLOW_COOKIE: &str = "motcua_vneid";
const FLOW_PATH: &str = "/cong-dan/vneid";
/// The callback registered with the provider, under `PUBLIC_URL`.
pub const CALLBACK_PATH: &str = "/cong-dan/vneid/ve";
const CONFIRM_PATH: &str = "/cong-dan/vneid/xac-nhan";

fn flow_cookie(state: &AppState, value: &str) -> String {
    let max_age = if value.is_empty() { 0 } else { FLOW_MINUTES * 60 };
    state.set_cookie(Cookie {
        path: FLOW_PATH,
        ..Cookie::new(FLOW_COOKIE, value, max_age)
    })
}

/// The provider, or a 404 where none is configured.
fn provider(state: &AppState) -> Result<&Vneid, PageError> {
    state.config.vneid.as_deref().ok_or_else(PageError::not_found)
}

/// A failed sign-in as a page: the provider down is a 503, a refused answer a 400, each
/// saying what happened and what to do.
fn failure(state: &AppState, e: VneidError) -> Result<Response, PageError> {
    let lang = i18n::lang();
    let page = match e {
        VneidError::Unreachable => PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            motcua_domain::msg!("vneid.down").text(lang),
        ),
        VneidError::Refused(m) => PageError::new(StatusCode::BAD_REQUEST, m.text(lang)),
        VneidError::Service(e) => PageError::from(e),
    };
    // Whatever was in flight is over: the cookie goes too.
    Ok(([(SET_COOKIE, flow_cookie(state, ""))], page).into_response())
}

#[derive(Deserialize, Default)]
pub struct StartQ {
    next: Option<String>,
}

/// "Đăng nhập bằng VNeID": to the provider, with this browser's sign-in kept.
async fn start(State(state): State<AppState>, Query(q): Query<StartQ>) -> Result<Response, PageError> {
    let v = provider(&state)?;
    let next = super::after_sign_in(q.next.as_deref());
    match state.services.vneid_start(v, None, &next).await {
        Ok(s) => Ok((
            [(SET_COOKIE, flow_cookie(&state, &s.secret))],
            see_other(&s.authorize_url),
        )
            .into_response()),
        Err(e) => failure(&state, e),
    }
}

#[derive(Deserialize, Default)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// A signed-in citizen links their account: to the provider, then confirm.
async fn start_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LinkForm>,
) -> Result<Response, PageError> {
    let v = provider(&state)?;
    let Some((c, csrf)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then("/cong-dan"));
    };
    if !constant_time_eq(csrf.as_bytes(), f.csrf.as_bytes()) {
        return Err(csrf_rejected());
    }
    match state.services.vneid_start(v, Some(c.id), "/cong-dan").await {
        Ok(s) => Ok((
            [(SET_COOKIE, flow_cookie(&state, &s.secret))],
            see_other(&s.authorize_url),
        )
            .into_response()),
        Err(e) => failure(&state, e),
    }
}

#[derive(Deserialize, Default)]
pub struct CallbackQ {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    error: Option<String>,
}

/// The provider sends the browser back here with `state` and `code` (or `error`).
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQ>,
) -> Result<Response, PageError> {
    let v = provider(&state)?;
    let secret = cookie(&headers, FLOW_COOKIE).unwrap_or_default();
    match state
        .services
        .vneid_finish(v, secret, &q.state, &q.code, q.error.as_deref())
        .await
    {
        Ok(Finished::SignedIn { session, next, .. }) => {
            let signed_in = state.set_cookie(Cookie::new(CITIZEN_COOKIE, &session, SESSION_HOURS * 3600));
            Ok((
                // Both cookies: an array of headers would keep only the last.
                AppendHeaders([(SET_COOKIE, signed_in), (SET_COOKIE, flow_cookie(&state, ""))]),
                see_other(&next),
            )
                .into_response())
        }
        Ok(Finished::ConfirmLink { secret }) => Ok((
            [(SET_COOKIE, flow_cookie(&state, &secret))],
            see_other(CONFIRM_PATH),
        )
            .into_response()),
        Err(e) => failure(&state, e),
    }
}

fn confirm_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    full_name: &str,
    errors: Errors,
) -> Result<Response, PageError> {
    let label = provider(state)?.label();
    let title = i18n::t1("citizen.vneid_link_title", label);
    let intro = i18n::fill(i18n::t("citizen.vneid_link_intro"), &[&label, &full_name, &login]);
    super::account::render(
        state,
        status,
        &title,
        &intro,
        CONFIRM_PATH,
        vec![super::account::field(
            "password",
            i18n::t("citizen.password"),
            "password",
            "",
            "current-password",
        )],
        errors,
        i18n::t("citizen.vneid_link_submit"),
        vec![("/cong-dan/quen-mat-khau", i18n::t("citizen.forgot_link"))],
        None,
        None,
    )
}

/// The pending link of this browser, or the page saying it is gone.
async fn pending_of(state: &AppState, headers: &HeaderMap) -> Result<Option<(String, String)>, PageError> {
    let secret = cookie(headers, FLOW_COOKIE).unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(state
        .services
        .vneid_pending(secret)
        .await?
        .map(|p| (p.login, p.full_name)))
}

async fn confirm_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    provider(&state)?;
    match pending_of(&state, &headers).await? {
        Some((login, name)) => confirm_page(&state, StatusCode::OK, &login, &name, Errors::default()),
        None => failure(&state, VneidError::Refused(motcua_domain::msg!("vneid.state"))),
    }
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(f): Form<LinkForm>,
) -> Result<Response, PageError> {
    provider(&state)?;
    let Some((login, name)) = pending_of(&state, &headers).await? else {
        return failure(&state, VneidError::Refused(motcua_domain::msg!("vneid.state")));
    };
    if !super::account::csrf_ok(&headers, &f.csrf) {
        let mut e = Errors::default();
        e.push("password", i18n::t("form.expired"));
        return confirm_page(&state, StatusCode::FORBIDDEN, &login, &name, e);
    }
    let secret = cookie(&headers, FLOW_COOKIE).unwrap_or_default();
    let address = crate::auth::client_address(&extensions);
    match state
        .services
        .vneid_confirm_link(secret, &f.password, &address)
        .await
    {
        Ok((session, next)) => {
            let signed_in = state.set_cookie(Cookie::new(CITIZEN_COOKIE, &session, SESSION_HOURS * 3600));
            Ok((
                // Both cookies: an array of headers would keep only the last.
                AppendHeaders([(SET_COOKIE, signed_in), (SET_COOKIE, flow_cookie(&state, ""))]),
                see_other(&next),
            )
                .into_response())
        }
        Err(VneidError::Service(e)) => {
            let status = crate::error::status_of(&e);
            let errors = Errors::of(&e, i18n::lang(), str::to_string, "password");
            confirm_page(&state, status, &login, &name, errors)
        }
        Err(e) => failure(&state, e),
    }
}

/// The sign-in page's way to VNeID, when it is configured: (address, button text).
pub fn sign_in_button(state: &AppState, next: Option<&str>) -> Option<(String, String)> {
    let v = state.config.vneid.as_deref()?;
    let href = match next {
        Some(n) if super::after_sign_in(Some(n)) != "/cong-dan" => {
            format!("{FLOW_PATH}?next={}", crate::pages::common::url_encode(n.trim()))
        }
        _ => FLOW_PATH.to_string(),
    };
    Some((href, i18n::t1("citizen.vneid_sign_in", v.label())))
}

/// Signs a citizen out: the local session ends, and a session that came from VNeID ends at
/// the provider too (the browser goes to its sign-out with the ID token as hint).
pub async fn sign_out(state: &AppState, secret: &str) -> Result<String, PageError> {
    let to = state
        .services
        .vneid_sign_out(state.config.vneid.as_deref(), secret)
        .await?;
    Ok(to.unwrap_or_else(|| "/".to_string()))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(FLOW_PATH, get(start))
        .route("/cong-dan/vneid/lien-ket", post(start_link))
        .route(CALLBACK_PATH, get(callback))
        .route(CONFIRM_PATH, get(confirm_form).post(confirm))
}
