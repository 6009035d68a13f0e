//! The hash chain of a dossier's events: each event's hash covers its content and the hash
//! before it, so changing, removing or reordering any stored event is detectable.

use sha2::{Digest, Sha256};

/// The fields of an event that the hash covers, in a fixed canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContent<'a> {
    pub dossier_code: &'a str,
    pub seq: i64,
    /// RFC 3339 UTC with microseconds.
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub step: Option<i64>,
    pub note: &'a str,
    /// JSON text of the attachments and other details.
    pub details: &'a str,
}

/// The hash of the first event's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// sha256(prev_hash ‖ each field length-prefixed), hex.
pub fn event_hash(prev_hash: &str, e: &EventContent<'_>) -> String {
    let mut h = Sha256::new();
    let step = e.step.map(|s| s.to_string()).unwrap_or_default();
    let seq = e.seq.to_string();
    for part in [
        prev_hash,
        e.dossier_code,
        &seq,
        e.at,
        e.actor,
        e.action,
        e.from_status,
        e.to_status,
        &step,
        e.note,
        e.details,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    crate::text::hex(&h.finalize())
}

/// Verifies a whole chain given (content, stored prev_hash, stored hash) in stored order; the
/// position (1-based, = the expected seq) of the first broken event, if any.
pub fn verify<'a>(events: impl IntoIterator<Item = (EventContent<'a>, &'a str, &'a str)>) -> Result<(), i64> {
    let mut prev = GENESIS.to_string();
    for (expected_seq, (content, stored_prev, stored_hash)) in (1..).zip(events) {
        if content.seq != expected_seq || stored_prev != prev || event_hash(&prev, &content) != stored_hash {
            return Err(expected_seq);
        }
        prev = stored_hash.to_string();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: i64, note: &'static str) -> EventContent<'static> {
        EventContent {
            dossier_code: "000.00.01.H56-261127-0001",
            seq,
            at: "2026-11-27T03:00:00.000000Z",
            actor: "tiepnhan",
            action: "accept",
            from_status: "submitted",
            to_status: "received",
            step: None,
            note,
            details: "{}",
        }
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_breaks_it() {
        let events = [ev(1, "a"), ev(2, "b"), ev(3, "c")];
        let mut hashes = Vec::new();
        let mut prev = GENESIS.to_string();
        for e in &events {
            let h = event_hash(&prev, e);
            hashes.push((prev.clone(), h.clone()));
            prev = h;
        }
        let rows = |evs: &[EventContent<'static>]| -> Result<(), i64> {
            verify(
                evs.iter()
                    .cloned()
                    .zip(hashes.iter())
                    .map(|(e, (p, h))| (e, p.as_str(), h.as_str())),
            )
        };
        assert_eq!(rows(&events), Ok(()));
        let mut tampered = events.clone();
        tampered[1].note = "sửa";
        assert_eq!(rows(&tampered), Err(2));
        let reordered = [events[0].clone(), events[2].clone(), events[1].clone()];
        assert_eq!(rows(&reordered), Err(2));
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = ev(1, "ab");
        a.actor = "x";
        let mut b = ev(1, "b");
        b.actor = "xa";
        assert_ne!(event_hash(GENESIS, &a), event_hash(GENESIS, &b));
    }
}
