//! Cookies: reading one from a request, and the one way every `Set-Cookie` is written (the
//! session cookies, the forms' CSRF cookies, the language choice).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// A cookie to set.
#[derive(Debug, Clone, Copy)]
pub struct Cookie<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// The path it is sent back to.
    pub path: &'a str,
    /// Seconds it lives; 0 clears it.
    pub max_age: i64,
    /// `SameSite=Strict` (a form's CSRF token) rather than `Lax` (sessions, language).
    pub strict: bool,
    /// Hidden from scripts (everything but the language choice).
    pub http_only: bool,
}

impl<'a> Cookie<'a> {
    /// A session-like cookie: path `/`, HttpOnly, SameSite=Lax.
    pub fn new(name: &'a str, value: &'a str, max_age: i64) -> Self {
        Cookie {
            name,
            value,
            path: "/",
            max_age,
            strict: false,
            http_only: true,
        }
    }

    /// A form's CSRF cookie: sent back only to `path`, SameSite=Strict.
    pub fn form(name: &'a str, value: &'a str, path: &'a str, max_age: i64) -> Self {
        Cookie {
            path,
            strict: true,
            ..Cookie::new(name, value, max_age)
        }
    }

    /// The `Set-Cookie` header value; `Secure` when the site is served over HTTPS.
    pub fn header(&self, secure: bool) -> String {
        format!(
            "{}={}; Path={}{}; SameSite={}; Max-Age={}{}",
            self.name,
            self.value,
            self.path,
            if self.http_only { "; HttpOnly" } else { "" },
            if self.strict { "Strict" } else { "Lax" },
            self.max_age,
            if secure { "; Secure" } else { "" }
        )
    }
}

/// The value of a cookie the request carries.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_written_one_way() {
        assert_eq!(
            Cookie::new("motcua_session", "abc", 36000).header(false),
            "motcua_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=36000"
        );
        assert_eq!(
            Cookie::form("motcua_login_csrf", "t", "/login", 3600).header(true),
            "motcua_login_csrf=t; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
        );
        let lang = Cookie {
            http_only: false,
            ..Cookie::new("motcua_lang", "en", 31536000)
        };
        assert_eq!(
            lang.header(false),
            "motcua_lang=en; Path=/; SameSite=Lax; Max-Age=31536000"
        );
    }

    #[test]
    fn a_cookie_is_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; motcua_lang=en".parse().unwrap());
        h.append(COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, "motcua_lang"), Some("en"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
