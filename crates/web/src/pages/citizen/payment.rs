//! Paying a fee through the national payment platform, as the citizen sees it: the page
//! before the redirect to the gateway, the page the gateway sends them back to (paid,
//! failed, or waiting for the gateway's confirmation), and the fee receipt ("Biên lai thu
//! phí, lệ phí"). What a callback settles is `motcua_service::payments`'s, not this module's.

use crate::AppState;
use crate::auth::citizen;
use crate::error::PageError;
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{url_encode, when};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use motcua_domain::calendar;
use motcua_service::payments::gateway::RETURN_PATH;
use motcua_service::payments::{FeeReceipt, ReturnState};
use serde::Deserialize;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/cong-dan/chuyen-thanh-toan/{order_id}", get(checkout))
        .route(RETURN_PATH, get(returned))
        .route("/cong-dan/ho-so/{key}/bien-lai", get(receipt))
}

/// The address of the submission's confirmation page, which shows its fee, for whoever holds
/// the payment's reference.
fn submitted_url(key: &str, reference: &str) -> String {
    format!(
        "/cong-dan/da-nop/{}?ref={}",
        url_encode(key),
        url_encode(reference)
    )
}

#[derive(Template)]
#[template(path = "payment_checkout.html")]
struct CheckoutPage {
    chrome: Chrome,
    dossier: String,
    order_id: String,
    amount: String,
    expires: String,
    url: String,
}

