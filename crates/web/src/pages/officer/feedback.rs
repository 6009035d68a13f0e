//! The officers' feedback and petitions: the inbox (`/ho-so/phan-anh`), one feedback with its
//! history and the forms of the actions its agency may take. Rules and authorisation belong
//! to `motcua_service::feedback`; these pages stay Vietnamese.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::{PageError, status_of};
use crate::pages::Chrome;
use crate::pages::common::{
    Errors, bad_request, csrf_rejected, page_count, page_number, pager, see_other, url_encode, when, when_opt,
};
use crate::pages::public::Choice;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use motcua_domain::feedback::{self as rules, Action, Category, Status, Timing};
use motcua_service::feedback::{self as service, ActionInput, View};
use motcua_service::{Lang, ServiceError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ho-so/phan-anh", get(inbox))
        .route("/ho-so/phan-anh/{reference}", get(show))
        .route("/ho-so/phan-anh/{reference}/xu-ly/{action}", post(act))
}

/// The Vietnamese label of a feedback status as an event stored it.
fn feedback_status_vi(status: &str) -> &'static str {
    status.parse::<Status>().map(Status::label_vi).unwrap_or("—")
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

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    status: String,
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
        s => Some(
            s.parse::<Status>()
                .map_err(|_| bad_request(format!("Không có trạng thái phản ánh, kiến nghị “{s}”.")))?,
        ),
    };
    if q.chars().count() > 200 {
        return Err(bad_request("Từ khóa tìm kiếm quá dài."));
    }
    let (items, total) = state.services.feedback_list(&user, status, Some(q), page).await?;
    let pages = page_count(total, service::PER_PAGE);
    let now = state.services.now();
    let (prev_url, next_url) = pager(
        "/ho-so/phan-anh",
        &[("status", status_text), ("q", q)],
        page,
        pages,
    );
    let html = InboxPage {
        chrome: Chrome::current(),
        statuses: Status::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), s.label_vi(), status_text))
            .collect(),
        status: status_text.to_string(),
        q: q.to_string(),
        rows: items
            .iter()
            .map(|f| {
                let st = f.status;
                let timing = f.timing(now);
                let due = rules::governing_deadline(st, f.forward_due_at, f.answer_due_at);
                InboxRow {
                    reference: f.reference.clone(),
                    subject: f.subject.clone(),
                    agency_name: f.agency_name.clone(),
                    status: st.label_vi(),
                    channel: f.channel.label_vi(),
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
    errors: Errors,
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
    v: &View,
    flash: Option<&'static str>,
    errors: Errors,
    failed: Option<Action>,
    form: ActionForm,
) -> Result<String, PageError> {
    let f = &v.feedback;
    let now = state.services.now();
    let timing = v.timing(now);
    let all = state.services.agencies().await?;
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
        chrome: Chrome::current(),
        reference: f.reference.clone(),
        version: f.version,
        status_label: v.status().label_vi(),
        timing_label: timing.label_vi(),
        overdue: timing.is_overdue(),
        late: timing == Timing::Late,
        channel: f.channel.label_vi(),
        category: f.category.map(Category::label_vi),
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
                    actor: crate::pages::common::actor_vi(&e.actor).unwrap_or_else(|| e.actor.clone()),
                    action: event_vi(&e.action),
                    from: feedback_status_vi(&e.from_status),
                    to: feedback_status_vi(&e.to_status),
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
    let v = state.services.feedback(&user, &reference).await?;
    let html = render_view(
        &state,
        &v,
        flash_vi(&q.saved),
        Errors::default(),
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
        return Err(csrf_rejected());
    }
    let action: Action = action.parse().map_err(|_| PageError::not_found())?;
    let input = ActionInput {
        note: form.note.clone(),
        answer: form.answer.clone(),
        to_agency: Some(form.to_agency.clone()).filter(|a| !a.trim().is_empty()),
        category: Some(form.category.clone()).filter(|c| !c.trim().is_empty()),
        expected_version: form.version.trim().parse().ok(),
    };
    let refused = match state
        .services
        .act_on_feedback(&user, &reference, action, &input)
        .await
    {
        Ok(f) => {
            return Ok(see_other(&format!(
                "/ho-so/phan-anh/{}?da-luu={}",
                url_encode(&f.reference),
                action.as_str()
            )));
        }
        Err(r) => r,
    };
    let status = status_of(&refused);
    if matches!(refused, ServiceError::NotFound(_)) || status.is_server_error() {
        return Err(refused.into());
    }
    let errors = Errors::of(
        &refused,
        Lang::Vi,
        |path| {
            format!(
                "{}-{}",
                action.as_str(),
                if path.is_empty() { "main" } else { path }
            )
        },
        "actions",
    );
    let v = state.services.feedback(&user, &reference).await?;
    let html = render_view(&state, &v, None, errors, Some(action), form).await?;
    Ok((status, Html(html)).into_response())
}
