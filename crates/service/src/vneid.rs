//! National-identity sign-in (VNeID, through the national platform's OpenID Connect single
//! sign-on): authorization code with PKCE, the ID token checked (signature, issuer,
//! audience, expiry, nonce), the personal identification number mapped to a citizen account
//! (created on first sign-in, or linked to an existing account once its password confirms
//! it), and sign-out at the provider too. Owns the provider's port; no HTTP types of the web.

use crate::auth::{constant_time_eq, new_secret, secret_hash};
use crate::citizens::SESSION_HOURS;
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Duration, Utc};
use motcua_domain::identity::{Email, LoginKind, PersonalId, PhoneVn};
use motcua_domain::msg;
use motcua_domain::msg::Msg;
use motcua_store::StoreError;
use motcua_store::repo::{citizens, vneid as repo};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// How long a sign-in may stay at the provider, and a verified identity wait for the
/// citizen to confirm a link.
pub const FLOW_MINUTES: i64 = 10;
/// How long the provider's metadata and keys are kept before they are asked again.
const METADATA_SECONDS: u64 = 300;

/// What a province configures (`--oidc-*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The provider's issuer URL (its discovery document is at
    /// `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// The claim holding the 12-digit personal identification number (`sub` by default).
    pub id_claim: String,
    /// What the sign-in button calls the provider ("VNeID").
    pub label: String,
    /// This site's callback, registered with the provider: PUBLIC_URL/cong-dan/vneid/ve.
    pub redirect_url: String,
    /// Where the provider sends the browser after its sign-out: PUBLIC_URL/.
    pub post_logout_url: String,
}

/// Every claim of the ID token beyond the standard ones, by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub all: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a VNeID sign-in did not go through.
#[derive(Debug)]
pub enum VneidError {
    /// The provider could not be reached or answered nonsense: try again later.
    Unreachable,
    /// The provider's answer was refused (a stale or forged state, a code used already, a
    /// token that fails its checks): start again.
    Refused(Msg),
    /// Anything else, as every use case says it.
    Service(ServiceError),
}

impl From<ServiceError> for VneidError {
    fn from(e: ServiceError) -> Self {
        VneidError::Service(e)
    }
}

impl From<StoreError> for VneidError {
    fn from(e: StoreError) -> Self {
        VneidError::Service(e.into())
    }
}

pub type VneidResult<T> = Result<T, VneidError>;

/// The provider's port: its settings, an HTTP client that follows no redirect, and its
/// metadata and keys, asked when first needed and kept a few minutes.
pub struct Vneid {
    settings: Settings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(std::time::Instant, Arc<ProviderMetadataWithLogout>)>>,
}

impl std::fmt::Debug for Vneid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the client secret.
        f.debug_struct("Vneid")
            .field("issuer", &self.settings.issuer)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl Vneid {
    /// Checks the settings; the provider is not asked until the first sign-in, so motcua
    /// starts while it is down.
    pub fn new(settings: Settings) -> Result<Vneid, String> {
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| format!("--oidc-issuer: {e}"))?;
        if !matches!(issuer.url().scheme(), "http" | "https") {
            return Err("--oidc-issuer must be an http(s) URL".into());
        }
        if settings.client_id.trim().is_empty() {
            return Err("--oidc-client-id is required with --oidc-issuer".into());
        }
        if settings.id_claim.trim().is_empty() {
            return Err("--oidc-id-claim must name a claim".into());
        }
        let redirect =
            RedirectUrl::new(settings.redirect_url.clone()).map_err(|e| format!("the callback URL: {e}"))?;
        let post_logout = PostLogoutRedirectUrl::new(settings.post_logout_url.clone())
            .map_err(|e| format!("the post-logout URL: {e}"))?;
        let http = reqwest::Client::builder()
            // Following redirects would let the provider's answers point us anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Vneid {
            settings,
            issuer,
            redirect,
            post_logout,
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// What the sign-in button calls the provider.
    pub fn label(&self) -> &str {
        &self.settings.label
    }

    /// The provider's metadata and keys; `fresh` asks again even if some are kept (the
    /// provider may have rotated its keys).
    async fn metadata(&self, fresh: bool) -> VneidResult<Arc<ProviderMetadataWithLogout>> {
        let mut kept = self.metadata.lock().await;
        if let Some((at, m)) = kept.as_ref()
            && !fresh
            && at.elapsed().as_secs() < METADATA_SECONDS
        {
            return Ok(m.clone());
        }
        match ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http).await {
            Ok(m) => {
                let m = Arc::new(m);
                *kept = Some((std::time::Instant::now(), m.clone()));
                Ok(m)
            }
            Err(e) => {
                tracing::warn!(error = %e, source = ?std::error::Error::source(&e), issuer = %self.settings.issuer, "VNeID discovery failed");
                Err(VneidError::Unreachable)
            }
        }
    }

    fn client(&self, m: &ProviderMetadataWithLogout) -> OidcClient {
        let secret = (!self.settings.client_secret.is_empty())
            .then(|| ClientSecret::new(self.settings.client_secret.clone()));
        OidcClient::from_provider_metadata(m.clone(), ClientId::new(self.settings.client_id.clone()), secret)
            .set_redirect_uri(self.redirect.clone())
    }

    /// The provider's sign-out address for a session opened with `id_token`, if it has one.
    async fn end_session_url(&self, id_token: &str) -> Option<String> {
        let m = self.metadata(false).await.ok()?;
        let endpoint = m.additional_metadata().end_session_endpoint.clone()?;
        let hint: openidconnect::core::CoreIdToken = id_token.parse().ok()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_id_token_hint(&hint)
                .set_client_id(ClientId::new(self.settings.client_id.clone()))
                .set_post_logout_redirect_uri(self.post_logout.clone())
                .http_get_url()
                .to_string(),
        )
    }
}

