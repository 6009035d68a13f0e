//! `GET /api/v1/reports/ii06a` and the dossiers behind a number: the statutory report II.06a
//! over what the caller may see (docs/reports.md). The work is in `motcua_service::reports`.

use crate::AppState;
use crate::api::extract::QueryParams;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use motcua_domain::report::Column;
use motcua_service::reports::{CellDossier, RawRequest, Report};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ii06a))
        .routes(routes!(ii06a_dossiers))
}

/// II.06a for a date range: rows by field, procedure or agency, and the total.
#[utoipa::path(get, path = "/api/v1/reports/ii06a", tag = "reports", params(RawRequest), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn ii06a(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<RawRequest>,
) -> ApiResult<Json<Report>> {
    let req = q.parse()?;
    Ok(Json(state.services.ii06a(&user, &req).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CellQuery {
    pub from: String,
    pub to: String,
    pub agency: Option<String>,
    pub by: Option<String>,
    /// A row key (field, procedure or agency code); absent: the total line.
    pub key: Option<String>,
    /// The column: received, received_online, received_direct, carried_over, resolved, early,
    /// on_time, late, in_process, within_time or overdue.
    pub column: String,
}

/// The dossiers behind one number of II.06a (as many as the number says).
#[utoipa::path(get, path = "/api/v1/reports/ii06a/dossiers", tag = "reports", params(CellQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<CellDossier>), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn ii06a_dossiers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<CellQuery>,
) -> ApiResult<Json<Vec<CellDossier>>> {
    let req = RawRequest {
        from: q.from,
        to: q.to,
        agency: q.agency,
        by: q.by,
    }
    .parse()?;
    let column = Column::parse(q.column.trim())
        .ok_or_else(|| ApiError::bad_request(format!("unknown column {:?}", q.column)))?;
    let key = q.key.as_deref().filter(|k| !k.is_empty());
    Ok(Json(
        state.services.dossiers_behind(&user, &req, key, column).await?,
    ))
}
