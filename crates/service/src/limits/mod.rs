//! The limits one server keeps in memory against guessing, scraping and flooding: sign-in
//! failures, public lookups, one-time codes sent and public feedback. Keyed by whatever the
//! adapter names the client (its address) and by the thing tried (a username, a code).

pub mod throttle;
pub mod window;

pub use window::Limiter;

use crate::Rules;
use std::time::Duration;

/// Public feedback, and guests' online dossiers, accepted per client address and hour.
pub const PUBLIC_SUBMISSIONS_PER_HOUR: u32 = 20;
/// One-time codes sent per login (registration, reset) and hour.
pub const CODES_PER_HOUR: u32 = 5;

pub struct Limits {
    /// Failed sign-ins per username and per client address.
    pub login: throttle::Throttle,
    /// Public lookups per client address (per minute).
    pub lookups_per_address: Limiter,
    /// Failed verifications per (client address, dossier code), and per client address (15
    /// minutes): never per code alone, or a stranger could lock its citizen out.
    pub lookup_failures_per_client_code: Limiter,
    pub lookup_failures_per_address: Limiter,
    /// One-time codes sent per login: against message flooding.
    pub codes_per_login: Limiter,
    /// Public feedback per client address (officers signed in are not limited).
    pub feedback_per_address: Limiter,
    /// Online dossiers submitted by guests (nobody signed in), per client address.
    pub guest_submissions_per_address: Limiter,
}

impl Limits {
    pub fn new(rules: &Rules) -> Self {
        let quarter = Duration::from_secs(15 * 60);
        let hour = Duration::from_secs(3600);
        Limits {
            login: Default::default(),
            lookups_per_address: Limiter::new(rules.lookups_per_minute.max(1), Duration::from_secs(60)),
            lookup_failures_per_client_code: Limiter::new(5, quarter),
            lookup_failures_per_address: Limiter::new(20, quarter),
            codes_per_login: Limiter::new(CODES_PER_HOUR, hour),
            feedback_per_address: Limiter::new(PUBLIC_SUBMISSIONS_PER_HOUR, hour),
            guest_submissions_per_address: Limiter::new(PUBLIC_SUBMISSIONS_PER_HOUR, hour),
        }
    }
}