/// Where a sign-in sends the browser: the provider's authorization address, and the secret
/// the browser keeps (a short-lived cookie) to come back with.
pub struct Started {
    pub secret: String,
    pub authorize_url: String,
}

/// How a VNeID sign-in ended.
pub enum Finished {
    /// Signed in: the new session's secret, whether the account was created now, and where to go.
    SignedIn {
        session: String,
        created: bool,
        next: String,
    },
    /// An account must confirm the link first (its password): the secret of the pending link.
    ConfirmLink { secret: String },
}

/// A link waiting for confirmation, as its page shows it.
pub struct PendingLink {
    /// The account's login (a phone or an e-mail), to say which account it is.
    pub login: String,
    /// The name VNeID gave.
    pub full_name: String,
}

/// What the provider vouched for.
struct Identity {
    personal_id: PersonalId,
    full_name: String,
    phone: Option<PhoneVn>,
    email: Option<Email>,
    id_token: String,
}

fn refused(reason: &str, detail: impl std::fmt::Display) -> VneidError {
    tracing::warn!(%detail, "VNeID sign-in refused: {reason}");
    match reason {
        "state" => VneidError::Refused(msg!("vneid.state")),
        "denied" => VneidError::Refused(msg!("vneid.denied")),
        "code" => VneidError::Refused(msg!("vneid.code")),
        "no_id" => VneidError::Refused(msg!("vneid.no_id")),
        _ => VneidError::Refused(msg!("vneid.token")),
    }
}

