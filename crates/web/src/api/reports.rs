//! `GET /api/v1/reports/ii06a`: the statutory report II.06a over what the caller may see,
//! recounted from the dossiers (docs/reports.md).

use crate::AppState;
use crate::api::extract::QueryParams;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use motcua_domain::report::{Period, Row};
use motcua_store::repo::{agencies, report};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// First local date, YYYY-MM-DD.
    pub from: String,
    /// Last local date (inclusive), YYYY-MM-DD.
    pub to: String,
    /// Agency code: that agency and the ones below it.
    pub agency: Option<String>,
    /// `field` (default), `procedure` or `agency`.
    pub by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Report {
    #[schema(value_type = Object)]
    pub period: Period,
    pub by: String,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<report::KeyedRow>,
    #[schema(value_type = Object)]
    pub total: Row,
}

fn date(s: &str, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{name} must be YYYY-MM-DD")))
}

/// II.06a for a date range: rows by field, procedure or agency, and the total.
#[utoipa::path(get, path = "/api/v1/reports/ii06a", tag = "reports", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn ii06a(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<ReportQuery>,
) -> ApiResult<Json<Report>> {
    let period = Period::new(date(&q.from, "from")?, date(&q.to, "to")?).map_err(ApiError::bad_request)?;
    if period.days() > 3660 {
        return Err(ApiError::bad_request("a report covers at most ten years"));
    }
    let by = match q.by.as_deref().unwrap_or("field") {
        "field" => report::By::Field,
        "procedure" => report::By::Procedure,
        "agency" => report::By::Agency,
        other => {
            return Err(ApiError::bad_request(format!(
                "by must be field, procedure or agency, not {other:?}"
            )));
        }
    };
    let mut scope = crate::api::dossiers::scope(&state, &user).await?;
    if let Some(code) = q.agency.as_deref().filter(|c| !c.is_empty()) {
        user.require_read_agency(&state, code).await?;
        let codes = agencies::subtree_codes(&state.db, code).await?;
        let ids: Vec<i64> = agencies::list(&state.db)
            .await?
            .into_iter()
            .filter(|a| codes.contains(&a.code))
            .map(|a| a.id)
            .collect();
        scope.retain(|id| ids.contains(id));
    }
    let counted = report::counted(&state.db, period.from, period.to, Some(&scope)).await?;
    let tree = report::tree(&state.db).await?;
    let (rows, total) = report::group(&counted, &period, by, &tree).map_err(|e| {
        tracing::error!(error = %e, "report identities broken");
        ApiError::internal()
    })?;
    Ok(Json(Report {
        period,
        by: q.by.unwrap_or_else(|| "field".into()),
        rows,
        total,
    }))
}
