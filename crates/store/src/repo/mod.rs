//! Repositories, one module per aggregate. Thin: SQL in, rows out; the same SQL text on both
//! backends unless a dialect really differs.

pub mod agencies;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod citizens;
pub mod dashboard;
pub mod dossiers;
pub mod evaluation;
pub mod feedback;
pub mod files;
pub mod legacy;
pub mod lifecycle;
pub mod meta;
pub mod report;
pub mod users;
