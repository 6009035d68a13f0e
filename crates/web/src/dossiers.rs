//! The dossier application service: intake and every action, each as one transaction —
//! state (with optimistic concurrency), workflow steps, a hash-chained event, daily counters
//! and outbox rows — after the domain has said the action is legal and the actor may take it.
//! Shared by the JSON API and the officers' pages.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::reference::Reference;
use axum::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar::{self, LegalClock, OfficeHours, ResolvedClass, TimeLimit, WorkCalendar};
use motcua_domain::dossier::chain::{EventContent, event_hash};
use motcua_domain::dossier::identity::{PersonalId, PhoneVn, TaxCode};
use motcua_domain::dossier::machine::{self, Action, Checks, Place, RuleError};
use motcua_domain::dossier::{Channel, Status};
use motcua_domain::procedure::{AgencyRule, CaseVariant, FieldError, ProcedureSpec};
use motcua_store::StoreError;
use motcua_store::repo::dossiers as codes;
use motcua_store::repo::lifecycle::{self as repo, Component, Dossier, Event, Step};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Why an intake or action was refused.
#[derive(Debug)]
pub enum Refusal {
    Invalid(Vec<FieldError>),
    Forbidden(String),
    NotFound,
    /// Illegal in the current status: the actions that are allowed.
    Illegal {
        message: String,
        allowed: Vec<Action>,
    },
    /// Someone else changed the dossier first.
    Conflict(String),
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Refusal::Conflict(m),
            // Two writers raced on the same dossier (the same next event number): the loser
            // gets a clear conflict, nothing of its transaction is kept.
            e if e.is_lost_race() => Refusal::Conflict(
                "the dossier was changed by someone else at the same moment; reload it and try again".into(),
            ),
            StoreError::NotFound => Refusal::NotFound,
            other => Refusal::Store(other),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Invalid(vec![FieldError {
            path: String::new(),
            message: e.detail.unwrap_or_default(),
        }])
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Refusal {
    Refusal::Invalid(vec![FieldError {
        path: path.into(),
        message: message.into(),
    }])
}

impl Refusal {
    /// A message for an officer's page.
    pub fn message(&self) -> String {
        match self {
            Refusal::Invalid(errors) => errors
                .iter()
                .map(|e| {
                    if e.path.is_empty() {
                        e.message.clone()
                    } else {
                        e.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            Refusal::Forbidden(m) | Refusal::Conflict(m) => m.clone(),
            Refusal::NotFound => "Không tìm thấy hồ sơ.".into(),
            Refusal::Illegal { message, .. } => message.clone(),
            Refusal::Store(e) => {
                tracing::error!(error = %e, "storage error");
                "Hệ thống gặp lỗi khi lưu. Không có gì bị thay đổi; vui lòng thử lại.".into()
            }
        }
    }
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
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::unprocessable(detail).with("errors", serde_json::Value::Array(list))
            }
            Refusal::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            Refusal::NotFound => ApiError::not_found("no such dossier"),
            Refusal::Illegal { message, allowed } => ApiError::new(StatusCode::CONFLICT, message).with(
                "allowed_actions",
                serde_json::Value::Array(
                    allowed
                        .iter()
                        .map(|a| serde_json::Value::String(a.as_str().into()))
                        .collect(),
                ),
            ),
            Refusal::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, m).with("allowed_actions", serde_json::Value::Null)
            }
            Refusal::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ApplicantInput {
    /// `person` (12-digit personal ID) or `organisation` (tax code).
    pub kind: String,
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ComponentInput {
    /// Index of the component in the procedure's list.
    pub index: usize,
    pub provided: bool,
    /// `sha256:…` of an uploaded scan (`POST /api/v1/uploads`).
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct IntakeInput {
    /// Procedure code.
    pub procedure: String,
    /// Case variant code (default: the first).
    #[serde(default)]
    pub case: Option<String>,
    /// Receiving agency code.
    pub agency: String,
    /// `direct`, `postal` or `online`.
    pub channel: String,
    pub applicant: ApplicantInput,
    /// Authorised submitter, when not the applicant.
    #[serde(default)]
    pub submitter_name: String,
    /// What is asked for (*nội dung yêu cầu*).
    #[serde(default)]
    pub request: String,
    #[serde(default)]
    pub components: Vec<ComponentInput>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ActionInput {
    /// Reason or note (required for refuse, request_supplement, reschedule, withdraw, stop).
    #[serde(default)]
    pub note: String,
    /// The dossier version the officer saw; a different current version is a 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// `assign`: the specialist's username.
    #[serde(default)]
    pub assignee: Option<String>,
    /// `complete_step`/`transfer` into a `child` step: the agency chosen.
    #[serde(default)]
    pub to_agency: Option<String>,
    /// `reschedule`: the new appointment (RFC 3339).
    #[serde(default)]
    pub new_due: Option<String>,
    /// `approve`: the result document (`sha256:…`); `receive_supplement`: the scan.
    #[serde(default)]
    pub file: Option<String>,
    /// `approve`: the result's number (*số, ký hiệu*).
    #[serde(default)]
    pub result_number: Option<String>,
    /// `return_result`: `desk`, `post` or `electronic`.
    #[serde(default)]
    pub method: Option<String>,
}

struct Legal {
    calendar: Arc<WorkCalendar>,
    hours: OfficeHours,
}

impl Legal {
    fn clock(&self) -> LegalClock<'_> {
        LegalClock::new(&self.calendar, &self.hours)
    }
}

fn legal(reference: &Reference, agency_code: &str) -> Result<Legal, Refusal> {
    Ok(Legal {
        calendar: reference.calendar.clone(),
        hours: crate::legal_time::office_hours_in(reference, agency_code)?,
    })
}

fn case_of<'a>(spec: &'a ProcedureSpec, case: Option<&str>) -> Result<&'a CaseVariant, Refusal> {
    match case {
        Some(c) => spec
            .case(c)
            .ok_or_else(|| invalid("case", format!("procedure {} has no case {c:?}", spec.code))),
        None => spec
            .cases
            .first()
            .ok_or_else(|| invalid("case", "the procedure has no case")),
    }
}

/// The time limit of a case for a channel (online limits may be shorter).
fn limit_of(spec: &ProcedureSpec, case: &CaseVariant, channel: &str) -> Result<TimeLimit, Refusal> {
    let text = if channel == "online" {
        case.online_time_limit
            .as_deref()
            .or(case.time_limit.as_deref())
            .or(spec.online_time_limit.as_deref())
            .unwrap_or(&spec.time_limit)
    } else {
        case.time_limit.as_deref().unwrap_or(&spec.time_limit)
    };
    TimeLimit::parse(text).map_err(|e| invalid("procedure", format!("stored time limit is invalid: {e}")))
}

fn cutoff_of(spec: &ProcedureSpec) -> Option<chrono::NaiveTime> {
    spec.same_day_cutoff
        .as_deref()
        .and_then(|c| chrono::NaiveTime::parse_from_str(c, "%H:%M").ok())
}

fn role_of(user: &CurrentUser) -> String {
    user.principal.username.clone()
}

fn is_uploaded(sha_ref: &str) -> Option<&str> {
    sha_ref.strip_prefix("sha256:")
}

/// Files accepted as scans and results: PDF, JPEG, PNG, checked by content.
pub fn sniff_scan(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Largest scan or result accepted.
pub const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;

/// The whole picture of a dossier for pages and the API.
#[derive(Debug, Clone)]
pub struct View {
    pub dossier: Dossier,
    pub steps: Vec<Step>,
    pub components: Vec<Component>,
    pub events: Vec<Event>,
    pub allowed: Vec<Action>,
}

impl View {
    pub fn status(&self) -> Status {
        self.dossier.status.parse().unwrap_or(Status::Submitted)
    }
    pub fn current_step(&self) -> Option<&Step> {
        current(&self.steps)
    }
}

fn current(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .find(|s| s.completed_at.is_none() && s.started_at.is_some())
}

/// Loads a dossier the user may read (its receiving agency or any agency of its steps).
pub async fn view(state: &AppState, user: &CurrentUser, key: &str) -> Result<View, Refusal> {
    let dossier = repo::find(&state.db, key).await?.ok_or(Refusal::NotFound)?;
    let steps = repo::steps(&state.db, dossier.id).await?;
    ensure_may_read(state, user, &dossier, &steps).await?;
    let components = repo::components(&state.db, dossier.id).await?;
    let events = repo::events(&state.db, dossier.id).await?;
    let status: Status = dossier.status.parse().unwrap_or(Status::Submitted);
    let allowed = machine::allowed_actions(status, dossier.supplement_before_receipt);
    Ok(View {
        dossier,
        steps,
        components,
        events,
        allowed,
    })
}

async fn ensure_may_read(
    state: &AppState,
    user: &CurrentUser,
    d: &Dossier,
    steps: &[Step],
) -> Result<(), Refusal> {
    let reference = state.reference_for(Some(user)).await?;
    may_read(&reference, user, d, steps)
}

/// The user may read the dossier: a role at (or above) its receiving agency or any agency of
/// its steps. NotFound otherwise, not revealing that a dossier of another agency exists.
fn may_read(reference: &Reference, user: &CurrentUser, d: &Dossier, steps: &[Step]) -> Result<(), Refusal> {
    let access = user.access();
    let mut codes = vec![d.agency_code.as_str()];
    codes.extend(steps.iter().filter_map(|s| s.agency_code.as_deref()));
    codes.dedup();
    if codes
        .into_iter()
        .any(|code| access.may_read(&reference.chain(code)))
    {
        Ok(())
    } else {
        Err(Refusal::NotFound)
    }
}

/// Checks, resolves and stores an intake: at the desk (direct/postal) the dossier is
/// received at once (code, appointment); online it waits in the receiving queue (status 1).
/// `user` is None for a citizen's own online submission (issue 6).
pub async fn intake(
    state: &AppState,
    user: Option<&CurrentUser>,
    input: IntakeInput,
) -> Result<Dossier, Refusal> {
    intake_at(state, user, input, Utc::now()).await
}

/// `intake` at a given instant (demo seeding, tests of the clock).
pub async fn intake_at(
    state: &AppState,
    user: Option<&CurrentUser>,
    input: IntakeInput,
    now: DateTime<Utc>,
) -> Result<Dossier, Refusal> {
    intake_view(state, user, input, now).await.map(|v| v.dossier)
}

/// `intake_at`, answering with the whole view of the new dossier (built from what was
/// written, without reading it back).
pub async fn intake_view(
    state: &AppState,
    user: Option<&CurrentUser>,
    input: IntakeInput,
    now: DateTime<Utc>,
) -> Result<View, Refusal> {
    // Instants are stored to the microsecond (PostgreSQL's precision): the answer built from
    // memory must show what a later read shows.
    let now = now.trunc_subsecs(6);
    let channel: Channel = input.channel.parse().map_err(|e: String| invalid("channel", e))?;
    let reference = state.reference_for(user).await?;
    let agency = reference
        .agency(input.agency.trim())
        .ok_or_else(|| invalid("agency", format!("unknown agency {:?}", input.agency)))?;
    if let Some(u) = user
        && !u.access().may_act(agency.id, Role::ReceivingOfficer)
    {
        return Err(Refusal::Forbidden(format!(
            "only a receiving officer of {} may receive its dossiers",
            agency.code
        )));
    }
    if user.is_none() && channel != Channel::Online {
        return Err(Refusal::Forbidden(
            "only officers receive dossiers at the desk".into(),
        ));
    }
    let today = calendar::local_date(now);
    let stored = reference
        .procedure(&state.db, input.procedure.trim(), today)
        .await?
        .ok_or_else(|| invalid("procedure", format!("unknown procedure {:?}", input.procedure)))?;
    let spec = &stored.spec;
    let mut errors = Vec::new();
    if !spec.agencies.contains(&agency.code) {
        errors.push(FieldError {
            path: "agency".into(),
            message: format!("{} does not implement procedure {}", agency.code, spec.code),
        });
    }
    let case = case_of(spec, input.case.as_deref())?;
    let a = &input.applicant;
    if a.name.trim().is_empty() || a.name.chars().count() > 200 {
        errors.push(FieldError {
            path: "applicant.name".into(),
            message: "the applicant's name is required (at most 200 characters)".into(),
        });
    }
    match a.kind.as_str() {
        "person" => {
            if let Err(e) = PersonalId::parse(&a.id_number) {
                errors.push(FieldError {
                    path: "applicant.id_number".into(),
                    message: e,
                });
            }
        }
        "organisation" => {
            if let Err(e) = TaxCode::parse(&a.id_number) {
                errors.push(FieldError {
                    path: "applicant.id_number".into(),
                    message: e,
                });
            }
        }
        other => errors.push(FieldError {
            path: "applicant.kind".into(),
            message: format!("{other:?}: expected person or organisation"),
        }),
    }
    let phone = if a.phone.trim().is_empty() {
        String::new()
    } else {
        match PhoneVn::parse(&a.phone) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                errors.push(FieldError {
                    path: "applicant.phone".into(),
                    message: e,
                });
                String::new()
            }
        }
    };
    if !a.email.trim().is_empty() && (!a.email.contains('@') || a.email.len() > 200) {
        errors.push(FieldError {
            path: "applicant.email".into(),
            message: "not an e-mail address".into(),
        });
    }
    if channel == Channel::Online && phone.is_empty() && a.email.trim().is_empty() {
        errors.push(FieldError {
            path: "applicant.phone".into(),
            message: "an online dossier needs a phone or an e-mail for notices".into(),
        });
    }
    // The checklist: one entry per component of the procedure.
    let mut provided = vec![None::<Option<String>>; spec.components.len()];
    for (i, c) in input.components.iter().enumerate() {
        if c.index >= spec.components.len() {
            errors.push(FieldError {
                path: format!("components[{i}].index"),
                message: format!("the procedure has {} components", spec.components.len()),
            });
            continue;
        }
        if let Some(f) = &c.file {
            match is_uploaded(f) {
                Some(sha) if state.file_stored(sha).await? => {}
                _ => errors.push(FieldError {
                    path: format!("components[{i}].file"),
                    message: "upload the scan first (POST /api/v1/uploads)".into(),
                }),
            }
        }
        if c.provided {
            provided[c.index] = Some(c.file.clone());
        }
    }
    let missing: Vec<&str> = spec
        .components
        .iter()
        .zip(&provided)
        .filter(|(c, p)| c.required && p.is_none())
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !missing.is_empty() && channel != Channel::Online {
        errors.push(FieldError {
            path: "components".into(),
            message: format!(
                "an incomplete dossier is not received (give guidance, Form 02); missing: {}",
                missing.join("; ")
            ),
        });
    }
    if channel == Channel::Online && !missing.is_empty() {
        errors.push(FieldError {
            path: "components".into(),
            message: format!("missing required components: {}", missing.join("; ")),
        });
    }
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }

