//! Sign-in and sign-out pages. The login form carries a CSRF token bound to a short-lived
//! cookie (there is no session yet); every later form carries the session's token. Signing
//! in without a `next` lands on the officer's work list.

use crate::AppState;
use crate::auth::{CurrentUser, PageUser, SESSION_COOKIE, client_address};
use crate::cookies::{Cookie, cookie};
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{CsrfForm, FormToken, csrf_rejected, form_token_ok, same_site_path, see_other};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use motcua_domain::access::Role;
use motcua_service::ServiceError;
use motcua_service::auth::SESSION_HOURS;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

const LOGIN_CSRF_COOKIE: &str = "motcua_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Chrome,
    form_csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

fn login_page(form_csrf: &str, next: &str, username: &str, error: Option<&str>) -> Result<String, PageError> {
    Ok(LoginPage {
        chrome: Chrome::current(),
        form_csrf,
        // No `next` stays none: the officer then lands on their work list.
        next: if next.trim().is_empty() {
            ""
        } else {
            same_site_path(next)
        },
        username,
        error,
    }
    .render()?)
}

/// The login form's token, in its cookie for an hour.
fn login_token(state: &AppState) -> FormToken {
    FormToken::new(state, LOGIN_CSRF_COOKIE, "/login", 3600)
}

async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let t = login_token(&state);
    let html = login_page(&t.token, &q.next, "", None)?;
    Ok(([(SET_COOKIE, t.set_cookie)], Html(html)).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let retry = |status: StatusCode, msg: &str| -> Result<Response, PageError> {
        let t = login_token(&state);
        let html = login_page(&t.token, &form.next, &form.username, Some(msg))?;
        Ok((status, [(SET_COOKIE, t.set_cookie)], Html(html)).into_response())
    };
    if !form_token_ok(&headers, LOGIN_CSRF_COOKIE, &form.csrf) {
        return retry(
            StatusCode::BAD_REQUEST,
            "Phiên biểu mẫu đã hết hạn. Vui lòng đăng nhập lại.",
        );
    }
    if form.username.trim().is_empty() || form.password.is_empty() {
        return retry(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nhập tên đăng nhập và mật khẩu.",
        );
    }
    let address = client_address(&extensions);
    let user_id = match state
        .services
        .sign_in(&form.username, &form.password, &address)
        .await
    {
        Ok(id) => id,
        Err(e @ ServiceError::TooMany { .. }) => {
            return retry(
                StatusCode::TOO_MANY_REQUESTS,
                &crate::error::page_message(&e, crate::i18n::lang()),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let Some(user_id) = user_id else {
        return retry(
            StatusCode::UNAUTHORIZED,
            "Tên đăng nhập hoặc mật khẩu không đúng.",
        );
    };
    let secret = state.services.start_session(user_id).await?;
    let to = match form.next.trim() {
        "" => work_list(state.services.user_of_session(&secret).await?.as_ref()),
        next => same_site_path(next),
    };
    let cookie = state.set_cookie(Cookie::new(SESSION_COOKIE, &secret, SESSION_HOURS * 3600));
    Ok(([(SET_COOKIE, cookie)], see_other(to)).into_response())
}

/// Where an officer lands after signing in without a `next`: their work list, on the tab
/// of their first job — the online queue for the desk, what is assigned to them for a
/// specialist, their agencies' open steps for the other handling roles, everything they may
/// see for a supervisor; an administrator's catalog.
fn work_list(user: Option<&CurrentUser>) -> &'static str {
    let Some(u) = user else { return "/" };
    let handles = u.principal.roles.iter().any(|(_, _, r)| r.is_officer());
    if u.has_role(Role::ReceivingOfficer) {
        "/ho-so?inbox=queue"
    } else if u.has_role(Role::Specialist) {
        "/ho-so?inbox=mine"
    } else if handles {
        "/ho-so?inbox=unit"
    } else if u.is_officer() {
        "/ho-so"
    } else if u.is_admin() {
        "/admin/agencies"
    } else {
        "/"
    }
}

async fn logout(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.services.end_session(secret).await?;
    }
    let cleared = state.set_cookie(Cookie::new(SESSION_COOKIE, "", 0));
    Ok(([(SET_COOKIE, cleared)], see_other("/")).into_response())
}
