//! `/tra-cuu`: the citizen's lookup page (the QR on Form 01 lands here). No sign-in.

use super::Chrome;
use crate::AppState;
use crate::auth::MaybeUser;
use crate::error::PageError;
use crate::public::{LookupError, PublicDossier, lookup};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    ma: String,
    #[serde(default)]
    verify: String,
}

pub struct StepRow {
    pub name: String,
    pub agency: String,
    pub started: String,
    pub completed: String,
    pub timing: &'static str,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    chrome: Chrome,
    code: String,
    error: Option<String>,
    found: Option<PublicDossier>,
    received: String,
    due: String,
    steps: Vec<StepRow>,
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| {
        motcua_domain::calendar::to_local(t)
            .format("%H:%M %d/%m/%Y")
            .to_string()
    })
    .unwrap_or_default()
}

fn timing_vi(t: Option<&str>) -> &'static str {
    match t {
        Some("early") => "Sớm hạn",
        Some("on_time") => "Đúng hạn",
        Some("late") => "Trễ hạn",
        Some("within_time") => "Đang xử lý, trong hạn",
        Some("overdue") => "Đang xử lý, quá hạn",
        _ => "",
    }
}

pub async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    extensions: axum::http::Extensions,
    Query(q): Query<LookupQuery>,
) -> Result<Response, PageError> {
    let chrome = Chrome::of(user.as_ref());
    let mut page = LookupPage {
        chrome,
        code: q.ma.trim().to_string(),
        error: None,
        found: None,
        received: String::new(),
        due: String::new(),
        steps: Vec::new(),
    };
    let mut status = StatusCode::OK;
    if !q.ma.trim().is_empty() && !q.verify.trim().is_empty() {
        let address = crate::auth::client_address(&extensions);
        match lookup(&state, &q.ma, &q.verify, &address).await {
            Ok(d) => {
                page.received = when(d.received_at);
                page.due = when(d.due_at);
                page.steps = d
                    .steps
                    .iter()
                    .map(|s| StepRow {
                        name: s.name.clone(),
                        agency: s.agency.clone().unwrap_or_default(),
                        started: when(s.started_at),
                        completed: when(s.completed_at),
                        timing: timing_vi(s.timing.as_deref()),
                    })
                    .collect();
                page.found = Some(d);
            }
            Err(LookupError::NotFound) => {
                status = StatusCode::NOT_FOUND;
                page.error = Some("Không tìm thấy hồ sơ với mã và 4 chữ số này. Kiểm tra lại mã trên Giấy tiếp nhận và 4 số cuối của số điện thoại hoặc số định danh.".into());
            }
            Err(LookupError::BadVerify) => {
                status = StatusCode::BAD_REQUEST;
                page.error =
                    Some("Nhập đúng 4 chữ số cuối của số điện thoại hoặc số định danh cá nhân.".into());
            }
            Err(LookupError::TooMany(wait)) => {
                status = StatusCode::TOO_MANY_REQUESTS;
                page.error = Some(format!(
                    "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau {} phút.",
                    wait.div_ceil(60)
                ));
            }
        }
    }
    Ok((status, Html(page.render()?)).into_response())
}

/// `/ngon-ngu/{lang}`: switches the page language (cookie) and returns to where the user was.
pub async fn switch_language(
    State(state): State<AppState>,
    axum::extract::Path(lang): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let code = if lang == "en" { "en" } else { "vi" };
    // Back to the page the user came from, when it is ours.
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut res = axum::response::Redirect::to(&back).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = format!(
        "{}={code}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        crate::i18n::COOKIE
    )
    .parse()
    {
        res.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    res
}
