//! The legal clock's inputs as the server sees them: the work calendar (rules + stored
//! overrides) and an agency's office hours, both from the in-memory reference data
//! (`crate::reference`), which is reloaded when another process changes them.

use crate::AppState;
use crate::error::ApiError;
use motcua_domain::calendar::{OfficeHours, WorkCalendar};
use std::sync::Arc;

/// The current work calendar.
pub async fn calendar(state: &AppState) -> Result<Arc<WorkCalendar>, ApiError> {
    state.reference.calendar(&state.db).await
}

/// Office hours of an agency (by code), or the default when it has none of its own.
pub async fn office_hours(state: &AppState, agency_code: Option<&str>) -> Result<OfficeHours, ApiError> {
    let Some(code) = agency_code else {
        return Ok(OfficeHours::default());
    };
    let reference = state.reference().await?;
    office_hours_in(&reference, code)
}

/// Office hours of an agency in a given picture of the reference data.
pub fn office_hours_in(reference: &crate::reference::Reference, code: &str) -> Result<OfficeHours, ApiError> {
    match reference.office_hours(code) {
        None => Err(ApiError::unprocessable(format!("unknown agency {code:?}"))),
        Some(Ok(hours)) => Ok(hours),
        Some(Err(e)) => {
            tracing::error!(agency = code, error = %e, "stored office hours are invalid");
            Err(ApiError::internal())
        }
    }
}
