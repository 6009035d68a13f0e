//! The feedback and petitions service (*phản ánh, kiến nghị*, PAKN): submission (public and
//! rate limited per client address, or noted by an officer), and the officers' classify,
//! forward, reject, process, answer and publish — each one transaction (state with optimistic
//! concurrency plus an event). Shared by the JSON API and the pages; renders nothing, and the
//! rules themselves belong to `motcua_domain::feedback`.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::ratelimit::Limiter;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::calendar::{self, LegalClock, OfficeHours, WorkCalendar};
use motcua_domain::feedback::{
    self as rules, Action, Category, Channel, Deadlines, Rules, Status, Submission, Timing,
};
use motcua_domain::procedure::FieldError;
use motcua_store::StoreError;
use motcua_store::repo::agencies::{self, Agency};
use motcua_store::repo::feedback::{self as repo, Event, Feedback};
use motcua_store::repo::meta;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// Public submissions accepted per client address and hour.
pub const PUBLIC_SUBMISSIONS_PER_HOUR: u32 = 20;
/// Feedback a page of a list shows.
pub const PER_PAGE: u32 = 20;
/// Settings (table `meta`) that override the default limits, in working days.
pub const FORWARD_DAYS_SETTING: &str = "feedback.forward_days";
pub const ANSWER_DAYS_SETTING: &str = "feedback.answer_days";

/// The per-address limit on public submissions. Each router that accepts submissions (the
/// JSON API, the pages) holds one, handed to its handlers as an `axum::Extension`; officers
/// signed in are not limited.
pub struct SubmitLimits {
    per_address: Limiter,
}

impl Default for SubmitLimits {
    fn default() -> Self {
        Self::new(PUBLIC_SUBMISSIONS_PER_HOUR, Duration::from_secs(3600))
    }
}

impl SubmitLimits {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            per_address: Limiter::new(limit, window),
        }
    }

    /// The limiter to put in a router's extensions.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Counts one submission from `address`; Err(seconds to wait) over the limit.
    pub fn hit(&self, address: &str) -> Result<(), u64> {
        self.per_address.hit(address)
    }
}

/// Why a submission or an action was refused.
#[derive(Debug)]
pub enum Refusal {
    Invalid(Vec<FieldError>),
    Forbidden(String),
    /// Unknown, or not the caller's to see (deliberately the same).
    NotFound,
    /// Illegal in the current status: the actions that are allowed.
    Illegal {
        message: String,
        allowed: Vec<Action>,
    },
    /// Someone else changed the feedback first.
    Conflict(String),
    /// Too many public submissions from one address: wait this many seconds.
    TooMany(u64),
    Store(StoreError),
    Api(ApiError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Refusal::Conflict(m),
            e if e.is_lost_race() => Refusal::Conflict(
                "the feedback was changed by someone else at the same moment; reload it and try again".into(),
            ),
            StoreError::NotFound => Refusal::NotFound,
            other => Refusal::Store(other),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Refusal {
    Refusal::Invalid(vec![FieldError {
        path: path.into(),
        message: message.into(),
    }])
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(errors) => {
                let list: Vec<serde_json::Value> = errors
                    .iter()
                    .map(|e| serde_json::json!({"field": e.path, "message": e.message}))
                    .collect();
                let detail = errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::unprocessable(detail).with("errors", serde_json::Value::Array(list))
            }
            Refusal::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            Refusal::NotFound => ApiError::not_found("no such feedback"),
            Refusal::Illegal { message, allowed } => ApiError::new(StatusCode::CONFLICT, message).with(
                "allowed_actions",
                serde_json::Value::Array(
                    allowed
                        .iter()
                        .map(|a| serde_json::Value::String(a.as_str().into()))
                        .collect(),
                ),
            ),
            Refusal::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            Refusal::TooMany(wait) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many submissions from your address; try again in {wait} s"),
            )
            .with_header("retry-after", wait.to_string()),
            Refusal::Store(e) => e.into(),
            Refusal::Api(e) => e,
        }
    }
}

/// A feedback as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = FeedbackSubmitInput)]
pub struct SubmitInput {
    /// The code of the dossier it is about, if any (as printed on the receipt).
    #[serde(default)]
    pub dossier_code: Option<String>,
    /// The petitioner's full name (never shown publicly).
    pub name: String,
    /// A Vietnamese phone number; a phone or an e-mail is required (never shown publicly).
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Code of the agency it is about.
    pub agency: String,
    pub subject: String,
    pub content: String,
    /// `online` (default); `written` and `phone` are entered by an officer of the agency.
    #[serde(default)]
    pub channel: Option<String>,
}

