//! Pure rules of the one-stop system (một cửa): calendar and deadlines, dossier states,
//! codes, text folding. No I/O, no async, no database here.

pub mod access;
pub mod authentic;
pub mod calendar;
pub mod code;
pub mod dossier;
pub mod evaluation;
pub mod feedback;
pub mod identity;
pub mod import;
pub mod money;
pub mod msg;
pub mod notice;
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

/// Declares an enum stored as text: its ids, `as_str`, `FromStr`, `TryFrom<String>` (how a
/// stored row is read) and `Display`.
macro_rules! stored_text {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " {:?}: expected {}"),
                        s,
                        [$($s),+].join(", ")
                    )),
                }
            }
        }

        $crate::try_from_text!($name);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_text;
