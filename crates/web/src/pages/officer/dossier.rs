//! The officer's dossier page: everything about one dossier, its timeline and event log, the
//! forms for the actions the officer may take now, and downloads of its own files. Rules and
//! authorisation belong to `Services::act`; this module only shows them and posts to them.

use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::{PageError, page_message, status_of};
use crate::pages::Chrome;
use crate::pages::common::{
    Errors, bad_request, csrf_rejected, event_action_vi, event_instant, file_response, full_names, is_sha256,
    person, see_other, status_vi, timing_vi, url_encode, when, when_opt,
};
use crate::pages::public::{Choice, limit_vi};
use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDateTime;
use motcua_domain::calendar;
use motcua_domain::dossier::decide::{self, Acting};
use motcua_domain::dossier::machine::Action;
use motcua_domain::dossier::record::open_step;
use motcua_domain::dossier::{ApplicantKind, Channel, Status, Step};
use motcua_domain::msg::Lang;
use motcua_domain::procedure::AgencyRule;
use motcua_service::ServiceError;
use motcua_service::dossiers::{ActionInput, Actor, View, step_timing};
use motcua_store::repo::events::Event;
use motcua_store::repo::{agencies, files, users};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ho-so/{key}", get(show))
        .route(
            "/ho-so/{key}/xu-ly/{action}",
            post(take_action).layer(DefaultBodyLimit::max(crate::linger::MAX_BODY_BYTES)),
        )
        .route("/ho-so/{key}/xac-nhan/{action}", get(confirm))
        .route("/ho-so/{key}/tep/{sha256}", get(download))
}

/// Reading a dossier for a page: someone else's dossier is simply not found.
pub(super) async fn load(state: &AppState, user: &CurrentUser, key: &str) -> Result<View, PageError> {
    Ok(state.services.dossier(user, key).await?)
}

/// The time limit a dossier was received under (its case and channel), in Vietnamese.
pub(super) async fn statutory_limit(state: &AppState, v: &View) -> Result<(String, String), PageError> {
    let d = &v.dossier;
    let Ok(stored) = state
        .services
        .procedure(&d.procedure_code, Some(d.procedure_version))
        .await
    else {
        return Ok((d.case_code.clone(), String::new()));
    };
    let spec = stored.spec;
    let Some(case) = spec.case(&d.case_code).or(spec.cases.first()) else {
        return Ok((d.case_code.clone(), limit_vi(&spec.time_limit)));
    };
    Ok((
        case.name.clone(),
        limit_vi(spec.limit_text(case, d.channel == Channel::Online)),
    ))
}

/// A file sent with a page form.
pub(super) struct Upload {
    pub field: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A multipart form as posted: its text fields and its files (empty file inputs left out).
pub(super) struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Posted {
    /// The first value of a text field ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == name)
    }
}

/// Reads a whole multipart form (the body limit bounds it) before anything is decided, so
/// that the CSRF token is checked before any file is stored.
pub(super) async fn read_posted(mp: Result<Multipart, MultipartRejection>) -> Result<Posted, PageError> {
    let unreadable = || bad_request("Không đọc được biểu mẫu đã gửi. Vui lòng tải lại trang và gửi lại.");
    let too_large = || {
        PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Dữ liệu gửi lên quá lớn: mỗi tệp tối đa 10 MiB, mỗi lần gửi tối đa 20 MiB.",
        )
    };
    let mut mp = mp.map_err(|_| unreadable())?;
    let mut posted = Posted {
        fields: Vec::new(),
        files: Vec::new(),
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(unreadable()),
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let read = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                unreadable()
            }
        };
        match filename {
            Some(filename) => {
                let bytes = field.bytes().await.map_err(read)?;
                // An empty file input still sends a part with no name and no bytes.
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                posted.files.push(Upload {
                    field: name,
                    filename,
                    bytes: bytes.to_vec(),
                });
            }
            None => {
                let text = field.text().await.map_err(read)?;
                posted.fields.push((name, text));
            }
        }
    }
    crate::pages::common::refuse_nul(posted.fields.iter().map(|(_, v)| v.as_str()))?;
    Ok(posted)
}

