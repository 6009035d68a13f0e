//! What officers see of a dossier's fee: the amount, where its payment stands (with the
//! gateway's transaction number), and the fee receipt once paid. Settling is the payment
//! platform's, through `motcua_service::payments`; nothing here changes a payment.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::common::{url_encode, when};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use motcua_domain::dossier::{Channel, Dossier, PaymentStatus};

pub fn routes() -> Router<AppState> {
    Router::new().route("/ho-so/{key}/bien-lai", get(receipt))
}

/// The fee line of the officer's dossier page.
pub struct FeeRow {
    pub amount: String,
    /// `paid`, `pending`, `failed` or `none` (not paid through the system).
    pub state: &'static str,
    pub label: String,
    pub transaction_id: String,
    /// The receipt, once paid.
    pub receipt: Option<String>,
}

fn vnd(n: i64) -> String {
    crate::pages::public::catalog::vnd(u64::try_from(n).unwrap_or(0))
}

/// The fee of a dossier and where its payment stands; None when the procedure has no fee.
pub(super) async fn fee_row(state: &AppState, d: &Dossier) -> Result<Option<FeeRow>, PageError> {
    if let Some(p) = state.services.payment_of_dossier(d.id).await? {
        let provider = match p.provider.as_str() {
            "sandbox" => "thử nghiệm (sandbox), không có tiền thật",
            _ => "qua Cổng thanh toán quốc gia",
        };
        let (state_name, label) = match p.status {
            PaymentStatus::Paid => (
                "paid",
                format!(
                    "Đã thanh toán trực tuyến {provider} lúc {}",
                    p.paid_at.map(when).unwrap_or_default()
                ),
            ),
            PaymentStatus::Pending => (
                "pending",
                "Chưa thanh toán (người nộp chưa hoàn tất thanh toán trực tuyến)".into(),
            ),
            PaymentStatus::Failed => ("failed", "Thanh toán không thành công".into()),
        };
        return Ok(Some(FeeRow {
            amount: vnd(p.amount_vnd),
            state: state_name,
            label,
            transaction_id: p.transaction_id.clone().unwrap_or_default(),
            receipt: (p.status == PaymentStatus::Paid)
                .then(|| format!("/ho-so/{}/bien-lai", url_encode(&d.key()))),
        }));
    }
    // No online payment: the procedure's fee, if fixed, collected at the desk.
    let fee: i64 = match state
        .services
        .procedure(&d.procedure_code, Some(d.procedure_version))
        .await
    {
        Ok(p) => p
            .spec
            .fees
            .iter()
            .filter_map(|f| f.amount_vnd)
            .map(|a| a as i64)
            .sum(),
        Err(_) => 0,
    };
    if fee == 0 {
        return Ok(None);
    }
    Ok(Some(FeeRow {
        amount: vnd(fee),
        state: "none",
        label: match d.channel {
            Channel::Online => "Không thanh toán trực tuyến; thu tại bộ phận một cửa".into(),
            _ => "Thu tại bộ phận một cửa (không qua hệ thống)".into(),
        },
        transaction_id: String::new(),
        receipt: None,
    }))
}

/// The fee receipt of a dossier the officer may read.
async fn receipt(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    let r = state.services.fee_receipt_for_officer(&user, &key).await?;
    crate::pages::citizen::receipt_page(&r, format!("/ho-so/{}", url_encode(&key)))
}
