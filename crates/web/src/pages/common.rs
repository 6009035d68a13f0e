//! What every page shares: instants and dates as people write them, query parameters, list
//! addresses and pagers, form error summaries, CSRF tokens of forms, the answers a form
//! gives (redirect, form shown again, refusal) and the error page.

use crate::AppState;
use crate::cookies::{Cookie, cookie};
use crate::error::PageError;
use crate::i18n;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar;
use motcua_domain::dossier::Status;
use motcua_domain::dossier::machine::Action;
use motcua_service::auth::{CurrentUser, constant_time_eq, new_secret};
use motcua_service::{Lang, ServiceError};
use motcua_store::repo::files::FileMeta;
use std::collections::HashMap;

/// An instant on the legal clock (UTC+7) as officers write it: "14:05 27/10/2025".
pub fn when(t: DateTime<Utc>) -> String {
    calendar::to_local(t).format("%H:%M %d/%m/%Y").to_string()
}

/// Like `when`, with "—" for nothing.
pub fn when_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(when).unwrap_or_else(|| "—".into())
}

/// Like `when`, empty for nothing.
pub fn when_or_empty(t: Option<DateTime<Utc>>) -> String {
    t.map(when).unwrap_or_default()
}

/// A date as Vietnamese write it: "27/10/2025".
pub fn date_vi(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The first value of a query parameter, trimmed ("" when absent).
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// Deepest indentation the stylesheet has classes for (`depth-0` … `depth-6`): the pages
/// carry no inline style, which the Content-Security-Policy forbids.
pub const MAX_DEPTH_SHOWN: usize = 6;

/// Text fields of a multipart form (the JSON and url-encoded bodies are checked before any
/// handler, `text_guard`): a NUL character in any is a 400 page, never stored.
pub fn refuse_nul<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<(), PageError> {
    match texts.into_iter().any(|t| t.contains('\0')) {
        true => Err(PageError::new(
            StatusCode::BAD_REQUEST,
            motcua_domain::msg!("text.nul").text(Lang::Vi),
        )),
        false => Ok(()),
    }
}

/// Where to go back to after signing in: a path of this site, or "/". Browsers drop tabs and
/// line breaks from an address and read `\` as `/`, so `/%09/evil.example/` (decoded:
/// `/`, a tab, `/evil.example/`) would leave the site: anything but printable ASCII without
/// `\`, or a second leading `/`, gives "/".
pub fn same_site_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next[1..].starts_with('/')
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if local { next } else { "/" }
}

/// The last value of a query parameter, trimmed ("" when absent): where a form's own fields
/// come after the ones its links carry (the report form).
pub fn last_param<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

pub use crate::urls::url_encode;

/// The address of a list page with these filters (empty ones left out).
pub fn list_url(base: &str, filters: &[(&str, &str)], page: u32) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// The previous and next pages of a list, where there are.
pub fn pager(
    base: &str,
    filters: &[(&str, &str)],
    page: u32,
    pages: u64,
) -> (Option<String>, Option<String>) {
    let prev = (page > 1).then(|| list_url(base, filters, page - 1));
    let next = (u64::from(page) < pages).then(|| list_url(base, filters, page + 1));
    (prev, next)
}

/// The number of pages of `per_page` for a total (at least one).
pub fn page_count(total: i64, per_page: u32) -> u64 {
    u64::try_from(total)
        .unwrap_or(0)
        .div_ceil(u64::from(per_page))
        .max(1)
}

/// A page number from the query: empty is page 1, anything else must be 1–100 000.
pub fn page_number(p: &str) -> Result<u32, PageError> {
    match p.trim() {
        "" => Ok(1),
        p => p
            .parse::<u32>()
            .ok()
            .and_then(|p| motcua_service::check_page(Some(p)).ok())
            .ok_or_else(|| PageError::new(StatusCode::BAD_REQUEST, i18n::t1("public.bad_page", p))),
    }
}

/// One line of a form's error summary, linking to the field it is about.
#[derive(Debug, Clone)]
pub struct ErrorItem {
    pub anchor: String,
    pub text: String,
}

