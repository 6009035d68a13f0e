//! Embedded migrations, one folder per backend, applied in order, each in its own
//! transaction, recorded in `schema_migrations`. Idempotent; refuses a newer schema.

use crate::{Db, StoreError, StoreResult, Tx, on_tx};
use chrono::Utc;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../migrations/", $dir, "/", $file, ".sql")),
        }),*]
    };
}

// File names are `NNNN_name.sql`; a test checks this list against the folders.
pub static SQLITE: &[Migration] = migrations!("sqlite":
    1 => "0001_foundation",
    2 => "0002_calendar",
    3 => "0003_auth",
    4 => "0004_catalog",
    5 => "0005_dossiers",
    6 => "0006_citizens",
    7 => "0007_feedback",
    8 => "0008_report_counts",
    9 => "0009_reference_version",
    10 => "0010_open_dossier_indexes",
    11 => "0011_outbox_indexes",
    12 => "0012_idempotency_and_file_references",
    13 => "0013_step_indexes",
    14 => "0014_submission_receipts",
    15 => "0015_submission_drafts",
    16 => "0016_actual_receipt",
    17 => "0017_vneid",
    18 => "0018_payment_gateway",
    19 => "0019_outbox_dead_letter",
    20 => "0020_portal_dossiers",
    21 => "0021_notice_channels",
);
pub static POSTGRES: &[Migration] = migrations!("postgres":
    1 => "0001_foundation",
    2 => "0002_calendar",
    3 => "0003_auth",
    4 => "0004_catalog",
    5 => "0005_dossiers",
    6 => "0006_citizens",
    7 => "0007_feedback",
    8 => "0008_report_counts",
    9 => "0009_reference_version",
    10 => "0010_open_dossier_indexes",
    11 => "0011_outbox_indexes",
    12 => "0012_idempotency_and_file_references",
    13 => "0013_step_indexes",
    14 => "0014_submission_receipts",
    15 => "0015_submission_drafts",
    16 => "0016_actual_receipt",
    17 => "0017_vneid",
    18 => "0018_payment_gateway",
    19 => "0019_outbox_dead_letter",
    20 => "0020_portal_dossiers",
    21 => "0021_notice_channels",
);

pub fn for_backend(db: &Db) -> &'static [Migration] {
    match db {
        Db::Sqlite { .. } => SQLITE,
        Db::Postgres(_) => POSTGRES,
    }
}

/// Applies every migration not yet applied; returns the versions applied now.
pub async fn run(db: &Db) -> StoreResult<Vec<i64>> {
    run_until(db, i64::MAX).await
}

/// Applies the migrations not yet applied up to version `last` (a test of a migration's data
/// fix starts from the version before it); returns the versions applied now.
pub async fn run_until(db: &Db, last: i64) -> StoreResult<Vec<i64>> {
    let list = for_backend(db);
    let known = list.last().map(|m| m.version).unwrap_or(0);
    let mut applied_now = Vec::new();
    {
        let mut tx = db.begin().await?;
        lock(&mut tx).await?;
        on_tx!(&mut tx, c => {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .execute(c)
            .await?;
        });
        tx.commit().await?;
    }
    for m in list.iter().take_while(|m| m.version <= last) {
        let mut tx = db.begin().await?;
        lock(&mut tx).await?;
        let done: Option<i64> = on_tx!(&mut tx, c => {
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(c)
                .await?
        });
        if done.is_some() {
            continue;
        }
        let fail = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        on_tx!(&mut tx, c => {
            sqlx::raw_sql(m.sql).execute(&mut *c).await.map_err(fail)?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(Utc::now().to_rfc3339())
                .execute(c)
                .await?;
        });
        tx.commit().await?;
        applied_now.push(m.version);
    }
    let found = current_version(db).await?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    if applied_now.contains(&8) {
        // The report counters are derived: build them from the dossiers already there.
        crate::repo::report::rebuild(db).await?;
    }
    Ok(applied_now)
}

/// The highest applied version (0 on an empty database).
pub async fn current_version(db: &Db) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let v: Option<i64> = on_tx!(&mut tx, c => {
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(c)
            .await?
    });
    tx.commit().await?;
    Ok(v.unwrap_or(0))
}

/// Serialises concurrent migrators: PostgreSQL takes a transaction-scoped advisory lock;
/// SQLite's `BEGIN IMMEDIATE` already holds the write lock. A migration may build an index
/// on a large table: no statement bound holds it (`Tx::unbounded`).
async fn lock(tx: &mut Tx) -> StoreResult<()> {
    tx.unbounded().await?;
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(7243510061)")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &str) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/").to_string() + dir;
        let mut v: Vec<String> = std::fs::read_dir(path)
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn listed(list: &[Migration]) -> Vec<String> {
        list.iter()
            .map(|m| {
                assert!(m.name.starts_with(&format!("{:04}_", m.version)), "{}", m.name);
                format!("{}.sql", m.name)
            })
            .collect()
    }

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        assert_eq!(files("sqlite"), listed(SQLITE));
        assert_eq!(files("postgres"), listed(POSTGRES));
        for list in [SQLITE, POSTGRES] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        assert_eq!(listed(SQLITE), listed(POSTGRES));
    }
}
