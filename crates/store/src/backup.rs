//! What a backup and a restore need of the database (`motcua backup`, `motcua restore`): a
//! consistent snapshot to copy — SQLite: `VACUUM INTO` a new file, online (a read transaction:
//! the server keeps writing meanwhile); PostgreSQL: a transaction whose snapshot `pg_dump
//! --snapshot` shares —, the files that snapshot's rows refer to, read from it a page at a
//! time, copied with their digest checked; and after a restore, the dossier code sequences
//! moved beyond the highest code present.

use crate::repo::files::{FileMeta, FileStore};
use crate::{Db, StoreError, StoreResult, on_read, on_tx};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use std::path::{Path, PathBuf};

/// Copies the whole SQLite database at `live`, as of one instant, into a new file at `to`
/// (which must not exist): `VACUUM INTO`, on a read-only connection of its own. A server
/// keeps writing meanwhile (WAL: a reader blocks no writer), and unlike the `.backup` of the
/// `sqlite3` shell it does not start again when the database changes, so it ends under any
/// write load. Nothing else of the live database is touched: no writer, no checkpoint.
pub async fn vacuum_into(live: &Path, to: &Path) -> StoreResult<()> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(live)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::Connect {
            url: format!("sqlite://{}", live.display()),
            source: e,
        })?;
    let done = sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await;
    conn.close().await?;
    done?;
    Ok(())
}

/// What a backup holds, from its snapshot: for its manifest and a restore's check.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub schema_version: i64,
    pub dossiers: i64,
    pub events: i64,
    pub files: i64,
    /// The largest dossier id (0 for none).
    pub max_dossier_id: i64,
}

/// A consistent, read-only view of a database being backed up: the SQLite file `VACUUM
/// INTO` wrote, or a PostgreSQL transaction (REPEATABLE READ) whose snapshot is exported for
/// `pg_dump --snapshot`, so the dump and the list of files are of the same instant.
pub struct Snapshot {
    conn: SnapConn,
}

enum SnapConn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// Runs the same body on the snapshot's connection, whichever backend.
macro_rules! on_snap {
    ($snap:expr, $c:ident => $body:expr) => {
        match &mut $snap.conn {
            SnapConn::Sqlite($c) => $body,
            SnapConn::Postgres($c) => $body,
        }
    };
}

const FILES_AFTER: &str =
    "SELECT sha256, size, filename, content_type FROM files WHERE sha256 > $1 ORDER BY sha256 LIMIT $2";

const COUNTS: &str = "SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_migrations),
    (SELECT COUNT(*) FROM dossiers), (SELECT COUNT(*) FROM dossier_events), (SELECT COUNT(*) FROM files),
    (SELECT COALESCE(MAX(id), 0) FROM dossiers)";

fn counts_of((schema_version, dossiers, events, files, max_dossier_id): (i64, i64, i64, i64, i64)) -> Counts {
    Counts {
        schema_version,
        dossiers,
        events,
        files,
        max_dossier_id,
    }
}

impl Snapshot {
    /// Opens a SQLite file written by `vacuum_into`, read-only and unchanged (no WAL, no
    /// journal mode switched), so its digest stays what the manifest says.
    pub async fn open_sqlite(path: &Path) -> StoreResult<Snapshot> {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(true);
        let conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| StoreError::Connect {
                url: format!("sqlite://{}", path.display()),
                source: e,
            })?;
        Ok(Snapshot {
            conn: SnapConn::Sqlite(conn),
        })
    }

    /// Begins a read-only REPEATABLE READ transaction on PostgreSQL and exports its
    /// snapshot: the id to give `pg_dump --snapshot`. The snapshot lives until `close`.
    pub async fn export_postgres(url: &str) -> StoreResult<(Snapshot, String)> {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| StoreError::Connect {
                url: crate::redact(url),
                source: e,
            })?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut conn)
            .await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut conn)
            .await?;
        Ok((
            Snapshot {
                conn: SnapConn::Postgres(conn),
            },
            id,
        ))
    }

    pub async fn counts(&mut self) -> StoreResult<Counts> {
        let row = on_snap!(self, c => sqlx::query_as(COUNTS).fetch_one(&mut *c).await?);
        Ok(counts_of(row))
    }

    /// The next `limit` files of the `files` table by digest after `after` ("" to start).
    /// Every file a row refers to is there: a dossier names only a file recorded first.
    pub async fn files_after(&mut self, after: &str, limit: i64) -> StoreResult<Vec<FileMeta>> {
        Ok(on_snap!(self, c => {
            sqlx::query_as(FILES_AFTER).bind(after).bind(limit).fetch_all(&mut *c).await?
        }))
    }

    /// Ends the snapshot (PostgreSQL: its transaction, after `pg_dump` is done with it).
    pub async fn close(self) -> StoreResult<()> {
        match self.conn {
            SnapConn::Sqlite(c) => c.close().await?,
            SnapConn::Postgres(mut c) => {
                sqlx::query("COMMIT").execute(&mut c).await?;
                c.close().await?;
            }
        }
        Ok(())
    }
}

