//! Online submission by a citizen (signed in or guest): a form per case variant with
//! component uploads (PDF/JPEG/PNG, type checked by content), then the fees through the
//! payment port — here the built-in sandbox, clearly labelled — and the dossier enters the
//! receiving officers' queue (status 1).

use super::account::{csrf_ok, form_token};
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
use motcua_domain::dossier::PaymentStatus;
use motcua_domain::procedure::ProcedureSpec;
use motcua_service::ServiceError;
use motcua_service::citizens::Payment;
use motcua_service::dossiers::{Actor, ApplicantInput, ComponentInput, IntakeInput};
use motcua_service::files::PendingScan;
use serde::Deserialize;
use std::collections::HashMap;

/// An amount in đồng as these pages write it: "150.000 đồng", or "150,000 VND" in English.
pub fn amount(vnd: &i64) -> String {
    match u64::try_from(*vnd) {
        Ok(n) => crate::pages::public::money(n),
        Err(_) => i18n::t1("submit.amount", vnd),
    }
}

#[derive(Template)]
#[template(path = "citizen_submit.html")]
struct SubmitPage {
    chrome: Chrome,
    csrf: String,
    spec: ProcedureSpec,
    case_code: String,
    agencies: Vec<(String, String)>,
    values: HashMap<String, String>,
    errors: Errors,
    fee_total: i64,
    /// Files the signed-in citizen handed in or received before: (sha256, description).
    reusable: Vec<(String, String)>,
    signed_in: bool,
    /// Sign in, then back to this form.
    sign_in: String,
}

impl SubmitPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "citizen_submitted.html")]
struct SubmittedPage {
    chrome: Chrome,
    key: String,
    procedure_name: String,
    accept_due: String,
    payment: Option<Payment>,
    paid: bool,
    signed_in: bool,
    csrf: String,
    /// The provider moves no real money: say so.
    sandbox: bool,
    /// Where the citizen confirms the payment (the provider's checkout).
    checkout: String,
}

#[derive(Deserialize)]
pub struct SubmitQuery {
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    case: String,
    /// The chooser's search (no procedure yet).
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

/// `/cong-dan/nop-ho-so` with no procedure: find the one to submit.
#[derive(Template)]
#[template(path = "citizen_choose.html")]
struct ChoosePage {
    chrome: Chrome,
    q: String,
    /// (code, name, field) of the procedures citizens may submit online.
    rows: Vec<(String, String, String)>,
    total: i64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    signed_in: bool,
    /// Sign in, then back to this page.
    sign_in: String,
}

async fn choose(state: &AppState, headers: &HeaderMap, q: &SubmitQuery) -> Result<Response, PageError> {
    use crate::pages::common::{list_url, page_count, pager};
    let text = q.q.trim();
    let page = crate::pages::public::catalog::page_of(&q.page);
    let filter = motcua_service::catalog::ProcedureFilter {
        q: (!text.is_empty()).then(|| text.to_string()),
        online: true,
        ..Default::default()
    };
    let (found, total) = state.services.search_procedures(&filter, page).await?;
    let pages = page_count(total, motcua_service::catalog::PROCEDURES_PER_PAGE);
    let filters = [("q", text)];
    let base = "/cong-dan/nop-ho-so";
    let (prev_url, next_url) = pager(base, &filters, page, pages);
    let page = ChoosePage {
        chrome: Chrome::current(),
        q: text.to_string(),
        rows: found
            .into_iter()
            .map(|p| (p.code, p.name, p.field_name))
            .collect(),
        total,
        page,
        pages,
        prev_url,
        next_url,
        signed_in: citizen(state, headers).await.is_some(),
        sign_in: super::sign_in_url(&list_url(base, &filters, page)),
    };
    Ok(Html(page.render()?).into_response())
}

fn fees_of(spec: &ProcedureSpec) -> i64 {
    spec.fees
        .iter()
        .filter_map(|f| f.amount_vnd)
        .map(|a| a as i64)
        .sum()
}

async fn load(state: &AppState, code: &str) -> Result<ProcedureSpec, PageError> {
    let p = state.services.procedure(code.trim(), None).await?;
    if !p.spec.accepts_online() {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            i18n::t("submit.not_online"),
        ));
    }
    Ok(p.spec)
}

