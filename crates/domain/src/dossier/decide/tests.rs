//! `decide` and `may_take` beside the transition table: every (status, action, actor, open
//! step) the strategies reach, checked against the table and against each other, so the page's
//! buttons and the service's answers cannot drift apart.

use super::*;
use crate::calendar::{OfficeHours, WorkCalendar};
use crate::dossier::machine::{allowed_actions, next_status};
use crate::dossier::record::ApplicantKind;
use chrono::TimeZone;
use proptest::prelude::*;

/// The desk (agency 1) receives; a department (agency 2) assigns, handles and signs; the desk
/// returns the result.
const ROLES: [(Role, i64); 5] = [
    (Role::ReceivingOfficer, 1),
    (Role::Leader, 2),
    (Role::Specialist, 2),
    (Role::Approver, 2),
    (Role::ResultOfficer, 1),
];

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    // 2026-03-02 is a Monday; hours are local (UTC+7).
    Utc.with_ymd_and_hms(2026, 3, day, hour - 7, 0, 0).unwrap()
}

fn spec() -> ProcedureSpec {
    serde_json::from_value(serde_json::json!({
        "code": "1.000001", "name": "Cấp phép", "field": {"code": "XD", "name": "Xây dựng"},
        "levels": ["province"], "agencies": ["000.00.01.H56"], "methods": ["direct", "online"],
        "applicants": "Cá nhân", "components": [], "time_limit": "5 working-days",
        "online_time_limit": null, "same_day_cutoff": null, "fees": [], "result": "Giấy phép",
        "conditions": "", "legal_basis": [], "online_level": "full", "four_on_the_spot": false,
        "cases": [{"code": "c", "name": "Chung", "time_limit": null, "online_time_limit": null, "steps": []}],
        "effective_from": "2025-07-01"
    }))
    .expect("a valid procedure")
}

fn dossier(status: Status) -> Dossier {
    Dossier {
        id: 7,
        code: (status != Status::Submitted).then(|| "000.00.01.H56-260302-0001".into()),
        agency_id: 1,
        agency_code: "000.00.01.H56".into(),
        agency_name: "Bộ phận một cửa".into(),
        procedure_id: 1,
        procedure_code: "1.000001".into(),
        procedure_name: "Cấp phép".into(),
        procedure_version: 1,
        case_code: "c".into(),
        channel: Channel::Direct,
        status,
        applicant_name: "Nguyễn Văn A".into(),
        applicant_kind: ApplicantKind::Person,
        applicant_id_number: "001099012345".into(),
        submitter_name: String::new(),
        phone: String::new(),
        email: String::new(),
        address: String::new(),
        request: String::new(),
        submitted_at: None,
        received_at: Some(at(2, 9)),
        actually_received_at: Some(at(2, 9)),
        accept_due_at: None,
        due_at: Some(at(9, 9)),
        original_due_at: Some(at(9, 9)),
        finished_at: None,
        paused_at: (status == Status::AwaitingSupplement).then(|| at(3, 9)),
        supplements_after_receipt: 0,
        supplement_before_receipt: false,
        rescheduled_at: None,
        returned_at: None,
        return_method: None,
        result_file: None,
        result_number: None,
        received_by: "desk".into(),
        last_hash: "0".repeat(64),
        event_count: 1,
        version: 3,
        created_at: at(2, 9),
        portal_id: None,
        vneid_verified: false,
    }
}

/// The workflow with steps before `open` completed and step `open` started (None: none
/// started, or all completed when `done`).
fn steps(open: Option<usize>, done: bool) -> Vec<Step> {
    ROLES
        .iter()
        .enumerate()
        .map(|(i, (role, agency))| {
            let started = done || open.is_some_and(|o| i <= o);
            let completed = done || open.is_some_and(|o| i < o);
            Step {
                id: i as i64 + 1,
                seq: i as i64 + 1,
                name: format!("Bước {}", i + 1),
                role: *role,
                agency_id: Some(*agency),
                agency_code: None,
                agency_name: None,
                agency_rule: AgencyRule::Receiving,
                quota_thousandths: 1000,
                started_at: started.then(|| at(2, 9)),
                due_at: started.then(|| at(3, 9)),
                completed_at: completed.then(|| at(2, 10)),
                completed_by: completed.then(|| "someone".into()),
                assignee_id: None,
                assignee_username: None,
                note: String::new(),
            }
        })
        .collect()
}

