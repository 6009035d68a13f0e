//! Storage for motcua: one `Db` enum over embedded SQLite and PostgreSQL, embedded
//! migrations, and a repository module per aggregate. No business rules here.

pub mod backup;
mod db;
mod error;
pub mod migrate;
pub mod repo;

pub use db::{
    Backend, Db, PgPools, PgTx, PoolStats, ReadConn, ReadPool, SqliteTx, Tx, redact,
    sqlite_path as db_path_of,
};
pub use error::StoreError;

pub type StoreResult<T> = Result<T, StoreError>;
