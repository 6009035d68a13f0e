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
use crate::pages::common::{csrf_rejected, see_other, url_encode, when};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use motcua_domain::dossier::PaymentStatus;
use motcua_domain::procedure::ProcedureSpec;
use motcua_service::ServiceError;
use motcua_service::citizens::Payment;
use motcua_service::files::PendingScan;
use motcua_service::payments::Checkout;
use serde::Deserialize;
use std::collections::HashMap;

/// An amount in đồng as these pages write it: "150.000 đồng", or "150,000 VND" in English.
pub fn amount(vnd: &i64) -> String {
    match u64::try_from(*vnd) {
        Ok(n) => crate::pages::public::money(n),
        Err(_) => i18n::t1("submit.amount", vnd),
    }
}

/// The start page of an online submission: what it takes, then "Bắt đầu".
#[derive(Template)]
#[template(path = "citizen_submit.html")]
struct StartPage {
    chrome: Chrome,
    csrf: String,
    spec: ProcedureSpec,
    case_code: String,
    fee_total: i64,
    signed_in: bool,
    /// Sign in, then back to this page.
    sign_in: String,
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
    /// How the result comes back, as the page says it.
    delivery: &'static str,
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

pub(super) fn fees_of(spec: &ProcedureSpec) -> i64 {
    spec.fees
        .iter()
        .filter_map(|f| f.amount_vnd)
        .map(|a| a as i64)
        .sum()
}

pub(super) async fn load(state: &AppState, code: &str) -> Result<ProcedureSpec, PageError> {
    let p = state.services.procedure(code.trim(), None).await?;
    if !p.spec.accepts_online() {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            i18n::t("submit.not_online"),
        ));
    }
    Ok(p.spec)
}

pub(super) async fn agencies_of(
    state: &AppState,
    spec: &ProcedureSpec,
) -> Result<Vec<(String, String)>, PageError> {
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
    let here = format!(
        "/cong-dan/nop-ho-so?procedure={}&case={}",
        url_encode(&spec.code),
        url_encode(&case_code)
    );
    let token = form_token(&state);
    let page = StartPage {
        chrome: Chrome::current(),
        csrf: token.token.clone(),
        fee_total: fees_of(&spec),
        spec,
        case_code,
        signed_in: citizen(&state, &headers).await.is_some(),
        sign_in: super::sign_in_url(&here),
    };
    Ok(([(SET_COOKIE, token.set_cookie)], Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    case: String,
}

/// "Bắt đầu": a new draft, then its first part (a guest's drafts are counted per address).
async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    axum::Form(f): axum::Form<StartForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return Err(csrf_rejected());
    }
    let citizen = citizen(&state, &headers).await;
    if citizen.is_none() {
        state
            .services
            .admit_guest_submission(&crate::auth::client_address(&extensions))?;
    }
    let spec = load(&state, &f.procedure).await?;
    let token = state
        .services
        .start_draft(&spec.code, &f.case, citizen.as_ref().map(|(c, _)| c))
        .await?;
    Ok(see_other(&format!("/cong-dan/ho-so-nhap/{token}")))
}

/// Reads a file field to a checked scan (None: no file chosen), streamed to a temporary file
/// and checked as it comes, never whole in memory; a refusal as the page says it.
pub(super) async fn read_scan(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    filename: &str,
) -> Result<Option<PendingScan>, String> {
    let page = |e: &ServiceError| crate::error::page_message(e, i18n::lang());
    let mut upload = state.services.begin_scan(filename).await;
    let mut failed: Option<String> = None;
    loop {
        match field.chunk().await {
            Ok(Some(piece)) => {
                if let (Ok(up), None) = (&mut upload, &failed)
                    && let Err(e) = up.write(&piece).await
                {
                    failed = Some(page(&e));
                }
            }
            Ok(None) => break,
            Err(_) => return Err(i18n::t("submit.file_failed").into()),
        }
    }
    match (upload, failed) {
        (_, Some(text)) => Err(text),
        (Err(e), None) => Err(page(&e)),
        (Ok(up), None) => up.finish().await.map_err(|e| page(&e)),
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
        delivery: super::draft::delivery_label(d.delivery.map(|m| m.as_str()).unwrap_or("desk")),
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

/// "Pay": the sandbox provider pays at once; the national payment platform gets a new
/// attempt, and the citizen goes on to the page that sends them to its checkout.
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
    match state.services.start_payment(&reference).await? {
        Checkout::Paid => {
            let key = f.get("key").cloned().unwrap_or_default();
            Ok(see_other(&format!(
                "/cong-dan/da-nop/{}?ref={}",
                url_encode(&key),
                url_encode(&reference)
            )))
        }
        Checkout::Gateway { order_id } => Ok(see_other(&format!(
            "/cong-dan/chuyen-thanh-toan/{}",
            url_encode(&order_id)
        ))),
    }
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/cong-dan/nop-ho-so", get(form).post(start))
        .route("/cong-dan/da-nop/{key}", get(submitted))
        .route("/cong-dan/thanh-toan/{reference}", post(pay))
}