/// Before the redirect: what is about to be paid, and the way on to the gateway (a link,
/// not a form: the gateway is another site).
async fn checkout(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<Response, PageError> {
    let c = state.services.checkout(&order_id).await?;
    let page = CheckoutPage {
        chrome: Chrome::current(),
        dossier: c.attempt.dossier_key.clone(),
        order_id: c.attempt.order_id.clone(),
        amount: super::amount(&c.attempt.amount_vnd),
        expires: when(c.attempt.expires_at),
        url: c.url,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "payment_return.html")]
struct ReturnPage {
    chrome: Chrome,
    /// `paid`, `failed`, `disputed` or `pending`.
    state: &'static str,
    title: &'static str,
    lead: String,
    dossier: String,
    amount: String,
    order_id: String,
    transaction_id: String,
    /// Back to the submission's page (its fee, pay again).
    back: String,
    /// The receipt, once paid.
    receipt: String,
}

/// Where the gateway sends the citizen back: said as motcua's own records stand (only the
/// gateway's notification settles a payment); a forged or unreadable return is refused.
async fn returned(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, PageError> {
    // Unreadable: refused (and logged) like a return with no fields.
    let fields = query.map(|Query(f)| f).unwrap_or_default();
    let r = state.services.payment_returned(&fields).await?;
    let key = r.payment.dossier_key.clone();
    let amount = super::amount(&r.payment.amount_vnd);
    let transaction_id = r
        .attempt
        .transaction_id
        .clone()
        .or(r.payment.transaction_id.clone())
        .unwrap_or_default();
    let (name, title, lead, status) = match r.state {
        ReturnState::Paid => (
            "paid",
            i18n::t("payment.paid_title"),
            i18n::t2("payment.paid_lead", &amount, &key),
            StatusCode::OK,
        ),
        ReturnState::Failed => (
            "failed",
            i18n::t("payment.failed_title"),
            i18n::t1("payment.failed_lead", &r.result),
            StatusCode::OK,
        ),
        ReturnState::Disputed => (
            "disputed",
            i18n::t("payment.disputed_title"),
            i18n::t("payment.disputed_lead").to_string(),
            StatusCode::OK,
        ),
        ReturnState::Pending => (
            "pending",
            i18n::t("payment.pending_title"),
            i18n::t("payment.pending_lead").to_string(),
            StatusCode::ACCEPTED,
        ),
    };
    let page = ReturnPage {
        chrome: Chrome::current(),
        state: name,
        title,
        lead,
        back: submitted_url(&key, &r.payment.reference),
        receipt: format!(
            "/cong-dan/ho-so/{}/bien-lai?ref={}",
            url_encode(&key),
            url_encode(&r.payment.reference)
        ),
        dossier: key,
        amount,
        order_id: r.attempt.order_id,
        transaction_id,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct RefQuery {
    #[serde(default, rename = "ref")]
    reference: String,
}

/// The receipt of a paid fee, for the dossier's owner signed in, or whoever holds the
/// payment's reference (a guest who paid).
async fn receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<RefQuery>,
) -> Result<Response, PageError> {
    let signed_in = citizen(&state, &headers).await;
    if signed_in.is_none() && q.reference.is_empty() {
        return Ok(super::sign_in_then(&format!(
            "/cong-dan/ho-so/{}/bien-lai",
            url_encode(&key)
        )));
    }
    let r = state
        .services
        .fee_receipt(&key, &q.reference, signed_in.as_ref().map(|(c, _)| c.id))
        .await?;
    let back = match &signed_in {
        Some(_) => format!("/cong-dan/ho-so/{}", url_encode(&key)),
        None => submitted_url(&key, &r.payment.reference),
    };
    Ok(receipt_page(&r, back)?.into_response())
}

struct FeeLine {
    name: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "fee_receipt.html")]
struct ReceiptPage {
    chrome: Chrome,
    back: String,
    parent_agency: String,
    agency_name: String,
    dated: String,
    number: String,
    dossier: String,
    procedure_name: String,
    payer: String,
    id_number: String,
    address: String,
    fees: Vec<FeeLine>,
    amount: String,
    amount_words: String,
    paid_at: String,
    method: &'static str,
    transaction_id: String,
    order_id: String,
    sandbox: bool,
}

fn vnd(n: i64) -> String {
    crate::pages::public::catalog::vnd(u64::try_from(n).unwrap_or(0))
}

/// The printable receipt (Vietnamese, A4), for a citizen's page or an officer's.
pub(crate) fn receipt_page(r: &FeeReceipt, back: String) -> Result<Html<String>, PageError> {
    let d = &r.dossier;
    let p = &r.payment;
    let paid_at = p.paid_at.unwrap_or(p.created_at);
    let local = calendar::local_date(paid_at);
    let mut fees: Vec<FeeLine> = r
        .fees
        .iter()
        .filter(|(_, a)| a.is_some_and(|a| a > 0))
        .map(|(name, a)| FeeLine {
            name: name.clone(),
            amount: vnd(a.map(|a| a as i64).unwrap_or(0)),
        })
        .collect();
    // The procedure's fees changed since, or are formulas: the amount paid, as one line.
    let listed: i64 = r.fees.iter().filter_map(|(_, a)| a.map(|a| a as i64)).sum();
    if fees.is_empty() || listed != p.amount_vnd {
        fees = vec![FeeLine {
            name: format!("Phí, lệ phí giải quyết thủ tục {}", d.procedure_name),
            amount: vnd(p.amount_vnd),
        }];
    }
    let payer = if d.submitter_name.trim().is_empty() {
        d.applicant_name.clone()
    } else {
        d.submitter_name.clone()
    };
    let sandbox = p.provider == "sandbox";
    let page = ReceiptPage {
        chrome: Chrome::current(),
        back,
        parent_agency: r.parent_agency.clone(),
        agency_name: d.agency_name.clone(),
        dated: format!(
            "ngày {:02} tháng {:02} năm {}",
            chrono::Datelike::day(&local),
            chrono::Datelike::month(&local),
            chrono::Datelike::year(&local)
        ),
        number: format!("{:07}", p.id),
        dossier: d.key(),
        procedure_name: d.procedure_name.clone(),
        payer,
        id_number: d.applicant_id_number.clone(),
        address: d.address.clone(),
        fees,
        amount: vnd(p.amount_vnd),
        amount_words: motcua_domain::money::vnd_in_words(u64::try_from(p.amount_vnd).unwrap_or(0)),
        paid_at: when(paid_at),
        method: if sandbox {
            "Thanh toán thử nghiệm (sandbox) — không có tiền thật được chuyển"
        } else {
            "Thanh toán trực tuyến qua Cổng thanh toán quốc gia"
        },
        transaction_id: p.transaction_id.clone().unwrap_or_default(),
        order_id: r.order_id.clone(),
        sandbox,
    };
    Ok(Html(page.render()?))
}
