//! Idempotent creating calls (`Idempotency-Key`): a client that lost the answer to a call
//! that did create something sends it again with the same key and gets that record back, not
//! a second one. The key is claimed in the transaction that creates the record, so two tries
//! at once never both create: the second fails, finds the claim, and answers with it. A key is
//! the caller's own (its scope: the officer, or the client address of an anonymous caller) and
//! names one request: the same key with another request is refused.

use crate::{ServiceError, ServiceResult};
use motcua_domain::msg;
use sha2::{Digest, Sha256};

/// Longest key accepted.
pub const MAX_KEY: usize = 200;
/// Days a key is remembered.
pub const KEEP_DAYS: i64 = 7;

/// A key as the caller sent it, in its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
}

impl IdempotencyKey {
    /// A key of 1 to [`MAX_KEY`] printable ASCII characters, in a scope.
    pub fn new(scope: impl Into<String>, key: &str) -> ServiceResult<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ServiceError::BadRequest(msg!("idempotency.key", MAX_KEY)));
        }
        Ok(IdempotencyKey {
            scope: scope.into(),
            key: key.to_string(),
        })
    }
}

/// The digest a key's request is remembered by.
pub fn request_hash(request: &impl serde::Serialize) -> ServiceResult<String> {
    let text = serde_json::to_vec(request).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(motcua_domain::text::hex(&Sha256::digest(&text)))
}

impl crate::Services {
    /// The claim of a key another try holds, once that try has committed: a try that lost the
    /// race for the key may learn so before the winner's commit is visible (on SQLite the two
    /// may share a group commit), so it looks again for a moment.
    pub(crate) async fn claim_of(
        &self,
        key: &IdempotencyKey,
    ) -> ServiceResult<Option<motcua_store::repo::idempotency::Claim>> {
        for _ in 0..50 {
            if let Some(claim) =
                motcua_store::repo::idempotency::find(self.db(), &key.scope, &key.key).await?
            {
                return Ok(Some(claim));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(None)
    }
}

/// The refusal of a key already used for another request (422, as the Idempotency-Key
/// draft has it).
pub fn reused() -> ServiceError {
    ServiceError::invalid("Idempotency-Key", msg!("idempotency.reused"))
}