/// What an officer's action carries.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = FeedbackActionInput)]
pub struct ActionInput {
    /// A note; the reason, required, for `reject`.
    #[serde(default)]
    pub note: String,
    /// `answer`: the answer (required).
    #[serde(default)]
    pub answer: String,
    /// `forward`: the competent agency's code (required).
    #[serde(default)]
    pub to_agency: Option<String>,
    /// `classify`: `regulation` or `handling` (default: `handling` when a dossier is named).
    #[serde(default)]
    pub category: Option<String>,
    /// The version the officer saw; a different current version is a 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// The limits in force: the stored settings, or the defaults (5 and 10 working days).
pub async fn rules_in_force(state: &AppState) -> Result<Rules, Refusal> {
    let forward = meta::get(&state.db, FORWARD_DAYS_SETTING).await?;
    let answer = meta::get(&state.db, ANSWER_DAYS_SETTING).await?;
    Ok(
        Rules::from_settings(forward.as_deref(), answer.as_deref()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "invalid feedback settings; using the defaults");
            Rules::default()
        }),
    )
}

/// An agency's legal clock: the work calendar and its office hours.
struct AgencyClock {
    calendar: Arc<WorkCalendar>,
    hours: OfficeHours,
}

impl AgencyClock {
    async fn of(state: &AppState, agency_code: &str) -> Result<Self, Refusal> {
        Ok(AgencyClock {
            calendar: crate::legal_time::calendar(state).await?,
            hours: crate::legal_time::office_hours(state, Some(agency_code)).await?,
        })
    }

    fn clock(&self) -> LegalClock<'_> {
        LegalClock::new(&self.calendar, &self.hours)
    }
}

/// Whether the user holds an officer role (not administrator or supervisor) in the agency.
pub fn may_act_in(user: &CurrentUser, agency_id: i64) -> bool {
    user.access().officer_agencies().contains(&agency_id)
}

/// Records a feedback: online from anyone (rate limited per `address` when nobody is signed
/// in), written or phone from an officer of the agency it is about.
pub async fn submit(
    state: &AppState,
    user: Option<&CurrentUser>,
    address: &str,
    limits: &SubmitLimits,
    input: &SubmitInput,
) -> Result<Feedback, Refusal> {
    submit_at(state, user, address, limits, input, Utc::now()).await
}

/// `submit` at a given instant (demo seeding, tests of the clock).
pub async fn submit_at(
    state: &AppState,
    user: Option<&CurrentUser>,
    address: &str,
    limits: &SubmitLimits,
    input: &SubmitInput,
    now: DateTime<Utc>,
) -> Result<Feedback, Refusal> {
    if user.is_none() {
        limits.hit(address).map_err(Refusal::TooMany)?;
    }
    let checked = rules::check_submission(&Submission {
        dossier_code: input.dossier_code.as_deref().unwrap_or(""),
        name: &input.name,
        phone: &input.phone,
        email: &input.email,
        subject: &input.subject,
        content: &input.content,
        channel: input.channel.as_deref().unwrap_or(""),
    });
    let code = input.agency.trim();
    let agency = if code.is_empty() {
        None
    } else {
        agencies::by_code(&state.db, code).await?
    };
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    if agency.is_none() {
        errors.push(FieldError {
            path: "agency".into(),
            message: if code.is_empty() {
                "choose the agency the feedback is about".into()
            } else {
                format!("unknown agency {code:?}")
            },
        });
    }
    let (Ok(s), Some(agency)) = (checked, agency) else {
        errors.sort_by_key(|e| field_order(&e.path));
        return Err(Refusal::Invalid(errors));
    };
    if s.channel.needs_officer() {
        match user {
            None => {
                return Err(invalid(
                    "channel",
                    "written and phone feedback are entered by an officer of the agency; submit online",
                ));
            }
            Some(u) if !may_act_in(u, agency.id) => {
                return Err(Refusal::Forbidden(format!(
                    "only an officer of {} enters written or phone feedback for it",
                    agency.code
                )));
            }
            Some(_) => {}
        }
    }
    let noted_by = match (s.channel, user) {
        (Channel::Online, _) | (_, None) => String::new(),
        (_, Some(u)) => u.principal.username.clone(),
    };
    let rules = rules_in_force(state).await?;
    let clock = AgencyClock::of(state, &agency.code).await?;
    let deadlines = Deadlines::starting(&clock.clock(), now, &rules);
    let mut tx = state.db.begin().await?;
    let reference = repo::next_ref(&mut tx, calendar::local_date(now))
        .await?
        .to_string();
    let search = rules::search_text(&reference, &s.subject, &s.content, "", &agency.name);
    let id = repo::insert(
        &mut tx,
        &repo::NewFeedback {
            reference: &reference,
            dossier_code: s.dossier_code.as_deref(),
            submitter_name: &s.name,
            phone: &s.phone,
            email: &s.email,
            channel: s.channel.as_str(),
            subject: &s.subject,
            content: &s.content,
            agency_id: agency.id,
            status: Status::Received.as_str(),
            received_at: now,
            forward_due_at: deadlines.forward_due_at,
            answer_due_at: deadlines.answer_due_at,
            noted_by: &noted_by,
            search_text: &search,
            now,
        },
    )
    .await?;
    let actor = if noted_by.is_empty() { "citizen" } else { &noted_by };
    repo::append_event(
        &mut tx,
        id,
        &repo::NewEvent {
            at: now,
            actor,
            action: "submit",
            from_status: "",
            to_status: Status::Received.as_str(),
            agency_id: agency.id,
            to_agency_id: None,
            due_at: None,
            note: "",
        },
    )
    .await?;
    tx.commit().await?;
    repo::find(&state.db, &reference).await?.ok_or(Refusal::NotFound)
}

