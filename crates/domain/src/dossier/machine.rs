//! The dossier state machine (DOMAIN.md §4): which action is legal in which status, what it
//! leads to, and who may take it. Pure; exhaustively tested over every status × action.

use super::Status;
use crate::access::Role;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An officer's (or the system's) action on a dossier; the API names are the snake_case ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 1 → 2: an online dossier is checked and received (code and appointment issued).
    Accept,
    /// 1 → 3: an online dossier is not received (Form 03).
    Refuse,
    /// 2 → 4: the desk hands the dossier to the first processing step.
    Transfer,
    /// 4 → 4: a leader assigns a specialist (completing the leader's own step).
    Assign,
    /// 4 → 4: the current step is done; the next one starts (possibly at another agency).
    CompleteStep,
    /// 1/4 → 5: the applicant must complete the dossier (Form 02); the clock pauses.
    RequestSupplement,
    /// 5 → 4 (or back to 1 before receipt): the supplement arrived; the clock resumes.
    ReceiveSupplement,
    /// 4 → 6: a financial obligation must be settled.
    RequestPayment,
    /// 6 → 4: paid.
    ConfirmPayment,
    /// 4 → 4: apology and a new appointment (Form 04), once, at least 1 working day before due.
    Reschedule,
    /// 2/4/5/6 → 7: the applicant withdraws the dossier.
    Withdraw,
    /// 4 → 8: processing stops, reasoned (Form 05).
    Stop,
    /// 4 → 9: the result is signed and issued.
    Approve,
    /// 9 → 10: the result is handed over (desk, post, electronic).
    ReturnResult,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::Accept,
        Action::Refuse,
        Action::Transfer,
        Action::Assign,
        Action::CompleteStep,
        Action::RequestSupplement,
        Action::ReceiveSupplement,
        Action::RequestPayment,
        Action::ConfirmPayment,
        Action::Reschedule,
        Action::Withdraw,
        Action::Stop,
        Action::Approve,
        Action::ReturnResult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Refuse => "refuse",
            Action::Transfer => "transfer",
            Action::Assign => "assign",
            Action::CompleteStep => "complete_step",
            Action::RequestSupplement => "request_supplement",
            Action::ReceiveSupplement => "receive_supplement",
            Action::RequestPayment => "request_payment",
            Action::ConfirmPayment => "confirm_payment",
            Action::Reschedule => "reschedule",
            Action::Withdraw => "withdraw",
            Action::Stop => "stop",
            Action::Approve => "approve",
            Action::ReturnResult => "return_result",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: crate::msg::Lang) -> &'static str {
        match lang {
            crate::msg::Lang::Vi => self.label_vi(),
            crate::msg::Lang::En => self.label_en(),
        }
    }

    /// The label as a value of a message (`msg::label`), said in the message's language.
    pub fn label_arg(self) -> String {
        crate::msg::label(self.label_vi(), self.label_en())
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Action::Accept => "Accept the dossier",
            Action::Refuse => "Refuse to receive",
            Action::Transfer => "Hand over for processing",
            Action::Assign => "Assign a specialist",
            Action::CompleteStep => "Complete the step",
            Action::RequestSupplement => "Ask for additional documents",
            Action::ReceiveSupplement => "Receive the additional documents",
            Action::RequestPayment => "Ask for payment of fees",
            Action::ConfirmPayment => "Confirm the fees are paid",
            Action::Reschedule => "Apologise and reschedule",
            Action::Withdraw => "Withdraw (at the applicant's request)",
            Action::Stop => "Stop processing",
            Action::Approve => "Approve and issue the result",
            Action::ReturnResult => "Return the result",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Action::Accept => "Tiếp nhận hồ sơ",
            Action::Refuse => "Từ chối tiếp nhận",
            Action::Transfer => "Chuyển xử lý",
            Action::Assign => "Phân công thụ lý",
            Action::CompleteStep => "Hoàn thành bước, chuyển tiếp",
            Action::RequestSupplement => "Yêu cầu bổ sung hồ sơ",
            Action::ReceiveSupplement => "Nhận hồ sơ bổ sung",
            Action::RequestPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Action::ConfirmPayment => "Xác nhận đã nộp phí, lệ phí",
            Action::Reschedule => "Xin lỗi, hẹn lại ngày trả",
            Action::Withdraw => "Rút hồ sơ (theo đề nghị)",
            Action::Stop => "Dừng xử lý",
            Action::Approve => "Phê duyệt, ban hành kết quả",
            Action::ReturnResult => "Trả kết quả",
        }
    }

    /// Whether the action needs a reason/note from the officer.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Action::Refuse | Action::RequestSupplement | Action::Reschedule | Action::Withdraw | Action::Stop
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown action {s:?}"))
    }
}

