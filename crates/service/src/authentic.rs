//! Checking that an electronic result is authentic (Decree 118/2025: results are issued
//! electronically and must be verifiable): by its verification code or by the file itself,
//! anyone may learn whether it is a result this system issued, of which procedure and agency,
//! when, under which number — nothing personal.

use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::authentic;
use motcua_domain::dossier::Dossier;
use motcua_domain::msg;
use motcua_store::repo::{dossiers, events, users};

/// An authentic result, as the public check shows it.
#[derive(Debug, Clone)]
pub struct Authentic {
    pub verification: String,
    /// The dossier's code.
    pub dossier: String,
    pub procedure_name: String,
    pub agency_name: String,
    pub issued_at: Option<DateTime<Utc>>,
    pub result_number: Option<String>,
    /// The officer who approved it (the signer of the result, not the citizen).
    pub approved_by: Option<String>,
}

impl Services {
    /// The result a verification code (or a whole digest) names; None when no result of this
    /// system has it. Counted against the client's lookups.
    pub async fn check_result(&self, typed: &str, client: &str) -> ServiceResult<Option<Authentic>> {
        self.limits()
            .lookups_per_address
            .hit(client)
            .map_err(|wait| ServiceError::TooMany {
                msg: msg!("lookup.too_many", wait.div_ceil(60)),
                wait_seconds: wait,
            })?;
        let Some(prefix) = authentic::parse(typed) else {
            return Err(ServiceError::invalid("ma", msg!("result.code_format")));
        };
        let found = dossiers::with_result(self.db(), &prefix).await?;
        // Two results sharing 64 bits of digest: the short code cannot tell them apart.
        let [(id, _)] = found.as_slice() else {
            return Ok(None);
        };
        let Some(d) = dossiers::find_by_id(self.db(), *id).await? else {
            return Ok(None);
        };
        self.authentic_of(&d).await
    }

    /// What the public check says of a dossier's result; None without one.
    pub async fn authentic_of(&self, d: &Dossier) -> ServiceResult<Option<Authentic>> {
        let Some(sha) = d.result_file.as_deref() else {
            return Ok(None);
        };
        // The approval that attached the result names its officer.
        let approver = events::events(self.db(), d.id)
            .await?
            .into_iter()
            .rev()
            .find(|e| e.action == "approve")
            .map(|e| e.actor);
        let approved_by = match approver {
            Some(username) => users::by_username(self.db(), &username)
                .await?
                .map(|u| u.full_name)
                .or(Some(username)),
            None => None,
        };
        Ok(Some(Authentic {
            verification: authentic::verification_code(sha),
            dossier: d.key(),
            procedure_name: d.procedure_name.clone(),
            agency_name: d.agency_name.clone(),
            issued_at: d.finished_at,
            result_number: d.result_number.clone(),
            approved_by,
        }))
    }
}

/// Largest file the public check reads (a result is a signed PDF or a scan).
pub const MAX_CHECKED_BYTES: u64 = 50 * 1024 * 1024;

/// A file sent to be checked, hashed as it arrives (never kept, never whole in memory).
#[derive(Default)]
pub struct Fingerprint {
    hasher: sha2::Sha256,
    size: u64,
}

impl Fingerprint {
    pub fn update(&mut self, piece: &[u8]) -> ServiceResult<()> {
        use sha2::Digest;
        self.size += piece.len() as u64;
        if self.size > MAX_CHECKED_BYTES {
            return Err(ServiceError::TooLarge(msg!(
                "file.too_large",
                MAX_CHECKED_BYTES / (1024 * 1024)
            )));
        }
        self.hasher.update(piece);
        Ok(())
    }

    /// The SHA-256 (hex) of what came; None when nothing did.
    pub fn finish(self) -> Option<String> {
        use sha2::Digest;
        (self.size > 0).then(|| motcua_domain::text::hex(&self.hasher.finalize()))
    }
}