/// `Snapshot::counts`, of a live database (after a restore).
pub async fn counts(db: &Db) -> StoreResult<Counts> {
    let row = on_read!(db, c => sqlx::query_as(COUNTS).fetch_one(&mut *c).await?);
    Ok(counts_of(row))
}

/// `Snapshot::files_after`, of a live database (after a restore).
pub async fn files_after(db: &Db, after: &str, limit: i64) -> StoreResult<Vec<FileMeta>> {
    Ok(on_read!(db, c => {
        sqlx::query_as(FILES_AFTER).bind(after).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Digests that a dossier's component or result names but the `files` table lacks (at most
/// `limit`): none unless rows were written around the service.
pub async fn unrecorded_references(db: &Db, limit: i64) -> StoreResult<Vec<String>> {
    Ok(on_read!(db, c => {
        sqlx::query_scalar(
            "SELECT sha FROM (
                 SELECT file_sha256 AS sha FROM dossier_components WHERE file_sha256 IS NOT NULL
                 UNION SELECT result_file FROM dossiers WHERE result_file IS NOT NULL) r
             WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = r.sha)
             ORDER BY sha LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    }))
}

/// The number of dossiers, or None when the database has no `dossiers` table (a new, empty
/// one): what a restore asks before replacing a database.
pub async fn dossiers_held(db: &Db) -> StoreResult<Option<i64>> {
    let sql = match db {
        Db::Sqlite { .. } => {
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'dossiers'"
        }
        Db::Postgres(_) => "SELECT to_regclass('dossiers') IS NOT NULL",
    };
    let exists: bool = on_read!(db, c => sqlx::query_scalar(sql).fetch_one(&mut *c).await?);
    if !exists {
        return Ok(None);
    }
    let n: i64 =
        on_read!(db, c => sqlx::query_scalar("SELECT COUNT(*) FROM dossiers").fetch_one(&mut *c).await?);
    Ok(Some(n))
}

/// The highest number of each agency's day among the codes present, `(agency code, day,
/// number)` from `AGENCY-YYMMDD-NNNN` (4 to 18 digits); codes of another shape are left out.
const SQLITE_HIGHEST: &str = "SELECT substr(code, 1, instr(code, '-') - 1) AS agency,
        '20' || substr(code, instr(code, '-') + 1, 2) || '-' || substr(code, instr(code, '-') + 3, 2)
            || '-' || substr(code, instr(code, '-') + 5, 2) AS day,
        MAX(CAST(substr(code, instr(code, '-') + 8) AS INTEGER)) AS last_seq
    FROM dossiers
    WHERE code IS NOT NULL
      AND substr(code, instr(code, '-') + 1) GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]*'
      AND substr(code, instr(code, '-') + 8) NOT GLOB '*[^0-9]*'
      AND length(code) - instr(code, '-') <= 25
    GROUP BY 1, 2";

const PG_HIGHEST: &str = "SELECT split_part(code, '-', 1) AS agency,
        '20' || substr(split_part(code, '-', 2), 1, 2) || '-' || substr(split_part(code, '-', 2), 3, 2)
            || '-' || substr(split_part(code, '-', 2), 5, 2) AS day,
        MAX(CAST(split_part(code, '-', 3) AS BIGINT)) AS last_seq
    FROM dossiers
    WHERE code ~ '^[^-]+-[0-9]{6}-[0-9]{4,18}$'
    GROUP BY 1, 2";

/// Moves every agency's day sequence (`dossier_sequences`, behind dossier codes: see
/// `repo::codes`) up to at least the highest number of that agency and day among the codes
/// present, creating the rows that are missing: the next code issued is then beyond every
/// code in the database, whatever the sequences said (a restore from a copy whose sequences
/// lag its dossiers, codes loaded by the historic import). One statement over the dossiers;
/// returns the sequences created or moved forward (0 when they were already beyond).
pub async fn resume_sequences(db: &Db) -> StoreResult<u64> {
    let highest = match db {
        Db::Sqlite { .. } => SQLITE_HIGHEST,
        Db::Postgres(_) => PG_HIGHEST,
    };
    // `WHERE true`: SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT with a join.
    let sql = format!(
        "INSERT INTO dossier_sequences (agency_id, day, last_seq)
         SELECT a.id, h.day, h.last_seq FROM ({highest}) h JOIN agencies a ON a.code = h.agency WHERE true
         ON CONFLICT (agency_id, day) DO UPDATE SET last_seq = excluded.last_seq
         WHERE dossier_sequences.last_seq < excluded.last_seq"
    );
    let mut tx = db.begin().await?;
    let moved = on_tx!(&mut tx, c => sqlx::query(&sql).execute(&mut *c).await?.rows_affected());
    tx.commit().await?;
    Ok(moved)
}

/// What became of one file copied by `copy_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// Copied, this many bytes, their digest checked.
    Bytes(u64),
    /// The target had it already, whole (its digest checked).
    Present,
    /// The source has no such file.
    Missing,
    /// The source's bytes do not have the digest they are named by: not copied.
    Corrupt,
}

/// Copies a content-addressed file from one file store to another (`DATA_DIR/files` layout,
/// `ab/abcdef…`, or `.swept/abcdef…` for a file the orphan sweep moved aside), checking the bytes against their name on the way, flushed to disk under a
/// temporary name and renamed into place; a target file already whole is left alone. The
/// caller flushes the directories it touched (`sync_dirs`) once at the end. Blocking I/O.
pub fn copy_file(from: &FileStore, to: &FileStore, sha256: &str) -> StoreResult<Copied> {
    let (Some(src), Some(dst)) = (from.path_of(sha256), to.path_of(sha256)) else {
        return Err(StoreError::Conflict(format!("not a SHA-256 digest: {sha256:?}")));
    };
    if dst.exists() && digest_of(&dst).map_err(io)?.as_deref() == Some(sha256) {
        return Ok(Copied::Present);
    }
    // A file the orphan sweep moved aside (`files/.swept`) is still the row's until removed.
    let opened = std::fs::File::open(&src).or_else(|e| match e.kind() {
        std::io::ErrorKind::NotFound => std::fs::File::open(from.swept_dir().join(sha256)),
        _ => Err(e),
    });
    let mut input = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Copied::Missing),
        Err(e) => return Err(io(e)),
    };
    let dir = dst.parent().ok_or_else(|| StoreError::Io("no parent".into()))?;
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(".{sha256}.{}.restore", std::process::id()));
    let copied = (|| -> std::io::Result<Option<u64>> {
        let mut out = std::fs::File::create(&tmp)?;
        let mut hash = Sha256::new();
        let n = copy_hashing(&mut input, &mut out, &mut hash)?;
        if motcua_domain::text::hex(&hash.finalize()) != sha256 {
            return Ok(None);
        }
        out.sync_all()?;
        std::fs::rename(&tmp, &dst)?;
        Ok(Some(n))
    })();
    match copied {
        Ok(Some(n)) => Ok(Copied::Bytes(n)),
        Ok(None) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(Copied::Corrupt)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io(e))
        }
    }
}

