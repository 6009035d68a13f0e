//! Pure rules of the one-stop system (một cửa): calendar and deadlines, dossier states,
//! codes, text folding. No I/O, no async, no database here.

pub mod access;
pub mod calendar;
pub mod code;
pub mod dossier;
pub mod evaluation;
pub mod feedback;
pub mod import;
pub mod msg;
pub mod procedure;
pub mod report;
pub mod text;
