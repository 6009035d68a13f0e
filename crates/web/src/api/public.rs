//! The citizen's public JSON: dossier lookup by code and verification digits.

use crate::AppState;
use crate::api::extract::{PathParam, QueryParams};
use crate::error::{ApiError, ApiResult, Problem};
use crate::public::{LookupError, PublicDossier, lookup as find};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct VerifyQuery {
    /// The last 4 digits of the applicant's phone number or ID number.
    pub verify: String,
}

pub fn lookup_error(e: LookupError) -> ApiError {
    match e {
        LookupError::NotFound => ApiError::not_found("no dossier with this code and these digits"),
        LookupError::BadVerify => {
            ApiError::bad_request("verify must be the last 4 digits of the applicant's phone or ID number")
        }
        LookupError::TooMany(wait) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many lookups; try again in {wait} s"),
        )
        .with_header("retry-after", wait.to_string()),
    }
}

/// A dossier's progress for the public: masked name, status, timeline, appointment.
#[utoipa::path(get, path = "/api/v1/public/dossiers/{code}", tag = "public", params(("code" = String, Path), VerifyQuery),
    responses((status = 200, body = PublicDossier), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn lookup(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    PathParam(code): PathParam<String>,
    QueryParams(q): QueryParams<VerifyQuery>,
) -> ApiResult<Json<PublicDossier>> {
    let address = crate::auth::client_address(&extensions);
    find(&state, &code, &q.verify, &address)
        .await
        .map(Json)
        .map_err(lookup_error)
}
