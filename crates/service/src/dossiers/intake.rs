//! Intake: at the desk (direct, postal) a dossier is received at once, with its code and
//! appointment; online it waits in the receiving queue (status 1). A citizen's submission is
//! written with its owner and its fee in the same transaction.

use super::events::{NoticeCx, chain_event, write_event};
use super::{Actor, IntakeInput, View, instantiate_steps, name_agencies, uploaded};
use crate::idempotency::{IdempotencyKey, request_hash};
use crate::{ServiceError, ServiceResult, Services};
use motcua_domain::access::Role;
use motcua_domain::calendar;
use motcua_domain::dossier::decide::{case_of, same_day_cutoff, time_limit};
use motcua_domain::dossier::{
    ApplicantKind, Channel, Component, ComponentKind, Dossier, PaymentStatus, ReturnMethod, Status, chain,
    machine,
};
use motcua_domain::identity::{Email, PersonalId, PhoneVn, TaxCode};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::msg::quoted;
use motcua_domain::notice::Channels;
use motcua_store::repo::idempotency::{self, Created};
use motcua_store::repo::{citizens, codes, components as component_rows, dossiers, steps as step_rows};

/// Longest applicant name.
const MAX_NAME: usize = 200;

/// A file on disk in the store, not yet recorded: a portal's document, fetched for its
/// dossier (`dvcqg_inbound`) and recorded in the intake's transaction.
pub(crate) struct Fetched {
    pub written: motcua_store::repo::files::Written,
    pub filename: String,
    pub content_type: &'static str,
}

/// What a dossier submitted on the national portal adds to an intake: the portal's id, and
/// the files fetched for it.
pub(crate) struct FromPortal<'a> {
    pub id: &'a str,
    pub files: &'a [Fetched],
}

impl FromPortal<'_> {
    /// Whether `sha256` is one of the files fetched for the dossier.
    fn holds(&self, sha256: &str) -> bool {
        self.files.iter().any(|f| f.written.sha256 == sha256)
    }
}

/// The applicant's contact details as checked: the phone normalised, the e-mail trimmed.
struct Contact {
    phone: String,
    email: String,
}

impl Services {
    /// Checks, resolves and stores an intake; the whole view of the new dossier, built from
    /// what was written (no read back).
    pub async fn intake(&self, actor: Actor<'_>, input: IntakeInput) -> ServiceResult<View> {
        Ok(self.intake_once(actor, input, None).await?.0)
    }

    /// `intake`, once per idempotency key: a second call with the key answers with the dossier
    /// the first created (true: a replay), whatever happened to the first's answer.
    pub async fn intake_once(
        &self,
        actor: Actor<'_>,
        input: IntakeInput,
        key: Option<IdempotencyKey>,
    ) -> ServiceResult<(View, bool)> {
        self.intake_keyed(actor, input, key, None).await
    }

    /// A citizen's draft sent: once per draft (its token the idempotency key), and the
    /// token becomes the receipt secret, so a second send finds the same dossier and the
    /// same confirmation page.
    pub(crate) async fn intake_of_draft(
        &self,
        actor: Actor<'_>,
        input: IntakeInput,
        token: &str,
    ) -> ServiceResult<View> {
        let key = IdempotencyKey::new("draft", token)?;
        Ok(self.intake_keyed(actor, input, Some(key), Some(token)).await?.0)
    }

