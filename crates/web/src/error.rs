//! One error type for handlers, two faces: `application/problem+json` (RFC 9457) for the API
//! and an HTML page for browsers. Internal details are logged, never sent.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
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
    /// Extra members (e.g. `errors` for field errors, `allowed_actions`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

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
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: None,
            extra: Default::default(),
            headers: Vec::new(),
        }
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
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

impl From<motcua_store::StoreError> for ApiError {
    fn from(e: motcua_store::StoreError) -> Self {
        match e {
            motcua_store::StoreError::NotFound => ApiError::not_found("not found"),
            motcua_store::StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            e @ motcua_store::StoreError::Retry(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            // A race lost to another request that no handler turned into its own answer.
            e if e.is_lost_race() => ApiError::new(
                StatusCode::CONFLICT,
                "another request changed the same record at the same moment; reload and try again",
            ),
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::internal()
            }
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

/// An error shown to a person in the browser.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: "Không tìm thấy trang bạn yêu cầu.".into(),
        }
    }
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Hệ thống gặp lỗi. Vui lòng thử lại sau ít phút.".into(),
        }
    }
}

/// A page's answer to a race lost to another request (409).
const CHANGED_MEANWHILE: &str =
    "Dữ liệu vừa được một yêu cầu khác thay đổi cùng lúc. Vui lòng tải lại trang và thử lại.";

impl From<motcua_store::StoreError> for PageError {
    fn from(e: motcua_store::StoreError) -> Self {
        match e {
            motcua_store::StoreError::NotFound => PageError::not_found(),
            e if e.is_lost_race()
                || matches!(
                    e,
                    motcua_store::StoreError::Conflict(_) | motcua_store::StoreError::Retry(_)
                ) =>
            {
                PageError {
                    status: StatusCode::CONFLICT,
                    message: CHANGED_MEANWHILE.into(),
                }
            }
            other => {
                tracing::error!(error = %other, "storage error");
                PageError::internal()
            }
        }
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
        match crate::pages::error_page(self.status, &self.message) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_store::StoreError;

    #[test]
    fn a_race_lost_to_another_request_is_a_409_not_a_500() {
        for e in [
            StoreError::Conflict("user \"lan\" already exists".into()),
            StoreError::Retry("the row moved".into()),
        ] {
            let page = PageError::from(e);
            assert_eq!(page.status, StatusCode::CONFLICT);
            assert_eq!(page.message, CHANGED_MEANWHILE);
        }
        let api = ApiError::from(StoreError::Retry("the row moved".into()));
        assert_eq!(api.into_response().status(), StatusCode::CONFLICT);
        let other = PageError::from(StoreError::Io("disk full".into()));
        assert_eq!(other.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
