//! The II.06a report pages (`/bao-cao`): the period form and table where every number links to
//! its dossiers, the print view, and CSV / XLSX / JSON downloads. Figures come only from
//! `Services::ii06a`; this module reads the query, lays the figures out and never counts.

use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{bad_request, last_param as param, url_encode};
use crate::pages::public::Choice;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use motcua_domain::calendar;
use motcua_domain::report::{Column, Period, Row};
use motcua_service::report_export;
use motcua_service::reports::{self, By, KeyedRow, RawRequest, Report, Request};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bao-cao", get(show))
        .route("/bao-cao/ho-so", get(cell))
        .route("/bao-cao/in", get(print))
        .route("/bao-cao/tai-ve.csv", get(download_csv))
        .route("/bao-cao/tai-ve.xlsx", get(download_xlsx))
        .route("/bao-cao/tai-ve.json", get(download_json))
}

// ---------------------------------------------------------------------------------------
// Reading the query.

/// The kinds of period the form offers: value, label.
const KINDS: [(&str, &str); 9] = [
    ("month", "Tháng (dương lịch)"),
    ("quarter", "Quý"),
    ("half", "6 tháng"),
    ("year", "Năm"),
    ("cutoff_month", "Tháng theo kỳ báo cáo (15 tháng trước – 14)"),
    ("cutoff_quarter", "Quý theo kỳ báo cáo"),
    ("cutoff_half", "6 tháng theo kỳ báo cáo"),
    ("cutoff_year", "Năm theo kỳ báo cáo (15/12 – 14/12)"),
    ("range", "Khoảng ngày bất kỳ"),
];

const BYS: [(&str, &str); 3] = [
    ("field", "Lĩnh vực"),
    ("procedure", "Thủ tục hành chính"),
    ("agency", "Cơ quan"),
];

fn date(text: &str, what: &str) -> Result<NaiveDate, PageError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| calendar::check_date(*d).is_ok())
        .ok_or_else(|| {
            bad_request(format!(
                "{what} không hợp lệ: “{text}” (cần dạng năm-tháng-ngày, ví dụ 2026-11-30)."
            ))
        })
}

fn number(text: &str, what: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, PageError> {
    text.parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            bad_request(format!(
                "{what} không hợp lệ: “{text}” (từ {} đến {}).",
                range.start(),
                range.end()
            ))
        })
}

/// The period of the form: a kind with a year and number, or `from`/`to` (which links use).
/// Nothing given: the current calendar month.
fn period_of(pairs: &[(String, String)], today: NaiveDate) -> Result<(String, Period), PageError> {
    let kind = param(pairs, "kind");
    let (from, to) = (param(pairs, "from"), param(pairs, "to"));
    let kind = match kind {
        "" if from.is_empty() && to.is_empty() => "month",
        "" => "range",
        k => k,
    };
    if !KINDS.iter().any(|(v, _)| *v == kind) {
        return Err(bad_request(format!("Không có loại kỳ báo cáo “{kind}”.")));
    }
    if kind == "range" {
        let from = date(from, "Ngày bắt đầu")?;
        let to = date(to, "Ngày kết thúc")?;
        let period = Period::new(from, to)
            .map_err(|_| bad_request("Ngày kết thúc phải sau hoặc bằng ngày bắt đầu."))?;
        if period.days() > reports::MAX_DAYS {
            return Err(bad_request("Mỗi báo cáo tối đa mười năm."));
        }
        return Ok(("range".into(), period));
    }
    let year = match param(pairs, "year") {
        "" => today.year() as u32,
        y => number(y, "Năm", 2000..=2100)?,
    } as i32;
    let n = param(pairs, "n");
    let pick = |max: u32, default: u32, what: &str| -> Result<u32, PageError> {
        if n.is_empty() {
            Ok(default)
        } else {
            number(n, what, 1..=max)
        }
    };
    let month = today.month();
    let period = match kind {
        "month" => Period::month(year, pick(12, month, "Tháng")?),
        "quarter" => Period::quarter(year, pick(4, month.div_ceil(3), "Quý")?),
        "half" => Period::half(year, pick(2, month.div_ceil(6), "Kỳ 6 tháng")?),
        "year" => Period::year(year),
        "cutoff_month" => Period::cutoff_month(year, pick(12, month, "Tháng")?),
        "cutoff_quarter" => {
            let q = pick(4, month.div_ceil(3), "Quý")?;
            Period::cutoff_span(year, 3 * q - 2, 3 * q)
        }
        "cutoff_half" => {
            let h = pick(2, month.div_ceil(6), "Kỳ 6 tháng")?;
            Period::cutoff_span(year, 6 * h - 5, 6 * h)
        }
        _ => Period::cutoff_span(year, 1, 12),
    };
    let period = period.ok_or_else(|| bad_request("Kỳ báo cáo không hợp lệ."))?;
    Ok((kind.to_string(), period))
}

