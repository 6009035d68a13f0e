//! Receiving a dossier at the desk (`/ho-so/tiep-nhan`): choose the procedure, then one form
//! with the applicant, the checklist and the scans. The rules of intake belong to
//! `crate::dossiers::intake`; this module turns the form into its input and its refusals back.

use super::Chrome;
use super::admin_agencies::csrf_rejected;
use super::catalog::{Choice, limit_vi, page_of};
use super::dossier_view::{
    ErrorLine, Posted, bad_request, forbidden, read_posted, scan_problem, store_upload,
};
use super::see_other;
use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::dossiers::{self, ApplicantInput, ComponentInput, IntakeInput, Refusal};
use crate::error::PageError;
use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use motcua_domain::calendar;
use motcua_domain::procedure::{FieldError, Method, ProcedureSpec};
use motcua_store::repo::{agencies, catalog};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/ho-so/tiep-nhan",
        get(start)
            .post(receive)
            .layer(DefaultBodyLimit::max(crate::router::MAX_BODY_BYTES)),
    )
}

/// Procedures per page when choosing one.
const PER_PAGE: u32 = 20;

/// The agencies where the user receives dossiers: (code, name).
async fn receiving_agencies(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, PageError> {
    let all = agencies::list(&state.db).await?;
    let mut out: Vec<(String, String)> = user
        .principal
        .roles
        .iter()
        .filter(|(_, _, role)| role == "receiving_officer")
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

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
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
        let today = calendar::local_date(Utc::now());
        let stored = catalog::procedure(&state.db, procedure, today)
            .await?
            .ok_or_else(|| bad_request(format!("Không có thủ tục mã “{procedure}”.")))?;
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
            &user,
            &stored.spec,
            &agency_name,
            form,
            Vec::new(),
        )?));
    }
    let q = param(&pairs, "q");
    if q.chars().count() > 200 {
        return Err(bad_request("Từ khóa tìm kiếm quá dài."));
    }
    let page = page_of(param(&pairs, "page"));
    let filter = catalog::ProcedureFilter {
        q: (!q.is_empty()).then(|| q.to_string()),
        agency: Some(agency.clone()),
        ..Default::default()
    };
    let (found, total) = catalog::list_procedures(&state.db, &filter, page, PER_PAGE).await?;
    let url = |p: u32| {
        format!(
            "/ho-so/tiep-nhan?agency={}&q={}&page={p}",
            super::url_encode(&agency),
            super::url_encode(q)
        )
    };
    let html = ChoosePage {
        chrome: Chrome::of(Some(&user)),
        agencies: mine.iter().map(|(c, n)| Choice::new(c, n, &agency)).collect(),
        rows: found
            .into_iter()
            .map(|p| ProcedureRow {
                url: format!(
                    "/ho-so/tiep-nhan?procedure={}&agency={}",
                    super::url_encode(&p.code),
                    super::url_encode(&agency)
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
    errors: Vec<ErrorLine>,
}

impl IntakePage {
    /// The first error about a field (by its anchor), for the message next to it.
    fn error_for(&self, anchor: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.anchor == anchor)
            .map(|e| e.text.as_str())
    }
}

fn intake_page(
    user: &CurrentUser,
    spec: &ProcedureSpec,
    agency_name: &str,
    form: IntakeForm,
    errors: Vec<ErrorLine>,
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
                error: errors.iter().find(|e| e.anchor == anchor).map(|e| e.text.clone()),
            }
        })
        .collect();
    Ok(IntakePage {
        chrome: Chrome::of(Some(user)),
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

/// A field error of `crate::dossiers::intake` said in Vietnamese, with the field it is about.
fn intake_error_vi(e: &FieldError, form: &IntakeForm) -> ErrorLine {
    let line = |anchor: &str, text: String| ErrorLine {
        anchor: anchor.into(),
        text,
    };
    match e.path.as_str() {
        "channel" => line("channel-direct", "Chọn kênh tiếp nhận.".into()),
        "case" => line("case", "Chọn trường hợp giải quyết.".into()),
        "agency" => line(
            "procedure",
            "Cơ quan tiếp nhận không thực hiện thủ tục này.".into(),
        ),
        "procedure" => line("procedure", "Không có thủ tục này trong danh mục.".into()),
        "applicant.kind" => line("kind-person", "Chọn người nộp là công dân hay tổ chức.".into()),
        "applicant.name" => line(
            "name",
            "Nhập họ và tên công dân hoặc tên tổ chức (tối đa 200 ký tự).".into(),
        ),
        "applicant.id_number" if form.kind == "organisation" => line(
            "id_number",
            "Mã số thuế gồm 10 chữ số (chi nhánh: 10 chữ số, dấu gạch ngang và 3 chữ số).".into(),
        ),
        "applicant.id_number" => line(
            "id_number",
            "Số định danh cá nhân phải gồm đúng 12 chữ số.".into(),
        ),
        "applicant.phone" if e.message.contains("online") => line(
            "phone",
            "Hồ sơ trực tuyến cần số điện thoại hoặc thư điện tử để nhận thông báo.".into(),
        ),
        "applicant.phone" => line(
            "phone",
            "Số điện thoại không đúng: 10 chữ số bắt đầu bằng 0, hoặc +84 và 9 chữ số.".into(),
        ),
        "applicant.email" => line("email", "Địa chỉ thư điện tử không đúng.".into()),
        "components" => {
            let missing = e.message.split_once("missing: ").map(|(_, m)| m).unwrap_or("");
            line(
                "components",
                format!(
                    "Hồ sơ chưa đủ thành phần bắt buộc nên chưa được tiếp nhận; hướng dẫn người nộp bổ sung, hoàn thiện (Mẫu 02). Còn thiếu: {missing}."
                ),
            )
        }
        path if path.starts_with("components[") => {
            let i = path
                .trim_start_matches("components[")
                .split(']')
                .next()
                .unwrap_or("0");
            line(
                &format!("c{i}_file"),
                "Tệp quét chưa có trong hệ thống; vui lòng chọn lại tệp.".into(),
            )
        }
        _ => line("procedure", e.message.clone()),
    }
}

async fn receive(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let mine = receiving_agencies(&state, &user).await?;
    let posted = read_posted(mp).await?;
    if !user.csrf_ok(posted.get("csrf")) {
        return Err(csrf_rejected());
    }
    let today = calendar::local_date(Utc::now());
    let procedure = posted.get("procedure").trim();
    let stored = catalog::procedure(&state.db, procedure, today)
        .await?
        .ok_or_else(|| bad_request(format!("Không có thủ tục mã “{procedure}”.")))?;
    let spec = &stored.spec;
    let mut form = IntakeForm::from_posted(&posted, spec.components.len());
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

    // Every scan is checked before any is stored: a refused file leaves nothing behind.
    let mut errors = Vec::new();
    // Online dossiers come from the portal, never from this desk form.
    if !["direct", "postal"].contains(&form.channel.as_str()) {
        errors.push(ErrorLine {
            anchor: "channel-direct".into(),
            text: "Chọn kênh tiếp nhận: trực tiếp hoặc qua bưu chính.".into(),
        });
    }
    for i in 0..spec.components.len() {
        if let Some(u) = posted.file(&format!("c{i}_file"))
            && let Some(problem) = scan_problem(u)
        {
            errors.push(ErrorLine {
                anchor: format!("c{i}_file"),
                text: format!("{}: {problem}", spec.components[i].name),
            });
        }
    }
    // A kept reference must name a stored file (it came from a hidden field).
    for (i, c) in form.components.iter_mut().enumerate() {
        if let Some(sha) = c.file_ref.strip_prefix("sha256:")
            && state.file_stored(sha).await?
        {
            continue;
        }
        if !c.file_ref.is_empty() {
            c.file_ref.clear();
            c.file_name.clear();
            errors.push(ErrorLine {
                anchor: format!("c{i}_file"),
                text: format!("{}: vui lòng chọn lại tệp quét.", spec.components[i].name),
            });
        }
    }
    if !errors.is_empty() {
        return refused(&user, spec, &agency_name, form, errors);
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
                Err(problem) => errors.push(ErrorLine {
                    anchor: format!("c{i}_file"),
                    text: format!("{}: {problem}", spec.components[i].name),
                }),
            }
        }
    }
    if !errors.is_empty() {
        return refused(&user, spec, &agency_name, form, errors);
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
    };
    match dossiers::intake(&state, Some(&user), input).await {
        Ok(d) => Ok(see_other(&format!(
            "/ho-so/{}/phieu-tiep-nhan",
            super::url_encode(&d.key())
        ))),
        Err(Refusal::Invalid(list)) => {
            let errors = list.iter().map(|e| intake_error_vi(e, &form)).collect();
            refused(&user, spec, &agency_name, form, errors)
        }
        Err(Refusal::Forbidden(_)) => Err(forbidden("Bạn không phải công chức tiếp nhận của cơ quan này.")),
        Err(other) => {
            let errors = vec![ErrorLine {
                anchor: "procedure".into(),
                text: other.message(),
            }];
            let html = intake_page(&user, spec, &agency_name, form, errors)?;
            Ok((StatusCode::CONFLICT, Html(html)).into_response())
        }
    }
}

fn refused(
    user: &CurrentUser,
    spec: &ProcedureSpec,
    agency_name: &str,
    form: IntakeForm,
    errors: Vec<ErrorLine>,
) -> Result<Response, PageError> {
    let html = intake_page(user, spec, agency_name, form, errors)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}
