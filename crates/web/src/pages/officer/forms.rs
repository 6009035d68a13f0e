//! The printable forms of Circular 03/2025 (Appendix I): 01 receipt and appointment slip,
//! 02 supplement request, 03 refusal, 04 apology and new appointment, 05 stop notice, 06
//! process control sheet, 07 dossier register. A4, Vietnamese, code as text and QR. Read-only.

use super::dossier::{load, statutory_limit};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{
    bad_request, event_action_vi, event_instant, full_names, param, person, timing_vi, url_encode, when,
    when_opt,
};
use crate::pages::public::Choice;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar;
use motcua_domain::dossier::{ApplicantKind, ComponentKind, ReturnMethod, Step};
use motcua_domain::msg::Lang;
use motcua_service::dossiers::{View, step_timing};
use motcua_store::repo::events::Event;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ho-so/{key}/phieu-tiep-nhan", get(receipt))
        .route("/ho-so/{key}/phieu-bo-sung", get(supplement))
        .route("/ho-so/{key}/phieu-tu-choi", get(refusal))
        .route("/ho-so/{key}/phieu-xin-loi", get(apology))
        .route("/ho-so/{key}/thong-bao-dung", get(stop_notice))
        .route("/ho-so/{key}/phieu-kiem-soat", get(control_sheet))
        .route("/ho-so/{key}/tem-xac-thuc", get(stamp))
        .route("/so-theo-doi", get(register))
}

// ---------------------------------------------------------------------------------------
// What every form carries.

/// The address a QR code points to: the public lookup of a dossier.
fn lookup_url(public_url: &str, code: &str) -> String {
    let base = public_url.trim().trim_end_matches('/');
    format!("{base}/tra-cuu?ma={}", url_encode(code))
}

/// An inline SVG QR code (no XML prolog: it sits inside HTML).
fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(112, 112)
                .build();
            match svg.find("<svg") {
                Some(at) => svg[at..].to_string(),
                None => svg,
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "QR code not generated");
            String::new()
        }
    }
}

/// "ngày 27 tháng 10 năm 2025" (local date).
fn date_words(t: DateTime<Utc>) -> String {
    let d = calendar::local_date(t);
    format!("ngày {:02} tháng {:02} năm {}", d.day(), d.month(), d.year())
}

/// The top of every form: the issuing agency, the national emblem text, the code and QR.
pub struct Head {
    /// Where the toolbar's "back" goes: the officers' dossier page, or the citizen's.
    pub back: String,
    pub parent_name: String,
    pub agency_name: String,
    pub code: String,
    pub lookup_url: String,
    pub qr_svg: String,
    pub dated: String,
}

async fn head(state: &AppState, v: &View, dated: DateTime<Utc>) -> Result<Head, PageError> {
    let d = &v.dossier;
    let reference = state.services.reference().await?;
    let parent_name = reference
        .agency(&d.agency_code)
        .and_then(|a| a.parent_code.as_deref())
        .and_then(|p| reference.agency(p))
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let code = d.key();
    let url = lookup_url(&state.config.public_url, &code);
    Ok(Head {
        back: format!("/ho-so/{code}"),
        parent_name,
        agency_name: d.agency_name.clone(),
        qr_svg: qr_svg(&url),
        lookup_url: url,
        code,
        dated: date_words(dated),
    })
}

/// The applicant as the forms print them.
pub struct Applicant {
    pub name: String,
    pub id_label: &'static str,
    pub id_number: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    pub submitter: String,
}

fn applicant(v: &View) -> Applicant {
    let d = &v.dossier;
    Applicant {
        name: d.applicant_name.clone(),
        id_label: if d.applicant_kind == ApplicantKind::Organisation {
            "Mã số thuế"
        } else {
            "Số định danh cá nhân"
        },
        id_number: d.applicant_id_number.clone(),
        address: d.address.clone(),
        phone: d.phone.clone(),
        email: d.email.clone(),
        submitter: d.submitter_name.clone(),
    }
}

/// The last event of an action, or 404: a form exists only once its action happened.
fn last_event<'a>(v: &'a View, action: &str) -> Result<&'a Event, PageError> {
    v.events
        .iter()
        .rev()
        .find(|e| e.action == action)
        .ok_or_else(PageError::not_found)
}

fn event_time(e: &Event) -> DateTime<Utc> {
    event_instant(&e.at).unwrap_or_else(Utc::now)
}

// ---------------------------------------------------------------------------------------
// Form 01: GET /ho-so/{key}/phieu-tiep-nhan

