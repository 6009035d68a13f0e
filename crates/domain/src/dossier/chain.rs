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

/// Where a chain is broken: the first thing found wrong, walking from the first event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// No event has this seq while later ones are there: removed from the middle.
    Missing { seq: i64 },
    /// The event of this seq does not hash to its stored hash, or its `prev_hash` is not the
    /// hash before it: changed (or reordered, renumbered).
    Hash { seq: i64 },
    /// The events verify among themselves but are fewer than the dossier's head counts: the
    /// last ones were removed (all of them when `found` is 0).
    Truncated { found: i64, expected: i64 },
    /// More events than the dossier's head counts.
    Extra { found: i64, expected: i64 },
    /// As many events as counted, but the last one's hash is not the head's.
    HeadHash,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Missing { seq } => write!(f, "missing events: no event {seq}, later ones present"),
            ChainBreak::Hash { seq } => write!(f, "hash mismatch at seq {seq}"),
            ChainBreak::Truncated { found: 0, expected } => {
                write!(f, "truncated: no events, the dossier counts {expected}")
            }
            ChainBreak::Truncated { found, expected } => write!(
                f,
                "truncated: {found} of {expected} events, the last {} missing",
                expected - found
            ),
            ChainBreak::Extra { found, expected } => {
                write!(f, "head mismatch: {found} events, the dossier counts {expected}")
            }
            ChainBreak::HeadHash => write!(
                f,
                "head mismatch: the last event's hash is not the dossier's last hash"
            ),
        }
    }
}

/// Verifies a whole chain given (content, stored prev_hash, stored hash) in stored order (by
/// seq), against its head kept in the dossier's row: the number of events and the last hash
/// (`GENESIS` for none). Each event must follow the one before it, and the last must be the
/// head, so removing the last events (or all of them) breaks the chain as changing one does.
pub fn verify<'a>(
    events: impl IntoIterator<Item = (EventContent<'a>, &'a str, &'a str)>,
    head_count: i64,
    head_hash: &str,
) -> Result<(), ChainBreak> {
    let mut prev = GENESIS.to_string();
    let mut found = 0;
    for (expected_seq, (content, stored_prev, stored_hash)) in (1..).zip(events) {
        if content.seq > expected_seq {
            return Err(ChainBreak::Missing { seq: expected_seq });
        }
        if content.seq != expected_seq || stored_prev != prev || event_hash(&prev, &content) != stored_hash {
            return Err(ChainBreak::Hash { seq: expected_seq });
        }
        prev = stored_hash.to_string();
        found = expected_seq;
    }
    if found < head_count {
        Err(ChainBreak::Truncated {
            found,
            expected: head_count,
        })
    } else if found > head_count {
        Err(ChainBreak::Extra {
            found,
            expected: head_count,
        })
    } else if prev != head_hash {
        Err(ChainBreak::HeadHash)
    } else {
        Ok(())
    }
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
        let head = hashes.last().unwrap().1.clone();
        let rows = |evs: &[EventContent<'static>], stored: &[(String, String)]| {
            verify(
                evs.iter()
                    .cloned()
                    .zip(stored.iter())
                    .map(|(e, (p, h))| (e, p.as_str(), h.as_str())),
                3,
                &head,
            )
        };
        assert_eq!(rows(&events, &hashes), Ok(()));
        let mut tampered = events.clone();
        tampered[1].note = "sửa";
        assert_eq!(rows(&tampered, &hashes), Err(ChainBreak::Hash { seq: 2 }));
        let reordered = [events[0].clone(), events[2].clone(), events[1].clone()];
        assert_eq!(rows(&reordered, &hashes), Err(ChainBreak::Missing { seq: 2 }));
        // The middle one removed; the last one removed; all removed.
        let gap = [
            (events[0].clone(), hashes[0].clone()),
            (events[2].clone(), hashes[2].clone()),
        ];
        let (gap_events, gap_hashes): (Vec<_>, Vec<_>) = gap.into_iter().unzip();
        assert_eq!(
            rows(&gap_events, &gap_hashes),
            Err(ChainBreak::Missing { seq: 2 })
        );
        assert_eq!(
            rows(&events[..2], &hashes[..2]),
            Err(ChainBreak::Truncated {
                found: 2,
                expected: 3
            })
        );
        assert_eq!(
            rows(&[], &[]),
            Err(ChainBreak::Truncated {
                found: 0,
                expected: 3
            })
        );
        // The head itself: counting fewer, or naming another hash.
        let whole = || {
            events
                .iter()
                .cloned()
                .zip(hashes.iter())
                .map(|(e, (p, h))| (e, p.as_str(), h.as_str()))
        };
        assert_eq!(
            verify(whole(), 2, &head),
            Err(ChainBreak::Extra {
                found: 3,
                expected: 2
            })
        );
        assert_eq!(verify(whole(), 3, GENESIS), Err(ChainBreak::HeadHash));
        // No events and a head that counts none: a dossier loaded without a log.
        assert_eq!(verify(std::iter::empty(), 0, GENESIS), Ok(()));
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
