//! Server-rendered pages (Vietnamese first, work without JavaScript) and static assets.

use crate::AppState;
use crate::error::PageError;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing<'a> {
    demo_accounts: &'a [crate::DemoAccount],
    demo_password: &'a str,
    status_counts: Vec<(u8, &'static str, i64)>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", axum::routing::get(landing))
        .route("/static/motcua.css", axum::routing::get(stylesheet))
}

async fn landing(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let counts = motcua_store::repo::dossiers::count_by_status(&state.db).await?;
    let accounts = &state.config.demo_accounts;
    let page = Landing {
        demo_accounts: accounts,
        demo_password: accounts.first().map(|a| a.password.as_str()).unwrap_or(""),
        status_counts: counts
            .into_iter()
            .map(|(s, n)| (s.number(), s.label_vi(), n))
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
        include_str!("../../static/motcua.css"),
    )
}

/// The HTML of an error page (404, 500, …).
pub fn error_page(status: StatusCode, message: &str) -> Result<String, askama::Error> {
    let title = match status {
        StatusCode::NOT_FOUND => "Không tìm thấy trang",
        StatusCode::FORBIDDEN => "Không có quyền truy cập",
        s if s.is_client_error() => "Yêu cầu không hợp lệ",
        _ => "Hệ thống đang gặp sự cố",
    };
    ErrorPage {
        title,
        message,
        status: status.as_u16(),
    }
    .render()
}
