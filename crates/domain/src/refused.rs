//! Why the domain refuses a decision (an action on a dossier or a feedback): one shape,
//! which the service turns into its one error.

use crate::msg::{FieldError, Msg};

#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Not the actor's to take.
    Forbidden(Msg),
    /// Not legal in the current status; the ids of the actions that are.
    Illegal { msg: Msg, allowed: Vec<&'static str> },
    /// A value given (or missing) is wrong.
    Invalid(FieldError),
    /// The record changed since the actor saw it.
    Conflict(Msg),
    /// What is stored cannot be acted on (a broken procedure time limit).
    Corrupt(String),
}

impl Refused {
    pub(crate) fn invalid(path: &str, msg: Msg) -> Refused {
        Refused::Invalid(FieldError::new(path, msg))
    }
}
