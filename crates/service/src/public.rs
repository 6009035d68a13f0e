//! The citizen's public lookup of a dossier by its code plus the last 4 digits of the
//! applicant's phone or ID number: status, timeline, appointment, what is missing, what to
//! bring — with only a masked name (an organisation's in full) and nothing else personal. Rate limited; an unknown code
//! and wrong digits get the same answer, so codes cannot be enumerated.

use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{ApplicantKind, Status};
use motcua_domain::identity::mask_name;
use motcua_domain::msg;
use motcua_store::repo::{dossiers, events};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The answer to an unknown code or wrong digits (deliberately the same).
fn not_found() -> ServiceError {
    ServiceError::NotFound(msg!("lookup.not_found"))
}

fn too_many(wait: u64) -> ServiceError {
    ServiceError::TooMany {
        msg: msg!("lookup.too_many", wait.div_ceil(60)),
        wait_seconds: wait,
    }
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
    #[schema(value_type = String)]
    pub status: Status,
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

/// The code to look up in what a citizen typed or pasted: a code of today's shape found in it
/// (any case, spaces, dashes, an SMS's words around it: `DossierCode::find_in`), else, for
/// codes of older systems (historic import), the text itself if it can be one.
pub fn lookup_code(typed: &str) -> ServiceResult<String> {
    if let Some(code) = motcua_domain::code::DossierCode::find_in(typed) {
        return Ok(code.to_string());
    }
    let text = typed.trim();
    if text.is_empty() {
        return Err(ServiceError::BadRequest(msg!("lookup.code_empty")));
    }
    let plausible = text.chars().count() <= 60
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if plausible {
        // An online submission's reference, however it was typed.
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("online-") {
            return Ok(lower);
        }
        Ok(text.to_string())
    } else {
        Err(ServiceError::BadRequest(msg!("lookup.code_format")))
    }
}

fn last4(s: &str) -> Option<String> {
    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 4).then(|| digits[digits.len() - 4..].iter().collect())
}

impl Services {
    /// Looks a dossier up for the public, from `client` (the adapter's name for the caller,
    /// its address: lookups and failures are limited per client).
    pub async fn lookup(&self, code: &str, verify: &str, client: &str) -> ServiceResult<PublicDossier> {
        let limits = self.limits();
        limits.lookups_per_address.hit(client).map_err(too_many)?;
        if let Some(wait) = limits.lookup_failures_per_address.blocked(client) {
            return Err(too_many(wait));
        }
        let code = lookup_code(code)?;
        let code = code.as_str();
        // Wrong digits for a code block that client for that code only: a stranger guessing
        // cannot lock the citizen out of their own dossier.
        let client_code = format!("{client}\u{1f}{code}");
        if let Some(wait) = limits.lookup_failures_per_client_code.blocked(&client_code) {
            return Err(too_many(wait));
        }
        let verify = verify.trim();
        if verify.len() != 4 || !verify.chars().all(|c| c.is_ascii_digit()) {
            return Err(ServiceError::BadRequest(msg!("lookup.verify")));
        }
        let fail = || {
            let _ = limits.lookup_failures_per_client_code.hit(&client_code);
            let _ = limits.lookup_failures_per_address.hit(client);
            not_found()
        };
        // The reference of an online submission: its code once received; until then the
        // submission itself (read afresh, not cached: the cache is forgotten by code).
        let issued;
        let (code, cached) = match code.strip_prefix("online-").and_then(|n| n.parse::<i64>().ok()) {
            Some(id) => match dossiers::online_code(self.db(), id).await? {
                Some(Some(c)) => {
                    issued = c;
                    (issued.as_str(), true)
                }
                Some(None) => (code, false),
                None => return Err(fail()),
            },
            None => (code, true),
        };
        let cache = &self.inner.lookup_cache;
        let found = match cache.get(code).filter(|_| cached) {
            Some(found) => found,
            None => {
                let started = Instant::now();
                match self.read_public(code).await {
                    Ok(Some((found, as_of))) => {
                        let found = Arc::new(found);
                        if cached {
                            cache.put(code, started, as_of, found.clone());
                        }
                        found
                    }
                    Ok(None) => return Err(fail()),
                    Err(e) => {
                        tracing::error!(error = %e, "lookup failed");
                        return Err(not_found());
                    }
                }
            }
        };
        if !found.verify.iter().any(|v| v.as_deref() == Some(verify)) {
            return Err(fail());
        }
        Ok(found.answer(self.now()))
    }

