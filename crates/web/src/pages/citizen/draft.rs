//! The online submission journey (`/cong-dan/ho-so-nhap/{token}`): the parts of a draft
//! and where each stands, one page per part (who applies, the request, the documents, how
//! the result comes back), then "check your answers" and send. Every form posts, then
//! redirects (a refresh never sends twice); a refused part shows every error at once, in the
//! summary and at its field, and files chosen in a refused round are kept by the draft.

use super::account::{csrf_ok, form_token};
use super::submit::{agencies_of, fees_of};
use crate::AppState;
use crate::auth::citizen;
use crate::error::PageError;
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{Errors, csrf_rejected, see_other, url_encode, when};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use motcua_domain::dossier::ReturnMethod;
use motcua_service::ServiceError;
use motcua_service::citizens::Citizen;
use motcua_service::dossiers::Actor;
use motcua_service::drafts::{Draft, Section};
use serde::Deserialize;
use std::collections::HashMap;

/// A part's address segment.
fn slug(s: Section) -> &'static str {
    match s {
        Section::Applicant => "nguoi-nop",
        Section::Request => "yeu-cau",
        Section::Documents => "giay-to",
        Section::Delivery => "nhan-ket-qua",
    }
}

fn section_of(slug_: &str) -> Option<Section> {
    Section::ALL.into_iter().find(|s| slug(*s) == slug_)
}

fn title(s: Section) -> &'static str {
    i18n::t(match s {
        Section::Applicant => "draft.s.applicant",
        Section::Request => "draft.s.request",
        Section::Documents => "draft.s.documents",
        Section::Delivery => "draft.s.delivery",
    })
}

fn base(token: &str) -> String {
    format!("/cong-dan/ho-so-nhap/{}", url_encode(token))
}

/// The notices' channels as the pages say them.
pub fn notify_label(channels: &str) -> &'static str {
    match channels.parse::<motcua_domain::notice::Channels>() {
        Ok(motcua_domain::notice::Channels::Sms) => i18n::t("notify.sms"),
        Ok(motcua_domain::notice::Channels::Email) => i18n::t("notify.email"),
        _ => i18n::t("notify.all"),
    }
}

/// The delivery choice as the pages say it.
pub fn delivery_label(method: &str) -> &'static str {
    match method.parse::<ReturnMethod>() {
        Ok(ReturnMethod::Post) => i18n::t("draft.delivery.post"),
        Ok(ReturnMethod::Electronic) => i18n::t("draft.delivery.electronic"),
        _ => i18n::t("draft.delivery.desk"),
    }
}

/// The draft of this address for whoever asks; a citizen's draft sends a stranger to sign
/// in (then back here).
async fn open(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    here: &str,
) -> Result<(Draft, Option<Citizen>), Response> {
    let me = citizen(state, headers).await.map(|(c, _)| c);
    match state.services.draft(token, me.as_ref().map(|c| c.id)).await {
        Ok(d) => Ok((d, me)),
        Err(ServiceError::Unauthenticated(_)) => Err(super::sign_in_then(here)),
        Err(e) => Err(PageError::from(e).into_response()),
    }
}

fn actor(me: &Option<Citizen>) -> Actor<'_> {
    match me {
        Some(c) => Actor::Citizen {
            id: c.id,
            login: &c.login,
        },
        None => Actor::Guest,
    }
}

