//! `GET /api/v1/dashboard`: the officers' dashboard as JSON — twelve months of figures per
//! agency, overdue and due-soon dossiers, open work per officer and agency. Built by
//! `Services::dashboard`, the same as the page.

use crate::AppState;
use crate::api::extract::QueryParams;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use motcua_service::dashboard::Dashboard;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Agency code: that agency and the ones below it.
    pub agency: Option<String>,
}

/// The dashboard over what the caller may see, as of now.
#[utoipa::path(get, path = "/api/v1/dashboard", operation_id = "get_dashboard", tag = "reports", params(DashboardQuery), security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let agency = q.agency.as_deref().map(str::trim).filter(|a| !a.is_empty());
    Ok(Json(state.services.dashboard(&user, agency).await?))
}