/// A validated page query: the report request and the form's own values.
struct PageQuery {
    req: Request,
    kind: String,
    year: String,
    n: String,
    by: &'static str,
    agency: String,
}

fn read_query(pairs: &[(String, String)], today: NaiveDate) -> Result<PageQuery, PageError> {
    let (kind, period) = period_of(pairs, today)?;
    let by = match param(pairs, "by") {
        "" => "field",
        b => BYS
            .iter()
            .find(|(v, _)| *v == b)
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                bad_request(format!(
                    "Không có cách nhóm “{b}”: chọn lĩnh vực, thủ tục hoặc cơ quan."
                ))
            })?,
    };
    let agency = param(pairs, "agency");
    if agency.chars().count() > 50 {
        return Err(bad_request("Mã cơ quan quá dài."));
    }
    let req = RawRequest {
        from: period.from.to_string(),
        to: period.to.to_string(),
        agency: Some(agency.to_string()),
        by: Some(by.to_string()),
    }
    .parse()?;
    Ok(PageQuery {
        req,
        kind,
        year: param(pairs, "year").to_string(),
        n: param(pairs, "n").to_string(),
        by,
        agency: agency.to_string(),
    })
}

/// The query string naming a report (`from=…&to=…&by=…[&agency=…]`), what every link carries.
fn report_query(req: &Request) -> String {
    let mut q = format!(
        "from={}&to={}&by={}",
        req.period.from,
        req.period.to,
        reports::by_name(req.by)
    );
    if let Some(a) = &req.agency {
        q.push_str(&format!("&agency={}", url_encode(a)));
    }
    q
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Reports are for officers: someone who may see no agency's dossiers gets a 403 page.
async fn require_officer(state: &AppState, user: &CurrentUser) -> Result<Vec<i64>, PageError> {
    let visible = state.services.scope(user).await?;
    if visible.is_empty() {
        return Err(PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Báo cáo chỉ dành cho cán bộ, công chức xử lý hồ sơ.",
        ));
    }
    Ok(visible)
}

// ---------------------------------------------------------------------------------------
// The table, shared by the page and the print view.

struct Cell {
    value: i64,
    url: String,
    label: String,
}

struct TableRow {
    stt: String,
    name: String,
    key: String,
    /// Left padding of the name, in rem (agencies under their parents).
    /// Depth of the row (a class `depth-N`).
    depth: usize,
    cells: Vec<Cell>,
}

struct Table {
    by_label: &'static str,
    rows: Vec<TableRow>,
    total: TableRow,
}

