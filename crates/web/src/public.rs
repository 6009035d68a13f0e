//! The citizen's public lookup of a dossier by its code plus the last 4 digits of the
//! applicant's phone or ID number: status, timeline, appointment, what is missing, what to
//! bring — with only a masked name and nothing else personal. Rate limited; an unknown code
//! and wrong digits get the same answer, so codes cannot be enumerated.

use crate::AppState;
use crate::ratelimit::Limiter;
use chrono::{DateTime, Utc};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::identity::mask_name;
use motcua_store::repo::lifecycle;
use std::time::Duration;

pub struct LookupLimits {
    per_address: Limiter,
    failures_per_code: Limiter,
    failures_per_address: Limiter,
}

impl Default for LookupLimits {
    fn default() -> Self {
        Self::new(60)
    }
}

impl LookupLimits {
    /// `per_minute` lookups per client address; failed verifications stay strict.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_address: Limiter::new(per_minute.max(1), Duration::from_secs(60)),
            failures_per_code: Limiter::new(5, Duration::from_secs(15 * 60)),
            failures_per_address: Limiter::new(20, Duration::from_secs(15 * 60)),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum LookupError {
    /// Unknown code or wrong digits (deliberately indistinguishable).
    NotFound,
    /// `verify` is not 4 digits.
    BadVerify,
    /// Too many lookups or failures: wait this many seconds.
    TooMany(u64),
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicStep {
    pub name: String,
    pub agency: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// `early`, `on_time`, `late`, `within_time` or `overdue`.
    pub timing: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicDossier {
    pub code: String,
    /// Initials and given name only, e.g. "N. V. An".
    pub applicant: String,
    pub procedure: String,
    pub procedure_name: String,
    pub agency_name: String,
    pub status: String,
    pub status_number: u8,
    pub status_label: String,
    pub received_at: Option<DateTime<Utc>>,
    /// The appointment to collect the result.
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub steps: Vec<PublicStep>,
    /// What the agency asked to complete, while awaiting a supplement.
    pub missing: Option<String>,
    /// What to bring when collecting the result.
    pub what_to_bring: Option<String>,
    pub result_ready: bool,
}

fn last4(s: &str) -> Option<String> {
    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 4).then(|| digits[digits.len() - 4..].iter().collect())
}

/// Looks a dossier up for the public.
pub async fn lookup(
    state: &AppState,
    code: &str,
    verify: &str,
    address: &str,
) -> Result<PublicDossier, LookupError> {
    let limits = &state.lookup_limits;
    limits.per_address.hit(address).map_err(LookupError::TooMany)?;
    if let Some(wait) = limits.failures_per_address.blocked(address) {
        return Err(LookupError::TooMany(wait));
    }
    let code = code.trim();
    if let Some(wait) = limits.failures_per_code.blocked(code) {
        return Err(LookupError::TooMany(wait));
    }
    let verify = verify.trim();
    if verify.len() != 4 || !verify.chars().all(|c| c.is_ascii_digit()) {
        return Err(LookupError::BadVerify);
    }
    let fail = || {
        let _ = limits.failures_per_code.hit(code);
        let _ = limits.failures_per_address.hit(address);
        LookupError::NotFound
    };
    // Only issued codes: an online dossier not yet received has none to look up.
    if code.starts_with("online-") || code.is_empty() || code.len() > 60 {
        return Err(fail());
    }
    let (d, steps) = match lifecycle::find_public(&state.db, code).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(fail()),
        Err(e) => {
            tracing::error!(error = %e, "lookup failed");
            return Err(LookupError::NotFound);
        }
    };
    let matches = [d.phone.as_str(), d.applicant_id_number.as_str()]
        .iter()
        .any(|v| last4(v).as_deref() == Some(verify));
    if !matches {
        return Err(fail());
    }
    let status: Status = d.status.parse().unwrap_or(Status::Submitted);
    let now = Utc::now();
    // The event log is read only for what to supplement (most lookups skip it).
    let missing = if status == Status::AwaitingSupplement {
        lifecycle::events(&state.db, d.id)
            .await
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|e| e.action == "request_supplement")
            .map(|e| e.note.clone())
    } else {
        None
    };
    let what_to_bring = (status == Status::Resolved).then(|| {
        "Mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả (hoặc mã hồ sơ) và giấy tờ tùy thân khi đến nhận kết quả.".to_string()
    });
    Ok(PublicDossier {
        code: d.key(),
        applicant: mask_name(&d.applicant_name),
        procedure: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        agency_name: d.agency_name.clone(),
        status: status.as_str().into(),
        status_number: status.number(),
        status_label: status.label_vi().into(),
        received_at: d.received_at,
        due_at: d.due_at,
        finished_at: d.finished_at,
        returned_at: d.returned_at,
        steps: steps
            .into_iter()
            .map(|s| PublicStep {
                timing: crate::api::dossiers::timing(Some(s.started_at), s.due_at, s.completed_at, now)
                    .map(str::to_string),
                name: s.name,
                agency: s.agency_name,
                started_at: Some(s.started_at),
                completed_at: s.completed_at,
            })
            .collect(),
        missing,
        what_to_bring,
        result_ready: matches!(status, Status::Resolved | Status::Returned) && d.result_file.is_some(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_four_digits() {
        assert_eq!(super::last4("0912 345 678").as_deref(), Some("5678"));
        assert_eq!(super::last4("015093000123").as_deref(), Some("0123"));
        assert_eq!(super::last4("12"), None);
    }
}
