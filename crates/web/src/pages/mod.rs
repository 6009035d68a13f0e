//! Server-rendered pages (Vietnamese first, work without JavaScript) and static assets.

use crate::AppState;
use crate::error::PageError;
pub mod admin_agencies;
pub mod admin_calendar;
pub mod admin_procedures;
pub mod admin_users;
pub mod auth;
pub mod catalog;
pub mod citizen;
pub mod citizen_dossier;
pub mod citizen_submit;
pub mod dashboard;
pub mod dossier_inbox;
pub mod dossier_intake;
pub mod dossier_view;
pub mod evaluation;
pub mod feedback;
pub mod forms;
pub mod lookup;
pub mod reports;

use crate::auth::{CurrentUser, MaybeUser};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};

/// What the base layout needs: who is signed in, the CSRF token for the logout form.
#[derive(Debug, Default, Clone)]
pub struct Chrome {
    pub user_name: Option<String>,
    pub csrf: String,
    pub is_admin: bool,
    /// Holds a role that handles or supervises dossiers.
    pub is_officer: bool,
}

impl Chrome {
    pub fn of(user: Option<&CurrentUser>) -> Self {
        match user {
            None => Chrome::default(),
            Some(u) => Chrome {
                user_name: Some(u.principal.full_name.clone()),
                csrf: u.csrf_token.clone().unwrap_or_default(),
                is_admin: u.is_admin(),
                is_officer: u.principal.roles.iter().any(|(_, _, r)| r != "admin"),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing<'a> {
    chrome: Chrome,
    demo_accounts: &'a [crate::DemoAccount],
    demo_password: &'a str,
    status_counts: Vec<(u8, &'static str, i64)>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
    status: u16,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", axum::routing::get(landing))
        .route("/static/motcua.css", axum::routing::get(stylesheet))
        .route("/login", axum::routing::get(auth::login_form).post(auth::login))
        .route("/logout", axum::routing::post(auth::logout))
        .route("/admin/calendar", axum::routing::get(admin_calendar::show))
        .route(
            "/admin/calendar/overrides",
            axum::routing::post(admin_calendar::add),
        )
        .route(
            "/admin/calendar/overrides/{date}/delete",
            axum::routing::post(admin_calendar::delete),
        )
        .merge(catalog::routes())
        .merge(admin_agencies::routes())
        .merge(admin_procedures::routes())
        .merge(admin_users::routes())
        .merge(dossier_inbox::routes())
        .merge(dossier_intake::routes())
        .merge(dossier_view::routes())
        .merge(forms::routes())
        .merge(reports::routes())
        .merge(dashboard::routes())
        .route("/tra-cuu", axum::routing::get(lookup::show))
        .route("/ngon-ngu/{lang}", axum::routing::get(lookup::switch_language))
        .merge(citizen::routes())
        .merge(citizen_submit::routes())
        .merge(citizen_dossier::routes())
        .merge(feedback::routes())
        .merge(evaluation::routes())
}

async fn landing(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> Result<Html<String>, PageError> {
    // Counting reads every dossier: one count serves every visitor for 30 s.
    let counts = state
        .landing_counts
        .get_or_try(std::time::Instant::now(), || {
            motcua_store::repo::dossiers::count_by_status(&state.db)
        })
        .await?;
    let accounts = &state.config.demo_accounts;
    let page = Landing {
        chrome: Chrome::of(user.as_ref()),
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
        include_str!("../../static/motcua.css"),
    )
}

/// The HTML of an error page (404, 500, …), in the language of the request. Messages other
/// modules wrote in Vietnamese are translated when the table knows them.
pub fn error_page(status: StatusCode, message: &str) -> Result<String, askama::Error> {
    let title = crate::i18n::t(match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::FORBIDDEN => "error.forbidden",
        StatusCode::UNAUTHORIZED => "error.unauthorized",
        s if s.is_client_error() => "error.bad_request",
        _ => "error.internal",
    });
    ErrorPage {
        chrome: Chrome::default(),
        title,
        message: &crate::i18n::message(message),
        status: status.as_u16(),
    }
    .render()
}

/// Percent-encodes a string for a query parameter.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A 303 See Other to a local path: where every successful form POST goes next.
pub fn see_other(to: &str) -> axum::response::Response {
    axum::response::Redirect::to(to).into_response()
}
