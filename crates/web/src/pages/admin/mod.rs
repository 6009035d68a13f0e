//! The administrator's pages: agencies, procedures, users and their tokens, the calendar.

mod agencies;
mod calendar;
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
}