    let legal = legal(&reference, &agency.code)?;
    let clock = legal.clock();
    let limit = limit_of(spec, case, channel.as_str())?;
    let actor = user.map(role_of).unwrap_or_else(|| "citizen".into());
    let search_text = motcua_domain::text::fold_vi(&format!("{} {} {}", a.name, a.id_number, phone));
    // Everything that does not depend on the id or the code is worked out before the write
    // lock is taken: the lock is held by one request at a time.
    let (status, received_at, due_at, accept_due_at, submitted_at) = if channel == Channel::Online {
        let accept_due = clock.add_working_minutes(
            clock.normalise_intake(now),
            u64::from(state.config.rules.online_accept_hours) * 60,
        );
        (Status::Submitted, None, None, Some(accept_due), Some(now))
    } else {
        let received = clock.normalise_intake(now);
        (
            Status::Received,
            Some(received),
            Some(clock.due(received, &limit, cutoff_of(spec))),
            None,
            None,
        )
    };
    let components: Vec<Component> = spec
        .components
        .iter()
        .zip(&provided)
        .enumerate()
        .map(|(i, (c, p))| Component {
            seq: i as i64 + 1,
            kind: "component".into(),
            name: c.name.clone(),
            originals: i64::from(c.originals),
            copies: i64::from(c.copies),
            required: c.required,
            provided: p.is_some(),
            file_sha256: p
                .clone()
                .flatten()
                .and_then(|f| is_uploaded(&f).map(str::to_string)),
        })
        .collect();
    let mut steps = instantiate_steps(&reference, case, agency.id);
    if let (Some(first), Some(_)) = (steps.first_mut(), received_at) {
        // The step starts when the officer actually received it (shown in the timeline); its
        // due counts from the next opening (start_step normalises).
        start_step(first, now, &clock);
    }
    // A day's number taken by another transaction meanwhile (PostgreSQL, `StoreError::Retry`):
    // nothing was written; the intake is written again in a plain transaction, which reads
    // the day's number from its row (and so cannot fail that way).
    let mut attempts = 0;
    let dossier = loop {
        attempts += 1;
        let written: Result<Dossier, Refusal> = async {
            // Short: may share its COMMIT with other requests' (group commit on SQLite).
            let mut tx = match attempts {
                1 => state.db.begin_grouped().await?,
                _ => state.db.begin().await?,
            };
            // The id and, for a dossier received now, its code: one call, so the INSERT can wait.
            let code_for =
                (channel != Channel::Online).then(|| (agency.code.as_str(), calendar::local_date(now)));
            let (id, code) = codes::reserve(&mut tx, code_for).await?;
            let code = code.map(|c| c.to_string());
            let new = repo::NewDossier {
                code: code.clone(),
                agency_id: agency.id,
                procedure_id: stored.id,
                procedure_version: stored.version,
                case_code: case.code.clone(),
                channel: channel.as_str().into(),
                status: status.as_str().into(),
                applicant_name: a.name.trim().into(),
                applicant_kind: a.kind.clone(),
                applicant_id_number: a.id_number.trim().into(),
                submitter_name: input.submitter_name.trim().into(),
                phone: phone.clone(),
                email: a.email.trim().into(),
                address: a.address.trim().into(),
                request: input.request.trim().into(),
                submitted_at,
                received_at,
                accept_due_at,
                due_at,
                received_by: if status == Status::Received {
                    actor.clone()
                } else {
                    String::new()
                },
                search_text: format!(
                    "{search_text} {}",
                    code.as_deref()
                        .map(motcua_domain::text::fold_vi)
                        .unwrap_or_default()
                ),
                now,
            };
            let mut dossier = new.stored(
                id,
                repo::Names {
                    agency_code: &agency.code,
                    agency_name: &agency.name,
                    procedure_code: &spec.code,
                    procedure_name: &stored.name,
                },
            );
            let action = if channel == Channel::Online {
                "submit_online"
            } else {
                "receive"
            };
            // The event first, so the row is inserted with the chain's head and never updated in
            // this transaction; the event's row follows the dossier's (it refers to it).
            let event = chain_event(
                &mut dossier,
                &actor,
                action,
                Status::Submitted,
                status,
                None,
                &input.request,
                serde_json::json!({"channel": channel.as_str()}),
                now,
            );
            debug_assert_eq!(
                dossier.status,
                status.as_str(),
                "inserted as it stands after the event"
            );
            repo::insert(&mut tx, id, &new, &dossier.last_hash, dossier.event_count).await?;
            repo::add_components(&mut tx, id, &components, now).await?;
            repo::insert_steps(&mut tx, id, &steps).await?;
            write_event(&mut tx, &dossier, &event, Status::Submitted, status, now).await?;
            tx.commit().await?;
            Ok(dossier)
        }
        .await;
        match written {
            Err(Refusal::Store(e)) if e.is_retry() && attempts < 2 => continue,
            written => break written?,
        }
    };
    name_agencies(&reference, &mut steps);
    Ok(View {
        allowed: machine::allowed_actions(status, dossier.supplement_before_receipt),
        dossier,
        steps,
        components,
        events: Vec::new(),
    })
}

