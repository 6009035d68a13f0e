//! The national payment platform's server-to-server notification (docs/integration.md,
//! "National payment platform"). Authenticated by its checksum, not by a token; what it
//! settles is `motcua_service::payments`'s. This module only translates.

use crate::AppState;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use motcua_service::payments::gateway::Outcome;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(notify))
}

/// The answer to the gateway (VNPay's IPN codes where one exists).
#[derive(Serialize, ToSchema)]
pub struct NotifyAnswer {
    /// `00` settled (paid or failed), `02` already settled (a replay: nothing recorded
    /// again), `01` unknown order, `04` amount not the fee, `05` fee already paid by another
    /// order, `11` late, `97` bad checksum, `99` malformed.
    pub code: &'static str,
    pub message: &'static str,
    /// What motcua decided: `accepted`, `failed`, `replayed`, `forged`, `malformed`,
    /// `unknown_order`, `amount_mismatch`, `late`, `double_payment`.
    pub outcome: &'static str,
}

fn status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Accepted | Outcome::Failed | Outcome::Replayed => StatusCode::OK,
        Outcome::Malformed => StatusCode::BAD_REQUEST,
        Outcome::Forged => StatusCode::FORBIDDEN,
        Outcome::UnknownOrder => StatusCode::NOT_FOUND,
        Outcome::AmountMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        Outcome::Late | Outcome::DoublePayment => StatusCode::CONFLICT,
    }
}

fn answer(outcome: Outcome) -> Response {
    (
        status(outcome),
        Json(NotifyAnswer {
            code: outcome.code(),
            message: outcome.message(),
            outcome: outcome.as_str(),
        }),
    )
        .into_response()
}

/// The gateway tells the outcome of a payment: form-encoded `version, merchant, order_id,
/// amount, result, transaction_id, paid_at, checksum` (HMAC-SHA256 with the shared secret).
/// Only a verified notification of a pending order, for the fee, in time, marks the fee
/// paid; a repeat is answered `02` without recording anything again. Every notification is
/// logged with what was decided.
#[utoipa::path(post, path = "/api/v1/payments/notify", tag = "payments",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "version=1&merchant=…&order_id=…&amount=…&result=00&transaction_id=…&paid_at=yyyyMMddHHmmss&checksum=…"),
    responses(
        (status = 200, body = NotifyAnswer, description = "Settled (`00`) or already settled (`02`)"),
        (status = 400, body = NotifyAnswer, description = "Malformed (`99`)"),
        (status = 403, body = NotifyAnswer, description = "Bad checksum or merchant (`97`)"),
        (status = 404, body = NotifyAnswer, description = "Unknown order (`01`); or no gateway configured (problem+json)"),
        (status = 409, body = NotifyAnswer, description = "Late (`11`), or the fee already paid by another order (`05`)"),
        (status = 422, body = NotifyAnswer, description = "Amount not the fee (`04`)"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn notify(
    State(state): State<AppState>,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> ApiResult<Response> {
    // A gateway is configured, or there is nothing here (problem+json 404).
    if state.services.payments().gateway().is_none() {
        return Err(motcua_service::ServiceError::NotFound(motcua_domain::msg!("payment.no_gateway")).into());
    }
    let fields = match form {
        Ok(axum::Form(fields)) => fields,
        Err(_) => {
            // Unreadable: logged as malformed like any other refusal.
            let outcome = state.services.payment_notified(&[]).await?;
            return Ok(answer(outcome));
        }
    };
    let outcome = state.services.payment_notified(&fields).await?;
    Ok(answer(outcome))
}