/// The last path segment of a browser's filename, at most 200 characters.
fn display_name(filename: &str) -> String {
    let name = filename.trim().rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = name.chars().take(200).collect();
    if name.is_empty() {
        "tep-dinh-kem".into()
    } else {
        name
    }
}

/// Stores a scan sent with a form; its `sha256:…` reference, or why it was refused (in the
/// page's language).
pub(super) async fn store_upload(state: &AppState, u: &Upload) -> Result<String, String> {
    match state
        .services
        .store_scan(&display_name(&u.filename), &u.bytes)
        .await
    {
        Ok(meta) => Ok(format!("sha256:{}", meta.sha256)),
        Err(e) => Err(page_message(&e, crate::i18n::lang())),
    }
}

// ---------------------------------------------------------------------------------------
// GET /ho-so/{key}

struct StepRow {
    seq: i64,
    name: String,
    agency: String,
    role: String,
    assignee: String,
    started: String,
    due: String,
    completed: String,
    completed_by: String,
    /// The action of another step that closed this one with it (the approver's approval
    /// covering the clerk's issuing), in Vietnamese; empty when the step was closed by its own.
    covered_by: &'static str,
    timing: &'static str,
    timing_class: &'static str,
    current: bool,
    note: String,
}

struct ComponentRow {
    kind: &'static str,
    name: String,
    originals: i64,
    copies: i64,
    required: bool,
    provided: bool,
    file_url: Option<String>,
    file_name: String,
}

struct EventRow {
    seq: i64,
    at: String,
    actor: String,
    action: &'static str,
    from: &'static str,
    to: &'static str,
    note: String,
}

/// The form of one action the officer may take now.
struct ActionForm {
    action: &'static str,
    label: &'static str,
    needs_reason: bool,
    note_label: &'static str,
    note: String,
    assignees: Vec<Choice>,
    assignee_role: String,
    to_agencies: Vec<Choice>,
    to_agency_step: String,
    new_due: bool,
    /// Whether the form has a file input, and whether it must be filled.
    file: bool,
    file_required: bool,
    file_label: &'static str,
    result_number: bool,
    method: bool,
    error: Option<String>,
    /// It ends the dossier: the page links to a confirmation page holding the real form.
    destructive: bool,
    consequence: &'static str,
}

struct FormLink {
    url: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "dossier_view.html")]
