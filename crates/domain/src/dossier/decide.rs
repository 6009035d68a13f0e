//! What an action does to a dossier: who may take it ([`may_take`], the one rule the service
//! and the officer's page both ask), whether the transition table allows it, and the changes
//! it makes ([`decide`]): due dates, pauses, step moves, assignment, approval. Pure: the
//! service loads the dossier, asks here, and writes the [`Decision`].

use super::machine::{self, Action, Checks, Place, RuleError};
use super::record::{Component, ComponentKind, Dossier, ReturnMethod, Step, next_component_seq, open_step};
use super::{Channel, Status};
use crate::access::{Access, Grant, Role};
use crate::calendar::{LegalClock, ResolvedClass, TimeLimit};
use crate::msg;
use crate::msg::Msg;
use crate::procedure::{AgencyRule, CaseVariant, ProcedureSpec};
use chrono::{DateTime, NaiveTime, Utc};

/// Who takes the action.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    /// An officer, with their role grants.
    Officer { user_id: i64, access: &'a Access },
    /// The citizen who owns the dossier (the caller has checked that they do).
    Owner,
}

/// The dossier as the action finds it.
#[derive(Debug, Clone, Copy)]
pub struct State<'a> {
    pub dossier: &'a Dossier,
    pub steps: &'a [Step],
    pub components: &'a [Component],
}

/// What the actor asks for, its values parsed and looked up by the caller.
#[derive(Debug, Clone)]
pub struct Command {
    pub action: Action,
    /// Reason or note (required where a form prints it).
    pub note: String,
    /// The version the actor saw; another one is a conflict.
    pub expected_version: Option<i64>,
    /// `assign`: the specialist.
    pub assignee: Option<Assignee>,
    /// `complete_step`/`transfer` into a step without an agency: the one chosen.
    pub to_agency: Option<ChosenAgency>,
    /// `reschedule`: the new appointment.
    pub new_due: Option<DateTime<Utc>>,
    /// `approve`: the result document; `receive_supplement`: the scan (sha256, stored).
    pub file: Option<String>,
    /// `approve`: the result's number.
    pub result_number: Option<String>,
    /// `return_result` (default: at the desk).
    pub method: Option<ReturnMethod>,
}

impl Command {
    /// An action with nothing else given.
    pub fn new(action: Action) -> Self {
        Self {
            action,
            note: String::new(),
            expected_version: None,
            assignee: None,
            to_agency: None,
            new_due: None,
            file: None,
            result_number: None,
            method: None,
        }
    }
}

/// A user to assign, with their grants (None: the account is disabled).
#[derive(Debug, Clone)]
pub struct Assignee {
    pub id: i64,
    pub username: String,
    pub grants: Option<Vec<Grant>>,
}

/// An agency chosen for the next step, with its parent.
#[derive(Debug, Clone)]
pub struct ChosenAgency {
    pub id: i64,
    pub code: String,
    pub parent_id: Option<i64>,
}

/// What the decision needs besides the dossier.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    /// The legal clock of the receiving agency.
    pub clock: LegalClock<'a>,
    /// The procedure version the dossier was received under.
    pub spec: &'a ProcedureSpec,
    /// Supplement requests allowed after receipt.
    pub max_supplements: u32,
    /// Working hours within which an online dossier is received or refused.
    pub online_accept_hours: u32,
    /// How the event log names the actor.
    pub actor_name: &'a str,
}

/// The changes an action makes, to be written in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub from: Status,
    pub to: Status,
    /// The dossier after the action (its status already `to`).
    pub dossier: Dossier,
    /// Every step, after the action.
    pub steps: Vec<Step>,
    /// Indexes into `steps` of those the action changed.
    pub changed_steps: Vec<usize>,
    /// A component added (a supplement's scan, the result).
    pub component: Option<Component>,
    /// The dossier must get the agency's next code ([`Decision::issue_code`]).
    pub needs_code: bool,
    /// The step the event refers to.
    pub step_seq: Option<i64>,
    /// The event's details.
    pub details: serde_json::Value,
}

impl Decision {
    /// Gives the dossier the code the store issued, as `needs_code` asked.
    pub fn issue_code(&mut self, code: String) {
        if self.action == Action::Accept {
            self.details = serde_json::json!({ "code": code });
        }
        self.dossier.code = Some(code);
    }

