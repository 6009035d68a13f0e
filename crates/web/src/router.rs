//! Wiring: routes, fallback, and the layers every request passes through (request id,
//! tracing span, metrics and the response's log line, panic catching, gzip, body limits, the
//! lingering close of refused bodies, and who is signed in on a page).

use crate::error::{PageError, problem_response};
use crate::{AppState, api, metrics, pages};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::linger::{MAX_BODY_BYTES, MAX_FORM_BYTES};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a per-process random prefix and a counter — unique, cheap, sortable.
#[derive(Clone)]
struct NextRequestId {
    prefix: u32,
    counter: std::sync::Arc<AtomicU64>,
}

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

pub fn router(state: AppState) -> Router {
    let ids = NextRequestId {
        prefix: std::process::id().rotate_left(16)
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)),
        counter: Default::default(),
    };
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", request_id = %id)
        })
        .on_request(())
        // The response is logged by `metrics::track`, which knows the method and path.
        .on_response(())
        .on_failure(());

    let (api, document) = api::router();
    Router::new()
        .merge(pages::routes())
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", document))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::text_guard::refuse_nul))
        // Inside the deadline: finding who is signed in asks the database.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::find_signed_in,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout,
            deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::find_client,
        ))
        .layer(axum::middleware::from_fn(crate::i18n::layer))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Outside the limits: a body they refuse unread is drained, so its 413 reaches the client.
        .layer(axum::middleware::map_request(crate::linger::linger))
        .layer(CompressionLayer::new().gzip(true))
        .layer(CatchPanicLayer::custom(|_| {
            problem_response(StatusCode::INTERNAL_SERVER_ERROR, None, Default::default())
        }))
        // Outside the panic catcher: a panic's 500 is counted and logged too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.secure_cookies,
            crate::headers::security,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), ids))
        .with_state(state)
}

/// Middleware: a request not answered within its deadline (reading its body included: a slow
/// upload) is dropped — what it was doing stops with it — and answered 408.
async fn deadline(State(limit): State<std::time::Duration>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let m = motcua_domain::msg!("request.timeout", limit.as_secs());
            let status = StatusCode::REQUEST_TIMEOUT;
            match api {
                true => {
                    crate::error::ApiError::new(status, m.text(motcua_domain::msg::Lang::En)).into_response()
                }
                false => PageError::new(status, m.text(motcua_domain::msg::Lang::Vi)).into_response(),
            }
        }
    }
}

/// 404: problem+json under `/api`, a friendly page elsewhere.
async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        problem_response(
            StatusCode::NOT_FOUND,
            Some(format!("no such endpoint: {}", req.uri().path())),
            Default::default(),
        )
    } else {
        PageError::not_found().into_response()
    }
}
