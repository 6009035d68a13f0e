//! The use cases of motcua — intake, actions, lookup, feedback, catalog, accounts, reports,
//! evaluation, the outbox — over one narrow handle, [`Services`]: the database, the reference
//! data in memory, the file store, the rules in force and an injected [`Clock`]. Shared by
//! the HTTP adapters, the command line and the tests. No HTTP type, header, cookie or status
//! code here: a refusal is a [`ServiceError`], which each adapter says its own way.

pub mod audit;
pub mod auth;
pub mod authentic;
pub mod calendar;
pub mod catalog;
pub mod citizens;
mod clock;
pub mod dashboard;
pub mod dossiers;
pub mod drafts;
pub mod dvcqg;
pub mod dvcqg_inbound;
mod error;
pub mod evaluation;
pub mod feedback;
pub mod files;
pub mod idempotency;
pub mod limits;
pub mod outbox;
pub mod payments;
pub mod public;
pub mod recent;
pub mod reference;
pub mod report_export;
pub mod reports;
pub mod upkeep;
pub mod users;
pub mod vneid;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ServiceError, ServiceResult};
pub use motcua_domain::msg::{FieldError, Lang, Msg};

use chrono::{DateTime, SubsecRound, Utc};
use motcua_store::Db;
use motcua_store::repo::files::FileStore;
use std::sync::Arc;

/// Rules that vary by province or practice (DOMAIN.md: *configurable*).
#[derive(Debug, Clone)]
pub struct Rules {
    /// Supplement requests allowed after receipt (default 1).
    pub max_supplements: u32,
    /// Working hours an officer has to check an online dossier (default 8).
    pub online_accept_hours: u32,
    /// Public lookups per client address per minute (default 60).
    pub lookups_per_minute: u32,
    /// Seconds a public lookup's answer is served from memory (default 5; 0: never). A
    /// change made by this process shows at once; one made by another process within this.
    pub lookup_cache_seconds: u32,
    /// Working days a citizen has to hand in a requested supplement (told in the notice and
    /// on their page; default 10).
    pub supplement_working_days: u32,
    /// The site's address as citizens reach it (`--public-url`), for links in notices; empty:
    /// the links are the paths alone.
    pub public_url: String,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_supplements: 1,
            online_accept_hours: 8,
            lookups_per_minute: 60,
            lookup_cache_seconds: 5,
            supplement_working_days: 10,
            public_url: String::new(),
        }
    }
}

/// The handle every use case takes: cheap to clone (three shared pointers).
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
    clock: Arc<dyn Clock>,
    payments: Arc<dyn payments::PaymentProvider>,
}

struct Inner {
    db: Db,
    reference: reference::ReferenceCache,
    files: FileStore,
    rules: Rules,
    limits: limits::Limits,
    lookup_cache: public::LookupCache,
    /// Uploaded files known to be stored (the orphan sweep forgets those it removes).
    stored_files: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The landing page's dossiers by status, counted at most once per `LANDING_COUNTS_TTL`.
    landing_counts: recent::Recent<Vec<(motcua_domain::dossier::Status, i64)>>,
}

