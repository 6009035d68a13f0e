//! The legal calendar over JSON: a year's effective days off, due-instant computation, and
//! (administrators only) the per-date overrides.

use crate::AppState;
use crate::api::extract::{Body, PathParam};
use crate::auth::ApiUser;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use motcua_domain::calendar::{DayEntry, HolidayKind, Override, OverrideKind, to_local};
use motcua_service::calendar::parse_date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(year))
        .routes(routes!(due))
        .routes(routes!(list_overrides))
        .routes(routes!(put_override, delete_override))
        .routes(routes!(import))
}

#[derive(Serialize, ToSchema)]
pub struct Day {
    /// Local date, `YYYY-MM-DD`.
    #[schema(value_type = String, example = "2026-09-02")]
    pub date: NaiveDate,
    pub name: String,
    /// `holiday`, `compensatory`, `day_off`, or `workday` (a make-up working day).
    #[schema(value_type = String, example = "holiday")]
    pub kind: HolidayKind,
}

impl From<DayEntry> for Day {
    fn from(d: DayEntry) -> Self {
        Day {
            date: d.date,
            name: d.name,
            kind: d.kind,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct YearCalendar {
    pub year: i32,
    /// The effective calendar (rules + overrides), sorted by date.
    pub days: Vec<Day>,
    /// Working days in the year after overrides.
    pub working_days: u64,
}

/// The effective calendar of a year: public holidays by rule (Labour Code 2019 art. 112),
/// compensatory days, and the administrator's overrides.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "1900–2199")),
    responses((status = 200, body = YearCalendar), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn year(
    State(state): State<AppState>,
    PathParam(year): PathParam<i32>,
) -> ApiResult<Json<YearCalendar>> {
    let y = state.services.calendar_year(year).await?;
    Ok(Json(YearCalendar {
        year: y.year,
        days: y.days.into_iter().map(Day::from).collect(),
        working_days: y.working_days,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DueRequest {
    /// When the dossier was received, RFC 3339 with any offset.
    #[schema(example = "2026-09-01T10:00:00+07:00")]
    pub received: String,
    /// `N working-days`, `N working-hours` or `N days` (N may be fractional: `0.5 working-days`).
    #[schema(example = "3 working-days")]
    pub limit: String,
    /// Same-day cut-off `HH:MM` of the procedure, if it has one.
    #[serde(default)]
    pub cutoff: Option<String>,
    /// Agency code whose office hours apply (default 07:00–11:30, 13:30–17:00).
    #[serde(default)]
    pub agency: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DueResponse {
    #[schema(value_type = String)]
    pub received: DateTime<FixedOffset>,
    /// When the clock started (the intake moved into office hours).
    #[schema(value_type = String)]
    pub start: DateTime<FixedOffset>,
    /// The due instant, on the legal clock (+07:00).
    #[schema(value_type = String, example = "2026-09-07T10:00:00+07:00")]
    pub due: DateTime<FixedOffset>,
    pub limit: String,
}

/// Computes a due instant exactly as dossiers get theirs.
#[utoipa::path(post, path = "/api/v1/calendar/due", tag = "calendar", request_body = DueRequest, responses(
    (status = 200, body = DueResponse),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn due(State(state): State<AppState>, Body(req): Body<DueRequest>) -> ApiResult<Json<DueResponse>> {
    let d = state
        .services
        .due(
            &req.received,
            &req.limit,
            req.cutoff.as_deref(),
            req.agency.as_deref(),
        )
        .await?;
    Ok(Json(DueResponse {
        received: to_local(d.received),
        start: to_local(d.start),
        due: to_local(d.due),
        limit: d.limit.to_string(),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OverrideBody {
    /// `day_off`, `workday` (make-up working day) or `remove` (drop the rule day).
    #[schema(value_type = String, example = "workday")]
    pub kind: OverrideKind,
    #[serde(default)]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OverrideView {
    #[schema(value_type = String)]
    pub date: NaiveDate,
    #[schema(value_type = String)]
    pub kind: OverrideKind,
    pub name: String,
}

impl From<Override> for OverrideView {
    fn from(o: Override) -> Self {
        OverrideView {
            date: o.date,
            kind: o.kind,
            name: o.name,
        }
    }
}

/// Every stored override, sorted by date.
#[utoipa::path(get, path = "/api/v1/calendar/overrides", tag = "calendar", responses((status = 200, body = [OverrideView])))]
pub async fn list_overrides(State(state): State<AppState>) -> ApiResult<Json<Vec<OverrideView>>> {
    let list = state.services.calendar_overrides().await?;
    Ok(Json(list.into_iter().map(OverrideView::from).collect()))
}

/// Sets the override of a date (administrators); the calendar with it must hold together.
#[utoipa::path(put, path = "/api/v1/calendar/overrides/{date}", tag = "calendar", request_body = OverrideBody,
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    security(("bearer" = [])),
    responses((status = 200, body = OverrideView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn put_override(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(date): PathParam<String>,
    Body(body): Body<OverrideBody>,
) -> ApiResult<Json<OverrideView>> {
    user.require_admin()?;
    let o = Override {
        date: parse_date(&date)?,
        kind: body.kind,
        name: body.name.trim().to_string(),
    };
    state
        .services
        .set_overrides(&user, std::slice::from_ref(&o))
        .await?;
    Ok(Json(o.into()))
}

/// Deletes the override of a date (administrators).
#[utoipa::path(delete, path = "/api/v1/calendar/overrides/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_override(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(date): PathParam<String>,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    state.services.delete_override(&user, parse_date(&date)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports overrides from CSV (`date,kind,name`), all or nothing (administrators).
#[utoipa::path(post, path = "/api/v1/calendar/overrides/import", tag = "calendar",
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = [OverrideView]), (status = 422, body = Problem, content_type = "application/problem+json",
        description = "every bad line, in `errors` [{line, message}]")))]
pub async fn import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    body: String,
) -> ApiResult<Json<Vec<OverrideView>>> {
    let rows = state.services.import_overrides(&user, &body).await?;
    Ok(Json(rows.into_iter().map(OverrideView::from).collect()))
}
