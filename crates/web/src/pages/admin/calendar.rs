//! The administrator's calendar page: a year's effective days off, the stored overrides, and
//! forms to add or delete one.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{CsrfForm, bad_request, csrf_rejected, require_admin, see_other};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate, Weekday};
use motcua_domain::calendar::{self, HolidayKind, Override, OverrideKind};
use motcua_service::{Lang, ServiceError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(show))
        .route("/admin/calendar/overrides", post(add))
        .route("/admin/calendar/overrides/{date}/delete", post(delete))
}

struct DayRow {
    date: NaiveDate,
    weekday: &'static str,
    name: String,
    kind: &'static str,
    kind_label: &'static str,
}

struct OverrideRow {
    date: NaiveDate,
    kind_label: &'static str,
    name: String,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    year: i32,
    working_days: u64,
    days: Vec<DayRow>,
    overrides: Vec<OverrideRow>,
    flash: Option<&'static str>,
    errors: Vec<String>,
    form_date: String,
    form_name: String,
}

fn weekday_vi(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Thứ Hai",
        Weekday::Tue => "Thứ Ba",
        Weekday::Wed => "Thứ Tư",
        Weekday::Thu => "Thứ Năm",
        Weekday::Fri => "Thứ Sáu",
        Weekday::Sat => "Thứ Bảy",
        Weekday::Sun => "Chủ Nhật",
    }
}

fn kind_label(k: HolidayKind) -> &'static str {
    match k {
        HolidayKind::Holiday => "Nghỉ lễ, Tết",
        HolidayKind::Compensatory => "Nghỉ bù",
        HolidayKind::DayOff => "Ngày nghỉ (điều chỉnh)",
        HolidayKind::Workday => "Làm việc bù",
    }
}

fn override_label(k: OverrideKind) -> &'static str {
    match k {
        OverrideKind::DayOff => "Thêm ngày nghỉ",
        OverrideKind::Workday => "Ngày làm bù",
        OverrideKind::Remove => "Bỏ ngày nghỉ theo quy định",
    }
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
    saved: Option<String>,
}

async fn render(
    state: &AppState,
    year: i32,
    flash: Option<&'static str>,
    errors: Vec<String>,
    form: (&str, &str),
) -> Result<String, PageError> {
    let overrides = state.services.calendar_overrides().await?;
    let y = state.services.calendar_year(year).await?;
    Ok(CalendarPage {
        chrome: Chrome::current(),
        year,
        working_days: y.working_days,
        days: y
            .days
            .into_iter()
            .map(|d| DayRow {
                date: d.date,
                weekday: weekday_vi(d.date.weekday()),
                name: d.name,
                kind: d.kind.as_str(),
                kind_label: kind_label(d.kind),
            })
            .collect(),
        overrides: overrides
            .into_iter()
            .filter(|o| o.date.year() == year)
            .map(|o| OverrideRow {
                date: o.date,
                kind_label: override_label(o.kind),
                name: o.name,
            })
            .collect(),
        flash,
        errors,
        form_date: form.0.to_string(),
        form_name: form.1.to_string(),
    }
    .render()?)
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<YearQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let year = match q.year.as_deref() {
        None | Some("") => calendar::local_date(state.services.now()).year(),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| calendar::check_year(*y).is_ok())
            .ok_or_else(|| bad_request(format!("Năm không hợp lệ: {y} (1900–2199).")))?,
    };
    let flash = q.saved.as_deref().map(|_| "Đã lưu lịch làm việc.");
    Ok(Html(render(&state, year, flash, Vec::new(), ("", "")).await?))
}

#[derive(Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

async fn add(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<OverrideForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let mut errors = Vec::new();
    // The date picker sends ISO; a browser without one lets people type dd/mm/yyyy.
    let date = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(form.date.trim(), "%d/%m/%Y"))
        .ok()
        .filter(|d| calendar::check_date(*d).is_ok());
    if date.is_none() {
        errors.push(format!(
            "Ngày không hợp lệ: “{}” (ngày/tháng/năm, 1900–2199).",
            form.date
        ));
    }
    let kind = OverrideKind::parse(&form.kind).ok();
    if kind.is_none() {
        errors.push("Chọn loại điều chỉnh.".into());
    }
    if form.name.chars().count() > 200 {
        errors.push("Tên dài quá 200 ký tự.".into());
    }
    let year = date
        .map(|d| d.year())
        .unwrap_or_else(|| calendar::local_date(state.services.now()).year());
    if let (Some(date), Some(kind), true) = (date, kind, errors.is_empty()) {
        let o = Override {
            date,
            kind,
            name: form.name.trim().to_string(),
        };
        match state
            .services
            .set_overrides(&user, std::slice::from_ref(&o))
            .await
        {
            Ok(()) => return Ok(see_other(&format!("/admin/calendar?year={year}&saved=1"))),
            Err(e) => errors.push(crate::error::page_message(&e, Lang::Vi)),
        }
    }
    let html = render(&state, year, None, errors, (&form.date, &form.name)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}

async fn delete(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(date): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| PageError::not_found())?;
    match state.services.delete_override(&user, date).await {
        Ok(()) | Err(ServiceError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&format!(
        "/admin/calendar?year={}&saved=1",
        date.year()
    )))
}
