//! Files that arrive in pieces (uploads streamed from a request): written to a temporary
//! file under `DATA_DIR/files/.incoming` as they come and hashed on the way, so a request never
//! holds a whole file in memory; moved into the store under their digest once the caller keeps
//! them (`FileStore::adopt`), removed if it does not (dropped unkept).

use super::files::{FileStore, Written, blocking, io, move_into_place, older_than, read_dir_or_empty};
use crate::{StoreError, StoreResult};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Numbers this process's incoming files.
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A file being received.
pub struct Incoming {
    file: Option<tokio::fs::File>,
    arrived: Arrived,
    hash: Sha256,
}

/// A file received whole, not yet in the store: removed when dropped unless adopted.
pub struct Arrived {
    path: PathBuf,
    pub sha256: String,
    pub size: u64,
    adopted: bool,
}

impl Drop for Arrived {
    fn drop(&mut self) {
        if !self.adopted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl FileStore {
    /// Where files arrive before they are kept.
    pub fn incoming_dir(&self) -> PathBuf {
        self.root().join(".incoming")
    }

    /// A new incoming file.
    pub async fn incoming(&self) -> StoreResult<Incoming> {
        let dir = self.incoming_dir();
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("{}.{n}.part", std::process::id()));
        let file = tokio::fs::File::create(&path).await.map_err(io)?;
        Ok(Incoming {
            file: Some(file),
            arrived: Arrived {
                path,
                sha256: String::new(),
                size: 0,
                adopted: false,
            },
            hash: Sha256::new(),
        })
    }

    /// Moves an arrived file into the store under its digest (unless a file of that digest is
    /// there already), flushed with its directory.
    pub async fn adopt(&self, mut arrived: Arrived) -> StoreResult<Written> {
        let to = self
            .path_of(&arrived.sha256)
            .ok_or_else(|| StoreError::Conflict("bad digest".into()))?;
        let from = arrived.path.clone();
        arrived.adopted = true;
        blocking(move || move_into_place(&from, &to)).await?;
        Ok(Written {
            sha256: arrived.sha256.clone(),
            size: arrived.size as i64,
        })
    }

    /// Removes incoming files older than `age` (left by a process that stopped mid-upload).
    pub async fn clear_incoming(&self, age: std::time::Duration) -> StoreResult<usize> {
        let dir = self.incoming_dir();
        blocking(move || {
            let mut removed = 0;
            for entry in read_dir_or_empty(&dir)? {
                let entry = entry?;
                if older_than(&entry, age)? && std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

impl Incoming {
    /// Appends a piece.
    pub async fn write(&mut self, piece: &[u8]) -> StoreResult<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| StoreError::Io("written after its end".into()))?;
        file.write_all(piece).await.map_err(io)?;
        self.hash.update(piece);
        self.arrived.size += piece.len() as u64;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.arrived.size
    }

    /// The whole file, flushed to disk, with its digest.
    pub async fn finish(mut self) -> StoreResult<Arrived> {
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
        }
        let mut arrived = std::mem::replace(
            &mut self.arrived,
            Arrived {
                path: PathBuf::new(),
                sha256: String::new(),
                size: 0,
                adopted: true,
            },
        );
        arrived.sha256 = motcua_domain::text::hex(&std::mem::take(&mut self.hash).finalize());
        Ok(arrived)
    }
}