/// The order fields appear in on the form (error summaries follow it).
fn field_order(path: &str) -> usize {
    [
        "channel",
        "dossier_code",
        "name",
        "phone",
        "email",
        "agency",
        "subject",
        "content",
    ]
    .iter()
    .position(|p| *p == path)
    .unwrap_or(usize::MAX)
}

/// Everything about one feedback, for officers.
#[derive(Debug, Clone)]
pub struct View {
    pub feedback: Feedback,
    pub events: Vec<Event>,
    /// What can be done now (by an officer of its agency).
    pub allowed: Vec<Action>,
    /// The caller is such an officer.
    pub may_act: bool,
}

impl View {
    pub fn status(&self) -> Status {
        status_of(&self.feedback)
    }

    pub fn timing(&self, now: DateTime<Utc>) -> Timing {
        timing_of(&self.feedback, now)
    }
}

pub fn status_of(f: &Feedback) -> Status {
    f.status.parse().unwrap_or(Status::Received)
}

/// Timeliness against the deadline that governs its status.
pub fn timing_of(f: &Feedback, now: DateTime<Utc>) -> Timing {
    rules::timing(status_of(f), f.forward_due_at, f.answer_due_at, f.closed_at, now)
}

/// Reading: whoever may read its agency (its officers, supervisors above, administrators),
/// or an agency it passed through (the one that forwarded it keeps sight of it).
async fn ensure_may_read(
    state: &AppState,
    user: &CurrentUser,
    f: &Feedback,
    events: &[Event],
) -> Result<(), Refusal> {
    let access = user.access();
    let mut codes = vec![f.agency_code.clone()];
    for e in events {
        codes.push(e.agency.clone());
    }
    codes.sort();
    codes.dedup();
    let reference = state.reference().await?;
    for code in codes {
        if access.may_read(&reference.chain(&code)) {
            return Ok(());
        }
    }
    Err(Refusal::NotFound)
}

/// Loads a feedback the user may read.
pub async fn view(state: &AppState, user: &CurrentUser, reference: &str) -> Result<View, Refusal> {
    let reference = reference.trim();
    let feedback = repo::find(&state.db, reference).await?.ok_or(Refusal::NotFound)?;
    let events = repo::events(&state.db, feedback.id).await?;
    ensure_may_read(state, user, &feedback, &events).await?;
    let allowed = rules::allowed_actions(status_of(&feedback));
    let may_act = may_act_in(user, feedback.agency_id);
    Ok(View {
        feedback,
        events,
        allowed,
        may_act,
    })
}

/// Takes an action on a feedback.
pub async fn act(
    state: &AppState,
    user: &CurrentUser,
    reference: &str,
    action: Action,
    input: &ActionInput,
) -> Result<Feedback, Refusal> {
    act_at(state, user, reference, action, input, Utc::now()).await
}

