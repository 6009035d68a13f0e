//! `decide` beside the feedback transition table: every (status, action, officer) checked
//! against the table and `may_act`.

use super::*;
use crate::access::{Grant, Role};
use crate::feedback::Channel;
use chrono::TimeZone;
use proptest::prelude::*;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour - 7, 0, 0).unwrap()
}

fn feedback(status: Status) -> Feedback {
    Feedback {
        id: 1,
        reference: "PAKN-260302-0001".into(),
        dossier_code: None,
        submitter_name: "Nguyễn Văn A".into(),
        phone: "0911222333".into(),
        email: String::new(),
        channel: Channel::Online,
        category: None,
        subject: "Thái độ".into(),
        content: "Nội dung".into(),
        agency_id: 1,
        agency_code: "000.00.01.H56".into(),
        agency_name: "Sở Tư pháp".into(),
        status,
        received_at: at(2, 9),
        clock_started_at: at(2, 9),
        forward_due_at: at(9, 9),
        answer_due_at: at(16, 9),
        closed_at: None,
        answer: String::new(),
        reject_reason: String::new(),
        answered_by: String::new(),
        published: false,
        published_at: None,
        noted_by: String::new(),
        version: 2,
        created_at: at(2, 9),
    }
}

fn command(action: Action) -> Command {
    Command {
        action,
        note: "ghi chú".into(),
        answer: "Trả lời".into(),
        category: None,
        to_agency: Some(Ok(Target {
            agency_id: 2,
            agency_code: "000.00.02.H56".into(),
            agency_name: "Sở Xây dựng".into(),
            deadlines: Deadlines {
                started_at: at(4, 10),
                forward_due_at: at(11, 10),
                answer_due_at: at(18, 10),
            },
        })),
        expected_version: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn decide_follows_the_table_and_the_officer(
        status in 0..Status::ALL.len(),
        action in 0..Action::ALL.len(),
        agency in 1i64..3,
        role in 0..Role::ALL.len(),
    ) {
        let (status, action) = (Status::ALL[status], Action::ALL[action]);
        let access = Access::new(vec![Grant { agency_id: agency, role: Role::ALL[role] }]);
        let f = feedback(status);
        let got = decide(&f, &command(action), "canbo", &access, at(4, 10));
        let officer = may_act(&access, 1);
        let legal = next_status(status, action);
        match got {
            Ok(d) => {
                prop_assert!(officer);
                prop_assert_eq!(Some(d.to), legal);
                prop_assert_eq!(d.feedback.status, d.to);
                prop_assert_eq!(d.feedback.version, f.version);
                prop_assert_eq!(d.feedback.closed_at.is_some(), d.to.is_closed() && d.to != Status::Published);
                prop_assert_eq!(d.feedback.agency_id != f.agency_id, action == Action::Forward);
            }
            Err(Refused::Forbidden(_)) => prop_assert!(!officer),
            Err(Refused::Illegal { allowed, .. }) => {
                prop_assert!(officer && legal.is_none());
                let expected: Vec<&str> = allowed_actions(status).iter().map(|a| a.as_str()).collect();
                prop_assert_eq!(allowed, expected);
            }
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }
}

fn officer() -> Access {
    Access::new(vec![Grant {
        agency_id: 1,
        role: Role::Specialist,
    }])
}

#[test]
fn a_forward_restarts_both_clocks_at_the_competent_agency() {
    let d = decide(
        &feedback(Status::Received),
        &command(Action::Forward),
        "canbo",
        &officer(),
        at(4, 10),
    )
    .unwrap();
    assert_eq!(
        (d.feedback.agency_id, d.feedback.agency_name.as_str()),
        (2, "Sở Xây dựng")
    );
    assert_eq!(
        (d.feedback.forward_due_at, d.feedback.answer_due_at),
        (at(11, 10), at(18, 10))
    );
    assert_eq!(
        (d.agency_id, d.to_agency_id, d.due_at),
        (1, Some(2), Some(at(9, 9)))
    );
    assert!(d.feedback.search_text().contains("so xay dung"));
}

#[test]
fn a_forward_needs_another_known_agency() {
    let f = feedback(Status::Received);
    let mut cmd = command(Action::Forward);
    cmd.to_agency = None;
    let Err(Refused::Invalid(e)) = decide(&f, &cmd, "canbo", &officer(), at(4, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "feedback.to_agency");
    cmd.to_agency = Some(Err(FieldError::new("to_agency", msg!("agency.unknown", "x"))));
    let Err(Refused::Invalid(e)) = decide(&f, &cmd, "canbo", &officer(), at(4, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "agency.unknown");
    let mut same = command(Action::Forward);
    if let Some(Ok(t)) = &mut same.to_agency {
        t.agency_id = 1;
    }
    let Err(Refused::Invalid(e)) = decide(&f, &same, "canbo", &officer(), at(4, 10)) else {
        panic!()
    };
    assert_eq!(e.msg.code, "feedback.same_agency");
}

#[test]
fn an_answer_is_stored_on_the_feedback_not_in_the_event() {
    let d = decide(
        &feedback(Status::Processing),
        &command(Action::Answer),
        "canbo",
        &officer(),
        at(4, 10),
    )
    .unwrap();
    assert_eq!(
        (d.feedback.answer.as_str(), d.feedback.answered_by.as_str()),
        ("Trả lời", "canbo")
    );
    assert_eq!(d.note, "");
    let mut empty = command(Action::Answer);
    empty.answer = "  ".into();
    let Err(Refused::Invalid(e)) = decide(
        &feedback(Status::Processing),
        &empty,
        "canbo",
        &officer(),
        at(4, 10),
    ) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.msg.code),
        ("answer", "feedback.answer_required")
    );
}

#[test]
fn classifying_defaults_the_category_from_the_dossier_named() {
    let mut f = feedback(Status::Received);
    let d = decide(&f, &command(Action::Classify), "canbo", &officer(), at(4, 10)).unwrap();
    assert_eq!(d.feedback.category, Some(Category::Regulation));
    f.dossier_code = Some("000.00.01.H56-260302-0001".into());
    let d = decide(&f, &command(Action::Classify), "canbo", &officer(), at(4, 10)).unwrap();
    assert_eq!(d.feedback.category, Some(Category::Handling));
    let mut stale = command(Action::Classify);
    stale.expected_version = Some(1);
    assert!(matches!(
        decide(&f, &stale, "canbo", &officer(), at(4, 10)),
        Err(Refused::Conflict(_))
    ));
}
