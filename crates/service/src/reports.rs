//! The reporting service shared by the JSON API, the pages and the dashboards: II.06a over
//! what the caller may see (docs/reports.md), and the dossiers behind any of its numbers.

use crate::auth::CurrentUser;
use crate::{ServiceError, ServiceResult, Services};
use chrono::NaiveDate;
use motcua_domain::msg;
use motcua_domain::msg::quoted;
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
#[into_params(parameter_in = Query)]
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

/// A date of a query string, `YYYY-MM-DD`, named `name` in the refusal.
pub fn parse_date(s: &str, name: &str) -> ServiceResult<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ServiceError::BadRequest(msg!("date_required", name)));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ServiceError::BadRequest(msg!("date_format", name)))
}

/// The period of a query string's `from` and `to`: at most ten years.
pub fn parse_period(from: &str, to: &str) -> ServiceResult<Period> {
    let period =
        Period::new(parse_date(from, "from")?, parse_date(to, "to")?).map_err(ServiceError::BadRequest)?;
    if period.days() > MAX_DAYS {
        return Err(ServiceError::BadRequest(msg!("period.ten_years")));
    }
    Ok(period)
}

pub fn parse_by(s: Option<&str>) -> ServiceResult<By> {
    match s.unwrap_or("field") {
        "" | "field" => Ok(By::Field),
        "procedure" => Ok(By::Procedure),
        "agency" => Ok(By::Agency),
        other => Err(ServiceError::BadRequest(msg!("report.by", quoted(other)))),
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
    pub fn parse(&self) -> ServiceResult<Request> {
        let period = parse_period(&self.from, &self.to)?;
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
    /// The period has not ended: "in process" and its "within time / overdue" are as of the
    /// end of this day (today), not of the period.
    #[schema(value_type = Option<String>)]
    pub as_of: Option<NaiveDate>,
    pub by: String,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<KeyedRow>,
    #[schema(value_type = Object)]
    pub total: Row,
}

impl Services {
    /// Receiving-agency ids the user may report on, narrowed to `agency`'s subtree when given
    /// (forbidden when the user may not read that agency, not found when it does not exist).
    pub async fn report_scope(&self, user: &CurrentUser, agency: Option<&str>) -> ServiceResult<Vec<i64>> {
        let mut scope = self.scope(user).await?;
        if let Some(code) = agency {
            self.require_read_agency(user, code).await?;
            let ids = agencies::subtree_ids(self.db(), code).await?;
            scope.retain(|id| ids.contains(id));
        }
        Ok(scope)
    }

    /// II.06a for the request over what the user may see, from the counters (the fast path; a
    /// recount gives the same numbers — `motcua report --verify`).
    pub async fn ii06a(&self, user: &CurrentUser, req: &Request) -> ServiceResult<Report> {
        let scope = self.report_scope(user, req.agency.as_deref()).await?;
        self.ii06a_in(&scope, req).await
    }

    /// II.06a over receiving agencies already resolved by `report_scope` (`req.agency` is not
    /// applied again): for callers that report several periods over the same scope.
    pub async fn ii06a_in(&self, scope: &[i64], req: &Request) -> ServiceResult<Report> {
        let judged = self.judged(&req.period);
        let rows = report::fast_by(self.db(), &judged, Some(scope), req.by).await?;
        // Only rows by agency roll up to parents and take names from the tree.
        let tree = match req.by {
            By::Agency => report::tree(self.db()).await?,
            By::Field | By::Procedure => Vec::new(),
        };
        let (rows, total) = report::group_rows(rows.iter().map(|(k, r)| (k, *r)), req.by, &tree)
            .map_err(|e| ServiceError::Internal(format!("report identities broken: {e}")))?;
        Ok(Report {
            period: req.period,
            as_of: (judged != req.period).then_some(judged.to),
            by: by_name(req.by).into(),
            rows,
            total,
        })
    }

    /// The period as II.06a judges it now (`Period::as_of` today, local date).
    pub fn judged(&self, period: &Period) -> Period {
        period.as_of(motcua_domain::calendar::local_date(self.now()))
    }
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

impl Services {
    /// The dossiers counted in one cell: `key` is a row key (None: the total line), `column` one
    /// of the form's columns. Their number equals the cell's value. Sorted by code.
    pub async fn dossiers_behind(
        &self,
        user: &CurrentUser,
        req: &Request,
        key: Option<&str>,
        column: Column,
    ) -> ServiceResult<Vec<CellDossier>> {
        let scope = self.report_scope(user, req.agency.as_deref()).await?;
        let period = self.judged(&req.period);
        let counted = report::counted(self.db(), period.from, period.to, Some(&scope)).await?;
        let tree = report::tree(self.db()).await?;
        let mut out: Vec<CellDossier> = counted
            .iter()
            .filter(|c| key.is_none_or(|k| report::keys_of(&c.keys, req.by, &tree).iter().any(|x| x == k)))
            .filter(|c| {
                let mut one = Row::default();
                one.count(&c.facts, &period);
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
}
