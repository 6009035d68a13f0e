//! Content-addressed files (form templates, uploaded scans, results): bytes on disk under
//! `DATA_DIR/files/ab/abcdef…` named by their SHA-256, metadata in the `files` table.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileMeta {
    pub sha256: String,
    pub size: i64,
    pub filename: String,
    pub content_type: String,
}

impl FileStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("files"),
        }
    }

    /// The directory the files are kept under (`DATA_DIR/files`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        valid.then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Writes the bytes (once: same content, same file) and records the metadata in `tx`:
    /// `write` then `record`. A request should `write` before its transaction begins, so
    /// the disk's flush does not hold the database's writer (SQLite has one).
    pub async fn put(
        &self,
        tx: &mut Tx,
        bytes: &[u8],
        filename: &str,
        content_type: &str,
    ) -> StoreResult<FileMeta> {
        let written = self.write(bytes).await?;
        record(tx, &written, filename, content_type).await
    }

    /// Puts the bytes on disk, flushed, under their digest, unless a file of that digest is
    /// there already. The file is on disk before the transaction that records it commits,
    /// so a committed row always has its bytes; a file no transaction records is harmless.
    pub async fn write(&self, bytes: &[u8]) -> StoreResult<Written> {
        let sha256 = motcua_domain::text::hex(&Sha256::digest(bytes));
        let path = self
            .path_of(&sha256)
            .ok_or_else(|| StoreError::Conflict("bad digest".into()))?;
        if !path.exists() {
            let bytes = bytes.to_vec();
            // On a blocking thread, which finishes even if the request is dropped meanwhile.
            tokio::task::spawn_blocking(move || write_whole(&path, &bytes))
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
                .map_err(io)?;
        }
        Ok(Written {
            sha256,
            size: bytes.len() as i64,
        })
    }

    /// The metadata and bytes of a stored file.
    pub async fn get(&self, db: &Db, sha256: &str) -> StoreResult<Option<(FileMeta, Vec<u8>)>> {
        let Some(path) = self.path_of(sha256) else {
            return Ok(None);
        };
        let Some(meta) = meta(db, sha256).await? else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some((meta, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Swept while an upload of the same content recorded it again: still kept.
                match tokio::fs::read(self.swept_dir().join(sha256)).await {
                    Ok(bytes) => Ok(Some((meta, bytes))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Where swept files wait a grace period before they are removed (`files/.swept`).
    pub fn swept_dir(&self) -> PathBuf {
        self.root.join(".swept")
    }

    /// Moves a file no row names out of the store into `.swept`, stamped now. False if it
    /// was not there.
    pub async fn sweep(&self, sha256: &str) -> StoreResult<bool> {
        let Some(from) = self.path_of(sha256) else {
            return Ok(false);
        };
        let dir = self.swept_dir();
        let to = dir.join(sha256);
        blocking(move || {
            std::fs::create_dir_all(&dir)?;
            match std::fs::rename(&from, &to) {
                Ok(()) => {
                    std::fs::File::options()
                        .append(true)
                        .open(&to)?
                        .set_modified(std::time::SystemTime::now())?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Puts a swept file back in the store (a row names it again); drops the swept copy if
    /// the store has the file already.
    pub async fn unsweep(&self, sha256: &str) -> StoreResult<()> {
        let Some(to) = self.path_of(sha256) else {
            return Ok(());
        };
        let from = self.swept_dir().join(sha256);
        blocking(move || move_into_place(&from, &to)).await
    }

    /// Removes a swept file for good.
    pub async fn purge(&self, sha256: &str) -> StoreResult<()> {
        let path = self.swept_dir().join(sha256);
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        })
        .await
    }

    /// The digests of the swept files swept at least `age` ago.
    pub async fn swept_before(&self, age: std::time::Duration) -> StoreResult<Vec<String>> {
        let dir = self.swept_dir();
        blocking(move || {
            let mut out = Vec::new();
            for entry in read_dir_or_empty(&dir)? {
                let entry = entry?;
                if older_than(&entry, age)?
                    && let Some(name) = digest_name(&entry)
                {
                    out.push(name);
                }
            }
            Ok(out)
        })
        .await
    }

    /// The digests of the files on disk under one of the 256 two-digit directories
    /// (`prefix`) written at least `age` ago; removes the temporary files of writes that
    /// never finished (a process stopped mid-write) of that age on the way.
    pub async fn on_disk_before(&self, prefix: u8, age: std::time::Duration) -> StoreResult<Vec<String>> {
        let dir = self.root.join(format!("{prefix:02x}"));
        blocking(move || {
            let mut out = Vec::new();
            for entry in read_dir_or_empty(&dir)? {
                let entry = entry?;
                if !older_than(&entry, age)? {
                    continue;
                }
                match digest_name(&entry) {
                    Some(sha) => out.push(sha),
                    None if entry.file_name().to_string_lossy().ends_with(".tmp") => {
                        let _ = std::fs::remove_file(entry.path());
                    }
                    None => {}
                }
            }
            Ok(out)
        })
        .await
    }
}

/// Moves a file to its place in the store, unless a file is there already (same name, same
/// digest, same bytes): then the one moved is dropped. The directory is flushed, so the move
/// survives a crash. Blocking I/O.
pub(super) fn move_into_place(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        return std::fs::remove_file(from);
    }
    let dir = to.parent().ok_or(std::io::ErrorKind::InvalidInput)?;
    std::fs::create_dir_all(dir)?;
    std::fs::rename(from, to)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Runs file-system work on a blocking thread (it finishes even if the caller is dropped).
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Io(e.to_string()))?
        .map_err(io)
}

pub(super) fn read_dir_or_empty(dir: &Path) -> std::io::Result<Vec<std::io::Result<std::fs::DirEntry>>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

pub(super) fn older_than(entry: &std::fs::DirEntry, age: std::time::Duration) -> std::io::Result<bool> {
    Ok(entry
        .metadata()?
        .modified()?
        .elapsed()
        .is_ok_and(|elapsed| elapsed >= age))
}

/// The digest a stored file is named by, if the entry is one.
fn digest_name(entry: &std::fs::DirEntry) -> Option<String> {
    let name = entry.file_name().into_string().ok()?;
    let valid = name.len() == 64
        && name
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    valid.then_some(name)
}

/// A file `FileStore::write` put on disk, not yet recorded.
#[derive(Debug, Clone)]
pub struct Written {
    pub sha256: String,
    pub size: i64,
}

/// Records the metadata of a file on disk (`FileStore::write`) in `tx`; recording the same
/// content again keeps the first name and type, and starts its grace period again (the
/// orphan sweep leaves a file recorded less than a grace period ago alone).
pub async fn record(
    tx: &mut Tx,
    written: &Written,
    filename: &str,
    content_type: &str,
) -> StoreResult<FileMeta> {
    let meta = FileMeta {
        sha256: written.sha256.clone(),
        size: written.size,
        filename: filename.to_string(),
        content_type: content_type.to_string(),
    };
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO files (sha256, size, filename, content_type, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at, swept_at = NULL",
        )
        .bind(&meta.sha256)
        .bind(meta.size)
        .bind(&meta.filename)
        .bind(&meta.content_type)
        .bind(Utc::now())
        .execute(c)
        .await?;
    });
    Ok(meta)
}

/// Whether a file is stored and may be named by a new dossier (not swept as an orphan).
pub async fn offered(db: &Db, sha256: &str) -> StoreResult<bool> {
    let row: Option<(String,)> = on_read!(db, pool => {
        sqlx::query_as("SELECT sha256 FROM files WHERE sha256 = $1 AND swept_at IS NULL")
            .bind(sha256)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.is_some())
}

/// The metadata of a file, swept or not (a dossier may name a file swept while it was
/// being received: it stays readable).
pub async fn meta(db: &Db, sha256: &str) -> StoreResult<Option<FileMeta>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT sha256, size, filename, content_type FROM files WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(pool)
            .await?
    }))
}

