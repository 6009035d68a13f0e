//! `/tra-cuu`: the citizen's lookup page (the QR on Form 01 lands here). No sign-in.

use crate::AppState;
use crate::error::{PageError, page_message, status_of};
use crate::pages::Chrome;
use crate::pages::common::{Errors, when_or_empty as when};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use motcua_domain::msg;
use motcua_service::public::PublicDossier;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tra-cuu", axum::routing::get(show))
}

/// The form's fields; absent when the page is opened, present (maybe empty) once sent.
#[derive(Deserialize)]
pub struct LookupQuery {
    ma: Option<String>,
    verify: Option<String>,
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
    verify: String,
    errors: Errors,
    found: Option<PublicDossier>,
    received: String,
    due: String,
    steps: Vec<StepRow>,
}

fn timing_vi(t: Option<&str>) -> &'static str {
    t.map(crate::pages::common::timing_vi).unwrap_or("")
}

async fn show(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Query(q): Query<LookupQuery>,
) -> Result<Response, PageError> {
    // Sent by the form (the QR on Form 01 only fills the code in).
    let sent = q.verify.is_some();
    let (ma, verify) = (q.ma.unwrap_or_default(), q.verify.unwrap_or_default());
    let mut page = LookupPage {
        chrome: Chrome::current(),
        code: ma.trim().to_string(),
        verify: verify.trim().to_string(),
        errors: Errors::default(),
        found: None,
        received: String::new(),
        due: String::new(),
        steps: Vec::new(),
    };
    let lang = crate::i18n::lang();
    let mut status = StatusCode::OK;
    if sent {
        // Every error at once, each at its field.
        if let Err(e) = motcua_service::public::lookup_code(&ma) {
            page.errors.push("ma", page_message(&e, lang));
        }
        let digits = verify.trim();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            page.errors.push("verify", msg!("lookup.verify").text(lang));
        }
        if !page.errors.is_empty() {
            status = StatusCode::BAD_REQUEST;
        }
    }
    if sent && page.errors.is_empty() {
        let address = crate::auth::client_address(&extensions);
        match state.services.lookup(&ma, &verify, &address).await {
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
                page.code = d.code.clone();
                page.found = Some(d);
            }
            Err(e) => {
                status = status_of(&e);
                page.errors.push("ma", page_message(&e, lang));
            }
        }
    }
    Ok((status, Html(page.render()?)).into_response())
}
