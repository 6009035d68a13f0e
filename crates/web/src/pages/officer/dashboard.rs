//! The officers' dashboard page (`/bang-dieu-khien`): twelve-month charts (inline SVG, each with
//! its data table), the overdue and due-soon lists, and open work per officer and per agency.
//! Figures come from `Services::dashboard`; this module only lays them out.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{bad_request, url_encode, when_opt};
use crate::pages::public::Choice;
use crate::svg;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use motcua_service::dashboard::{self, MonthFigures, Trend};
use motcua_store::repo::dashboard::OpenDossier;

pub fn routes() -> Router<AppState> {
    Router::new().route("/bang-dieu-khien", get(show))
}

struct MonthLine {
    month: String,
    received: i64,
    resolved: i64,
    in_time: i64,
    late: i64,
    rate: String,
}

impl MonthLine {
    fn of(m: &MonthFigures) -> Self {
        MonthLine {
            month: m.month.clone(),
            received: m.received,
            resolved: m.resolved,
            in_time: m.in_time,
            late: m.late,
            rate: m
                .on_time_rate
                .map(|r| format!("{r:.1}%").replace('.', ","))
                .unwrap_or_else(|| "—".into()),
        }
    }
}

struct TrendView {
    id: String,
    name: String,
    /// The report by agency for the twelve months, to open the figures behind the charts.
    report_url: String,
    volume_svg: String,
    rate_svg: String,
    months: Vec<MonthLine>,
    sum: MonthLine,
}

fn trend_view(i: usize, t: &Trend) -> TrendView {
    let labels: Vec<String> = t.months.iter().map(|m| m.month.clone()).collect();
    let received: Vec<Option<f64>> = t.months.iter().map(|m| Some(m.received as f64)).collect();
    let resolved: Vec<Option<f64>> = t.months.iter().map(|m| Some(m.resolved as f64)).collect();
    let rate: Vec<Option<f64>> = t.months.iter().map(|m| m.on_time_rate).collect();
    let volume_title = format!("{}: hồ sơ tiếp nhận và đã giải quyết theo tháng", t.name);
    let rate_title = format!("{}: tỷ lệ giải quyết đúng hạn theo tháng (%)", t.name);
    let volume_series = [
        svg::Series {
            name: "Tiếp nhận",
            class: "s-received",
            values: &received,
        },
        svg::Series {
            name: "Đã giải quyết",
            class: "s-resolved",
            values: &resolved,
        },
    ];
    let rate_series = [svg::Series {
        name: "Đúng hạn",
        class: "s-rate",
        values: &rate,
    }];
    let (from, to) = (
        t.months.first().map(|m| m.from.to_string()).unwrap_or_default(),
        t.months.last().map(|m| m.to.to_string()).unwrap_or_default(),
    );
    let mut report_url = format!("/bao-cao?from={from}&to={to}&by=agency");
    if let Some(k) = &t.key {
        report_url.push_str(&format!("&agency={}", url_encode(k)));
    }
    TrendView {
        id: format!("xu-huong-{i}"),
        name: t.name.clone(),
        report_url,
        volume_svg: svg::bars(&svg::Chart {
            title: &volume_title,
            labels: &labels,
            series: &volume_series,
            max: None,
            unit: "",
        }),
        rate_svg: svg::bars(&svg::Chart {
            title: &rate_title,
            labels: &labels,
            series: &rate_series,
            max: Some(100.0),
            unit: "%",
        }),
        months: t.months.iter().map(MonthLine::of).collect(),
        sum: MonthLine::of(&t.sum()),
    }
}

struct DossierLine {
    key: String,
    procedure: String,
    agency: String,
    status: &'static str,
    received: String,
    due: String,
    assignee: String,
}

fn dossier_line(d: &OpenDossier) -> DossierLine {
    DossierLine {
        key: d.key.clone(),
        procedure: format!("{} — {}", d.procedure_code, d.procedure_name),
        agency: d.agency_name.clone(),
        status: d.status.label_vi(),
        received: when_opt(d.received_at),
        due: when_opt(d.due_at),
        assignee: d.assignee.clone().unwrap_or_else(|| "—".into()),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    agencies: Vec<Choice>,
    as_of: String,
    due_soon_before: String,
    trends: Vec<TrendView>,
    trends_truncated: bool,
    overdue: Vec<DossierLine>,
    due_soon: Vec<DossierLine>,
    officers: Vec<motcua_store::repo::dashboard::OfficerLoad>,
    agency_loads: Vec<motcua_store::repo::dashboard::AgencyLoad>,
    max_listed: i64,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let visible = state.services.scope(&user).await?;
    if visible.is_empty() {
        return Err(PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Bảng điều khiển chỉ dành cho cán bộ, công chức xử lý hồ sơ.",
        ));
    }
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k != "agency") {
        return Err(bad_request(format!("Bảng điều khiển không nhận tham số “{k}”.")));
    }
    let agency = pairs
        .iter()
        .find(|(k, _)| k == "agency")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty());
    if agency.is_some_and(|a| a.chars().count() > 50) {
        return Err(bad_request("Mã cơ quan quá dài."));
    }
    let d = state.services.dashboard(&user, agency).await?;
    let html = DashboardPage {
        chrome: Chrome::current(),
        agencies: state
            .services
            .agencies()
            .await?
            .iter()
            .filter(|a| visible.contains(&a.id))
            .map(|a| Choice::new(&a.code, &a.name, agency.unwrap_or("")))
            .collect(),
        as_of: when_opt(Some(d.as_of)),
        due_soon_before: when_opt(Some(d.due_soon_before)),
        trends: d
            .trends
            .iter()
            .enumerate()
            .map(|(i, t)| trend_view(i, t))
            .collect(),
        trends_truncated: d.trends_truncated,
        overdue: d.overdue.iter().map(dossier_line).collect(),
        due_soon: d.due_soon.iter().map(dossier_line).collect(),
        officers: d.officers,
        agency_loads: d.agencies,
        max_listed: dashboard::MAX_LISTED,
    }
    .render()?;
    Ok(Html(html))
}
