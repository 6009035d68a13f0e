//! The national-identity sign-in's flags (`--oidc-*`): the OpenID Connect provider citizens
//! sign in with (VNeID through the national platform's single sign-on). Without an issuer
//! nothing changes: citizens use motcua's own accounts only.

use clap::Args;
use motcua_service::vneid::{Settings, Vneid};
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// Issuer URL of the national identity provider (OpenID Connect), e.g. the national
    /// portal's single sign-on. Its discovery document is read when a citizen first signs
    /// in with it. Without it there is no "Đăng nhập bằng VNeID".
    #[arg(long, env = "MOTCUA_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Client id registered with the provider.
    #[arg(long, env = "MOTCUA_OIDC_CLIENT_ID", default_value = "", global = true)]
    pub oidc_client_id: String,

    /// Client secret registered with the provider (sent with HTTP Basic to its token endpoint).
    #[arg(
        long,
        env = "MOTCUA_OIDC_CLIENT_SECRET",
        default_value = "",
        global = true,
        hide_env_values = true
    )]
    pub oidc_client_secret: String,

    /// Scopes asked for, space- or comma-separated; `openid` is always asked. Add `phone`
    /// and `email` where the provider gives them: a first sign-in creates the account from
    /// the phone number or e-mail it vouches for.
    #[arg(
        long,
        env = "MOTCUA_OIDC_SCOPES",
        default_value = "openid profile",
        global = true
    )]
    pub oidc_scopes: String,

    /// The ID token's claim holding the citizen's 12-digit personal identification number
    /// (số định danh cá nhân). Default `sub`: the national platform identifies a citizen by it.
    #[arg(long, env = "MOTCUA_OIDC_ID_CLAIM", default_value = "sub", global = true)]
    pub oidc_id_claim: String,

    /// What the sign-in button calls the provider.
    #[arg(long, env = "MOTCUA_OIDC_LABEL", default_value = "VNeID", global = true)]
    pub oidc_label: String,
}

impl OidcArgs {
    /// The provider's port for a site served at `public_url` (its callback is
    /// PUBLIC_URL/cong-dan/vneid/ve); None without an issuer. An error is a usage error's
    /// one line.
    pub fn vneid(&self, public_url: &str) -> Result<Option<Arc<Vneid>>, String> {
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let scopes: Vec<String> = self
            .oidc_scopes
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let settings = Settings {
            issuer: issuer.to_string(),
            client_id: self.oidc_client_id.trim().to_string(),
            client_secret: self.oidc_client_secret.clone(),
            scopes,
            id_claim: self.oidc_id_claim.trim().to_string(),
            label: self.oidc_label.trim().to_string(),
            redirect_url: format!("{public_url}/cong-dan/vneid/ve"),
            post_logout_url: format!("{public_url}/"),
        };
        Vneid::new(settings).map(|v| Some(Arc::new(v)))
    }
}
