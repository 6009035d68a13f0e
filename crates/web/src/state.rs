//! Shared state handed to every handler.

use crate::metrics::Metrics;
use motcua_store::Db;
use std::sync::Arc;

/// A demo login shown on the landing page when running `motcua demo`.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: String,
    pub role_label: String,
    pub username: String,
    pub password: String,
    pub agency: String,
}

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Demo accounts listed on the landing page (empty outside demo mode).
    pub demo_accounts: Vec<DemoAccount>,
    /// Mark session cookies `Secure` (set when serving behind HTTPS).
    pub secure_cookies: bool,
    /// Where content-addressed files live (`DATA_DIR/files`).
    pub data_dir: std::path::PathBuf,
    /// Configurable rules of the dossier lifecycle.
    pub rules: Rules,
    /// The public base URL printed in QR codes (e.g. `https://dichvucong.example.gov.vn`);
    /// empty: links are relative to the server that printed them.
    pub public_url: String,
}

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
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_supplements: 1,
            online_accept_hours: 8,
            lookups_per_minute: 60,
            lookup_cache_seconds: 5,
        }
    }
}

/// What every request handler reads: the database, caches, limits, configuration. Cloned per
/// request by axum's extractors, so it is one shared pointer (`AppStateInner`).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub db: Db,
    /// Agencies, calendar and catalog in memory, checked against one stamp per request.
    pub reference: Arc<crate::reference::ReferenceCache>,
    pub files: motcua_store::repo::files::FileStore,
    pub login_throttle: Arc<crate::auth::throttle::Throttle>,
    /// Public lookups per client address (per minute) and failed verifications per dossier.
    pub lookup_limits: Arc<crate::public::LookupLimits>,
    /// Public lookup answers kept in memory.
    pub lookup_cache: Arc<crate::public::LookupCache>,
    /// Uploaded files known to be stored (files are never deleted, so a yes stays true).
    stored_files: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// One-time codes sent per login (registration, reset): against message flooding.
    pub code_limits: Arc<crate::ratelimit::Limiter>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<WebConfig>,
    /// Where citizens pay fees (the built-in sandbox until a real adapter is configured).
    pub payments: Arc<dyn crate::payments::PaymentProvider>,
    /// The landing page's dossiers by status, counted at most once per `LANDING_COUNTS_TTL`.
    pub landing_counts: crate::recent::Recent<Vec<(motcua_domain::dossier::Status, i64)>>,
}

/// How old the landing page's dossiers by status may be.
pub const LANDING_COUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl AppState {
    /// Whether an uploaded file with this SHA-256 is stored: read once, then remembered (a
    /// stored file is never removed; an unknown one is asked again next time).
    pub async fn file_stored(&self, sha256: &str) -> motcua_store::StoreResult<bool> {
        if self
            .stored_files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(sha256)
        {
            return Ok(true);
        }
        let stored = motcua_store::repo::files::meta(&self.db, sha256).await?.is_some();
        if stored {
            let mut set = self.stored_files.lock().unwrap_or_else(|p| p.into_inner());
            // At most 100k hashes (about 10 MB); past that, start again.
            if set.len() >= 100_000 {
                set.clear();
            }
            set.insert(sha256.to_string());
        }
        Ok(stored)
    }

    /// Counts a one-time code sent to `login`; Err(seconds) past 5 an hour.
    pub fn lookup_limits_register(&self, login: &str) -> Result<(), u64> {
        self.code_limits.hit(login)
    }

    pub fn new(db: Db, config: WebConfig) -> Self {
        Self(Arc::new(AppStateInner {
            db,
            reference: Default::default(),
            files: motcua_store::repo::files::FileStore::new(&config.data_dir),
            login_throttle: Default::default(),
            lookup_limits: Arc::new(crate::public::LookupLimits::new(config.rules.lookups_per_minute)),
            lookup_cache: Arc::new(crate::public::LookupCache::new(std::time::Duration::from_secs(
                config.rules.lookup_cache_seconds.into(),
            ))),
            stored_files: Default::default(),
            code_limits: Arc::new(crate::ratelimit::Limiter::new(
                5,
                std::time::Duration::from_secs(3600),
            )),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            payments: Arc::new(crate::payments::Sandbox),
            landing_counts: crate::recent::Recent::new(LANDING_COUNTS_TTL),
        }))
    }
}
