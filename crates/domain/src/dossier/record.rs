//! A dossier as the system keeps it: the dossier itself (current state, optimistic
//! `version`), its workflow steps and its components. Every coded value is an enum: a stored
//! text that does not parse is an error where it is read, never a silent default.

use super::{Channel, Status};
use crate::access::Role;
use crate::msg::Lang;
use crate::procedure::AgencyRule;
use chrono::{DateTime, Utc};

/// A dossier, with the codes and names of its agency and procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Dossier {
    pub id: i64,
    /// The dossier code (DOMAIN.md §5); None for an online dossier not yet received.
    pub code: Option<String>,
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub procedure_id: i64,
    pub procedure_code: String,
    pub procedure_name: String,
    pub procedure_version: i64,
    pub case_code: String,
    pub channel: Channel,
    pub status: Status,
    pub applicant_name: String,
    pub applicant_kind: ApplicantKind,
    pub applicant_id_number: String,
    pub submitter_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub request: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the legal clock started (*thời điểm bắt đầu tính thời hạn*): the receipt, moved
    /// to the next opening when it came after hours. Reports, codes' days and dues count from it.
    pub received_at: Option<DateTime<Utc>>,
    /// The real instant of receipt (*thời điểm tiếp nhận*), as the officer took it in; None
    /// for imported dossiers (then `received_at` is all there is).
    pub actually_received_at: Option<DateTime<Utc>>,
    /// An online dossier must be received or refused by then.
    pub accept_due_at: Option<DateTime<Utc>>,
    /// The appointment: moved by pauses and by a reschedule.
    pub due_at: Option<DateTime<Utc>>,
    /// The legal due (moved by pauses, not by a reschedule): what reports classify against.
    pub original_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Set while the clock is stopped for a supplement.
    pub paused_at: Option<DateTime<Utc>>,
    pub supplements_after_receipt: i64,
    /// A supplement was asked before receipt (online): receiving it returns to the queue.
    pub supplement_before_receipt: bool,
    pub rescheduled_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_method: Option<ReturnMethod>,
    /// `sha256` of the result document.
    pub result_file: Option<String>,
    pub result_number: Option<String>,
    pub received_by: String,
    /// The hash chain's head and length (`chain`).
    pub last_hash: String,
    pub event_count: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    /// The national portal's id of a dossier submitted there (*mã hồ sơ trên Cổng DVCQG*);
    /// None for every other dossier.
    pub portal_id: Option<String>,
    /// Submitted by a citizen whose account is verified with the national identity (VNeID):
    /// the portal's sync record carries it (DOMAIN.md §9).
    pub vneid_verified: bool,
}

impl Dossier {
    /// The real receipt instant, or the legal start when the real one was not kept.
    pub fn receipt_instant(&self) -> Option<DateTime<Utc>> {
        self.actually_received_at.or(self.received_at)
    }

    /// The identifier used in URLs: the dossier code, or `online-ID` before one is issued.
    pub fn key(&self) -> String {
        self.code.clone().unwrap_or_else(|| format!("online-{}", self.id))
    }
}

/// A workflow step of a dossier, instantiated from its case's template at intake.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: i64,
    pub seq: i64,
    pub name: String,
    /// The role that holds the step.
    pub role: Role,
    /// None until chosen (a `child` step) or resolved.
    pub agency_id: Option<i64>,
    pub agency_code: Option<String>,
    pub agency_name: Option<String>,
    pub agency_rule: AgencyRule,
    /// The step's share of the time limit, in thousandths of a working day.
    pub quota_thousandths: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_username: Option<String>,
    pub note: String,
}

impl Step {
    /// Started and not completed.
    pub fn is_open(&self) -> bool {
        self.started_at.is_some() && self.completed_at.is_none()
    }
}

/// The index of the open step of a dossier (at most one is open).
pub fn open_step(steps: &[Step]) -> Option<usize> {
    steps.iter().position(Step::is_open)
}

/// A component of a dossier: a document submitted, a supplement, or the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub seq: i64,
    pub kind: ComponentKind,
    pub name: String,
    pub originals: i64,
    pub copies: i64,
    pub required: bool,
    pub provided: bool,
    /// `sha256` of the scan, when one was uploaded.
    pub file_sha256: Option<String>,
}

/// The number a component added to these gets.
pub fn next_component_seq(components: &[Component]) -> i64 {
    components.iter().map(|c| c.seq).max().unwrap_or(0) + 1
}

crate::stored_text! {
    /// Who the dossier is for: a person (12-digit personal ID) or an organisation (tax code).
    ApplicantKind, "applicant kind" { Person = "person", Organisation = "organisation" }
}

crate::stored_text! {
    /// How the result was handed over.
    ReturnMethod, "return method" { Desk = "desk", Post = "post", Electronic = "electronic" }
}

crate::stored_text! {
    /// What a component is.
    ComponentKind, "component kind" {
        /// A document of the procedure's list, at intake.
        Component = "component",
        /// A document handed in for a supplement request.
        Supplement = "supplement",
        /// The result document.
        Result = "result",
    }
}

crate::stored_text! {
    /// Where a payment of a dossier's fees stands.
    PaymentStatus, "payment status" { Pending = "pending", Paid = "paid", Failed = "failed" }
}

impl ReturnMethod {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (ReturnMethod::Desk, Lang::Vi) => "Tại bộ phận một cửa",
            (ReturnMethod::Post, Lang::Vi) => "Qua bưu chính",
            (ReturnMethod::Electronic, Lang::Vi) => "Trực tuyến",
            (ReturnMethod::Desk, Lang::En) => "At the one-stop desk",
            (ReturnMethod::Post, Lang::En) => "By post",
            (ReturnMethod::Electronic, Lang::En) => "Online",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_texts_round_trip_and_unknown_ones_are_errors() {
        for k in ApplicantKind::ALL {
            assert_eq!(ApplicantKind::try_from(k.as_str().to_string()), Ok(*k));
        }
        for m in ReturnMethod::ALL {
            assert_eq!(m.as_str().parse::<ReturnMethod>(), Ok(*m));
        }
        for c in ComponentKind::ALL {
            assert_eq!(c.to_string().parse::<ComponentKind>(), Ok(*c));
        }
        for p in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::try_from(p.as_str().to_string()), Ok(*p));
        }
        assert!("refunded".parse::<PaymentStatus>().is_err());
        let e = ReturnMethod::try_from("drone".to_string()).unwrap_err();
        assert!(e.contains("drone") && e.contains("desk, post, electronic"), "{e}");
        assert!(Status::try_from("lost".to_string()).is_err());
        assert!(Role::try_from("citizen".to_string()).is_err());
        assert_eq!(AgencyRule::try_from("child".to_string()), Ok(AgencyRule::Child));
    }
}
