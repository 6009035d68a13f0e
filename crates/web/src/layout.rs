//! What every page is laid out with: the signed-in user and CSRF token in the header
//! (`Chrome`), and the error page.

use crate::i18n;
use askama::Template;
use axum::http::StatusCode;
use motcua_service::auth::CurrentUser;

/// What the base layout needs: who is signed in, the CSRF token for the logout form.
#[derive(Debug, Default, Clone)]
pub struct Chrome {
    pub user_name: Option<String>,
    pub csrf: String,
    pub is_admin: bool,
    /// Holds a role that handles or supervises dossiers.
    pub is_officer: bool,
}

impl Chrome {
    pub fn of(user: Option<&CurrentUser>) -> Self {
        match user {
            None => Chrome::default(),
            Some(u) => Chrome {
                user_name: Some(u.principal.full_name.clone()),
                csrf: u.csrf_token.clone().unwrap_or_default(),
                is_admin: u.is_admin(),
                is_officer: u.is_officer(),
            },
        }
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
        chrome: Chrome::default(),
        title,
        message,
        status: status.as_u16(),
    }
    .render()
}
