//! Storage for motcua: one `Db` enum over embedded SQLite and PostgreSQL, embedded
//! migrations, and a repository module per aggregate. No business rules here.

mod db;
mod error;
pub mod migrate;
mod pg_copy;
mod read_pool;
pub mod repo;
mod sqlite_bulk;
mod sqlite_setup;

pub use db::{Backend, Db, PgPools, PgTx, PoolStats, SqliteTx, Tx, redact, sqlite_path as db_path_of};
pub use error::StoreError;
pub use read_pool::{ReadConn, ReadPool};

pub type StoreResult<T> = Result<T, StoreError>;
