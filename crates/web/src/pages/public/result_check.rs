//! "Kiểm tra tính xác thực của kết quả" (`/kiem-tra-ket-qua`): anyone types the verification
//! code printed with a result, or chooses the file, and learns whether it is a result this
//! system issued — of which procedure and agency, when, under which number; nothing
//! personal. A chosen file is hashed as it arrives and never kept; its form redirects to the
//! answer for its digest (POST → redirect → GET).

use crate::AppState;
use crate::error::PageError;
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{Errors, see_other, when_or_empty};
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use motcua_service::ServiceError;
use motcua_service::authentic::{Authentic, Fingerprint};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "result_check.html")]
struct CheckPage {
    chrome: Chrome,
    code: String,
    errors: Errors,
    /// Asked, and the answer: Some(found) or Some(None) for "not ours".
    answer: Option<Option<Authentic>>,
}

#[derive(Deserialize)]
pub struct CheckQuery {
    #[serde(default)]
    ma: String,
}

fn page(
    status: StatusCode,
    code: String,
    errors: Errors,
    answer: Option<Option<Authentic>>,
) -> Result<Response, PageError> {
    let html = CheckPage {
        chrome: Chrome::current(),
        code,
        errors,
        answer,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

async fn check(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Query(q): Query<CheckQuery>,
) -> Result<Response, PageError> {
    let typed = q.ma.trim().chars().take(200).collect::<String>();
    if typed.is_empty() {
        return page(StatusCode::OK, typed, Errors::default(), None);
    }
    let client = crate::auth::client_address(&extensions);
    match state.services.check_result(&typed, &client).await {
        Ok(found) => page(StatusCode::OK, typed, Errors::default(), Some(found)),
        Err(e @ ServiceError::Invalid(_)) => {
            let errors = Errors::of(&e, i18n::lang(), |_| "ma".into(), "ma");
            page(StatusCode::BAD_REQUEST, typed, errors, None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A chosen file: its digest, then the answer for it.
async fn check_file(mut multipart: Multipart) -> Result<Response, PageError> {
    let mut digest = None;
    let mut refused = None;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        if field.name() != Some("file") {
            continue;
        }
        let mut print = Fingerprint::default();
        loop {
            match field.chunk().await {
                Ok(Some(piece)) => {
                    if let Err(e) = print.update(&piece) {
                        refused = Some(crate::error::page_message(&e, i18n::lang()));
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    refused = Some(i18n::t("submit.file_failed").to_string());
                    break;
                }
            }
        }
        if refused.is_none() {
            digest = print.finish();
        }
        break;
    }
    match (digest, refused) {
        (Some(sha), None) => Ok(see_other(&format!("/kiem-tra-ket-qua?ma={sha}"))),
        (_, refused) => {
            let mut errors = Errors::default();
            errors.push(
                "file",
                refused.unwrap_or_else(|| i18n::t("result.choose_file").to_string()),
            );
            page(StatusCode::UNPROCESSABLE_ENTITY, String::new(), errors, None)
        }
    }
}

/// When a result was issued, as the page shows it.
pub fn issued(a: &Authentic) -> String {
    when_or_empty(a.issued_at)
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route(
        "/kiem-tra-ket-qua",
        get(check)
            .post(check_file)
            .layer(axum::extract::DefaultBodyLimit::max(52 * 1024 * 1024)),
    )
}
