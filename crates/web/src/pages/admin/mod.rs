//! The administrator's pages: agencies, procedures, users and their tokens, the calendar,
//! the daily reconciliation of payments, the outbox.

mod agencies;
mod calendar;
mod outbox;
mod payments;
mod procedures;
mod users;

pub use agencies::agency_level_vi;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(agencies::routes())
        .merge(procedures::routes())
        .merge(users::routes())
        .merge(calendar::routes())
        .merge(payments::routes())
        .merge(outbox::routes())
}