/// Fills the agency code and name of steps from their agency id.
fn name_agencies(reference: &Reference, steps: &mut [Step]) {
    for s in steps {
        let a = s.agency_id.and_then(|id| reference.agency_by_id(id));
        s.agency_code = a.map(|a| a.code.clone());
        s.agency_name = a.map(|a| a.name.clone());
    }
}

/// Steps from the case template; agencies resolved where the rule allows it now (a `child`
/// step waits for the officer's choice at handover; `parent` is the previous step's parent).
fn instantiate_steps(reference: &Reference, case: &CaseVariant, receiving_id: i64) -> Vec<Step> {
    let mut out = Vec::new();
    let mut prev: Option<i64> = Some(receiving_id);
    for (i, t) in case.steps.iter().enumerate() {
        let agency_id = match &t.agency {
            AgencyRule::Receiving => Some(receiving_id),
            AgencyRule::Fixed(code) => reference.agency(code).map(|a| a.id),
            AgencyRule::Parent => prev.and_then(|id| reference.parent_of(id)),
            AgencyRule::Child => None,
        };
        prev = agency_id;
        out.push(Step {
            id: 0,
            seq: i as i64 + 1,
            name: t.name.clone(),
            role: t.role.clone(),
            agency_id,
            agency_code: None,
            agency_name: None,
            agency_rule: t.agency.as_string(),
            quota_thousandths: motcua_domain::procedure::quota_thousandths(t.quota_days).unwrap_or(1000)
                as i64,
            started_at: None,
            due_at: None,
            completed_at: None,
            completed_by: None,
            assignee_id: None,
            assignee_username: None,
            note: String::new(),
        });
    }
    out
}