/// The condition "no row refers to the file `f.sha256`" (a dossier's component or result, a
/// submission draft's file; form templates, named inside the procedures' JSON, are checked by
/// the sweep apart).
const UNREFERENCED: &str = "NOT EXISTS (SELECT 1 FROM dossier_components c WHERE c.file_sha256 = f.sha256)
     AND NOT EXISTS (SELECT 1 FROM dossiers d WHERE d.result_file = f.sha256)
     AND NOT EXISTS (SELECT 1 FROM submission_draft_files s WHERE s.sha256 = f.sha256)";

/// A place in the files ordered by (recorded, digest): where a walk resumes.
pub type FilePlace = (DateTime<Utc>, String);

/// Up to `limit` files recorded after `after` and before `cutoff`, not swept, that no dossier refers to,
/// in (recorded, digest) order, each with its place (through the `files_created` index).
pub async fn unreferenced(
    db: &Db,
    after: &FilePlace,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<FilePlace>> {
    let sql = format!(
        "SELECT f.created_at, f.sha256 FROM files f
         WHERE f.created_at < $1 AND (f.created_at > $2 OR (f.created_at = $2 AND f.sha256 > $3))
           AND f.swept_at IS NULL AND {UNREFERENCED}
         ORDER BY f.created_at, f.sha256 LIMIT $4"
    );
    Ok(on_read!(db, pool => {
        sqlx::query_as(&sql).bind(cutoff).bind(after.0).bind(&after.1).bind(limit).fetch_all(pool).await?
    }))
}

/// Marks a file swept if it is still older than `cutoff`, not swept, and no dossier refers
/// to it, in one write transaction (a dossier committed before it is seen; an upload of the
/// same content recorded meanwhile keeps it). True if it was marked: its bytes may be moved
/// aside.
pub async fn mark_swept(
    db: &Db,
    sha256: &str,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = format!(
        "UPDATE files SET swept_at = $3 WHERE sha256 = $1 AND created_at < $2 AND swept_at IS NULL AND {UNREFERENCED}"
    )
    .replace("f.sha256", "files.sha256");
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => {
        sqlx::query(&sql).bind(sha256).bind(cutoff).bind(now).execute(c).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(n > 0)
}

/// Forgets the record of a swept file no dossier refers to (if there is one).
pub async fn forget_swept(db: &Db, sha256: &str) -> StoreResult<()> {
    let sql = format!("DELETE FROM files WHERE sha256 = $1 AND swept_at IS NOT NULL AND {UNREFERENCED}")
        .replace("f.sha256", "files.sha256");
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => {
        sqlx::query(&sql).bind(sha256).execute(c).await?;
    });
    tx.commit().await?;
    Ok(())
}

/// Puts a swept file's record back (a dossier or form named it after all).
pub async fn unmark_swept(db: &Db, sha256: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => {
        sqlx::query("UPDATE files SET swept_at = NULL WHERE sha256 = $1").bind(sha256).execute(c).await?;
    });
    tx.commit().await?;
    Ok(())
}

