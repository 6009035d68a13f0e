//! `POST /api/v1/auth/login`: username and password in, bearer token out.

use crate::AppState;
use crate::api::extract::Body;
use crate::auth::client_address;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use motcua_domain::access::TokenKind;
use motcua_service::auth::LOGIN_TOKEN_HOURS;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer TOKEN`.
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
}

/// Exchanges a username and password for a bearer token (valid 12 hours).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "wrong username or password"),
    (status = 429, body = Problem, content_type = "application/problem+json", description = "too many failures: wait Retry-After seconds"),
))]
pub async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let address = client_address(&extensions);
    let services = &state.services;
    let Some(user_id) = services.sign_in(&req.username, &req.password, &address).await? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong username or password",
        ));
    };
    let token = services
        .issue_token(user_id, "login", TokenKind::Login, Some(LOGIN_TOKEN_HOURS))
        .await?;
    Ok(Json(LoginResponse {
        token,
        token_type: "Bearer",
        expires_at: services.now() + Duration::hours(LOGIN_TOKEN_HOURS),
    }))
}
