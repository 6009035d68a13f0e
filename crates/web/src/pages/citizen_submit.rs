//! Online submission by a citizen (signed in or guest): a form per case variant with
//! component uploads (PDF/JPEG/PNG, type checked by content), then the fees through the
//! payment port — here the built-in sandbox, clearly labelled — and the dossier enters the
//! receiving officers' queue (status 1).

use super::Chrome;
use super::citizen::{csrf_ok, form_cookie};
use crate::AppState;
use crate::auth::{constant_time_eq, new_secret};
use crate::citizens;
use crate::dossiers::{self, ApplicantInput, ComponentInput, IntakeInput};
use crate::error::PageError;
use crate::i18n;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use motcua_domain::procedure::{OnlineLevel, ProcedureSpec};
use motcua_store::repo::{catalog, citizens as repo, lifecycle};
use serde::Deserialize;
use std::collections::HashMap;

/// An amount in đồng as these pages write it: "150000 đồng", or "150,000 VND" in English.
pub fn amount(vnd: &i64) -> String {
    match u64::try_from(*vnd) {
        Ok(n) if i18n::is_en() => super::catalog::vnd_en(n),
        _ => i18n::t1("submit.amount", vnd),
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
    errors: Vec<(String, String)>,
    fee_total: i64,
    /// Files the signed-in citizen handed in or received before: (sha256, description).
    reusable: Vec<(String, String)>,
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
    payment: Option<repo::Payment>,
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
}

fn fees_of(spec: &ProcedureSpec) -> i64 {
    spec.fees
        .iter()
        .filter_map(|f| f.amount_vnd)
        .map(|a| a as i64)
        .sum()
}

async fn load(state: &AppState, code: &str) -> Result<ProcedureSpec, PageError> {
    let today = motcua_domain::calendar::local_date(Utc::now());
    let p = catalog::procedure(&state.db, code.trim(), today)
        .await?
        .ok_or_else(PageError::not_found)?;
    if p.spec.online_level == OnlineLevel::None
        || !p.spec.methods.contains(&motcua_domain::procedure::Method::Online)
    {
        return Err(PageError {
            status: StatusCode::NOT_FOUND,
            message: i18n::t("submit.not_online").into(),
        });
    }
    Ok(p.spec)
}

async fn agencies_of(state: &AppState, spec: &ProcedureSpec) -> Result<Vec<(String, String)>, PageError> {
    let all = motcua_store::repo::agencies::list(&state.db).await?;
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
    errors: Vec<(String, String)>,
    citizen: Option<i64>,
) -> Result<Response, PageError> {
    let token = new_secret();
    let agencies = agencies_of(state, &spec).await?;
    let fee_total = fees_of(&spec);
    let reusable = match citizen {
        Some(id) => repo::reusable_files(&state.db, id).await?,
        None => Vec::new(),
    };
    let page = SubmitPage {
        chrome: Chrome::default(),
        csrf: token.clone(),
        spec,
        case_code,
        agencies,
        values,
        errors,
        fee_total,
        reusable,
    };
    Ok((
        status,
        [(SET_COOKIE, form_cookie(state, &token))],
        Html(page.render()?),
    )
        .into_response())
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SubmitQuery>,
) -> Result<Response, PageError> {
    let spec = load(&state, &q.procedure).await?;
    let case_code = if spec.case(&q.case).is_some() {
        q.case.clone()
    } else {
        spec.cases.first().map(|c| c.code.clone()).unwrap_or_default()
    };
    let mut values = HashMap::new();
    let citizen = citizens::current(&state, &headers).await;
    if let Some((c, _)) = &citizen {
        values.insert("name".to_string(), c.full_name.clone());
        let key = if c.login_kind == "phone" { "phone" } else { "email" };
        values.insert(key.to_string(), c.login.clone());
    }
    let id = citizen.map(|(c, _)| c.id);
    render(&state, StatusCode::OK, spec, case_code, values, Vec::new(), id).await
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

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut values: HashMap<String, String> = HashMap::new();
    let mut files: Vec<(usize, String, Vec<u8>)> = Vec::new();
    let mut ticked: Vec<usize> = Vec::new();
    let mut reuse: Vec<(usize, String)> = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if let Some(i) = name.strip_prefix("file_").and_then(|n| n.parse::<usize>().ok()) {
            let filename = field.file_name().unwrap_or("tep.pdf").to_string();
            match field.bytes().await {
                Ok(b) if b.is_empty() => {}
                Ok(b) => files.push((i, filename, b.to_vec())),
                Err(_) => errors.push((name.clone(), i18n::t("submit.file_failed").into())),
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
            values.insert(name, text);
        }
    }
    let csrf = values.get("csrf").cloned().unwrap_or_default();
    let citizen = citizens::current(&state, &headers).await;
    let citizen_id = citizen.as_ref().map(|(c, _)| c.id);
    let spec = load(&state, values.get("procedure").map(String::as_str).unwrap_or("")).await?;
    let case_code = values.get("case").cloned().unwrap_or_default();
    if !csrf_ok(&headers, &csrf) {
        errors.push(("name".into(), i18n::t("form.expired").into()));
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
    // Store each scan after checking it; a bad one is a field error and nothing is submitted.
    let mut refs: HashMap<usize, String> = HashMap::new();
    for (i, filename, bytes) in &files {
        match crate::api::dossiers::store_scan(&state, filename, bytes).await {
            Ok(meta) => {
                refs.insert(*i, format!("sha256:{}", meta.sha256));
            }
            Err(e) => errors.push((
                format!("file_{i}"),
                format!(
                    "{}: {}",
                    spec.components
                        .get(*i)
                        .map(|c| c.name.as_str())
                        .unwrap_or(i18n::t("submit.file")),
                    e.detail.unwrap_or_default()
                ),
            )),
        }
    }
    // Re-used files: only the citizen's own earlier files.
    if !reuse.is_empty() {
        let own = match citizen_id {
            Some(id) => repo::reusable_files(&state.db, id).await?,
            None => Vec::new(),
        };
        for (i, sha) in reuse {
            if refs.contains_key(&i) {
                continue;
            }
            if own.iter().any(|(s, _)| *s == sha) {
                refs.insert(i, format!("sha256:{sha}"));
            } else {
                errors.push((format!("file_{i}"), i18n::t("submit.not_yours").into()));
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
            .filter(|i| ticked.contains(i) || refs.contains_key(i))
            .map(|i| ComponentInput {
                index: i,
                provided: true,
                file: refs.get(&i).cloned(),
            })
            .collect(),
    };
    let dossier = match dossiers::intake(&state, None, input).await {
        Ok(d) => d,
        Err(dossiers::Refusal::Invalid(list)) => {
            let errors = list
                .into_iter()
                .map(|e| (anchor(&e.path), message(&e.path, &e.message)))
                .collect();
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
        Err(other) => {
            return Err(PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: other.message(),
            });
        }
    };
    let now = Utc::now();
    let fee = fees_of(&spec);
    let mut tx = state.db.begin().await?;
    if let Some((c, _)) = &citizen {
        repo::own_dossier(&mut tx, dossier.id, c.id).await?;
    }
    let reference = new_secret()[..20].to_string();
    if fee > 0 {
        repo::create_payment(&mut tx, dossier.id, fee, state.payments.id(), &reference, now).await?;
    }
    tx.commit().await?;
    let mut res = Redirect::to(&format!(
        "/cong-dan/da-nop/{}?ref={}",
        dossier.key(),
        if fee > 0 { reference.as_str() } else { "" }
    ))
    .into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    Ok(res)
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

/// A field error of the intake service (which speaks English) in the language of the page.
fn message(path: &str, english: &str) -> String {
    match path {
        "applicant.name" => i18n::t("submit.err.name").into(),
        "applicant.id_number" => i18n::t("submit.err.id_number").into(),
        "applicant.phone" => i18n::t("submit.err.phone").into(),
        "applicant.email" => i18n::t("submit.err.email").into(),
        "agency" => i18n::t("submit.err.agency").into(),
        p if p.starts_with("components") => i18n::t1("submit.err.components", english),
        _ => english.to_string(),
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
    let d = lifecycle::find(&state.db, key)
        .await?
        .ok_or_else(PageError::not_found)?;
    let payments = repo::payments_of(&state.db, d.id).await?;
    let owner = repo::owner_of(&state.db, d.id).await?;
    let citizen = citizens::current(state, headers).await;
    let is_owner = matches!((owner, &citizen), (Some(o), Some((c, _))) if o == c.id);
    // The page shows nothing personal. The payment appears only to its owner, or to a guest
    // holding its reference (a capability given at submission).
    let payment = payments.into_iter().find(|p| {
        (!reference.is_empty() && constant_time_eq(p.reference.as_bytes(), reference.as_bytes())) || is_owner
    });
    let paid = payment.as_ref().is_some_and(|p| p.status == "paid");
    let token = new_secret();
    let checkout = payment
        .as_ref()
        .map(|p| state.payments.checkout_path(&p.reference))
        .unwrap_or_default();
    let page = SubmittedPage {
        sandbox: state.payments.is_sandbox(),
        checkout,
        chrome: Chrome::default(),
        key: d.key(),
        procedure_name: d.procedure_name.clone(),
        accept_due: d
            .accept_due_at
            .map(|t| {
                motcua_domain::calendar::to_local(t)
                    .format("%H:%M %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_default(),
        payment,
        paid,
        signed_in: citizen.is_some(),
        csrf: token.clone(),
    };
    Ok(([(SET_COOKIE, form_cookie(state, &token))], Html(page.render()?)).into_response())
}

pub async fn submitted(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<RefQuery>,
) -> Result<Response, PageError> {
    submitted_page(&state, &headers, &key, &q.reference).await
}

/// The sandbox provider "pays" at once; a real provider would redirect and call back.
pub async fn pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = f.get("csrf").map(String::as_str).unwrap_or("");
    if !csrf_ok(&headers, csrf) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: i18n::t("form.csrf").into(),
        });
    }
    let mut tx = state.db.begin().await?;
    let ok = repo::mark_paid(&mut tx, &reference, Utc::now()).await?;
    tx.commit().await?;
    if !ok {
        return Err(PageError {
            status: StatusCode::CONFLICT,
            message: i18n::t("submit.no_payment").into(),
        });
    }
    let key = f.get("key").cloned().unwrap_or_default();
    let mut res = Redirect::to(&format!(
        "/cong-dan/da-nop/{}?ref={}",
        super::url_encode(&key),
        reference
    ))
    .into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    Ok(res)
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