/// Whether a file store holds the file of this digest with these bytes: `Some(true)` whole,
/// `Some(false)` there but other bytes, None absent. Blocking I/O.
pub fn check_file(store: &FileStore, sha256: &str) -> StoreResult<Option<bool>> {
    let path = store
        .path_of(sha256)
        .ok_or_else(|| StoreError::Conflict(format!("not a SHA-256 digest: {sha256:?}")))?;
    Ok(digest_of(&path).map_err(io)?.map(|d| d == sha256))
}

/// The directory `copy_file` puts a file in (to flush once, `sync_dirs`).
pub fn dir_of(store: &FileStore, sha256: &str) -> Option<PathBuf> {
    store
        .path_of(sha256)
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

/// Flushes directories to disk, so the renames into them survive a crash. Blocking I/O.
pub fn sync_dirs<'a>(dirs: impl IntoIterator<Item = &'a PathBuf>) -> StoreResult<()> {
    for d in dirs {
        std::fs::File::open(d).and_then(|f| f.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// The SHA-256 of a file's bytes (hex), None if there is no such file. Blocking I/O.
pub fn digest_of(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut hash = Sha256::new();
    copy_hashing(&mut file, &mut std::io::sink(), &mut hash)?;
    Ok(Some(motcua_domain::text::hex(&hash.finalize())))
}

/// Copies `from` to `to`, hashing what passes; the bytes copied.
fn copy_hashing(
    from: &mut impl std::io::Read,
    to: &mut impl std::io::Write,
    hash: &mut Sha256,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let got = match from.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hash.update(&buf[..got]);
        to.write_all(&buf[..got])?;
        n += got as u64;
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}