    /// The steps the action changed.
    pub fn changed(&self) -> impl Iterator<Item = &Step> {
        self.changed_steps.iter().map(|&i| &self.steps[i])
    }
}

pub use crate::refused::Refused;

/// Why an action is not the actor's to take on a dossier now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A citizen may only hand in a supplement or withdraw.
    OfficersOnly,
    /// The actor does not hold the role at the place the action is taken.
    NotYours,
    /// The action works on the open step and there is none.
    NoOpenStep,
    /// The open step is the last: nothing to hand over to.
    LastStep,
    /// The open step ends by its own action (the approver's by `approve`, the result
    /// officer's by `return_result`), not by completing it.
    EndsBy(Action),
}

impl Refusal {
    fn refused(self, action: Action) -> Refused {
        match self {
            Refusal::OfficersOnly => Refused::Forbidden(msg!("dossier.officers_only", action.label_arg())),
            Refusal::NotYours => Refused::Forbidden(msg!("dossier.not_yours", action.label_arg())),
            Refusal::NoOpenStep => invalid("", msg!("dossier.no_open_step")),
            Refusal::LastStep => invalid("", msg!("dossier.last_step")),
            Refusal::EndsBy(own) => invalid("", msg!("dossier.step_ends_by", own.label_arg())),
        }
    }
}

fn invalid(path: &str, msg: Msg) -> Refused {
    Refused::invalid(path, msg)
}

/// Whether the actor may take the action on the dossier as it stands (its status aside: see
/// [`available`]): the role at the right place, the open step's holder (and assignee), and a
/// step to act on.
pub fn may_take(d: &Dossier, steps: &[Step], action: Action, by: Acting<'_>) -> Result<(), Refusal> {
    who_may(d, steps, action, by)?;
    feasible(steps, action)
}

/// The actions the actor may take now: legal in the status and [`may_take`].
pub fn available(d: &Dossier, steps: &[Step], by: Acting<'_>) -> Vec<Action> {
    machine::allowed_actions(d.status, d.supplement_before_receipt)
        .into_iter()
        .filter(|a| may_take(d, steps, *a, by).is_ok())
        .collect()
}

/// The role part of [`may_take`].
fn who_may(d: &Dossier, steps: &[Step], action: Action, by: Acting<'_>) -> Result<(), Refusal> {
    let (user_id, access) = match by {
        Acting::Owner if matches!(action, Action::ReceiveSupplement | Action::Withdraw) => return Ok(()),
        Acting::Owner => return Err(Refusal::OfficersOnly),
        Acting::Officer { user_id, access } => (user_id, access),
    };
    // Before receipt, a supplement request is the receiving desk's.
    if d.status == Status::Submitted && action == Action::RequestSupplement {
        return match access.may_act(d.agency_id, Role::ReceivingOfficer) {
            true => Ok(()),
            false => Err(Refusal::NotYours),
        };
    }
    let open = open_step(steps).map(|i| &steps[i]);
    let who = machine::actor_for(action);
    let place = match who.place {
        Place::ReceivingAgency => Some(d.agency_id),
        Place::CurrentStep => open.and_then(|s| s.agency_id),
    };
    if !place.is_some_and(|agency| who.roles.iter().any(|r| access.may_act(agency, *r))) {
        return Err(Refusal::NotYours);
    }
    // The open step's own work: its holder, and its assignee (or a leader of its agency).
    if matches!(
        action,
        Action::CompleteStep | Action::RequestSupplement | Action::RequestPayment
    ) {
        let s = open.ok_or(Refusal::NotYours)?;
        let agency = s.agency_id.ok_or(Refusal::NotYours)?;
        let holder = access.may_act(agency, s.role);
        let assigned = s.assignee_id.is_none_or(|a| a == user_id) || access.may_act(agency, Role::Leader);
        if !(holder && assigned) {
            return Err(Refusal::NotYours);
        }
    }
    Ok(())
}

