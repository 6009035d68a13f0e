//! The work calendar as the server sees it: rules + stored overrides, cached per process and
//! rebuilt when the stored calendar version changes (another process may have edited it).

use crate::AppState;
use crate::error::ApiError;
use motcua_domain::calendar::{OfficeHours, WorkCalendar};
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub struct CalendarCache {
    cached: RwLock<Option<(String, Arc<WorkCalendar>)>>,
}

impl CalendarCache {
    /// The current calendar; one small query to check freshness, a rebuild only on change.
    pub async fn get(&self, state: &AppState) -> Result<Arc<WorkCalendar>, ApiError> {
        let version = motcua_store::repo::calendar::version(&state.db).await?;
        if let Some((v, cal)) = self.cached.read().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *v == version
        {
            return Ok(cal.clone());
        }
        let overrides = motcua_store::repo::calendar::list_overrides(&state.db).await?;
        let cal = Arc::new(WorkCalendar::new(&overrides).map_err(|e| {
            tracing::error!(error = %e, "stored calendar overrides are inconsistent");
            ApiError::internal()
        })?);
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = Some((version, cal.clone()));
        Ok(cal)
    }
}

/// Office hours of an agency (by code), or the default when it has none of its own.
pub async fn office_hours(state: &AppState, agency_code: Option<&str>) -> Result<OfficeHours, ApiError> {
    let Some(code) = agency_code else {
        return Ok(OfficeHours::default());
    };
    let stored = motcua_store::repo::agencies::office_hours(&state.db, code)
        .await?
        .ok_or_else(|| ApiError::unprocessable(format!("unknown agency {code:?}")))?;
    match stored {
        None => Ok(OfficeHours::default()),
        Some(text) => OfficeHours::parse(&text).map_err(|e| {
            tracing::error!(agency = code, error = %e, "stored office hours are invalid");
            ApiError::internal()
        }),
    }
}