/// Of these digests, those a `files` row records (not swept) or a dossier refers to.
pub async fn still_named(db: &Db, shas: &[String]) -> StoreResult<HashSet<String>> {
    let mut named = HashSet::new();
    for chunk in shas.chunks(200) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT sha256 FROM files WHERE sha256 IN ({marks}) AND swept_at IS NULL
             UNION SELECT file_sha256 FROM dossier_components WHERE file_sha256 IN ({marks})
             UNION SELECT result_file FROM dossiers WHERE result_file IN ({marks})
             UNION SELECT sha256 FROM submission_draft_files WHERE sha256 IN ({marks})"
        );
        let rows: Vec<(String,)> = on_read!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for s in chunk {
                q = q.bind(s);
            }
            q.fetch_all(pool).await?
        });
        named.extend(rows.into_iter().map(|(s,)| s));
    }
    Ok(named)
}

/// Every file digest the procedures' versions name (`sha256:HEX` in their JSON): form
/// templates. The catalog is small (thousands of versions), read whole.
pub async fn named_by_procedures(db: &Db) -> StoreResult<HashSet<String>> {
    let rows: Vec<(String,)> = on_read!(db, pool => {
        sqlx::query_as("SELECT spec FROM procedure_versions").fetch_all(pool).await?
    });
    let mut named = HashSet::new();
    for (spec,) in rows {
        let mut rest = spec.as_str();
        while let Some(at) = rest.find("sha256:") {
            rest = &rest[at + 7..];
            let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if hex.len() == 64 {
                named.insert(hex);
            }
        }
    }
    Ok(named)
}

/// Numbers the temporary files of this process, so two uploads of the same new content at
/// once each write their own (they used to share one: the second truncated the first's
/// while it was renamed into place, and its own rename then failed).
static NEXT_TMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Writes `bytes` beside `path`, flushes them to disk, renames the file into place and
/// flushes the directory: once the row naming the file commits, the file survives a crash.
/// Same content, same name: a rename over a file another upload put there changes nothing.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().ok_or(std::io::ErrorKind::InvalidInput)?;
    std::fs::create_dir_all(dir)?;
    let n = NEXT_TMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

pub(super) fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}
