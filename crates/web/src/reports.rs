//! The reporting service shared by the JSON API, the pages and the dashboards: II.06a over
//! what the caller may see (docs/reports.md), and the dossiers behind any of its numbers.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use chrono::NaiveDate;
use motcua_domain::report::{Column, Period, Row};
use motcua_store::repo::{agencies, report};
use serde::Serialize;

pub use motcua_store::repo::report::{By, KeyedRow};

/// A report request, validated.
#[derive(Debug, Clone)]
pub struct Request {
    pub period: Period,
    pub by: By,
    /// Agency code: that agency and everything below it.
    pub agency: Option<String>,
}

/// The parts of a request as they come in a query string.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct RawRequest {
    /// First local date, YYYY-MM-DD.
    pub from: String,
    /// Last local date (inclusive), YYYY-MM-DD.
    pub to: String,
    /// Agency code: that agency and the ones below it.
    pub agency: Option<String>,
    /// `field` (default), `procedure` or `agency`.
    pub by: Option<String>,
}

/// At most ten years per report.
pub const MAX_DAYS: i64 = 3660;

fn date(s: &str, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{name} must be YYYY-MM-DD")))
}

pub fn parse_by(s: Option<&str>) -> Result<By, ApiError> {
    match s.unwrap_or("field") {
        "" | "field" => Ok(By::Field),
        "procedure" => Ok(By::Procedure),
        "agency" => Ok(By::Agency),
        other => Err(ApiError::bad_request(format!(
            "by must be field, procedure or agency, not {other:?}"
        ))),
    }
}

pub fn by_name(by: By) -> &'static str {
    match by {
        By::Field => "field",
        By::Procedure => "procedure",
        By::Agency => "agency",
    }
}

impl RawRequest {
    pub fn parse(&self) -> Result<Request, ApiError> {
        let period =
            Period::new(date(&self.from, "from")?, date(&self.to, "to")?).map_err(ApiError::bad_request)?;
        if period.days() > MAX_DAYS {
            return Err(ApiError::bad_request("a report covers at most ten years"));
        }
        Ok(Request {
            period,
            by: parse_by(self.by.as_deref())?,
            agency: self.agency.clone().filter(|c| !c.trim().is_empty()),
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    #[schema(value_type = Object)]
    pub period: Period,
    pub by: String,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<KeyedRow>,
    #[schema(value_type = Object)]
    pub total: Row,
}

/// Receiving-agency ids the user may report on, narrowed to `agency`'s subtree when given
/// (403 when the user may not read that agency, 404 when it does not exist).
pub async fn scope(state: &AppState, user: &CurrentUser, agency: Option<&str>) -> Result<Vec<i64>, ApiError> {
    let mut scope = crate::api::dossiers::scope(state, user).await?;
    if let Some(code) = agency {
        user.require_read_agency(state, code).await?;
        let ids = agencies::subtree_ids(&state.db, code).await?;
        scope.retain(|id| ids.contains(id));
    }
    Ok(scope)
}

/// II.06a for the request over what the user may see, from the counters (the fast path; a
/// recount gives the same numbers — `motcua report --verify`).
pub async fn ii06a(state: &AppState, user: &CurrentUser, req: &Request) -> Result<Report, ApiError> {
    let scope = scope(state, user, req.agency.as_deref()).await?;
    ii06a_in(state, &scope, req).await
}

/// II.06a over receiving agencies already resolved by `scope` (`req.agency` is not applied
/// again): for callers that report several periods over the same scope.
pub async fn ii06a_in(state: &AppState, scope: &[i64], req: &Request) -> Result<Report, ApiError> {
    let rows = report::fast_by(&state.db, &req.period, Some(scope), req.by).await?;
    // Only rows by agency roll up to parents and take names from the tree.
    let tree = match req.by {
        By::Agency => report::tree(&state.db).await?,
        By::Field | By::Procedure => Vec::new(),
    };
    let (rows, total) =
        report::group_rows(rows.iter().map(|(k, r)| (k, *r)), req.by, &tree).map_err(|e| {
            tracing::error!(error = %e, "report identities broken");
            ApiError::internal()
        })?;
    Ok(Report {
        period: req.period,
        by: by_name(req.by).into(),
        rows,
        total,
    })
}

/// One dossier behind a number of the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CellDossier {
    /// The dossier code (`online-ID` for one never given a code).
    pub code: String,
    pub agency_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    #[schema(value_type = String)]
    pub received_on: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub finished_on: Option<NaiveDate>,
}

/// The dossiers counted in one cell: `key` is a row key (None: the total line), `column` one
/// of the form's columns. Their number equals the cell's value. Sorted by code.
pub async fn dossiers_behind(
    state: &AppState,
    user: &CurrentUser,
    req: &Request,
    key: Option<&str>,
    column: Column,
) -> Result<Vec<CellDossier>, ApiError> {
    let scope = scope(state, user, req.agency.as_deref()).await?;
    let counted = report::counted(&state.db, req.period.from, req.period.to, Some(&scope)).await?;
    let tree = report::tree(&state.db).await?;
    let mut out: Vec<CellDossier> = counted
        .iter()
        .filter(|c| key.is_none_or(|k| report::keys_of(&c.keys, req.by, &tree).iter().any(|x| x == k)))
        .filter(|c| {
            let mut one = Row::default();
            one.count(&c.facts, &req.period);
            one.get(column) == 1
        })
        .map(|c| CellDossier {
            code: c.code.clone(),
            agency_code: c.keys.agency_code.clone(),
            procedure_code: c.keys.procedure_code.clone(),
            procedure_name: c.keys.procedure_name.clone(),
            received_on: c.facts.received_on,
            due_on: c.facts.due_on,
            finished_on: c.facts.finished.map(|(d, _)| d),
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}
