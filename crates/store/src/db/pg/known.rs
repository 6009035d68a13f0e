//! What this process knows of PostgreSQL's numbering (`PgKnown`): dossier ids and day numbers
//! ahead of use. Must not send statements: the intake's own guarded write checks each number.

use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// What this process knows of PostgreSQL's numbering, so that an intake needs no statement
/// of its own for its id and its code (`repo::codes::reserve`): dossier ids taken from
/// the table's sequence ahead of use, and the last number of each agency's day.
///
/// A number handed out from here is checked by the intake's own write (its sequence update
/// fails unless the row still holds the number before it). The agency's entry stays locked
/// until that write commits or fails, so this process's intakes of one agency send their
/// numbers in order (as the sequence row's lock would make them commit anyway); a failure
/// or a rollback leaves the entry unknown, and the next intake reads the row again.
#[derive(Debug, Default)]
pub struct PgKnown {
    sequences: std::sync::Mutex<std::collections::HashMap<String, Arc<Mutex<Option<KnownSeq>>>>>,
    ids: std::sync::Mutex<Vec<i64>>,
}

/// The day and the last number of an agency's sequence row.
type KnownSeq = (chrono::NaiveDate, i64);

/// An agency's entry, held by the transaction that took its next number.
pub(crate) type SeqHold = OwnedMutexGuard<Option<KnownSeq>>;

impl PgKnown {
    fn entry(&self, agency: &str) -> Arc<Mutex<Option<KnownSeq>>> {
        let mut s = self.sequences.lock().unwrap_or_else(|p| p.into_inner());
        match s.get(agency) {
            Some(e) => e.clone(),
            None => s.entry(agency.to_string()).or_default().clone(),
        }
    }

    /// The next number of an agency's day, if known, with the entry held until the
    /// transaction that uses it ends (`PgTx::guessed`).
    pub(crate) async fn next_seq(&self, agency: &str, day: chrono::NaiveDate) -> Option<(SeqHold, i64)> {
        let mut hold = self.entry(agency).lock_owned().await;
        match hold.as_mut() {
            Some((known, last)) if *known == day => {
                *last += 1;
                let seq = *last;
                Some((hold, seq))
            }
            _ => None,
        }
    }

    /// The last number of an agency's day, as read from the database by a transaction that
    /// read the row itself. Skipped while another transaction holds the entry.
    pub(crate) fn remember(&self, agency: &str, day: chrono::NaiveDate, seq: i64) {
        let entry = self.entry(agency);
        let Ok(mut known) = entry.try_lock() else { return };
        *known = match *known {
            Some((d, last)) if d == day => Some((day, last.max(seq))),
            _ => Some((day, seq)),
        };
    }

    pub(crate) fn take_id(&self) -> Option<i64> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Keeps ids taken from the sequence (used lowest first).
    pub(crate) fn add_ids(&self, ids: Vec<i64>) {
        let mut kept = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        kept.extend(ids);
        kept.sort_unstable_by(|a, b| b.cmp(a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_known_number_is_held_until_its_transaction_ends_and_lost_unless_kept() {
        let known = PgKnown::default();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert!(known.next_seq("A", day).await.is_none(), "nothing known yet");
        known.remember("A", day, 4);
        let (hold, seq) = known.next_seq("A", day).await.unwrap();
        assert_eq!(seq, 5);
        // Held: a row read meanwhile is not remembered over it, the next number waits.
        known.remember("A", day, 9);
        let waiting = tokio::time::timeout(Duration::from_millis(20), known.next_seq("A", day)).await;
        assert!(
            waiting.is_err(),
            "the next intake of the agency waits for the holder"
        );
        drop(hold); // committed: kept
        assert_eq!(known.next_seq("A", day).await.map(|(_, s)| s), Some(6));
        // A transaction that did not commit leaves the entry unknown.
        let (mut hold, _) = known.next_seq("A", day).await.unwrap();
        *hold = None;
        drop(hold);
        assert!(known.next_seq("A", day).await.is_none());
        // Read again from the row; a later row read never moves it back; another day resets it.
        known.remember("A", day, 10);
        known.remember("A", day, 8);
        assert_eq!(known.next_seq("A", day).await.map(|(_, s)| s), Some(11));
        assert!(known.next_seq("A", day.succ_opt().unwrap()).await.is_none());
        known.remember("A", day.succ_opt().unwrap(), 1);
        assert_eq!(
            known.next_seq("A", day.succ_opt().unwrap()).await.map(|(_, s)| s),
            Some(2)
        );
        assert!(known.next_seq("B", day).await.is_none(), "per agency");
        // Ids: lowest first.
        known.add_ids(vec![7, 3, 5]);
        assert_eq!(
            [known.take_id(), known.take_id(), known.take_id(), known.take_id()],
            [Some(3), Some(5), Some(7), None]
        );
    }
}
