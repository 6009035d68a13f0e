//! The legal calendar as people use it: a year's days off, the due instant of a time limit,
//! and (administrators) the per-date overrides of the rules, checked as a whole before any is
//! kept.

use crate::auth::CurrentUser;
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use motcua_domain::calendar::{self, DayEntry, Override, TimeLimit};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::msg::quoted;
use motcua_store::repo::calendar as repo;

/// A year as the calendar has it.
pub struct Year {
    pub year: i32,
    /// Every day off (rules and overrides).
    pub days: Vec<DayEntry>,
    pub working_days: u64,
}

/// A due instant and how it was reached.
pub struct Due {
    pub received: DateTime<Utc>,
    /// When the clock started (the next opening at or after receipt).
    pub start: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub limit: TimeLimit,
}

/// Longest name of an override.
const MAX_NAME: usize = 200;

/// A date of the calendar's range, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> ServiceResult<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ServiceError::BadRequest(msg!("date_format", quoted(s))))?;
    calendar::check_date(d).map_err(|e| ServiceError::BadRequest(msg!("calendar.invalid", e)))?;
    Ok(d)
}

impl Services {
    /// A year's days off and its number of working days.
    pub async fn calendar_year(&self, year: i32) -> ServiceResult<Year> {
        let overrides = repo::list_overrides(self.db()).await?;
        let days = calendar::effective_days(year, &overrides)
            .map_err(|e| ServiceError::BadRequest(msg!("calendar.invalid", e)))?;
        let cal = self.calendar().await?;
        Ok(Year {
            year,
            days,
            working_days: cal.working_days_in_year(year),
        })
    }

    /// The due instant of a time limit from a receipt (RFC 3339), with a same-day cut-off
    /// (`HH:MM`) and an agency's office hours if given.
    pub async fn due(
        &self,
        received: &str,
        limit: &str,
        cutoff: Option<&str>,
        agency: Option<&str>,
    ) -> ServiceResult<Due> {
        let received = DateTime::parse_from_rfc3339(received.trim())
            .map_err(|_| ServiceError::invalid("received", msg!("calendar.instant", quoted(received))))?
            .to_utc();
        calendar::check_instant(received)
            .map_err(|e| ServiceError::invalid("received", msg!("calendar.invalid", e)))?;
        let limit = TimeLimit::parse(limit)
            .map_err(|e| ServiceError::invalid("limit", msg!("procedure.time_limit", e)))?;
        let cutoff = cutoff
            .map(|c| {
                NaiveTime::parse_from_str(c.trim(), "%H:%M")
                    .map_err(|_| ServiceError::invalid("cutoff", msg!("procedure.cutoff", quoted(c))))
            })
            .transpose()?;
        let legal = self.legal_time(agency).await?;
        let clock = legal.clock();
        Ok(Due {
            received,
            start: clock.normalise_intake(received),
            due: clock.due(received, &limit, cutoff),
            limit,
        })
    }

    /// The overrides of the calendar's rules.
    pub async fn calendar_overrides(&self) -> ServiceResult<Vec<Override>> {
        Ok(repo::list_overrides(self.db()).await?)
    }

    /// Adds or replaces overrides (administrators): the calendar they make with the others
    /// must hold together, or nothing is kept.
    pub async fn set_overrides(&self, user: &CurrentUser, new: &[Override]) -> ServiceResult<()> {
        user.require_admin()?;
        for o in new {
            if o.name.chars().count() > MAX_NAME {
                return Err(ServiceError::invalid("name", msg!("too_long", MAX_NAME)));
            }
        }
        let mut all = repo::list_overrides(self.db()).await?;
        all.retain(|o| !new.iter().any(|n| n.date == o.date));
        all.extend_from_slice(new);
        calendar::WorkCalendar::new(&all)
            .map_err(|e| ServiceError::invalid("date", msg!("calendar.invalid", e)))?;
        let mut tx = self.db().begin().await?;
        for o in new {
            repo::upsert_override(&mut tx, o, &user.principal.username).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the override of a date (administrators).
    pub async fn delete_override(&self, user: &CurrentUser, date: NaiveDate) -> ServiceResult<()> {
        user.require_admin()?;
        let mut tx = self.db().begin().await?;
        let existed = repo::delete_override(&mut tx, date).await?;
        tx.commit().await?;
        if existed {
            Ok(())
        } else {
            Err(ServiceError::NotFound(msg!(
                "calendar.no_override",
                date.format("%d/%m/%Y")
            )))
        }
    }

    /// Imports overrides from CSV (`date,kind,name`), all or nothing (administrators). Each
    /// bad line is a field `line:N`.
    pub async fn import_overrides(&self, user: &CurrentUser, csv: &str) -> ServiceResult<Vec<Override>> {
        user.require_admin()?;
        let rows = motcua_domain::import::calendar_overrides(csv).map_err(|errs| {
            ServiceError::Invalid(
                errs.0
                    .iter()
                    .map(|e| FieldError::new(format!("line:{}", e.line), msg!("import.line", &e.message)))
                    .collect(),
            )
        })?;
        self.set_overrides(user, &rows).await?;
        Ok(rows)
    }
}
