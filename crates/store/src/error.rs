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
    /// A race lost in a way the caller may simply try again (PostgreSQL: a day's dossier
    /// number taken by another transaction, `repo::codes::reserve`).
    #[error("conflict, try again: {0}")]
    Retry(String),
    /// A stored value that does not parse (a status, a role, a method): never defaulted.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("file storage: {0}")]
    Io(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// From a statement run through SQLite's C API (`db::bulk`): the extended result code.
    #[error("(code: {code}) {message}")]
    Sqlite { code: i32, message: String },
}

impl StoreError {
    /// True when the error comes from a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            StoreError::Sqlite { code, .. } => matches!(code, 2067 | 1555),
            _ => false,
        }
    }

    /// Another writer changed the same rows at the same moment: a unique key taken first,
    /// a serialization failure or a deadlock. Nothing of this transaction was kept.
    pub fn is_lost_race(&self) -> bool {
        self.is_unique_violation() || self.is_serialization_failure()
    }

    /// Text PostgreSQL cannot store (a NUL character: SQLSTATE 22021; or a character its
    /// encoding lacks: 22P05).
    pub fn is_bad_text(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("22021" | "22P05"))
            }
            _ => false,
        }
    }

    /// A race lost in a way the caller may simply try again (`StoreError::Retry`).
    pub fn is_retry(&self) -> bool {
        matches!(self, StoreError::Retry(_))
    }

    /// A statement stopped by the database's bound (`Db::connect_bounded`) or because its
    /// caller went away: SQLite's SQLITE_INTERRUPT (9), PostgreSQL's query_canceled (57014).
    pub fn is_timeout(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("9" | "57014"))
            }
            _ => false,
        }
    }

    /// A PostgreSQL serialization failure or deadlock, or SQLite BUSY: retryable races.
    pub fn is_serialization_failure(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40001" | "40P01" | "5" | "517"))
            }
            // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT
            StoreError::Sqlite { code, .. } => matches!(code, 5 | 517),
            _ => false,
        }
    }
}
