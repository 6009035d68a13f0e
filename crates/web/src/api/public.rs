//! The citizen's public JSON: dossier lookup by code and verification digits.

use crate::AppState;
use crate::api::extract::{PathParam, QueryParams};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use motcua_service::public::PublicDossier;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(lookup))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The last 4 digits of the applicant's phone number or ID number.
    pub verify: String,
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
    Ok(Json(state.services.lookup(&code, &q.verify, &address).await?))
}