fn table(report: &Report, req: &Request) -> Table {
    let base = report_query(req);
    let line = |stt: String, name: &str, key: Option<&str>, depth: usize, row: &Row| TableRow {
        stt,
        name: name.to_string(),
        key: key.unwrap_or("").to_string(),
        depth: depth.min(crate::pages::common::MAX_DEPTH_SHOWN),
        cells: Column::ALL
            .iter()
            .map(|c| {
                let value = row.get(*c);
                let mut url = format!("/bao-cao/ho-so?{base}&column={}", c.name());
                if let Some(k) = key {
                    url.push_str(&format!("&key={}", url_encode(k)));
                }
                Cell {
                    value,
                    url,
                    label: format!("{value} hồ sơ — ({}) {} — {name}", c.number(), c.label_vi()),
                }
            })
            .collect(),
    };
    let depths = report_export::depths(&report.rows);
    Table {
        by_label: report_export::by_label_vi(req.by),
        rows: report
            .rows
            .iter()
            .zip(depths)
            .enumerate()
            .map(|(i, (r, depth))| line((i + 1).to_string(), &r.name, Some(&r.key), depth, &r.row))
            .collect(),
        total: line(String::new(), "Tổng cộng", None, 0, &report.total),
    }
}

// ---------------------------------------------------------------------------------------
// The page.

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    kinds: Vec<Choice>,
    bys: Vec<Choice>,
    agencies: Vec<Choice>,
    year: String,
    n: String,
    from: String,
    to: String,
    period_vi: String,
    query: String,
    table: Table,
}

async fn agency_choices(state: &AppState, visible: &[i64], current: &str) -> Result<Vec<Choice>, PageError> {
    Ok(state
        .services
        .agencies()
        .await?
        .iter()
        .filter(|a| visible.contains(&a.id))
        .map(|a| Choice::new(&a.code, &a.name, current))
        .collect())
}