/// Where the acting officer must hold the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The agency that received the dossier (its one-stop desk).
    ReceivingAgency,
    /// The agency of the current workflow step.
    CurrentStep,
}

/// Who may take an action: any of these roles, at that place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub roles: &'static [Role],
    pub place: Place,
}

/// The status an action leads to from a status, or None when illegal there.
/// `before_receipt` matters only for a supplement: asked before receipt (online, 1 → 5) it
/// returns to 1 when received.
pub fn next_status(from: Status, action: Action, before_receipt: bool) -> Option<Status> {
    use Action as A;
    use Status as S;
    Some(match (from, action) {
        (S::Submitted, A::Accept) => S::Received,
        (S::Submitted, A::Refuse) => S::Refused,
        (S::Submitted, A::RequestSupplement) => S::AwaitingSupplement,
        (S::Received, A::Transfer) => S::Processing,
        (S::Processing, A::Assign | A::CompleteStep | A::Reschedule) => S::Processing,
        (S::Processing, A::RequestSupplement) => S::AwaitingSupplement,
        (S::Processing, A::RequestPayment) => S::AwaitingPayment,
        (S::Processing, A::Stop) => S::Stopped,
        (S::Processing, A::Approve) => S::Resolved,
        (S::AwaitingSupplement, A::ReceiveSupplement) => {
            if before_receipt {
                S::Submitted
            } else {
                S::Processing
            }
        }
        (S::AwaitingPayment, A::ConfirmPayment) => S::Processing,
        (S::Received | S::Processing | S::AwaitingSupplement | S::AwaitingPayment, A::Withdraw) => {
            S::Withdrawn
        }
        (S::Resolved, A::ReturnResult) => S::Returned,
        _ => return None,
    })
}

/// The actions legal in a status, in a stable order (for 409 responses and action menus).
pub fn allowed_actions(from: Status, before_receipt: bool) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| next_status(from, *a, before_receipt).is_some())
        .collect()
}

/// Who may take an action.
pub fn actor_for(action: Action) -> Actor {
    use Action as A;
    use Role as R;
    match action {
        A::Accept | A::Refuse | A::Transfer | A::ReceiveSupplement | A::Withdraw => Actor {
            roles: &[R::ReceivingOfficer],
            place: Place::ReceivingAgency,
        },
        A::ConfirmPayment => Actor {
            roles: &[R::ReceivingOfficer, R::ResultOfficer],
            place: Place::ReceivingAgency,
        },
        A::ReturnResult => Actor {
            roles: &[R::ResultOfficer, R::ReceivingOfficer],
            place: Place::ReceivingAgency,
        },
        A::Assign => Actor {
            roles: &[R::Leader],
            place: Place::CurrentStep,
        },
        // Whoever holds the current step: the check against the step's own role is made by the
        // caller, these are the roles a step may have.
        A::CompleteStep | A::RequestSupplement | A::RequestPayment => Actor {
            roles: &[
                R::ReceivingOfficer,
                R::Leader,
                R::Specialist,
                R::Approver,
                R::Clerk,
                R::ResultOfficer,
            ],
            place: Place::CurrentStep,
        },
        A::Reschedule => Actor {
            roles: &[R::Leader, R::Approver],
            place: Place::CurrentStep,
        },
        A::Stop | A::Approve => Actor {
            roles: &[R::Approver],
            place: Place::CurrentStep,
        },
    }
}