struct DossierPage {
    chrome: Chrome,
    key: String,
    code: Option<String>,
    version: i64,
    status_label: &'static str,
    status_number: u8,
    procedure_code: String,
    procedure_name: String,
    procedure_version: i64,
    case_name: String,
    time_limit: String,
    channel: &'static str,
    /// The national portal's id of a dossier submitted there.
    portal_id: Option<String>,
    agency_name: String,
    applicant_kind: &'static str,
    applicant_name: String,
    id_label: &'static str,
    id_number: String,
    /// Sent from an account verified with the national identity (VNeID).
    vneid_verified: bool,
    phone: String,
    email: String,
    address: String,
    submitter_name: String,
    request: String,
    submitted: Option<String>,
    accept_due: Option<String>,
    received: Option<String>,
    /// When the legal clock started; shown beside the receipt, said so when it differs.
    clock_start: Option<String>,
    after_hours: bool,
    received_by: String,
    due: Option<String>,
    original_due: Option<String>,
    paused: Option<String>,
    rescheduled: Option<String>,
    finished: Option<String>,
    returned: Option<String>,
    return_method: Option<&'static str>,
    /// How the applicant asked for the result: (method, as said with the postal address).
    delivery: Option<(&'static str, String)>,
    /// The result file's verification code (the public check).
    result_code: Option<String>,
    result_number: Option<String>,
    /// The fee and where its payment stands.
    fee: Option<super::payment::FeeRow>,
    overdue: bool,
    components: Vec<ComponentRow>,
    steps: Vec<StepRow>,
    events: Vec<EventRow>,
    chain_valid: bool,
    actions: Vec<ActionForm>,
    form_links: Vec<FormLink>,
    flash: Option<String>,
    errors: Errors,
}

impl DossierPage {
    /// The return method checked at first: the one the applicant asked for, else the desk.
    fn wanted(&self, method: &&str) -> bool {
        match &self.delivery {
            Some((m, _)) => m == method,
            None => *method == "desk",
        }
    }
}

/// A form field of an action form kept after a refusal.
#[derive(Default)]
struct Kept {
    action: Option<Action>,
    note: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct ShowQuery {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    let v = load(&state, &user, &key).await?;
    let flash = q
        .done
        .as_deref()
        .and_then(|a| a.parse::<Action>().ok())
        .map(|a| format!("Đã thực hiện: {}.", a.label_vi()));
    Ok(Html(
        render(&state, &user, &v, flash, Errors::default(), Kept::default()).await?,
    ))
}

/// Actions that end a dossier for good: shown in red, confirmed on a page of their own.
fn ends_the_dossier(action: Action) -> bool {
    matches!(action, Action::Refuse | Action::Stop | Action::Withdraw)
}

/// What an action that ends the dossier does, said before it is confirmed.
fn consequence(action: Action) -> &'static str {
    match action {
        Action::Refuse => {
            "Hồ sơ không được tiếp nhận và kết thúc tại đây; hồ sơ vẫn được cấp mã để tra cứu. \
             Lý do được in trên Mẫu 03 gửi người nộp. Không thể hoàn tác."
        }
        Action::Stop => {
            "Việc giải quyết hồ sơ dừng lại và hồ sơ kết thúc; bước đang xử lý được đóng. \
             Lý do được in trên Mẫu 05 (Thông báo dừng giải quyết hồ sơ). Không thể hoàn tác."
        }
        Action::Withdraw => {
            "Hồ sơ được rút theo đề nghị của người nộp và kết thúc; bước đang xử lý được đóng, \
             không cơ quan nào tiếp tục giải quyết. Không thể hoàn tác."
        }
        _ => "",
    }
}

/// The order the page offers the actions in, most likely first: the step's own move
/// forward, then what pauses the dossier, then what ends it.
fn likelihood(action: Action) -> u8 {
    match action {
        Action::Accept => 0,
        Action::Transfer => 1,
        Action::Assign => 2,
        Action::CompleteStep => 3,
        Action::Approve => 4,
        Action::ReturnResult => 5,
        Action::ReceiveSupplement => 6,
        Action::ConfirmPayment => 7,
        Action::RequestSupplement => 8,
        Action::RequestPayment => 9,
        Action::Reschedule => 10,
        Action::Refuse => 11,
        Action::Withdraw => 12,
        Action::Stop => 13,
    }
}

fn note_label(action: Action) -> &'static str {
    match action {
        Action::RequestSupplement => "Nội dung cần bổ sung, hoàn thiện (in trên Mẫu 02)",
        Action::Refuse => "Lý do từ chối tiếp nhận (in trên Mẫu 03)",
        Action::Reschedule => "Lý do chậm trả kết quả, lời xin lỗi (in trên Mẫu 04)",
        Action::Stop => "Lý do dừng giải quyết (in trên Mẫu 05)",
        Action::Withdraw => "Lý do rút hồ sơ (theo đề nghị của người nộp)",
        _ => "Ghi chú (không bắt buộc)",
    }
}