struct DocumentRow {
    name: String,
    originals: i64,
    copies: i64,
}

#[derive(Template)]
#[template(path = "form_01_receipt.html")]
struct ReceiptForm {
    chrome: Chrome,
    head: Head,
    applicant: Applicant,
    desk: String,
    procedure_name: String,
    request: String,
    documents: Vec<DocumentRow>,
    time_limit: String,
    received: String,
    clock_start: String,
    after_hours: bool,
    appointment: String,
    collect_at: String,
    register_number: String,
    officer: String,
}

async fn receipt(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    let v = load(&state, &user, &key).await?;
    receipt_form(&state, &v, None).await
}

/// Form 01 of a received dossier (not found before receipt); `back`: where its toolbar
/// returns (the officers' dossier page by default).
pub async fn receipt_form(
    state: &AppState,
    v: &View,
    back: Option<String>,
) -> Result<Html<String>, PageError> {
    let d = &v.dossier;
    let (Some(code), Some(received)) = (d.code.clone(), d.received_at) else {
        return Err(PageError::not_found());
    };
    let issued = v
        .events
        .iter()
        .rev()
        .find(|e| e.action == "receive" || e.action == "accept")
        .map(event_time)
        .unwrap_or(d.created_at);
    let (_, time_limit) = statutory_limit(state, v).await?;
    let names = full_names(state).await?;
    let address = state
        .services
        .reference()
        .await?
        .agency(&d.agency_code)
        .map(|a| a.address.clone())
        .unwrap_or_default();
    let html = ReceiptForm {
        chrome: Chrome::current(),
        // Dated when it was handed over, even when the receipt counts from the next opening.
        head: {
            let mut h = head(state, v, issued).await?;
            if let Some(b) = back {
                h.back = b;
            }
            h
        },
        applicant: applicant(v),
        desk: format!("Bộ phận tiếp nhận và trả kết quả — {}", d.agency_name),
        procedure_name: d.procedure_name.clone(),
        request: d.request.clone(),
        documents: v
            .components
            .iter()
            .filter(|c| c.kind == ComponentKind::Component && c.provided)
            .map(|c| DocumentRow {
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
            })
            .collect(),
        time_limit,
        received: when(d.receipt_instant().unwrap_or(received)),
        clock_start: when(received),
        after_hours: receipt_differs(d.receipt_instant(), received),
        appointment: when_opt(d.due_at),
        collect_at: if address.is_empty() {
            format!("Bộ phận tiếp nhận và trả kết quả — {}", d.agency_name)
        } else {
            format!("Bộ phận tiếp nhận và trả kết quả — {}, {address}", d.agency_name)
        },
        register_number: code.rsplit('-').next().unwrap_or("").to_string(),
        officer: names
            .get(&d.received_by)
            .cloned()
            .unwrap_or_else(|| d.received_by.clone()),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// Forms 02–05: a notice built from one event (its note is the reason printed).

/// Which notice.
#[derive(Clone, Copy, PartialEq)]
enum Notice {
    Supplement,
    Refusal,
    Apology,
    Stop,
}

#[derive(Template)]
#[template(path = "form_notice.html")]
struct NoticeForm {
    chrome: Chrome,
    head: Head,
    applicant: Applicant,
    number: &'static str,
    title: &'static str,
    kind: &'static str,
    agency_name: String,
    procedure_name: String,
    request: String,
    received: String,
    reason: String,
    old_due: String,
    new_due: String,
    officer: String,
    signer_title: &'static str,
}

async fn notice(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    key: &str,
    which: Notice,
) -> Result<Html<String>, PageError> {
    let v = load(state, user, key).await?;
    let action = match which {
        Notice::Supplement => "request_supplement",
        Notice::Refusal => "refuse",
        Notice::Apology => "reschedule",
        Notice::Stop => "stop",
    };
    let e = last_event(&v, action)?;
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let due_of = |k: &str| {
        details[k]
            .as_str()
            .and_then(event_instant)
            .map(when)
            .unwrap_or_else(|| "—".into())
    };
    let names = full_names(state).await?;
    let d = &v.dossier;
    let html = NoticeForm {
        chrome: Chrome::current(),
        head: head(state, &v, event_time(e)).await?,
        applicant: applicant(&v),
        number: match which {
            Notice::Supplement => "02",
            Notice::Refusal => "03",
            Notice::Apology => "04",
            Notice::Stop => "05",
        },
        title: match which {
            Notice::Supplement => "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
            Notice::Refusal => "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
            Notice::Apology => "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
            Notice::Stop => "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        },
        kind: action,
        agency_name: d.agency_name.clone(),
        procedure_name: d.procedure_name.clone(),
        request: d.request.clone(),
        received: when_opt(d.receipt_instant().or(d.submitted_at)),
        reason: e.note.clone(),
        old_due: due_of("old_due"),
        new_due: due_of("new_due"),
        officer: names
            .get(&e.actor)
            .cloned()
            .or_else(|| crate::pages::common::actor_vi(&e.actor))
            .unwrap_or_else(|| e.actor.clone()),
        signer_title: match which {
            Notice::Supplement => "NGƯỜI HƯỚNG DẪN",
            Notice::Refusal => "NGƯỜI TIẾP NHẬN HỒ SƠ",
            Notice::Apology | Notice::Stop => "THỦ TRƯỞNG CƠ QUAN",
        },
    }
    .render()?;
    Ok(Html(html))
}

async fn supplement(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    notice(&state, &user, &key, Notice::Supplement).await
}

async fn refusal(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    notice(&state, &user, &key, Notice::Refusal).await
}

async fn apology(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    notice(&state, &user, &key, Notice::Apology).await
}

async fn stop_notice(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    notice(&state, &user, &key, Notice::Stop).await
}

// ---------------------------------------------------------------------------------------
// The result's verification stamp: GET /ho-so/{key}/tem-xac-thuc

#[derive(Template)]
#[template(path = "form_result_stamp.html")]
struct StampForm {
    chrome: Chrome,
    head: Head,
    a: motcua_service::authentic::Authentic,
    sha256: String,
    issued: String,
    check_url: String,
    check_page: String,
    qr_svg: String,
}

async fn stamp(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    let v = load(&state, &user, &key).await?;
    result_stamp(&state, &v, None).await
}

/// The printable verification stamp of a dossier's electronic result: what the public check
/// says of it and a QR code opening that check (not found before there is a result).
pub async fn result_stamp(
    state: &AppState,
    v: &View,
    back: Option<String>,
) -> Result<Html<String>, PageError> {
    let d = &v.dossier;
    let (Some(sha256), Some(a)) = (d.result_file.clone(), state.services.authentic_of(d).await?) else {
        return Err(PageError::not_found());
    };
    let base = state.config.public_url.trim().trim_end_matches('/');
    let check_page = format!("{base}/kiem-tra-ket-qua");
    let check_url = format!("{check_page}?ma={}", a.verification);
    let mut head = head(state, v, d.finished_at.unwrap_or(d.created_at)).await?;
    if let Some(b) = back {
        head.back = b;
    }
    let html = StampForm {
        chrome: Chrome::current(),
        head,
        issued: a.issued_at.map(when).unwrap_or_default(),
        qr_svg: qr_svg(&check_url),
        sha256,
        check_url,
        check_page,
        a,
    };
    Ok(Html(html.render()?))
}

// ---------------------------------------------------------------------------------------
// Form 06: GET /ho-so/{key}/phieu-kiem-soat

struct HandoverRow {
    number: usize,
    from: String,
    to: String,
    at: String,
    content: &'static str,
    result: &'static str,
    result_class: &'static str,
    note: String,
}

#[derive(Template)]
#[template(path = "form_06_control.html")]
struct ControlForm {
    chrome: Chrome,
    head: Head,
    applicant_name: String,
    procedure_name: String,
    lead: String,
    coordinating: String,
    received: String,
    /// When the legal clock started, if not at the receipt.
    clock_start: Option<String>,
    appointment: String,
    rows: Vec<HandoverRow>,
}

/// The agency leading the processing: where the approver signs; else where the specialist
/// examines; else the receiving agency.
fn lead_agency(steps: &[Step], receiving: &str) -> String {
    steps
        .iter()
        .rev()
        .find(|s| s.role == Role::Approver && s.agency_name.is_some())
        .or_else(|| {
            steps
                .iter()
                .find(|s| s.role == Role::Specialist && s.agency_name.is_some())
        })
        .and_then(|s| s.agency_name.clone())
        .unwrap_or_else(|| receiving.to_string())
}

/// One row per handover of the dossier, from its events.
fn handovers(v: &View, names: &HashMap<String, String>, now: DateTime<Utc>) -> Vec<HandoverRow> {
    let d = &v.dossier;
    let step = |seq: Option<i64>| seq.and_then(|n| v.steps.iter().find(|s| s.seq == n));
    let agency_of = |s: Option<&Step>| {
        s.and_then(|s| s.agency_name.clone())
            .unwrap_or_else(|| d.agency_name.clone())
    };
    let citizen = format!("Người nộp hồ sơ: {}", d.applicant_name);
    let timing = |s: Option<&Step>| s.and_then(|s| step_timing(s, now)).unwrap_or("");
    let mut rows = Vec::new();
    for e in &v.events {
        let actor = person(names, &e.actor);
        let here = step(e.step_seq);
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
        let (from, to, result) = match e.action.as_str() {
            "receive" | "accept" => (citizen.clone(), format!("{} — {actor}", d.agency_name), ""),
            "submit_online" => (
                format!("{citizen} (trực tuyến)"),
                format!("{} — chờ kiểm tra, tiếp nhận", d.agency_name),
                "",
            ),
            "transfer" | "complete_step" => {
                let next = step(e.step_seq.map(|n| n + 1));
                (
                    format!("{} — {actor}", agency_of(here)),
                    format!(
                        "{} — {}",
                        agency_of(next),
                        next.map(|s| s.role.label_vi().to_string()).unwrap_or_default()
                    ),
                    timing(here),
                )
            }
            "assign" => {
                let before = step(e.step_seq.map(|n| n - 1)).filter(|s| s.role == Role::Leader);
                let assignee = details["assignee"].as_str().unwrap_or("");
                (
                    format!("{} — {actor}", agency_of(before.or(here))),
                    format!("{} — {}", agency_of(here), person(names, assignee)),
                    timing(before),
                )
            }
            "approve" => {
                let next = v
                    .steps
                    .iter()
                    .find(|s| s.role == Role::ResultOfficer && Some(s.seq) > e.step_seq);
                (
                    format!("{} — {actor}", agency_of(here)),
                    format!("{} — bộ phận trả kết quả", agency_of(next)),
                    timing(here),
                )
            }
            "return_result" => (
                format!("{} — {actor}", d.agency_name),
                format!(
                    "{citizen} ({})",
                    details["method"]
                        .as_str()
                        .and_then(|m| m.parse::<ReturnMethod>().ok())
                        .map_or("", |m| m.label(Lang::Vi))
                ),
                timing(here),
            ),
            "request_supplement" | "reschedule" | "refuse" | "stop" => {
                (format!("{} — {actor}", agency_of(here)), citizen.clone(), "")
            }
            "receive_supplement" => (citizen.clone(), format!("{} — {actor}", d.agency_name), ""),
            _ => (format!("{} — {actor}", agency_of(here)), "—".into(), ""),
        };
        rows.push(HandoverRow {
            number: rows.len() + 1,
            from,
            to,
            at: event_instant(&e.at).map(when).unwrap_or_else(|| e.at.clone()),
            content: event_action_vi(&e.action),
            result: timing_vi(result),
            result_class: match result {
                "late" | "overdue" => "timing-late",
                "early" => "timing-early",
                _ => "timing-ok",
            },
            note: e.note.clone(),
        });
    }
    rows
}

async fn control_sheet(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    let v = load(&state, &user, &key).await?;
    let d = &v.dossier;
    let Some(received) = d.received_at else {
        return Err(PageError::not_found());
    };
    let names = full_names(&state).await?;
    let lead = lead_agency(&v.steps, &d.agency_name);
    let mut coordinating: Vec<String> = Vec::new();
    for s in &v.steps {
        if let Some(n) = &s.agency_name
            && *n != lead
            && !coordinating.contains(n)
        {
            coordinating.push(n.clone());
        }
    }
    let html = ControlForm {
        chrome: Chrome::current(),
        head: head(&state, &v, state.services.now()).await?,
        applicant_name: d.applicant_name.clone(),
        procedure_name: d.procedure_name.clone(),
        lead,
        coordinating: if coordinating.is_empty() {
            "Không".into()
        } else {
            coordinating.join("; ")
        },
        received: when(d.receipt_instant().unwrap_or(received)),
        clock_start: Some(received)
            .filter(|start| receipt_differs(d.receipt_instant(), *start))
            .map(when),
        appointment: when_opt(d.due_at),
        rows: handovers(&v, &names, state.services.now()),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// Form 07: GET /so-theo-doi?from=YYYY-MM-DD&to=YYYY-MM-DD&agency=CODE

struct RegisterRow {
    number: usize,
    key: String,
    procedure: String,
    applicant: String,
    lead: String,
    received: String,
    /// When the legal clock started, if not at the receipt (received after hours).
    clock_start: Option<String>,
    appointment: String,
    returned: String,
    /// Imported data can say so; live data cannot (a return follows its receipt's event).
    returned_before_receipt: bool,
    method: &'static str,
}

/// Whether the legal clock started later than the minute shown as the receipt.
fn receipt_differs(receipt: Option<DateTime<Utc>>, clock_start: DateTime<Utc>) -> bool {
    receipt.is_some_and(|r| when(r) != when(clock_start))
}

#[derive(Template)]
#[template(path = "form_07_register.html")]
struct RegisterPage {
    chrome: Chrome,
    from: String,
    to: String,
    from_vi: String,
    to_vi: String,
    agency_name: String,
    agencies: Vec<Choice>,
    rows: Vec<RegisterRow>,
    truncated: bool,
}

/// Most rows a register page lists (a month of a busy centre fits).
const REGISTER_MAX: usize = 5_000;

fn date_param(text: &str, default: NaiveDate) -> Result<NaiveDate, PageError> {
    if text.is_empty() {
        return Ok(default);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| calendar::check_date(*d).is_ok())
        .ok_or_else(|| bad_request(format!("Ngày không hợp lệ: “{text}” (năm-tháng-ngày).")))
}

/// The first and last day of the month of a date.
fn month_of(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = d.with_day(1).unwrap_or(d);
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    let last = next.and_then(|n| n.pred_opt()).unwrap_or(d);
    (first, last)
}

async fn register(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let visible = state.services.scope(&user).await?;
    if visible.is_empty() {
        return Err(PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Sổ theo dõi hồ sơ chỉ dành cho cán bộ, công chức.",
        ));
    }
    let (first, last) = month_of(calendar::local_date(state.services.now()));
    let from = date_param(param(&pairs, "from"), first)?;
    let to = date_param(param(&pairs, "to"), last)?;
    if from > to {
        return Err(bad_request("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc."));
    }
    if (to - from).num_days() > 366 {
        return Err(bad_request("Mỗi lần xem sổ tối đa một năm."));
    }
    let agency = param(&pairs, "agency");
    let (found, truncated) = state
        .services
        .dossier_register(&user, agency, from, to, REGISTER_MAX)
        .await?;
    let rows = found
        .into_iter()
        .enumerate()
        .map(|(i, (d, steps))| RegisterRow {
            number: i + 1,
            procedure: format!("{} — {}", d.procedure_code, d.procedure_name),
            applicant: d.applicant_name.clone(),
            lead: lead_agency(&steps, &d.agency_name),
            received: when_opt(d.receipt_instant()),
            clock_start: d
                .received_at
                .filter(|start| receipt_differs(d.receipt_instant(), *start))
                .map(when),
            appointment: when_opt(d.due_at),
            returned: when_opt(d.returned_at),
            returned_before_receipt: d
                .returned_at
                .zip(d.receipt_instant())
                .is_some_and(|(returned, received)| returned < received),
            method: d.return_method.map(|m| m.label(Lang::Vi)).unwrap_or(""),
            key: d.key(),
        })
        .collect();
    let all = state.services.agencies().await?;
    let agency_name = all
        .iter()
        .find(|a| a.code == agency)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| "Các cơ quan được xem".into());
    let html = RegisterPage {
        chrome: Chrome::current(),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        from_vi: from.format("%d/%m/%Y").to_string(),
        to_vi: to.format("%d/%m/%Y").to_string(),
        agency_name,
        agencies: all
            .iter()
            .filter(|a| visible.contains(&a.id))
            .map(|a| Choice::new(&a.code, &a.name, agency))
            .collect(),
        rows,
        truncated,
    }
    .render()?;
    Ok(Html(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_inline_svg() {
        let svg = qr_svg("/tra-cuu?ma=000.00.01.H56-251027-0001");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn lookup_urls_are_relative_without_a_public_url() {
        assert_eq!(lookup_url("", "A-1"), "/tra-cuu?ma=A-1");
        assert_eq!(
            lookup_url("https://dvc.example.vn/", "A-1"),
            "https://dvc.example.vn/tra-cuu?ma=A-1"
        );
    }

    #[test]
    fn months_have_their_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(month_of(d(2024, 2, 10)), (d(2024, 2, 1), d(2024, 2, 29)));
        assert_eq!(month_of(d(2025, 12, 31)), (d(2025, 12, 1), d(2025, 12, 31)));
    }
}
