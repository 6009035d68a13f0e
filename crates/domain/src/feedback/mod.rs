//! Feedback and petitions (*phản ánh, kiến nghị*, PAKN; DOMAIN.md §8): statuses and the legal
//! transitions, deadlines on the legal clock, on-time classification, the reference code, the
//! rules a submission must meet and the folded search text. Pure: no I/O, no system clock.
//!
//! Deadlines. A feedback has two: the *forward deadline* (decide competence — classify, forward
//! to the competent agency or reject — within 5 working days, *configurable*) and the *answer
//! deadline* (10 working days, *configurable*). Both run from receipt on the receiving agency's
//! legal clock. Forwarding **restarts both clocks at the forward instant**, on the competent
//! agency's office hours: that agency learns of the feedback only then, and counting from the
//! original receipt would charge it with the forwarding agency's days. The forwarding agency's
//! own timeliness is not lost: the forward event keeps the deadline it was judged against.

pub mod decide;
mod record;

pub use record::Feedback;

use crate::calendar::{LegalClock, TimeLimit, local_date};
use crate::code::DossierCode;
use crate::identity::{Email, PhoneVn};
use crate::msg;
use crate::msg::{FieldError, Msg};
use crate::text::fold_vi;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a feedback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Submitted (online) or noted by an officer (written, phone); competence not decided yet.
    Received,
    /// Within the agency's competence (*thuộc thẩm quyền*), waiting to be handled.
    Classified,
    /// Sent on to the competent agency, which has not decided yet.
    Forwarded,
    /// Not accepted for handling, with a reason (*không tiếp nhận*). Final.
    Rejected,
    /// Being verified and handled (*đang xử lý*).
    Processing,
    /// Answered to the petitioner (*đã trả lời*).
    Answered,
    /// The answer is public (*đã công khai*). Final.
    Published,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Received,
        Status::Classified,
        Status::Forwarded,
        Status::Rejected,
        Status::Processing,
        Status::Answered,
        Status::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Classified => "classified",
            Status::Forwarded => "forwarded",
            Status::Rejected => "rejected",
            Status::Processing => "processing",
            Status::Answered => "answered",
            Status::Published => "published",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Received => "Mới tiếp nhận",
            Status::Classified => "Thuộc thẩm quyền, chờ xử lý",
            Status::Forwarded => "Đã chuyển cơ quan có thẩm quyền",
            Status::Rejected => "Không tiếp nhận",
            Status::Processing => "Đang xử lý",
            Status::Answered => "Đã trả lời",
            Status::Published => "Đã công khai trả lời",
        }
    }

    /// The petitioner has had a response (an answer or a rejection): the clock has stopped.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Rejected | Status::Answered | Status::Published)
    }

    /// Competence is still to be decided: the forward deadline is the one that runs.
    pub fn awaits_decision(self) -> bool {
        matches!(self, Status::Received | Status::Forwarded)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown feedback status {s:?}"))
    }
}

/// An officer's action on a feedback; the API names are the snake_case ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// received/forwarded → classified: within this agency's competence.
    Classify,
    /// received/forwarded → forwarded: to the competent agency; both clocks restart there.
    Forward,
    /// received/forwarded → rejected: not accepted, with a reason.
    Reject,
    /// classified → processing: handling starts.
    Process,
    /// processing → answered: the answer is given.
    Answer,
    /// answered → published: the answer is made public.
    Publish,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Classify,
        Action::Forward,
        Action::Reject,
        Action::Process,
        Action::Answer,
        Action::Publish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Classify => "classify",
            Action::Forward => "forward",
            Action::Reject => "reject",
            Action::Process => "process",
            Action::Answer => "answer",
            Action::Publish => "publish",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Action::Classify => "Xác nhận thuộc thẩm quyền",
            Action::Forward => "Chuyển cơ quan có thẩm quyền",
            Action::Reject => "Không tiếp nhận",
            Action::Process => "Bắt đầu xử lý",
            Action::Answer => "Trả lời",
            Action::Publish => "Công khai câu trả lời",
        }
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
            .ok_or_else(|| format!("unknown feedback action {s:?}"))
    }
}

