//! The officers' dashboard, shared by the page (`/bang-dieu-khien`) and the JSON API
//! (`/api/v1/dashboard`): twelve months of II.06a figures per agency, the dossiers past or near
//! their due, and open work per officer and per agency — all within what the user may see.
//! Figures come from `crate::reports` and `repo::dashboard`; nothing is counted twice here.

use crate::auth::CurrentUser;
use crate::reports::{By, Request};
use crate::{ServiceResult, Services};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::calendar;
use motcua_domain::report::{Period, Row};
use motcua_store::repo::dashboard::{self as repo, AgencyLoad, OfficerLoad, OpenDossier};
use serde::Serialize;

/// How many months the trends cover (the current month and the eleven before it).
pub const MONTHS: usize = 12;
/// Most agencies given a trend of their own (the whole scope always has one).
pub const MAX_AGENCY_TRENDS: usize = 30;
/// Most dossiers in each of the overdue and due-soon lists.
pub const MAX_LISTED: i64 = 100;
/// "Due soon": within this many working days from now.
pub const DUE_SOON_WORKING_DAYS: u64 = 2;

/// One month's figures of a trend.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `MM/YYYY`.
    pub month: String,
    #[schema(value_type = String)]
    pub from: NaiveDate,
    #[schema(value_type = String)]
    pub to: NaiveDate,
    /// Received in the month (II.06a columns 4 + 5; carried-over dossiers are not new work).
    pub received: i64,
    /// Resolved in the month (column 7).
    pub resolved: i64,
    /// Resolved early or on time (columns 8 + 9).
    pub in_time: i64,
    /// Resolved late (column 10).
    pub late: i64,
    /// `in_time / resolved` in percent; absent when nothing was resolved.
    pub on_time_rate: Option<f64>,
}

impl MonthFigures {
    fn of(period: &Period, row: &Row) -> Self {
        let in_time = row.early + row.on_time;
        MonthFigures {
            month: period.from.format("%m/%Y").to_string(),
            from: period.from,
            to: period.to,
            received: row.received_online + row.received_direct,
            resolved: row.resolved,
            in_time,
            late: row.late,
            on_time_rate: (row.resolved > 0).then(|| rate(in_time, row.resolved)),
        }
    }
}

/// A percentage with one decimal.
pub fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

/// Twelve months for the whole scope (`key` None) or one agency (with its subtree).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trend {
    pub key: Option<String>,
    pub name: String,
    pub parent: Option<String>,
    pub months: Vec<MonthFigures>,
}