/// The structural part of [`may_take`]: a step to act on, and one to move to.
fn feasible(steps: &[Step], action: Action) -> Result<(), Refusal> {
    let open = open_step(steps);
    match action {
        Action::Transfer | Action::CompleteStep | Action::Assign | Action::Approve => {
            let i = open.ok_or(Refusal::NoOpenStep)?;
            let has_next = i + 1 < steps.len();
            match action {
                Action::Transfer | Action::CompleteStep if !has_next => Err(Refusal::LastStep),
                Action::CompleteStep => match steps[i].role {
                    Role::Approver => Err(Refusal::EndsBy(Action::Approve)),
                    Role::ResultOfficer => Err(Refusal::EndsBy(Action::ReturnResult)),
                    _ => Ok(()),
                },
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The step an assignment made while step `open` is open gives a holder: the open one, or
/// the next when the open one is a leader's (a leader's step is done by assigning).
pub fn assignment_target(steps: &[Step], open: usize) -> usize {
    if steps[open].role == Role::Leader && open + 1 < steps.len() {
        open + 1
    } else {
        open
    }
}

/// The action's changes to the dossier, or why it is refused: the actor first (forbidden),
/// then the transition table and its checks (illegal, invalid), then the values given.
pub fn decide(
    state: State<'_>,
    cmd: &Command,
    by: Acting<'_>,
    cx: &Context<'_>,
) -> Result<Decision, Refused> {
    let (action, now, clock) = (cmd.action, cx.now, &cx.clock);
    let d0 = state.dossier;
    if let Some(v) = cmd.expected_version
        && v != d0.version
    {
        return Err(Refused::Conflict(msg!("dossier.changed", v, d0.version)));
    }
    who_may(d0, state.steps, action, by).map_err(|r| r.refused(action))?;
    let from = d0.status;
    let checks = Checks {
        supplements_after_receipt: d0.supplements_after_receipt.max(0) as u32,
        max_supplements: cx.max_supplements,
        rescheduled: d0.rescheduled_at.is_some(),
        working_minutes_to_due: d0
            .due_at
            .map(|due| clock.working_minutes_between(now, due))
            .unwrap_or(0),
        day_minutes: u64::from(clock.hours().day_minutes()),
    };
    let to = machine::check(from, action, d0.supplement_before_receipt, &cmd.note, &checks)
        .map_err(|e| rule_refused(e, action, from))?;
    feasible(state.steps, action).map_err(|r| r.refused(action))?;

    let open = open_step(state.steps);
    let mut out = Decision {
        action,
        from,
        to,
        dossier: d0.clone(),
        steps: state.steps.to_vec(),
        changed_steps: Vec::new(),
        component: None,
        needs_code: false,
        step_seq: open.map(|i| state.steps[i].seq),
        details: serde_json::json!({}),
    };
    let d = &mut out.dossier;
    let steps = &mut out.steps;
    let note = cmd.note.as_str();
    let complete = |s: &mut Step| {
        s.completed_at = Some(now);
        s.completed_by = Some(cx.actor_name.to_string());
        s.note = note.to_string();
    };
    match action {
        Action::Accept => {
            let received = clock.legal_clock_start(now);
            let case = case_of(cx.spec, Some(&d.case_code))?;
            let limit = time_limit(cx.spec, case, d.channel)?;
            d.received_at = Some(received);
            d.actually_received_at = Some(now);
            d.due_at = Some(clock.due(received, &limit, same_day_cutoff(cx.spec)));
            d.original_due_at = d.due_at;
            d.received_by = cx.actor_name.to_string();
            if let Some(first) = steps.first_mut() {
                first.start(now, clock);
            }
            out.needs_code = true;
        }
        Action::Refuse => {
            out.needs_code = true;
            d.finished_at = Some(now);
            // Refused before any step starts (it comes before acceptance); were one open, it
            // would end with the dossier, as on withdrawal.
            steps.iter_mut().filter(|s| s.is_open()).for_each(complete);
        }
        Action::Transfer | Action::CompleteStep => {
            let i = open.ok_or(Refusal::NoOpenStep).map_err(|r| r.refused(action))?;
            complete(&mut steps[i]);
            let previous_agency = steps[i].agency_id;
            let next = &mut steps[i + 1];
            if next.agency_id.is_none() {
                let chosen = cmd
                    .to_agency
                    .as_ref()
                    .ok_or_else(|| invalid("to_agency", msg!("dossier.choose_agency", &next.name)))?;
                if next.agency_rule == AgencyRule::Child && chosen.parent_id != previous_agency {
                    return Err(invalid("to_agency", msg!("dossier.not_child", &chosen.code)));
                }
                next.agency_id = Some(chosen.id);
            }
            next.start(now, clock);
            out.details = serde_json::json!({"to_step": next.seq, "to_agency_id": next.agency_id});
        }
        Action::Assign => {
            let i = open.ok_or(Refusal::NoOpenStep).map_err(|r| r.refused(action))?;
            let who = cmd
                .assignee
                .as_ref()
                .ok_or_else(|| invalid("assignee", msg!("dossier.assignee_required")))?;
            let target = assignment_target(steps, i);
            let target_agency = steps[target].agency_id.or(steps[i].agency_id);
            let target_role = steps[target].role;
            let grants = who
                .grants
                .as_deref()
                .ok_or_else(|| invalid("assignee", msg!("user.disabled")))?;
            if !grants
                .iter()
                .any(|g| Some(g.agency_id) == target_agency && g.role == target_role)
            {
                return Err(invalid(
                    "assignee",
                    msg!("dossier.assignee_role", &who.username, target_role),
                ));
            }
            if target != i {
                complete(&mut steps[i]);
                let next = &mut steps[target];
                if next.agency_id.is_none() {
                    next.agency_id = target_agency;
                }
                next.start(now, clock);
                out.step_seq = Some(next.seq);
            }
            steps[target].assignee_id = Some(who.id);
            steps[target].assignee_username = Some(who.username.clone());
            out.details = serde_json::json!({"assignee": who.username});
        }
        Action::RequestSupplement => {
            if from == Status::Submitted {
                d.supplement_before_receipt = true;
            } else {
                d.supplements_after_receipt += 1;
                d.paused_at = Some(now);
            }
        }
        Action::ReceiveSupplement => {
            if let Some(paused) = d.paused_at.take() {
                let resume = |due: DateTime<Utc>| clock.resume_due(due, paused, now);
                d.due_at = d.due_at.map(resume);
                d.original_due_at = d.original_due_at.map(resume);
                for s in steps.iter_mut().filter(|s| s.completed_at.is_none()) {
                    s.due_at = s.due_at.map(resume);
                }
                out.details =
                    serde_json::json!({"paused_minutes": clock.working_minutes_between(paused, now)});
            }
            if d.supplement_before_receipt {
                d.supplement_before_receipt = false;
                d.accept_due_at = Some(clock.add_working_minutes(
                    clock.normalise_intake(now),
                    u64::from(cx.online_accept_hours) * 60,
                ));
            }
            if let Some(sha) = &cmd.file {
                out.component = Some(Component {
                    seq: next_component_seq(state.components),
                    kind: ComponentKind::Supplement,
                    name: "Hồ sơ bổ sung".into(),
                    originals: 0,
                    copies: 1,
                    required: false,
                    provided: true,
                    file_sha256: Some(sha.clone()),
                });
            }
        }
        Action::RequestPayment | Action::ConfirmPayment => {}
        Action::Reschedule => {
            let new_due = cmd
                .new_due
                .ok_or_else(|| invalid("new_due", msg!("dossier.new_due_required")))?;
            if d.due_at.is_some_and(|due| new_due <= due) {
                return Err(invalid("new_due", msg!("dossier.reschedule_not_later")));
            }
            out.details = serde_json::json!({"old_due": d.due_at, "new_due": new_due});
            d.due_at = Some(new_due);
            d.rescheduled_at = Some(now);
        }
        Action::Withdraw | Action::Stop => {
            d.finished_at = Some(now);
            d.paused_at = None;
            // The open step ends with the dossier: no inbox keeps it.
            steps.iter_mut().filter(|s| s.is_open()).for_each(complete);
        }
        Action::Approve => {
            let sha = cmd
                .file
                .clone()
                .ok_or_else(|| invalid("file", msg!("dossier.result_required")))?;
            let i = open.ok_or(Refusal::NoOpenStep).map_err(|r| r.refused(action))?;
            // Every step up to the result officer's is done; that one starts.
            let returns = steps
                .iter()
                .position(|s| s.role == Role::ResultOfficer && s.completed_at.is_none());
            let end = returns.unwrap_or(steps.len());
            steps.iter_mut().take(end).skip(i).for_each(complete);
            if let Some(r) = returns {
                steps[r].start(now, clock);
            }
            d.result_file = Some(sha);
            d.result_number = cmd.result_number.clone().filter(|n| !n.trim().is_empty());
            d.finished_at = Some(now);
            out.component = Some(Component {
                seq: next_component_seq(state.components),
                kind: ComponentKind::Result,
                name: format!("Kết quả: {}", cx.spec.result),
                originals: 1,
                copies: 0,
                required: false,
                provided: true,
                file_sha256: d.result_file.clone(),
            });
            let class = d
                .original_due_at
                .map(|due| ResolvedClass::classify(now, due))
                .unwrap_or(ResolvedClass::OnTime);
            out.details = serde_json::json!({"result_number": d.result_number, "class": class.as_str()});
        }
        Action::ReturnResult => {
            let method = cmd.method.unwrap_or(ReturnMethod::Desk);
            for s in steps.iter_mut().filter(|s| s.completed_at.is_none()) {
                s.started_at.get_or_insert(now);
                complete(s);
            }
            d.returned_at = Some(now);
            d.return_method = Some(method);
            out.details = serde_json::json!({"method": method.as_str()});
        }
    }
    d.status = to;
    out.changed_steps = (0..out.steps.len())
        .filter(|&i| out.steps[i] != state.steps[i])
        .collect();
    Ok(out)
}

/// A rule of the transition table or its checks, as the refusal says it.
fn rule_refused(e: RuleError, action: Action, from: Status) -> Refused {
    match e {
        RuleError::Illegal { allowed, .. } => Refused::Illegal {
            msg: msg!("dossier.illegal", action.label_arg(), from.label_arg()),
            allowed: allowed.iter().map(|a| a.as_str()).collect(),
        },
        RuleError::ReasonRequired => invalid(
            "note",
            match action {
                Action::Refuse => msg!("dossier.reason_refuse"),
                Action::RequestSupplement => msg!("dossier.reason_supplement"),
                Action::Reschedule => msg!("dossier.reason_reschedule"),
                Action::Withdraw => msg!("dossier.reason_withdraw"),
                Action::Stop => msg!("dossier.reason_stop"),
                _ => msg!("reason_required"),
            },
        ),
        RuleError::SupplementLimit(n) => invalid("", msg!("dossier.supplement_limit", n)),
        RuleError::AlreadyRescheduled => invalid("", msg!("dossier.rescheduled_once")),
        RuleError::RescheduleTooLate => invalid("", msg!("dossier.reschedule_late")),
        RuleError::RescheduleNotLater => invalid("new_due", msg!("dossier.reschedule_not_later")),
        RuleError::Invalid(m) => Refused::Corrupt(m),
    }
}

/// The case variant of a procedure a dossier follows: the one named, or the first.
pub fn case_of<'a>(spec: &'a ProcedureSpec, case: Option<&str>) -> Result<&'a CaseVariant, Refused> {
    match case {
        Some(c) => spec.case(c).ok_or_else(|| {
            invalid(
                "case",
                msg!("dossier.case_unknown", &spec.code, crate::msg::quoted(c)),
            )
        }),
        None => spec
            .cases
            .first()
            .ok_or_else(|| invalid("case", msg!("procedure.cases"))),
    }
}

/// The time limit of a case for a channel (online limits may be shorter).
pub fn time_limit(spec: &ProcedureSpec, case: &CaseVariant, channel: Channel) -> Result<TimeLimit, Refused> {
    TimeLimit::parse(spec.limit_text(case, channel == Channel::Online))
        .map_err(|e| Refused::Corrupt(format!("the stored time limit of {} is invalid: {e}", spec.code)))
}

/// The procedure's same-day cut-off, if it has one.
pub fn same_day_cutoff(spec: &ProcedureSpec) -> Option<NaiveTime> {
    spec.same_day_cutoff
        .as_deref()
        .and_then(|c| NaiveTime::parse_from_str(c, "%H:%M").ok())
}

impl Step {
    /// Starts the step at `at`: its due is its quota of working time from the next opening.
    pub fn start(&mut self, at: DateTime<Utc>, clock: &LegalClock<'_>) {
        let minutes =
            (self.quota_thousandths.max(0) as u64 * u64::from(clock.hours().day_minutes())).div_ceil(1000);
        self.started_at = Some(at);
        self.due_at = Some(clock.add_working_minutes(clock.normalise_intake(at), minutes));
    }
}

#[cfg(test)]
mod tests;