/// The status an action leads to, or None when it is illegal in `from`.
pub fn next_status(from: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    Some(match (from, action) {
        (S::Received | S::Forwarded, A::Classify) => S::Classified,
        (S::Received | S::Forwarded, A::Forward) => S::Forwarded,
        (S::Received | S::Forwarded, A::Reject) => S::Rejected,
        (S::Classified, A::Process) => S::Processing,
        (S::Processing, A::Answer) => S::Answered,
        (S::Answered, A::Publish) => S::Published,
        _ => return None,
    })
}

/// The actions legal in a status, in a stable order (409 responses, action forms).
pub fn allowed_actions(from: Status) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| next_status(from, *a).is_some())
        .collect()
}

crate::try_from_text!(Status, Channel);

/// How a feedback reached the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Submitted by the citizen on the portal.
    Online,
    /// A letter or a form handed in, entered by an officer.
    Written,
    /// A phone call noted by an officer.
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Online, Channel::Written, Channel::Phone];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Written => "written",
            Channel::Phone => "phone",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: crate::msg::Lang) -> &'static str {
        match (lang, self) {
            (crate::msg::Lang::Vi, c) => c.label_vi(),
            (crate::msg::Lang::En, Channel::Online) => "Online",
            (crate::msg::Lang::En, Channel::Written) => "In writing",
            (crate::msg::Lang::En, Channel::Phone) => "By phone",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Channel::Online => "Trực tuyến",
            Channel::Written => "Bằng văn bản",
            Channel::Phone => "Qua điện thoại",
        }
    }

    /// Only an officer enters written and phone feedback.
    pub fn needs_officer(self) -> bool {
        self != Channel::Online
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown channel {s:?}: expected online, written or phone"))
    }
}

/// What a feedback is about (DOMAIN.md §8), decided when it is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// An administrative regulation (*quy định hành chính*).
    Regulation,
    /// How a dossier or a request was handled, officer conduct (*hành vi hành chính*).
    Handling,
}

impl Category {
    pub const ALL: [Category; 2] = [Category::Regulation, Category::Handling];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Regulation => "regulation",
            Category::Handling => "handling",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Category::Regulation => "Về quy định hành chính",
            Category::Handling => "Về hành vi hành chính, việc giải quyết hồ sơ",
        }
    }

    /// The likely category when the officer does not say: about a dossier → its handling.
    pub fn default_for(has_dossier_code: bool) -> Self {
        if has_dossier_code {
            Category::Handling
        } else {
            Category::Regulation
        }
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown category {s:?}: expected regulation or handling"))
    }
}

/// The configurable time limits, in working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// To decide competence and forward to the competent agency (default 5).
    pub forward_days: u16,
    /// To answer (default 10).
    pub answer_days: u16,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            forward_days: 5,
            answer_days: 10,
        }
    }
}

/// The longest limit accepted as configuration (a year of working days).
pub const MAX_LIMIT_DAYS: u16 = 250;

impl Rules {
    /// Rules from stored settings: a missing setting keeps its default; a present one must be
    /// a whole number of working days, 1 to [`MAX_LIMIT_DAYS`], forward not after answer.
    pub fn from_settings(forward_days: Option<&str>, answer_days: Option<&str>) -> Result<Self, String> {
        let read = |name: &str, value: Option<&str>, default: u16| -> Result<u16, String> {
            match value.map(str::trim) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u16>()
                    .ok()
                    .filter(|d| (1..=MAX_LIMIT_DAYS).contains(d))
                    .ok_or_else(|| format!("{name} = {v:?}: expected 1 to {MAX_LIMIT_DAYS} working days")),
            }
        };
        let d = Rules::default();
        let rules = Rules {
            forward_days: read("feedback.forward_days", forward_days, d.forward_days)?,
            answer_days: read("feedback.answer_days", answer_days, d.answer_days)?,
        };
        if rules.forward_days > rules.answer_days {
            return Err(format!(
                "feedback.forward_days ({}) must not exceed feedback.answer_days ({})",
                rules.forward_days, rules.answer_days
            ));
        }
        Ok(rules)
    }
}