    async fn intake_keyed(
        &self,
        actor: Actor<'_>,
        input: IntakeInput,
        key: Option<IdempotencyKey>,
        receipt: Option<&str>,
    ) -> ServiceResult<(View, bool)> {
        let Some(key) = key else {
            let v = self.take_in(actor, input, true, None, receipt, None).await?;
            return Ok((
                v.ok_or_else(|| ServiceError::Internal("an intake wrote nothing".into()))?,
                false,
            ));
        };
        let hash = request_hash(&input)?;
        if let Some(claim) = idempotency::find(self.db(), &key.scope, &key.key).await? {
            return Ok((self.replay_intake(&claim, &hash).await?, true));
        }
        match self
            .take_in(actor, input, true, Some((&key, &hash)), receipt, None)
            .await
        {
            Ok(v) => Ok((
                v.ok_or_else(|| ServiceError::Internal("an intake wrote nothing".into()))?,
                false,
            )),
            // Another try with the key claimed it first: its dossier is the answer.
            Err(e) if e.is_lost_race() => match self.claim_of(&key).await? {
                Some(claim) => Ok((self.replay_intake(&claim, &hash).await?, true)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The dossier an idempotency key created, as the intake answered it.
    async fn replay_intake(&self, claim: &idempotency::Claim, hash: &str) -> ServiceResult<View> {
        if claim.request_hash != hash {
            return Err(crate::idempotency::reused());
        }
        let id = claim.dossier_id.ok_or_else(crate::idempotency::reused)?;
        let dossier = dossiers::find_by_id(self.db(), id)
            .await?
            .ok_or_else(super::no_such_dossier)?;
        let mut steps = step_rows::steps(self.db(), id).await?;
        let reference = self.reference().await?;
        name_agencies(&reference, &mut steps);
        let components = component_rows::components(self.db(), id).await?;
        Ok(View {
            allowed: machine::allowed_actions(dossier.status, dossier.supplement_before_receipt),
            dossier,
            steps,
            components,
            events: Vec::new(),
            chain: None,
            payment: None,
            receipt: None,
        })
    }

    /// An intake whose new files arrived with it (a citizen's form): the scans are kept, then
    /// named by the components they belong to (index of the procedure's list), then the intake.
    pub async fn intake_with_scans(
        &self,
        actor: Actor<'_>,
        mut input: IntakeInput,
        scans: Vec<(usize, crate::files::PendingScan)>,
    ) -> ServiceResult<View> {
        for (index, scan) in scans {
            let file = Some(format!("sha256:{}", self.keep_scan(scan).await?.sha256));
            match input.components.iter_mut().find(|c| c.index == index) {
                Some(c) => (c.provided, c.file) = (true, file),
                None => input.components.push(super::ComponentInput {
                    index,
                    provided: true,
                    file,
                }),
            }
        }
        self.intake(actor, input).await
    }

    /// Every check `intake` makes, writing nothing: a form can be refused before the files it
    /// carries are kept (its components' files left out, they are checked when kept).
    pub async fn check_intake(&self, actor: Actor<'_>, input: IntakeInput) -> ServiceResult<()> {
        self.take_in(actor, input, false, None, None, None)
            .await
            .map(|_| ())
    }

    /// The intake of a dossier submitted on the national portal, its files fetched and on
    /// disk: they are recorded in the intake's own transaction, with the portal's id.
    pub(crate) async fn intake_from_portal(
        &self,
        input: IntakeInput,
        portal: &FromPortal<'_>,
    ) -> ServiceResult<View> {
        self.take_in(Actor::Portal, input, true, None, None, Some(portal))
            .await?
            .ok_or_else(|| ServiceError::Internal("an intake wrote nothing".into()))
    }

    async fn take_in(
        &self,
        actor: Actor<'_>,
        input: IntakeInput,
        write: bool,
        once: Option<(&IdempotencyKey, &str)>,
        receipt: Option<&str>,
        portal: Option<&FromPortal<'_>>,
    ) -> ServiceResult<Option<View>> {
        let now = self.now();
        let channel: Channel = input
            .channel
            .parse()
            .map_err(|_| ServiceError::invalid("channel", msg!("dossier.channel")))?;
        let reference = self.reference_for(actor.officer()).await?;
        let agency = reference.agency(input.agency.trim()).ok_or_else(|| {
            ServiceError::invalid("agency", msg!("agency.unknown", quoted(input.agency.trim())))
        })?;
        match actor {
            Actor::Officer(u) if !u.access().may_act(agency.id, Role::ReceivingOfficer) => {
                return Err(ServiceError::Forbidden(msg!(
                    "dossier.receive_forbidden",
                    &agency.code
                )));
            }
            Actor::Citizen { .. } | Actor::Guest | Actor::Portal if channel != Channel::Online => {
                return Err(ServiceError::Forbidden(msg!("dossier.desk_only")));
            }
            _ => {}
        }
        let today = calendar::local_date(now);
        let stored = reference
            .procedure(self.db(), input.procedure.trim(), today)
            .await?
            .ok_or_else(|| {
                ServiceError::invalid(
                    "procedure",
                    msg!("procedure.unknown", quoted(input.procedure.trim())),
                )
            })?;
        let spec = &stored.spec;
        let mut errors = Vec::new();
        if !spec.agencies.contains(&agency.code) {
            errors.push(FieldError::new(
                "agency",
                msg!("dossier.agency_procedure", &agency.code, &spec.code),
            ));
        }
        let case = case_of(spec, input.case.as_deref())?;
        let (kind, contact) = check_applicant(&input, channel, &mut errors);
        let delivery = check_delivery(input.delivery.as_ref(), &mut errors);
        let notify = check_notify(&input, &mut errors);
        // The checklist: one entry per component of the procedure.
        let mut provided = vec![None::<Option<String>>; spec.components.len()];
        for (i, c) in input.components.iter().enumerate() {
            if c.index >= spec.components.len() {
                errors.push(FieldError::new(
                    format!("components[{i}].index"),
                    msg!("dossier.component_index", spec.components.len()),
                ));
                continue;
            }
            if let Some(f) = &c.file {
                match uploaded(f) {
                    // A portal's file is recorded with the dossier, in its transaction.
                    Some(sha) if portal.is_some_and(|p| p.holds(sha)) || self.file_stored(sha).await? => {}
                    _ => errors.push(FieldError::new(
                        format!("components[{i}].file"),
                        msg!("file.upload_first"),
                    )),
                }
            }
            if c.provided {
                provided[c.index] = Some(c.file.clone());
            }
        }
        let handed_in: Vec<bool> = provided.iter().map(Option::is_some).collect();
        let missing: Vec<&str> = spec
            .missing_components(&handed_in)
            .into_iter()
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            let why = if channel == Channel::Online {
                msg!("dossier.components_missing", missing.join("; "))
            } else {
                msg!("dossier.incomplete_at_desk", missing.join("; "))
            };
            errors.push(FieldError::new("components", why));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        if !write {
            return Ok(None);
        }

        let legal = reference.legal_time(&agency.code)?;
        let clock = legal.clock();
        let limit = time_limit(spec, case, channel)?;
        let actor_name = actor.name();
        let a = &input.applicant;
        let mut search_text =
            motcua_domain::text::fold_vi(&format!("{} {} {}", a.name, a.id_number, contact.phone));
        if let Some(p) = portal {
            // Found by the portal's id too.
            search_text = format!("{search_text} {}", motcua_domain::text::fold_vi(p.id));
        }
        // Everything that does not depend on the id or the code is worked out before the write
        // lock is taken: the lock is held by one request at a time.
        let (status, received_at, due_at, accept_due_at, submitted_at) = if channel == Channel::Online {
            let accept_due = clock.add_working_minutes(
                clock.normalise_intake(now),
                u64::from(self.rules().online_accept_hours) * 60,
            );
            (Status::Submitted, None, None, Some(accept_due), Some(now))
        } else {
            let received = clock.legal_clock_start(now);
            let due = clock.due(received, &limit, same_day_cutoff(spec));
            (Status::Received, Some(received), Some(due), None, None)
        };
        let components: Vec<Component> = spec
            .components
            .iter()
            .zip(&provided)
            .enumerate()
            .map(|(i, (c, p))| Component {
                seq: i as i64 + 1,
                kind: ComponentKind::Component,
                name: c.name.clone(),
                originals: i64::from(c.originals),
                copies: i64::from(c.copies),
                required: c.required,
                provided: p.is_some(),
                file_sha256: p.clone().flatten().and_then(|f| uploaded(&f).map(str::to_string)),
            })
            .collect();
        let mut steps = instantiate_steps(&reference, case, agency.id)?;
        if let (Some(first), Some(_)) = (steps.first_mut(), received_at) {
            // The step starts when the officer actually received it (shown in the timeline);
            // its due counts from the next opening (`Step::start` normalises).
            first.start(now, &clock);
        }
        // The fee of an online submission, paid through the payment port.
        let fee: i64 = spec
            .fees
            .iter()
            .filter_map(|f| f.amount_vnd)
            .map(|a| a as i64)
            .sum();
        let payment = match actor {
            Actor::Citizen { .. } | Actor::Guest if fee > 0 => {
                Some(crate::auth::new_secret()[..20].to_string())
            }
            _ => None,
        };
        let owner = match actor {
            Actor::Citizen { id, .. } => Some(id),
            _ => None,
        };
        // Sent from an account linked to the national identity (VNeID): the dossier says so.
        let vneid_verified = match owner {
            Some(id) => motcua_store::repo::vneid::personal_id_of(self.db(), id)
                .await?
                .is_some(),
            None => false,
        };
        // What the submitter holds to see their submission again (kept hashed).
        let receipt = match (actor, receipt) {
            (Actor::Officer(_) | Actor::Portal, _) => None,
            (_, Some(given)) => Some(given.to_string()),
            _ => Some(crate::auth::new_secret()),
        };

        // A day's number taken by another transaction meanwhile (PostgreSQL,
        // `StoreError::Retry`): nothing was written; the intake is written again in a plain
        // transaction, which reads the day's number from its row (and so cannot fail that way).
        let mut attempts = 0;
        let dossier = loop {
            attempts += 1;
            let written: ServiceResult<Dossier> = async {
                // Short: may share its COMMIT with other requests' (group commit on SQLite).
                let mut tx = match attempts {
                    1 => self.db().begin_grouped().await?,
                    _ => self.db().begin().await?,
                };
                // The id and, for a dossier received now, its code: one call, so the INSERT can wait.
                let code_for = (channel != Channel::Online).then_some((agency.code.as_str(), today));
                let (id, code) = codes::reserve(&mut tx, code_for).await?;
                let code = code.map(|c| c.to_string());
                let mut dossier = Dossier {
                    id,
                    code: code.clone(),
                    agency_id: agency.id,
                    agency_code: agency.code.clone(),
                    agency_name: agency.name.clone(),
                    procedure_id: stored.id,
                    procedure_code: spec.code.clone(),
                    procedure_name: stored.name.clone(),
                    procedure_version: stored.version,
                    case_code: case.code.clone(),
                    channel,
                    status,
                    applicant_name: a.name.trim().into(),
                    applicant_kind: kind,
                    applicant_id_number: a.id_number.trim().into(),
                    submitter_name: input.submitter_name.trim().into(),
                    phone: contact.phone.clone(),
                    email: contact.email.clone(),
                    address: a.address.trim().into(),
                    request: input.request.trim().into(),
                    submitted_at,
                    received_at,
                    actually_received_at: received_at.map(|_| now),
                    accept_due_at,
                    due_at,
                    original_due_at: due_at,
                    finished_at: None,
                    paused_at: None,
                    supplements_after_receipt: 0,
                    supplement_before_receipt: false,
                    rescheduled_at: None,
                    returned_at: None,
                    return_method: None,
                    result_file: None,
                    result_number: None,
                    received_by: if status == Status::Received {
                        actor_name.clone()
                    } else {
                        String::new()
                    },
                    last_hash: chain::GENESIS.into(),
                    event_count: 0,
                    version: 1,
                    created_at: now,
                    portal_id: portal.map(|p| p.id.to_string()),
                    vneid_verified,
                };
                let search_text = format!(
                    "{search_text} {}",
                    code.as_deref()
                        .map(motcua_domain::text::fold_vi)
                        .unwrap_or_default()
                );
                let action = if channel == Channel::Online {
                    "submit_online"
                } else {
                    "receive"
                };
                // The event first, so the row is inserted with the chain's head and never
                // updated in this transaction; the event's row follows the dossier's (it refers
                // to it).
                let event = chain_event(
                    &mut dossier,
                    &actor_name,
                    action,
                    Status::Submitted,
                    status,
                    None,
                    &input.request,
                    match portal {
                        Some(p) => serde_json::json!({"channel": channel.as_str(), "portal_id": p.id}),
                        None => serde_json::json!({"channel": channel.as_str()}),
                    },
                    now,
                );
                for f in portal.map(|p| p.files).unwrap_or_default() {
                    motcua_store::repo::files::record(&mut tx, &f.written, &f.filename, f.content_type)
                        .await?;
                }
                dossiers::insert(&mut tx, &dossier, &search_text, owner).await?;
                if let Some((key, hash)) = once {
                    idempotency::claim(&mut tx, &key.scope, &key.key, hash, Created::Dossier(id), now)
                        .await?;
                }
                component_rows::add_components(&mut tx, id, &components, now).await?;
                step_rows::insert_steps(&mut tx, id, &steps).await?;
                // Before the first notice, which goes where they chose.
                if notify != Channels::All {
                    motcua_store::repo::drafts::set_channels(&mut tx, id, notify.as_str()).await?;
                }
                let notice = NoticeCx {
                    agency_address: &agency.address,
                    delivery: None,
                    supplement_by: None,
                    public_url: &self.rules().public_url,
                    channels: notify,
                };
                write_event(&mut tx, &dossier, &event, Status::Submitted, status, now, &notice).await?;
                if let Some(reference) = &payment {
                    citizens::create_payment(&mut tx, id, fee, self.payments().id(), reference, now).await?;
                }
                if let Some(secret) = &receipt {
                    citizens::add_receipt(&mut tx, id, &crate::auth::secret_hash(secret)).await?;
                }
                if let Some((method, address)) = &delivery {
                    motcua_store::repo::drafts::set_delivery(&mut tx, id, method.as_str(), address).await?;
                }
                tx.commit().await?;
                Ok(dossier)
            }
            .await;
            match written {
                Err(ServiceError::Store(e)) if e.is_retry() && attempts < 2 => continue,
                written => break written?,
            }
        };
        name_agencies(&reference, &mut steps);
        let payment = payment.map(|reference| citizens::Payment {
            id: 0,
            dossier_id: dossier.id,
            amount_vnd: fee,
            provider: self.payments().id().to_string(),
            reference,
            status: PaymentStatus::Pending,
        });
        Ok(Some(View {
            allowed: machine::allowed_actions(status, dossier.supplement_before_receipt),
            dossier,
            steps,
            components,
            events: Vec::new(),
            chain: None,
            payment,
            receipt,
        }))
    }
}

/// Checks the applicant's name, identity and contact details; every problem goes to `errors`.
/// Longest postal address of a delivery.
const MAX_ADDRESS: usize = 500;

/// Where the notices go, if they said; a single channel wants its contact.
fn check_notify(input: &IntakeInput, errors: &mut Vec<FieldError>) -> Channels {
    let Some(typed) = input.notify.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Channels::All;
    };
    let Ok(channels) = typed.parse::<Channels>() else {
        errors.push(FieldError::new("notify", msg!("notify.channels")));
        return Channels::All;
    };
    match channels.missing(&input.applicant.phone, &input.applicant.email) {
        Some("phone") => errors.push(FieldError::new("notify", msg!("notify.needs_phone"))),
        Some(_) => errors.push(FieldError::new("notify", msg!("notify.needs_email"))),
        None => {}
    }
    channels
}

/// How the applicant wants the result, if they said: by post wants an address.
fn check_delivery(
    input: Option<&super::DeliveryInput>,
    errors: &mut Vec<FieldError>,
) -> Option<(ReturnMethod, String)> {
    let d = input?;
    let Ok(method) = d.method.trim().parse::<ReturnMethod>() else {
        errors.push(FieldError::new("delivery.method", msg!("delivery.method")));
        return None;
    };
    let address = d.address.trim();
    if address.chars().count() > MAX_ADDRESS || (method == ReturnMethod::Post && address.is_empty()) {
        errors.push(FieldError::new(
            "delivery.address",
            msg!("delivery.address", MAX_ADDRESS),
        ));
        return None;
    }
    let address = match method {
        ReturnMethod::Post => address.to_string(),
        _ => String::new(),
    };
    Some((method, address))
}

fn check_applicant(
    input: &IntakeInput,
    channel: Channel,
    errors: &mut Vec<FieldError>,
) -> (ApplicantKind, Contact) {
    let a = &input.applicant;
    if a.name.trim().is_empty() || a.name.chars().count() > MAX_NAME {
        errors.push(FieldError::new(
            "applicant.name",
            msg!("dossier.applicant_name", MAX_NAME),
        ));
    }
    let kind = a.kind.parse::<ApplicantKind>().ok();
    let identity = match kind {
        Some(ApplicantKind::Person) => PersonalId::parse(&a.id_number).err(),
        Some(ApplicantKind::Organisation) => TaxCode::parse(&a.id_number).err(),
        None => {
            errors.push(FieldError::new("applicant.kind", msg!("dossier.applicant_kind")));
            None
        }
    };
    if let Some(e) = identity {
        errors.push(FieldError::new("applicant.id_number", e));
    }
    let phone = match a.phone.trim() {
        "" => String::new(),
        p => match PhoneVn::parse(p) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                errors.push(FieldError::new("applicant.phone", e));
                String::new()
            }
        },
    };
    let email = a.email.trim().to_string();
    if !email.is_empty()
        && let Err(e) = Email::parse(&email)
    {
        errors.push(FieldError::new("applicant.email", e));
    }
    if channel == Channel::Online && a.phone.trim().is_empty() && email.is_empty() {
        errors.push(FieldError::new("applicant.phone", msg!("dossier.online_contact")));
    }
    // An unknown kind is an error above: the intake stops before anything is stored.
    (kind.unwrap_or(ApplicantKind::Person), Contact { phone, email })
}
