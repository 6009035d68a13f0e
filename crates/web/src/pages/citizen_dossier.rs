//! A citizen's own dossier (`/cong-dan/ho-so/{key}`): status and timeline, handing in a
//! requested supplement, asking to withdraw, downloading the electronic result, and rating
//! the service once the dossier is finished (the citizen's questions of DOMAIN.md §7).

use super::Chrome;
use crate::AppState;
use crate::auth::constant_time_eq;
use crate::citizens;
use crate::dossiers::{self, ActionInput};
use crate::error::PageError;
use crate::i18n;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use motcua_domain::dossier::Status;
use motcua_domain::dossier::machine::Action;
use motcua_store::repo::{citizens as repo, lifecycle};
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
    procedure_name: String,
    status_label: String,
    due: String,
    missing: Option<String>,
    steps: Vec<(String, String, String)>,
    can_supplement: bool,
    can_withdraw: bool,
    result: bool,
    can_rate: bool,
    rated: Option<String>,
    error: Option<String>,
    flash: Option<&'static str>,
}

fn when(t: Option<chrono::DateTime<Utc>>) -> String {
    t.map(|t| {
        motcua_domain::calendar::to_local(t)
            .format("%H:%M %d/%m/%Y")
            .to_string()
    })
    .unwrap_or_default()
}

async fn owned(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
) -> Result<(repo::Citizen, String, lifecycle::Dossier), Response> {
    let Some((c, csrf)) = citizens::current(state, headers).await else {
        let mut r = Redirect::to("/cong-dan/dang-nhap").into_response();
        *r.status_mut() = StatusCode::SEE_OTHER;
        return Err(r);
    };
    let d = match lifecycle::find(&state.db, key).await {
        Ok(Some(d)) => d,
        _ => return Err(PageError::not_found().into_response()),
    };
    match repo::owner_of(&state.db, d.id).await {
        Ok(Some(o)) if o == c.id => Ok((c, csrf, d)),
        _ => Err(PageError::not_found().into_response()),
    }
}

