//! Classification of dossiers against their due instant, by local (UTC+7) date, as the
//! statutory report counts them. Owns only the comparison; knows nothing of dossier states.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::local_date;

/// How a resolved dossier finished against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedClass {
    /// Finished on a local date before the due date (*trước hạn*).
    Early,
    /// Finished on the due date (*đúng hạn*), at any time of that day.
    OnTime,
    /// Finished on a later local date (*quá hạn*).
    Late,
}

impl ResolvedClass {
    /// Compares local dates: before the due date → early, on it → on time, after → late.
    /// Only dates count: finishing at 17:30 on the due date is on time even with a 17:00 due.
    pub fn classify(finished_at: DateTime<Utc>, due_at: DateTime<Utc>) -> Self {
        match local_date(finished_at).cmp(&local_date(due_at)) {
            std::cmp::Ordering::Less => Self::Early,
            std::cmp::Ordering::Equal => Self::OnTime,
            std::cmp::Ordering::Greater => Self::Late,
        }
    }

    /// The snake_case name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Early => "early",
            Self::OnTime => "on_time",
            Self::Late => "late",
        }
    }
}

impl fmt::Display for ResolvedClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a dossier still in process stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InProcessClass {
    /// The due date is today or later (*trong hạn*).
    WithinTime,
    /// The due date has passed (*quá hạn*).
    Overdue,
}

impl InProcessClass {
    /// Compares local dates: within time if the due date is on or after the local date of
    /// `at`, overdue if it is before. For a report period, pass an instant on the period's
    /// last day (e.g. its 23:59), not the exclusive midnight after it.
    pub fn classify(due_at: DateTime<Utc>, at: DateTime<Utc>) -> Self {
        if local_date(due_at) >= local_date(at) {
            Self::WithinTime
        } else {
            Self::Overdue
        }
    }

    /// The snake_case name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WithinTime => "within_time",
            Self::Overdue => "overdue",
        }
    }
}

impl fmt::Display for InProcessClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::{from_str_via_serde, local};

    #[test]
    fn resolved_dossiers_compare_local_dates() {
        let due = local(2025, 3, 12, 17, 0);
        assert_eq!(
            ResolvedClass::classify(local(2025, 3, 11, 16, 0), due),
            ResolvedClass::Early
        );
        assert_eq!(
            ResolvedClass::classify(local(2025, 3, 12, 7, 0), due),
            ResolvedClass::OnTime
        );
        assert_eq!(
            ResolvedClass::classify(local(2025, 3, 12, 23, 59), due),
            ResolvedClass::OnTime
        );
        assert_eq!(
            ResolvedClass::classify(local(2025, 3, 13, 0, 0), due),
            ResolvedClass::Late
        );
    }

    #[test]
    fn dates_are_local_not_utc() {
        // 06:30 local on the 13th is still the 12th in UTC: it is late all the same.
        let due = local(2025, 3, 12, 17, 0);
        let finished = local(2025, 3, 13, 6, 30);
        assert_eq!(finished.date_naive(), due.date_naive());
        assert_eq!(ResolvedClass::classify(finished, due), ResolvedClass::Late);
    }

    #[test]
    fn dossiers_in_process_are_overdue_only_after_the_due_date() {
        let due = local(2025, 3, 12, 10, 0);
        assert_eq!(
            InProcessClass::classify(due, local(2025, 3, 11, 23, 59)),
            InProcessClass::WithinTime
        );
        assert_eq!(
            InProcessClass::classify(due, local(2025, 3, 12, 23, 59)),
            InProcessClass::WithinTime
        );
        assert_eq!(
            InProcessClass::classify(due, local(2025, 3, 13, 0, 0)),
            InProcessClass::Overdue
        );
    }

    #[test]
    fn classes_use_snake_case() {
        for class in [ResolvedClass::Early, ResolvedClass::OnTime, ResolvedClass::Late] {
            assert_eq!(from_str_via_serde::<ResolvedClass>(class.as_str()), Ok(class));
        }
        for class in [InProcessClass::WithinTime, InProcessClass::Overdue] {
            assert_eq!(
                from_str_via_serde::<InProcessClass>(&class.to_string()),
                Ok(class)
            );
        }
        assert_eq!(ResolvedClass::OnTime.to_string(), "on_time");
    }
}
