//! Feedback and petitions pages: the citizen's form (`/phan-anh`) and the public list of
//! published answers (`/phan-anh/da-tra-loi`), the officers' list and detail with action forms
//! (`/ho-so/phan-anh…`). Rules and authorisation belong to `crate::feedback`; this module only
//! reads forms, shows results and says problems in Vietnamese — or in English on the public
//! pages when the visitor chose it (the officers' pages stay Vietnamese).

use super::catalog::Choice;
use super::{Chrome, see_other};
use crate::AppState;
use crate::auth::{self, CurrentUser, MaybeUser, PageUser};
use crate::error::PageError;
use crate::feedback::{self as service, ActionInput, Refusal, SubmitInput, SubmitLimits, View};
use crate::i18n::{self, Lang};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::{DateTime, Utc};
use motcua_domain::calendar;
use motcua_domain::feedback::{self as rules, Action, Category, Channel, Status, Timing};
use motcua_domain::procedure::FieldError;
use motcua_store::repo::agencies::{self, Agency};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phan-anh", get(form).post(submit))
        .route("/phan-anh/da-tra-loi", get(public_list))
        .route("/ho-so/phan-anh", get(inbox))
        .route("/ho-so/phan-anh/{reference}", get(show))
        .route("/ho-so/phan-anh/{reference}/xu-ly/{action}", post(act))
        .layer(Extension(SubmitLimits::shared()))
}

/// The anonymous form's CSRF token travels in this cookie and in the form (double submit);
/// a signed-in user's form carries the session's token instead.
const CSRF_COOKIE: &str = "motcua_pakn_csrf";

/// An instant on the legal clock as people write it: "14:05 27/10/2025".
fn when(t: DateTime<Utc>) -> String {
    calendar::to_local(t).format("%H:%M %d/%m/%Y").to_string()
}

fn when_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(when).unwrap_or_else(|| "—".into())
}

fn status_vi(status: &str) -> &'static str {
    status.parse::<Status>().map(Status::label_vi).unwrap_or("—")
}

fn channel_vi(channel: &str) -> &'static str {
    channel
        .parse::<Channel>()
        .map(Channel::label_vi)
        .unwrap_or("Không rõ")
}

/// The English label of a channel.
fn channel_en(channel: Channel) -> &'static str {
    match channel {
        Channel::Online => "Online",
        Channel::Written => "In writing",
        Channel::Phone => "By phone",
    }
}

/// A channel in the language of the page.
fn channel_label(channel: &str) -> &'static str {
    match channel.parse::<Channel>() {
        Ok(c) if i18n::is_en() => channel_en(c),
        Err(_) if i18n::is_en() => "Unknown",
        _ => channel_vi(channel),
    }
}

fn event_vi(action: &str) -> &'static str {
    match action {
        "submit" => "Tiếp nhận phản ánh, kiến nghị",
        other => other
            .parse::<Action>()
            .map(Action::label_vi)
            .unwrap_or("Thao tác khác"),
    }
}

fn page_error(status: StatusCode, message: impl Into<String>) -> PageError {
    PageError {
        status,
        message: message.into(),
    }
}

/// A problem shown at the top of a form, linking to its field.
pub struct ErrorRow {
    pub anchor: String,
    pub text: String,
}

