//! The JSON API under `/api`: one module per resource, all listed in the OpenAPI document.

pub mod auth;
pub mod calendar;
pub mod extract;
pub mod health;

use crate::AppState;
use crate::error::Problem;
use axum::Router;
use axum::routing::{get, post, put};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "Hệ thống thông tin một cửa điện tử — JSON API. Errors are `application/problem+json` (RFC 9457). \
Write endpoints take `Authorization: Bearer TOKEN` from `POST /api/v1/auth/login`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::login,
        calendar::year, calendar::due, calendar::list_overrides, calendar::put_override,
        calendar::delete_override, calendar::import,
    ),
    components(schemas(Problem, health::Health)),
    modifiers(&BearerAuth),
    tags(
        (name = "ops", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Sign-in for API clients"),
        (name = "calendar", description = "Legal time: working calendar, holidays, due instants"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The OpenAPI document served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/calendar/due", post(calendar::due))
        .route("/api/v1/calendar/overrides", get(calendar::list_overrides))
        .route("/api/v1/calendar/overrides/import", post(calendar::import))
        .route(
            "/api/v1/calendar/overrides/{date}",
            put(calendar::put_override).delete(calendar::delete_override),
        )
        .route("/api/v1/calendar/{year}", get(calendar::year))
}