fn command(action: Action) -> Command {
    Command {
        note: "lý do".into(),
        assignee: Some(Assignee {
            id: 42,
            username: "chuyenvien".into(),
            grants: Some(vec![Grant {
                agency_id: 2,
                role: Role::Specialist,
            }]),
        }),
        new_due: Some(at(20, 9)),
        file: Some("ab".repeat(32)),
        result_number: Some("12/GP".into()),
        method: Some(ReturnMethod::Post),
        ..Command::new(action)
    }
}

fn with_clock<T>(f: impl FnOnce(LegalClock<'_>) -> T) -> T {
    static CALENDAR: std::sync::LazyLock<(WorkCalendar, OfficeHours)> =
        std::sync::LazyLock::new(|| (WorkCalendar::rules_only(), OfficeHours::default()));
    f(LegalClock::new(&CALENDAR.0, &CALENDAR.1))
}

fn run(
    d: &Dossier,
    steps: &[Step],
    cmd: &Command,
    by: Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Decision, Refused> {
    static SPEC: std::sync::LazyLock<ProcedureSpec> = std::sync::LazyLock::new(spec);
    let spec = &*SPEC;
    with_clock(|clock| {
        let cx = Context {
            now,
            clock,
            spec,
            max_supplements: 1,
            online_accept_hours: 8,
            actor_name: "officer",
        };
        let state = State {
            dossier: d,
            steps,
            components: &[],
        };
        decide(state, cmd, by, &cx)
    })
}

/// A consistent dossier for a status: where its open step is, for each status.
fn situation(status: Status, open: usize) -> (Dossier, Vec<Step>) {
    let d = dossier(status);
    let steps = match status {
        Status::Submitted | Status::Refused => steps(None, false),
        Status::Received => steps(Some(0), false),
        Status::Resolved => steps(Some(4), false),
        Status::Returned | Status::Withdrawn | Status::Stopped => steps(None, true),
        _ => steps(Some(open.clamp(1, 3)), false),
    };
    (d, steps)
}

fn grants_strategy() -> impl Strategy<Value = Vec<Grant>> {
    proptest::collection::vec((0..Role::ALL.len(), 1i64..=3), 0..5).prop_map(|v| {
        v.into_iter()
            .map(|(r, agency_id)| Grant {
                agency_id,
                role: Role::ALL[r],
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The service's decision and the page's buttons agree, and both obey the table.
    #[test]
    fn decide_agrees_with_the_table_and_with_may_take(
        status in 0..Status::ALL.len(),
        action in 0..Action::ALL.len(),
        open in 1usize..4,
        grants in grants_strategy(),
        owner in any::<bool>(),
        user_id in 40i64..44,
    ) {
        let (status, action) = (Status::ALL[status], Action::ALL[action]);
        let (d, steps) = situation(status, open);
        let access = Access::new(grants);
        let by = if owner { Acting::Owner } else { Acting::Officer { user_id, access: &access } };
        let decided = run(&d, &steps, &command(action), by, at(4, 10));
        let legal = next_status(status, action, false);
        let offered = available(&d, &steps, by).contains(&action);
        prop_assert_eq!(offered, legal.is_some() && may_take(&d, &steps, action, by).is_ok());
        match decided {
            Ok(decision) => {
                prop_assert!(offered, "{} decided but not offered in {}", action, status);
                prop_assert_eq!(Some(decision.to), legal);
                prop_assert_eq!(decision.dossier.status, decision.to);
                // At most one step is open, and no completed step is reopened.
                prop_assert!(decision.steps.iter().filter(|s| s.is_open()).count() <= 1);
                for (before, after) in steps.iter().zip(&decision.steps) {
                    if before.completed_at.is_some() {
                        prop_assert_eq!(before, after);
                    }
                    if let (Some(start), Some(due)) = (after.started_at, after.due_at) {
                        prop_assert!(due >= start, "due before start");
                    }
                }
                prop_assert_eq!(decision.dossier.version, d.version);
                prop_assert_eq!(
                    decision.changed_steps.clone(),
                    (0..steps.len()).filter(|&i| steps[i] != decision.steps[i]).collect::<Vec<_>>()
                );
                let ends = matches!(decision.to, Status::Refused | Status::Withdrawn | Status::Stopped | Status::Resolved);
                prop_assert_eq!(ends, decision.dossier.finished_at.is_some() && d.finished_at.is_none());
            }
            // Not offered: refused as forbidden, illegal or a missing step; offered: refused
            // only for what the values or the dates say.
            Err(Refused::Forbidden(_)) => prop_assert!(!offered),
            Err(Refused::Illegal { allowed, .. }) => {
                prop_assert!(legal.is_none());
                let expected: Vec<&str> = allowed_actions(status, false).iter().map(|a| a.as_str()).collect();
                prop_assert_eq!(allowed, expected);
            }
            Err(Refused::Invalid(e)) => {
                let structural = ["dossier.no_open_step", "dossier.last_step", "dossier.step_ends_by"];
                prop_assert_eq!(structural.contains(&e.msg.code), !offered, "{:?}", e);
            }
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }

    /// A pause for a supplement moves every open due by the working time it lasted.
    #[test]
    fn a_supplement_pause_moves_the_dues_by_its_working_time(days in 0u32..10, hour in 7u32..18) {
        let (d, steps) = situation(Status::AwaitingSupplement, 2);
        let access = Access::new(vec![Grant { agency_id: 1, role: Role::ReceivingOfficer }]);
        let by = Acting::Officer { user_id: 1, access: &access };
        let now = at(3 + days, hour);
        let decision = run(&d, &steps, &command(Action::ReceiveSupplement), by, now).expect("received");
        let paused = d.paused_at.expect("paused");
        with_clock(|clock| {
            let moved = clock.working_minutes_between(paused, now);
            prop_assert_eq!(decision.dossier.due_at, Some(clock.add_working_minutes(at(9, 9), moved)));
            prop_assert_eq!(decision.dossier.paused_at, None);
            prop_assert_eq!(decision.to, Status::Processing);
            Ok(())
        })?;
    }
}

fn officer(grants: &[(Role, i64)]) -> Access {
    Access::new(
        grants
            .iter()
            .map(|&(role, agency_id)| Grant { agency_id, role })
            .collect(),
    )
}

#[test]
fn a_leader_assigns_the_next_step_and_its_holder_completes_it() {
    let (d, steps) = situation(Status::Processing, 1);
    let leader = officer(&[(Role::Leader, 2)]);
    let by = Acting::Officer {
        user_id: 5,
        access: &leader,
    };
    let assigned = run(&d, &steps, &command(Action::Assign), by, at(3, 10)).expect("assigned");
    assert_eq!(assigned.changed_steps, vec![1, 2]);
    assert_eq!(assigned.steps[2].assignee_id, Some(42));
    assert!(assigned.steps[1].completed_at.is_some() && assigned.steps[2].is_open());

    // Another specialist may not complete an assigned step; the assignee may.
    let other = officer(&[(Role::Specialist, 2)]);
    let by_other = Acting::Officer {
        user_id: 43,
        access: &other,
    };
    assert_eq!(
        may_take(&assigned.dossier, &assigned.steps, Action::CompleteStep, by_other),
        Err(Refusal::NotYours)
    );
    let by_assignee = Acting::Officer {
        user_id: 42,
        access: &other,
    };
    let done = run(
        &assigned.dossier,
        &assigned.steps,
        &command(Action::CompleteStep),
        by_assignee,
        at(3, 11),
    )
    .expect("completed");
    assert!(done.steps[3].is_open(), "the approver's step starts");

    // The approver approves: the result officer's step starts, a result component is added.
    let approver = officer(&[(Role::Approver, 2)]);
    let by = Acting::Officer {
        user_id: 6,
        access: &approver,
    };
    assert_eq!(
        may_take(&done.dossier, &done.steps, Action::CompleteStep, by),
        Err(Refusal::EndsBy(Action::Approve))
    );
    let approved = run(
        &done.dossier,
        &done.steps,
        &command(Action::Approve),
        by,
        at(4, 9),
    )
    .expect("approved");
    assert_eq!(approved.to, Status::Resolved);
    assert!(approved.steps[4].is_open());
    assert_eq!(
        approved.component.as_ref().map(|c| c.kind),
        Some(ComponentKind::Result)
    );
    assert_eq!(approved.details["class"], "early");
}

#[test]
fn an_assignee_must_hold_the_role_and_be_enabled() {
    let (d, steps) = situation(Status::Processing, 1);
    let leader = officer(&[(Role::Leader, 2)]);
    let by = Acting::Officer {
        user_id: 5,
        access: &leader,
    };
    let mut cmd = command(Action::Assign);
    cmd.assignee.as_mut().unwrap().grants = Some(vec![Grant {
        agency_id: 1,
        role: Role::Specialist,
    }]);
    let Err(Refused::Invalid(e)) = run(&d, &steps, &cmd, by, at(3, 10)) else {
        panic!("accepted")
    };
    assert_eq!(
        (e.path.as_str(), e.msg.code),
        ("assignee", "dossier.assignee_role")
    );
    cmd.assignee.as_mut().unwrap().grants = None;
    let Err(Refused::Invalid(e)) = run(&d, &steps, &cmd, by, at(3, 10)) else {
        panic!("accepted")
    };
    assert_eq!(e.msg.code, "user.disabled");
}

#[test]
fn accepting_issues_a_code_and_the_appointment() {
    let mut d = dossier(Status::Submitted);
    d.channel = Channel::Online;
    d.received_at = None;
    d.due_at = None;
    d.original_due_at = None;
    let steps = steps(None, false);
    let desk = officer(&[(Role::ReceivingOfficer, 1)]);
    let by = Acting::Officer {
        user_id: 1,
        access: &desk,
    };
    let mut accepted = run(&d, &steps, &command(Action::Accept), by, at(2, 10)).expect("accepted");
    assert!(accepted.needs_code);
    accepted.issue_code("000.00.01.H56-260302-0002".into());
    assert_eq!(accepted.details["code"], "000.00.01.H56-260302-0002");
    assert_eq!(accepted.dossier.received_at, Some(at(2, 10)));
    // 5 working days from Monday 10:00.
    assert_eq!(accepted.dossier.due_at, Some(at(9, 10)));
    assert_eq!(accepted.changed_steps, vec![0]);
}

#[test]
fn accepting_after_hours_keeps_the_real_instant_and_starts_the_clock_at_the_next_opening() {
    let mut d = dossier(Status::Submitted);
    d.channel = Channel::Online;
    (d.received_at, d.actually_received_at, d.due_at, d.original_due_at) = (None, None, None, None);
    let steps = steps(None, false);
    let desk = officer(&[(Role::ReceivingOfficer, 1)]);
    let by = Acting::Officer {
        user_id: 1,
        access: &desk,
    };
    let evening = at(2, 19);
    let accepted = run(&d, &steps, &command(Action::Accept), by, evening).expect("accepted");
    assert_eq!(accepted.dossier.actually_received_at, Some(evening));
    assert_eq!(accepted.dossier.received_at, Some(at(3, 7)));
    // 5 working days from Tuesday's opening: the next Monday's closing.
    assert_eq!(accepted.dossier.due_at, Some(at(9, 17)));
}

#[test]
fn a_stale_version_is_a_conflict_before_anything_else() {
    let (d, steps) = situation(Status::Processing, 2);
    let mut cmd = command(Action::Stop);
    cmd.expected_version = Some(2);
    let Err(Refused::Conflict(m)) = run(&d, &steps, &cmd, Acting::Owner, at(3, 10)) else {
        panic!()
    };
    assert_eq!(m.args, vec!["2", "3"]);
}

#[test]
fn a_citizen_only_supplements_or_withdraws() {
    let (d, steps) = situation(Status::AwaitingSupplement, 2);
    for action in Action::ALL {
        let theirs = matches!(action, Action::ReceiveSupplement | Action::Withdraw);
        let expected = if theirs {
            Ok(())
        } else {
            Err(Refusal::OfficersOnly)
        };
        assert_eq!(may_take(&d, &steps, action, Acting::Owner), expected, "{action}");
    }
}

#[test]
fn a_child_step_takes_a_child_of_the_previous_agency() {
    let d = dossier(Status::Received);
    let mut steps = steps(Some(0), false);
    steps[1].agency_id = None;
    steps[1].agency_rule = AgencyRule::Child;
    let desk = officer(&[(Role::ReceivingOfficer, 1)]);
    let by = Acting::Officer {
        user_id: 1,
        access: &desk,
    };
    let Err(Refused::Invalid(e)) = run(&d, &steps, &command(Action::Transfer), by, at(2, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "dossier.choose_agency");
    let mut cmd = command(Action::Transfer);
    cmd.to_agency = Some(ChosenAgency {
        id: 9,
        code: "000.00.09.H56".into(),
        parent_id: Some(3),
    });
    let Err(Refused::Invalid(e)) = run(&d, &steps, &cmd, by, at(2, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "dossier.not_child");
    cmd.to_agency = Some(ChosenAgency {
        id: 9,
        code: "000.00.09.H56".into(),
        parent_id: Some(1),
    });
    let moved = run(&d, &steps, &cmd, by, at(2, 10)).expect("transferred");
    assert_eq!(moved.steps[1].agency_id, Some(9));
    assert_eq!(moved.to, Status::Processing);
}

/// The officers a workflow names: each step's role at its agency, and the desk's receiving and
/// result officers at the receiving agency (1); one user each.
fn officers_of(workflow: &[(Role, i64)]) -> Vec<(i64, Role, i64, Access)> {
    let mut named: Vec<(Role, i64)> = vec![(Role::ReceivingOfficer, 1), (Role::ResultOfficer, 1)];
    for w in workflow {
        if !named.contains(w) {
            named.push(*w);
        }
    }
    named
        .into_iter()
        .enumerate()
        .map(|(i, (role, agency_id))| {
            (
                100 + i as i64,
                role,
                agency_id,
                Access::new(vec![Grant { agency_id, role }]),
            )
        })
        .collect()
}

/// The dossier of a workflow as intake leaves it: received at the desk (step 1 open) or
/// submitted online (nothing started).
fn start_of(workflow: &[(Role, i64)], online: bool) -> (Dossier, Vec<Step>) {
    let mut d = dossier(if online {
        Status::Submitted
    } else {
        Status::Received
    });
    if online {
        (d.channel, d.received_at, d.due_at, d.original_due_at) = (Channel::Online, None, None, None);
    }
    let steps = workflow
        .iter()
        .enumerate()
        .map(|(i, (role, agency))| {
            let started = i == 0 && !online;
            Step {
                id: i as i64 + 1,
                seq: i as i64 + 1,
                name: format!("Bước {}", i + 1),
                role: *role,
                agency_id: Some(*agency),
                agency_code: None,
                agency_name: None,
                agency_rule: AgencyRule::Receiving,
                quota_thousandths: 500,
                started_at: started.then(|| at(2, 9)),
                due_at: started.then(|| at(2, 14)),
                completed_at: None,
                completed_by: None,
                assignee_id: None,
                assignee_username: None,
                note: String::new(),
            }
        })
        .collect();
    (d, steps)
}

/// Every state the workflow's officers can lead the dossier to, and the moves between them
/// (withdrawing and refusing aside: they end a dossier without its result).
/// The states reached (a dossier and its steps) and, for each, the states it moves to.
type Reached = (Vec<(Dossier, Vec<Step>)>, Vec<Vec<usize>>);

fn explore(workflow: &[(Role, i64)], online: bool) -> Reached {
    let officers = officers_of(workflow);
    let key = |d: &Dossier, steps: &[Step]| {
        format!(
            "{:?} {:?} {} {} {} {} {:?}",
            d.status,
            open_step(steps),
            d.supplement_before_receipt,
            d.supplements_after_receipt,
            d.rescheduled_at.is_some(),
            d.paused_at.is_some(),
            steps
                .iter()
                .map(|s| (s.assignee_id, s.completed_at.is_some()))
                .collect::<Vec<_>>()
        )
    };
    let mut states = vec![start_of(workflow, online)];
    let mut index = std::collections::HashMap::from([(key(&states[0].0, &states[0].1), 0usize)]);
    let mut moves: Vec<Vec<usize>> = vec![Vec::new()];
    let mut next = 0;
    while next < states.len() {
        assert!(
            states.len() < 5_000,
            "the state space of {workflow:?} does not close"
        );
        let (d, steps) = states[next].clone();
        for (user_id, _, _, access) in &officers {
            let by = Acting::Officer {
                user_id: *user_id,
                access,
            };
            for action in available(&d, &steps, by) {
                let mut cmd = command(action);
                cmd.new_due = d.due_at.map(|due| due + chrono::Duration::days(10));
                cmd.method = Some(ReturnMethod::Desk);
                cmd.assignee = match open_step(&steps) {
                    Some(open) if action == Action::Assign => {
                        let target = &steps[assignment_target(&steps, open)];
                        officers
                            .iter()
                            .find(|(_, role, agency, _)| {
                                *role == target.role && Some(*agency) == target.agency_id
                            })
                            .map(|(id, role, agency, _)| Assignee {
                                id: *id,
                                username: format!("u{id}"),
                                grants: Some(vec![Grant {
                                    agency_id: *agency,
                                    role: *role,
                                }]),
                            })
                    }
                    _ => None,
                };
                let Ok(mut decision) = run(&d, &steps, &cmd, by, at(4, 10)) else {
                    continue;
                };
                if decision.needs_code {
                    decision.issue_code("000.00.01.H56-260304-0001".into());
                }
                let k = key(&decision.dossier, &decision.steps);
                let to = *index.entry(k).or_insert_with(|| {
                    states.push((decision.dossier.clone(), decision.steps.clone()));
                    moves.push(Vec::new());
                    states.len() - 1
                });
                if !matches!(action, Action::Withdraw | Action::Refuse) {
                    moves[next].push(to);
                }
            }
        }
        next += 1;
    }
    (states, moves)
}

fn role_strategy() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::ReceivingOfficer),
        Just(Role::Leader),
        Just(Role::Specialist),
        Just(Role::Approver),
        Just(Role::Clerk),
        Just(Role::ResultOfficer),
    ]
}

/// Workflows shaped as the catalog accepts them, from the desk's step, through any steps,
/// an approver's, and any steps after it (the test checks the catalog does accept each).
fn accepted_workflow() -> impl Strategy<Value = Vec<(Role, i64)>> {
    let before = role_strategy().prop_filter("no result before signing", |r| *r != Role::ResultOfficer);
    let after = role_strategy().prop_filter("the last approver", |r| *r != Role::Approver);
    (
        proptest::collection::vec((before, 1i64..=3), 0..3),
        1i64..=3,
        proptest::collection::vec((after, 1i64..=3), 0..3),
    )
        .prop_map(|(middle, approver_agency, after)| {
            let mut w = vec![(Role::ReceivingOfficer, 1)];
            w.extend(middle);
            w.push((Role::Approver, approver_agency));
            w.extend(after);
            w
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A workflow the catalog accepts can always end with its result: from every state its
    /// officers can bring a dossier to, legal actions (not withdrawing) lead to the result
    /// returned, or to processing stopped by its approver. No step can be completed past the
    /// action it ends by, so no dossier is left where nobody may act.
    #[test]
    fn every_accepted_workflow_can_reach_its_result_from_every_state(
        workflow in accepted_workflow(),
        online in any::<bool>(),
    ) {
        let templates: Vec<crate::procedure::StepTemplate> = workflow
            .iter()
            .map(|(role, _)| crate::procedure::StepTemplate {
                name: "Bước".into(),
                role: role.as_str().into(),
                agency: AgencyRule::Receiving,
                quota_days: 0.5,
            })
            .collect();
        prop_assert_eq!(crate::procedure::workflow_problems(&templates), vec![]);
        let (states, moves) = explore(&workflow, online);
        // Backwards from the ends, what can still reach one.
        let ends = |s: Status| matches!(s, Status::Returned | Status::Stopped);
        let mut good: Vec<bool> = states.iter().map(|(d, _)| ends(d.status)).collect();
        loop {
            let mut changed = false;
            for i in 0..states.len() {
                if !good[i] && moves[i].iter().any(|&j| good[j]) {
                    good[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        prop_assert!(states.iter().any(|(d, _)| d.status == Status::Returned), "{:?}: no result ever", workflow);
        for ((d, steps), ok) in states.iter().zip(&good) {
            let settled = matches!(d.status, Status::Refused | Status::Withdrawn);
            prop_assert!(*ok || settled, "{:?} ({}): stuck in {} at step {:?}", workflow, if online { "online" } else { "desk" }, d.status, open_step(steps));
        }
    }
}

#[test]
fn the_stuck_approval_of_issue_25_is_refused() {
    // Completing the approver's step used to move the dossier to the result officer's step,
    // where nobody could approve, return or stop it.
    let workflow = [
        (Role::ReceivingOfficer, 1),
        (Role::Specialist, 2),
        (Role::Approver, 2),
        (Role::ResultOfficer, 1),
    ];
    let (d, mut steps) = start_of(&workflow, false);
    for s in &mut steps[..2] {
        s.started_at = Some(at(2, 9));
        s.completed_at = Some(at(2, 10));
    }
    steps[2].started_at = Some(at(2, 10));
    let d = Dossier {
        status: Status::Processing,
        ..d
    };
    let approver = officer(&[(Role::Approver, 2)]);
    let by = Acting::Officer {
        user_id: 7,
        access: &approver,
    };
    let Err(Refused::Invalid(e)) = run(&d, &steps, &command(Action::CompleteStep), by, at(3, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "dossier.step_ends_by");
    assert!(!available(&d, &steps, by).contains(&Action::CompleteStep));
    assert!(available(&d, &steps, by).contains(&Action::Approve));
}

#[test]
fn withdrawing_or_stopping_closes_the_open_step() {
    let (d, steps) = situation(Status::Processing, 2);
    let desk = officer(&[(Role::ReceivingOfficer, 1)]);
    let by = Acting::Officer {
        user_id: 1,
        access: &desk,
    };
    let withdrawn = run(&d, &steps, &command(Action::Withdraw), by, at(4, 10)).expect("withdrawn");
    assert!(withdrawn.steps.iter().all(|s| !s.is_open()));
    assert_eq!(withdrawn.steps[2].completed_at, Some(at(4, 10)));
    assert_eq!(withdrawn.changed_steps, vec![2]);
    assert_eq!(withdrawn.steps[3].started_at, None, "steps never started stay so");
}
