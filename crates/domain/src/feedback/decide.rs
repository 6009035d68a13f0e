//! What an officer's action does to a feedback, and who may take it: an officer of the agency
//! that holds it. Pure: the service loads the feedback, asks here, and writes the decision.

use super::record::Feedback;
use super::{Action, Category, Deadlines, Status, allowed_actions, check_action_text, next_status};
use crate::access::Access;
use crate::msg;
use crate::msg::{FieldError, label};
use crate::refused::Refused;
use chrono::{DateTime, Utc};

/// Whether the officer may act on feedback held by an agency: an officer role there (not an
/// administrator's or a supervisor's).
pub fn may_act(access: &Access, agency_id: i64) -> bool {
    access.officer_agencies().contains(&agency_id)
}

/// What the officer asks for, its values parsed and looked up by the caller.
#[derive(Debug, Clone)]
pub struct Command {
    pub action: Action,
    /// A note; the reason, required, to reject.
    pub note: String,
    /// The answer, required, to answer.
    pub answer: String,
    /// `classify`: the category (default: from whether a dossier is named).
    pub category: Option<Category>,
    /// `forward`: the agency named, or why it cannot be (unknown).
    pub to_agency: Option<Result<Target, FieldError>>,
    /// The version the officer saw; another one is a conflict.
    pub expected_version: Option<i64>,
}

/// The agency a feedback is forwarded to, with the deadlines it starts there.
#[derive(Debug, Clone)]
pub struct Target {
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub deadlines: Deadlines,
}

/// The changes an action makes, and the event that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub from: Status,
    pub to: Status,
    /// The feedback after the action.
    pub feedback: Feedback,
    /// The event: the agency that held it, the one it went to, the deadline that governed the
    /// step, and its note (the answer itself is stored on the feedback, not in the event).
    pub agency_id: i64,
    pub to_agency_id: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub note: String,
}

/// The action's changes, or why it is refused: the officer first (forbidden), the version
/// (conflict), the transition table (illegal), then the values given (invalid).
pub fn decide(
    f: &Feedback,
    cmd: &Command,
    officer: &str,
    access: &Access,
    now: DateTime<Utc>,
) -> Result<Decision, Refused> {
    let action = cmd.action;
    if !may_act(access, f.agency_id) {
        return Err(Refused::Forbidden(msg!("feedback.act_forbidden", &f.agency_code)));
    }
    if let Some(v) = cmd.expected_version
        && v != f.version
    {
        return Err(Refused::Conflict(msg!("feedback.changed", v, f.version)));
    }
    let from = f.status;
    let to = next_status(from, action).ok_or_else(|| Refused::Illegal {
        msg: msg!(
            "feedback.illegal",
            label(action.label_vi(), action.as_str()),
            label(from.label_vi(), from.as_str())
        ),
        allowed: allowed_actions(from).iter().map(|a| a.as_str()).collect(),
    })?;
    let text_in = if action == Action::Answer {
        &cmd.answer
    } else {
        &cmd.note
    };
    let text = check_action_text(action, text_in).map_err(Refused::Invalid)?;
    let mut out = f.clone();
    let mut note = text.clone();
    let mut to_agency_id = None;
    let due_at = match action {
        Action::Classify | Action::Forward | Action::Reject => Some(f.forward_due_at),
        Action::Process | Action::Answer => Some(f.answer_due_at),
        Action::Publish => None,
    };
    match action {
        Action::Classify => {
            out.category = Some(
                cmd.category
                    .unwrap_or(Category::default_for(f.dossier_code.is_some())),
            );
        }
        Action::Forward => {
            let t = match &cmd.to_agency {
                None => return Err(Refused::invalid("to_agency", msg!("feedback.to_agency"))),
                Some(Err(e)) => return Err(Refused::Invalid(e.clone())),
                Some(Ok(t)) => t,
            };
            if t.agency_id == f.agency_id {
                return Err(Refused::invalid("to_agency", msg!("feedback.same_agency")));
            }
            out.agency_id = t.agency_id;
            out.agency_code = t.agency_code.clone();
            out.agency_name = t.agency_name.clone();
            out.clock_started_at = t.deadlines.started_at;
            out.forward_due_at = t.deadlines.forward_due_at;
            out.answer_due_at = t.deadlines.answer_due_at;
            to_agency_id = Some(t.agency_id);
        }
        Action::Reject => {
            out.reject_reason = text;
            out.closed_at = Some(now);
        }
        Action::Process => {}
        Action::Answer => {
            out.answer = text;
            out.answered_by = officer.to_string();
            out.closed_at = Some(now);
            note.clear();
        }
        Action::Publish => {
            out.published = true;
            out.published_at = Some(now);
        }
    }
    out.status = to;
    Ok(Decision {
        action,
        from,
        to,
        feedback: out,
        agency_id: f.agency_id,
        to_agency_id,
        due_at,
        note,
    })
}

#[cfg(test)]
mod tests;
