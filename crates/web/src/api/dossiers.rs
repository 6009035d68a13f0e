//! Dossiers over JSON: intake, reading, listing (inboxes), actions, the event log, uploads.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput, ListQuery, PER_PAGE, View, step_timing};
use motcua_service::files::MAX_SCAN_BYTES;
use motcua_store::repo::{dossier_list, events};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(events))
        .routes(routes!(act))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_SCAN_BYTES + 1)),
        )
}

/// The `{action}` of `POST /api/v1/dossiers/{code}/actions/{action}`: one of the
/// transition table's actions (`motcua_domain::dossier::machine::Action`), listed in the
/// OpenAPI document from the table itself.
pub struct ActionName;

impl PartialSchema for ActionName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(Action::ALL.map(Action::as_str)))
            .description(Some("An action of the dossier's transition table"))
            .into()
    }
}

impl ToSchema for ActionName {}

#[derive(Serialize, ToSchema)]
pub struct StatusView {
    /// Our name, e.g. `processing`.
    pub name: String,
    /// The DVCQG number (1–10).
    pub number: u8,
    pub label: String,
}

impl From<Status> for StatusView {
    fn from(s: Status) -> Self {
        StatusView {
            name: s.as_str().into(),
            number: s.number(),
            label: s.label_vi().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StepView {
    pub seq: i64,
    pub name: String,
    pub role: String,
    pub agency: Option<String>,
    pub agency_name: Option<String>,
    pub quota_days: f64,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub assignee: Option<String>,
    /// For completed steps: `early`, `on_time` or `late` against the step's due; for the open
    /// step: `within_time` or `overdue`.
    pub timing: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ComponentView {
    pub seq: i64,
    /// `component`, `supplement` or `result`.
    pub kind: String,
    pub name: String,
    pub originals: i64,
    pub copies: i64,
    pub required: bool,
    pub provided: bool,
    pub file: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DossierView {
    /// The dossier code, or `online-ID` for an online dossier not yet received.
    pub key: String,
    pub code: Option<String>,
    pub status: StatusView,
    pub version: i64,
    pub channel: String,
    pub agency: String,
    pub agency_name: String,
    pub procedure: String,
    pub procedure_name: String,
    pub procedure_version: i64,
    pub case: String,
    pub applicant: serde_json::Value,
    pub submitter_name: String,
    pub request: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    /// When the legal clock started: the receipt, or the next opening when it came after hours.
    pub received_at: Option<DateTime<Utc>>,
    /// The real instant of receipt (null for imported dossiers).
    pub actually_received_at: Option<DateTime<Utc>>,
    /// The appointment shown to the citizen (moves on reschedule).
    pub due_at: Option<DateTime<Utc>>,
    /// The legal due used by statistics (moves only with a supplement pause).
    pub original_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub rescheduled_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_method: Option<String>,
    pub result_file: Option<String>,
    pub result_number: Option<String>,
    pub supplements_after_receipt: i64,
    pub steps: Vec<StepView>,
    pub components: Vec<ComponentView>,
    /// What can be done now (by someone with the right role).
    pub allowed_actions: Vec<String>,
}

pub fn render(v: &View) -> DossierView {
    let d = &v.dossier;
    let now = Utc::now();
    DossierView {
        key: d.key(),
        code: d.code.clone(),
        status: v.status().into(),
        version: d.version,
        channel: d.channel.as_str().into(),
        agency: d.agency_code.clone(),
        agency_name: d.agency_name.clone(),
        procedure: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        procedure_version: d.procedure_version,
        case: d.case_code.clone(),
        applicant: serde_json::json!({"kind": d.applicant_kind.as_str(), "name": d.applicant_name, "id_number": d.applicant_id_number,
            "phone": d.phone, "email": d.email, "address": d.address}),
        submitter_name: d.submitter_name.clone(),
        request: d.request.clone(),
        submitted_at: d.submitted_at,
        accept_due_at: d.accept_due_at,
        received_at: d.received_at,
        actually_received_at: d.actually_received_at,
        due_at: d.due_at,
        original_due_at: d.original_due_at,
        finished_at: d.finished_at,
        paused_at: d.paused_at,
        rescheduled_at: d.rescheduled_at,
        returned_at: d.returned_at,
        return_method: d.return_method.map(|m| m.as_str().into()),
        result_file: d.result_file.as_ref().map(|f| format!("sha256:{f}")),
        result_number: d.result_number.clone(),
        supplements_after_receipt: d.supplements_after_receipt,
        steps: v
            .steps
            .iter()
            .map(|s| StepView {
                seq: s.seq,
                name: s.name.clone(),
                role: s.role.as_str().into(),
                agency: s.agency_code.clone(),
                agency_name: s.agency_name.clone(),
                quota_days: s.quota_thousandths as f64 / 1000.0,
                started_at: s.started_at,
                due_at: s.due_at,
                completed_at: s.completed_at,
                completed_by: s.completed_by.clone(),
                assignee: s.assignee_username.clone(),
                timing: step_timing(s, now).map(str::to_string),
            })
            .collect(),
        components: v
            .components
            .iter()
            .map(|c| ComponentView {
                seq: c.seq,
                kind: c.kind.as_str().into(),
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
                required: c.required,
                provided: c.provided,
                file: c.file_sha256.as_ref().map(|f| format!("sha256:{f}")),
            })
            .collect(),
        allowed_actions: v.allowed.iter().map(|a| a.as_str().to_string()).collect(),
    }
}

/// Receives a dossier at the desk (direct/postal: code and appointment now) or records an
/// online submission (status 1, waiting for acceptance).
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = IntakeInput, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "sent again with a retry, answers with the dossier the first call created (header `Idempotent-Replay: true`); another request with the same key is a 422")),
    responses((status = 201, body = DossierView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`errors`: [{field, message}]")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: axum::http::HeaderMap,
    Body(input): Body<IntakeInput>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, format!("user:{}", user.principal.user_id))?;
    let (v, replay) = state
        .services
        .intake_once(Actor::Officer(&user), input, key)
        .await?;
    Ok(created(Json(render(&v)), replay))
}

/// The `Idempotency-Key` of a creating call, in the caller's scope.
pub(crate) fn idempotency_key(
    headers: &axum::http::HeaderMap,
    scope: String,
) -> ApiResult<Option<motcua_service::idempotency::IdempotencyKey>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().unwrap_or("");
            Ok(Some(motcua_service::idempotency::IdempotencyKey::new(
                scope, text,
            )?))
        }
    }
}

