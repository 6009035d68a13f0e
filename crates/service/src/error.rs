//! Why a use case was refused: one error for every service, each kind carrying a message
//! code (`motcua_domain::msg`). The adapters say it their own way — problem+json for the API,
//! a page or the form's error summary for browsers, one line for the command line — each in
//! one place.

use motcua_domain::msg::{FieldError, Msg};
use motcua_store::StoreError;

#[derive(Debug)]
pub enum ServiceError {
    /// The input is wrong: every problem at once, each located by its field.
    Invalid(Vec<FieldError>),
    /// A parameter of the request is malformed (a date, a page number, a filter).
    BadRequest(Msg),
    /// Not signed in, or with a token that is not (or no longer) valid.
    Unauthenticated(Msg),
    /// Signed in, but not allowed.
    Forbidden(Msg),
    /// Unknown, or not the caller's to see (deliberately the same).
    NotFound(Msg),
    /// Not allowed in the current status: the actions that are.
    Illegal { msg: Msg, allowed: Vec<&'static str> },
    /// Someone else changed it first, or it exists already.
    Conflict(Msg),
    /// A file larger than accepted.
    TooLarge(Msg),
    /// A file of a type not accepted (checked by its content).
    Unsupported(Msg),
    /// Too many attempts: wait this many seconds.
    TooMany { msg: Msg, wait_seconds: u64 },
    /// The store failed, or lost a race the caller did not turn into its own answer.
    Store(StoreError),
    /// Something that should not happen (a worker thread lost, a stored value unreadable):
    /// logged, answered as a failure without details.
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// One invalid field.
    pub fn invalid(path: impl Into<String>, msg: Msg) -> Self {
        ServiceError::Invalid(vec![FieldError::new(path, msg)])
    }

    pub fn not_found(msg: Msg) -> Self {
        ServiceError::NotFound(msg)
    }

    /// The message for a person; None for failures whose details are not shown.
    pub fn msg(&self) -> Option<&Msg> {
        match self {
            ServiceError::BadRequest(m)
            | ServiceError::Unauthenticated(m)
            | ServiceError::Forbidden(m)
            | ServiceError::NotFound(m)
            | ServiceError::Conflict(m)
            | ServiceError::TooLarge(m)
            | ServiceError::Unsupported(m)
            | ServiceError::Illegal { msg: m, .. }
            | ServiceError::TooMany { msg: m, .. } => Some(m),
            ServiceError::Invalid(_) | ServiceError::Store(_) | ServiceError::Internal(_) => None,
        }
    }

    /// A race lost to another request, which a retry may win: said as a conflict.
    pub fn is_lost_race(&self) -> bool {
        match self {
            ServiceError::Store(e) => {
                e.is_lost_race() || matches!(e, StoreError::Conflict(_) | StoreError::Retry(_))
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Invalid(errors) => {
                let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&all.join("; "))
            }
            ServiceError::Store(e) => write!(f, "{e}"),
            ServiceError::Internal(e) => write!(f, "internal error: {e}"),
            other => match other.msg() {
                Some(m) => write!(f, "{m}"),
                None => Ok(()),
            },
        }
    }
}

impl std::error::Error for ServiceError {}

/// A refusal of the domain's decisions (dossier and feedback actions), as the service says it.
impl From<motcua_domain::refused::Refused> for ServiceError {
    fn from(r: motcua_domain::refused::Refused) -> Self {
        use motcua_domain::refused::Refused;
        match r {
            Refused::Forbidden(m) => ServiceError::Forbidden(m),
            Refused::Illegal { msg, allowed } => ServiceError::Illegal { msg, allowed },
            Refused::Invalid(e) => ServiceError::Invalid(vec![e]),
            Refused::Conflict(m) => ServiceError::Conflict(m),
            Refused::Corrupt(m) => ServiceError::Internal(m),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound(motcua_domain::msg!("not_found")),
            // Text the database cannot hold that slipped past the adapters' checks.
            e if e.is_bad_text() => ServiceError::BadRequest(motcua_domain::msg!("text.nul")),
            other => ServiceError::Store(other),
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(e: tokio::task::JoinError) -> Self {
        ServiceError::Internal(format!("a worker thread failed: {e}"))
    }
}
