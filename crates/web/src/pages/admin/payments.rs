//! The administrator's daily reconciliation of payments (`/admin/payments`): for a legal
//! day, what was paid, what was begun and not settled, and what the gateway says it took
//! that motcua did not book. The same as `motcua payments reconcile`; read-only.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{bad_request, require_admin, when};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::NaiveDate;
use motcua_domain::calendar;
use motcua_service::payments::ReconLine;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/payments", get(show))
}

struct Line {
    dossier: String,
    order_id: String,
    amount: String,
    transaction_id: String,
    at: String,
    provider: String,
    note: String,
}

#[derive(Template)]
#[template(path = "admin_payments.html")]
struct ReconcilePage {
    chrome: Chrome,
    day: NaiveDate,
    paid: Vec<Line>,
    pending: Vec<Line>,
    mismatched: Vec<Line>,
    paid_total: String,
    refused: Vec<(&'static str, usize)>,
}

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    date: String,
}

fn vnd(n: i64) -> String {
    crate::pages::public::catalog::vnd(u64::try_from(n).unwrap_or(0))
}

fn line(l: &ReconLine) -> Line {
    Line {
        dossier: l.dossier.clone(),
        order_id: l.order_id.clone(),
        amount: l.amount_vnd.map(vnd).unwrap_or_default(),
        transaction_id: l.transaction_id.clone(),
        at: when(l.at),
        provider: match l.provider.as_str() {
            "sandbox" => "Thử nghiệm (sandbox)".into(),
            "gateway" => "Cổng thanh toán quốc gia".into(),
            other => other.to_string(),
        },
        note: l.note.clone(),
    }
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<DayQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let day = match q.date.trim() {
        "" => calendar::local_date(state.services.now()),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .filter(|d| calendar::check_date(*d).is_ok())
            .ok_or_else(|| {
                bad_request(format!(
                    "Ngày không hợp lệ: “{d}” (định dạng năm-tháng-ngày, ví dụ 2026-03-05)."
                ))
            })?,
    };
    let r = state.services.reconcile_for(&user, day).await?;
    let of = |kind: &str| {
        r.lines
            .iter()
            .filter(|l| l.kind == kind)
            .map(line)
            .collect::<Vec<_>>()
    };
    Ok(Html(
        ReconcilePage {
            chrome: Chrome::current(),
            day,
            paid: of("paid"),
            pending: of("pending"),
            mismatched: of("mismatched"),
            paid_total: vnd(r.total("paid")),
            refused: r.refused.clone(),
        }
        .render()?,
    ))
}