/// How old the landing page's dossiers by status may be.
pub const LANDING_COUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl Services {
    /// The services over a database, with files under `data_dir/files`, on the system clock
    /// and the built-in payment sandbox.
    pub fn new(db: Db, data_dir: &std::path::Path, rules: Rules) -> Self {
        let lookup_ttl = std::time::Duration::from_secs(rules.lookup_cache_seconds.into());
        Services {
            inner: Arc::new(Inner {
                db,
                reference: Default::default(),
                files: FileStore::new(data_dir),
                limits: limits::Limits::new(&rules),
                rules,
                lookup_cache: public::LookupCache::new(lookup_ttl),
                stored_files: Default::default(),
                landing_counts: recent::Recent::new(LANDING_COUNTS_TTL),
            }),
            clock: Arc::new(SystemClock),
            payments: Arc::new(payments::Sandbox),
        }
    }

    /// The same services paying through another provider (the national payment platform).
    pub fn with_payments(&self, payments: Arc<dyn payments::PaymentProvider>) -> Self {
        Services {
            inner: self.inner.clone(),
            clock: self.clock.clone(),
            payments,
        }
    }

    /// The same services on another clock.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Services {
            inner: self.inner.clone(),
            clock,
            payments: self.payments.clone(),
        }
    }

    /// The same services with the clock stopped at `now` (demo data, tests of the clock;
    /// instants of one dossier must not go back in time).
    pub fn at(&self, now: DateTime<Utc>) -> Self {
        self.with_clock(Arc::new(FixedClock(now)))
    }

    /// Now, to the microsecond: instants are stored at PostgreSQL's precision, so what is
    /// answered from memory shows what a later read shows.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn files(&self) -> &FileStore {
        &self.inner.files
    }

    pub fn rules(&self) -> &Rules {
        &self.inner.rules
    }

    pub fn payments(&self) -> &dyn payments::PaymentProvider {
        self.payments.as_ref()
    }

    pub(crate) fn limits(&self) -> &limits::Limits {
        &self.inner.limits
    }

    /// Whether an uploaded file with this SHA-256 is stored: read once, then remembered until
    /// the orphan sweep removes it (an unknown one is asked again next time).
    pub async fn file_stored(&self, sha256: &str) -> ServiceResult<bool> {
        let known = |s: &std::sync::Mutex<std::collections::HashSet<String>>| {
            s.lock().unwrap_or_else(|p| p.into_inner()).contains(sha256)
        };
        if known(&self.inner.stored_files) {
            return Ok(true);
        }
        let stored = motcua_store::repo::files::offered(self.db(), sha256).await?;
        if stored {
            let mut set = self.inner.stored_files.lock().unwrap_or_else(|p| p.into_inner());
            // At most 100k hashes (about 10 MB); past that, start again.
            if set.len() >= 100_000 {
                set.clear();
            }
            set.insert(sha256.to_string());
        }
        Ok(stored)
    }

    /// Forgets that a file is stored (the sweep removed it).
    pub(crate) fn forget_stored(&self, sha256: &str) {
        self.inner
            .stored_files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sha256);
    }

    /// The landing page's dossiers by status: counted at most once per
    /// [`LANDING_COUNTS_TTL`] (counting reads every dossier), one count for every visitor.
    pub async fn dossiers_by_status(&self) -> ServiceResult<Arc<Vec<(motcua_domain::dossier::Status, i64)>>> {
        Ok(self
            .inner
            .landing_counts
            .get_or_try(std::time::Instant::now(), || {
                motcua_store::repo::dossiers::count_by_status(self.db())
            })
            .await?)
    }
}

/// Longest search a list takes, in characters (a longer one is a bad request, not a query
/// the database may refuse: SQLite's LIKE refuses patterns past 50,000 bytes).
pub const MAX_SEARCH_CHARS: usize = 200;

/// A search as the lists take it: trimmed, None when empty, refused when longer than
/// [`MAX_SEARCH_CHARS`].
pub fn search_query(q: Option<&str>) -> ServiceResult<Option<String>> {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) if q.chars().count() > MAX_SEARCH_CHARS => Err(ServiceError::BadRequest(
            motcua_domain::msg!("search.too_long", MAX_SEARCH_CHARS),
        )),
        q => Ok(q.map(str::to_string)),
    }
}

/// Pages of a list from 1 to 100 000: anything else is a bad request.
pub fn check_page(page: Option<u32>) -> ServiceResult<u32> {
    match page.unwrap_or(1) {
        p @ 1..=100_000 => Ok(p),
        _ => Err(ServiceError::BadRequest(motcua_domain::msg!("page_range"))),
    }
}
