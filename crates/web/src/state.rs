//! Shared state handed to every handler: the use cases (`Services`), what only the web needs
//! (demo accounts shown, cookie flags, the public URL) and the request metrics.

use crate::metrics::Metrics;
use motcua_service::Services;
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

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Demo accounts listed on the landing page (empty outside demo mode).
    pub demo_accounts: Vec<DemoAccount>,
    /// Mark session cookies `Secure` (set when serving behind HTTPS).
    pub secure_cookies: bool,
    /// The public base URL printed in QR codes (e.g. `https://dichvucong.example.gov.vn`);
    /// empty: links are relative to the server that printed them.
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); from
    /// anyone else the header is ignored and the client is the socket's peer.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A request (its body included) must be answered within this, or it is a 408.
    pub request_timeout: std::time::Duration,
    /// Where one-time codes go when no SMS or e-mail service delivers them (the outbox
    /// folder): the pages that ask for a code say so. None: they are delivered.
    pub codes_to: Option<String>,
    /// The national portal's pushes of dossiers (`--dvcqg-inbound-token`); None: the
    /// endpoint answers 404.
    pub dvcqg_inbound: Option<motcua_service::dvcqg_inbound::Inbound>,
    /// The national identity provider (VNeID) citizens may sign in with (`--oidc-issuer`).
    pub vneid: Option<std::sync::Arc<motcua_service::vneid::Vneid>>,
}

/// Longest a request may take by default (`--request-timeout-seconds`).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            demo_accounts: Vec::new(),
            secure_cookies: false,
            public_url: String::new(),
            trusted_proxies: Vec::new(),
            request_timeout: REQUEST_TIMEOUT,
            codes_to: None,
            dvcqg_inbound: None,
            vneid: None,
        }
    }
}

/// What every request handler reads. Cloned per request by axum's extractors, so it is one
/// shared pointer.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub services: Services,
    pub metrics: Metrics,
    pub config: WebConfig,
}

impl AppState {
    pub fn new(services: Services, config: WebConfig) -> Self {
        Self(Arc::new(AppStateInner {
            services,
            metrics: Metrics::default(),
            config,
        }))
    }

    /// The `Set-Cookie` value of a cookie, `Secure` when configured.
    pub fn set_cookie(&self, c: crate::cookies::Cookie<'_>) -> String {
        c.header(self.config.secure_cookies)
    }
}
