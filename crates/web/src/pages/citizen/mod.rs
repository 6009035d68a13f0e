//! A citizen's pages: the account (register, confirm, sign in, reset), online submission
//! with its payment, and their own dossiers (follow, hand in a supplement, withdraw, rate).

mod account;
mod dossier;
mod submit;

pub use dossier::questions;
pub use submit::amount;

use crate::AppState;
use axum::Router;

/// The cookie of the citizen forms' CSRF token (double submit), sent back to `/cong-dan`.
const FORM_COOKIE: &str = "motcua_form_csrf";

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(account::routes())
        .merge(submit::routes())
        .merge(dossier::routes())
}
