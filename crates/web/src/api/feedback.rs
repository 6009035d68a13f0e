//! Feedback and petitions over JSON: public submission and the public list of published
//! answers (no sign-in, nothing personal), the officers' list, detail and actions. Rules and
//! authorisation are `motcua_service::feedback`'s; this module only translates.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::{ApiUser, CurrentUser};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use chrono::{DateTime, Utc};
use motcua_domain::feedback::Feedback;
use motcua_domain::feedback::{self as rules, Action, Status, Timing};
use motcua_service::feedback::{self as service, ActionInput, SubmitInput, View};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, submit))
        .routes(routes!(public_list))
        .routes(routes!(get_one))
        .routes(routes!(act))
}

/// The caller if signed in (bearer token or session), anonymous otherwise; a bad token is
/// still a 401.
pub struct MaybeApiUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeApiUser(crate::auth::resolve_api(state, parts).await?))
    }
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackStatusView {
    /// Our name, e.g. `classified`.
    pub name: String,
    pub label: String,
}

impl From<Status> for FeedbackStatusView {
    fn from(s: Status) -> Self {
        FeedbackStatusView {
            name: s.as_str().into(),
            label: s.label_vi().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TimingView {
    /// `on_time` or `late` once answered or rejected; `within_time` or `overdue` while open.
    pub name: String,
    pub label: String,
}

impl From<Timing> for TimingView {
    fn from(t: Timing) -> Self {
        TimingView {
            name: t.as_str().into(),
            label: t.label_vi().into(),
        }
    }
}

/// What the petitioner gets back: the reference code and the deadlines.
#[derive(Serialize, ToSchema)]
pub struct ReceiptView {
    /// `PAKN-YYMMDD-NNNN`.
    pub reference: String,
    pub status: FeedbackStatusView,
    pub agency: String,
    pub agency_name: String,
    pub received_at: DateTime<Utc>,
    /// Competence is decided (or the feedback forwarded to the competent agency) by then.
    pub forward_due_at: DateTime<Utc>,
    /// Answered by then.
    pub answer_due_at: DateTime<Utc>,
}

impl From<&Feedback> for ReceiptView {
    fn from(f: &Feedback) -> Self {
        ReceiptView {
            reference: f.reference.clone(),
            status: f.status.into(),
            agency: f.agency_code.clone(),
            agency_name: f.agency_name.clone(),
            received_at: f.received_at,
            forward_due_at: f.forward_due_at,
            answer_due_at: f.answer_due_at,
        }
    }
}

/// Records a feedback. Online needs no sign-in (limited per client address: 429 with
/// `retry-after` past it); `written` and `phone` are entered by an officer of the agency.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = SubmitInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "sent again with a retry, answers with the feedback the first call recorded (header `Idempotent-Replay: true`)")),
    responses((status = 201, body = ReceiptView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`errors`: [{field, message}]"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    Body(input): Body<SubmitInput>,
) -> ApiResult<Response> {
    let address = crate::auth::client_address(&extensions);
    let scope = match &user {
        Some(u) => format!("user:{}", u.principal.user_id),
        None => format!("client:{address}"),
    };
    let key = super::dossiers::idempotency_key(&headers, scope)?;
    let (f, replay) = state
        .services
        .submit_feedback_once(user.as_ref(), &address, &input, key)
        .await?;
    Ok(super::dossiers::created(Json(ReceiptView::from(&f)), replay))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// Words to find in the subject, content, answer, agency or reference; with or without
    /// diacritics.
    pub q: Option<String>,
    pub page: Option<u32>,
}

/// A published answer: the question and the answer, never who asked.
#[derive(Serialize, ToSchema)]
pub struct PublicAnswer {
    pub reference: String,
    pub subject: String,
    pub content: String,
    pub agency: String,
    pub agency_name: String,
    pub received_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub answer: String,
    /// Answered on or before its deadline's date.
    pub on_time: bool,
}

impl From<&Feedback> for PublicAnswer {
    fn from(f: &Feedback) -> Self {
        PublicAnswer {
            reference: f.reference.clone(),
            subject: f.subject.clone(),
            content: f.content.clone(),
            agency: f.agency_code.clone(),
            agency_name: f.agency_name.clone(),
            received_at: f.received_at,
            answered_at: f.closed_at,
            published_at: f.published_at,
            answer: f.answer.clone(),
            on_time: f.timing(Utc::now()) == Timing::OnTime,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublicAnswerPage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    pub items: Vec<PublicAnswer>,
}

/// Published answers, newest first (20 a page).
#[utoipa::path(get, path = "/api/v1/feedback/public", tag = "feedback", params(PublicQuery),
    responses((status = 200, body = PublicAnswerPage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn public_list(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<PublicQuery>,
) -> ApiResult<Json<PublicAnswerPage>> {
    let page = motcua_service::check_page(q.page)?;
    let (items, total) = state.services.published_feedback(q.q.as_deref(), page).await?;
    Ok(Json(PublicAnswerPage {
        page,
        per_page: service::PER_PAGE,
        total,
        items: items.iter().map(PublicAnswer::from).collect(),
    }))
}

/// One row of the officers' list.
#[derive(Serialize, ToSchema)]
pub struct FeedbackSummary {
    pub reference: String,
    pub status: FeedbackStatusView,
    pub channel: String,
    pub subject: String,
    pub dossier_code: Option<String>,
    pub agency: String,
    pub agency_name: String,
    pub received_at: DateTime<Utc>,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub timing: TimingView,
}

impl From<&Feedback> for FeedbackSummary {
    fn from(f: &Feedback) -> Self {
        FeedbackSummary {
            reference: f.reference.clone(),
            status: f.status.into(),
            channel: f.channel.as_str().into(),
            subject: f.subject.clone(),
            dossier_code: f.dossier_code.clone(),
            agency: f.agency_code.clone(),
            agency_name: f.agency_name.clone(),
            received_at: f.received_at,
            forward_due_at: f.forward_due_at,
            answer_due_at: f.answer_due_at,
            timing: f.timing(Utc::now()).into(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `received`, `classified`, `forwarded`, `rejected`, `processing`, `answered` or
    /// `published`.
    pub status: Option<String>,
    /// Words to find (reference, subject, content, answer, agency); with or without diacritics.
    pub q: Option<String>,
    pub page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackPage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    pub items: Vec<FeedbackSummary>,
}

/// Feedback of the agencies you may see: open ones first, nearest deadline first.
#[utoipa::path(get, path = "/api/v1/feedback", operation_id = "list_feedback", tag = "feedback", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = FeedbackPage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<FeedbackPage>> {
    let page = motcua_service::check_page(q.page)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<Status>().map_err(ApiError::bad_request)?),
    };
    let (items, total) = state
        .services
        .feedback_list(&user, status, q.q.as_deref(), page)
        .await?;
    Ok(Json(FeedbackPage {
        page,
        per_page: service::PER_PAGE,
        total,
        items: items.iter().map(FeedbackSummary::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackEventView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub agency: String,
    pub to_agency: Option<String>,
    /// The deadline the event was judged against.
    pub due_at: Option<DateTime<Utc>>,
    /// `on_time` or `late` against `due_at`.
    pub timing: Option<String>,
    pub note: String,
}

/// Everything about a feedback, for officers (contact details included).
#[derive(Serialize, ToSchema)]
pub struct FeedbackView {
    pub reference: String,
    pub version: i64,
    pub status: FeedbackStatusView,
    pub channel: String,
    /// `regulation` or `handling`, once classified.
    pub category: Option<String>,
    pub dossier_code: Option<String>,
    pub submitter: serde_json::Value,
    pub noted_by: String,
    pub subject: String,
    pub content: String,
    pub agency: String,
    pub agency_name: String,
    pub received_at: DateTime<Utc>,
    /// Receipt, or the last forward instant: both deadlines count from here.
    pub clock_started_at: DateTime<Utc>,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub timing: TimingView,
    pub answer: String,
    pub answered_by: String,
    pub reject_reason: String,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub events: Vec<FeedbackEventView>,
    /// What can be done now by an officer of its agency.
    pub allowed_actions: Vec<String>,
    /// Whether you are such an officer.
    pub may_act: bool,
}

pub fn render(v: &View) -> FeedbackView {
    let f = &v.feedback;
    FeedbackView {
        reference: f.reference.clone(),
        version: f.version,
        status: v.status().into(),
        channel: f.channel.as_str().into(),
        category: f.category.map(|c| c.as_str().into()),
        dossier_code: f.dossier_code.clone(),
        submitter: serde_json::json!({"name": f.submitter_name, "phone": f.phone, "email": f.email}),
        noted_by: f.noted_by.clone(),
        subject: f.subject.clone(),
        content: f.content.clone(),
        agency: f.agency_code.clone(),
        agency_name: f.agency_name.clone(),
        received_at: f.received_at,
        clock_started_at: f.clock_started_at,
        forward_due_at: f.forward_due_at,
        answer_due_at: f.answer_due_at,
        closed_at: f.closed_at,
        timing: v.timing(Utc::now()).into(),
        answer: f.answer.clone(),
        answered_by: f.answered_by.clone(),
        reject_reason: f.reject_reason.clone(),
        published: f.published,
        published_at: f.published_at,
        events: v
            .events
            .iter()
            .map(|e| FeedbackEventView {
                seq: e.seq,
                at: e.at,
                actor: e.actor.clone(),
                action: e.action.clone(),
                from_status: e.from_status.clone(),
                to_status: e.to_status.clone(),
                agency: e.agency.clone(),
                to_agency: e.to_agency.clone(),
                due_at: e.due_at,
                timing: e.due_at.map(|due| {
                    if rules::on_time(e.at, due) {
                        Timing::OnTime.as_str().into()
                    } else {
                        Timing::Late.as_str().into()
                    }
                }),
                note: e.note.clone(),
            })
            .collect(),
        allowed_actions: v.allowed.iter().map(|a| a.as_str().to_string()).collect(),
        may_act: v.may_act,
    }
}

/// One feedback with its events and the actions allowed now. Not yours to see: 404.
#[utoipa::path(get, path = "/api/v1/feedback/{reference}", tag = "feedback",
    params(("reference" = String, Path, description = "PAKN-YYMMDD-NNNN")), security(("bearer" = [])),
    responses((status = 200, body = FeedbackView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(reference): PathParam<String>,
) -> ApiResult<Json<FeedbackView>> {
    let v = state.services.feedback(&user, &reference).await?;
    Ok(Json(render(&v)))
}

/// Takes an action: classify, forward (`to_agency`), reject (`note` as the reason), process,
/// answer (`answer`), publish. Only officers of the feedback's agency act (403 otherwise);
/// illegal in the current status: 409 with `allowed_actions`.
#[utoipa::path(post, path = "/api/v1/feedback/{reference}/actions/{action}", operation_id = "act_on_feedback", tag = "feedback", request_body = ActionInput,
    params(("reference" = String, Path), ("action" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = FeedbackView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "illegal now or changed concurrently"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam((reference, action)): PathParam<(String, String)>,
    Body(input): Body<ActionInput>,
) -> ApiResult<Json<FeedbackView>> {
    let action: Action = action.parse().map_err(ApiError::not_found)?;
    let f = state
        .services
        .act_on_feedback(&user, &reference, action, &input)
        .await?;
    let v = state.services.feedback(&user, &f.reference).await?;
    Ok(Json(render(&v)))
}
