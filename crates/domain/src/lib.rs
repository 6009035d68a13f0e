//! Pure rules of the one-stop system (một cửa): calendar and deadlines, dossier states,
//! codes, text folding. No I/O, no async, no database here.

pub mod access;
pub mod calendar;
pub mod code;
pub mod dossier;
pub mod evaluation;
pub mod feedback;
pub mod identity;
pub mod import;
pub mod msg;
pub mod procedure;
pub mod refused;
pub mod report;
pub mod text;

/// `TryFrom<String>` through `FromStr` for coded values read from storage: a text that
/// does not parse is an error there, never a default.
macro_rules! try_from_text {
    ($($t:ty),+) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
    )+};
}
pub(crate) use try_from_text;
