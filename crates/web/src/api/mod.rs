//! The JSON API under `/api`: one module per resource, all listed in the OpenAPI document.

pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod dashboard;
pub mod dossiers;
pub mod evaluation;
pub mod extract;
pub mod feedback;
pub mod health;
pub mod public;
pub mod reports;
pub mod users;

use crate::AppState;
use crate::error::Problem;
use axum::Router;
use axum::routing::{delete, get, post, put};
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
        catalog::list_agencies, catalog::put_agency, catalog::list_fields, catalog::list_procedures,
        catalog::get_procedure, catalog::put_procedure, catalog::upload_file,
        users::me, users::agency_users, users::list_users, users::create_user, users::update_user,
        users::create_token, users::list_tokens, users::revoke_token,
        dossiers::create, dossiers::get, dossiers::list, dossiers::act, dossiers::events, dossiers::upload,
        public::lookup,
        feedback::submit, feedback::public_list, feedback::list, feedback::get_one, feedback::act,
        reports::ii06a, reports::ii06a_dossiers, dashboard::get,
        evaluation::dossier, evaluation::aggregates, evaluation::index766, evaluation::get_scales,
        evaluation::put_scales,
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
        .route("/api/v1/agencies", get(catalog::list_agencies))
        .route("/api/v1/agencies/{code}", put(catalog::put_agency))
        .route("/api/v1/agencies/{code}/users", get(users::agency_users))
        .route("/api/v1/fields", get(catalog::list_fields))
        .route("/api/v1/procedures", get(catalog::list_procedures))
        .route(
            "/api/v1/procedures/{code}",
            get(catalog::get_procedure).put(catalog::put_procedure),
        )
        .route(
            "/api/v1/files",
            post(catalog::upload_file)
                .layer(axum::extract::DefaultBodyLimit::max(catalog::MAX_FORM_BYTES + 1)),
        )
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/public/dossiers/{code}", get(public::lookup))
        .route("/api/v1/reports/ii06a", get(reports::ii06a))
        .route("/api/v1/reports/ii06a/dossiers", get(reports::ii06a_dossiers))
        .route("/api/v1/dashboard", get(dashboard::get))
        .route("/api/v1/dossiers", get(dossiers::list).post(dossiers::create))
        .route("/api/v1/dossiers/{code}", get(dossiers::get))
        .route("/api/v1/dossiers/{code}/events", get(dossiers::events))
        .route("/api/v1/dossiers/{code}/actions/{action}", post(dossiers::act))
        .route(
            "/api/v1/uploads",
            post(dossiers::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::dossiers::MAX_SCAN_BYTES + 1,
            )),
        )
        .route("/api/v1/users", get(users::list_users).post(users::create_user))
        .route("/api/v1/users/{username}", put(users::update_user))
        .route(
            "/api/v1/tokens",
            get(users::list_tokens).post(users::create_token),
        )
        .route("/api/v1/tokens/{id}", delete(users::revoke_token))
        .merge(feedback::routes())
        .merge(evaluation::routes())
}