/// Errors of the dossier rules, each with a message fit for the officer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{action} is not allowed while the dossier is {status}")]
    Illegal {
        status: Status,
        action: Action,
        allowed: Vec<Action>,
    },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the dossier already had {0} supplement request(s) after receipt; no more are allowed")]
    SupplementLimit(u32),
    #[error("the appointment was already rescheduled once")]
    AlreadyRescheduled,
    #[error("rescheduling must happen at least 1 working day before the due date")]
    RescheduleTooLate,
    #[error("the new appointment must be later than the current one")]
    RescheduleNotLater,
    #[error("{0}")]
    Invalid(String),
}

/// Checks the rules of an action beyond the transition table.
pub struct Checks {
    /// Supplement requests already made after receipt.
    pub supplements_after_receipt: u32,
    /// The configured maximum (default 1).
    pub max_supplements: u32,
    pub rescheduled: bool,
    /// Working minutes from now until the current due instant.
    pub working_minutes_to_due: u64,
    /// Working minutes in one day at the agency.
    pub day_minutes: u64,
}

/// Validates an action in a status, returning the next status.
pub fn check(
    from: Status,
    action: Action,
    before_receipt: bool,
    reason: &str,
    checks: &Checks,
) -> Result<Status, RuleError> {
    let next = next_status(from, action, before_receipt).ok_or_else(|| RuleError::Illegal {
        status: from,
        action,
        allowed: allowed_actions(from, before_receipt),
    })?;
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(RuleError::ReasonRequired);
    }
    match action {
        Action::RequestSupplement
            if from != Status::Submitted && checks.supplements_after_receipt >= checks.max_supplements =>
        {
            Err(RuleError::SupplementLimit(checks.supplements_after_receipt))
        }
        Action::Reschedule if checks.rescheduled => Err(RuleError::AlreadyRescheduled),
        Action::Reschedule if checks.working_minutes_to_due < checks.day_minutes => {
            Err(RuleError::RescheduleTooLate)
        }
        _ => Ok(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_checks() -> Checks {
        Checks {
            supplements_after_receipt: 0,
            max_supplements: 1,
            rescheduled: false,
            working_minutes_to_due: 10_000,
            day_minutes: 480,
        }
    }

    /// The whole table, written out: (from, action) → to. Everything else is illegal.
    const LEGAL: &[(Status, Action, Status)] = &[
        (Status::Submitted, Action::Accept, Status::Received),
        (Status::Submitted, Action::Refuse, Status::Refused),
        (
            Status::Submitted,
            Action::RequestSupplement,
            Status::AwaitingSupplement,
        ),
        (Status::Received, Action::Transfer, Status::Processing),
        (Status::Received, Action::Withdraw, Status::Withdrawn),
        (Status::Processing, Action::Assign, Status::Processing),
        (Status::Processing, Action::CompleteStep, Status::Processing),
        (Status::Processing, Action::Reschedule, Status::Processing),
        (
            Status::Processing,
            Action::RequestSupplement,
            Status::AwaitingSupplement,
        ),
        (
            Status::Processing,
            Action::RequestPayment,
            Status::AwaitingPayment,
        ),
        (Status::Processing, Action::Stop, Status::Stopped),
        (Status::Processing, Action::Approve, Status::Resolved),
        (Status::Processing, Action::Withdraw, Status::Withdrawn),
        (
            Status::AwaitingSupplement,
            Action::ReceiveSupplement,
            Status::Processing,
        ),
        (Status::AwaitingSupplement, Action::Withdraw, Status::Withdrawn),
        (
            Status::AwaitingPayment,
            Action::ConfirmPayment,
            Status::Processing,
        ),
        (Status::AwaitingPayment, Action::Withdraw, Status::Withdrawn),
        (Status::Resolved, Action::ReturnResult, Status::Returned),
    ];

    #[test]
    fn every_status_and_action_follows_the_table() {
        for from in Status::ALL {
            for action in Action::ALL {
                let expected = LEGAL
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(next_status(from, action, false), expected, "{from} × {action}");
                let reason = "lý do";
                match (check(from, action, false, reason, &ok_checks()), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e),
                    (Err(RuleError::Illegal { allowed, .. }), None) => {
                        assert_eq!(allowed, allowed_actions(from, false));
                        assert!(!allowed.contains(&action));
                    }
                    (got, _) => panic!("{from} × {action}: {got:?}"),
                }
            }
        }
    }

    #[test]
    fn terminal_statuses_allow_nothing() {
        for s in [
            Status::Refused,
            Status::Withdrawn,
            Status::Stopped,
            Status::Returned,
        ] {
            assert!(allowed_actions(s, false).is_empty(), "{s}");
        }
    }

    #[test]
    fn a_supplement_before_receipt_returns_to_the_queue() {
        assert_eq!(
            next_status(Status::AwaitingSupplement, Action::ReceiveSupplement, true),
            Some(Status::Submitted)
        );
        assert_eq!(
            next_status(Status::AwaitingSupplement, Action::ReceiveSupplement, false),
            Some(Status::Processing)
        );
    }

    #[test]
    fn supplement_allowed_only_once_after_receipt() {
        let mut c = ok_checks();
        assert!(
            check(
                Status::Processing,
                Action::RequestSupplement,
                false,
                "thiếu giấy",
                &c
            )
            .is_ok()
        );
        c.supplements_after_receipt = 1;
        assert_eq!(
            check(Status::Processing, Action::RequestSupplement, false, "thiếu", &c),
            Err(RuleError::SupplementLimit(1))
        );
        // Before receipt it does not count against the limit.
        assert!(check(Status::Submitted, Action::RequestSupplement, false, "thiếu", &c).is_ok());
        c.max_supplements = 2;
        assert!(check(Status::Processing, Action::RequestSupplement, false, "thiếu", &c).is_ok());
    }

    #[test]
    fn reschedule_allowed_only_once_and_a_day_ahead() {
        let mut c = ok_checks();
        assert!(check(Status::Processing, Action::Reschedule, false, "xin lỗi", &c).is_ok());
        c.working_minutes_to_due = 479;
        assert_eq!(
            check(Status::Processing, Action::Reschedule, false, "xin lỗi", &c),
            Err(RuleError::RescheduleTooLate)
        );
        c.working_minutes_to_due = 480;
        assert!(check(Status::Processing, Action::Reschedule, false, "xin lỗi", &c).is_ok());
        c.rescheduled = true;
        assert_eq!(
            check(Status::Processing, Action::Reschedule, false, "xin lỗi", &c),
            Err(RuleError::AlreadyRescheduled)
        );
    }

    #[test]
    fn reasons_are_required_where_the_forms_print_them() {
        for a in [
            Action::Refuse,
            Action::Stop,
            Action::Withdraw,
            Action::Reschedule,
            Action::RequestSupplement,
        ] {
            let from = LEGAL.iter().find(|(_, x, _)| *x == a).unwrap().0;
            assert_eq!(
                check(from, a, false, "  ", &ok_checks()),
                Err(RuleError::ReasonRequired),
                "{a}"
            );
        }
    }

    #[test]
    fn actions_round_trip_and_have_actors() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
            assert!(!actor_for(a).roles.is_empty());
            assert!(
                !actor_for(a).roles.contains(&Role::Admin) && !actor_for(a).roles.contains(&Role::Supervisor)
            );
        }
    }
}
