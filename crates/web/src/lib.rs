//! The HTTP face of motcua: JSON API (with its OpenAPI document) and server-rendered pages.
//! Handlers stay thin: parse, call store/domain, render. Wiring of layers lives in `router`.

pub mod api;
pub mod auth;
pub mod catalog;
pub mod citizens;
pub mod dashboard;
pub mod dossiers;
pub mod error;
pub mod evaluation;
pub mod feedback;
pub mod i18n;
pub mod legal_time;
mod linger;
pub mod metrics;
pub mod outbox;
pub mod pages;
pub mod payments;
pub mod public;
pub mod ratelimit;
pub mod recent;
pub mod reference;
pub mod report_export;
pub mod reports;
mod router;
mod state;
pub mod svg;

pub use router::router;
pub use state::{AppState, DemoAccount, Rules, WebConfig};
