//! A citizen's own dossier (`/cong-dan/ho-so/{key}`): status and timeline, handing in a
//! requested supplement, asking to withdraw, downloading the electronic result, and rating
//! the service once the dossier is finished (the citizen's questions of DOMAIN.md §7).

use crate::AppState;
use crate::auth::citizen;
use crate::error::{PageError, page_message, status_of};
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{
    Errors, csrf_rejected, file_response, see_other, url_encode, when_or_empty as when,
};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use motcua_domain::dossier::machine::Action;
use motcua_domain::dossier::{ComponentKind, PaymentStatus, Status};
use motcua_domain::evaluation::Satisfaction;
use motcua_service::auth::constant_time_eq;
use motcua_service::citizens::{Citizen, OwnDossier};
use motcua_service::dossiers::{ActionInput, Actor};
use serde::Deserialize;
use std::collections::HashMap;

/// The citizen's questions: (key, indicator, question, answers scored 2/1/0).
pub const QUESTIONS: [(&str, u8, &str, [&str; 3]); 3] = [
    (
        "q5",
        5,
        "Hồ sơ được giải quyết theo cách “4 tại chỗ” (tiếp nhận, thẩm định, phê duyệt, trả kết quả tại bộ phận một cửa)?",
        ["Có, hoàn toàn", "Một phần", "Không"],
    ),
    (
        "q6",
        6,
        "Thủ tục được công khai đầy đủ, dễ hiểu (thành phần hồ sơ, thời hạn, phí, mẫu đơn)?",
        ["Đầy đủ, rõ ràng", "Có nhưng chưa đầy đủ", "Không"],
    ),
    (
        "q7",
        7,
        "Thái độ của cán bộ, công chức khi hướng dẫn, tiếp nhận và giải quyết?",
        ["Lịch sự, tận tình", "Bình thường", "Gây phiền hà, sách nhiễu"],
    ),
];

/// The same questions in English.
pub const QUESTIONS_EN: [(&str, u8, &str, [&str; 3]); 3] = [
    (
        "q5",
        5,
        "Was your dossier handled “4 on the spot” (received, appraised, approved and returned at the one-stop desk)?",
        ["Yes, fully", "Partly", "No"],
    ),
    (
        "q6",
        6,
        "Was the procedure published in full and easy to understand (documents, time limit, fees, forms)?",
        ["In full and clearly", "Published but incomplete", "No"],
    ),
    (
        "q7",
        7,
        "How did the officials behave when guiding you, receiving and handling your dossier?",
        ["Polite and helpful", "Ordinary", "Caused trouble or harassment"],
    ),
];

/// The citizen's questions in the language of the page.
pub fn questions() -> &'static [(&'static str, u8, &'static str, [&'static str; 3]); 3] {
    if i18n::is_en() { &QUESTIONS_EN } else { &QUESTIONS }
}

