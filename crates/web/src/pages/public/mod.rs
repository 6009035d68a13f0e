//! What anyone can open without signing in: the landing page, the catalog of procedures,
//! the dossier lookup, feedback and its published answers, the stylesheet, the language.

pub(crate) mod catalog;
mod feedback;
mod lookup;
pub mod result_check;

pub use catalog::{
    Choice, LEVEL_CHOICES, form_url, level_vi, levels_vi, limit_vi, method_vi, money, page_of, role_vi,
    thousandths_vi, vnd_en,
};

use super::Chrome;
use crate::AppState;
use crate::cookies::Cookie;
use crate::error::PageError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing<'a> {
    chrome: Chrome,
    demo_accounts: &'a [crate::DemoAccount],
    demo_password: &'a str,
    status_counts: Vec<(u8, &'static str, i64)>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/static/motcua.css", get(stylesheet))
        .route("/ngon-ngu/{lang}", get(switch_language))
        .merge(catalog::routes())
        .merge(lookup::routes())
        .merge(result_check::routes())
        .merge(feedback::routes())
}

async fn landing(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let counts = state.services.dossiers_by_status().await?;
    let accounts = &state.config.demo_accounts;
    let page = Landing {
        chrome: Chrome::current(),
        demo_accounts: accounts,
        demo_password: accounts.first().map(|a| a.password.as_str()).unwrap_or(""),
        status_counts: counts
            .iter()
            .map(|&(s, n)| (s.number(), crate::i18n::status_label(s), n))
            .collect(),
    };
    Ok(Html(page.render()?))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/motcua.css"),
    )
}

/// `/ngon-ngu/{lang}`: switches the page language (cookie) and returns to where the user was.
async fn switch_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    headers: HeaderMap,
) -> Response {
    let code = if lang == "en" { "en" } else { "vi" };
    // Back to the page the user came from, when it is ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let mut res = axum::response::Redirect::to(&back).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    let cookie = Cookie {
        http_only: false,
        ..Cookie::new(crate::i18n::COOKIE, code, 31_536_000)
    };
    if let Ok(v) = state.set_cookie(cookie).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
