//! The JSON API under `/api`: one module per resource, each declaring its routes once with
//! the handlers' OpenAPI paths (`utoipa_axum`), so the document lists exactly what is served.

pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod dashboard;
pub mod dossiers;
pub mod dvcqg;
pub mod evaluation;
pub mod extract;
pub mod feedback;
pub mod health;
pub mod payments;
pub mod public;
pub mod reports;
pub mod users;

use crate::AppState;
use crate::error::Problem;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "Hệ thống thông tin một cửa điện tử — JSON API. Errors are `application/problem+json` (RFC 9457). \
Write endpoints take `Authorization: Bearer TOKEN` from `POST /api/v1/auth/login`.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem, health::Health)),
    modifiers(&BearerAuth),
    tags(
        (name = "ops", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Sign-in for API clients"),
        (name = "calendar", description = "Legal time: working calendar, holidays, due instants"),
        (name = "catalog", description = "Agencies, fields and procedures (niêm yết công khai)"),
        (name = "users", description = "Officers, roles and API tokens"),
        (name = "dossiers", description = "Dossier lifecycle: intake, workflow, actions, events"),
        (name = "public", description = "What citizens see without signing in"),
        (name = "reports", description = "Statutory report II.06a"),
        (name = "feedback", description = "Phản ánh, kiến nghị (PAKN): submission, handling, published answers"),
        (name = "evaluation", description = "Service quality: per-dossier indicators, aggregates, Decision 766 index"),
        (name = "payments", description = "The national payment platform's signed notifications"),
        (name = "dvcqg", description = "The national portal (Cổng DVCQG) pushing the dossiers submitted on it"),
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

/// The API's routes and the OpenAPI document of exactly those routes (served at
/// `/api/openapi.json`).
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes())
        .merge(calendar::routes())
        .merge(catalog::routes())
        .merge(users::routes())
        .merge(dossiers::routes())
        .merge(public::routes())
        .merge(feedback::routes())
        .merge(reports::routes())
        .merge(dashboard::routes())
        .merge(evaluation::routes())
        .merge(payments::routes())
        .merge(dvcqg::routes())
        .split_for_parts()
}
