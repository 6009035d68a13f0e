//! An action on a dossier by an officer or its citizen: every check, then one transaction.

use super::events::{chain_event, write_event};
use super::{
    ActionInput, Actor, View, case_of, cutoff_of, limit_of, may_read, name_agencies, no_such_dossier,
    start_step, uploaded,
};
use crate::{ServiceError, ServiceResult, Services};
use chrono::DateTime;
use motcua_domain::access::Role;
use motcua_domain::calendar::{self, ResolvedClass};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::identity::quoted;
use motcua_domain::dossier::machine::{self, Action, Checks, Place, RuleError};
use motcua_domain::msg;
use motcua_store::repo::dossiers as codes;
use motcua_store::repo::lifecycle::{self as repo, Component, Dossier, Step};

impl Services {
    /// An action by an officer or a citizen, answering with the whole view of the dossier after
    /// it: the dossier, steps and components as written (read once, in the transaction; the
    /// event log is left empty).
    pub async fn act(
        &self,
        by: Actor<'_>,
        key: &str,
        action: Action,
        input: ActionInput,
    ) -> ServiceResult<View> {
        let now = self.now();
        let reference = self.reference_for(by.officer()).await?;
        match by {
            // A citizen acts on their own dossier only, and only in two ways.
            Actor::Citizen { id, .. } => {
                let pre = repo::find(self.db(), key).await?.ok_or_else(no_such_dossier)?;
                if motcua_store::repo::citizens::owner_of(self.db(), pre.id).await? != Some(id) {
                    return Err(no_such_dossier());
                }
                if !matches!(action, Action::ReceiveSupplement | Action::Withdraw) {
                    return Err(ServiceError::Forbidden(msg!(
                        "dossier.officers_only",
                        action.label_arg()
                    )));
                }
            }
            Actor::Guest => return Err(no_such_dossier()),
            Actor::Officer(_) => {}
        }
        // Reads of the input happen before the write transaction.
        let assignee = match (&input.assignee, action) {
            (Some(u), Action::Assign) => Some(
                motcua_store::repo::users::by_username(self.db(), u)
                    .await?
                    .ok_or_else(|| ServiceError::invalid("assignee", msg!("user.unknown", quoted(u))))?,
            ),
            (None, Action::Assign) => {
                return Err(ServiceError::invalid(
                    "assignee",
                    msg!("dossier.assignee_required"),
                ));
            }
            _ => None,
        };
        // Their roles too, before the transaction, which a read would keep waiting with its row
        // locks (inner None: disabled, refused where the other checks on the assignee are).
        let assignee_roles = match &assignee {
            Some(who) => Some(
                motcua_store::repo::auth::principal(self.db(), who.id)
                    .await?
                    .map(|p| p.roles),
            ),
            None => None,
        };
        let to_agency =
            match &input.to_agency {
                Some(code) => Some(reference.agency(code).ok_or_else(|| {
                    ServiceError::invalid("to_agency", msg!("agency.unknown", quoted(code)))
                })?),
                None => None,
            };
        if let Some(f) = &input.file {
            match uploaded(f) {
                Some(sha) if self.file_stored(sha).await? => {}
                _ => return Err(ServiceError::invalid("file", msg!("file.upload_first"))),
            }
        }

        // The dossier is read once, with the transaction that changes it; the checks on it are in
        // memory (reference data), so the write lock is not held for more reads. On PostgreSQL
        // the first attempt reads it unlocked before its transaction begins, and the commit
        // checks that its version has not moved (`repo::save_state`): if another action changed
        // it meanwhile (`StoreError::Retry`), nothing was written and the action runs again in a
        // plain transaction, which reads it locked (and so cannot fail that way).
        let mut attempts = 0;
        let (mut d, mut steps, components, to) = loop {
            attempts += 1;
            let acted: ServiceResult<(Dossier, Vec<Step>, Vec<Component>, Status)> = async {
                let mut tx = match attempts {
                    1 => self.db().begin_grouped().await?,
                    _ => self.db().begin().await?,
                };
                let (mut d, mut steps, mut components) = repo::find_for_action_tx(&mut tx, key)
                    .await?
                    .ok_or_else(no_such_dossier)?;
                if let Actor::Officer(user) = &by {
                    may_read(&reference, user, &d, &steps)?;
                }
                let legal = reference.legal_time(&d.agency_code)?;
                let clock = legal.clock();
                let today = calendar::local_date(now);
                let stored = reference
                    .procedure_version(self.db(), &d.procedure_code, d.procedure_version)
                    .await?
                    .ok_or_else(no_such_dossier)?;
                let spec = &stored.spec;
                let counted_before = d.counted_facts();
                if let Some(v) = input.expected_version
                    && v != d.version
                {
                    return Err(ServiceError::Conflict(msg!("dossier.changed", v, d.version)));
                }
                let steps_before = steps.clone();
                let from = d.status();

                let cur_idx = steps
                    .iter()
                    .position(|s| s.completed_at.is_none() && s.started_at.is_some());
                if let Actor::Officer(user) = &by {
                    // Who may act, and where.
                    let who = machine::actor_for(action);
                    let access = user.access();
                    let place_agency = match who.place {
                        Place::ReceivingAgency => Some(d.agency_id),
                        Place::CurrentStep => cur_idx.and_then(|i| steps[i].agency_id),
                    };
                    let allowed_here =
                        place_agency.is_some_and(|agency| who.roles.iter().any(|r| access.may_act(agency, *r)));
                    let holds_step = match (who.place, cur_idx) {
                        (Place::CurrentStep, Some(i))
                            if matches!(
                                action,
                                Action::CompleteStep | Action::RequestSupplement | Action::RequestPayment
                            ) =>
                        {
                            let s = &steps[i];
                            let role: Option<Role> = s.role.parse().ok();
                            let holder = role.zip(s.agency_id).is_some_and(|(r, a)| access.may_act(a, r));
                            let assigned_ok = s.assignee_id.is_none_or(|a| a == user.principal.user_id)
                                || s.agency_id.is_some_and(|a| access.may_act(a, Role::Leader));
                            holder && assigned_ok
                        }
                        _ => true,
                    };
                    // Before receipt, a supplement request is the receiving desk's.
                    let desk_supplement = from == Status::Submitted
                        && action == Action::RequestSupplement
                        && access.may_act(d.agency_id, Role::ReceivingOfficer);
                    if !(desk_supplement || (allowed_here && holds_step)) {
                        return Err(ServiceError::Forbidden(msg!(
                            "dossier.not_yours",
                            action.label_arg()
                        )));
                    }
                }

                let checks = Checks {
                    supplements_after_receipt: d.supplements_after_receipt.max(0) as u32,
                    max_supplements: self.rules().max_supplements,
                    rescheduled: d.rescheduled_at.is_some(),
                    working_minutes_to_due: d
                        .due_at
                        .map(|due| clock.working_minutes_between(now, due))
                        .unwrap_or(0),
                    day_minutes: u64::from(legal.hours.day_minutes()),
                };
                let to = machine::check(from, action, d.supplement_before_receipt, &input.note, &checks)
                    .map_err(|e| rule_error(e, action, from))?;

                let mut step_seq = cur_idx.map(|i| steps[i].seq);
                let mut details = serde_json::json!({});
                let actor = by.name();
                let complete = |s: &mut Step, by: &str, note: &str| {
                    s.completed_at = Some(now);
                    s.completed_by = Some(by.to_string());
                    s.note = note.to_string();
                };
                match action {
                    Action::Accept => {
                        let received = clock.normalise_intake(now);
                        let case = case_of(spec, Some(&d.case_code))?;
                        let limit = limit_of(spec, case, &d.channel)?;
                        let code = codes::next_code(&mut tx, &d.agency_code, today).await?;
                        d.code = Some(code.to_string());
                        d.received_at = Some(received);
                        d.due_at = Some(clock.due(received, &limit, cutoff_of(spec)));
                        d.original_due_at = d.due_at;
                        d.received_by = actor.clone();
                        if let Some(first) = steps.first_mut() {
                            start_step(first, now, &clock);
                        }
                        details = serde_json::json!({"code": d.code});
                    }
                    Action::Refuse => {
                        d.code = Some(
                            codes::next_code(&mut tx, &d.agency_code, today)
                                .await?
                                .to_string(),
                        );
                        d.finished_at = Some(now);
                    }
                    Action::Transfer | Action::CompleteStep => {
                        let i = cur_idx.ok_or_else(|| ServiceError::invalid("", msg!("dossier.no_open_step")))?;
                        if i + 1 >= steps.len() {
                            return Err(ServiceError::invalid("", msg!("dossier.last_step")));
                        }
                        complete(&mut steps[i], &actor, &input.note);
                        let next_agency = steps[i].agency_id;
                        let n = &mut steps[i + 1];
                        if n.agency_id.is_none() {
                            let chosen = to_agency.as_ref().ok_or_else(|| {
                                ServiceError::invalid("to_agency", msg!("dossier.choose_agency", &n.name))
                            })?;
                            if n.agency_rule == "child" {
                                let parent_of_chosen = reference.parent_of(chosen.id);
                                if parent_of_chosen != next_agency {
                                    return Err(ServiceError::invalid(
                                        "to_agency",
                                        msg!("dossier.not_child", &chosen.code),
                                    ));
                                }
                            }
                            n.agency_id = Some(chosen.id);
                        }
                        start_step(n, now, &clock);
                        details = serde_json::json!({"to_step": n.seq, "to_agency_id": n.agency_id});
                    }
                    Action::Assign => {
                        let i = cur_idx.ok_or_else(|| ServiceError::invalid("", msg!("dossier.no_open_step")))?;
                        let who = assignee
                            .as_ref()
                            .ok_or_else(|| ServiceError::invalid("assignee", msg!("dossier.assignee_required")))?;
                        let target = if steps[i].role == "leader" && i + 1 < steps.len() {
                            i + 1
                        } else {
                            i
                        };
                        let target_agency = steps[target].agency_id.or(steps[i].agency_id);
                        let target_role = steps[target].role.clone();
                        let roles = assignee_roles
                            .as_ref()
                            .and_then(|r| r.as_deref())
                            .ok_or_else(|| ServiceError::invalid("assignee", msg!("user.disabled")))?;
                        let can = roles
                            .iter()
                            .any(|(a, _, r)| Some(*a) == target_agency && *r == target_role);
                        if !can {
                            return Err(ServiceError::invalid(
                                "assignee",
                                msg!("dossier.assignee_role", &who.username, &target_role),
                            ));
                        }
                        if target != i {
                            complete(&mut steps[i], &actor, &input.note);
                            let n = &mut steps[target];
                            if n.agency_id.is_none() {
                                n.agency_id = target_agency;
                            }
                            start_step(n, now, &clock);
                            step_seq = Some(n.seq);
                        }
                        steps[target].assignee_id = Some(who.id);
                        steps[target].assignee_username = Some(who.username.clone());
                        details = serde_json::json!({"assignee": who.username});
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
                            d.due_at = d.due_at.map(|due| clock.resume_due(due, paused, now));
                            d.original_due_at = d.original_due_at.map(|due| clock.resume_due(due, paused, now));
                            for s in steps.iter_mut().filter(|s| s.completed_at.is_none()) {
                                s.due_at = s.due_at.map(|due| clock.resume_due(due, paused, now));
                            }
                            details =
                                serde_json::json!({"paused_minutes": clock.working_minutes_between(paused, now)});
                        }
                        if d.supplement_before_receipt {
                            d.supplement_before_receipt = false;
                            d.accept_due_at = Some(clock.add_working_minutes(
                                clock.normalise_intake(now),
                                u64::from(self.rules().online_accept_hours) * 60,
                            ));
                        }
                        if let Some(f) = &input.file {
                            let c = Component {
                                seq: next_component_seq(&components),
                                kind: "supplement".into(),
                                name: "Hồ sơ bổ sung".into(),
                                originals: 0,
                                copies: 1,
                                required: false,
                                provided: true,
                                file_sha256: uploaded(f).map(str::to_string),
                            };
                            repo::add_components(&mut tx, d.id, std::slice::from_ref(&c), now).await?;
                            components.push(c);
                        }
                    }
                    Action::RequestPayment | Action::ConfirmPayment => {}
                    Action::Reschedule => {
                        let text = input
                            .new_due
                            .as_deref()
                            .ok_or_else(|| ServiceError::invalid("new_due", msg!("dossier.new_due_required")))?;
                        let new_due = DateTime::parse_from_rfc3339(text)
                            .map_err(|_| ServiceError::invalid("new_due", msg!("dossier.new_due_format")))?
                            .to_utc();
                        if d.due_at.is_some_and(|due| new_due <= due) {
                            return Err(ServiceError::invalid("new_due", msg!("dossier.reschedule_not_later")));
                        }
                        details = serde_json::json!({"old_due": d.due_at, "new_due": new_due});
                        d.due_at = Some(new_due);
                        d.rescheduled_at = Some(now);
                    }
                    Action::Withdraw | Action::Stop => {
                        d.finished_at = Some(now);
                        d.paused_at = None;
                    }
                    Action::Approve => {
                        let f = input
                            .file
                            .as_deref()
                            .ok_or_else(|| ServiceError::invalid("file", msg!("dossier.result_required")))?;
                        let i = cur_idx.ok_or_else(|| ServiceError::invalid("", msg!("dossier.no_open_step")))?;
                        let ret = steps
                            .iter()
                            .position(|s| s.role == "result_officer" && s.completed_at.is_none());
                        let end = ret.unwrap_or(steps.len());
                        for s in steps.iter_mut().take(end).skip(i) {
                            complete(s, &actor, &input.note);
                        }
                        if let Some(r) = ret {
                            start_step(&mut steps[r], now, &clock);
                        }
                        d.result_file = uploaded(f).map(str::to_string);
                        d.result_number = input.result_number.clone().filter(|n| !n.trim().is_empty());
                        d.finished_at = Some(now);
                        let c = Component {
                            seq: next_component_seq(&components),
                            kind: "result".into(),
                            name: format!("Kết quả: {}", spec.result),
                            originals: 1,
                            copies: 0,
                            required: false,
                            provided: true,
                            file_sha256: d.result_file.clone(),
                        };
                        repo::add_components(&mut tx, d.id, std::slice::from_ref(&c), now).await?;
                        components.push(c);
                        let class = d
                            .original_due_at
                            .map(|due| ResolvedClass::classify(now, due))
                            .unwrap_or(ResolvedClass::OnTime);
                        details = serde_json::json!({"result_number": d.result_number, "class": class.as_str()});
                    }
                    Action::ReturnResult => {
                        let method = input.method.as_deref().unwrap_or("desk");
                        if !["desk", "post", "electronic"].contains(&method) {
                            return Err(ServiceError::invalid("method", msg!("dossier.return_method")));
                        }
                        for s in steps.iter_mut().filter(|s| s.completed_at.is_none()) {
                            if s.started_at.is_none() {
                                s.started_at = Some(now);
                            }
                            complete(s, &actor, &input.note);
                        }
                        d.returned_at = Some(now);
                        d.return_method = Some(method.to_string());
                        details = serde_json::json!({"method": method});
                    }
                }
                let event = chain_event(
                    &mut d,
                    &actor,
                    action.as_str(),
                    from,
                    to,
                    step_seq,
                    input.note.trim(),
                    details,
                    now,
                );
                // The dossier's update first: on PostgreSQL it checks the version read (a guard), and
                // its row lock comes before the others.
                repo::save_state(&mut tx, counted_before.as_ref(), &d, now).await?;
                write_event(&mut tx, &d, &event, from, to, now).await?;
                // Only the steps this action changed are written.
                let changed: Vec<&Step> = steps
                    .iter()
                    .zip(&steps_before)
                    .filter(|(s, before)| s != before)
                    .map(|(s, _)| s)
                    .collect();
                repo::save_steps(&mut tx, &changed).await?;
                tx.commit().await?;
                Ok((d, steps, components, to))
            }
            .await;
            match acted {
                Err(ServiceError::Store(e)) if e.is_retry() && attempts < 2 => continue,
                acted => break acted?,
            }
        };
        if let Some(code) = &d.code {
            self.forget_lookup(code);
        }
        d.version += 1;
        name_agencies(&reference, &mut steps);
        Ok(View {
            allowed: machine::allowed_actions(to, d.supplement_before_receipt),
            dossier: d,
            steps,
            components,
            events: Vec::new(),
            payment: None,
        })
    }
}

/// A rule of the transition table or its checks, as the refusal says it.
fn rule_error(e: RuleError, action: Action, from: Status) -> ServiceError {
    match e {
        RuleError::Illegal { allowed, .. } => ServiceError::Illegal {
            msg: msg!("dossier.illegal", action.label_arg(), from.label_arg()),
            allowed: allowed.iter().map(|a| a.as_str()).collect(),
        },
        RuleError::ReasonRequired => ServiceError::invalid(
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
        RuleError::SupplementLimit(n) => ServiceError::invalid("", msg!("dossier.supplement_limit", n)),
        RuleError::AlreadyRescheduled => ServiceError::invalid("", msg!("dossier.rescheduled_once")),
        RuleError::RescheduleTooLate => ServiceError::invalid("", msg!("dossier.reschedule_late")),
        RuleError::RescheduleNotLater => {
            ServiceError::invalid("new_due", msg!("dossier.reschedule_not_later"))
        }
        RuleError::Invalid(m) => ServiceError::Internal(m),
    }
}

/// The number a component added to these gets (the dossier's components, read in the
/// action's transaction, which holds the dossier).
fn next_component_seq(components: &[Component]) -> i64 {
    components.iter().map(|c| c.seq).max().unwrap_or(0) + 1
}