/// A field error of the service (which speaks English for the API) in a language: the
/// officers' pages ask for Vietnamese, the public form for the visitor's language.
fn field_row(e: &FieldError, lang: Lang) -> ErrorRow {
    let key = match e.path.as_str() {
        "channel" => "feedback.err.channel",
        "dossier_code" => "feedback.err.dossier_code",
        "name" => "feedback.err.name",
        "phone" if e.message.starts_with("give a phone") => "feedback.err.contact",
        "phone" => "feedback.err.phone",
        "email" => "feedback.err.email",
        "agency" => "feedback.err.agency",
        "subject" => "feedback.err.subject",
        "content" => "feedback.err.content",
        "answer" => "feedback.err.answer",
        "note" if e.message.starts_with("a reason") => "feedback.err.reject_reason",
        "note" => "feedback.err.note",
        "to_agency" if e.message.starts_with("the feedback is already") => "feedback.err.same_agency",
        "to_agency" => "feedback.err.to_agency",
        "category" => "feedback.err.category",
        _ => "",
    };
    let text = match e.path.as_str() {
        _ if key.is_empty() => e.message.clone(),
        "name" => i18n::fill(i18n::text_in(lang, key), &[&rules::MAX_NAME]),
        "subject" => i18n::fill(i18n::text_in(lang, key), &[&rules::MAX_SUBJECT]),
        _ => i18n::text_in(lang, key).to_string(),
    };
    let anchor = if e.path.is_empty() {
        "main".to_string()
    } else {
        e.path.clone()
    };
    ErrorRow { anchor, text }
}

fn agency_choices(all: &[Agency], current: &str) -> Vec<Choice> {
    all.iter()
        .map(|a| Choice::new(&a.code, &format!("{} ({})", a.name, a.code), current))
        .collect()
}

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
    errors: Vec<ErrorRow>,
}

impl FormPage {
    fn error_for(&self, anchor: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.anchor == anchor)
            .map(|e| e.text.as_str())
    }
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

fn csrf_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{CSRF_COOKIE}={token}; Path=/phan-anh; HttpOnly; SameSite=Strict; Max-Age=7200{secure}")
}

/// Renders the form with a token: the session's when signed in (no cookie), a fresh one in
/// its cookie otherwise.
async fn form_response(
    state: &AppState,
    user: Option<&CurrentUser>,
    status: StatusCode,
    form: SubmitForm,
    errors: Vec<ErrorRow>,
) -> Result<Response, PageError> {
    let chrome = Chrome::of(user);
    let session_token = user.and_then(|u| u.csrf_token.clone());
    let (token, cookie) = match session_token {
        Some(t) => (t, None),
        None => {
            let t = auth::new_secret();
            let c = csrf_cookie(state, &t);
            (t, Some(c))
        }
    };
    let all = agencies::list(&state.db).await?;
    let officer = user.is_some_and(|u| !u.access().officer_agencies().is_empty());
    let channels = if officer {
        let current = if form.channel.is_empty() {
            "online"
        } else {
            form.channel.as_str()
        };
        Channel::ALL
            .iter()
            .map(|c| {
                let label = if i18n::is_en() {
                    channel_en(*c)
                } else {
                    c.label_vi()
                };
                Choice::new(c.as_str(), label, current)
            })
            .collect()
    } else {
        Vec::new()
    };
    let html = FormPage {
        chrome,
        form_csrf: token,
        agencies: agency_choices(&all, &form.agency),
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
    form_response(&state, user.as_ref(), StatusCode::OK, prefill, Vec::new()).await
}

async fn submit(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<SubmitLimits>>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<SubmitForm>,
) -> Result<Response, PageError> {
    let csrf_ok = match &user {
        Some(u) if u.csrf_token.is_some() => u.csrf_ok(&form.csrf),
        _ => auth::cookie(&headers, CSRF_COOKIE)
            .is_some_and(|c| !c.is_empty() && auth::constant_time_eq(c.as_bytes(), form.csrf.as_bytes())),
    };
    if !csrf_ok {
        let errors = vec![ErrorRow {
            anchor: "name".into(),
            text: i18n::t("feedback.expired").into(),
        }];
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
    let address = auth::client_address(&extensions);
    let refused = match service::submit(&state, user.as_ref(), &address, &limits, &input).await {
        Ok(f) => {
            let html = SentPage {
                chrome: Chrome::of(user.as_ref()),
                reference: f.reference.clone(),
                agency_name: f.agency_name.clone(),
                received: when(f.received_at),
                forward_due: when(f.forward_due_at),
                answer_due: when(f.answer_due_at),
                channel: channel_label(&f.channel),
            }
            .render()?;
            return Ok(Html(html).into_response());
        }
        Err(r) => r,
    };
    let (status, errors) = match refused {
        Refusal::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.iter().map(|e| field_row(e, i18n::lang())).collect(),
        ),
        Refusal::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            vec![ErrorRow {
                anchor: "agency".into(),
                text: i18n::t("feedback.officers_only").into(),
            }],
        ),
        Refusal::TooMany(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![ErrorRow {
                anchor: "content".into(),
                text: i18n::tn1("feedback.too_many", wait.div_ceil(60)),
            }],
        ),
        other => {
            tracing::error!(error = ?other, "feedback submission failed");
            return Err(PageError::internal());
        }
    };
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
    #[serde(default)]
    status: String,
}

