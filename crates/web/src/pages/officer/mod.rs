//! The back office: sign-in, the inbox, desk intake, a dossier and its actions, the printed
//! forms, reports, the dashboard, evaluation and the feedback inbox.

mod auth;
mod dashboard;
mod dossier;
mod evaluation;
mod feedback;
mod forms;
mod inbox;
mod intake;
mod payment;

pub use forms::{receipt_form, result_stamp};
mod reports;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(inbox::routes())
        .merge(intake::routes())
        .merge(dossier::routes())
        .merge(forms::routes())
        .merge(reports::routes())
        .merge(dashboard::routes())
        .merge(evaluation::routes())
        .merge(feedback::routes())
        .merge(payment::routes())
}
