//! The national portal (Cổng DVCQG) pushing the dossiers submitted on it
//! (`motcua_service::dvcqg_inbound`): authenticated by the portal's own bearer token
//! (`--dvcqg-inbound-token`), not an officer's.

use crate::AppState;
use crate::api::dossiers::StatusView;
use crate::api::extract::Body;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use motcua_service::dvcqg_inbound::{Inbound, InboundError, PortalDossier};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// The portal, proven by its token: the inbound side's configuration.
pub struct Portal(Inbound);

impl FromRequestParts<AppState> for Portal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(inbound) = &state.config.dvcqg_inbound else {
            return Err(ApiError::not_found(
                "the national portal's inbound endpoint is not enabled on this server (--dvcqg-inbound-token)",
            ));
        };
        let given = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match given {
            Some(token) if inbound.token_matches(token) => Ok(Portal(inbound.clone())),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token of the national portal",
            )
            .with_header("www-authenticate", "Bearer")),
        }
    }
}

/// The answer to a push: the dossier it made, or made before.
#[derive(Serialize, ToSchema)]
pub struct PortalReceipt {
    /// The portal's dossier id, as pushed.
    pub portal_id: String,
    /// The local reference, the same for every push of this portal id: `online-ID`.
    pub reference: String,
    /// The dossier code, once an officer has received it (the sync records report it,
    /// with the portal's id as `MaHoSoQG`).
    pub code: Option<String>,
    pub status: StatusView,
}

/// Takes a dossier submitted on the national portal into the online queue (channel online,
/// marked as from the portal). Each document is fetched from its `url` and checked against
/// its `size` and `sha256` and by type (PDF, JPEG, PNG) before the dossier is written; once
/// per `portal_id`: a push repeated — even at the same time — answers 200 with the
/// reference the first got. Token: `--dvcqg-inbound-token`, as `Authorization: Bearer`.
#[utoipa::path(post, path = "/api/v1/dvcqg/dossiers", tag = "dvcqg", request_body = PortalDossier, security(("bearer" = [])),
    responses((status = 201, body = PortalReceipt, description = "received into the online queue"),
        (status = 200, body = PortalReceipt, description = "received before: the same reference"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "missing or wrong token"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the endpoint is not enabled"),
        (status = 422, body = Problem, content_type = "application/problem+json",
            description = "refused (unknown procedure or agency, missing required documents, a bad document): `errors`: [{field, code, message}]"),
        (status = 503, body = Problem, content_type = "application/problem+json",
            description = "a document could not be fetched now; nothing was created: push again after `Retry-After` seconds")))]
pub async fn receive(
    State(state): State<AppState>,
    Portal(inbound): Portal,
    Body(input): Body<PortalDossier>,
) -> ApiResult<Response> {
    let portal_id = input.portal_id.trim().to_string();
    let got = match state.services.receive_from_portal(&inbound, input).await {
        Ok(got) => got,
        Err(InboundError::Service(e)) => return Err(e.into()),
        Err(InboundError::FetchLater { msg, retry_after }) => {
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, msg.en())
                .with_header("retry-after", retry_after.to_string()));
        }
    };
    let status = if got.created {
        tracing::info!(portal_id = %portal_id, reference = %got.reference, "DVCQG: dossier received");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let receipt = PortalReceipt {
        portal_id,
        reference: got.reference,
        code: got.code,
        status: got.status.into(),
    };
    Ok((status, Json(receipt)).into_response())
}
