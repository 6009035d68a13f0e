//! The catalog over JSON: agencies, fields and procedures (public reads; administrators
//! write), and stored files for form templates.

use crate::AppState;
use crate::api::extract::{Body, PathParam, QueryParams};
use crate::auth::ApiUser;
use crate::catalog::{AgencyInput, save_agency, save_procedure};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{NaiveDate, Utc};
use motcua_domain::procedure::ProcedureSpec;
use motcua_store::repo::{agencies, catalog, files};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
    let list = agencies::list(&state.db).await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AgencyView {
                code: a.code,
                name: a.name,
                level: a.level,
                parent_code: a.parent_code,
            })
            .collect(),
    ))
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
    if !user.access().may_manage_catalog() {
        return Err(crate::auth::Forbidden.into());
    }
    input.code = code.clone();
    save_agency(&state, input).await?;
    let a = agencies::by_code(&state.db, &code)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Json(AgencyView {
        code: a.code,
        name: a.name,
        level: a.level,
        parent_code: a.parent_code,
    }))
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
    let list = catalog::fields(&state.db).await?;
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
pub struct ProcedureQuery {
    /// Search words; matched with or without diacritics, in any case.
    pub q: Option<String>,
    /// Field code.
    pub field: Option<String>,
    /// Implementing agency code.
    pub agency: Option<String>,
    /// `province`, `commune`, `district` or `central`.
    pub level: Option<String>,
    /// 1-based page of 20.
    pub page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ProcedurePage {
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<catalog::ProcedureSummary>,
}

pub const PER_PAGE: u32 = 20;

/// Searches the procedure catalog (public).
#[utoipa::path(get, path = "/api/v1/procedures", tag = "catalog", params(ProcedureQuery),
    responses((status = 200, body = ProcedurePage), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_procedures(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ProcedureQuery>,
) -> ApiResult<Json<ProcedurePage>> {
    let page = q.page.unwrap_or(1);
    if page == 0 || page > 10_000 {
        return Err(ApiError::bad_request("page must be between 1 and 10000"));
    }
    let nonempty = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let filter = catalog::ProcedureFilter {
        q: nonempty(q.q),
        field: nonempty(q.field),
        agency: nonempty(q.agency),
        level: nonempty(q.level),
    };
    if filter.q.as_deref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::bad_request("q is longer than 200 characters"));
    }
    let (items, total) = catalog::list_procedures(&state.db, &filter, page, PER_PAGE).await?;
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
    let found = match q.version {
        Some(v) => catalog::procedure_version(&state.db, &code, v).await?,
        None => catalog::procedure(&state.db, &code, motcua_domain::calendar::local_date(Utc::now())).await?,
    };
    let p = found.ok_or_else(|| ApiError::not_found(format!("no procedure {code:?}")))?;
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
    if !user.access().may_manage_catalog() {
        return Err(crate::auth::Forbidden.into());
    }
    if spec.code.trim() != code {
        return Err(ApiError::unprocessable(format!(
            "the body's code {:?} differs from the URL's {code:?}",
            spec.code
        )));
    }
    let saved = save_procedure(&state, spec, &user.principal.username).await?;
    let version = catalog::versions(&state.db, &code)
        .await?
        .last()
        .map(|v| v.0)
        .unwrap_or(0);
    let outcome = match saved {
        catalog::Saved::Created => "created",
        catalog::Saved::NewVersion(_) => "new_version",
        catalog::Saved::Unchanged => "unchanged",
    };
    Ok(Json(SaveResult { outcome, version }))
}

#[derive(Deserialize, IntoParams)]
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

/// Largest form template accepted.
pub const MAX_FORM_BYTES: usize = 10 * 1024 * 1024;

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
        return Err(crate::auth::Forbidden.into());
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "form templates are limited to 10 MiB",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::unprocessable("the file is empty"));
    }
    let filename = q
        .filename
        .trim()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    if filename.is_empty() || filename.chars().count() > 200 {
        return Err(ApiError::unprocessable("filename must be 1–200 characters"));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let allowed = [
        "application/pdf",
        "text/html",
        "application/msword",
        "application/vnd.openxmlformats-officedocument",
        "application/vnd.oasis.opendocument",
        "text/plain",
        "application/vnd.ms-excel",
    ];
    if !allowed.iter().any(|a| content_type.starts_with(a)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{content_type} is not a form template type (PDF, Word, ODF, HTML, text)"),
        ));
    }
    if content_type == "application/pdf" && !body.starts_with(b"%PDF-") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body is not a PDF",
        ));
    }
    // On disk before the transaction: the flush does not hold the database's writer.
    let written = state.files.write(&body).await?;
    let mut tx = state.db.begin().await?;
    let meta = files::record(&mut tx, &written, &filename, &content_type).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(FileView {
            sha256: meta.sha256,
            size: meta.size,
            content_type: meta.content_type,
        }),
    ))
}
