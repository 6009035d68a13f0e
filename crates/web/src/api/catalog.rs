//! The catalog over JSON: agencies, fields and procedures (public reads; administrators
//! write), and stored files for form templates.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::NaiveDate;
use motcua_domain::procedure::ProcedureSpec;
use motcua_service::catalog::{
    Agency, AgencyInput, PROCEDURES_PER_PAGE as PER_PAGE, ProcedureFilter, ProcedureSummary, Saved,
};
use motcua_service::files::MAX_FORM_BYTES;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agencies))
        .routes(routes!(put_agency))
        .routes(routes!(list_fields))
        .routes(routes!(list_procedures))
        .routes(routes!(get_procedure, put_procedure))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_file))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES + 1)),
        )
}

impl From<Agency> for AgencyView {
    fn from(a: Agency) -> Self {
        AgencyView {
            code: a.code,
            name: a.name,
            level: a.level,
            parent_code: a.parent_code,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgencyView {
    /// Identifier code (QCVN 102), e.g. `000.00.06.H56`.
    pub code: String,
    pub name: String,
    /// `province`, `department`, `unit`, `district`, `commune`, …
    pub level: String,
    pub parent_code: Option<String>,
}

/// Every agency (public).
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalog", responses((status = 200, body = [AgencyView])))]
pub async fn list_agencies(State(state): State<AppState>) -> ApiResult<Json<Vec<AgencyView>>> {
    let list = state.services.agencies().await?;
    Ok(Json(list.into_iter().map(AgencyView::from).collect()))
}

/// Creates or updates an agency (administrators).
#[utoipa::path(put, path = "/api/v1/agencies/{code}", tag = "catalog", request_body = AgencyInput,
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AgencyView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_agency(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
    Body(mut input): Body<AgencyInput>,
) -> ApiResult<Json<AgencyView>> {
    input.code = code.clone();
    state.services.save_agency(&user, input).await?;
    Ok(Json(state.services.agency(&code).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct FieldView {
    pub code: String,
    pub name: String,
    pub procedures: i64,
}

/// Fields (*lĩnh vực*) with their number of procedures (public).
#[utoipa::path(get, path = "/api/v1/fields", tag = "catalog", responses((status = 200, body = [FieldView])))]
pub async fn list_fields(State(state): State<AppState>) -> ApiResult<Json<Vec<FieldView>>> {
    let list = state.services.fields().await?;
    Ok(Json(
        list.into_iter()
            .map(|(code, name, procedures)| FieldView {
                code,
                name,
                procedures,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Search words; matched with or without diacritics, in any case.
    pub q: Option<String>,
    /// Field code.
    pub field: Option<String>,
    /// Implementing agency code.
    pub agency: Option<String>,
    /// `province`, `commune`, `district` or `central`.
    pub level: Option<String>,
    /// `true`: only procedures citizens may submit online (online level partial or full).
    pub online: Option<bool>,
    /// 1-based page of 20.
    pub page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ProcedurePage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<ProcedureSummary>,
}

/// Searches the procedure catalog (public).
#[utoipa::path(get, path = "/api/v1/procedures", tag = "catalog", params(ProcedureQuery),
    responses((status = 200, body = ProcedurePage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_procedures(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ProcedureQuery>,
) -> ApiResult<Json<ProcedurePage>> {
    let page = q.page.unwrap_or(1);
    let nonempty = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let filter = ProcedureFilter {
        q: nonempty(q.q),
        field: nonempty(q.field),
        agency: nonempty(q.agency),
        level: nonempty(q.level),
        online: q.online.unwrap_or(false),
    };
    let (items, total) = state.services.search_procedures(&filter, page).await?;
    Ok(Json(ProcedurePage {
        page,
        per_page: PER_PAGE,
        total,
        items,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProcedureView {
    pub code: String,
    pub version: i64,
    #[schema(value_type = String)]
    pub effective_from: NaiveDate,
    /// The whole procedure, in the import format (docs/catalog.md).
    #[schema(value_type = Object)]
    pub procedure: ProcedureSpec,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A given version instead of the one in force today.
    pub version: Option<i64>,
}

/// One procedure: everything a citizen needs to prepare the dossier (public).
#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "catalog", params(("code" = String, Path), VersionQuery),
    responses((status = 200, body = ProcedureView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_procedure(
    State(state): State<AppState>,
    PathParam(code): PathParam<String>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> ApiResult<Json<ProcedureView>> {
    let p = state.services.procedure(&code, q.version).await?;
    Ok(Json(ProcedureView {
        code,
        version: p.version,
        effective_from: p.effective_from,
        procedure: p.spec,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SaveResult {
    /// `created`, `new_version` or `unchanged`.
    pub outcome: &'static str,
    pub version: i64,
}

/// Creates a procedure or a new version of it (administrators). Dossiers already received
/// keep the version they were received under.
#[utoipa::path(put, path = "/api/v1/procedures/{code}", tag = "catalog", request_body(content = Object, description = "the procedure in the import format"),
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SaveResult), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`errors`: [{field, message}]")))]
pub async fn put_procedure(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    PathParam(code): PathParam<String>,
    Body(spec): Body<ProcedureSpec>,
) -> ApiResult<Json<SaveResult>> {
    if spec.code.trim() != code {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the body's code {:?} differs from the URL's {code:?}", spec.code),
        ));
    }
    let saved = state.services.save_procedure(&user, spec).await?;
    let version = state
        .services
        .procedure_versions(&code)
        .await?
        .last()
        .map(|v| v.0)
        .unwrap_or(0);
    let outcome = match saved {
        Saved::Created => "created",
        Saved::NewVersion(_) => "new_version",
        Saved::Unchanged => "unchanged",
    };
    Ok(Json(SaveResult { outcome, version }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, e.g. `to-khai.pdf`.
    pub filename: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileView {
    /// Reference it as `sha256:HEX` in a component's `form.file`.
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
}

/// Stores a form template file (administrators); the body is the file itself.
#[utoipa::path(post, path = "/api/v1/files", tag = "catalog", params(UploadQuery), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileView), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn upload_file(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    QueryParams(q): QueryParams<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    if !user.access().may_manage_catalog() {
        return Err(motcua_service::auth::forbidden().into());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let meta = state
        .services
        .store_form(&q.filename, content_type, &body)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(FileView {
            sha256: meta.sha256,
            size: meta.size,
            content_type: meta.content_type,
        }),
    ))
}