/// A form's error summary: shown at the top, each one next to its field too.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<ErrorItem>);

impl Errors {
    pub fn push(&mut self, anchor: impl Into<String>, text: impl Into<String>) {
        self.0.push(ErrorItem {
            anchor: anchor.into(),
            text: text.into(),
        });
    }

    /// The message of one field, for the inline message next to it.
    pub fn for_field(&self, anchor: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.anchor == anchor)
            .map(|e| e.text.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ErrorItem> {
        self.0.iter()
    }

    /// A refusal of the services as a form shows it, in a language (the officers' pages stay
    /// Vietnamese): each invalid field where `anchor` puts it; anything else as one line at
    /// `fallback`.
    pub fn of(e: &ServiceError, lang: Lang, anchor: impl Fn(&str) -> String, fallback: &str) -> Errors {
        let mut out = Errors::default();
        match e {
            ServiceError::Invalid(list) => {
                for f in list {
                    out.push(anchor(&f.path), f.msg.text(lang));
                }
            }
            other => out.push(fallback, crate::error::page_message(other, lang)),
        }
        out
    }
}

impl Errors {
    /// Invalid fields as an admin form's summary says them, "Label: message", each at the
    /// anchor of its field; None when the refusal is not about the input.
    pub fn labelled(
        e: &ServiceError,
        anchor: impl Fn(&str) -> String,
        label: impl Fn(&str) -> String,
    ) -> Option<Errors> {
        let ServiceError::Invalid(list) = e else {
            return None;
        };
        let mut out = Errors::default();
        for f in list {
            out.push(
                anchor(&f.path),
                format!("{}: {}", label(&f.path), f.msg.text(Lang::Vi)),
            );
        }
        Some(out)
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a ErrorItem;
    type IntoIter = std::slice::Iter<'a, ErrorItem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The status a form shown again with a refusal answers: the refusal's own, 422 for invalid
/// input.
pub fn refusal_status(e: &ServiceError) -> StatusCode {
    crate::error::status_of(e)
}

/// A form shown again because its input was refused.
pub fn unprocessable(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

/// A 303 See Other to a local path: where every successful form POST goes next.
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// A request a page cannot answer: a parameter it does not know.
pub fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

/// The refusal of a form whose CSRF token is missing, wrong or expired.
pub fn csrf_rejected() -> PageError {
    PageError::new(StatusCode::FORBIDDEN, i18n::t("form.csrf"))
}

/// The signed-in officer is an administrator, or the page is forbidden.
pub fn require_admin(user: &CurrentUser) -> Result<(), PageError> {
    user.require_admin().map_err(PageError::from)
}

/// A form that carries nothing but its CSRF token (sign-out, delete, revoke).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The CSRF token of a form shown to someone without a session: a fresh secret, also set
/// in a cookie sent back only to `path` (double submit).
pub struct FormToken {
    pub token: String,
    pub set_cookie: String,
}

impl FormToken {
    pub fn new(state: &AppState, cookie_name: &str, path: &str, max_age: i64) -> Self {
        let token = new_secret();
        let set_cookie = state.set_cookie(Cookie::form(cookie_name, &token, path, max_age));
        FormToken { token, set_cookie }
    }
}

/// The token a form sent matches the one in its cookie.
pub fn form_token_ok(headers: &HeaderMap, cookie_name: &str, submitted: &str) -> bool {
    cookie(headers, cookie_name)
        .is_some_and(|c| !c.is_empty() && constant_time_eq(c.as_bytes(), submitted.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Labels of stored values, as the dossier pages show them.

/// The instant of a stored event (`2025-10-27T07:05:00.000000Z`).
pub fn event_instant(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at).ok().map(|t| t.to_utc())
}

/// The Vietnamese label of a stored status.
pub fn status_vi(status: &str) -> &'static str {
    status
        .parse::<Status>()
        .map(Status::label_vi)
        .unwrap_or("Không rõ")
}

/// The Vietnamese label of an event's action (intake events are not `Action`s).
pub fn event_action_vi(action: &str) -> &'static str {
    match action {
        "receive" => "Tiếp nhận hồ sơ tại bộ phận một cửa",
        "submit_online" => "Nộp hồ sơ trực tuyến",
        other => other
            .parse::<Action>()
            .map(Action::label_vi)
            .unwrap_or("Thao tác khác"),
    }
}

/// A step's timing (`motcua_service::dossiers::step_timing`) in Vietnamese, in the official
/// words: finished "Trước hạn / Đúng hạn / Quá hạn", in process "Trong hạn / Quá hạn".
pub fn timing_vi(timing: &str) -> &'static str {
    match timing {
        "early" => "Trước hạn",
        "on_time" => "Đúng hạn",
        "late" => "Quá hạn",
        "within_time" => "Trong hạn",
        "overdue" => "Quá hạn",
        _ => "",
    }
}

/// Usernames to full names (for the event log and the control sheet).
pub async fn full_names(state: &AppState) -> Result<HashMap<String, String>, PageError> {
    Ok(motcua_store::repo::users::list(state.services.db(), None)
        .await?
        .into_iter()
        .map(|u| (u.username, u.full_name))
        .collect())
}

/// "Full Name (username)", or the username when unknown; who is not an officer (a citizen,
/// the system) in Vietnamese.
pub fn person(names: &HashMap<String, String>, username: &str) -> String {
    match names.get(username) {
        Some(full) if !full.is_empty() => format!("{full} ({username})"),
        _ => actor_vi(username).unwrap_or_else(|| username.to_string()),
    }
}

/// How the event logs name someone who is not an officer (`citizen`, `citizen:LOGIN`,
/// `guest`, `system`), as a Vietnamese page says it; None for an officer's username.
pub fn actor_vi(actor: &str) -> Option<String> {
    match actor {
        "citizen" | "guest" => Some("Công dân".into()),
        "system" => Some("Hệ thống".into()),
        _ => actor
            .strip_prefix("citizen:")
            .map(|login| format!("Công dân ({login})")),
    }
}

// ---------------------------------------------------------------------------------------
// Files.

/// Whether a path segment is a file's SHA-256 (lower-case hex).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Percent-encodes a filename for `filename*=UTF-8''…` (RFC 8187): only unreserved
/// characters stay as they are.
pub fn rfc8187(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A stored file as a download under its own name; `private` ones (a citizen's scans and
/// results) are never kept by caches.
pub fn file_response(meta: &FileMeta, bytes: Vec<u8>, private: bool) -> Response {
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename*=UTF-8''{}",
        rfc8187(&meta.filename)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response();
    if private {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        for ok in [
            "/",
            "/ho-so?inbox=mine",
            "/admin/users/an%20b/edit",
            "/ho-so/%2F%2Fx",
        ] {
            assert_eq!(same_site_path(ok), ok);
        }
        for bad in [
            "/\t/evil.example/",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/\n/evil",
            "/ /evil",
            "evil",
            "",
            "/ho-s\u{00f4}",
        ] {
            assert_eq!(same_site_path(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn list_addresses_leave_empty_filters_and_page_one_out() {
        assert_eq!(
            list_url("/ho-so", &[("q", ""), ("inbox", "mine")], 1),
            "/ho-so?inbox=mine"
        );
        assert_eq!(
            list_url("/thu-tuc", &[("q", "hộ tịch")], 2),
            "/thu-tuc?q=h%E1%BB%99%20t%E1%BB%8Bch&page=2"
        );
        assert_eq!(list_url("/x", &[], 1), "/x");
        assert_eq!(pager("/x", &[], 2, 2), (Some("/x".into()), None));
        assert_eq!(page_count(51, 25), 3);
        assert_eq!(page_count(0, 25), 1);
    }

    #[test]
    fn errors_find_their_field() {
        let mut e = Errors::default();
        e.push("name", "Nhập họ và tên.");
        assert_eq!(e.for_field("name"), Some("Nhập họ và tên."));
        assert_eq!(e.for_field("phone"), None);
    }
}
