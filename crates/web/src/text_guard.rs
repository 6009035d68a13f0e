//! Text no field may hold: a NUL character. PostgreSQL cannot store it in text (the request
//! failed with a 500 there) and nothing a person types contains it. Refused before any
//! handler runs — in the path, the query string, a form body or a JSON body (`\u0000`) — with
//! a 400 that says so: problem+json under `/api/`, a page elsewhere. Multipart text fields are
//! checked where they are read (`pages::common::field_text`); uploaded files may hold any byte.

use crate::error::{ApiError, PageError};
use crate::linger::MAX_FORM_BYTES;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use motcua_domain::msg;
use motcua_domain::msg::Lang;

/// Middleware: refuses a request carrying a NUL character in its address or its text body.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let in_address = |s: &str| s.contains('\0') || s.to_ascii_lowercase().contains("%00");
    if in_address(req.uri().path()) || req.uri().query().is_some_and(in_address) {
        return refused(api);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json") || kind.contains("+json");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    // Not text, or larger than the extractors read: theirs to take or refuse (413).
    if !(form || json) || declared.is_some_and(|n| n > MAX_FORM_BYTES) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // A body without a length that runs past what the extractors read is refused here.
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let (status, m) = (
                StatusCode::PAYLOAD_TOO_LARGE,
                msg!("body.too_large", MAX_FORM_BYTES / 1024),
            );
            return match api {
                true => ApiError::new(status, m.text(Lang::En)).into_response(),
                false => PageError::new(status, m.text(Lang::Vi)).into_response(),
            };
        }
    };
    let nul = bytes.contains(&0)
        || (form && contains(&bytes, b"%00"))
        || (json && contains(&bytes.to_ascii_lowercase(), b"\\u0000"));
    if nul {
        return refused(api);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn refused(api: bool) -> Response {
    let m = msg!("text.nul");
    match api {
        true => ApiError::bad_request(m.text(Lang::En)).into_response(),
        false => PageError::new(StatusCode::BAD_REQUEST, m.text(Lang::Vi)).into_response(),
    }
}
