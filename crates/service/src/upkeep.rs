//! The server's hourly upkeep (docs/operations.md): forgets old idempotency keys and drafts, sweeps
//! orphan files — files no row refers to once a grace period has passed since they were
//! recorded (an upload never used in a dossier, a form refused after its files were kept, a
//! write a crash cut short).
//!
//! A sweep marks such a file's row swept (in a write transaction that first checks no dossier
//! names it; a swept file is no longer offered to new dossiers) and moves its bytes into
//! `files/.swept`. After another grace period a swept file no row names is removed with its
//! row, and one a row names again (a dossier received while it was being swept, an upload of
//! the same content) is put back. Reading a file looks in `.swept` too, so nothing a dossier
//! refers to is ever unreadable.

use crate::{ServiceResult, Services};
use chrono::Utc;
use motcua_store::repo::{files, idempotency};
use std::time::Duration;

/// Files looked at per query of the sweep.
const CHUNK: i64 = 500;

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Files moved aside (recorded, or on disk only, and named by no row).
    pub swept: usize,
    /// Swept files removed for good.
    pub removed: usize,
    /// Swept files put back (a row names them again).
    pub restored: usize,
    /// Unfinished uploads removed from `files/.incoming`.
    pub incoming: usize,
}

impl Services {
    /// One sweep of orphan files recorded more than `grace` ago. An hourly pass looks at the
    /// files recorded in the two days before that (a file a dossier once named stays named);
    /// `whole` looks at every file, recorded or only on disk (a walk of every directory:
    /// daily, not hourly).
    pub async fn sweep_files(&self, grace: Duration, whole: bool) -> ServiceResult<Swept> {
        let mut done = Swept::default();
        let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
        let from = if whole {
            chrono::DateTime::<Utc>::UNIX_EPOCH
        } else {
            cutoff - chrono::Duration::days(2)
        };
        let forms = files::named_by_procedures(self.db()).await?;
        // Recorded files no dossier refers to, each forgotten in its own transaction (the
        // writer is held a moment at a time); a form template is kept.
        let mut place: files::FilePlace = (from, String::new());
        loop {
            let batch = files::unreferenced(self.db(), &place, cutoff, CHUNK).await?;
            let Some(last) = batch.last() else { break };
            place = last.clone();
            for (_, sha) in &batch {
                if forms.contains(sha) || !files::mark_swept(self.db(), sha, cutoff, Utc::now()).await? {
                    continue;
                }
                self.forget_stored(sha);
                if self.files().sweep(sha).await? {
                    done.swept += 1;
                }
            }
        }
        if whole {
            for prefix in 0..=u8::MAX {
                let on_disk = self.files().on_disk_before(prefix, grace).await?;
                let named = files::still_named(self.db(), &on_disk).await?;
                for sha in on_disk
                    .iter()
                    .filter(|s| !named.contains(*s) && !forms.contains(*s))
                {
                    if self.files().sweep(sha).await? {
                        done.swept += 1;
                    }
                }
            }
        }
        // Swept a grace period ago: gone for good, unless a row names them again.
        let swept = self.files().swept_before(grace).await?;
        let named = files::still_named(self.db(), &swept).await?;
        for sha in swept {
            if named.contains(&sha) || forms.contains(&sha) {
                files::unmark_swept(self.db(), &sha).await?;
                self.files().unsweep(&sha).await?;
                done.restored += 1;
            } else {
                files::forget_swept(self.db(), &sha).await?;
                self.files().purge(&sha).await?;
                done.removed += 1;
            }
        }
        done.incoming = self.files().clear_incoming(grace).await?;
        Ok(done)
    }

    /// Forgets idempotency keys older than their keeping time.
    pub async fn forget_idempotency_keys(&self) -> ServiceResult<u64> {
        let cutoff = self.now() - chrono::Duration::days(crate::idempotency::KEEP_DAYS);
        Ok(idempotency::forget_before(self.db(), cutoff).await?)
    }
}

/// Runs the upkeep at start and every hour; the disk walk every 24th pass. A `grace` of
/// zero turns the file sweep off (idempotency keys are still forgotten).
pub fn spawn(services: Services, grace: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut pass: u64 = 0;
        loop {
            match services.forget_idempotency_keys().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(forgotten = n, "upkeep: old idempotency keys forgotten"),
                Err(e) => tracing::warn!(error = %e, "upkeep: idempotency keys"),
            }
            match services.forget_old_drafts().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(forgotten = n, "upkeep: untouched submission drafts forgotten"),
                Err(e) => tracing::warn!(error = %e, "upkeep: submission drafts"),
            }
            if !grace.is_zero() {
                match services.sweep_files(grace, pass.is_multiple_of(24)).await {
                    Ok(s) if s == Swept::default() => {}
                    Ok(s) => tracing::info!(
                        swept = s.swept,
                        removed = s.removed,
                        restored = s.restored,
                        incoming = s.incoming,
                        "upkeep: orphan files"
                    ),
                    Err(e) => tracing::warn!(error = %e, "upkeep: orphan files; trying again in an hour"),
                }
            }
            pass += 1;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}