/// The two deadlines of a feedback at one agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// When the clock started at this agency: receipt, or the forward instant.
    pub started_at: DateTime<Utc>,
    /// Decide competence (classify, forward, reject) by then.
    pub forward_due_at: DateTime<Utc>,
    /// Answer by then.
    pub answer_due_at: DateTime<Utc>,
}

impl Deadlines {
    /// The deadlines of a feedback that reached an agency at `at` (received there, or
    /// forwarded to it), on that agency's clock. Outside office hours the clock starts at the
    /// next opening, as for dossiers.
    pub fn starting(clock: &LegalClock<'_>, at: DateTime<Utc>, rules: &Rules) -> Self {
        Deadlines {
            started_at: at,
            forward_due_at: clock.due(at, &TimeLimit::working_days(rules.forward_days), None),
            answer_due_at: clock.due(at, &TimeLimit::working_days(rules.answer_days), None),
        }
    }
}

/// On time: done on or before the deadline's local (UTC+7) date, at any hour of that day.
pub fn on_time(done_at: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    local_date(done_at) <= local_date(due_at)
}

/// How a feedback stands against the deadline that matters for its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Closed on or before its deadline's date.
    OnTime,
    /// Closed after its deadline's date.
    Late,
    /// Open, the deadline's date is today or later.
    WithinTime,
    /// Open, the deadline's date has passed.
    Overdue,
}

impl Timing {
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::OnTime => "on_time",
            Timing::Late => "late",
            Timing::WithinTime => "within_time",
            Timing::Overdue => "overdue",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Timing::OnTime => "Đúng hạn",
            Timing::Late => "Quá hạn",
            Timing::WithinTime => "Trong hạn",
            Timing::Overdue => "Quá hạn",
        }
    }

    /// Open and past its deadline (the officers' lists mark these).
    pub fn is_overdue(self) -> bool {
        self == Timing::Overdue
    }
}

/// The deadline that applies in a status: the forward deadline while competence is undecided
/// and for a rejection (a decision on competence and admissibility); the answer deadline
/// otherwise.
pub fn governing_deadline(
    status: Status,
    forward_due_at: DateTime<Utc>,
    answer_due_at: DateTime<Utc>,
) -> DateTime<Utc> {
    if status.awaits_decision() || status == Status::Rejected {
        forward_due_at
    } else {
        answer_due_at
    }
}

/// Timeliness of a feedback: closed ones by the instant they were closed (answered or
/// rejected), open ones by `now`, each against the deadline that governs its status.
pub fn timing(
    status: Status,
    forward_due_at: DateTime<Utc>,
    answer_due_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Timing {
    let due = governing_deadline(status, forward_due_at, answer_due_at);
    // A closed feedback always has its instant; without one, judge it as of now.
    let at = if status.is_closed() {
        closed_at.unwrap_or(now)
    } else {
        now
    };
    match (status.is_closed(), on_time(at, due)) {
        (true, true) => Timing::OnTime,
        (true, false) => Timing::Late,
        (false, true) => Timing::WithinTime,
        (false, false) => Timing::Overdue,
    }
}

/// The reference code (*mã phản ánh, kiến nghị*): `PAKN-YYMMDD-NNNN`, the local date of receipt
/// and a daily sequence of 4 digits that widens to 5+ past 9999. Issued once, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedbackRef {
    pub date: NaiveDate,
    pub seq: u32,
}

