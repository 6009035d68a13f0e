//! The audit of the dossiers' event logs (`motcua audit verify`): every hash chain checked
//! against the head its dossier's row keeps (its number of events and last hash), a page of
//! dossiers at a time, so memory stays bounded however many there are.

use crate::{ServiceResult, Services};
use motcua_domain::dossier::chain::ChainBreak;
use motcua_store::repo::events::{self, Chain};

/// A dossier whose chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The dossier's code, or `online-ID` before it has one.
    pub key: String,
    pub why: ChainBreak,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.why)
    }
}

impl Services {
    /// The chains (head and events, read in one statement) of the next `limit` dossiers by
    /// id after `after_id`: start at 0, then pass the last id of each page; empty at the end.
    pub async fn chains_after(&self, after_id: i64, limit: i64) -> ServiceResult<Vec<Chain>> {
        Ok(events::chains_after(self.db(), after_id, limit).await?)
    }
}

/// The broken chains of a page, in its order (one entry per dossier: its first break).
pub fn check(chains: &[Chain]) -> Vec<Broken> {
    chains
        .iter()
        .filter_map(|c| {
            crate::dossiers::verify_chain(c.dossier_id, &c.head, &c.events)
                .err()
                .map(|why| Broken {
                    key: c
                        .code
                        .clone()
                        .unwrap_or_else(|| format!("online-{}", c.dossier_id)),
                    why,
                })
        })
        .collect()
}
