//! Security headers on every response. The pages carry no script and no inline style, so the
//! Content-Security-Policy allows only this site's stylesheet and images; nothing may frame a
//! page (officer forms included). The browsable API docs (`/api/docs/`, Swagger UI served from
//! the binary) run their own scripts and styles, from this site only. Answers may hold personal
//! data, so none is kept by a cache unless it says otherwise (the stylesheet does).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of the pages and the JSON API.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The policy of the API docs (Swagger UI sets styles inline).
pub const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: sets the security headers; `secure` (the site is served over HTTPS, as
/// `--secure-cookies` says) adds HSTS.
pub async fn security(State(secure): State<bool>, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let policy = if docs { DOCS_POLICY } else { PAGE_POLICY };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}
