//! Feedback and petitions for anyone: the form (`/phan-anh`), in the visitor's language, and
//! the public list of published answers (`/phan-anh/da-tra-loi`). Rules and authorisation
//! belong to `motcua_service::feedback`; the officers' inbox is `pages::officer::feedback`.

use crate::AppState;
use crate::auth::{CurrentUser, MaybeUser, client_address};
use crate::error::PageError;
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{
    Errors, FormToken, bad_request, form_token_ok, page_count, page_number, pager, when, when_opt,
};
use crate::pages::public::Choice;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use motcua_domain::feedback::{Channel, Timing};
use motcua_service::feedback::{self as service, SubmitInput};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phan-anh", get(form).post(submit))
        .route("/phan-anh/da-tra-loi", get(public_list))
        .route("/phan-anh/da-gui/{reference}", get(sent))
}

/// The anonymous form's CSRF token travels in this cookie and in the form (double submit);
/// a signed-in user's form carries the session's token instead.
const CSRF_COOKIE: &str = "motcua_pakn_csrf";

/// A channel in the language of the page.
// ---------------------------------------------------------------------------------------
// The citizen's form.

#[derive(Debug, Default, Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    dossier_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    channel: String,
}

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct FormPage {
    chrome: Chrome,
    form_csrf: String,
    form: SubmitForm,
    agencies: Vec<Choice>,
    /// Officers also enter written and phone feedback.
    channels: Vec<Choice>,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "feedback_sent.html")]
struct SentPage {
    chrome: Chrome,
    reference: String,
    agency_name: String,
    received: String,
    forward_due: String,
    answer_due: String,
    channel: &'static str,
}

#[derive(Deserialize)]
pub struct FormQuery {
    /// Pre-fills the dossier code (links from the lookup page).
    #[serde(default)]
    ma: String,
    /// Pre-selects the agency.
    #[serde(default, rename = "co-quan")]
    agency: String,
}

/// Renders the form with a token: the session's when signed in (no cookie), a fresh one in
/// its cookie otherwise.
async fn form_response(
    state: &AppState,
    user: Option<&CurrentUser>,
    status: StatusCode,
    form: SubmitForm,
    errors: Errors,
) -> Result<Response, PageError> {
    let session_token = user.and_then(|u| u.csrf_token.clone());
    let (token, cookie) = match session_token {
        Some(t) => (t, None),
        None => {
            let t = FormToken::new(state, CSRF_COOKIE, "/phan-anh", 7200);
            (t.token, Some(t.set_cookie))
        }
    };
    let all = state.services.agencies().await?;
    let officer = user.is_some_and(|u| !u.access().officer_agencies().is_empty());
    let channels = if officer {
        let current = if form.channel.is_empty() {
            "online"
        } else {
            form.channel.as_str()
        };
        Channel::ALL
            .iter()
            .map(|c| Choice::new(c.as_str(), c.label(i18n::lang()), current))
            .collect()
    } else {
        Vec::new()
    };
    let html = FormPage {
        chrome: Chrome::current(),
        form_csrf: token,
        agencies: all
            .iter()
            .map(|a| Choice::new(&a.code, &format!("{} ({})", a.name, a.code), &form.agency))
            .collect(),
        channels,
        form: SubmitForm {
            csrf: String::new(),
            ..form
        },
        errors,
    }
    .render()?;
    Ok(match cookie {
        Some(c) => (status, [(SET_COOKIE, c)], Html(html)).into_response(),
        None => (status, Html(html)).into_response(),
    })
}

async fn form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    let prefill = SubmitForm {
        dossier_code: q.ma.trim().chars().take(60).collect(),
        agency: q.agency.trim().chars().take(40).collect(),
        ..Default::default()
    };
    form_response(&state, user.as_ref(), StatusCode::OK, prefill, Errors::default()).await
}

/// What a sender sees after sending: the reference and the deadlines.
async fn sent(
    State(state): State<AppState>,
    axum::extract::Path(reference): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    let f = state.services.feedback_receipt(&reference).await?;
    let html = SentPage {
        chrome: Chrome::current(),
        reference: f.reference.clone(),
        agency_name: f.agency_name.clone(),
        received: when(f.received_at),
        forward_due: when(f.forward_due_at),
        answer_due: when(f.answer_due_at),
        channel: f.channel.label(i18n::lang()),
    }
    .render()?;
    Ok(Html(html).into_response())
}

async fn submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<SubmitForm>,
) -> Result<Response, PageError> {
    let csrf_ok = match &user {
        Some(u) if u.csrf_token.is_some() => u.csrf_ok(&form.csrf),
        _ => form_token_ok(&headers, CSRF_COOKIE, &form.csrf),
    };
    if !csrf_ok {
        let mut errors = Errors::default();
        errors.push("name", i18n::t("feedback.expired"));
        return form_response(&state, user.as_ref(), StatusCode::BAD_REQUEST, form, errors).await;
    }
    let input = SubmitInput {
        dossier_code: Some(form.dossier_code.clone()),
        name: form.name.clone(),
        phone: form.phone.clone(),
        email: form.email.clone(),
        agency: form.agency.clone(),
        subject: form.subject.clone(),
        content: form.content.clone(),
        channel: Some(form.channel.clone()),
    };
    let address = client_address(&extensions);
    let refused = match state
        .services
        .submit_feedback(user.as_ref(), &address, &input)
        .await
    {
        // Post, redirect, get: a refresh does not send it again.
        Ok(f) => {
            return Ok(crate::pages::common::see_other(&format!(
                "/phan-anh/da-gui/{}",
                crate::pages::common::url_encode(&f.reference)
            )));
        }
        Err(r) => r,
    };
    let status = crate::error::status_of(&refused);
    if status.is_server_error() {
        return Err(refused.into());
    }
    let errors = Errors::of(&refused, i18n::lang(), |path| path.to_string(), "agency");
    form_response(&state, user.as_ref(), status, form, errors).await
}

// ---------------------------------------------------------------------------------------
// Published answers.

struct PublicRow {
    reference: String,
    subject: String,
    content: String,
    agency_name: String,
    received: String,
    answered: String,
    answer: String,
    on_time: bool,
}

#[derive(Template)]
#[template(path = "feedback_public.html")]
struct PublicPage {
    chrome: Chrome,
    q: String,
    rows: Vec<PublicRow>,
    total: i64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

async fn public_list(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, PageError> {
    let page = page_number(&params.page)?;
    let q = params.q.trim();
    if q.chars().count() > 200 {
        return Err(bad_request(i18n::t("public.long_query")));
    }
    let (items, total) = state.services.published_feedback(Some(q), page).await?;
    let pages = page_count(total, service::PER_PAGE);
    let now = state.services.now();
    let (prev_url, next_url) = pager("/phan-anh/da-tra-loi", &[("q", q)], page, pages);
    let html = PublicPage {
        chrome: Chrome::current(),
        q: q.to_string(),
        rows: items
            .iter()
            .map(|f| PublicRow {
                reference: f.reference.clone(),
                subject: f.subject.clone(),
                content: f.content.clone(),
                agency_name: f.agency_name.clone(),
                received: when(f.received_at),
                answered: when_opt(f.closed_at),
                answer: f.answer.clone(),
                on_time: f.timing(now) == Timing::OnTime,
            })
            .collect(),
        total,
        page,
        pages,
        prev_url,
        next_url,
    }
    .render()?;
    Ok(Html(html))
}