    /// The dossier with this code has changed: its public answer is not served from memory.
    pub(crate) fn forget_lookup(&self, code: &str) {
        self.inner.lookup_cache.forget(code);
    }
}

/// What the database says of a dossier, as the public may see it: kept in the cache, and
/// turned into an answer at each lookup (step timings depend on the moment of asking).
#[derive(Debug)]
pub struct Found {
    /// The last 4 digits of the phone and of the ID number.
    verify: [Option<String>; 2],
    /// The answer, step timings not yet set.
    answer: PublicDossier,
    /// Each step's due instant, for its timing.
    step_dues: Vec<Option<DateTime<Utc>>>,
}

impl Found {
    fn answer(&self, now: DateTime<Utc>) -> PublicDossier {
        let mut answer = self.answer.clone();
        for (s, due) in answer.steps.iter_mut().zip(&self.step_dues) {
            s.timing = crate::dossiers::timing(s.started_at, *due, s.completed_at, now).map(str::to_string);
        }
        answer
    }
}

impl Services {
    /// What the database says of `code`, and when the reference data its names come from
    /// was read (it may be older than the dossier's row).
    async fn read_public(&self, code: &str) -> ServiceResult<Option<(Found, Instant)>> {
        let Some(d) = dossiers::find_public(self.db(), code).await? else {
            return Ok(None);
        };
        // Names from the reference data, as fresh as the lookup cache's answers; an agency or
        // procedure newer than that picture is read afresh.
        let (mut reference, mut as_of) = self.reference_recent(self.inner.lookup_cache.ttl).await?;
        let names_known = |r: &crate::reference::Reference| {
            std::iter::once(Some(d.agency_id))
                .chain(d.steps.iter().map(|s| s.agency_id))
                .flatten()
                .all(|id| r.agency_by_id(id).is_some())
        };
        if !names_known(&reference) {
            as_of = Instant::now();
            reference = self.reference().await?;
        }
        let agency_name = |id: i64| reference.agency_by_id(id).map(|a| a.name.clone());
        let (procedure, procedure_name) = match reference.procedure_name(self.db(), d.procedure_id).await? {
            Some(p) => p.as_ref().clone(),
            None => Default::default(),
        };
        let status = d.status;
        // The event log is read only for what to supplement (most lookups skip it).
        let missing = if status == Status::AwaitingSupplement {
            events::events(self.db(), d.id)
                .await?
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
        let found = Found {
            verify: [last4(&d.phone), last4(&d.applicant_id_number)],
            step_dues: d.steps.iter().map(|s| s.due_at).collect(),
            answer: PublicDossier {
                code: code.to_string(),
                // People are masked; an organisation's name is public (Decree 13/2023 protects
                // personal data only).
                applicant: match d.applicant_kind {
                    ApplicantKind::Person => mask_name(&d.applicant_name),
                    ApplicantKind::Organisation => d.applicant_name.clone(),
                },
                procedure,
                procedure_name,
                agency_name: agency_name(d.agency_id).unwrap_or_default(),
                status,
                status_number: status.number(),
                status_label: status.label_vi().into(),
                received_at: d.received_at,
                due_at: d.due_at,
                finished_at: d.finished_at,
                returned_at: d.returned_at,
                steps: d
                    .steps
                    .iter()
                    .map(|s| PublicStep {
                        timing: None,
                        name: s.name.clone(),
                        agency: s.agency_id.and_then(agency_name),
                        started_at: Some(s.started_at),
                        completed_at: s.completed_at,
                    })
                    .collect(),
                missing,
                what_to_bring,
                result_ready: matches!(status, Status::Resolved | Status::Returned) && d.has_result,
            },
        };
        Ok(Some((found, as_of)))
    }
}

/// Public lookups answered from memory. A dossier changed by this process is dropped from
/// the cache when the change commits; a change made elsewhere (another server on the same
/// PostgreSQL, a CLI import) shows once the entry is older than the cache's lifetime.
pub struct LookupCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

enum Slot {
    /// Read from the database, its oldest part at this instant.
    Read(Instant, Arc<Found>),
    /// Changed by this process at this instant: a read that started before it is stale.
    Changed(Instant),
}

/// Entries kept at most (about 1 KB each).
const CACHE_CAP: usize = 50_000;

impl LookupCache {
    /// `ttl` zero: nothing is kept.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, code: &str) -> Option<Arc<Found>> {
        match self.slots().get(code) {
            Some(Slot::Read(at, found)) if at.elapsed() < self.ttl => Some(found.clone()),
            _ => None,
        }
    }