/// The fixed prefix of every reference code.
pub const REF_PREFIX: &str = "PAKN";

impl FeedbackRef {
    pub fn new(date: NaiveDate, seq: u32) -> Self {
        Self { date, seq }
    }

    /// Reads a reference code; case-insensitive prefix, surrounding spaces ignored.
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("{s:?} is not a feedback reference (PAKN-YYMMDD-NNNN)");
        let mut parts = s.trim().split('-');
        let (Some(prefix), Some(date), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        if !prefix.eq_ignore_ascii_case(REF_PREFIX)
            || date.len() != 6
            || !date.chars().all(|c| c.is_ascii_digit())
            || seq.len() < 4
            || seq.len() > 9
            || !seq.chars().all(|c| c.is_ascii_digit())
            || (seq.len() > 4 && seq.starts_with('0'))
        {
            return Err(err());
        }
        let date = NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").map_err(|_| err())?;
        let seq: u32 = seq.parse().map_err(|_| err())?;
        if seq == 0 {
            return Err(err());
        }
        Ok(Self { date, seq })
    }
}

impl fmt::Display for FeedbackRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REF_PREFIX}-{}-{:04}", self.date.format("%y%m%d"), self.seq)
    }
}

/// The text searched in the public list (folded: "phan anh" finds "phản ánh"). Only what is
/// published anyway — never the petitioner's name, phone or e-mail, so a search cannot
/// confirm who wrote what.
pub fn search_text(reference: &str, subject: &str, content: &str, answer: &str, agency_name: &str) -> String {
    fold_vi(&[reference, subject, content, answer, agency_name].join(" "))
}

/// The words of a search query, folded, at most 6 (more only slows the query down).
pub fn search_words(q: &str) -> Vec<String> {
    fold_vi(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_string)
        .collect()
}

/// Longest name, subject and e-mail accepted (characters).
pub const MAX_NAME: usize = 200;
pub const MAX_SUBJECT: usize = 200;
pub const MAX_EMAIL: usize = 200;
/// Longest content, answer and reason accepted (characters).
pub const MAX_CONTENT: usize = 5000;
pub const MAX_ANSWER: usize = 10_000;
pub const MAX_NOTE: usize = 2000;

/// A submission as entered (the agency is checked against storage by the caller).
#[derive(Debug, Clone, Default)]
pub struct Submission<'a> {
    pub dossier_code: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub subject: &'a str,
    pub content: &'a str,
    pub channel: &'a str,
}

/// A submission that meets the rules, normalised (trimmed, phone as 0XXXXXXXXX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSubmission {
    pub dossier_code: Option<String>,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub subject: String,
    pub content: String,
    pub channel: Channel,
}

fn field(errors: &mut Vec<FieldError>, path: &str, msg: Msg) {
    errors.push(FieldError::new(path, msg));
}

/// Checks a submission (Decree 20/2008 asks for a name and a way to answer: anonymous
/// feedback is not handled): every problem at once, one per field.
pub fn check_submission(s: &Submission<'_>) -> Result<CheckedSubmission, Vec<FieldError>> {
    let mut errors = Vec::new();
    let channel = match s.channel.trim() {
        "" => Channel::Online,
        c => c.parse().unwrap_or_else(|_: String| {
            field(&mut errors, "channel", msg!("feedback.channel"));
            Channel::Online
        }),
    };
    let dossier_code = match s.dossier_code.trim() {
        "" => None,
        c => match DossierCode::parse(c) {
            Ok(code) => Some(code.to_string()),
            Err(_) => {
                field(&mut errors, "dossier_code", msg!("feedback.dossier_code"));
                None
            }
        },
    };
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        field(&mut errors, "name", msg!("feedback.name", MAX_NAME));
    }
    let phone = match s.phone.trim() {
        "" => String::new(),
        p => match PhoneVn::parse(p) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                field(&mut errors, "phone", e);
                String::new()
            }
        },
    };
    let email = match s.email.trim() {
        "" => String::new(),
        e => match Email::parse(e) {
            Ok(e) if e.as_str().chars().count() <= MAX_EMAIL => e.as_str().to_string(),
            _ => {
                field(&mut errors, "email", msg!("identity.email"));
                String::new()
            }
        },
    };
    if s.phone.trim().is_empty() && s.email.trim().is_empty() {
        field(&mut errors, "phone", msg!("feedback.contact"));
    }
    let subject = s.subject.trim();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT {
        field(&mut errors, "subject", msg!("feedback.subject", MAX_SUBJECT));
    }
    let content = s.content.trim();
    if content.is_empty() || content.chars().count() > MAX_CONTENT {
        field(
            &mut errors,
            "content",
            msg!("feedback.content", crate::msg::number(MAX_CONTENT as u64)),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedSubmission {
        dossier_code,
        name: name.to_string(),
        phone,
        email,
        subject: subject.to_string(),
        content: content.to_string(),
        channel,
    })
}