async fn action_forms(
    state: &AppState,
    user: &CurrentUser,
    v: &View,
    kept: &Kept,
) -> Result<Vec<ActionForm>, PageError> {
    let cur_idx = open_step(&v.steps);
    let mut out = Vec::new();
    let mut all_agencies = None;
    let access = user.access();
    let by = Acting::Officer {
        user_id: user.principal.user_id,
        access: &access,
    };
    // Who may take what is decided once, in the domain (`decide::available`); the page
    // only orders it.
    let mut actions = decide::available(&v.dossier, &v.steps, by);
    actions.sort_by_key(|a| likelihood(*a));
    for action in actions {
        let mut form = ActionForm {
            action: action.as_str(),
            label: action.label_vi(),
            needs_reason: action.needs_reason(),
            note_label: note_label(action),
            note: String::new(),
            assignees: Vec::new(),
            assignee_role: String::new(),
            to_agencies: Vec::new(),
            to_agency_step: String::new(),
            new_due: action == Action::Reschedule,
            file: matches!(action, Action::Approve | Action::ReceiveSupplement),
            file_required: action == Action::Approve,
            file_label: match action {
                Action::Approve => "Văn bản kết quả đã ký (PDF, JPEG hoặc PNG, tối đa 10 MiB)",
                _ => "Bản quét hồ sơ bổ sung (không bắt buộc; PDF, JPEG hoặc PNG, tối đa 10 MiB)",
            },
            result_number: action == Action::Approve,
            method: action == Action::ReturnResult,
            error: None,
            destructive: ends_the_dossier(action),
            consequence: consequence(action),
        };
        if kept.action == Some(action) {
            form.note = kept.note.clone();
            form.error = kept.error.clone();
        }
        if action == Action::Assign
            && let Some(i) = cur_idx
        {
            let cur = &v.steps[i];
            let target = &v.steps[decide::assignment_target(&v.steps, i)];
            let agency_code = target
                .agency_code
                .clone()
                .or(cur.agency_code.clone())
                .unwrap_or_default();
            form.assignee_role = target.role.label_vi().to_string();
            form.assignees = users::list(state.services.db(), Some(&agency_code))
                .await?
                .into_iter()
                .filter(|u| {
                    !u.disabled
                        && u.roles
                            .iter()
                            .any(|(a, r)| *a == agency_code && *r == target.role)
                })
                .map(|u| Choice {
                    label: format!("{} ({})", u.full_name, u.username),
                    selected: target.assignee_username.as_deref() == Some(u.username.as_str()),
                    value: u.username,
                })
                .collect();
        }
        if matches!(action, Action::Transfer | Action::CompleteStep)
            && let Some(i) = cur_idx
            && let Some(next) = v.steps.get(i + 1)
            && next.agency_id.is_none()
        {
            let list = match &all_agencies {
                Some(l) => l,
                None => all_agencies.insert(agencies::list(state.services.db()).await?),
            };
            let cur_code = v.steps[i].agency_code.clone();
            form.to_agency_step = next.name.clone();
            form.to_agencies = list
                .iter()
                .filter(|a| next.agency_rule != AgencyRule::Child || a.parent_code == cur_code)
                .map(|a| Choice::new(&a.code, &a.name, ""))
                .collect();
        }
        out.push(form);
    }
    Ok(out)
}

