//! The HTTP face of motcua: the JSON API (with its OpenAPI document) and the server-rendered
//! pages, as adapters over `motcua_service`: parse, call a service, render. Wiring of routes
//! and layers lives in `router`.

pub mod api;
pub mod auth;
pub mod cookies;
pub mod error;
mod headers;
pub mod i18n;
pub mod layout;
mod linger;
pub mod metrics;
pub mod pages;
mod router;
pub mod server;
mod state;
pub mod svg;
mod text_guard;
pub mod urls;

pub use router::router;
pub use state::{AppState, DemoAccount, WebConfig};
