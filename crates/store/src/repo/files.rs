//! Content-addressed files (form templates, uploaded scans, results): bytes on disk under
//! `DATA_DIR/files/ab/abcdef…` named by their SHA-256, metadata in the `files` table.

use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::Utc;
use sha2::{Digest, Sha256};
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

/// A file `FileStore::write` put on disk, not yet recorded.
#[derive(Debug, Clone)]
pub struct Written {
    pub sha256: String,
    pub size: i64,
}

/// Records the metadata of a file on disk (`FileStore::write`) in `tx`; recording the same
/// content again keeps the first name and type.
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
             ON CONFLICT (sha256) DO NOTHING",
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

pub async fn meta(db: &Db, sha256: &str) -> StoreResult<Option<FileMeta>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT sha256, size, filename, content_type FROM files WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(pool)
            .await?
    }))
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

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}