impl Trend {
    /// The twelve months added up (the rate over all of them).
    pub fn sum(&self) -> MonthFigures {
        let mut s = MonthFigures {
            month: "Cộng".into(),
            from: self.months.first().map(|m| m.from).unwrap_or_default(),
            to: self.months.last().map(|m| m.to).unwrap_or_default(),
            received: 0,
            resolved: 0,
            in_time: 0,
            late: 0,
            on_time_rate: None,
        };
        for m in &self.months {
            s.received += m.received;
            s.resolved += m.resolved;
            s.in_time += m.in_time;
            s.late += m.late;
        }
        s.on_time_rate = (s.resolved > 0).then(|| rate(s.in_time, s.resolved));
        s
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    #[schema(value_type = String)]
    pub as_of: DateTime<Utc>,
    /// The agency the dashboard is narrowed to (with its subtree), if any.
    pub agency: Option<String>,
    /// The whole scope first, then each agency with dossiers in the twelve months.
    pub trends: Vec<Trend>,
    /// More agencies had figures than were given a trend.
    pub trends_truncated: bool,
    /// In process, past the due instant, not paused for a supplement; most overdue first.
    #[schema(value_type = Vec<Object>)]
    pub overdue: Vec<OpenDossier>,
    /// The end of "due soon": two working days from now.
    #[schema(value_type = String)]
    pub due_soon_before: DateTime<Utc>,
    /// In process, not yet due, due before `due_soon_before`.
    #[schema(value_type = Vec<Object>)]
    pub due_soon: Vec<OpenDossier>,
    #[schema(value_type = Vec<Object>)]
    pub officers: Vec<OfficerLoad>,
    #[schema(value_type = Vec<Object>)]
    pub agencies: Vec<AgencyLoad>,
}

/// The calendar months ending with the one holding `today`, oldest first.
pub fn last_months(today: NaiveDate, n: usize) -> Vec<Period> {
    let mut out = Vec::with_capacity(n);
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..n {
        if let Some(p) = Period::month(y, m) {
            out.push(p);
        }
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

/// The dashboard at `now` for what the user may see, narrowed to `agency`'s subtree if given
/// (403 when the user may not read that agency, 404 when it does not exist).
impl Services {
    pub async fn dashboard(&self, user: &CurrentUser, agency: Option<&str>) -> ServiceResult<Dashboard> {
        let now = self.now();
        let scope = self.report_scope(user, agency).await?;
        let months = last_months(calendar::local_date(now), MONTHS);
        let mut whole = Trend {
            key: None,
            name: "Toàn bộ phạm vi được xem".into(),
            parent: None,
            months: Vec::with_capacity(MONTHS),
        };
        let mut per_agency: Vec<Trend> = Vec::new();
        for (i, period) in months.iter().enumerate() {
            let req = Request {
                period: *period,
                by: By::Agency,
                agency: agency.map(str::to_string),
            };
            let report = self.ii06a_in(&scope, &req).await?;
            whole.months.push(MonthFigures::of(period, &report.total));
            for r in &report.rows {
                let at = match per_agency.iter().position(|t| t.key.as_deref() == Some(&r.key)) {
                    Some(at) => at,
                    None => {
                        // Months before the agency's first figures are zeros.
                        let zeros = months[..i]
                            .iter()
                            .map(|p| MonthFigures::of(p, &Row::default()))
                            .collect();
                        per_agency.push(Trend {
                            key: Some(r.key.clone()),
                            name: r.name.clone(),
                            parent: r.parent.clone(),
                            months: zeros,
                        });
                        per_agency.len() - 1
                    }
                };
                per_agency[at].months.push(MonthFigures::of(period, &r.row));
            }
            // Agencies without a row this month get zeros.
            for t in per_agency.iter_mut().filter(|t| t.months.len() < i + 1) {
                t.months.push(MonthFigures::of(period, &Row::default()));
            }
        }
        per_agency.sort_by(|a, b| a.key.cmp(&b.key));
        let trends_truncated = per_agency.len() > MAX_AGENCY_TRENDS;
        per_agency.truncate(MAX_AGENCY_TRENDS);
        let mut trends = vec![whole];
        trends.extend(per_agency);

        let legal = self.legal_time(None).await?;
        let clock = legal.clock();
        let due_soon_before = clock.add_working_minutes(
            clock.normalise_intake(now),
            DUE_SOON_WORKING_DAYS * u64::from(legal.hours.day_minutes()),
        );
        // Resolved once for the four reads below (`Every` asks nothing of each dossier).
        let scope = motcua_store::repo::scope::Scope::of(self.db(), &scope).await?;
        Ok(Dashboard {
            as_of: now,
            agency: agency.map(str::to_string),
            trends,
            trends_truncated,
            overdue: repo::in_process_due(self.db(), &scope, None, now, MAX_LISTED).await?,
            due_soon_before,
            due_soon: repo::in_process_due(self.db(), &scope, Some(now), due_soon_before, MAX_LISTED).await?,
            officers: repo::officer_load(self.db(), &scope, now).await?,
            agencies: repo::agency_load(self.db(), &scope, now).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_this_one() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let months = last_months(d(2026, 2, 10), 12);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], Period::month(2025, 3).unwrap());
        assert_eq!(months[11], Period::month(2026, 2).unwrap());
    }

    #[test]
    fn rates_are_percent_with_one_decimal() {
        assert_eq!(rate(2, 3), 66.7);
        assert_eq!(rate(3, 3), 100.0);
        assert_eq!(rate(1, 0), 0.0);
    }
}
