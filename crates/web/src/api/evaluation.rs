//! `/api/v1/evaluation…`: one dossier's nine indicators, aggregates per officer / agency /
//! procedure, the Decision 766 index and its scales (docs/evaluation.md). Work in `motcua_service::evaluation`.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::ApiUser;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use motcua_domain::evaluation::Scales;
use motcua_service::evaluation::{Aggregates, DossierReport, IndexReport, RawQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(aggregates))
        .routes(routes!(index766))
        .routes(routes!(get_scales, put_scales))
        .routes(routes!(dossier))
}

/// The nine indicators (2/1/0) of one dossier, with the citizen's answers when given.
#[utoipa::path(get, path = "/api/v1/evaluation/dossiers/{code}", tag = "evaluation",
    params(("code" = String, Path, description = "dossier code or online-ID")), security(("bearer" = [])),
    responses((status = 200, body = DossierReport), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn dossier(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
) -> ApiResult<Json<DossierReport>> {
    Ok(Json(state.services.evaluate_dossier(&user, &code).await?))
}

/// Average indicator scores and satisfaction shares of the dossiers finished in a period,
/// grouped by officer, agency or procedure, within what the caller may see.
#[utoipa::path(get, path = "/api/v1/evaluation", tag = "evaluation", params(RawQuery), security(("bearer" = [])),
    responses((status = 200, body = Aggregates), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn aggregates(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<RawQuery>,
) -> ApiResult<Json<Aggregates>> {
    let req = q.parse()?;
    Ok(Json(state.services.evaluation_aggregates(&user, &req).await?))
}

/// The Decision 766 index (100 points) of an agency's subtree, or of all the caller may see.
#[utoipa::path(get, path = "/api/v1/evaluation/index766", tag = "evaluation", params(RawQuery), security(("bearer" = [])),
    responses((status = 200, body = IndexReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn index766(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<RawQuery>,
) -> ApiResult<Json<IndexReport>> {
    let req = q.parse()?;
    Ok(Json(state.services.index766(&user, &req).await?))
}

/// The sub-point scales of the Decision 766 index in force.
#[utoipa::path(get, path = "/api/v1/evaluation/scales", tag = "evaluation", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
pub async fn get_scales(State(state): State<AppState>, ApiUser(_user): ApiUser) -> ApiResult<Json<Scales>> {
    Ok(Json(state.services.evaluation_scales().await?))
}

/// Replaces the sub-point scales (administrators). Missing keys take their defaults; each
/// group must add up to its maximum (18, 20, 22, 22, 18), else 400 saying which.
#[utoipa::path(put, path = "/api/v1/evaluation/scales", tag = "evaluation", request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn put_scales(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Body(body): Body<serde_json::Value>,
) -> ApiResult<Json<Scales>> {
    Ok(Json(state.services.set_evaluation_scales(&user, &body).await?))
}
