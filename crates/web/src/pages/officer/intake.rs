//! Receiving a dossier at the desk (`/ho-so/tiep-nhan`): choose the procedure, then one form
//! with the applicant, the checklist and the scans. The rules of intake belong to
//! `Services::intake`; this module turns the form into its input and its refusals back.

use super::dossier::{Posted, read_posted, store_upload};
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::{PageError, page_message, status_of};
use crate::pages::Chrome;
use crate::pages::common::{Errors, bad_request, csrf_rejected, param, see_other, url_encode};
use crate::pages::public::{Choice, limit_vi, page_of};
use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use motcua_domain::access::Role;
use motcua_domain::procedure::{Method, ProcedureSpec};
use motcua_service::catalog::{ProcedureFilter, StoredProcedure};
use motcua_service::dossiers::{Actor, ApplicantInput, ComponentInput, IntakeInput};
use motcua_service::files::check_scan;
use motcua_service::{Lang, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/ho-so/tiep-nhan",
            get(start)
                .post(receive)
                .layer(DefaultBodyLimit::max(crate::linger::MAX_BODY_BYTES)),
        )
        .route(
            "/ho-so/tiep-nhan/mau-02",
            post(guidance).layer(DefaultBodyLimit::max(crate::linger::MAX_BODY_BYTES)),
        )
}

/// Procedures per page when choosing one.
const PER_PAGE: u32 = 20;

/// The agencies where the user receives dossiers: (code, name).
async fn receiving_agencies(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, PageError> {
    let all = state.services.agencies().await?;
    let mut out: Vec<(String, String)> = user
        .principal
        .roles
        .iter()
        .filter(|(_, _, role)| *role == Role::ReceivingOfficer)
        .filter_map(|(_, code, _)| all.iter().find(|a| a.code == *code))
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect();
    out.dedup();
    if out.is_empty() {
        return Err(forbidden(
            "Chỉ công chức tiếp nhận hồ sơ (bộ phận một cửa) mới tiếp nhận được hồ sơ.",
        ));
    }
    Ok(out)
}

fn forbidden(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::FORBIDDEN, message)
}

// ---------------------------------------------------------------------------------------
// Step 1: choose the procedure and the receiving agency.

struct ProcedureRow {
    code: String,
    name: String,
    field_name: String,
    limit: String,
    url: String,
}