/// The parts of a draft, each with where it stands.
#[derive(Template)]
#[template(path = "citizen_draft.html")]
struct OverviewPage {
    chrome: Chrome,
    procedure_name: String,
    procedure_code: String,
    /// (title, address, done)
    parts: Vec<(&'static str, String, bool)>,
    done: usize,
    ready: bool,
    check: String,
    signed_in: bool,
}

async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let here = base(&token);
    let (d, me) = match open(&state, &headers, &token, &here).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let parts: Vec<_> = Section::ALL
        .iter()
        .map(|s| (title(*s), format!("{here}/{}", slug(*s)), d.is_done(*s)))
        .collect();
    let page = OverviewPage {
        chrome: Chrome::current(),
        done: parts.iter().filter(|p| p.2).count(),
        parts,
        ready: d.ready(),
        check: format!("{here}/kiem-tra"),
        procedure_name: d.procedure_name,
        procedure_code: d.spec.code,
        signed_in: me.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

/// One part of the journey.
#[derive(Template)]
#[template(path = "citizen_draft_part.html")]
struct PartPage {
    chrome: Chrome,
    csrf: String,
    action: String,
    back: String,
    /// `applicant`, `request`, `documents` or `delivery`.
    part: &'static str,
    title: &'static str,
    number: usize,
    procedure_name: String,
    values: HashMap<String, String>,
    errors: Errors,
    draft: Draft,
    agencies: Vec<(String, String)>,
    /// The signed-in citizen's earlier files: (sha256, what).
    reusable: Vec<(String, String)>,
}

impl PartPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    /// The name of the file the draft holds for a component, if any.
    fn held(&self, component: &usize) -> Option<&str> {
        self.draft.file(*component).map(|f| f.filename.as_str())
    }

    /// The file field of a component.
    fn file_id(&self, component: &usize) -> String {
        format!("file_{component}")
    }
}

/// What a part's form shows: the draft's answers, or what was just sent.
fn values_of(d: &Draft) -> HashMap<String, String> {
    let a = &d.answers;
    [
        ("case", &a.case),
        ("agency", &a.agency),
        ("kind", &a.kind),
        ("name", &a.name),
        ("id_number", &a.id_number),
        ("phone", &a.phone),
        ("email", &a.email),
        ("address", &a.address),
        ("request", &a.request),
        ("delivery", &a.delivery),
        ("delivery_address", &a.delivery_address),
        ("notify", &a.notify),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect()
}

#[derive(Deserialize)]
pub struct FromQ {
    /// `kiem-tra`: back to the check page after saving.
    #[serde(default)]
    tu: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_part(
    state: &AppState,
    status: StatusCode,
    d: Draft,
    me: &Option<Citizen>,
    section: Section,
    values: HashMap<String, String>,
    errors: Errors,
    from_check: bool,
) -> Result<Response, PageError> {
    let token = form_token(state);
    let here = base(&d.token);
    let agencies = agencies_of(state, &d.spec).await?;
    let reusable = match me {
        Some(c) if section == Section::Documents => state.services.reusable_files(c.id).await?,
        _ => Vec::new(),
    };
    let suffix = if from_check { "?tu=kiem-tra" } else { "" };
    let page = PartPage {
        chrome: Chrome::current(),
        csrf: token.token.clone(),
        action: format!("{here}/{}{suffix}", slug(section)),
        back: if from_check {
            format!("{here}/kiem-tra")
        } else {
            here.clone()
        },
        part: section.key(),
        title: title(section),
        number: Section::ALL.iter().position(|s| *s == section).unwrap_or(0) + 1,
        procedure_name: d.procedure_name.clone(),
        values,
        errors,
        agencies,
        reusable,
        draft: d,
    };
    Ok((status, [(SET_COOKIE, token.set_cookie)], Html(page.render()?)).into_response())
}

async fn part_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, part)): Path<(String, String)>,
    Query(q): Query<FromQ>,
) -> Result<Response, PageError> {
    if part == "kiem-tra" {
        return check_page(&state, &headers, &token, StatusCode::OK, Errors::default()).await;
    }
    let section = section_of(&part).ok_or_else(PageError::not_found)?;
    let here = format!("{}/{part}", base(&token));
    let (d, me) = match open(&state, &headers, &token, &here).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let values = values_of(&d);
    render_part(
        &state,
        StatusCode::OK,
        d,
        &me,
        section,
        values,
        Errors::default(),
        q.tu == "kiem-tra",
    )
    .await
}

/// Where a refused field of the intake is shown on its part's page.
fn anchor(path: &str) -> String {
    if let Some(field) = path.strip_prefix("applicant.") {
        return field.to_string();
    }
    if let Some(field) = path.strip_prefix("delivery.") {
        return match field {
            "address" => "delivery_address".into(),
            _ => "delivery".into(),
        };
    }
    if path == "notify" {
        return "notify".into();
    }
    // `components[i].file` of a reused file: its component's field.
    if let Some(i) = path
        .strip_prefix("components[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        return format!("file_{i}");
    }
    match path {
        p if p.starts_with("components") => "components".into(),
        "agency" | "request" | "case" => path.into(),
        _ => "name".into(),
    }
}

/// The fields a part's form sends.
const TEXT_FIELDS: [&str; 12] = [
    "case",
    "agency",
    "kind",
    "name",
    "id_number",
    "phone",
    "email",
    "address",
    "request",
    "delivery",
    "delivery_address",
    "notify",
];

