//! What every page is laid out with: who is signed in (found once per request by
//! `auth::find_signed_in`, kept in a task-local) and the header built from it (`Chrome`), and
//! the error page. It does not read requests or sessions itself.

use crate::i18n;
use askama::Template;
use axum::http::StatusCode;
use motcua_service::auth::CurrentUser;
use motcua_service::citizens::Citizen;

/// Who the cookies of a page request sign in: an officer, a citizen, both or nobody.
#[derive(Debug, Clone, Default)]
pub struct SignedIn {
    /// The officer of the session cookie.
    pub officer: Option<CurrentUser>,
    /// The citizen of the citizen session cookie, with the session's CSRF token.
    pub citizen: Option<(Citizen, String)>,
    /// Both lookups answered; after a failed one the extractors ask again (and see the error).
    answered: bool,
}

impl SignedIn {
    pub fn new(officer: Option<CurrentUser>, citizen: Option<(Citizen, String)>, answered: bool) -> Self {
        SignedIn {
            officer,
            citizen,
            answered,
        }
    }
}

tokio::task_local! {
    static SIGNED_IN: SignedIn;
}

/// Serves a request with who is signed in on it.
pub async fn with_signed_in<F: std::future::Future>(signed: SignedIn, f: F) -> F::Output {
    SIGNED_IN.scope(signed, f).await
}

/// Who is signed in on the page request being served (nobody outside one).
pub fn signed_in() -> SignedIn {
    SIGNED_IN.try_with(Clone::clone).unwrap_or_default()
}

/// Part of what was found for this request, if both lookups answered (None: ask again).
pub fn known<T>(pick: impl FnOnce(&SignedIn) -> T) -> Option<T> {
    SIGNED_IN.try_with(|s| s.answered.then(|| pick(s))).ok().flatten()
}

/// What the base layout needs: who is signed in, the CSRF tokens of the sign-out forms.
#[derive(Debug, Default, Clone)]
pub struct Chrome {
    /// The signed-in officer's full name.
    pub user_name: Option<String>,
    /// The signed-in officer's username.
    pub username: String,
    /// The officer session's CSRF token (the officers' forms carry it too).
    pub csrf: String,
    pub is_admin: bool,
    /// Holds a role that handles or supervises dossiers.
    pub is_officer: bool,
    /// The signed-in citizen's full name.
    pub citizen_name: Option<String>,
    /// The citizen session's CSRF token, for the header's sign-out form.
    pub citizen_csrf: String,
}

impl Chrome {
    /// The header of the request being served: whoever its cookies sign in.
    pub fn current() -> Self {
        let signed = signed_in();
        let mut chrome = Chrome::default();
        if let Some(u) = &signed.officer {
            chrome.user_name = Some(u.principal.full_name.clone());
            chrome.username = u.principal.username.clone();
            chrome.csrf = u.csrf_token.clone().unwrap_or_default();
            chrome.is_admin = u.is_admin();
            chrome.is_officer = u.is_officer();
        }
        if let Some((c, csrf)) = signed.citizen {
            chrome.citizen_name = Some(c.full_name);
            chrome.citizen_csrf = csrf;
        }
        chrome
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
    status: u16,
}

/// The HTML of an error page (404, 500, …), in the language of the request.
pub fn error_page(status: StatusCode, message: &str) -> Result<String, askama::Error> {
    let title = i18n::t(match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::FORBIDDEN => "error.forbidden",
        StatusCode::UNAUTHORIZED => "error.unauthorized",
        s if s.is_client_error() => "error.bad_request",
        _ => "error.internal",
    });
    ErrorPage {
        chrome: Chrome::current(),
        title,
        message,
        status: status.as_u16(),
    }
    .render()
}
