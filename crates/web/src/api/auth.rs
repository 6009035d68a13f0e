//! `POST /api/v1/auth/login`: username and password in, bearer token out.

use crate::AppState;
use crate::api::extract::Body;
use crate::auth::{LOGIN_TOKEN_HOURS, check_password, issue_token};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
))]
pub async fn login(
    State(state): State<AppState>,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let Some(user_id) = check_password(&state, &req.username, &req.password).await? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong username or password",
        ));
    };
    let token = issue_token(&state, user_id, "login", "login", Some(LOGIN_TOKEN_HOURS)).await?;
    Ok(Json(LoginResponse {
        token,
        token_type: "Bearer",
        expires_at: Utc::now() + Duration::hours(LOGIN_TOKEN_HOURS),
    }))
}
