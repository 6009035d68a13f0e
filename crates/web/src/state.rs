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
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub calendar: Arc<crate::legal_time::CalendarCache>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<WebConfig>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> Self {
        Self {
            db,
            calendar: Default::default(),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
        }
    }
}
