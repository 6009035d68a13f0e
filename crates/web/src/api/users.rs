//! Officers and tokens over JSON: who am I, officers of an agency (scoped), user management
//! (administrators), long-lived API tokens (hashed at rest, shown once, revocable).

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::ApiUser;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_service::users::{self as users, RoleInput, UserInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(agency_users))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub full_name: String,
    pub disabled: bool,
    pub roles: Vec<RoleInput>,
}

impl From<users::UserView> for UserView {
    fn from(u: users::UserView) -> Self {
        UserView {
            username: u.username,
            full_name: u.full_name,
            disabled: u.disabled,
            roles: u
                .roles
                .into_iter()
                .map(|(agency, role)| RoleInput {
                    agency,
                    role: role.as_str().to_string(),
                })
                .collect(),
        }
    }
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(ApiUser(user): ApiUser) -> Json<UserView> {
    Json(UserView {
        username: user.principal.username.clone(),
        full_name: user.principal.full_name.clone(),
        disabled: false,
        roles: user
            .principal
            .roles
            .iter()
            .map(|(_, agency, role)| RoleInput {
                agency: agency.clone(),
                role: role.as_str().to_string(),
            })
            .collect(),
    })
}

/// Officers holding a role in an agency: for its members, supervisors above it and administrators.
#[utoipa::path(get, path = "/api/v1/agencies/{code}/users", tag = "users", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [UserView]), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn agency_users(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
) -> ApiResult<Json<Vec<UserView>>> {
    let list = state.services.agency_users(&user, &code).await?;
    Ok(Json(list.into_iter().map(UserView::from).collect()))
}

/// Every user (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = [UserView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Vec<UserView>>> {
    let list = state.services.users(&user).await?;
    Ok(Json(list.into_iter().map(UserView::from).collect()))
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput, security(("bearer" = [])),
    responses((status = 201, body = UserView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Body(input): Body<UserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let u = state.services.save_user(&user, input, true).await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

/// Updates a user's name, password, status and roles (administrators).
#[utoipa::path(put, path = "/api/v1/users/{username}", tag = "users", request_body = UserInput, params(("username" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn update_user(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(username): PathParam<String>,
    Body(mut input): Body<UserInput>,
) -> ApiResult<Json<UserView>> {
    input.username = username;
    let u = state.services.save_user(&user, input, false).await?;
    Ok(Json(u.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the token is for, e.g. `dvcqg-sync`.
    pub name: String,
    /// Whose token (administrators only; default: yourself).
    #[serde(default)]
    pub username: Option<String>,
    /// Expiry in days (default: never; revoke when no longer needed).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    /// The secret, shown this once; only its hash is stored.
    pub token: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Issues a long-lived API token for a machine client.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = TokenRequest, security(("bearer" = [])),
    responses((status = 201, body = TokenCreated), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Body(req): Body<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let t = state
        .services
        .create_token(&user, &req.name, req.username.as_deref(), req.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: t.id,
            token: t.secret,
            expires_at: t.expires_at,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Administrators: list everyone's tokens with `all=true`.
    #[serde(default)]
    pub all: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Your API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", params(TokenQuery), security(("bearer" = [])),
    responses((status = 200, body = [TokenView])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<TokenQuery>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let list = state.services.tokens(&user, q.all).await?;
    Ok(Json(
        list.into_iter()
            .map(|t| TokenView {
                id: t.id,
                username: t.username,
                name: t.name,
                created_at: t.created_at,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
            })
            .collect(),
    ))
}

/// Revokes an API token (your own, or any as administrator).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(id): PathParam<i64>,
) -> ApiResult<StatusCode> {
    state.services.revoke_token(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