fn start_step(s: &mut Step, at: DateTime<Utc>, clock: &LegalClock<'_>) {
    let minutes = (s.quota_thousandths as u64 * u64::from(clock.hours().day_minutes())).div_ceil(1000);
    s.started_at = Some(at);
    s.due_at = Some(clock.add_working_minutes(clock.normalise_intake(at), minutes));
}

/// The next event of `d`'s hash chain; `d` moves on to it (chain head and status).
#[allow(clippy::too_many_arguments)]
fn chain_event(
    d: &mut Dossier,
    actor: &str,
    action: &str,
    from: Status,
    to: Status,
    step: Option<i64>,
    note: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Event {
    let at = now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let details = details.to_string();
    let seq = d.event_count + 1;
    // The internal id, not the code: an online dossier gets its code only at acceptance.
    let key = d.id.to_string();
    let content = EventContent {
        dossier_code: &key,
        seq,
        at: &at,
        actor,
        action,
        from_status: from.as_str(),
        to_status: to.as_str(),
        step,
        note,
        details: &details,
    };
    let hash = event_hash(&d.last_hash, &content);
    let event = Event {
        seq,
        at: at.clone(),
        actor: actor.into(),
        action: action.into(),
        from_status: from.as_str().into(),
        to_status: to.as_str().into(),
        step_seq: step,
        note: note.into(),
        details,
        prev_hash: d.last_hash.clone(),
        hash: hash.clone(),
    };
    d.last_hash = hash;
    d.event_count = seq;
    d.status = to.as_str().into();
    event
}

/// Writes an event made by `chain_event` for `d` (already moved on to it, from status
/// `from` to `to`) and queues its side effects.
async fn write_event(
    tx: &mut motcua_store::Tx,
    d: &Dossier,
    event: &Event,
    from: Status,
    to: Status,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    repo::append_event(tx, d.id, event).await?;
    let (seq, action) = (event.seq, event.action.as_str());
    // `event_seq` makes redelivery idempotent for receivers (at-least-once delivery).
    let mut sync = dvcqg_payload(d, to);
    sync["event_seq"] = seq.into();
    let mut messages = vec![("dvcqg_sync", sync.to_string())];
    if from != to || action == "reschedule" {
        let notice = serde_json::json!({
            "code": d.key(), "status": to.as_str(), "status_number": to.number(), "phone": d.phone, "email": d.email,
            "message": format!("Hồ sơ {}: {}", d.key(), to.label_vi()), "event_seq": seq,
        });
        messages.push(("notify_citizen", notice.to_string()));
    }
    repo::enqueue_all(tx, d.id, &messages, now).await?;
    Ok(())
}

/// The dossier as pushed to the national portal (DOMAIN.md §9; dates `yyyyMMddHHmmss`, local).
pub fn dvcqg_payload(d: &Dossier, status: Status) -> serde_json::Value {
    let fmt = |t: Option<DateTime<Utc>>| t.map(|t| calendar::to_local(t).format("%Y%m%d%H%M%S").to_string());
    serde_json::json!({
        "MaHoSo": d.key(),
        "MaTTHC": d.procedure_code,
        "TenTTHC": d.procedure_name,
        "KenhThucHien": match d.channel.as_str() { "online" => 2, "postal" => 3, _ => 1 },
        "LoaiDoiTuong": if d.applicant_kind == "organisation" { 2 } else { 1 },
        "MaDoiTuong": d.applicant_id_number,
        "ChuHoSo": d.applicant_name,
        "NgayNopHoSo": fmt(d.submitted_at.or(d.received_at)),
        "NgayTiepNhan": fmt(d.received_at),
        "NgayHenTra": fmt(d.due_at),
        "TrangThaiHoSo": status.number(),
        "NgayTra": fmt(d.returned_at),
        "NgayKetThucXuLy": fmt(d.finished_at),
        "HinhThuc": d.return_method,
    })
}

/// Takes an action on a dossier (all in one transaction); the dossier after it.
pub async fn act(
    state: &AppState,
    user: &CurrentUser,
    key: &str,
    action: Action,
    input: ActionInput,
) -> Result<Dossier, Refusal> {
    act_at(state, user, key, action, input, Utc::now()).await
}

/// `act` at a given instant (demo seeding, tests of the clock); instants of one dossier must
/// not go back in time.
pub async fn act_at(
    state: &AppState,
    user: &CurrentUser,
    key: &str,
    action: Action,
    input: ActionInput,
    now: DateTime<Utc>,
) -> Result<Dossier, Refusal> {
    act_view(state, By::Officer(user), key, action, input, now)
        .await
        .map(|v| v.dossier)
}

/// Who takes an action: an officer, or the citizen who owns the dossier (who may only hand
/// in a requested supplement or withdraw it).
pub enum By<'a> {
    Officer(&'a CurrentUser),
    Citizen { id: i64, login: String },
}

/// A citizen's own action on their dossier: `receive_supplement` (with the new scan) or
/// `withdraw` (with a reason).
pub async fn act_as_citizen(
    state: &AppState,
    citizen_id: i64,
    login: &str,
    key: &str,
    action: Action,
    input: ActionInput,
) -> Result<Dossier, Refusal> {
    act_view(
        state,
        By::Citizen {
            id: citizen_id,
            login: login.to_string(),
        },
        key,
        action,
        input,
        Utc::now(),
    )
    .await
    .map(|v| v.dossier)
}

/// An action by an officer or a citizen, answering with the whole view of the dossier after
/// it: the dossier, steps and components as written (read once, in the transaction; the
/// event log is left empty).
pub async fn act_view(
    state: &AppState,
    by: By<'_>,
    key: &str,
    action: Action,
    input: ActionInput,
    now: DateTime<Utc>,
) -> Result<View, Refusal> {
    let now = now.trunc_subsecs(6);
    let reference = state
        .reference_for(match &by {
            By::Officer(user) => Some(*user),
            By::Citizen { .. } => None,
        })
        .await?;
    // A citizen acts on their own dossier only, and only in two ways.
    if let By::Citizen { id, .. } = &by {
        let pre = repo::find(&state.db, key).await?.ok_or(Refusal::NotFound)?;
        if motcua_store::repo::citizens::owner_of(&state.db, pre.id).await? != Some(*id) {
            return Err(Refusal::NotFound);
        }
        if !matches!(action, Action::ReceiveSupplement | Action::Withdraw) {
            return Err(Refusal::Forbidden(format!("{} is for officers", action.as_str())));
        }
    }
    // Reads of the input happen before the write transaction.
    let assignee = match (&input.assignee, action) {
        (Some(u), Action::Assign) => Some(
            motcua_store::repo::users::by_username(&state.db, u)
                .await?
                .ok_or_else(|| invalid("assignee", format!("unknown user {u:?}")))?,
        ),
        (None, Action::Assign) => return Err(invalid("assignee", "choose the specialist to assign")),
        _ => None,
    };
    // Their roles too, before the transaction, which a read would keep waiting with its row
    // locks (inner None: disabled, refused where the other checks on the assignee are).
    let assignee_roles = match &assignee {
        Some(who) => Some(
            motcua_store::repo::auth::principal(&state.db, who.id)
                .await?
                .map(|p| p.roles),
        ),
        None => None,
    };
    let to_agency = match &input.to_agency {
        Some(code) => Some(
            reference
                .agency(code)
                .ok_or_else(|| invalid("to_agency", format!("unknown agency {code:?}")))?,
        ),
        None => None,
    };
    if let Some(f) = &input.file {
        match is_uploaded(f) {
            Some(sha) if state.file_stored(sha).await? => {}
            _ => return Err(invalid("file", "upload the file first (POST /api/v1/uploads)")),
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
        let acted: Result<(Dossier, Vec<Step>, Vec<Component>, Status), Refusal> = async {
            let mut tx = match attempts {
                1 => state.db.begin_grouped().await?,
                _ => state.db.begin().await?,
            };
            let (mut d, mut steps, mut components) = repo::find_for_action_tx(&mut tx, key)
                .await?
                .ok_or(Refusal::NotFound)?;
            if let By::Officer(user) = &by {
                may_read(&reference, user, &d, &steps)?;
            }
            let legal = legal(&reference, &d.agency_code)?;
            let clock = legal.clock();
            let today = calendar::local_date(now);
            let stored = reference
                .procedure_version(&state.db, &d.procedure_code, d.procedure_version)
                .await?
                .ok_or(Refusal::NotFound)?;
            let spec = &stored.spec;
            let counted_before = d.counted_facts();
            if let Some(v) = input.expected_version
                && v != d.version
            {
                return Err(Refusal::Conflict(format!(
                    "the dossier changed since you opened it (version {} now, you saw {v}); reload it",
                    d.version
                )));
            }
            let steps_before = steps.clone();
            let from: Status = d.status.parse().unwrap_or(Status::Submitted);

            let cur_idx = steps
                .iter()
                .position(|s| s.completed_at.is_none() && s.started_at.is_some());
            if let By::Officer(user) = &by {
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
                    return Err(Refusal::Forbidden(format!(
                        "{} is not yours to take on this dossier now",
                        action.as_str()
                    )));
                }
            }

            let checks = Checks {
                supplements_after_receipt: d.supplements_after_receipt.max(0) as u32,
                max_supplements: state.config.rules.max_supplements,
                rescheduled: d.rescheduled_at.is_some(),
                working_minutes_to_due: d
                    .due_at
                    .map(|due| clock.working_minutes_between(now, due))
                    .unwrap_or(0),
                day_minutes: u64::from(legal.hours.day_minutes()),
            };
            let to = machine::check(from, action, d.supplement_before_receipt, &input.note, &checks)
                .map_err(|e| match e {
                    RuleError::Illegal { allowed, .. } => Refusal::Illegal {
                        message: format!(
                            "{} is not allowed while the dossier is {} ({})",
                            action.as_str(),
                            from.as_str(),
                            from.label_vi()
                        ),
                        allowed,
                    },
                    RuleError::ReasonRequired => invalid("note", "a reason is required for this action"),
                    other => invalid("", other.to_string()),
                })?;

            let mut step_seq = cur_idx.map(|i| steps[i].seq);
            let mut details = serde_json::json!({});
            let actor = match &by {
                By::Officer(user) => role_of(user),
                By::Citizen { login, .. } => format!("citizen:{login}"),
            };
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
                    let i = cur_idx.ok_or_else(|| invalid("", "there is no open step"))?;
                    if i + 1 >= steps.len() {
                        return Err(invalid(
                            "",
                            "this is the last step: approve or return the result instead",
                        ));
                    }
                    complete(&mut steps[i], &actor, &input.note);
                    let next_agency = steps[i].agency_id;
                    let n = &mut steps[i + 1];
                    if n.agency_id.is_none() {
                        let chosen = to_agency.as_ref().ok_or_else(|| {
                            invalid("to_agency", format!("choose the agency for step “{}”", n.name))
                        })?;
                        if n.agency_rule == "child" {
                            let parent_of_chosen = reference.parent_of(chosen.id);
                            if parent_of_chosen != next_agency {
                                return Err(invalid(
                                    "to_agency",
                                    format!("{} is not a child agency of the previous step's", chosen.code),
                                ));
                            }
                        }
                        n.agency_id = Some(chosen.id);
                    }
                    start_step(n, now, &clock);
                    details = serde_json::json!({"to_step": n.seq, "to_agency_id": n.agency_id});
                }
                Action::Assign => {
                    let i = cur_idx.ok_or_else(|| invalid("", "there is no open step"))?;
                    let who = assignee
                        .as_ref()
                        .ok_or_else(|| invalid("assignee", "choose the specialist"))?;
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
                        .ok_or_else(|| invalid("assignee", "that user is disabled"))?;
                    let can = roles
                        .iter()
                        .any(|(a, _, r)| Some(*a) == target_agency && *r == target_role);
                    if !can {
                        return Err(invalid(
                            "assignee",
                            format!(
                                "{} does not hold the {target_role} role in that agency",
                                who.username
                            ),
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
                            u64::from(state.config.rules.online_accept_hours) * 60,
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
                            file_sha256: is_uploaded(f).map(str::to_string),
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
                        .ok_or_else(|| invalid("new_due", "give the new appointment"))?;
                    let new_due = DateTime::parse_from_rfc3339(text)
                        .map_err(|_| invalid("new_due", "expected RFC 3339, e.g. 2026-12-01T16:00:00+07:00"))?
                        .to_utc();
                    if d.due_at.is_some_and(|due| new_due <= due) {
                        return Err(invalid("new_due", RuleError::RescheduleNotLater.to_string()));
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
                        .ok_or_else(|| invalid("file", "attach the signed result document"))?;
                    let i = cur_idx.ok_or_else(|| invalid("", "there is no open step"))?;
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
                    d.result_file = is_uploaded(f).map(str::to_string);
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
                        return Err(invalid("method", "desk, post or electronic"));
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
            Err(Refusal::Store(e)) if e.is_retry() && attempts < 2 => continue,
            acted => break acted?,
        }
    };
    if let Some(code) = &d.code {
        state.lookup_cache.forget(code);
    }
    d.version += 1;
    name_agencies(&reference, &mut steps);
    Ok(View {
        allowed: machine::allowed_actions(to, d.supplement_before_receipt),
        dossier: d,
        steps,
        components,
        events: Vec::new(),
    })
}

/// The number a component added to these gets (the dossier's components, read in the
/// action's transaction, which holds the dossier).
fn next_component_seq(components: &[Component]) -> i64 {
    components.iter().map(|c| c.seq).max().unwrap_or(0) + 1
}

/// Verifies the hash chain of a dossier's events; the position of the first broken one.
pub fn verify_chain(dossier_id: i64, events: &[Event]) -> Result<(), i64> {
    let key = dossier_id.to_string();
    let key = key.as_str();
    motcua_domain::dossier::chain::verify(events.iter().map(|e| {
        (
            EventContent {
                dossier_code: key,
                seq: e.seq,
                at: &e.at,
                actor: &e.actor,
                action: &e.action,
                from_status: &e.from_status,
                to_status: &e.to_status,
                step: e.step_seq,
                note: &e.note,
                details: &e.details,
            },
            e.prev_hash.as_str(),
            e.hash.as_str(),
        )
    }))
}