fn page_number(p: &str) -> Result<u32, PageError> {
    match p.trim() {
        "" => Ok(1),
        p => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| page_error(StatusCode::BAD_REQUEST, format!("Số trang không hợp lệ: “{p}”."))),
    }
}

/// The address of a list page with these filters (empty ones left out).
fn list_url(base: &str, filters: &[(&str, &str)], page: u32) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", super::url_encode(v)))
        .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

fn pager(base: &str, filters: &[(&str, &str)], page: u32, pages: u64) -> (Option<String>, Option<String>) {
    let prev = (page > 1).then(|| list_url(base, filters, page - 1));
    let next = (u64::from(page) < pages).then(|| list_url(base, filters, page + 1));
    (prev, next)
}

async fn public_list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, PageError> {
    let page = page_number(&params.page).map_err(|_| {
        page_error(
            StatusCode::BAD_REQUEST,
            i18n::t1("public.bad_page", params.page.trim()),
        )
    })?;
    let q = params.q.trim();
    if q.chars().count() > 200 {
        return Err(page_error(StatusCode::BAD_REQUEST, i18n::t("public.long_query")));
    }
    let (items, total) = service::published(&state, Some(q), page)
        .await
        .map_err(refusal_page)?;
    let pages = service::page_count(total);
    let now = Utc::now();
    let (prev_url, next_url) = pager("/phan-anh/da-tra-loi", &[("q", q)], page, pages);
    let html = PublicPage {
        chrome: Chrome::of(user.as_ref()),
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
                on_time: service::timing_of(f, now) == Timing::OnTime,
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

fn refusal_page(r: Refusal) -> PageError {
    match r {
        Refusal::NotFound => PageError::not_found(),
        Refusal::Forbidden(_) => page_error(
            StatusCode::FORBIDDEN,
            "Bạn không có quyền thực hiện thao tác này.",
        ),
        other => {
            tracing::error!(error = ?other, "feedback page failed");
            PageError::internal()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Officers: list.

struct InboxRow {
    reference: String,
    subject: String,
    agency_name: String,
    status: &'static str,
    channel: &'static str,
    received: String,
    deadline_label: &'static str,
    deadline: String,
    timing: &'static str,
    overdue: bool,
    late: bool,
}

#[derive(Template)]
#[template(path = "feedback_inbox.html")]
struct InboxPage {
    chrome: Chrome,
    statuses: Vec<Choice>,
    status: String,
    q: String,
    rows: Vec<InboxRow>,
    total: i64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    may_note: bool,
}

async fn inbox(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, PageError> {
    let page = page_number(&params.page)?;
    let q = params.q.trim();
    let status_text = params.status.trim();
    let status = match status_text {
        "" => None,
        s => Some(s.parse::<Status>().map_err(|_| {
            page_error(
                StatusCode::BAD_REQUEST,
                format!("Không có trạng thái phản ánh, kiến nghị “{s}”."),
            )
        })?),
    };
    if q.chars().count() > 200 {
        return Err(page_error(StatusCode::BAD_REQUEST, "Từ khóa tìm kiếm quá dài."));
    }
    let (items, total) = service::list(&state, &user, status, Some(q), page)
        .await
        .map_err(refusal_page)?;
    let pages = service::page_count(total);
    let now = Utc::now();
    let (prev_url, next_url) = pager(
        "/ho-so/phan-anh",
        &[("status", status_text), ("q", q)],
        page,
        pages,
    );
    let html = InboxPage {
        chrome: Chrome::of(Some(&user)),
        statuses: Status::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), s.label_vi(), status_text))
            .collect(),
        status: status_text.to_string(),
        q: q.to_string(),
        rows: items
            .iter()
            .map(|f| {
                let st = service::status_of(f);
                let timing = service::timing_of(f, now);
                let due = rules::governing_deadline(st, f.forward_due_at, f.answer_due_at);
                InboxRow {
                    reference: f.reference.clone(),
                    subject: f.subject.clone(),
                    agency_name: f.agency_name.clone(),
                    status: st.label_vi(),
                    channel: channel_vi(&f.channel),
                    received: when(f.received_at),
                    deadline_label: if st.awaits_decision() || st == Status::Rejected {
                        "Hạn phân loại, chuyển"
                    } else {
                        "Hạn trả lời"
                    },
                    deadline: when(due),
                    timing: timing.label_vi(),
                    overdue: timing.is_overdue(),
                    late: timing == Timing::Late,
                }
            })
            .collect(),
        total,
        page,
        pages,
        prev_url,
        next_url,
        may_note: !user.access().officer_agencies().is_empty(),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// Officers: one feedback and its actions.

struct EventRow {
    at: String,
    actor: String,
    action: &'static str,
    from: &'static str,
    to: &'static str,
    agency: String,
    to_agency: Option<String>,
    due: String,
    timing: &'static str,
    late: bool,
    note: String,
}

/// What the action forms show again after a refusal.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    to_agency: String,
    #[serde(default)]
    category: String,
}

#[derive(Template)]
#[template(path = "feedback_view.html")]
struct ViewPage {
    chrome: Chrome,
    reference: String,
    version: i64,
    status_label: &'static str,
    timing_label: &'static str,
    overdue: bool,
    late: bool,
    channel: &'static str,
    category: Option<&'static str>,
    dossier_code: Option<String>,
    submitter_name: String,
    phone: String,
    email: String,
    noted_by: String,
    subject: String,
    content: String,
    agency_name: String,
    agency_code: String,
    received: String,
    /// Set when a forward restarted the clock.
    restarted: Option<String>,
    forward_due: String,
    answer_due: String,
    closed: Option<String>,
    answer: String,
    answered_by: String,
    reject_reason: String,
    published: Option<String>,
    events: Vec<EventRow>,
    allowed: Vec<&'static str>,
    may_act: bool,
    /// Agencies a forward may go to (all but the current one).
    targets: Vec<Choice>,
    categories: Vec<Choice>,
    flash: Option<&'static str>,
    errors: Vec<ErrorRow>,
    /// The action whose form was refused, and what it carried.
    failed: Option<&'static str>,
    form: ActionForm,
}

impl ViewPage {
    fn allows(&self, action: &str) -> bool {
        self.may_act && self.allowed.contains(&action)
    }

    /// The text a refused form had, so nothing typed is lost.
    fn kept(&self, action: &str, field: &str) -> &str {
        if self.failed != Some(action) {
            return "";
        }
        match field {
            "note" => &self.form.note,
            "answer" => &self.form.answer,
            _ => "",
        }
    }
}

fn flash_vi(action: &str) -> Option<&'static str> {
    Some(match action.parse::<Action>().ok()? {
        Action::Classify => "Đã xác nhận phản ánh, kiến nghị thuộc thẩm quyền.",
        Action::Forward => "Đã chuyển đến cơ quan có thẩm quyền. Thời hạn được tính lại từ thời điểm chuyển.",
        Action::Reject => "Đã ghi nhận không tiếp nhận phản ánh, kiến nghị.",
        Action::Process => "Đã chuyển sang đang xử lý.",
        Action::Answer => "Đã lưu câu trả lời.",
        Action::Publish => "Đã công khai câu trả lời.",
    })
}

async fn render_view(
    state: &AppState,
    user: &CurrentUser,
    v: &View,
    flash: Option<&'static str>,
    errors: Vec<ErrorRow>,
    failed: Option<Action>,
    form: ActionForm,
) -> Result<String, PageError> {
    let f = &v.feedback;
    let now = Utc::now();
    let timing = v.timing(now);
    let all = agencies::list(&state.db).await?;
    let targets = all
        .iter()
        .filter(|a| a.id != f.agency_id)
        .map(|a| Choice::new(&a.code, &format!("{} ({})", a.name, a.code), &form.to_agency))
        .collect();
    let default_category = Category::default_for(f.dossier_code.is_some());
    let current_category = if form.category.is_empty() {
        default_category.as_str()
    } else {
        form.category.as_str()
    };
    Ok(ViewPage {
        chrome: Chrome::of(Some(user)),
        reference: f.reference.clone(),
        version: f.version,
        status_label: v.status().label_vi(),
        timing_label: timing.label_vi(),
        overdue: timing.is_overdue(),
        late: timing == Timing::Late,
        channel: channel_vi(&f.channel),
        category: f
            .category
            .as_deref()
            .and_then(|c| c.parse::<Category>().ok())
            .map(Category::label_vi),
        dossier_code: f.dossier_code.clone(),
        submitter_name: f.submitter_name.clone(),
        phone: f.phone.clone(),
        email: f.email.clone(),
        noted_by: f.noted_by.clone(),
        subject: f.subject.clone(),
        content: f.content.clone(),
        agency_name: f.agency_name.clone(),
        agency_code: f.agency_code.clone(),
        received: when(f.received_at),
        restarted: (f.clock_started_at != f.received_at).then(|| when(f.clock_started_at)),
        forward_due: when(f.forward_due_at),
        answer_due: when(f.answer_due_at),
        closed: f.closed_at.map(when),
        answer: f.answer.clone(),
        answered_by: f.answered_by.clone(),
        reject_reason: f.reject_reason.clone(),
        published: f.published_at.filter(|_| f.published).map(when),
        events: v
            .events
            .iter()
            .map(|e| {
                let on_time = e.due_at.map(|d| rules::on_time(e.at, d));
                EventRow {
                    at: when(e.at),
                    actor: e.actor.clone(),
                    action: event_vi(&e.action),
                    from: status_vi(&e.from_status),
                    to: status_vi(&e.to_status),
                    agency: e.agency_name.clone(),
                    to_agency: e.to_agency_name.clone(),
                    due: when_opt(e.due_at),
                    timing: match on_time {
                        Some(true) => Timing::OnTime.label_vi(),
                        Some(false) => Timing::Late.label_vi(),
                        None => "",
                    },
                    late: on_time == Some(false),
                    note: e.note.clone(),
                }
            })
            .collect(),
        allowed: v.allowed.iter().map(|a| a.as_str()).collect(),
        may_act: v.may_act,
        targets,
        categories: Category::ALL
            .iter()
            .map(|c| Choice::new(c.as_str(), c.label_vi(), current_category))
            .collect(),
        flash,
        errors,
        failed: failed.map(Action::as_str),
        form,
    }
    .render()?)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default, rename = "da-luu")]
    saved: String,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(reference): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    let v = service::view(&state, &user, &reference)
        .await
        .map_err(refusal_page)?;
    let html = render_view(
        &state,
        &user,
        &v,
        flash_vi(&q.saved),
        Vec::new(),
        None,
        ActionForm::default(),
    )
    .await?;
    Ok(Html(html))
}

async fn act(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((reference, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    if !user.csrf_ok(&form.csrf) {
        return Err(page_error(
            StatusCode::FORBIDDEN,
            "Biểu mẫu không hợp lệ hoặc đã hết hạn (CSRF). Vui lòng tải lại trang.",
        ));
    }
    let action: Action = action.parse().map_err(|_| PageError::not_found())?;
    let input = ActionInput {
        note: form.note.clone(),
        answer: form.answer.clone(),
        to_agency: Some(form.to_agency.clone()).filter(|a| !a.trim().is_empty()),
        category: Some(form.category.clone()).filter(|c| !c.trim().is_empty()),
        expected_version: form.version.trim().parse().ok(),
    };
    let refused = match service::act(&state, &user, &reference, action, &input).await {
        Ok(f) => {
            return Ok(see_other(&format!(
                "/ho-so/phan-anh/{}?da-luu={}",
                super::url_encode(&f.reference),
                action.as_str()
            )));
        }
        Err(r) => r,
    };
    let (status, errors) = match refused {
        Refusal::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .iter()
                .map(|e| {
                    let mut row = field_row(e, Lang::Vi);
                    row.anchor = format!("{}-{}", action.as_str(), row.anchor);
                    row
                })
                .collect(),
        ),
        Refusal::Illegal { .. } => (
            StatusCode::CONFLICT,
            vec![ErrorRow {
                anchor: "actions".into(),
                text: format!(
                    "Không thể “{}” ở trạng thái hiện tại. Các thao tác được phép hiện ra bên dưới.",
                    action.label_vi()
                ),
            }],
        ),
        Refusal::Conflict(_) => (
            StatusCode::CONFLICT,
            vec![ErrorRow {
                anchor: "actions".into(),
                text: "Phản ánh, kiến nghị vừa được người khác cập nhật. Trang đã tải lại dữ liệu mới; vui lòng kiểm tra rồi thực hiện lại.".into(),
            }],
        ),
        Refusal::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            vec![ErrorRow {
                anchor: "actions".into(),
                text: "Chỉ công chức của cơ quan đang giữ phản ánh, kiến nghị được thực hiện thao tác này.".into(),
            }],
        ),
        other => return Err(refusal_page(other)),
    };
    let v = service::view(&state, &user, &reference)
        .await
        .map_err(refusal_page)?;
    let html = render_view(&state, &user, &v, None, errors, Some(action), form).await?;
    Ok((status, Html(html)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &str, message: &str) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn field_errors_speak_the_language_asked_for() {
        let name = error("name", "required");
        let reason = error("note", "a reason is required");
        let other = error("weird", "something else");
        // The officers' pages ask for Vietnamese whatever the visitor's language.
        let (vi, en) = i18n::with_lang(Lang::En, async {
            (
                [&name, &reason, &other].map(|e| field_row(e, Lang::Vi).text),
                [&name, &reason, &other].map(|e| field_row(e, i18n::lang()).text),
            )
        })
        .await;
        assert_eq!(
            vi,
            [
                "Nhập họ và tên (tối đa 200 ký tự).".to_string(),
                "Nhập lý do không tiếp nhận.".into(),
                "something else".into()
            ]
        );
        assert_eq!(
            en,
            [
                "Enter your full name (at most 200 characters).".to_string(),
                "Enter the reason for not accepting it.".into(),
                "something else".into()
            ]
        );
        assert_eq!(field_row(&name, Lang::Vi).anchor, "name");
    }

    #[tokio::test]
    async fn channels_follow_the_page_language() {
        assert_eq!(channel_label("phone"), "Qua điện thoại");
        let en = i18n::with_lang(Lang::En, async { (channel_label("phone"), channel_label("?")) }).await;
        assert_eq!(en, ("By phone", "Unknown"));
    }
}