/// Checks the text an action carries: a reason to reject, an answer to answer, an optional
/// note otherwise. Returns the trimmed text.
pub fn check_action_text(action: Action, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let (path, required, max) = match action {
        Action::Reject => ("note", true, MAX_NOTE),
        Action::Answer => ("answer", true, MAX_ANSWER),
        _ => ("note", false, MAX_NOTE),
    };
    if required && text.is_empty() {
        let msg = match action {
            Action::Answer => msg!("feedback.answer_required"),
            _ => msg!("reason_required"),
        };
        return Err(FieldError::new(path, msg));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            path,
            msg!("too_long", crate::msg::number(max as u64)),
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::OfficeHours;
    use crate::calendar::test_support::{date, local, rules_calendar};

    #[test]
    fn every_status_and_action_has_exactly_the_documented_transition() {
        use Action as A;
        use Status as S;
        let expected = |s: S, a: A| -> Option<S> {
            match s {
                S::Received | S::Forwarded => match a {
                    A::Classify => Some(S::Classified),
                    A::Forward => Some(S::Forwarded),
                    A::Reject => Some(S::Rejected),
                    _ => None,
                },
                S::Classified => (a == A::Process).then_some(S::Processing),
                S::Processing => (a == A::Answer).then_some(S::Answered),
                S::Answered => (a == A::Publish).then_some(S::Published),
                S::Rejected | S::Published => None,
            }
        };
        let mut legal = 0;
        for s in Status::ALL {
            for a in Action::ALL {
                assert_eq!(next_status(s, a), expected(s, a), "{s} × {a}");
                legal += usize::from(next_status(s, a).is_some());
            }
        }
        assert_eq!(legal, 9, "the table has nine legal moves");
    }

    #[test]
    fn allowed_actions_follow_the_table() {
        assert_eq!(
            allowed_actions(Status::Received),
            vec![Action::Classify, Action::Forward, Action::Reject]
        );
        assert_eq!(
            allowed_actions(Status::Forwarded),
            allowed_actions(Status::Received)
        );
        assert_eq!(allowed_actions(Status::Classified), vec![Action::Process]);
        assert_eq!(allowed_actions(Status::Processing), vec![Action::Answer]);
        assert_eq!(allowed_actions(Status::Answered), vec![Action::Publish]);
        assert!(allowed_actions(Status::Rejected).is_empty());
        assert!(allowed_actions(Status::Published).is_empty());
    }

    #[test]
    fn closed_statuses_are_the_final_ones_and_answered() {
        for s in Status::ALL {
            assert_eq!(
                s.is_closed(),
                matches!(s, Status::Rejected | Status::Answered | Status::Published),
                "{s}"
            );
            if s.is_closed() && s != Status::Answered {
                assert!(allowed_actions(s).is_empty(), "{s} is final");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            assert!(!s.label_vi().is_empty());
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
            assert!(!a.label_vi().is_empty());
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        assert!("approve".parse::<Action>().is_err());
        assert!("done".parse::<Status>().is_err());
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn only_officers_note_written_and_phone_feedback() {
        assert!(!Channel::Online.needs_officer());
        assert!(Channel::Written.needs_officer());
        assert!(Channel::Phone.needs_officer());
    }

    #[test]
    fn category_defaults_to_handling_when_a_dossier_is_named() {
        assert_eq!(Category::default_for(true), Category::Handling);
        assert_eq!(Category::default_for(false), Category::Regulation);
    }

    fn with_clock(f: impl FnOnce(LegalClock<'_>)) {
        let hours = OfficeHours::default();
        f(LegalClock::new(rules_calendar(), &hours));
    }

    #[test]
    fn deadlines_default_to_five_and_ten_working_days_from_receipt() {
        with_clock(|clock| {
            // Monday 10 March 2025, 10:00.
            let d = Deadlines::starting(&clock, local(2025, 3, 10, 10, 0), &Rules::default());
            assert_eq!(d.forward_due_at, local(2025, 3, 17, 10, 0));
            assert_eq!(d.answer_due_at, local(2025, 3, 24, 10, 0));
        });
    }

    #[test]
    fn deadlines_skip_holidays_and_start_at_the_next_opening() {
        with_clock(|clock| {
            // Saturday night before Tết 2025 → the clock starts Monday 27 January 07:00;
            // 28 January – 3 February are off. 5 working days: 27, 4, 5, 6, 7 February.
            let d = Deadlines::starting(&clock, local(2025, 1, 25, 21, 0), &Rules::default());
            // From an opening, whole days end at a closing time.
            assert_eq!(d.forward_due_at, local(2025, 2, 7, 17, 0));
            // 10 working days: … 10, 11, 12, 13, 14 February.
            assert_eq!(d.answer_due_at, local(2025, 2, 14, 17, 0));
        });
    }

    #[test]
    fn configured_limits_are_used() {
        with_clock(|clock| {
            let rules = Rules {
                forward_days: 3,
                answer_days: 15,
            };
            let d = Deadlines::starting(&clock, local(2025, 3, 10, 10, 0), &rules);
            assert_eq!(d.forward_due_at, local(2025, 3, 13, 10, 0));
            assert_eq!(d.answer_due_at, local(2025, 3, 31, 10, 0));
        });
    }

    #[test]
    fn forwarding_restarts_the_clocks_at_the_forward_instant() {
        with_clock(|clock| {
            let rules = Rules::default();
            let received = Deadlines::starting(&clock, local(2025, 3, 10, 10, 0), &rules);
            // Forwarded on Thursday at 15:00, within the 5 days.
            let forwarded_at = local(2025, 3, 13, 15, 0);
            assert!(on_time(forwarded_at, received.forward_due_at));
            let there = Deadlines::starting(&clock, forwarded_at, &rules);
            assert_eq!(there.started_at, forwarded_at);
            assert_eq!(there.answer_due_at, local(2025, 3, 27, 15, 0));
            assert!(there.answer_due_at > received.answer_due_at);
        });
    }

    #[test]
    fn settings_override_defaults_within_bounds() {
        assert_eq!(Rules::from_settings(None, None), Ok(Rules::default()));
        assert_eq!(
            Rules::from_settings(Some("7"), Some(" 20 ")),
            Ok(Rules {
                forward_days: 7,
                answer_days: 20
            })
        );
        for (f, a) in [
            (Some("0"), None),
            (Some("x"), None),
            (None, Some("251")),
            (Some("12"), Some("10")),
            (Some("2.5"), None),
        ] {
            assert!(Rules::from_settings(f, a).is_err(), "{f:?} {a:?}");
        }
    }

    #[test]
    fn answered_on_the_deadline_date_is_on_time() {
        let due = local(2025, 3, 24, 10, 0);
        assert!(on_time(local(2025, 3, 21, 16, 0), due));
        assert!(
            on_time(local(2025, 3, 24, 16, 59), due),
            "later that day still counts"
        );
        assert!(on_time(local(2025, 3, 24, 23, 59), due));
        assert!(!on_time(local(2025, 3, 25, 0, 0), due));
        // Local dates, not UTC: 06:30 on the 25th is the 24th in UTC, and late.
        let early_morning = local(2025, 3, 25, 6, 30);
        assert_eq!(early_morning.date_naive(), date(2025, 3, 24));
        assert!(!on_time(early_morning, due));
    }

    #[test]
    fn timing_uses_the_deadline_of_the_status() {
        let fwd = local(2025, 3, 17, 10, 0);
        let ans = local(2025, 3, 24, 10, 0);
        let t = |s, closed, now| timing(s, fwd, ans, closed, now);
        let between = local(2025, 3, 20, 9, 0);
        // Undecided after the forward deadline: overdue, even though the answer is not due.
        assert_eq!(t(Status::Received, None, between), Timing::Overdue);
        assert_eq!(t(Status::Forwarded, None, between), Timing::Overdue);
        assert_eq!(
            t(Status::Received, None, local(2025, 3, 17, 16, 0)),
            Timing::WithinTime
        );
        // Classified: the answer deadline governs.
        assert_eq!(t(Status::Classified, None, between), Timing::WithinTime);
        assert_eq!(
            t(Status::Processing, None, local(2025, 3, 25, 8, 0)),
            Timing::Overdue
        );
        // Closed: by the instant of closing, whatever now is.
        let later = local(2025, 6, 1, 9, 0);
        assert_eq!(
            t(Status::Answered, Some(local(2025, 3, 24, 15, 0)), later),
            Timing::OnTime
        );
        assert_eq!(
            t(Status::Published, Some(local(2025, 3, 25, 8, 0)), later),
            Timing::Late
        );
        assert_eq!(
            t(Status::Rejected, Some(local(2025, 3, 17, 16, 0)), later),
            Timing::OnTime
        );
        assert_eq!(t(Status::Rejected, Some(between), later), Timing::Late);
        assert!(Timing::Overdue.is_overdue() && !Timing::Late.is_overdue());
    }

    #[test]
    fn reference_codes_have_a_daily_sequence_that_widens() {
        let r = FeedbackRef::new(date(2025, 11, 28), 7);
        assert_eq!(r.to_string(), "PAKN-251128-0007");
        assert_eq!(FeedbackRef::parse("PAKN-251128-0007"), Ok(r));
        assert_eq!(FeedbackRef::parse(" pakn-251128-0007 "), Ok(r));
        let wide = FeedbackRef::new(date(2025, 11, 28), 10_000);
        assert_eq!(wide.to_string(), "PAKN-251128-10000");
        assert_eq!(FeedbackRef::parse(&wide.to_string()), Ok(wide));
        for bad in [
            "",
            "PAKN-251128",
            "PAKN-251128-007",
            "PAKN-251128-0000",
            "PAKN-251128-01234",
            "PAKN-251328-0001",
            "HS-251128-0001",
            "PAKN-251128-0001-2",
            "PAKN-2511x8-0001",
        ] {
            assert!(FeedbackRef::parse(bad).is_err(), "{bad}");
        }
    }

    fn good() -> Submission<'static> {
        Submission {
            dossier_code: "",
            name: "  Trần Thị Bình ",
            phone: "0912 345 678",
            email: "",
            subject: "Phản ánh thời gian chờ",
            content: "Tôi phải chờ quá lâu tại bộ phận một cửa.",
            channel: "",
        }
    }

    #[test]
    fn a_good_submission_is_normalised() {
        let c = check_submission(&good()).expect("valid");
        assert_eq!(c.name, "Trần Thị Bình");
        assert_eq!(c.phone, "0912345678");
        assert_eq!(c.channel, Channel::Online);
        assert_eq!(c.dossier_code, None);
        let with_code = Submission {
            dossier_code: " 000.00.01.H56-251128-0001 ",
            email: "binh@example.vn",
            phone: "",
            channel: "phone",
            ..good()
        };
        let c = check_submission(&with_code).expect("valid");
        assert_eq!(c.dossier_code.as_deref(), Some("000.00.01.H56-251128-0001"));
        assert_eq!(c.email, "binh@example.vn");
        assert_eq!(c.channel, Channel::Phone);
    }

    fn paths(s: Submission<'_>) -> Vec<String> {
        check_submission(&s)
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn bad_submissions_name_every_field_at_fault() {
        assert_eq!(
            paths(Submission {
                content: "  ",
                ..good()
            }),
            ["content"]
        );
        let long = "a".repeat(MAX_CONTENT + 1);
        assert_eq!(
            paths(Submission {
                content: &long,
                ..good()
            }),
            ["content"]
        );
        let just_fits = "ă".repeat(MAX_CONTENT);
        assert!(
            check_submission(&Submission {
                content: &just_fits,
                ..good()
            })
            .is_ok()
        );
        assert_eq!(
            paths(Submission {
                phone: "12345",
                ..good()
            }),
            ["phone"]
        );
        assert_eq!(
            paths(Submission { phone: "", ..good() }),
            ["phone"],
            "a way to answer"
        );
        assert_eq!(
            paths(Submission {
                email: "not-an-address",
                ..good()
            }),
            ["email"]
        );
        assert_eq!(paths(Submission { name: "", ..good() }), ["name"]);
        assert_eq!(
            paths(Submission {
                subject: "",
                ..good()
            }),
            ["subject"]
        );
        assert_eq!(
            paths(Submission {
                dossier_code: "HS-1",
                ..good()
            }),
            ["dossier_code"]
        );
        assert_eq!(
            paths(Submission {
                channel: "fax",
                ..good()
            }),
            ["channel"]
        );
        let all = paths(Submission {
            name: "",
            phone: "",
            subject: "",
            content: "",
            ..good()
        });
        assert_eq!(all, ["name", "phone", "subject", "content"]);
    }

    #[test]
    fn emails_are_checked_for_shape_only() {
        for ok in ["a@b.vn", "nguyen.van.an@so-tuphap.yenbai.gov.vn"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a@b", "@b.vn", "a@.vn", "a@b.", "a b@c.vn", "a@b@c.vn", "ab.vn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejections_need_a_reason_and_answers_a_text() {
        assert_eq!(check_action_text(Action::Reject, " ").unwrap_err().path, "note");
        assert_eq!(check_action_text(Action::Answer, "").unwrap_err().path, "answer");
        assert_eq!(
            check_action_text(Action::Answer, " Đã xử lý. ").unwrap(),
            "Đã xử lý."
        );
        assert_eq!(check_action_text(Action::Classify, "").unwrap(), "");
        let long = "x".repeat(MAX_NOTE + 1);
        assert!(check_action_text(Action::Forward, &long).is_err());
        assert!(check_action_text(Action::Answer, &long).is_ok());
    }

    #[test]
    fn search_folds_diacritics_and_leaves_out_the_petitioner() {
        let text = search_text(
            "PAKN-251128-0001",
            "Phản ánh",
            "Thủ tục chậm",
            "Đã trả lời",
            "Sở Tư pháp",
        );
        assert_eq!(
            text,
            "pakn-251128-0001 phan anh thu tuc cham da tra loi so tu phap"
        );
        assert_eq!(search_words("  Phản   ÁNH "), ["phan", "anh"]);
        assert_eq!(search_words("a b c d e f g h").len(), 6);
        assert!(search_words("   ").is_empty());
    }
}
