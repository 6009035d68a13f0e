//! The `motcua` application: command line, configuration, wiring of store and web, demo data.

pub mod calendar_cmd;
pub mod cli;
pub mod config;
pub mod demo;
pub mod serve;
