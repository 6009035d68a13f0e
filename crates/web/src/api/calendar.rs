//! The legal calendar over JSON: a year's effective days off, due-instant computation, and
//! (administrators only) the per-date overrides.

use crate::AppState;
use crate::api::extract::{Body, PathParam};
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use motcua_domain::calendar::{
    self, DayEntry, HolidayKind, LegalClock, Override, OverrideKind, TimeLimit, to_local,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    let overrides = motcua_store::repo::calendar::list_overrides(&state.db).await?;
    let days =
        calendar::effective_days(year, &overrides).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let cal = crate::legal_time::calendar(&state).await?;
    Ok(Json(YearCalendar {
        year,
        days: days.into_iter().map(Day::from).collect(),
        working_days: cal.working_days_in_year(year),
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
    let received = DateTime::parse_from_rfc3339(req.received.trim())
        .map_err(|_| {
            ApiError::unprocessable(format!("invalid received {:?}: expected RFC 3339", req.received))
        })?
        .to_utc();
    calendar::check_instant(received).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let limit = TimeLimit::parse(&req.limit).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let cutoff = req
        .cutoff
        .as_deref()
        .map(|c| {
            NaiveTime::parse_from_str(c.trim(), "%H:%M")
                .map_err(|_| ApiError::unprocessable(format!("invalid cutoff {c:?}: expected HH:MM")))
        })
        .transpose()?;
    let hours = crate::legal_time::office_hours(&state, req.agency.as_deref()).await?;
    let cal = crate::legal_time::calendar(&state).await?;
    let clock = LegalClock::new(&cal, &hours);
    let due = clock.due(received, &limit, cutoff);
    Ok(Json(DueResponse {
        received: to_local(received),
        start: to_local(clock.normalise_intake(received)),
        due: to_local(due),
        limit: limit.to_string(),
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
    let list = motcua_store::repo::calendar::list_overrides(&state.db).await?;
    Ok(Json(list.into_iter().map(OverrideView::from).collect()))
}

fn parse_date(s: &str) -> Result<NaiveDate, ApiError> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("invalid date {s:?}: expected YYYY-MM-DD")))?;
    calendar::check_date(d).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(d)
}

/// Sets the override of a date (administrators).
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
    let date = parse_date(&date)?;
    if body.name.chars().count() > 200 {
        return Err(ApiError::unprocessable("name is longer than 200 characters"));
    }
    let o = Override {
        date,
        kind: body.kind,
        name: body.name.trim().to_string(),
    };
    save(&state, std::slice::from_ref(&o), &user.principal.username).await?;
    Ok(Json(o.into()))
}

/// Stores overrides in one transaction after checking the resulting calendar builds.
pub async fn save(state: &AppState, new: &[Override], by: &str) -> ApiResult<()> {
    let mut all = motcua_store::repo::calendar::list_overrides(&state.db).await?;
    all.retain(|o| !new.iter().any(|n| n.date == o.date));
    all.extend_from_slice(new);
    calendar::WorkCalendar::new(&all).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    for o in new {
        motcua_store::repo::calendar::upsert_override(&mut tx, o, by).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the override of a date (administrators).
#[utoipa::path(delete, path = "/api/v1/calendar/overrides/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_override(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(date): PathParam<String>,
) -> ApiResult<impl IntoResponse> {
    user.require_admin()?;
    let date = parse_date(&date)?;
    let mut tx = state.db.begin().await?;
    let existed = motcua_store::repo::calendar::delete_override(&mut tx, date).await?;
    tx.commit().await?;
    if existed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no override on {date}")))
    }
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
    user.require_admin()?;
    let rows = motcua_domain::import::calendar_overrides(&body).map_err(|errs| {
        let list: Vec<serde_json::Value> = errs
            .0
            .iter()
            .map(|e| serde_json::json!({"line": e.line, "message": e.message}))
            .collect();
        ApiError::unprocessable(format!("{} bad line(s); nothing was imported", list.len()))
            .with("errors", serde_json::Value::Array(list))
    })?;
    save(&state, &rows, &user.principal.username).await?;
    Ok(Json(rows.into_iter().map(OverrideView::from).collect()))
}
