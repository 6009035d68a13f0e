//! Dossiers over JSON: intake, reading, listing (inboxes), actions, the event log, uploads.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::{ApiUser, CurrentUser};
use crate::dossiers::{self, ActionInput, IntakeInput, MAX_SCAN_BYTES, View};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar::{self, InProcessClass, ResolvedClass};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::machine::Action;
use motcua_store::repo::{agencies, files, lifecycle};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
    pub received_at: Option<DateTime<Utc>>,
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

/// Timing of a step against its own due.
pub fn step_timing(s: &lifecycle::Step, now: DateTime<Utc>) -> Option<&'static str> {
    timing(s.started_at, s.due_at, s.completed_at, now)
}

/// Timing of a step from its instants: `early`/`on_time`/`late` once completed,
/// `within_time`/`overdue` while open; None before it starts or without a due.
pub fn timing(
    started_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let due = due_at?;
    match (started_at, completed_at) {
        (Some(_), Some(done)) => Some(ResolvedClass::classify(done, due).as_str()),
        (Some(_), None) => Some(InProcessClass::classify(due, now).as_str()),
        _ => None,
    }
}

pub fn render(v: &View) -> DossierView {
    let d = &v.dossier;
    let now = Utc::now();
    DossierView {
        key: d.key(),
        code: d.code.clone(),
        status: v.status().into(),
        version: d.version,
        channel: d.channel.clone(),
        agency: d.agency_code.clone(),
        agency_name: d.agency_name.clone(),
        procedure: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        procedure_version: d.procedure_version,
        case: d.case_code.clone(),
        applicant: serde_json::json!({"kind": d.applicant_kind, "name": d.applicant_name, "id_number": d.applicant_id_number,
            "phone": d.phone, "email": d.email, "address": d.address}),
        submitter_name: d.submitter_name.clone(),
        request: d.request.clone(),
        submitted_at: d.submitted_at,
        accept_due_at: d.accept_due_at,
        received_at: d.received_at,
        due_at: d.due_at,
        original_due_at: d.original_due_at,
        finished_at: d.finished_at,
        paused_at: d.paused_at,
        rescheduled_at: d.rescheduled_at,
        returned_at: d.returned_at,
        return_method: d.return_method.clone(),
        result_file: d.result_file.as_ref().map(|f| format!("sha256:{f}")),
        result_number: d.result_number.clone(),
        supplements_after_receipt: d.supplements_after_receipt,
        steps: v
            .steps
            .iter()
            .map(|s| StepView {
                seq: s.seq,
                name: s.name.clone(),
                role: s.role.clone(),
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
                kind: c.kind.clone(),
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

async fn view_of(state: &AppState, user: &CurrentUser, key: &str) -> ApiResult<Json<DossierView>> {
    let v = dossiers::view(state, user, key).await?;
    Ok(Json(render(&v)))
}

/// Receives a dossier at the desk (direct/postal: code and appointment now) or records an
/// online submission (status 1, waiting for acceptance).
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = IntakeInput, security(("bearer" = [])),
    responses((status = 201, body = DossierView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`errors`: [{field, message}]")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Body(input): Body<IntakeInput>,
) -> ApiResult<(StatusCode, Json<DossierView>)> {
    let v = dossiers::intake_view(&state, Some(&user), input, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(render(&v))))
}

/// One dossier with its steps, components and the actions allowed now.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers", params(("code" = String, Path, description = "dossier code or online-ID")),
    security(("bearer" = [])), responses((status = 200, body = DossierView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
) -> ApiResult<Json<DossierView>> {
    view_of(&state, &user, &code).await
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Our status name (e.g. `processing`).
    pub status: Option<String>,
    /// Agency code (within what you may see).
    pub agency: Option<String>,
    /// Procedure code.
    pub procedure: Option<String>,
    /// Only dossiers in process past their due.
    #[serde(default)]
    pub overdue: bool,
    /// `mine` (open steps assigned to me), `unit` (open steps at my agencies), `due_soon`
    /// (due within 2 working days), `queue` (online dossiers waiting for acceptance).
    pub inbox: Option<String>,
    /// Applicant name, ID number, phone or code; with or without diacritics.
    pub q: Option<String>,
    pub page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct DossierPage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<lifecycle::Summary>,
}

/// Agencies whose dossiers the user may see: where they hold an officer role, every agency
/// below a supervisor's, everything for an administrator.
pub async fn scope(state: &AppState, user: &CurrentUser) -> Result<Vec<i64>, ApiError> {
    if user.is_admin() {
        return Ok(agencies::list(&state.db).await?.iter().map(|a| a.id).collect());
    }
    let mut ids = user.access().officer_agencies();
    for (_, code, role) in &user.principal.roles {
        if role == Role::Supervisor.as_str() {
            ids.extend(agencies::subtree_ids(&state.db, code).await?);
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

pub const PER_PAGE: u32 = 25;

/// Builds the list filter of an inbox query for a user.
pub async fn filter_for(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<lifecycle::ListFilter, ApiError> {
    let mut scope_ids = scope(state, user).await?;
    if let Some(code) = q.agency.as_deref().filter(|c| !c.is_empty()) {
        let a = agencies::by_code(&state.db, code)
            .await?
            .ok_or_else(|| ApiError::bad_request(format!("unknown agency {code:?}")))?;
        if !scope_ids.contains(&a.id) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "that agency's dossiers are not yours to see",
            ));
        }
        scope_ids = vec![a.id];
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        s.parse::<Status>().map_err(ApiError::bad_request)?;
    }
    let now = Utc::now();
    let mut f = lifecycle::ListFilter {
        agency_ids: scope_ids.clone(),
        status: q.status.clone().filter(|s| !s.is_empty()),
        procedure: q.procedure.clone().filter(|s| !s.is_empty()),
        overdue: q.overdue,
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        now: Some(now),
        ..Default::default()
    };
    match q.inbox.as_deref().unwrap_or("") {
        "" | "all" => {}
        "mine" => f.assignee_id = Some(user.principal.user_id),
        "unit" => {
            f.open_step_agency_ids = user
                .access()
                .officer_agencies()
                .into_iter()
                .filter(|a| scope_ids.contains(a))
                .collect()
        }
        "overdue" => f.overdue = true,
        "due_soon" => {
            let cal = crate::legal_time::calendar(state).await?;
            let hours = calendar::OfficeHours::default();
            let clock = calendar::LegalClock::new(&cal, &hours);
            f.due_before = Some(clock.add_working_minutes(clock.normalise_intake(now), 2 * 480));
        }
        "queue" => f.status = Some(Status::Submitted.as_str().into()),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown inbox {other:?}: mine, unit, overdue, due_soon, queue"
            )));
        }
    }
    Ok(f)
}

/// Dossiers you may see, most urgent first (25 a page).
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = DossierPage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<DossierPage>> {
    let page = q.page.unwrap_or(1);
    if page == 0 || page > 100_000 {
        return Err(ApiError::bad_request("page must be between 1 and 100000"));
    }
    let f = filter_for(&state, &user, &q).await?;
    let (items, total) = lifecycle::list(&state.db, &f, page, PER_PAGE).await?;
    Ok(Json(DossierPage {
        page,
        per_page: PER_PAGE,
        total,
        items,
    }))
}

/// Takes an action: accept, refuse, transfer, assign, complete_step, request_supplement,
/// receive_supplement, request_payment, confirm_payment, reschedule, withdraw, stop, approve,
/// return_result. Illegal in the current status: 409 with `allowed_actions`.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/actions/{action}", tag = "dossiers", request_body = ActionInput,
    params(("code" = String, Path), ("action" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DossierView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "illegal now or changed concurrently"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam((code, action)): PathParam<(String, String)>,
    Body(input): Body<ActionInput>,
) -> ApiResult<Json<DossierView>> {
    let action: Action = action.parse().map_err(ApiError::not_found)?;
    let v = dossiers::act_view(
        &state,
        dossiers::By::Officer(&user),
        &code,
        action,
        input,
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(render(&v)))
}

#[derive(Serialize, ToSchema)]
pub struct EventsView {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<lifecycle::Event>,
    /// The hash chain verifies from the first event to the last.
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
    let v = dossiers::view(&state, &user, &code).await?;
    let valid = dossiers::verify_chain(v.dossier.id, &v.events).is_ok();
    Ok(Json(EventsView {
        events: v.events,
        chain_valid: valid,
    }))
}

#[derive(Deserialize, IntoParams)]
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
    let meta = store_scan(&state, &q.filename, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadView {
            sha256: meta.sha256,
            size: meta.size,
            content_type: meta.content_type,
        }),
    ))
}

/// Checks and stores a scan; shared with the pages.
pub async fn store_scan(
    state: &AppState,
    filename: &str,
    body: &[u8],
) -> Result<motcua_store::repo::files::FileMeta, ApiError> {
    if body.len() > MAX_SCAN_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "files are limited to 10 MiB",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::unprocessable("the file is empty"));
    }
    let content_type = dossiers::sniff_scan(body).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "only PDF, JPEG or PNG files (checked by content)",
        )
    })?;
    let name = filename
        .trim()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable("filename must be 1–200 characters"));
    }
    // On disk before the transaction: the flush does not hold the database's writer.
    let written = state.files.write(body).await?;
    let mut tx = state.db.begin().await?;
    let meta = files::record(&mut tx, &written, &name, content_type).await?;
    tx.commit().await?;
    Ok(meta)
}
