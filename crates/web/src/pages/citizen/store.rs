//! The citizen's electronic data store (`/cong-dan/kho-du-lieu`): the results issued to them
//! and the documents they handed in, each downloadable by its owner and offered for reuse in
//! later submissions (DOMAIN.md §9; Decree 118/2025).

use crate::AppState;
use crate::auth::citizen;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{file_response, url_encode};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};

/// One file as the page lists it.
struct Row {
    name: String,
    dossier: String,
    is_result: bool,
    result_number: String,
    at: String,
    href: String,
    /// The result's verification code (the public check).
    verification: String,
}

#[derive(Template)]
#[template(path = "citizen_store.html")]
struct StorePage {
    chrome: Chrome,
    results: Vec<Row>,
    documents: Vec<Row>,
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some((c, _)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then("/cong-dan/kho-du-lieu"));
    };
    let (results, documents) = state
        .services
        .data_store(c.id)
        .await?
        .into_iter()
        .map(|f| Row {
            href: format!("/cong-dan/kho-du-lieu/{}", url_encode(&f.sha256)),
            verification: match f.is_result {
                true => motcua_domain::authentic::verification_code(&f.sha256),
                false => String::new(),
            },
            at: f
                .at
                .map(|t| {
                    motcua_domain::calendar::to_local(t)
                        .format("%d/%m/%Y")
                        .to_string()
                })
                .unwrap_or_default(),
            name: f.name,
            dossier: f.dossier,
            is_result: f.is_result,
            result_number: f.result_number.unwrap_or_default(),
        })
        .partition(|r| r.is_result);
    let page = StorePage {
        chrome: Chrome::current(),
        results,
        documents,
    };
    Ok(Html(page.render()?).into_response())
}

/// Downloads a file of the citizen's own store; any other is not found.
async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sha256): Path<String>,
) -> Result<Response, PageError> {
    let Some((c, _)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then(&format!(
            "/cong-dan/kho-du-lieu/{}",
            url_encode(&sha256)
        )));
    };
    let (meta, bytes) = state.services.own_stored_file(c.id, &sha256).await?;
    Ok(file_response(&meta, bytes, true))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/cong-dan/kho-du-lieu", get(list))
        .route("/cong-dan/kho-du-lieu/{sha256}", get(download))
}
