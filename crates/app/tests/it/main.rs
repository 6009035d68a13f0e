//! The one integration test binary (linking many is slow): store conformance on both
//! backends, HTTP, and the command line as a user runs it.

mod support;

mod architecture;
mod audit;
mod backup;
mod bounds;
mod browser;
mod calendar;
mod catalog;
mod citizens;
mod cli;
mod dossiers;
mod dvcqg_in;
mod dvcqg_out;
mod evaluation;
mod faults;
mod feedback;
mod http;
mod i18n;
mod import;
mod journey;
mod mail;
mod officer_pages;
mod pages_admin;
mod pages_catalog;
mod pages_dossiers;
mod pages_reports;
mod payments;
mod public;
mod queries;
mod report;
mod results;
mod sms;
mod store;
mod vneid;
mod wording;