#[derive(Template)]
#[template(path = "citizen_dossier.html")]
struct Page {
    chrome: Chrome,
    csrf: String,
    key: String,
    code: Option<String>,
    procedure_name: String,
    agency_name: String,
    status_label: String,
    /// (label, value) of the dossier's dates and what it awaits, in the order they happen.
    facts: Vec<(&'static str, String)>,
    /// What was submitted: (label, value).
    submitted: Vec<(&'static str, String)>,
    /// The documents: (name, file name or "").
    documents: Vec<(String, String)>,
    /// The fee, where its payment stands, and where to pay it.
    fee: Option<(String, bool)>,
    missing: Option<String>,
    steps: Vec<(String, String, String)>,
    can_supplement: bool,
    can_withdraw: bool,
    result: bool,
    /// Form 01 (the receipt and appointment slip), once received.
    receipt: bool,
    /// The result's verification code (the public check).
    result_code: Option<String>,
    can_rate: bool,
    rated: Option<String>,
    errors: Errors,
    flash: Option<&'static str>,
}

/// The signed-in citizen and their session's CSRF token, and their dossier; a redirect to
/// sign in, or not found for anyone else's dossier.
async fn owned(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
) -> Result<(Citizen, String, OwnDossier), Response> {
    let Some((c, csrf)) = citizen(state, headers).await else {
        return Err(super::sign_in_then(&format!(
            "/cong-dan/ho-so/{}",
            url_encode(key)
        )));
    };
    match state.services.own_dossier(c.id, key).await {
        Ok(d) => Ok((c, csrf, d)),
        Err(e) => Err(PageError::from(e).into_response()),
    }
}

async fn render(
    csrf: String,
    own: OwnDossier,
    status: StatusCode,
    errors: Errors,
    flash: Option<&'static str>,
) -> Result<Response, PageError> {
    let d = &own.dossier;
    let st = d.status;
    let rated = own.rating;
    let t = i18n::t;
    let mut facts = vec![(t("dossier.submitted_at"), when(d.submitted_at.or(d.received_at)))];
    if st == Status::Submitted {
        facts.push((t("dossier.accept_due"), when(d.accept_due_at)));
    }
    facts.push((t("dossier.received_at"), when(d.receipt_instant())));
    // Received after hours: the legal clock starts at the next opening, said apart.
    if d.receipt_instant() != d.received_at {
        facts.push((t("dossier.clock_from"), when(d.received_at)));
    }
    facts.push((t("dossier.due"), when(d.due_at)));
    if let Some((method, address)) = &own.delivery {
        let how = crate::pages::citizen::delivery_label(method.as_str()).to_string();
        let how = if address.is_empty() {
            how
        } else {
            format!("{how}: {address}")
        };
        facts.push((t("draft.delivery_legend"), how));
    }
    if !d.phone.is_empty() || !d.email.is_empty() {
        let how = crate::pages::citizen::notify_label(own.notify.as_str());
        facts.push((t("notify.legend"), how.to_string()));
    }
    facts.push((t("dossier.returned_at"), when(d.returned_at)));
    if d.vneid_verified {
        facts.push((t("dossier.vneid"), t("dossier.vneid_yes").to_string()));
    }
    facts.retain(|(_, v)| !v.is_empty());
    let submitted = [
        (t("submit.name"), d.applicant_name.clone()),
        (t("submit.id_number"), d.applicant_id_number.clone()),
        (t("submit.phone"), d.phone.clone()),
        (t("submit.email"), d.email.clone()),
        (t("submit.address"), d.address.clone()),
        (t("submit.request"), d.request.clone()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let documents = own
        .components
        .iter()
        .filter(|c| c.kind != ComponentKind::Result && (c.provided || c.file_sha256.is_some()))
        .map(|c| {
            (
                c.name.clone(),
                c.file_sha256
                    .as_ref()
                    .map(|_| t("dossier.file_handed_in").to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let page = Page {
        chrome: Chrome::current(),
        csrf,
        key: d.key(),
        code: d.code.clone(),
        procedure_name: d.procedure_name.clone(),
        agency_name: d.agency_name.clone(),
        status_label: i18n::status_label(st).into(),
        facts,
        submitted,
        documents,
        fee: own.payment.as_ref().map(|p| {
            (
                crate::pages::citizen::amount(&p.amount_vnd),
                p.status == PaymentStatus::Paid,
            )
        }),
        missing: own.missing.clone(),
        steps: own
            .steps
            .iter()
            .map(|s| (s.name.clone(), when(s.started_at), when(s.completed_at)))
            .collect(),
        can_supplement: st == Status::AwaitingSupplement,
        can_withdraw: matches!(
            st,
            Status::Received | Status::Processing | Status::AwaitingSupplement | Status::AwaitingPayment
        ),
        result: matches!(st, Status::Resolved | Status::Returned) && d.result_file.is_some(),
        receipt: d.code.is_some() && d.received_at.is_some(),
        result_code: d
            .result_file
            .as_deref()
            .map(motcua_domain::authentic::verification_code),
        can_rate: matches!(
            st,
            Status::Resolved | Status::Returned | Status::Withdrawn | Status::Stopped
        ) && rated.is_none(),
        rated: rated.map(|s| {
            i18n::t(match s {
                Satisfaction::VerySatisfied => "dossier.very_satisfied",
                Satisfaction::Satisfied => "dossier.satisfied",
                Satisfaction::NotSatisfied => "dossier.not_satisfied",
            })
            .to_string()
        }),
        errors,
        flash,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct DoneQ {
    /// What was just done (after the redirect): `bo-sung`, `rut` or `danh-gia`.
    #[serde(default)]
    xong: String,
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<DoneQ>,
) -> Result<Response, PageError> {
    let (_, csrf, d) = match owned(&state, &headers, &key).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let flash = match q.xong.as_str() {
        "bo-sung" => Some(i18n::t("dossier.supplemented")),
        "rut" => Some(i18n::t("dossier.withdrawn")),
        "danh-gia" => Some(i18n::t("dossier.thanks")),
        _ => None,
    };
    render(csrf, d, StatusCode::OK, Errors::default(), flash).await
}

/// Downloads the electronic result (owner only).
async fn result(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let Some((c, _)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then(&format!(
            "/cong-dan/ho-so/{}/ket-qua",
            url_encode(&key)
        )));
    };
    let (mut meta, bytes) = state.services.own_result(c.id, &key).await?;
    meta.filename = format!("ket-qua-{}", meta.filename);
    Ok(file_response(&meta, bytes, true))
}

/// Form 01, the receipt and appointment slip, of the citizen's own received dossier.
async fn receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let Some((c, _)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then(&format!(
            "/cong-dan/ho-so/{}/phieu-tiep-nhan",
            url_encode(&key)
        )));
    };
    let v = state.services.own_view(c.id, &key).await?;
    let back = format!("/cong-dan/ho-so/{}", url_encode(&key));
    Ok(crate::pages::officer::receipt_form(&state, &v, Some(back))
        .await?
        .into_response())
}

/// The verification stamp of the citizen's own result (printable, with its QR code).
async fn stamp(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let Some((c, _)) = citizen(&state, &headers).await else {
        return Ok(super::sign_in_then(&format!(
            "/cong-dan/ho-so/{}/tem-xac-thuc",
            url_encode(&key)
        )));
    };
    let v = state.services.own_view(c.id, &key).await?;
    if !matches!(v.dossier.status, Status::Resolved | Status::Returned) {
        return Err(PageError::not_found());
    }
    let back = format!("/cong-dan/ho-so/{}", url_encode(&key));
    Ok(crate::pages::officer::result_stamp(&state, &v, Some(back))
        .await?
        .into_response())
}

/// The citizen's forms: `what` is `bo-sung` (hand in the supplement), `rut` (withdraw) or
/// `danh-gia` (rate).
async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, what)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (c, csrf, d) = match owned(&state, &headers, &key).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(f)) = multipart.next_field().await {
        let name = f.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = f.file_name().unwrap_or("bo-sung.pdf").to_string();
            if let Ok(b) = f.bytes().await
                && !b.is_empty()
            {
                file = Some((filename, b.to_vec()));
            }
        } else if let Ok(v) = f.text().await {
            fields.insert(name, v);
        }
    }
    crate::pages::common::refuse_nul(fields.values().map(String::as_str))?;
    if !constant_time_eq(
        csrf.as_bytes(),
        fields.get("csrf").map(String::as_bytes).unwrap_or(b""),
    ) {
        return Err(csrf_rejected());
    }
    // A refusal shown at the form's field (and in the summary).
    let fail = |status: StatusCode, field: &str, msg: String| {
        let mut errors = Errors::default();
        errors.push(field, msg);
        render(csrf.clone(), d.clone(), status, errors, None)
    };
    let refused = |e: motcua_service::ServiceError| (status_of(&e), page_message(&e, i18n::lang()));
    let actor = Actor::Citizen {
        id: c.id,
        login: &c.login,
    };
    match what.as_str() {
        "bo-sung" => {
            let Some((name, bytes)) = file else {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "file",
                    i18n::t("dossier.choose_file").into(),
                )
                .await;
            };
            let meta = match state.services.store_scan(&name, &bytes).await {
                Ok(m) => m,
                Err(e) => {
                    let (status, msg) = refused(e);
                    return fail(status, "file", i18n::t1("dossier.bad_file", msg)).await;
                }
            };
            let input = ActionInput {
                file: Some(format!("sha256:{}", meta.sha256)),
                ..Default::default()
            };
            if let Err(e) = state
                .services
                .act(actor, &key, Action::ReceiveSupplement, input)
                .await
            {
                let (status, msg) = refused(e);
                return fail(status, "file", msg).await;
            }
        }
        "rut" => {
            let input = ActionInput {
                note: fields.get("reason").cloned().unwrap_or_default(),
                ..Default::default()
            };
            if let Err(e) = state.services.act(actor, &key, Action::Withdraw, input).await {
                let (status, msg) = refused(e);
                return fail(status, "reason", msg).await;
            }
        }
        "danh-gia" => {
            let answers: Vec<(String, u8)> = motcua_service::citizens::QUESTIONS
                .iter()
                .filter_map(|q| Some((q.to_string(), fields.get(*q)?.parse::<u8>().ok()?)))
                .collect();
            let satisfaction = fields.get("satisfaction").cloned().unwrap_or_default();
            if let Err(e) = state
                .services
                .rate_dossier(c.id, &key, &answers, &satisfaction)
                .await
            {
                let status = status_of(&e);
                let errors = Errors::of(&e, i18n::lang(), |p| p.to_string(), "satisfaction");
                return render(csrf.clone(), d.clone(), status, errors, None).await;
            }
        }
        _ => return Err(PageError::not_found()),
    }
    Ok(see_other(&format!(
        "/cong-dan/ho-so/{}?xong={what}",
        url_encode(&key)
    )))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post as post_route};
    axum::Router::new()
        .route("/cong-dan/ho-so/{key}", get(show))
        .route("/cong-dan/ho-so/{key}/ket-qua", get(result))
        .route("/cong-dan/ho-so/{key}/phieu-tiep-nhan", get(receipt))
        .route("/cong-dan/ho-so/{key}/tem-xac-thuc", get(stamp))
        .route(
            "/cong-dan/ho-so/{key}/{what}",
            post_route(post).layer(axum::extract::DefaultBodyLimit::max(12 * 1024 * 1024)),
        )
}