async fn agencies_of(state: &AppState, spec: &ProcedureSpec) -> Result<Vec<(String, String)>, PageError> {
    let all = state.services.agencies().await?;
    Ok(spec
        .agencies
        .iter()
        .filter_map(|c| {
            all.iter()
                .find(|a| a.code == *c)
                .map(|a| (a.code.clone(), a.name.clone()))
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    status: StatusCode,
    spec: ProcedureSpec,
    case_code: String,
    values: HashMap<String, String>,
    errors: Errors,
    citizen: Option<i64>,
) -> Result<Response, PageError> {
    let token = form_token(state);
    let agencies = agencies_of(state, &spec).await?;
    let fee_total = fees_of(&spec);
    let reusable = match citizen {
        Some(id) => state.services.reusable_files(id).await?,
        None => Vec::new(),
    };
    let here = format!(
        "/cong-dan/nop-ho-so?procedure={}&case={}",
        url_encode(&spec.code),
        url_encode(&case_code)
    );
    let page = SubmitPage {
        signed_in: citizen.is_some(),
        sign_in: super::sign_in_url(&here),
        chrome: Chrome::current(),
        csrf: token.token.clone(),
        spec,
        case_code,
        agencies,
        values,
        errors,
        fee_total,
        reusable,
    };
    Ok((status, [(SET_COOKIE, token.set_cookie)], Html(page.render()?)).into_response())
}

async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SubmitQuery>,
) -> Result<Response, PageError> {
    if q.procedure.trim().is_empty() {
        return choose(&state, &headers, &q).await;
    }
    let spec = load(&state, &q.procedure).await?;
    let case_code = if spec.case(&q.case).is_some() {
        q.case.clone()
    } else {
        spec.cases.first().map(|c| c.code.clone()).unwrap_or_default()
    };
    let mut values = HashMap::new();
    let citizen = citizen(&state, &headers).await;
    if let Some((c, _)) = &citizen {
        values.insert("name".to_string(), c.full_name.clone());
        let key = c.login_kind.as_str();
        values.insert(key.to_string(), c.login.clone());
    }
    let id = citizen.map(|(c, _)| c.id);
    render(
        &state,
        StatusCode::OK,
        spec,
        case_code,
        values,
        Errors::default(),
        id,
    )
    .await
}

const FIELDS: [&str; 11] = [
    "csrf",
    "procedure",
    "case",
    "agency",
    "kind",
    "name",
    "id_number",
    "phone",
    "email",
    "address",
    "request",
];

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let citizen = citizen(&state, &headers).await;
    let citizen_id = citizen.as_ref().map(|(c, _)| c.id);
    // A guest's submissions are counted per address before anything of the form is read.
    if citizen.is_none() {
        state
            .services
            .admit_guest_submission(&crate::auth::client_address(&extensions))?;
    }
    let mut values: HashMap<String, String> = HashMap::new();
    let mut scans: Vec<(usize, PendingScan)> = Vec::new();
    let mut ticked: Vec<usize> = Vec::new();
    let mut reuse: Vec<(usize, String)> = Vec::new();
    let mut errors = Errors::default();
    // Known forged (the token came first and does not match): files are read past, not kept.
    let mut forged = false;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if let Some(i) = name.strip_prefix("file_").and_then(|n| n.parse::<usize>().ok()) {
            let filename = field.file_name().unwrap_or("tep.pdf").to_string();
            // Streamed to a temporary file, checked as it comes; never whole in memory.
            let mut upload = match forged {
                true => None,
                false => Some(state.services.begin_scan(&filename).await),
            };
            let mut failed: Option<String> = None;
            loop {
                match field.chunk().await {
                    Ok(Some(piece)) => {
                        if let (Some(Ok(up)), None) = (&mut upload, &failed)
                            && let Err(e) = up.write(&piece).await
                        {
                            failed = Some(crate::error::page_message(&e, i18n::lang()));
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        failed = Some(i18n::t("submit.file_failed").into());
                        break;
                    }
                }
            }
            let finished = match (upload, failed) {
                (_, Some(text)) => Err(text),
                (None, None) => Ok(None),
                (Some(Err(e)), None) => Err(crate::error::page_message(&e, i18n::lang())),
                (Some(Ok(up)), None) => up
                    .finish()
                    .await
                    .map_err(|e| crate::error::page_message(&e, i18n::lang())),
            };
            match finished {
                Ok(Some(scan)) => scans.push((i, scan)),
                Ok(None) => {}
                Err(text) => errors.push(format!("file_{i}"), text),
            }
        } else if let Some(i) = name.strip_prefix("has_").and_then(|n| n.parse::<usize>().ok()) {
            ticked.push(i);
        } else if let Some(i) = name.strip_prefix("reuse_").and_then(|n| n.parse::<usize>().ok()) {
            let sha = field.text().await.unwrap_or_default();
            if !sha.is_empty() {
                reuse.push((i, sha));
            }
        } else if FIELDS.contains(&name.as_str()) {
            let text = field.text().await.unwrap_or_default();
            if name == "csrf" && !csrf_ok(&headers, &text) {
                forged = true;
            }
            values.insert(name, text);
        }
    }
    crate::pages::common::refuse_nul(
        values
            .values()
            .chain(reuse.iter().map(|(_, s)| s))
            .map(String::as_str),
    )?;
    let csrf = values.get("csrf").cloned().unwrap_or_default();
    let spec = load(&state, values.get("procedure").map(String::as_str).unwrap_or("")).await?;
    let case_code = values.get("case").cloned().unwrap_or_default();
    if forged || !csrf_ok(&headers, &csrf) {
        errors.push("name", i18n::t("form.expired"));
        return render(
            &state,
            StatusCode::FORBIDDEN,
            spec,
            case_code,
            values,
            errors,
            citizen_id,
        )
        .await;
    }
    // A file's error names its component.
    for e in errors.0.iter_mut() {
        if let Some(c) = e
            .anchor
            .strip_prefix("file_")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| spec.components.get(i))
        {
            e.text = format!("{}: {}", c.name, e.text);
        }
    }
    // Re-used files: only the citizen's own earlier files.
    let mut refs: HashMap<usize, String> = HashMap::new();
    if !reuse.is_empty() {
        let own = match citizen_id {
            Some(id) => state.services.reusable_files(id).await?,
            None => Vec::new(),
        };
        for (i, sha) in reuse {
            if scans.iter().any(|(j, _)| *j == i) {
                continue;
            }
            if own.iter().any(|(s, _)| *s == sha) {
                refs.insert(i, format!("sha256:{sha}"));
            } else {
                errors.push(format!("file_{i}"), i18n::t("submit.not_yours"));
            }
        }
    }
    if !errors.is_empty() {
        return render(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            spec,
            case_code,
            values,
            errors,
            citizen_id,
        )
        .await;
    }
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let input = IntakeInput {
        procedure: spec.code.clone(),
        case: Some(case_code.clone()).filter(|c| !c.is_empty()),
        agency: get("agency"),
        channel: "online".into(),
        applicant: ApplicantInput {
            kind: if get("kind").is_empty() {
                "person".into()
            } else {
                get("kind")
            },
            name: get("name"),
            id_number: get("id_number"),
            phone: get("phone"),
            email: get("email"),
            address: get("address"),
        },
        submitter_name: String::new(),
        request: get("request"),
        components: (0..spec.components.len())
            .filter(|i| ticked.contains(i) || refs.contains_key(i) || scans.iter().any(|(j, _)| j == i))
            .map(|i| ComponentInput {
                index: i,
                provided: true,
                file: refs.get(&i).cloned(),
            })
            .collect(),
    };
    let actor = match &citizen {
        Some((c, _)) => Actor::Citizen {
            id: c.id,
            login: &c.login,
        },
        None => Actor::Guest,
    };
    // Everything but the new files is checked before they are kept: a refused form leaves
    // no file behind (dropped, the scans' temporary files are removed).
    let checked = match state.services.check_intake(actor, input.clone()).await {
        Ok(()) => state.services.intake_with_scans(actor, input, scans).await,
        Err(e) => Err(e),
    };
    let v = match checked {
        Ok(v) => v,
        Err(e @ ServiceError::Invalid(_)) => {
            let errors = Errors::of(&e, i18n::lang(), anchor, "name");
            return render(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                spec,
                case_code,
                values,
                errors,
                citizen_id,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    // What the submitter holds to see the submission again: its receipt secret, in the
    // address (the signed-in owner sees it without).
    let reference = v.receipt.or(v.payment.map(|p| p.reference)).unwrap_or_default();
    Ok(see_other(&format!(
        "/cong-dan/da-nop/{}?ref={}",
        v.dossier.key(),
        url_encode(&reference)
    )))
}

fn anchor(path: &str) -> String {
    match path {
        "applicant.name" => "name".into(),
        "applicant.id_number" => "id_number".into(),
        "applicant.phone" => "phone".into(),
        "applicant.email" => "email".into(),
        "agency" => "agency".into(),
        p if p.starts_with("components") => "components".into(),
        _ => "name".into(),
    }
}

#[derive(Deserialize)]
pub struct RefQuery {
    #[serde(default, rename = "ref")]
    reference: String,
}

async fn submitted_page(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    reference: &str,
) -> Result<Response, PageError> {
    let citizen = citizen(state, headers).await;
    let d = state
        .services
        .submitted(key, reference, citizen.as_ref().map(|(c, _)| c.id))
        .await?;
    let paid = d
        .payment
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Paid);
    let token = form_token(state);
    let checkout = d
        .payment
        .as_ref()
        .map(|p| state.services.payments().checkout_path(&p.reference))
        .unwrap_or_default();
    let page = SubmittedPage {
        sandbox: state.services.payments().is_sandbox(),
        checkout,
        chrome: Chrome::current(),
        key: d.key,
        procedure_name: d.procedure_name,
        accept_due: d.accept_due_at.map(when).unwrap_or_default(),
        payment: d.payment,
        paid,
        signed_in: citizen.is_some(),
        csrf: token.token,
    };
    Ok(([(SET_COOKIE, token.set_cookie)], Html(page.render()?)).into_response())
}

async fn submitted(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<RefQuery>,
) -> Result<Response, PageError> {
    submitted_page(&state, &headers, &key, &q.reference).await
}

/// The sandbox provider "pays" at once; a real provider would redirect and call back.
async fn pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = f.get("csrf").map(String::as_str).unwrap_or("");
    if !csrf_ok(&headers, csrf) {
        return Err(csrf_rejected());
    }
    state.services.pay(&reference).await?;
    let key = f.get("key").cloned().unwrap_or_default();
    Ok(see_other(&format!(
        "/cong-dan/da-nop/{}?ref={}",
        url_encode(&key),
        url_encode(&reference)
    )))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/cong-dan/nop-ho-so",
            get(form)
                .post(submit)
                .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024)),
        )
        .route("/cong-dan/da-nop/{key}", get(submitted))
        .route("/cong-dan/thanh-toan/{reference}", post(pay))
}
