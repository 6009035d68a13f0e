//! A citizen's pages: the account (register, confirm, sign in, reset), online submission
//! with its payment, and their own dossiers (follow, hand in a supplement, withdraw, rate).

mod account;
mod dossier;
mod draft;
mod payment;
mod store;
mod submit;
mod vneid;

pub use dossier::questions;
pub use draft::{delivery_label, notify_label};
pub(crate) use payment::receipt_page;
pub use submit::amount;

use crate::AppState;
use axum::Router;

/// The cookie of the citizen forms' CSRF token (double submit), sent back to `/cong-dan`.
const FORM_COOKIE: &str = "motcua_form_csrf";

/// The sign-in page, returning the citizen to `path` (a path of this site) after.
fn sign_in_url(path: &str) -> String {
    format!(
        "/cong-dan/dang-nhap?next={}",
        crate::pages::common::url_encode(path)
    )
}

/// To the sign-in page, which returns the citizen to `path` after.
fn sign_in_then(path: &str) -> axum::response::Response {
    crate::pages::common::see_other(&sign_in_url(path))
}

/// Where sign-in returns to: `next` if it is a path of this site, else the citizen's page.
fn after_sign_in(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n) if !n.is_empty() && crate::pages::common::same_site_path(n) == n => n.to_string(),
        _ => "/cong-dan".to_string(),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(account::routes())
        .merge(submit::routes())
        .merge(draft::routes())
        .merge(dossier::routes())
        .merge(store::routes())
        .merge(payment::routes())
        .merge(vneid::routes())
}