#[derive(Template)]
#[template(path = "dossier_intake_choose.html")]
struct ChoosePage {
    chrome: Chrome,
    agencies: Vec<Choice>,
    q: String,
    rows: Vec<ProcedureRow>,
    total: i64,
    page: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let mine = receiving_agencies(&state, &user).await?;
    let agency = match param(&pairs, "agency") {
        "" => mine[0].0.clone(),
        code if mine.iter().any(|(c, _)| c == code) => code.to_string(),
        code => {
            return Err(forbidden(format!(
                "Bạn không phải công chức tiếp nhận của cơ quan mã {code}."
            )));
        }
    };
    let procedure = param(&pairs, "procedure");
    if !procedure.is_empty() {
        let stored = state
            .services
            .procedure(procedure, None)
            .await
            .map_err(|_| bad_request(format!("Không có thủ tục mã “{procedure}”.")))?;
        if !stored.spec.agencies.contains(&agency) {
            return Err(bad_request(format!(
                "Cơ quan mã {agency} không thực hiện thủ tục {procedure}."
            )));
        }
        let agency_name = mine
            .iter()
            .find(|(c, _)| *c == agency)
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        let form = IntakeForm::blank(&stored.spec, &agency);
        return Ok(Html(intake_page(
            &stored.spec,
            &agency_name,
            form,
            Errors::default(),
        )?));
    }
    let q = param(&pairs, "q");
    if q.chars().count() > 200 {
        return Err(bad_request("Từ khóa tìm kiếm quá dài."));
    }
    let page = page_of(param(&pairs, "page"));
    let filter = ProcedureFilter {
        q: (!q.is_empty()).then(|| q.to_string()),
        agency: Some(agency.clone()),
        ..Default::default()
    };
    let (found, total) = state.services.search_procedures(&filter, page).await?;
    let url = |p: u32| {
        format!(
            "/ho-so/tiep-nhan?agency={}&q={}&page={p}",
            url_encode(&agency),
            url_encode(q)
        )
    };
    let html = ChoosePage {
        chrome: Chrome::current(),
        agencies: mine.iter().map(|(c, n)| Choice::new(c, n, &agency)).collect(),
        rows: found
            .into_iter()
            .map(|p| ProcedureRow {
                url: format!(
                    "/ho-so/tiep-nhan?procedure={}&agency={}",
                    url_encode(&p.code),
                    url_encode(&agency)
                ),
                limit: limit_vi(&p.time_limit),
                code: p.code,
                name: p.name,
                field_name: p.field_name,
            })
            .collect(),
        q: q.to_string(),
        total,
        page,
        prev_url: (page > 1).then(|| url(page - 1)),
        next_url: (i64::from(page) * i64::from(PER_PAGE) < total).then(|| url(page + 1)),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// Step 2: the intake form. Field names: csrf, procedure, agency, channel, case, kind, name,
// id_number, phone, email, address, submitter_name, request, and per component i:
// c{i}_provided (checkbox), c{i}_file (file), c{i}_ref/c{i}_ref_name (a scan already stored
// by a refused submission, so the officer does not upload it again).

#[derive(Debug, Clone, Default)]
struct ComponentState {
    provided: bool,
    file_ref: String,
    file_name: String,
}

#[derive(Debug, Clone, Default)]
struct IntakeForm {
    agency: String,
    channel: String,
    case: String,
    kind: String,
    name: String,
    id_number: String,
    phone: String,
    email: String,
    address: String,
    submitter_name: String,
    request: String,
    components: Vec<ComponentState>,
}

impl IntakeForm {
    fn blank(spec: &ProcedureSpec, agency: &str) -> Self {
        IntakeForm {
            agency: agency.to_string(),
            channel: "direct".into(),
            case: spec.cases.first().map(|c| c.code.clone()).unwrap_or_default(),
            kind: "person".into(),
            components: vec![ComponentState::default(); spec.components.len()],
            ..Default::default()
        }
    }

    fn from_posted(p: &Posted, n_components: usize) -> Self {
        let text = |k: &str| p.get(k).trim().to_string();
        IntakeForm {
            agency: text("agency"),
            channel: text("channel"),
            case: text("case"),
            kind: text("kind"),
            name: text("name"),
            id_number: text("id_number"),
            phone: text("phone"),
            email: text("email"),
            address: text("address"),
            submitter_name: text("submitter_name"),
            request: p.get("request").trim().to_string(),
            components: (0..n_components)
                .map(|i| {
                    let file_ref = text(&format!("c{i}_ref"));
                    ComponentState {
                        provided: p.has(&format!("c{i}_provided")),
                        file_name: if file_ref.is_empty() {
                            String::new()
                        } else {
                            text(&format!("c{i}_ref_name"))
                        },
                        file_ref,
                    }
                })
                .collect(),
        }
    }
}

struct ComponentRow {
    index: usize,
    name: String,
    originals: u32,
    copies: u32,
    required: bool,
    provided: bool,
    file_ref: String,
    file_name: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "dossier_intake.html")]
struct IntakePage {
    chrome: Chrome,
    procedure_code: String,
    procedure_name: String,
    time_limit: String,
    agency: String,
    agency_name: String,
    postal: bool,
    cases: Vec<Choice>,
    form: IntakeForm,
    components: Vec<ComponentRow>,
    errors: Errors,
}

fn intake_page(
    spec: &ProcedureSpec,
    agency_name: &str,
    form: IntakeForm,
    errors: Errors,
) -> Result<String, PageError> {
    let components = spec
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let st = form.components.get(i).cloned().unwrap_or_default();
            let anchor = format!("c{i}_file");
            ComponentRow {
                index: i,
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
                required: c.required,
                provided: st.provided,
                file_ref: st.file_ref,
                file_name: st.file_name,
                error: errors.for_field(&anchor).map(str::to_string),
            }
        })
        .collect();
    Ok(IntakePage {
        chrome: Chrome::current(),
        procedure_code: spec.code.clone(),
        procedure_name: spec.name.clone(),
        time_limit: limit_vi(&spec.time_limit),
        agency: form.agency.clone(),
        agency_name: agency_name.to_string(),
        postal: spec.methods.contains(&Method::Postal),
        cases: spec
            .cases
            .iter()
            .map(|c| {
                let limit = c.time_limit.as_deref().unwrap_or(&spec.time_limit);
                Choice::new(&c.code, &format!("{} ({})", c.name, limit_vi(limit)), &form.case)
            })
            .collect(),
        form,
        components,
        errors,
    }
    .render()?)
}

