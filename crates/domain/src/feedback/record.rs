//! A feedback as the system keeps it: who sent it, about what and which agency, where it
//! stands, its two deadlines at the agency that must handle it, and the answer.

use super::{Category, Channel, Status, Timing, timing};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub id: i64,
    /// The reference code, `PAKN-YYMMDD-NNNN`.
    pub reference: String,
    pub dossier_code: Option<String>,
    pub submitter_name: String,
    pub phone: String,
    pub email: String,
    pub channel: Channel,
    /// Decided when it is classified.
    pub category: Option<Category>,
    pub subject: String,
    pub content: String,
    /// The agency it is about, or was forwarded to: the one that must handle it.
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub status: Status,
    pub received_at: DateTime<Utc>,
    /// Receipt, or the last forward instant: where both deadlines count from.
    pub clock_started_at: DateTime<Utc>,
    pub forward_due_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    /// When it was answered or rejected.
    pub closed_at: Option<DateTime<Utc>>,
    pub answer: String,
    pub reject_reason: String,
    pub answered_by: String,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    /// The officer who entered a written or phone feedback.
    pub noted_by: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl Feedback {
    /// Timeliness against the deadline that governs its status.
    pub fn timing(&self, now: DateTime<Utc>) -> Timing {
        timing(
            self.status,
            self.forward_due_at,
            self.answer_due_at,
            self.closed_at,
            now,
        )
    }

    /// The text folded for search, with the name of the agency that holds it.
    pub fn search_text(&self) -> String {
        super::search_text(
            &self.reference,
            &self.subject,
            &self.content,
            &self.answer,
            &self.agency_name,
        )
    }
}
