//! Server-rendered pages (Vietnamese first, work without JavaScript), grouped by who uses
//! them: `public` (anyone), `citizen` (a citizen's account and dossiers), `officer` (the back
//! office), `admin` (catalog, users, calendar); `common` holds what they share. Pages call
//! the services and render; rules and data access are not here.

pub mod admin;
pub mod citizen;
pub mod common;
pub mod officer;
pub mod public;

use crate::AppState;
use axum::Router;

pub use crate::layout::Chrome;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(public::routes())
        .merge(citizen::routes())
        .merge(officer::routes())
        .merge(admin::routes())
}