/// `act` at a given instant.
pub async fn act_at(
    state: &AppState,
    user: &CurrentUser,
    reference: &str,
    action: Action,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<Feedback, Refusal> {
    let seen = view(state, user, reference).await?;
    let f = &seen.feedback;
    if !seen.may_act {
        return Err(Refusal::Forbidden(format!(
            "only officers of {} act on this feedback; administrators and supervisors read it",
            f.agency_code
        )));
    }
    if let Some(v) = input.expected_version
        && v != f.version
    {
        return Err(Refusal::Conflict(format!(
            "the feedback changed since you saw it (version {v}, now {}); reload it",
            f.version
        )));
    }
    let from = seen.status();
    let Some(to) = rules::next_status(from, action) else {
        return Err(Refusal::Illegal {
            message: format!("cannot {action} a feedback that is {from}"),
            allowed: seen.allowed.clone(),
        });
    };
    let text_in = if action == Action::Answer {
        &input.answer
    } else {
        &input.note
    };
    let text = rules::check_action_text(action, text_in).map_err(|e| Refusal::Invalid(vec![e]))?;
    let category = match input.category.as_deref().map(str::trim) {
        _ if action != Action::Classify => None,
        None | Some("") => Some(Category::default_for(f.dossier_code.is_some())),
        Some(c) => Some(c.parse::<Category>().map_err(|e| invalid("category", e))?),
    };
    let target = match action {
        Action::Forward => Some(forward_target(state, f, input.to_agency.as_deref()).await?),
        _ => None,
    };
    let target_deadlines = match &target {
        Some(t) => {
            let rules = rules_in_force(state).await?;
            let clock = AgencyClock::of(state, &t.code).await?;
            Some(Deadlines::starting(&clock.clock(), now, &rules))
        }
        None => None,
    };

    let mut tx = state.db.begin().await?;
    let mut f = repo::find_tx(&mut tx, &f.reference)
        .await?
        .ok_or(Refusal::NotFound)?;
    if f.version != seen.feedback.version {
        return Err(Refusal::Conflict(
            "the feedback was changed by someone else; reload it and try again".into(),
        ));
    }
    let agency_before = f.agency_id;
    let mut agency_name = f.agency_name.clone();
    let mut note = text.clone();
    let event_due = match action {
        Action::Classify | Action::Forward | Action::Reject => Some(f.forward_due_at),
        Action::Process | Action::Answer => Some(f.answer_due_at),
        Action::Publish => None,
    };
    match action {
        Action::Classify => f.category = category.map(|c| c.as_str().to_string()),
        Action::Forward => {
            let (t, d) = target
                .as_ref()
                .zip(target_deadlines)
                .ok_or_else(|| invalid("to_agency", "required"))?;
            f.agency_id = t.id;
            agency_name = t.name.clone();
            f.clock_started_at = d.started_at;
            f.forward_due_at = d.forward_due_at;
            f.answer_due_at = d.answer_due_at;
        }
        Action::Reject => {
            f.reject_reason = text.clone();
            f.closed_at = Some(now);
        }
        Action::Process => {}
        Action::Answer => {
            f.answer = text.clone();
            f.answered_by = user.principal.username.clone();
            f.closed_at = Some(now);
            // The answer itself is stored on the feedback; the event only marks it.
            note.clear();
        }
        Action::Publish => {
            f.published = true;
            f.published_at = Some(now);
        }
    }
    f.status = to.as_str().into();
    let search = rules::search_text(&f.reference, &f.subject, &f.content, &f.answer, &agency_name);
    repo::save(&mut tx, &f, &search, now).await?;
    repo::append_event(
        &mut tx,
        f.id,
        &repo::NewEvent {
            at: now,
            actor: &user.principal.username,
            action: action.as_str(),
            from_status: from.as_str(),
            to_status: to.as_str(),
            agency_id: agency_before,
            to_agency_id: target.as_ref().map(|t| t.id),
            due_at: event_due,
            note: &note,
        },
    )
    .await?;
    tx.commit().await?;
    repo::find(&state.db, &f.reference)
        .await?
        .ok_or(Refusal::NotFound)
}

async fn forward_target(state: &AppState, f: &Feedback, to: Option<&str>) -> Result<Agency, Refusal> {
    let code = to.map(str::trim).unwrap_or("");
    if code.is_empty() {
        return Err(invalid("to_agency", "choose the competent agency to forward to"));
    }
    let agency = agencies::by_code(&state.db, code)
        .await?
        .ok_or_else(|| invalid("to_agency", format!("unknown agency {code:?}")))?;
    if agency.id == f.agency_id {
        return Err(invalid("to_agency", "the feedback is already at this agency"));
    }
    Ok(agency)
}

/// A page of the feedback the user may see (`crate::api::dossiers::scope`: officer agencies,
/// supervised subtrees, everything for an administrator), open ones first.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    status: Option<Status>,
    q: Option<&str>,
    page: u32,
) -> Result<(Vec<Feedback>, i64), Refusal> {
    let scope = crate::api::dossiers::scope(state, user).await?;
    let filter = repo::ListFilter {
        agency_ids: scope,
        status: status.map(|s| s.as_str().to_string()),
        q: q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_string),
    };
    Ok(repo::list(&state.db, &filter, page, PER_PAGE).await?)
}

/// A page of published answers matching `q` (with or without diacritics).
pub async fn published(
    state: &AppState,
    q: Option<&str>,
    page: u32,
) -> Result<(Vec<Feedback>, i64), Refusal> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    Ok(repo::published(&state.db, q, page, PER_PAGE).await?)
}

/// Pages from 1 to 100 000: anything else is a bad request.
pub fn check_page(page: Option<u32>) -> Result<u32, String> {
    match page.unwrap_or(1) {
        p @ 1..=100_000 => Ok(p),
        _ => Err("page must be between 1 and 100000".into()),
    }
}

/// The number of pages for a total.
pub fn page_count(total: i64) -> u64 {
    (u64::try_from(total).unwrap_or(0))
        .div_ceil(u64::from(PER_PAGE))
        .max(1)
}