/// A string claim: a standard one by its accessor, any other from the extra claims.
fn claim_text(all: &HashMap<String, serde_json::Value>, name: &str) -> Option<String> {
    match all.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Services {
    /// Starts a VNeID sign-in (or, with `link_to`, the link of a signed-in citizen's
    /// account): state, PKCE verifier and nonce kept for `FLOW_MINUTES`; the provider must
    /// be reachable.
    pub async fn vneid_start(&self, v: &Vneid, link_to: Option<i64>, next: &str) -> VneidResult<Started> {
        let m = v.metadata(false).await?;
        let client = v.client(&m);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in &v.settings.scopes {
            if s != "openid" {
                request = request.add_scope(Scope::new(s.clone()));
            }
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let secret = new_secret();
        let now = self.now();
        let flow = repo::Flow {
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            link_to,
            next_path: next.to_string(),
            expires_at: now + Duration::minutes(FLOW_MINUTES),
        };
        let mut tx = self.db().begin().await?;
        repo::add_flow(&mut tx, &secret_hash(&secret), &flow, now).await?;
        tx.commit().await?;
        Ok(Started {
            secret,
            authorize_url: url.to_string(),
        })
    }

    /// The provider's answer at the callback: `secret` from the browser's cookie, `state`,
    /// and `code` or the provider's `error`. Nothing is written unless everything checks.
    pub async fn vneid_finish(
        &self,
        v: &Vneid,
        secret: &str,
        state: &str,
        code: &str,
        error: Option<&str>,
    ) -> VneidResult<Finished> {
        let now = self.now();
        // The sign-in in flight is used once, whatever comes of it.
        let flow = {
            let mut tx = self.db().begin().await?;
            let flow = repo::take_flow(&mut tx, &secret_hash(secret)).await?;
            tx.commit().await?;
            flow
        };
        let Some(flow) = flow.filter(|f| f.expires_at > now) else {
            return Err(refused("state", "no sign-in in flight for this browser"));
        };
        if state.is_empty() || !constant_time_eq(flow.state.as_bytes(), state.as_bytes()) {
            return Err(refused("state", "the state differs"));
        }
        if let Some(e) = error {
            return Err(refused("denied", e));
        }
        if code.is_empty() {
            return Err(refused("code", "no code"));
        }
        let id = self.vneid_identity(v, &flow, code, now).await?;
        self.vneid_account(&id, &flow, now).await
    }

    /// Exchanges the code and checks the ID token.
    async fn vneid_identity(
        &self,
        v: &Vneid,
        flow: &repo::Flow,
        code: &str,
        now: DateTime<Utc>,
    ) -> VneidResult<Identity> {
        let m = v.metadata(false).await?;
        let client = v.client(&m);
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| refused("token", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()));
        let tokens = match exchange.request_async(&v.http).await {
            Ok(t) => t,
            Err(RequestTokenError::ServerResponse(e)) => return Err(refused("code", e)),
            Err(RequestTokenError::Request(e)) => {
                tracing::warn!(error = %e, "VNeID token endpoint unreachable");
                return Err(VneidError::Unreachable);
            }
            Err(e) => return Err(refused("token", e)),
        };
        let id_token = tokens.id_token().ok_or_else(|| refused("token", "no ID token"))?;
        let nonce = Nonce::new(flow.nonce.clone());
        let verify = |client: &OidcClient| {
            let verifier = client.id_token_verifier().set_time_fn(move || now);
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match verify(&client) {
            Ok(c) => c,
            // A key not known yet: the provider may have rotated its keys; ask once more.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let m = v.metadata(true).await?;
                verify(&v.client(&m)).map_err(|e| refused("token", e))?
            }
            Err(e) => return Err(refused("token", e)),
        };
        let extra = &claims.additional_claims().all;
        let raw_id = match v.settings.id_claim.as_str() {
            "sub" => Some(claims.subject().as_str().to_string()),
            name => claim_text(extra, name),
        };
        let personal_id = raw_id
            .as_deref()
            .and_then(|s| PersonalId::parse(s).ok())
            .ok_or_else(|| {
                refused(
                    "no_id",
                    format!(
                        "claim {} is not a personal identification number",
                        v.settings.id_claim
                    ),
                )
            })?;
        let full_name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| personal_id.as_str().to_string());
        let phone = claims
            .phone_number()
            .and_then(|p| PhoneVn::parse(p.as_str()).ok());
        let email = claims.email().and_then(|e| Email::parse(e.as_str()).ok());
        Ok(Identity {
            personal_id,
            full_name,
            phone,
            email,
            id_token: id_token.to_string(),
        })
    }

    /// Signs the identity in to its account, creates one, or asks to confirm a link: one
    /// transaction.
    async fn vneid_account(
        &self,
        id: &Identity,
        flow: &repo::Flow,
        now: DateTime<Utc>,
    ) -> VneidResult<Finished> {
        let pid = id.personal_id.as_str();
        let linked = repo::citizen_of(self.db(), pid).await?;
        let pending = |citizen_id: i64| repo::Pending {
            citizen_id,
            personal_id: pid.to_string(),
            full_name: id.full_name.clone(),
            id_token: id.id_token.clone(),
            next_path: flow.next_path.clone(),
            expires_at: now + Duration::minutes(FLOW_MINUTES),
        };
        let mut tx = self.db().begin().await?;
        let (citizen_id, created) = match (flow.link_to, linked) {
            // A signed-in citizen linking their account: to no one else's identity.
            (Some(me), Some(other)) if other != me => {
                return Err(VneidError::Refused(msg!("vneid.linked_elsewhere")));
            }
            (Some(me), None) => {
                if repo::personal_id_of(self.db(), me).await?.is_some() {
                    return Err(VneidError::Refused(msg!("vneid.linked_elsewhere")));
                }
                let secret = new_secret();
                repo::add_pending(&mut tx, &secret_hash(&secret), &pending(me)).await?;
                tx.commit().await?;
                return Ok(Finished::ConfirmLink { secret });
            }
            (_, Some(known)) => (known, false),
            (None, None) => {
                // An account of the phone or e-mail VNeID gave: linked once its owner confirms.
                let logins = [
                    id.phone.as_ref().map(|p| p.as_str().to_string()),
                    id.email.as_ref().map(|e| e.as_str().to_string()),
                ];
                for login in logins.iter().flatten() {
                    if let Some(c) = citizens::by_login(self.db(), login).await? {
                        if repo::personal_id_of(self.db(), c.id).await?.is_some() {
                            return Err(VneidError::Refused(msg!("vneid.login_linked_elsewhere")));
                        }
                        let secret = new_secret();
                        repo::add_pending(&mut tx, &secret_hash(&secret), &pending(c.id)).await?;
                        tx.commit().await?;
                        return Ok(Finished::ConfirmLink { secret });
                    }
                }
                let (login, kind) = match (&id.phone, &id.email) {
                    (Some(p), _) => (p.as_str(), LoginKind::Phone),
                    (None, Some(e)) => (e.as_str(), LoginKind::Email),
                    (None, None) => return Err(VneidError::Refused(msg!("vneid.no_contact"))),
                };
                let created = repo::create_citizen(&mut tx, login, kind, &id.full_name, now).await?;
                repo::link(&mut tx, pid, created, now).await?;
                (created, true)
            }
        };
        let session = new_session(&mut tx, citizen_id, &id.id_token, now).await?;
        tx.commit().await?;
        Ok(Finished::SignedIn {
            session,
            created,
            next: flow.next_path.clone(),
        })
    }

    /// The link waiting for confirmation under this secret, if it is still live.
    pub async fn vneid_pending(&self, secret: &str) -> ServiceResult<Option<PendingLink>> {
        let Some(p) = repo::pending(self.db(), &secret_hash(secret)).await? else {
            return Ok(None);
        };
        if p.expires_at <= self.now() {
            return Ok(None);
        }
        let Some(c) = citizens::by_id(self.db(), p.citizen_id).await? else {
            return Ok(None);
        };
        Ok(Some(PendingLink {
            login: c.login,
            full_name: p.full_name,
        }))
    }

    /// Confirms a pending link with the account's password (throttled like a sign-in):
    /// links, confirms the account and signs it in; the new session's secret and where to go.
    pub async fn vneid_confirm_link(
        &self,
        secret: &str,
        password: &str,
        client: &str,
    ) -> VneidResult<(String, String)> {
        let gone = || VneidError::Refused(msg!("vneid.state"));
        let hash = secret_hash(secret);
        let now = self.now();
        let p = repo::pending(self.db(), &hash)
            .await?
            .filter(|p| p.expires_at > now)
            .ok_or_else(gone)?;
        let c = citizens::by_id(self.db(), p.citizen_id).await?.ok_or_else(gone)?;
        let key = format!("citizen:{}", c.login);
        let throttle = &self.limits().login;
        throttle
            .check(&key, client)
            .map_err(|wait| ServiceError::TooMany {
                msg: msg!("citizen.too_many", wait.div_ceil(60)),
                wait_seconds: wait,
            })?;
        let (pw, stored) = (password.to_string(), c.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || crate::auth::password::verify(&pw, &stored))
            .await
            .map_err(ServiceError::from)?;
        if !ok {
            throttle.failed(&key, client);
            return Err(ServiceError::invalid("password", msg!("vneid.wrong_password")).into());
        }
        throttle.succeeded(&key, client);
        let mut tx = self.db().begin().await?;
        if !repo::remove_pending(&mut tx, &hash).await? {
            return Err(gone());
        }
        match repo::link(&mut tx, &p.personal_id, c.id, now).await {
            Err(StoreError::Conflict(_)) => return Err(VneidError::Refused(msg!("vneid.linked_elsewhere"))),
            other => other?,
        }
        citizens::mark_verified(&mut tx, c.id, now).await?;
        let session = new_session(&mut tx, c.id, &p.id_token, now).await?;
        tx.commit().await?;
        Ok((session, p.next_path))
    }

    /// The personal identification number a citizen's account is linked to.
    pub async fn vneid_link_of(&self, citizen_id: i64) -> ServiceResult<Option<String>> {
        Ok(repo::personal_id_of(self.db(), citizen_id).await?)
    }

    /// Ends a citizen's session; for one opened with VNeID, the provider's sign-out address
    /// (with the ID token as hint) to send the browser to, when the provider is configured
    /// and says where it is.
    pub async fn vneid_sign_out(
        &self,
        v: Option<&Vneid>,
        session_secret: &str,
    ) -> ServiceResult<Option<String>> {
        let mut tx = self.db().begin().await?;
        let id_token = repo::end_session(&mut tx, &secret_hash(session_secret)).await?;
        tx.commit().await?;
        match (v, id_token) {
            (Some(v), Some(t)) => Ok(v.end_session_url(&t).await),
            _ => Ok(None),
        }
    }
}

/// Opens a session for a citizen signed in with VNeID: its secret.
async fn new_session(
    tx: &mut motcua_store::Tx,
    citizen_id: i64,
    id_token: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let secret = new_secret();
    let hash = secret_hash(&secret);
    citizens::create_session(
        tx,
        &hash,
        citizen_id,
        &new_secret(),
        now,
        now + Duration::hours(SESSION_HOURS),
    )
    .await?;
    repo::mark_session(tx, &hash, id_token).await?;
    Ok(secret)
}
