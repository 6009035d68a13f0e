//! Sign-in and sign-out pages. The login form carries a CSRF token bound to a short-lived
//! cookie (there is no session yet); every later form carries the session's token.

use super::Chrome;
use crate::AppState;
use crate::auth::{self, PageUser, SESSION_COOKIE, constant_time_eq, new_secret, secret_hash};
use crate::error::PageError;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

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

/// Only local paths: never redirect a signed-in officer to another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn login_page(form_csrf: &str, next: &str, username: &str, error: Option<&str>) -> Result<String, PageError> {
    Ok(LoginPage {
        chrome: Chrome::default(),
        form_csrf,
        next: safe_next(next),
        username,
        error,
    }
    .render()?)
}

fn login_csrf_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

pub async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let token = new_secret();
    let html = login_page(&token, &q.next, "", None)?;
    Ok(([(SET_COOKIE, login_csrf_cookie(&state, &token))], Html(html)).into_response())
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

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let cookie_token = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    let fresh = new_secret();
    let retry = |status: StatusCode, msg: &str| -> Result<Response, PageError> {
        let html = login_page(&fresh, &form.next, &form.username, Some(msg))?;
        Ok((
            status,
            [(SET_COOKIE, login_csrf_cookie(&state, &fresh))],
            Html(html),
        )
            .into_response())
    };
    if cookie_token.is_empty() || !constant_time_eq(cookie_token.as_bytes(), form.csrf.as_bytes()) {
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
    let address = auth::client_address(&extensions);
    let user_id = match auth::login_attempt(&state, &form.username, &form.password, &address).await {
        Ok(id) => id,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            return retry(
                StatusCode::TOO_MANY_REQUESTS,
                "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.",
            );
        }
        Err(_) => return Err(PageError::internal()),
    };
    let Some(user_id) = user_id else {
        return retry(
            StatusCode::UNAUTHORIZED,
            "Tên đăng nhập hoặc mật khẩu không đúng.",
        );
    };
    let session = auth::start_session(&state, user_id)
        .await
        .map_err(|_| PageError::internal())?;
    let mut res = Redirect::to(safe_next(&form.next)).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut()
        .append(SET_COOKIE, session.parse().map_err(|_| PageError::internal())?);
    Ok(res)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !user.csrf_ok(&form.csrf) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "Biểu mẫu không hợp lệ (CSRF).".into(),
        });
    }
    if let Some(secret) = auth::cookie(&headers, SESSION_COOKIE) {
        let mut tx = state.db.begin().await?;
        motcua_store::repo::auth::delete_session(&mut tx, &secret_hash(secret)).await?;
        tx.commit().await?;
    }
    let mut res = Redirect::to("/").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut().append(
        SET_COOKIE,
        auth::session_cookie(&state, "", 0)
            .parse()
            .map_err(|_| PageError::internal())?,
    );
    Ok(res)
}