/// Where an invalid field of `Services::intake` is on the form.
fn anchor_of(path: &str) -> String {
    match path {
        "channel" => "channel-direct".into(),
        "agency" | "procedure" | "" => "procedure".into(),
        "applicant.kind" => "kind-person".into(),
        p if p.starts_with("applicant.") => p.trim_start_matches("applicant.").into(),
        p if p.starts_with("components[") => {
            let i = p
                .trim_start_matches("components[")
                .split(']')
                .next()
                .unwrap_or("0");
            format!("c{i}_file")
        }
        other => other.into(),
    }
}

/// The desk's intake form as posted (its token checked), its procedure, and the receiving
/// agency's name (forbidden unless the officer receives for it): what receiving and printing
/// Form 02 both start from.
async fn read_desk_form(
    state: &AppState,
    user: &CurrentUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(Posted, StoredProcedure, IntakeForm, String), PageError> {
    let mine = receiving_agencies(state, user).await?;
    let posted = read_posted(mp).await?;
    if !user.csrf_ok(posted.get("csrf")) {
        return Err(csrf_rejected());
    }
    let procedure = posted.get("procedure").trim();
    let stored = state
        .services
        .procedure(procedure, None)
        .await
        .map_err(|_| bad_request(format!("Không có thủ tục mã “{procedure}”.")))?;
    let form = IntakeForm::from_posted(&posted, stored.spec.components.len());
    let Some(agency_name) = mine
        .iter()
        .find(|(c, _)| *c == form.agency)
        .map(|(_, n)| n.clone())
    else {
        return Err(forbidden(format!(
            "Bạn không phải công chức tiếp nhận của cơ quan mã {}.",
            form.agency
        )));
    };
    Ok((posted, stored, form, agency_name))
}

async fn receive(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (posted, stored, mut form, agency_name) = read_desk_form(&state, &user, mp).await?;
    let spec = &stored.spec;

    // Every scan is checked before any is stored: a refused file leaves nothing behind.
    let mut errors = Errors::default();
    // Online dossiers come from the portal, never from this desk form.
    if !["direct", "postal"].contains(&form.channel.as_str()) {
        errors.push(
            "channel-direct",
            "Chọn kênh tiếp nhận: trực tiếp hoặc qua bưu chính.",
        );
    }
    for i in 0..spec.components.len() {
        if let Some(u) = posted.file(&format!("c{i}_file"))
            && let Err(e) = check_scan(&u.bytes)
        {
            let problem = page_message(&e, Lang::Vi);
            errors.push(
                format!("c{i}_file"),
                format!("{}: {problem}", spec.components[i].name),
            );
        }
    }
    // A kept reference must name a stored file (it came from a hidden field).
    for (i, c) in form.components.iter_mut().enumerate() {
        if let Some(sha) = c.file_ref.strip_prefix("sha256:")
            && state.services.file_stored(sha).await?
        {
            continue;
        }
        if !c.file_ref.is_empty() {
            c.file_ref.clear();
            c.file_name.clear();
            errors.push(
                format!("c{i}_file"),
                format!("{}: vui lòng chọn lại tệp quét.", spec.components[i].name),
            );
        }
    }
    if !errors.is_empty() {
        return refused(spec, &agency_name, form, errors);
    }
    for i in 0..spec.components.len() {
        if let Some(u) = posted.file(&format!("c{i}_file")) {
            match store_upload(&state, u).await {
                Ok(reference) => {
                    form.components[i].file_ref = reference;
                    form.components[i].file_name = u.filename.clone();
                    // A scan of a document means the document was received.
                    form.components[i].provided = true;
                }
                Err(problem) => errors.push(
                    format!("c{i}_file"),
                    format!("{}: {problem}", spec.components[i].name),
                ),
            }
        }
    }
    if !errors.is_empty() {
        return refused(spec, &agency_name, form, errors);
    }
    let input = IntakeInput {
        procedure: spec.code.clone(),
        case: Some(form.case.clone()).filter(|c| !c.is_empty()),
        agency: form.agency.clone(),
        channel: form.channel.clone(),
        applicant: ApplicantInput {
            kind: form.kind.clone(),
            name: form.name.clone(),
            id_number: form.id_number.clone(),
            phone: form.phone.clone(),
            email: form.email.clone(),
            address: form.address.clone(),
        },
        submitter_name: form.submitter_name.clone(),
        request: form.request.clone(),
        components: form
            .components
            .iter()
            .enumerate()
            .map(|(index, c)| ComponentInput {
                index,
                provided: c.provided || !c.file_ref.is_empty(),
                file: Some(c.file_ref.clone()).filter(|f| !f.is_empty()),
            })
            .collect(),
        delivery: None,
        notify: None,
    };
    match state.services.intake(Actor::Officer(&user), input).await {
        Ok(v) => Ok(see_other(&format!(
            "/ho-so/{}/phieu-tiep-nhan",
            url_encode(&v.dossier.key())
        ))),
        Err(e @ ServiceError::Forbidden(_)) => Err(e.into()),
        Err(e) if status_of(&e).is_server_error() => Err(e.into()),
        Err(e) => {
            let errors = Errors::of(&e, Lang::Vi, anchor_of, "procedure");
            let html = intake_page(spec, &agency_name, form, errors)?;
            Ok((status_of(&e), Html(html)).into_response())
        }
    }
}

fn refused(
    spec: &ProcedureSpec,
    agency_name: &str,
    form: IntakeForm,
    errors: Errors,
) -> Result<Response, PageError> {
    let html = intake_page(spec, agency_name, form, errors)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}

// ---------------------------------------------------------------------------------------
// Form 02 for a walk-in whose dossier is incomplete: POST /ho-so/tiep-nhan/mau-02

struct MissingRow {
    name: String,
    originals: u32,
    copies: u32,
}

#[derive(Template)]
#[template(path = "form_02_desk.html")]
struct DeskGuidance {
    chrome: Chrome,
    parent_name: String,
    agency_code: String,
    agency_name: String,
    dated: String,
    procedure_code: String,
    procedure_name: String,
    name: String,
    address: String,
    phone: String,
    email: String,
    request: String,
    missing: Vec<MissingRow>,
    officer: String,
}

/// The printable guidance (Form 02) for a paper dossier that is not received because required
/// components are missing: the intake form as filled in, posted by its second button.
/// Nothing is stored or counted (DOMAIN.md §4): the files chosen are not kept.
async fn guidance(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (posted, stored, form, agency_name) = read_desk_form(&state, &user, mp).await?;
    let spec = &stored.spec;
    let provided: Vec<bool> = form
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| c.provided || !c.file_ref.is_empty() || posted.file(&format!("c{i}_file")).is_some())
        .collect();
    let missing = spec.missing_components(&provided);
    if missing.is_empty() {
        let mut errors = Errors::default();
        errors.push(
            "components",
            "Hồ sơ đã đủ các thành phần bắt buộc: hãy tiếp nhận hồ sơ, không cần in Mẫu 02.",
        );
        return refused(spec, &agency_name, form, errors);
    }
    let reference = state.services.reference().await?;
    let parent_name = reference
        .agency(&form.agency)
        .and_then(|a| a.parent_code.as_deref())
        .and_then(|p| reference.agency(p))
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let today = motcua_domain::calendar::local_date(state.services.now());
    let html = DeskGuidance {
        chrome: Chrome::current(),
        parent_name,
        agency_code: form.agency.clone(),
        agency_name,
        dated: format!(
            "ngày {:02} tháng {:02} năm {}",
            chrono::Datelike::day(&today),
            chrono::Datelike::month(&today),
            chrono::Datelike::year(&today)
        ),
        procedure_code: spec.code.clone(),
        procedure_name: spec.name.clone(),
        missing: missing
            .into_iter()
            .map(|c| MissingRow {
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
            })
            .collect(),
        officer: user.principal.full_name.clone(),
        name: form.name,
        address: form.address,
        phone: form.phone,
        email: form.email,
        request: form.request,
    }
    .render()?;
    Ok(Html(html).into_response())
}