/// 201 with the record; a replay of an idempotent call says so (`Idempotent-Replay: true`).
pub(crate) fn created(body: impl IntoResponse, replay: bool) -> Response {
    let mut res = (StatusCode::CREATED, body).into_response();
    if replay {
        res.headers_mut()
            .insert("idempotent-replay", axum::http::HeaderValue::from_static("true"));
    }
    res
}

/// One dossier with its steps, components and the actions allowed now.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", operation_id = "get_dossier", tag = "dossiers", params(("code" = String, Path, description = "dossier code or online-ID")),
    security(("bearer" = [])), responses((status = 200, body = DossierView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
) -> ApiResult<Json<DossierView>> {
    Ok(Json(render(&state.services.dossier(&user, &code).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct DossierPage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<dossier_list::Summary>,
}

/// Dossiers you may see, most urgent first (25 a page).
#[utoipa::path(get, path = "/api/v1/dossiers", operation_id = "list_dossiers", tag = "dossiers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = DossierPage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<DossierPage>> {
    let (items, total) = state.services.dossiers(&user, &q).await?;
    Ok(Json(DossierPage {
        page: q.page.unwrap_or(1),
        per_page: PER_PAGE,
        total,
        items,
    }))
}

/// Takes an action: accept, refuse, transfer, assign, complete_step, request_supplement,
/// receive_supplement, request_payment, confirm_payment, reschedule, withdraw, stop, approve,
/// return_result. Illegal in the current status: 409 with `allowed_actions`.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/actions/{action}", operation_id = "act_on_dossier", tag = "dossiers", request_body = ActionInput,
    params(("code" = String, Path), ("action" = inline(ActionName), Path)), security(("bearer" = [])),
    responses((status = 200, body = DossierView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "illegal now or changed concurrently"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam((code, action)): PathParam<(String, String)>,
    Body(input): Body<ActionInput>,
) -> ApiResult<Json<DossierView>> {
    let action: Action = action
        .parse()
        .map_err(|_| ApiError::not_found(format!("unknown action {action:?}")))?;
    let v = state
        .services
        .act(Actor::Officer(&user), &code, action, input)
        .await?;
    Ok(Json(render(&v)))
}

#[derive(Serialize, ToSchema)]
pub struct EventsView {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<events::Event>,
    /// The hash chain verifies from the first event to the last, and ends at the head the
    /// dossier keeps (its number of events and last hash): a changed, removed or added
    /// event makes it false, the last ones included.
    pub chain_valid: bool,
}

/// The dossier's hash-chained event log (the process control sheet's source).
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/events", tag = "dossiers", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EventsView)))]
pub async fn events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
) -> ApiResult<Json<EventsView>> {
    let v = state.services.dossier(&user, &code).await?;
    let valid = matches!(v.chain, Some(Ok(())));
    Ok(Json(EventsView {
        events: v.events,
        chain_valid: valid,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub filename: String,
}

#[derive(Serialize, ToSchema)]
pub struct UploadView {
    /// Reference it as `sha256:HEX`.
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
}

/// Stores a scan or result (PDF, JPEG or PNG, checked by content; at most 10 MiB). Officers.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "dossiers", params(UploadQuery), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = UploadView), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn upload(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<UploadQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<UploadView>)> {
    if user.access().officer_agencies().is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only officers upload dossier files",
        ));
    }
    let meta = state.services.store_scan(&q.filename, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadView {
            sha256: meta.sha256,
            size: meta.size,
            content_type: meta.content_type,
        }),
    ))
}