/// The event that closed a step: by who closed it, at that instant (to the second: the step
/// and the event are written from the same clock reading).
fn closing_event<'e>(events: &'e [Event], s: &Step) -> Option<&'e Event> {
    let (at, by) = (s.completed_at?, s.completed_by.as_deref()?);
    events.iter().find(|e| {
        e.actor == by && event_instant(&e.at).is_some_and(|t| (t - at).num_milliseconds().abs() < 1000)
    })
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    v: &View,
    flash: Option<String>,
    errors: Errors,
    kept: Kept,
) -> Result<String, PageError> {
    let d = &v.dossier;
    let now = state.services.now();
    let key = d.key();
    let names = full_names(state).await?;
    let (case_name, time_limit) = statutory_limit(state, v).await?;
    let status = v.status();
    let mut components = Vec::new();
    for c in &v.components {
        let file_name = match &c.file_sha256 {
            Some(sha) => files::meta(state.services.db(), sha)
                .await?
                .map(|m| m.filename)
                .unwrap_or_default(),
            None => String::new(),
        };
        components.push(ComponentRow {
            kind: match c.kind.as_str() {
                "supplement" => "Hồ sơ bổ sung",
                "result" => "Kết quả giải quyết",
                _ => "Thành phần hồ sơ",
            },
            name: c.name.clone(),
            originals: c.originals,
            copies: c.copies,
            required: c.required,
            provided: c.provided,
            file_url: c
                .file_sha256
                .as_ref()
                .map(|sha| format!("/ho-so/{key}/tep/{sha}")),
            file_name,
        });
    }
    let steps = v
        .steps
        .iter()
        .map(|s| {
            let timing = step_timing(s, now).unwrap_or("");
            StepRow {
                seq: s.seq,
                name: s.name.clone(),
                agency: s
                    .agency_name
                    .clone()
                    .unwrap_or_else(|| "Chưa xác định (chọn khi chuyển bước)".into()),
                role: s.role.label_vi().to_string(),
                assignee: s
                    .assignee_username
                    .as_deref()
                    .map(|u| person(&names, u))
                    .unwrap_or_default(),
                started: when_opt(s.started_at),
                due: when_opt(s.due_at),
                completed: when_opt(s.completed_at),
                completed_by: s
                    .completed_by
                    .as_deref()
                    .map(|u| person(&names, u))
                    .unwrap_or_default(),
                covered_by: closing_event(&v.events, s)
                    .filter(|e| e.step_seq != Some(s.seq))
                    .map(|e| event_action_vi(&e.action))
                    .unwrap_or(""),
                timing: timing_vi(timing),
                timing_class: match timing {
                    "late" | "overdue" => "timing-late",
                    "early" => "timing-early",
                    _ => "timing-ok",
                },
                current: s.started_at.is_some() && s.completed_at.is_none(),
                note: s.note.clone(),
            }
        })
        .collect();
    let events = v
        .events
        .iter()
        .map(|e| EventRow {
            seq: e.seq,
            at: event_instant(&e.at).map(when).unwrap_or_else(|| e.at.clone()),
            actor: person(&names, &e.actor),
            action: event_action_vi(&e.action),
            // An intake has no status before it.
            from: if e.action == "receive" {
                "—"
            } else {
                status_vi(&e.from_status)
            },
            to: status_vi(&e.to_status),
            note: e.note.clone(),
        })
        .collect();
    let has = |action: &str| v.events.iter().any(|e| e.action == action);
    let mut form_links = Vec::new();
    if d.code.is_some() && d.received_at.is_some() {
        form_links.push(FormLink {
            url: format!("/ho-so/{key}/phieu-tiep-nhan"),
            label: "Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        });
    }
    for (action, path, label) in [
        (
            "request_supplement",
            "phieu-bo-sung",
            "Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        ),
        (
            "refuse",
            "phieu-tu-choi",
            "Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ",
        ),
        (
            "reschedule",
            "phieu-xin-loi",
            "Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả",
        ),
        (
            "stop",
            "thong-bao-dung",
            "Mẫu 05 — Thông báo dừng giải quyết hồ sơ",
        ),
    ] {
        if has(action) {
            form_links.push(FormLink {
                url: format!("/ho-so/{key}/{path}"),
                label,
            });
        }
    }
    if d.received_at.is_some() {
        form_links.push(FormLink {
            url: format!("/ho-so/{key}/phieu-kiem-soat"),
            label: "Mẫu 06 — Phiếu kiểm soát quá trình giải quyết hồ sơ",
        });
    }
    let fee = super::payment::fee_row(state, d).await?;
    if let Some(url) = fee.as_ref().and_then(|f| f.receipt.clone()) {
        form_links.push(FormLink {
            url,
            label: "Biên lai thu phí, lệ phí",
        });
    }
    let in_process = matches!(
        status,
        Status::Received | Status::Processing | Status::AwaitingPayment
    );
    let actions = action_forms(state, user, v, &kept).await?;
    let organisation = d.applicant_kind == ApplicantKind::Organisation;
    let delivery = state.services.delivery_of(d.id).await?.map(|(m, address)| {
        let said = match address.is_empty() {
            true => m.label(Lang::Vi).to_string(),
            false => format!("{}: {address}", m.label(Lang::Vi)),
        };
        (m.as_str(), said)
    });
    Ok(DossierPage {
        result_code: d
            .result_file
            .as_deref()
            .map(motcua_domain::authentic::verification_code),
        delivery,
        chrome: Chrome::current(),
        key: key.clone(),
        code: d.code.clone(),
        version: d.version,
        status_label: status.label_vi(),
        status_number: status.number(),
        procedure_code: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        procedure_version: d.procedure_version,
        case_name,
        time_limit,
        channel: d.channel.label(Lang::Vi),
        portal_id: d.portal_id.clone(),
        agency_name: d.agency_name.clone(),
        applicant_kind: if organisation { "Tổ chức" } else { "Công dân" },
        applicant_name: d.applicant_name.clone(),
        id_label: if organisation {
            "Mã số thuế"
        } else {
            "Số định danh cá nhân"
        },
        id_number: d.applicant_id_number.clone(),
        vneid_verified: d.vneid_verified,
        phone: d.phone.clone(),
        email: d.email.clone(),
        address: d.address.clone(),
        submitter_name: d.submitter_name.clone(),
        request: d.request.clone(),
        submitted: d.submitted_at.map(when),
        accept_due: d.accept_due_at.filter(|_| status == Status::Submitted).map(when),
        received: d.receipt_instant().map(when),
        clock_start: d.received_at.map(when),
        after_hours: d
            .receipt_instant()
            .zip(d.received_at)
            .is_some_and(|(r, s)| when(r) != when(s)),
        received_by: if d.received_by.is_empty() {
            String::new()
        } else {
            person(&names, &d.received_by)
        },
        due: d.due_at.map(when),
        original_due: d.original_due_at.filter(|o| Some(*o) != d.due_at).map(when),
        paused: d.paused_at.map(when),
        rescheduled: d.rescheduled_at.map(when),
        finished: d.finished_at.map(when),
        returned: d.returned_at.map(when),
        return_method: d.return_method.map(|m| m.label(Lang::Vi)),
        result_number: d.result_number.clone(),
        fee,
        overdue: in_process && d.paused_at.is_none() && d.due_at.is_some_and(|due| due < now),
        components,
        steps,
        events,
        chain_valid: matches!(v.chain, Some(Ok(()))),
        actions,
        form_links,
        flash,
        errors,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------
// GET /ho-so/{key}/xac-nhan/{action}: the confirmation of an action that ends the dossier

#[derive(Template)]
#[template(path = "dossier_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    key: String,
    code: String,
    version: i64,
    status_label: &'static str,
    applicant_name: String,
    procedure_name: String,
    action: &'static str,
    label: &'static str,
    consequence: &'static str,
    note_label: &'static str,
    note: String,
    note_error: Option<String>,
    errors: Errors,
}

/// The confirmation page of `action` (one of [`ends_the_dossier`]): what will happen, and
/// the real form. With `kept`, the note typed and why it was refused.
fn confirm_page(v: &View, action: Action, kept: &Kept) -> Result<String, PageError> {
    let d = &v.dossier;
    let mut errors = Errors::default();
    if let Some(e) = &kept.error {
        errors.push(format!("{}-note", action.as_str()), e.clone());
    }
    Ok(ConfirmPage {
        chrome: Chrome::current(),
        key: d.key(),
        code: d.code.clone().unwrap_or_else(|| d.key()),
        version: d.version,
        status_label: v.status().label_vi(),
        applicant_name: d.applicant_name.clone(),
        procedure_name: d.procedure_name.clone(),
        action: action.as_str(),
        label: action.label_vi(),
        consequence: consequence(action),
        note_label: note_label(action),
        note: kept.note.clone(),
        note_error: kept.error.clone(),
        errors,
    }
    .render()?)
}

async fn confirm(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((key, action)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let action: Action = action.parse().map_err(|_| PageError::not_found())?;
    if !ends_the_dossier(action) {
        return Err(PageError::not_found());
    }
    let v = load(&state, &user, &key).await?;
    let access = user.access();
    let by = Acting::Officer {
        user_id: user.principal.user_id,
        access: &access,
    };
    if !decide::available(&v.dossier, &v.steps, by).contains(&action) {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            format!(
                "Không thể thực hiện “{}” với hồ sơ này lúc này (trạng thái: {}).",
                action.label_vi(),
                v.status().label_vi()
            ),
        ));
    }
    Ok(Html(confirm_page(&v, action, &Kept::default())?))
}

// ---------------------------------------------------------------------------------------
// POST /ho-so/{key}/xu-ly/{action}

/// A `datetime-local` value read on the legal clock, as RFC 3339.
fn local_input_to_rfc3339(text: &str) -> Option<String> {
    let text = text.trim();
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    calendar::check_date(naive.date()).ok()?;
    Some(calendar::to_local(calendar::from_local(naive)).to_rfc3339())
}

async fn take_action(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((key, action)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let action: Action = action.parse().map_err(|_| PageError::not_found())?;
    let posted = read_posted(mp).await?;
    if !user.csrf_ok(posted.get("csrf")) {
        return Err(csrf_rejected());
    }
    let opt = |name: &str| Some(posted.get(name).trim().to_string()).filter(|s| !s.is_empty());
    let mut input = ActionInput {
        note: posted.get("note").trim().to_string(),
        expected_version: None,
        assignee: opt("assignee"),
        to_agency: opt("to_agency"),
        new_due: None,
        file: None,
        result_number: opt("result_number"),
        method: opt("method"),
    };
    let mut problem: Option<String> = None;
    if let Some(v) = opt("expected_version") {
        match v.parse::<i64>() {
            Ok(v) => input.expected_version = Some(v),
            Err(_) => problem = Some("Biểu mẫu thiếu phiên bản hồ sơ; vui lòng tải lại trang.".into()),
        }
    }
    if let Some(text) = opt("new_due") {
        match local_input_to_rfc3339(&text) {
            Some(t) => input.new_due = Some(t),
            None => problem = Some("Ngày giờ hẹn trả mới không hợp lệ (ngày/tháng/năm giờ:phút).".into()),
        }
    }
    // The dossier must be readable before anything of the officer's is stored.
    let before = load(&state, &user, &key).await?;
    if problem.is_none()
        && let Some(u) = posted.file("file")
    {
        match store_upload(&state, u).await {
            Ok(reference) => input.file = Some(reference),
            Err(p) => problem = Some(p),
        }
    }
    let kept = |error: String| Kept {
        action: Some(action),
        note: posted.get("note").to_string(),
        error: Some(error),
    };
    let anchor = format!("act-{}", action.as_str());
    if let Some(p) = problem {
        if ends_the_dossier(action) {
            let html = confirm_page(&before, action, &kept(p))?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
        let mut errors = Errors::default();
        errors.push(&anchor, p.clone());
        let html = render(&state, &user, &before, None, errors, kept(p)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    match state
        .services
        .act(Actor::Officer(&user), &key, action, input)
        .await
    {
        Ok(v) => Ok(see_other(&format!(
            "/ho-so/{}?done={}",
            url_encode(&v.dossier.key()),
            action.as_str()
        ))),
        Err(e @ ServiceError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let now = load(&state, &user, &key).await?;
            let message = page_message(&e, crate::i18n::lang());
            // A refused confirmation comes back to its own page while the action is still
            // possible (a missing reason); otherwise to the dossier as it is now.
            let access = user.access();
            let by = Acting::Officer {
                user_id: user.principal.user_id,
                access: &access,
            };
            if ends_the_dossier(action) && decide::available(&now.dossier, &now.steps, by).contains(&action) {
                let html = confirm_page(&now, action, &kept(message))?;
                return Ok((status_of(&e), Html(html)).into_response());
            }
            let mut errors = Errors::default();
            errors.push(&anchor, message.clone());
            let html = render(&state, &user, &now, None, errors, kept(message)).await?;
            Ok((status_of(&e), Html(html)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// GET /ho-so/{key}/tep/{sha256}

/// Serves a file only when it belongs to this dossier and the officer may read the dossier:
/// the store is content-addressed and holds every citizen's scans.
async fn download(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((key, sha)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if !is_sha256(&sha) {
        return Err(PageError::not_found());
    }
    let v = load(&state, &user, &key).await?;
    let belongs = v
        .components
        .iter()
        .any(|c| c.file_sha256.as_deref() == Some(sha.as_str()))
        || v.dossier.result_file.as_deref() == Some(sha.as_str());
    if !belongs {
        return Err(PageError::not_found());
    }
    let Some((meta, bytes)) = state.services.file(&sha).await? else {
        return Err(PageError::not_found());
    };
    Ok(file_response(&meta, bytes, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_is_read_on_the_legal_clock() {
        assert_eq!(
            local_input_to_rfc3339("2026-03-02T16:30").as_deref(),
            Some("2026-03-02T16:30:00+07:00")
        );
        assert_eq!(local_input_to_rfc3339("02/03/2026 16:30"), None);
        assert_eq!(local_input_to_rfc3339(""), None);
    }

    #[test]
    fn times_are_shown_on_the_legal_clock() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-10-27T00:05:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(when(t), "07:05 27/10/2025");
        assert_eq!(when_opt(None), "—");
    }

    #[test]
    fn browser_filenames_keep_only_their_last_segment() {
        assert_eq!(display_name("C:\\scans\\don.pdf"), "don.pdf");
        assert_eq!(display_name("  "), "tep-dinh-kem");
    }
}
