//! `/tra-cuu`: the citizen's lookup page (the QR on Form 01 lands here). No sign-in.

use crate::AppState;
use crate::error::{PageError, page_message, status_of};
use crate::pages::Chrome;
use crate::pages::common::when_or_empty as when;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use motcua_service::public::PublicDossier;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tra-cuu", axum::routing::get(show))
}

#[derive(Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    ma: String,
    #[serde(default)]
    verify: String,
}

pub struct StepRow {
    pub name: String,
    pub agency: String,
    pub started: String,
    pub completed: String,
    pub timing: &'static str,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    chrome: Chrome,
    code: String,
    error: Option<String>,
    found: Option<PublicDossier>,
    received: String,
    due: String,
    steps: Vec<StepRow>,
}

fn timing_vi(t: Option<&str>) -> &'static str {
    match t {
        Some("early") => "Sớm hạn",
        Some("on_time") => "Đúng hạn",
        Some("late") => "Trễ hạn",
        Some("within_time") => "Đang xử lý, trong hạn",
        Some("overdue") => "Đang xử lý, quá hạn",
        _ => "",
    }
}

async fn show(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Query(q): Query<LookupQuery>,
) -> Result<Response, PageError> {
    let mut page = LookupPage {
        chrome: Chrome::current(),
        code: q.ma.trim().to_string(),
        error: None,
        found: None,
        received: String::new(),
        due: String::new(),
        steps: Vec::new(),
    };
    let mut status = StatusCode::OK;
    if !q.ma.trim().is_empty() && !q.verify.trim().is_empty() {
        let address = crate::auth::client_address(&extensions);
        match state.services.lookup(&q.ma, &q.verify, &address).await {
            Ok(d) => {
                page.received = when(d.received_at);
                page.due = when(d.due_at);
                page.steps = d
                    .steps
                    .iter()
                    .map(|s| StepRow {
                        name: s.name.clone(),
                        agency: s.agency.clone().unwrap_or_default(),
                        started: when(s.started_at),
                        completed: when(s.completed_at),
                        timing: timing_vi(s.timing.as_deref()),
                    })
                    .collect();
                page.found = Some(d);
            }
            Err(e) => {
                status = status_of(&e);
                page.error = Some(page_message(&e, crate::i18n::lang()));
            }
        }
    }
    Ok((status, Html(page.render()?)).into_response())
}