    /// Keeps what a lookup started at `started` read, unless the dossier changed since,
    /// for the cache's lifetime from then or from `as_of`, when the reference data it
    /// took names from was read, whichever is older.
    fn put(&self, code: &str, started: Instant, as_of: Instant, found: Arc<Found>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut slots = self.slots();
        if let Some(Slot::Changed(at)) = slots.get(code)
            && started <= *at
        {
            return;
        }
        self.make_room(&mut slots);
        slots.insert(code.to_string(), Slot::Read(as_of.min(started), found));
    }

    /// The dossier with this code has changed (called after the change commits).
    pub fn forget(&self, code: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let mut slots = self.slots();
        self.make_room(&mut slots);
        slots.insert(code.to_string(), Slot::Changed(Instant::now()));
    }

    /// At the cap, drops what has expired, then if need be every answer kept (the marks of
    /// recent changes stay: they keep older reads out).
    fn make_room(&self, slots: &mut HashMap<String, Slot>) {
        if slots.len() < CACHE_CAP {
            return;
        }
        let ttl = self.ttl;
        slots.retain(|_, s| match s {
            Slot::Read(at, _) | Slot::Changed(at) => at.elapsed() < ttl,
        });
        if slots.len() >= CACHE_CAP {
            slots.retain(|_, s| matches!(s, Slot::Changed(_)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_four_digits() {
        assert_eq!(super::last4("0912 345 678").as_deref(), Some("5678"));
        assert_eq!(super::last4("015093000123").as_deref(), Some("0123"));
        assert_eq!(super::last4("12"), None);
    }

    fn found() -> Arc<Found> {
        Arc::new(Found {
            verify: [Some("5678".into()), None],
            answer: PublicDossier {
                code: "X".into(),
                applicant: "N. V. An".into(),
                procedure: String::new(),
                procedure_name: String::new(),
                agency_name: String::new(),
                status: Status::Received,
                status_number: 2,
                status_label: String::new(),
                received_at: None,
                due_at: None,
                finished_at: None,
                returned_at: None,
                steps: Vec::new(),
                missing: None,
                what_to_bring: None,
                result_ready: false,
            },
            step_dues: Vec::new(),
        })
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_kept() {
        let cache = LookupCache::new(Duration::from_secs(60));
        let before = Instant::now();
        cache.forget("X");
        cache.put("X", before, before, found());
        assert!(cache.get("X").is_none(), "read before the change: stale");
        cache.put("X", Instant::now(), Instant::now(), found());
        assert!(cache.get("X").is_some(), "read after the change: kept");
        cache.forget("X");
        assert!(cache.get("X").is_none(), "a change drops the entry");
    }

    #[test]
    fn changes_alone_do_not_grow_the_cache_past_its_cap() {
        // A server that changes dossiers but answers no lookups (nothing is `put`).
        let cache = LookupCache::new(Duration::from_millis(1));
        for i in 0..CACHE_CAP {
            cache.forget(&format!("A-{i}"));
        }
        assert_eq!(cache.slots().len(), CACHE_CAP);
        std::thread::sleep(Duration::from_millis(5));
        cache.forget("B");
        assert_eq!(cache.slots().len(), 1, "expired marks are dropped at the cap");
    }

    #[test]
    fn nothing_is_kept_without_a_lifetime_or_past_it() {
        let off = LookupCache::new(Duration::ZERO);
        off.put("X", Instant::now(), Instant::now(), found());
        assert!(off.get("X").is_none());
        let short = LookupCache::new(Duration::from_millis(1));
        short.put(
            "X",
            Instant::now(),
            Instant::now() - Duration::from_millis(5),
            found(),
        );
        assert!(short.get("X").is_none(), "older than the lifetime");
    }
}
