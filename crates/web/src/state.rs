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
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub metrics: Arc<Metrics>,
    pub config: Arc<WebConfig>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> Self {
        Self {
            db,
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
        }
    }
}
