//! Storage errors: what callers may need to tell apart (not found, conflict, bad config).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnknownScheme(String),
    #[error("cannot open database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database schema version {found} is newer than this motcua knows ({known}); upgrade motcua")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("file storage: {0}")]
    Io(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

impl StoreError {
    /// True when the error comes from a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// A PostgreSQL serialization failure or deadlock, or SQLite BUSY: retryable races.
    pub fn is_serialization_failure(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("40001" | "40P01" | "5" | "517")))
    }
}
