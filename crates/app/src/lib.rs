//! The `motcua` application: command line, configuration, wiring of store and web, demo data.

pub mod audit_cmd;
pub mod backup_cmd;
pub mod calendar_cmd;
pub mod catalog_cmd;
pub mod catalog_io;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dossier_import_cmd;
pub mod dvcqg_args;
pub mod dvcqg_inbound_args;
pub mod oidc_args;
pub mod outbox_cmd;
pub mod payment_args;
pub mod payments_cmd;
pub mod report_cmd;
pub mod serve;
pub mod users_cmd;