async fn render(
    state: &AppState,
    csrf: String,
    d: lifecycle::Dossier,
    status: StatusCode,
    error: Option<String>,
    flash: Option<&'static str>,
) -> Result<Response, PageError> {
    let st: Status = d.status.parse().unwrap_or(Status::Submitted);
    let steps = lifecycle::steps(&state.db, d.id).await?;
    let events = lifecycle::events(&state.db, d.id).await?;
    let rated = repo::rating(&state.db, d.id).await?.map(|(_, s)| s);
    let page = Page {
        chrome: Chrome::default(),
        csrf,
        key: d.key(),
        procedure_name: d.procedure_name.clone(),
        status_label: i18n::status_label(st).into(),
        due: when(d.due_at),
        missing: (st == Status::AwaitingSupplement)
            .then(|| {
                events
                    .iter()
                    .rev()
                    .find(|e| e.action == "request_supplement")
                    .map(|e| e.note.clone())
            })
            .flatten(),
        steps: steps
            .iter()
            .filter(|s| s.started_at.is_some())
            .map(|s| (s.name.clone(), when(s.started_at), when(s.completed_at)))
            .collect(),
        can_supplement: st == Status::AwaitingSupplement,
        can_withdraw: matches!(
            st,
            Status::Received | Status::Processing | Status::AwaitingSupplement | Status::AwaitingPayment
        ),
        result: matches!(st, Status::Resolved | Status::Returned) && d.result_file.is_some(),
        can_rate: matches!(
            st,
            Status::Resolved | Status::Returned | Status::Withdrawn | Status::Stopped
        ) && rated.is_none(),
        rated: rated.map(|s| {
            i18n::t(match s.as_str() {
                "very_satisfied" => "dossier.very_satisfied",
                "satisfied" => "dossier.satisfied",
                _ => "dossier.not_satisfied",
            })
            .to_string()
        }),
        error,
        flash,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let (_, csrf, d) = match owned(&state, &headers, &key).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    render(&state, csrf, d, StatusCode::OK, None, None).await
}

/// Downloads the electronic result (owner only).
pub async fn result(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let (_, _, d) = match owned(&state, &headers, &key).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let ready = matches!(d.status.as_str(), "resolved" | "returned");
    let Some(sha) = d.result_file.clone().filter(|_| ready) else {
        return Err(PageError::not_found());
    };
    let Some((meta, bytes)) = state.files.get(&state.db, &sha).await? else {
        return Err(PageError::not_found());
    };
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        super::url_encode(&format!("ket-qua-{}", meta.filename))
    );
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The citizen's forms: `action` is `bo-sung` (hand in the supplement), `rut` (withdraw) or
/// `danh-gia` (rate).
pub async fn post(
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
    if !constant_time_eq(
        csrf.as_bytes(),
        fields.get("csrf").map(String::as_bytes).unwrap_or(b""),
    ) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: i18n::t("form.csrf").into(),
        });
    }
    let fail =
        |status: StatusCode, msg: String| render(&state, csrf.clone(), d.clone(), status, Some(msg), None);
    let done: &'static str = match what.as_str() {
        "bo-sung" => {
            let Some((name, bytes)) = file else {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    i18n::t("dossier.choose_file").into(),
                )
                .await;
            };
            let meta = match crate::api::dossiers::store_scan(&state, &name, &bytes).await {
                Ok(m) => m,
                Err(e) => {
                    return fail(
                        e.status,
                        i18n::t1("dossier.bad_file", e.detail.unwrap_or_default()),
                    )
                    .await;
                }
            };
            let input = ActionInput {
                file: Some(format!("sha256:{}", meta.sha256)),
                ..Default::default()
            };
            if let Err(e) =
                dossiers::act_as_citizen(&state, c.id, &c.login, &key, Action::ReceiveSupplement, input).await
            {
                return fail(StatusCode::CONFLICT, e.message()).await;
            }
            i18n::t("dossier.supplemented")
        }
        "rut" => {
            let reason = fields.get("reason").cloned().unwrap_or_default();
            if reason.trim().is_empty() {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    i18n::t("dossier.give_reason").into(),
                )
                .await;
            }
            let input = ActionInput {
                note: reason,
                ..Default::default()
            };
            if let Err(e) =
                dossiers::act_as_citizen(&state, c.id, &c.login, &key, Action::Withdraw, input).await
            {
                return fail(StatusCode::CONFLICT, e.message()).await;
            }
            i18n::t("dossier.withdrawn")
        }
        "danh-gia" => {
            let finished = matches!(
                d.status.as_str(),
                "resolved" | "returned" | "withdrawn" | "stopped"
            );
            if !finished {
                return fail(StatusCode::CONFLICT, i18n::t("dossier.rate_finished").into()).await;
            }
            let mut answers = serde_json::Map::new();
            for (k, _, _, _) in QUESTIONS {
                match fields
                    .get(k)
                    .and_then(|v| v.parse::<u8>().ok())
                    .filter(|v| *v <= 2)
                {
                    Some(v) => {
                        answers.insert(k.to_string(), v.into());
                    }
                    None => {
                        return fail(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            i18n::t("dossier.answer_all").into(),
                        )
                        .await;
                    }
                }
            }
            let satisfaction = fields.get("satisfaction").cloned().unwrap_or_default();
            if !["very_satisfied", "satisfied", "not_satisfied"].contains(&satisfaction.as_str()) {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    i18n::t("dossier.choose_satisfaction").into(),
                )
                .await;
            }
            let mut tx = state.db.begin().await?;
            match repo::rate(
                &mut tx,
                d.id,
                Some(c.id),
                &serde_json::Value::Object(answers).to_string(),
                &satisfaction,
                Utc::now(),
            )
            .await
            {
                Ok(()) => tx.commit().await?,
                Err(motcua_store::StoreError::Conflict(_)) => {
                    return fail(StatusCode::CONFLICT, i18n::t("dossier.already_rated").into()).await;
                }
                Err(e) => return Err(e.into()),
            }
            i18n::t("dossier.thanks")
        }
        _ => return Err(PageError::not_found()),
    };
    let d = lifecycle::find(&state.db, &d.key()).await?.unwrap_or(d);
    render(&state, csrf, d, StatusCode::OK, None, Some(done)).await
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post as post_route};
    axum::Router::new()
        .route("/cong-dan/ho-so/{key}", get(show))
        .route("/cong-dan/ho-so/{key}/ket-qua", get(result))
        .route(
            "/cong-dan/ho-so/{key}/{what}",
            post_route(post).layer(axum::extract::DefaultBodyLimit::max(12 * 1024 * 1024)),
        )
}
