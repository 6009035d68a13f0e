//! The two faces of an error: `application/problem+json` (RFC 9457) for the API, in English,
//! and a page in the visitor's language for browsers. A refusal of the services
//! (`ServiceError`) is mapped to each exactly once, here; internal details are logged, never
//! sent.

use crate::i18n;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use motcua_service::{FieldError, Lang, ServiceError};
use motcua_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Problem details (RFC 9457) returned by every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extra members: `errors` ([{field, code, message}]) for invalid input,
    /// `allowed_actions` for an action not allowed now.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An error of the API: a status, a detail and extra members.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: Option<String>,
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub headers: Vec<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: Some(detail.into()),
            extra: Default::default(),
            headers: Vec::new(),
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: None,
            extra: Default::default(),
            headers: Vec::new(),
        }
    }
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The status a refusal is answered with, on both faces.
pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Illegal { .. } | ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ServiceError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ServiceError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        e if e.is_lost_race() => StatusCode::CONFLICT,
        ServiceError::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
        // A statement stopped at its bound (`--statement-timeout-seconds`): busy, try again.
        ServiceError::Store(s) if s.is_timeout() => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Store(_) | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs what a refusal answered as a failure hides.
fn log_failure(e: &ServiceError) {
    if status_of(e).is_server_error() {
        tracing::error!(error = %e, "request failed");
    }
}

/// One invalid field as the API lists it; a line of an imported file (`line:N`) also says
/// its number.
fn field_json(e: &FieldError) -> serde_json::Value {
    let mut v = serde_json::json!({"field": e.path, "code": e.msg.code, "message": e.msg.en()});
    if let Some(n) = e.path.strip_prefix("line:").and_then(|n| n.parse::<u64>().ok()) {
        v["line"] = n.into();
    }
    v
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        log_failure(&e);
        let status = status_of(&e);
        match e {
            ServiceError::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::new(status, detail).with(
                    "errors",
                    serde_json::Value::Array(errors.iter().map(field_json).collect()),
                )
            }
            ServiceError::Illegal { msg, allowed } => {
                ApiError::new(status, msg.en()).with("allowed_actions", serde_json::json!(allowed))
            }
            ServiceError::TooMany { msg, wait_seconds } => {
                ApiError::new(status, msg.en()).with_header("retry-after", wait_seconds.to_string())
            }
            ref race if race.is_lost_race() => {
                ApiError::new(status, motcua_domain::msg!("changed_meanwhile").en())
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                ApiError::new(status, motcua_domain::msg!("statement.timeout").en())
                    .with_header("retry-after", "30")
            }
            other => match other.msg() {
                Some(m) => ApiError::new(status, m.en()),
                None if status == StatusCode::NOT_FOUND => ApiError::new(status, "not found"),
                None => ApiError::internal(),
            },
        }
    }
}

/// Renders a problem+json response.
pub fn problem_response(
    status: StatusCode,
    detail: Option<String>,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        extra,
    };
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    (status, [(header::CONTENT_TYPE, "application/problem+json")], json).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = problem_response(self.status, self.detail, self.extra);
        for (name, value) in self.headers {
            if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        res
    }
}

/// An error shown to a person in the browser: an error page with a message in the page's
/// language.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, i18n::t("error.not_found_text"))
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, i18n::t("error.internal_text"))
    }
}

/// The message a refusal shows on a page, in the page's language.
pub fn page_message(e: &ServiceError, lang: Lang) -> String {
    match e {
        ServiceError::Invalid(errors) => errors
            .iter()
            .map(|e| e.msg.text(lang))
            .collect::<Vec<_>>()
            .join(" "),
        race if race.is_lost_race() => motcua_domain::msg!("changed_meanwhile").text(lang),
        busy if status_of(busy) == StatusCode::SERVICE_UNAVAILABLE => {
            motcua_domain::msg!("statement.timeout").text(lang)
        }
        other => match other.msg() {
            Some(m) => m.text(lang),
            None if status_of(other) == StatusCode::NOT_FOUND => {
                i18n::text_in(lang, "error.not_found_text").into()
            }
            None => i18n::text_in(lang, "error.internal_text").into(),
        },
    }
}

/// A refusal as an error page. Anything not found is "the page does not exist": a page
/// does not say what it did not find.
impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        log_failure(&e);
        match status_of(&e) {
            StatusCode::NOT_FOUND => PageError::not_found(),
            status => PageError::new(status, page_message(&e, i18n::lang())),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template error");
        PageError::internal()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match crate::layout::error_page(self.status, &self.message) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::msg;

    #[test]
    fn a_race_lost_to_another_request_is_a_409_not_a_500() {
        for e in [
            StoreError::Conflict("user \"lan\" already exists".into()),
            StoreError::Retry("the row moved".into()),
        ] {
            let page = PageError::from(e);
            assert_eq!(page.status, StatusCode::CONFLICT);
            assert_eq!(page.message, msg!("changed_meanwhile").vi());
        }
        let api = ApiError::from(StoreError::Retry("the row moved".into()));
        assert_eq!(api.into_response().status(), StatusCode::CONFLICT);
        let other = PageError::from(StoreError::Io("disk full".into()));
        assert_eq!(other.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn each_refusal_has_its_status_and_its_words_on_both_faces() {
        let invalid = ServiceError::Invalid(vec![
            FieldError::new("applicant.id_number", msg!("identity.personal_id")),
            FieldError::new("line:3", msg!("required")),
        ]);
        assert_eq!(
            page_message(&invalid, Lang::Vi),
            "Số định danh cá nhân phải gồm đúng 12 chữ số. không được để trống"
        );
        let api = ApiError::from(invalid);
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.extra["errors"][0]["code"], "identity.personal_id");
        assert_eq!(api.extra["errors"][1]["line"], 3);
        let too_many = ServiceError::TooMany {
            msg: msg!("too_many", 30),
            wait_seconds: 30,
        };
        let api = ApiError::from(too_many);
        assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(api.headers, vec![("retry-after", "30".to_string())]);
        let illegal = ServiceError::Illegal {
            msg: msg!("required"),
            allowed: vec!["transfer"],
        };
        assert_eq!(
            ApiError::from(illegal).extra["allowed_actions"],
            serde_json::json!(["transfer"])
        );
        assert_eq!(
            status_of(&ServiceError::Internal("boom".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