/// The period as the pages name it; one not yet ended says the figures are as of today.
fn period_vi(p: &Period, as_of: Option<NaiveDate>) -> String {
    let period = format!("từ ngày {} đến ngày {}", dmy(p.from), dmy(p.to));
    match as_of {
        Some(day) => format!(
            "{period} (kỳ chưa kết thúc: số liệu, kể cả “quá hạn”, tính đến hết ngày {})",
            dmy(day)
        ),
        None => period,
    }
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let visible = require_officer(&state, &user).await?;
    let q = read_query(&pairs, calendar::local_date(state.services.now()))?;
    let report = state.services.ii06a(&user, &q.req).await?;
    let html = ReportPage {
        chrome: Chrome::current(),
        kinds: KINDS.iter().map(|(v, l)| Choice::new(v, l, &q.kind)).collect(),
        bys: BYS.iter().map(|(v, l)| Choice::new(v, l, q.by)).collect(),
        agencies: agency_choices(&state, &visible, &q.agency).await?,
        year: q.year.clone(),
        n: q.n.clone(),
        from: q.req.period.from.to_string(),
        to: q.req.period.to.to_string(),
        period_vi: period_vi(&q.req.period, report.as_of),
        query: report_query(&q.req),
        table: table(&report, &q.req),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// The dossiers behind a number.

struct CellRow {
    code: String,
    procedure_code: String,
    procedure_name: String,
    agency: String,
    received: String,
    due: String,
    finished: String,
}

#[derive(Template)]
#[template(path = "report_cell.html")]
struct CellPage {
    chrome: Chrome,
    column_number: u8,
    column_label: &'static str,
    row_name: String,
    period_vi: String,
    back: String,
    figure: i64,
    rows: Vec<CellRow>,
}

async fn cell(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    require_officer(&state, &user).await?;
    let q = read_query(&pairs, calendar::local_date(state.services.now()))?;
    let column_text = param(&pairs, "column");
    let column = Column::parse(column_text)
        .ok_or_else(|| bad_request(format!("Không có cột “{column_text}” trong biểu II.06a.")))?;
    let key = Some(param(&pairs, "key")).filter(|k| !k.is_empty());
    let report = state.services.ii06a(&user, &q.req).await?;
    let (row_name, figure) = match key {
        None => ("Tổng cộng".to_string(), report.total.get(column)),
        Some(k) => match report.rows.iter().find(|r: &&KeyedRow| r.key == k) {
            Some(r) => (r.name.clone(), r.row.get(column)),
            None => (k.to_string(), 0),
        },
    };
    let list = state.services.dossiers_behind(&user, &q.req, key, column).await?;
    let names: std::collections::HashMap<String, String> = state
        .services
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let opt = |d: Option<NaiveDate>| d.map(dmy).unwrap_or_else(|| "—".into());
    let html = CellPage {
        chrome: Chrome::current(),
        column_number: column.number(),
        column_label: column.label_vi(),
        row_name,
        period_vi: period_vi(&q.req.period, report.as_of),
        back: format!("/bao-cao?{}", report_query(&q.req)),
        figure,
        rows: list
            .into_iter()
            .map(|d| CellRow {
                agency: names
                    .get(&d.agency_code)
                    .cloned()
                    .unwrap_or_else(|| d.agency_code.clone()),
                code: d.code,
                procedure_code: d.procedure_code,
                procedure_name: d.procedure_name,
                received: dmy(d.received_on),
                due: opt(d.due_on),
                finished: opt(d.finished_on),
            })
            .collect(),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// The print view.

#[derive(Template)]
#[template(path = "report_print.html")]
struct PrintPage {
    chrome: Chrome,
    unit: String,
    period_vi: String,
    dated: String,
    back: String,
    table: Table,
}

/// The reporting unit: the chosen agency, else the highest agencies the user may see.
async fn reporting_unit(
    state: &AppState,
    visible: &[i64],
    chosen: Option<&str>,
) -> Result<String, PageError> {
    let all = state.services.agencies().await?;
    if let Some(code) = chosen
        && let Some(a) = all.iter().find(|a| a.code == code)
    {
        return Ok(a.name.clone());
    }
    let mine: Vec<_> = all.iter().filter(|a| visible.contains(&a.id)).collect();
    let tops: Vec<&str> = mine
        .iter()
        .filter(|a| {
            a.parent_code
                .as_deref()
                .is_none_or(|p| !mine.iter().any(|m| m.code == p))
        })
        .map(|a| a.name.as_str())
        .collect();
    Ok(tops.join("; "))
}

async fn print(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let visible = require_officer(&state, &user).await?;
    let q = read_query(&pairs, calendar::local_date(state.services.now()))?;
    let report = state.services.ii06a(&user, &q.req).await?;
    let today = calendar::local_date(state.services.now());
    let html = PrintPage {
        chrome: Chrome::current(),
        unit: reporting_unit(&state, &visible, q.req.agency.as_deref()).await?,
        period_vi: period_vi(&q.req.period, report.as_of),
        dated: format!(
            "ngày {:02} tháng {:02} năm {}",
            today.day(),
            today.month(),
            today.year()
        ),
        back: format!("/bao-cao?{}", report_query(&q.req)),
        table: table(&report, &q.req),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// Downloads.

fn attachment(req: &Request, ext: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    let name = format!(
        "ii06a-{}-{}-{}.{ext}",
        req.period.from,
        req.period.to,
        reports::by_name(req.by)
    );
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn report_for_download(
    state: &AppState,
    user: &CurrentUser,
    pairs: &[(String, String)],
) -> Result<(Request, Report), PageError> {
    require_officer(state, user).await?;
    let q = read_query(pairs, calendar::local_date(state.services.now()))?;
    let report = state.services.ii06a(user, &q.req).await?;
    Ok((q.req, report))
}

fn export_failed(e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "writing a report export");
    PageError::internal()
}

async fn download_csv(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (req, report) = report_for_download(&state, &user, &pairs).await?;
    let body = report_export::csv(&report.rows, &report.total, report_export::CsvHeader::People)
        .map_err(export_failed)?;
    Ok(attachment(&req, "csv", "text/csv; charset=utf-8", body))
}

async fn download_xlsx(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (req, report) = report_for_download(&state, &user, &pairs).await?;
    let by: By = req.by;
    let body = report_export::xlsx(&req.period, by, &report.rows, &report.total).map_err(export_failed)?;
    Ok(attachment(
        &req,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

async fn download_json(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (req, report) = report_for_download(&state, &user, &pairs).await?;
    let body = serde_json::to_vec_pretty(&report).map_err(export_failed)?;
    Ok(attachment(&req, "json", "application/json", body))
}
