//! Dossiers: intake (`intake.rs`) and every action (`act.rs`), each one transaction — state
//! with optimistic concurrency, workflow steps, a hash-chained event, daily counters and
//! outbox rows (`events.rs`) — after the domain has said the action is legal and the actor
//! may take it; reading one dossier (here) and lists of them (`list.rs`).

mod act;
mod events;
mod intake;
mod list;

pub use events::{dvcqg_payload, verify_chain};
pub(crate) use intake::{Fetched, FromPortal};
pub use list::{Inbox, ListQuery, PER_PAGE};

use crate::auth::CurrentUser;
use crate::reference::Reference;
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::chain::ChainBreak;
use motcua_domain::dossier::machine::{self, Action};
use motcua_domain::dossier::{Component, Dossier, Status, Step};
use motcua_domain::msg;
use motcua_domain::procedure::{AgencyRule, CaseVariant};
use motcua_store::repo::citizens::Payment;
use motcua_store::repo::events::Event;
use motcua_store::repo::{components, dossiers, events as event_rows, steps as step_rows};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who takes an action or hands in a dossier.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in officer, within their roles.
    Officer(&'a CurrentUser),
    /// A signed-in citizen: submits online, and on their own dossier hands in a requested
    /// supplement or withdraws it.
    Citizen { id: i64, login: &'a str },
    /// Nobody signed in: may only submit online.
    Guest,
    /// The national portal (Cổng DVCQG) handing in a dossier submitted there
    /// (`dvcqg_inbound`): online only; its fee is paid on the portal and the citizen follows
    /// it there, so no payment or receipt secret is made here.
    Portal,
}

impl Actor<'_> {
    fn officer(&self) -> Option<&CurrentUser> {
        match self {
            Actor::Officer(u) => Some(u),
            _ => None,
        }
    }

    /// How the event log names the actor.
    fn name(&self) -> String {
        match self {
            Actor::Officer(u) => u.principal.username.clone(),
            Actor::Citizen { login, .. } => format!("citizen:{login}"),
            Actor::Guest => "citizen".into(),
            Actor::Portal => "dvcqg".into(),
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
    /// How the applicant wants the result (default: at the desk).
    #[serde(default)]
    pub delivery: Option<DeliveryInput>,
    /// Where the notices go: `all` (default: SMS to the phone and mail to the e-mail
    /// address given), `sms` or `email` only.
    #[serde(default)]
    pub notify: Option<String>,
}

/// How the applicant wants the result handed over.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DeliveryInput {
    /// `desk` (the one-stop desk), `post` (public postal service) or `electronic`.
    pub method: String,
    /// Where the post brings it (required for `post`).
    #[serde(default)]
    pub address: String,
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

/// The whole picture of a dossier for pages and the API.
#[derive(Debug, Clone)]
pub struct View {
    pub dossier: Dossier,
    pub steps: Vec<Step>,
    pub components: Vec<Component>,
    /// The event log (empty in the answer to an intake or an action).
    pub events: Vec<Event>,
    /// The log's hash chain checked against the dossier's head (`verify_chain`), both read
    /// at once; None where the log is not read (the answer to an intake or an action).
    pub chain: Option<Result<(), ChainBreak>>,
    pub allowed: Vec<Action>,
    /// The fee to pay, for an online submission that has one (at submission only).
    pub payment: Option<Payment>,
    /// An online submission's receipt secret (at submission only): the confirmation page
    /// shows the submission to whoever holds it.
    pub receipt: Option<String>,
}

impl View {
    pub fn status(&self) -> Status {
        self.dossier.status
    }
    pub fn current_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.is_open())
    }
}

/// The refusal for a dossier that does not exist or is not the caller's to see.
fn no_such_dossier() -> ServiceError {
    ServiceError::NotFound(msg!("dossier.not_found"))
}

impl Services {
    /// A dossier the officer may read (its receiving agency or any agency of its steps),
    /// with its event log.
    pub async fn dossier(&self, user: &CurrentUser, key: &str) -> ServiceResult<View> {
        let dossier = dossiers::find(self.db(), key)
            .await?
            .ok_or_else(no_such_dossier)?;
        let steps = step_rows::steps(self.db(), dossier.id).await?;
        let reference = self.reference_for(Some(user)).await?;
        may_read(&reference, user, &dossier, &steps)?;
        self.view_of(dossier, steps).await
    }

    /// A citizen's own dossier, whole (the forms printed for them); not found for anyone else's.
    pub async fn own_view(&self, citizen_id: i64, key: &str) -> ServiceResult<View> {
        let dossier = dossiers::find(self.db(), key)
            .await?
            .ok_or_else(no_such_dossier)?;
        if motcua_store::repo::citizens::owner_of(self.db(), dossier.id).await? != Some(citizen_id) {
            return Err(no_such_dossier());
        }
        let steps = step_rows::steps(self.db(), dossier.id).await?;
        self.view_of(dossier, steps).await
    }

    async fn view_of(&self, dossier: Dossier, steps: Vec<Step>) -> ServiceResult<View> {
        let components = components::components(self.db(), dossier.id).await?;
        // The events with the head they must end at, in one statement: an action taken
        // meanwhile is in both or in neither, never a false alarm.
        let (events, chain) = match event_rows::chain(self.db(), dossier.id).await? {
            Some(c) => {
                let check = verify_chain(dossier.id, &c.head, &c.events);
                (c.events, Some(check))
            }
            None => (Vec::new(), None),
        };
        let allowed = machine::allowed_actions(dossier.status, dossier.supplement_before_receipt);
        Ok(View {
            dossier,
            steps,
            components,
            events,
            chain,
            allowed,
            payment: None,
            receipt: None,
        })
    }
}

/// The officer may read the dossier: a role at (or above) its receiving agency or any agency
/// of its steps. Not found otherwise, not revealing that a dossier of another agency exists.
fn may_read(reference: &Reference, user: &CurrentUser, d: &Dossier, steps: &[Step]) -> ServiceResult<()> {
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
        Err(no_such_dossier())
    }
}

/// The hash of an uploaded file referenced as `sha256:HEX`.
fn uploaded(sha_ref: &str) -> Option<&str> {
    sha_ref.strip_prefix("sha256:")
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
fn instantiate_steps(
    reference: &Reference,
    case: &CaseVariant,
    receiving_id: i64,
) -> ServiceResult<Vec<Step>> {
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
            role: t.role.parse().map_err(ServiceError::Internal)?,
            agency_id,
            agency_code: None,
            agency_name: None,
            agency_rule: t.agency.clone(),
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
    Ok(out)
}

/// Timing of a step against its own due.
pub fn step_timing(s: &Step, now: DateTime<Utc>) -> Option<&'static str> {
    timing(s.started_at, s.due_at, s.completed_at, now)
}

/// Timing of a step from its instants: `early`/`on_time`/`late` once completed,
/// `within_time`/`overdue` while open; None before it starts or without a due.
pub fn timing(
    started_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    use motcua_domain::calendar::{InProcessClass, ResolvedClass};
    let due = due_at?;
    match (started_at, completed_at) {
        (Some(_), Some(done)) => Some(ResolvedClass::classify(done, due).as_str()),
        (Some(_), None) => Some(InProcessClass::classify(due, now).as_str()),
        _ => None,
    }
}
