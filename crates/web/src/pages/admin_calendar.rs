//! The administrator's calendar page: a year's effective days off, the stored overrides, and
//! forms to add or delete one.

use super::auth::CsrfForm;
use super::{Chrome, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::PageError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc, Weekday};
use motcua_domain::calendar::{self, HolidayKind, Override, OverrideKind};
use serde::Deserialize;

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

fn require_admin(user: &CurrentUser) -> Result<(), PageError> {
    user.require_admin().map_err(PageError::from)
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
    saved: Option<String>,
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    year: i32,
    flash: Option<&'static str>,
    errors: Vec<String>,
    form: (&str, &str),
) -> Result<String, PageError> {
    let overrides = motcua_store::repo::calendar::list_overrides(&state.db).await?;
    let days = calendar::effective_days(year, &overrides).map_err(|e| PageError {
        status: StatusCode::BAD_REQUEST,
        message: e.to_string(),
    })?;
    let cal = crate::legal_time::calendar(state)
        .await
        .map_err(|_| PageError::internal())?;
    Ok(CalendarPage {
        chrome: Chrome::of(Some(user)),
        year,
        working_days: cal.working_days_in_year(year),
        days: days
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

pub async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<YearQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let year = match q.year.as_deref() {
        None | Some("") => calendar::local_date(Utc::now()).year(),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| calendar::check_year(*y).is_ok())
            .ok_or_else(|| PageError {
                status: StatusCode::BAD_REQUEST,
                message: format!("Năm không hợp lệ: {y} (1900–2199)."),
            })?,
    };
    let flash = q.saved.as_deref().map(|_| "Đã lưu lịch làm việc.");
    Ok(Html(
        render(&state, &user, year, flash, Vec::new(), ("", "")).await?,
    ))
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

fn csrf_rejected() -> PageError {
    PageError {
        status: StatusCode::FORBIDDEN,
        message: "Biểu mẫu không hợp lệ hoặc đã hết hạn (CSRF). Vui lòng tải lại trang.".into(),
    }
}

pub async fn add(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<OverrideForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let mut errors = Vec::new();
    let date = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| calendar::check_date(*d).is_ok());
    if date.is_none() {
        errors.push(format!(
            "Ngày không hợp lệ: “{}” (năm-tháng-ngày, 1900–2199).",
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
        .unwrap_or_else(|| calendar::local_date(Utc::now()).year());
    if let (Some(date), Some(kind), true) = (date, kind, errors.is_empty()) {
        let o = Override {
            date,
            kind,
            name: form.name.trim().to_string(),
        };
        match crate::api::calendar::save(&state, std::slice::from_ref(&o), &user.principal.username).await {
            Ok(()) => return Ok(see_other(&format!("/admin/calendar?year={year}&saved=1"))),
            Err(e) => errors.push(e.detail.unwrap_or_else(|| "Không lưu được.".into())),
        }
    }
    let html = render(&state, &user, year, None, errors, (&form.date, &form.name)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}

pub async fn delete(
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
    let mut tx = state.db.begin().await?;
    motcua_store::repo::calendar::delete_override(&mut tx, date).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/admin/calendar?year={}&saved=1",
        date.year()
    )))
}