async fn part_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, part)): Path<(String, String)>,
    Query(q): Query<FromQ>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    if part == "kiem-tra" {
        return send(&state, &headers, &token, multipart).await;
    }
    let section = section_of(&part).ok_or_else(PageError::not_found)?;
    let here = format!("{}/{part}", base(&token));
    let (d, me) = match open(&state, &headers, &token, &here).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let from_check = q.tu == "kiem-tra";
    let mut values: HashMap<String, String> = HashMap::new();
    let mut errors = Errors::default();
    let mut csrf = String::new();
    let mut forged = false;
    let mut remove: Vec<usize> = Vec::new();
    let mut reuse: Vec<(usize, String)> = Vec::new();
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if let Some(i) = name.strip_prefix("file_").and_then(|n| n.parse::<usize>().ok()) {
            // The form's token comes first: a forged form's files are read past, not kept.
            if forged || section != Section::Documents {
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            let filename = field.file_name().unwrap_or("tep.pdf").to_string();
            match super::submit::read_scan(&state, &mut field, &filename).await {
                Ok(Some(scan)) => {
                    if let Err(e) = state.services.draft_file(&d, i, scan).await {
                        errors.push(format!("file_{i}"), crate::error::page_message(&e, i18n::lang()));
                    }
                }
                Ok(None) => {}
                Err(text) => errors.push(format!("file_{i}"), text),
            }
        } else if let Some(i) = name.strip_prefix("remove_").and_then(|n| n.parse::<usize>().ok()) {
            remove.push(i);
        } else if let Some(i) = name.strip_prefix("reuse_").and_then(|n| n.parse::<usize>().ok()) {
            let sha = field.text().await.unwrap_or_default();
            if !sha.is_empty() {
                reuse.push((i, sha));
            }
        } else if name == "csrf" {
            csrf = field.text().await.unwrap_or_default();
            forged = !csrf_ok(&headers, &csrf);
        } else if TEXT_FIELDS.contains(&name.as_str()) {
            let text = field.text().await.unwrap_or_default();
            values.insert(name, text);
        }
    }
    crate::pages::common::refuse_nul(values.values().map(String::as_str))?;
    if forged || !csrf_ok(&headers, &csrf) {
        return Err(csrf_rejected());
    }
    if section == Section::Documents {
        for i in remove {
            if !errors.0.iter().any(|e| e.anchor == format!("file_{i}")) {
                state.services.draft_unfile(&d, i).await?;
            }
        }
        for (i, sha) in reuse {
            let Some(c) = me.as_ref() else { continue };
            if let Err(e) = state.services.draft_reuse(&d, i, c.id, &sha).await {
                errors.push(format!("file_{i}"), crate::error::page_message(&e, i18n::lang()));
            }
        }
    }
    // The documents' part reads the draft again, with the files just kept.
    let d = match section {
        Section::Documents => match open(&state, &headers, &token, &here).await {
            Ok((d, _)) => d,
            Err(r) => return Ok(r),
        },
        _ => d,
    };
    let mut shown = values_of(&d);
    shown.extend(values.clone());
    let get = |k: &str| values.get(k).cloned();
    let saved = state
        .services
        .save_draft(d.clone(), section, actor(&me), |a| {
            let set = |field: &mut String, k: &str| {
                if let Some(v) = get(k) {
                    *field = v;
                }
            };
            match section {
                Section::Applicant => {
                    set(&mut a.kind, "kind");
                    set(&mut a.name, "name");
                    set(&mut a.id_number, "id_number");
                    set(&mut a.phone, "phone");
                    set(&mut a.email, "email");
                    set(&mut a.address, "address");
                }
                Section::Request => {
                    set(&mut a.case, "case");
                    set(&mut a.agency, "agency");
                    set(&mut a.request, "request");
                }
                Section::Documents => {}
                Section::Delivery => {
                    set(&mut a.delivery, "delivery");
                    set(&mut a.delivery_address, "delivery_address");
                    set(&mut a.notify, "notify");
                }
            }
        })
        .await;
    match saved {
        Ok(()) if errors.is_empty() => {}
        Ok(()) => {
            let errors = name_files(errors, &d);
            return render_part(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                d,
                &me,
                section,
                shown,
                errors,
                from_check,
            )
            .await;
        }
        Err(e @ ServiceError::Invalid(_)) => {
            let mut all = errors;
            all.0.extend(Errors::of(&e, i18n::lang(), anchor, "name").0);
            let all = name_files(all, &d);
            return render_part(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                d,
                &me,
                section,
                shown,
                all,
                from_check,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    let next = match (from_check, section.next()) {
        (false, Some(n)) => format!("{}/{}", base(&token), slug(n)),
        _ => format!("{}/kiem-tra", base(&token)),
    };
    Ok(see_other(&next))
}

/// A file's error names its component.
fn name_files(mut errors: Errors, d: &Draft) -> Errors {
    for e in errors.0.iter_mut() {
        if let Some(c) = e
            .anchor
            .strip_prefix("file_")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| d.spec.components.get(i))
            && !e.text.starts_with(&c.name)
        {
            e.text = format!("{}: {}", c.name, e.text);
        }
    }
    errors
}

/// A part on the check page: its title, its (question, answer) rows, where to change it,
/// whether it is done.
struct CheckPart {
    /// The part's name (the anchor a refusal links to).
    key: &'static str,
    title: &'static str,
    rows: Vec<(String, String)>,
    change: String,
    done: bool,
}

/// "Check your answers".
#[derive(Template)]
#[template(path = "citizen_draft_check.html")]
struct CheckPage {
    chrome: Chrome,
    csrf: String,
    action: String,
    back: String,
    procedure_name: String,
    parts: Vec<CheckPart>,
    ready: bool,
    fee_total: i64,
    errors: Errors,
}

fn answer_rows(d: &Draft, agencies: &[(String, String)], s: Section) -> Vec<(String, String)> {
    let a = &d.answers;
    let t = |k: &str| i18n::t(k).to_string();
    match s {
        Section::Applicant => vec![
            (
                t("submit.kind"),
                t(if a.kind == "organisation" {
                    "submit.organisation"
                } else {
                    "submit.person"
                }),
            ),
            (t("submit.name"), a.name.clone()),
            (t("submit.id_number"), a.id_number.clone()),
            (t("submit.phone"), a.phone.clone()),
            (t("submit.email"), a.email.clone()),
            (t("submit.address"), a.address.clone()),
        ],
        Section::Request => {
            let mut rows = Vec::new();
            if d.spec.cases.len() > 1
                && let Some(c) = d.spec.case(&a.case)
            {
                rows.push((t("submit.case"), c.name.clone()));
            }
            let agency = agencies
                .iter()
                .find(|(c, _)| *c == a.agency)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            rows.push((t("submit.agency"), agency));
            rows.push((t("submit.request"), a.request.clone()));
            rows
        }
        Section::Documents => d
            .spec
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let file = d.file(i).map(|f| f.filename.clone());
                (c.name.clone(), file.unwrap_or_else(|| t("draft.no_file")))
            })
            .collect(),
        Section::Delivery => {
            let mut rows = vec![(
                t("draft.delivery_legend"),
                delivery_label(&a.delivery).to_string(),
            )];
            if a.delivery == "post" {
                rows.push((t("draft.delivery_address"), a.delivery_address.clone()));
            }
            rows.push((t("notify.legend"), notify_label(&a.notify).to_string()));
            rows
        }
    }
}

