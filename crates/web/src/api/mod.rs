//! The JSON API under `/api`: one module per resource, all listed in the OpenAPI document.

pub mod health;

use crate::AppState;
use crate::error::Problem;
use axum::Router;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "Hệ thống thông tin một cửa điện tử — JSON API. Errors are `application/problem+json`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(health::healthz, health::readyz, health::metrics),
    components(schemas(Problem, health::Health)),
    tags((name = "ops", description = "Liveness, readiness and metrics"))
)]
pub struct ApiDoc;

/// The OpenAPI document served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .route("/metrics", axum::routing::get(health::metrics))
}