async fn check_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    errors: Errors,
) -> Result<Response, PageError> {
    let here = format!("{}/kiem-tra", base(token));
    let (d, _) = match open(state, headers, token, &here).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let agencies = agencies_of(state, &d.spec).await?;
    let form = form_token(state);
    let page = CheckPage {
        chrome: Chrome::current(),
        csrf: form.token.clone(),
        action: here.clone(),
        back: base(token),
        procedure_name: d.procedure_name.clone(),
        parts: Section::ALL
            .iter()
            .map(|s| CheckPart {
                key: s.key(),
                title: title(*s),
                rows: answer_rows(&d, &agencies, *s),
                change: format!("{}/{}?tu=kiem-tra", base(token), slug(*s)),
                done: d.is_done(*s),
            })
            .collect(),
        ready: d.ready(),
        fee_total: fees_of(&d.spec),
        errors,
    };
    Ok((status, [(SET_COOKIE, form.set_cookie)], Html(page.render()?)).into_response())
}

/// Sends the draft; the confirmation page after.
async fn send(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf") {
            csrf = field.text().await.unwrap_or_default();
        }
    }
    if !csrf_ok(headers, &csrf) {
        return Err(csrf_rejected());
    }
    let here = format!("{}/kiem-tra", base(token));
    let (d, me) = match open(state, headers, token, &here).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match state.services.send_draft(&d, actor(&me)).await {
        Ok(v) => Ok(see_other(&format!(
            "/cong-dan/da-nop/{}?ref={}",
            v.dossier.key(),
            url_encode(token)
        ))),
        Err(e @ ServiceError::Invalid(_)) => {
            // Each refusal links to the part that holds it.
            let mut errors = Errors::default();
            if let ServiceError::Invalid(list) = &e {
                for f in list {
                    let part = Section::ALL
                        .into_iter()
                        .find(|s| s.holds(&f.path) || s.key() == f.path)
                        .unwrap_or(Section::Applicant);
                    errors.push(
                        format!("part-{}", part.key()),
                        format!("{}: {}", title(part), f.msg.text(i18n::lang())),
                    );
                }
            }
            check_page(state, headers, token, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A signed-in citizen's drafts, for their home page: (title, address, saved).
pub async fn drafts_of(
    state: &AppState,
    citizen_id: i64,
) -> Result<Vec<(String, String, String)>, PageError> {
    Ok(state
        .services
        .drafts_of(citizen_id)
        .await?
        .into_iter()
        .map(|(token, name, at)| (name, base(&token), when(at)))
        .collect())
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/cong-dan/ho-so-nhap/{token}", get(overview))
        .route(
            "/cong-dan/ho-so-nhap/{token}/{part}",
            get(part_form)
                .post(part_post)
                .layer(axum::extract::DefaultBodyLimit::max(24 * 1024 * 1024)),
        )
}
