//! The feedback and petitions service (*phản ánh, kiến nghị*, PAKN): submission (public and
//! rate limited per client address, or noted by an officer), and the officers' classify,
//! forward, reject, process, answer and publish — each one transaction (state with optimistic
//! concurrency plus an event). Shared by the JSON API and the pages; renders nothing, and the
//! rules themselves belong to `motcua_domain::feedback`.

use crate::auth::CurrentUser;
use crate::idempotency::{IdempotencyKey, request_hash};
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::calendar;
use motcua_domain::feedback::decide::{Command, Target, decide, may_act};
use motcua_domain::feedback::{
    self as rules, Action, Category, Channel, Deadlines, Feedback, Rules, Status, Submission, Timing,
};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::msg::quoted;
use motcua_store::repo::agencies;
pub use motcua_store::repo::feedback::Event;
use motcua_store::repo::feedback::{self as repo};
use motcua_store::repo::idempotency::{self, Created};
use motcua_store::repo::meta;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Feedback a page of a list shows.
pub const PER_PAGE: u32 = 20;
/// Settings (table `meta`) that override the default limits, in working days.
pub const FORWARD_DAYS_SETTING: &str = "feedback.forward_days";
pub const ANSWER_DAYS_SETTING: &str = "feedback.answer_days";

/// The refusal for a feedback that does not exist or is not the caller's to see.
fn no_such_feedback() -> ServiceError {
    ServiceError::NotFound(msg!("feedback.not_found"))
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

impl Services {
    /// The feedback limits in force: the stored settings, or the defaults (5 and 10 working
    /// days).
    pub async fn feedback_rules(&self) -> ServiceResult<Rules> {
        let forward = meta::get(self.db(), FORWARD_DAYS_SETTING).await?;
        let answer = meta::get(self.db(), ANSWER_DAYS_SETTING).await?;
        Ok(
            Rules::from_settings(forward.as_deref(), answer.as_deref()).unwrap_or_else(|e| {
                tracing::error!(error = %e, "invalid feedback settings; using the defaults");
                Rules::default()
            }),
        )
    }
}

impl Services {
    /// Records a feedback: online from anyone (rate limited per `client`, the adapter's name for
    /// the caller, when nobody is signed in), written or phone from an officer of the agency it
    /// is about.
    pub async fn submit_feedback(
        &self,
        user: Option<&CurrentUser>,
        client: &str,
        input: &SubmitInput,
    ) -> ServiceResult<Feedback> {
        Ok(self.submit_feedback_once(user, client, input, None).await?.0)
    }

    /// `submit_feedback`, once per idempotency key: a second call with the key answers with
    /// the feedback the first recorded (true: a replay).
    pub async fn submit_feedback_once(
        &self,
        user: Option<&CurrentUser>,
        client: &str,
        input: &SubmitInput,
        key: Option<IdempotencyKey>,
    ) -> ServiceResult<(Feedback, bool)> {
        let once = match &key {
            Some(k) => Some((k, request_hash(input)?)),
            None => None,
        };
        if let Some((k, hash)) = &once
            && let Some(claim) = idempotency::find(self.db(), &k.scope, &k.key).await?
        {
            return Ok((self.replay_feedback(&claim, hash).await?, true));
        }
        match self
            .record_feedback(user, client, input, once.as_ref().map(|(k, h)| (*k, h.as_str())))
            .await
        {
            Err(e) if e.is_lost_race() && once.is_some() => {
                let (k, hash) = once.as_ref().expect("a key");
                match self.claim_of(k).await? {
                    Some(claim) => Ok((self.replay_feedback(&claim, hash).await?, true)),
                    None => Err(e),
                }
            }
            other => Ok((other?, false)),
        }
    }

    async fn replay_feedback(&self, claim: &idempotency::Claim, hash: &str) -> ServiceResult<Feedback> {
        if claim.request_hash != hash {
            return Err(crate::idempotency::reused());
        }
        let id = claim.feedback_id.ok_or_else(crate::idempotency::reused)?;
        repo::find_by_id(self.db(), id)
            .await?
            .ok_or_else(no_such_feedback)
    }

    async fn record_feedback(
        &self,
        user: Option<&CurrentUser>,
        client: &str,
        input: &SubmitInput,
        once: Option<(&IdempotencyKey, &str)>,
    ) -> ServiceResult<Feedback> {
        let now = self.now();
        if user.is_none() {
            self.limits()
                .feedback_per_address
                .hit(client)
                .map_err(|wait| ServiceError::TooMany {
                    msg: msg!("feedback.too_many", wait.div_ceil(60)),
                    wait_seconds: wait,
                })?;
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
            agencies::by_code(self.db(), code).await?
        };
        let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
        if agency.is_none() {
            errors.push(FieldError::new(
                "agency",
                if code.is_empty() {
                    msg!("feedback.agency")
                } else {
                    msg!("agency.unknown", quoted(code))
                },
            ));
        }
        let (Ok(s), Some(agency)) = (checked, agency) else {
            errors.sort_by_key(|e| field_order(&e.path));
            return Err(ServiceError::Invalid(errors));
        };
        if s.channel.needs_officer() {
            match user {
                None => {
                    return Err(ServiceError::invalid("channel", msg!("feedback.channel")));
                }
                Some(u) if !may_act(&u.access(), agency.id) => {
                    return Err(ServiceError::Forbidden(msg!(
                        "feedback.officers_only",
                        &agency.code
                    )));
                }
                Some(_) => {}
            }
        }
        let noted_by = match (s.channel, user) {
            (Channel::Online, _) | (_, None) => String::new(),
            (_, Some(u)) => u.principal.username.clone(),
        };
        let rules = self.feedback_rules().await?;
        let legal = self.legal_time(Some(&agency.code)).await?;
        let deadlines = Deadlines::starting(&legal.clock(), now, &rules);
        let mut tx = self.db().begin().await?;
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
                channel: s.channel,
                subject: &s.subject,
                content: &s.content,
                agency_id: agency.id,
                status: Status::Received,
                received_at: now,
                forward_due_at: deadlines.forward_due_at,
                answer_due_at: deadlines.answer_due_at,
                noted_by: &noted_by,
                search_text: &search,
                now,
            },
        )
        .await?;
        if let Some((key, hash)) = once {
            idempotency::claim(&mut tx, &key.scope, &key.key, hash, Created::Feedback(id), now).await?;
        }
        let actor = if noted_by.is_empty() { "citizen" } else { &noted_by };
        repo::append_event(
            &mut tx,
            id,
            &repo::NewEvent {
                at: now,
                actor,
                action: "submit",
                from_status: None,
                to_status: Status::Received,
                agency_id: agency.id,
                to_agency_id: None,
                due_at: None,
                note: "",
            },
        )
        .await?;
        tx.commit().await?;
        repo::find(self.db(), &reference)
            .await?
            .ok_or_else(no_such_feedback)
    }
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
        self.feedback.status
    }

    pub fn timing(&self, now: DateTime<Utc>) -> Timing {
        self.feedback.timing(now)
    }
}

impl Services {
    /// Reading: whoever may read its agency (its officers, supervisors above, administrators),
    /// or an agency it passed through (the one that forwarded it keeps sight of it).
    async fn ensure_may_read_feedback(
        &self,
        user: &CurrentUser,
        f: &Feedback,
        events: &[Event],
    ) -> ServiceResult<()> {
        let access = user.access();
        let mut codes = vec![f.agency_code.clone()];
        for e in events {
            codes.push(e.agency.clone());
        }
        codes.sort();
        codes.dedup();
        let reference = self.reference().await?;
        for code in codes {
            if access.may_read(&reference.chain(&code)) {
                return Ok(());
            }
        }
        Err(no_such_feedback())
    }

    /// The receipt of a feedback as its sender sees it after sending: nothing of what was
    /// written nor who wrote it (the page a redirect after sending shows).
    pub async fn feedback_receipt(&self, reference: &str) -> ServiceResult<Feedback> {
        let mut f = repo::find(self.db(), reference.trim())
            .await?
            .ok_or_else(no_such_feedback)?;
        (f.submitter_name, f.phone, f.email, f.subject, f.content, f.answer) = Default::default();
        f.reject_reason.clear();
        Ok(f)
    }

    /// A feedback the user may read.
    pub async fn feedback(&self, user: &CurrentUser, reference: &str) -> ServiceResult<View> {
        let reference = reference.trim();
        let feedback = repo::find(self.db(), reference)
            .await?
            .ok_or_else(no_such_feedback)?;
        let events = repo::events(self.db(), feedback.id).await?;
        self.ensure_may_read_feedback(user, &feedback, &events).await?;
        let allowed = rules::allowed_actions(feedback.status);
        let may_act = may_act(&user.access(), feedback.agency_id);
        Ok(View {
            feedback,
            events,
            allowed,
            may_act,
        })
    }

    /// Takes an action on a feedback: load, ask the domain (`feedback::decide`), write.
    pub async fn act_on_feedback(
        &self,
        user: &CurrentUser,
        reference: &str,
        action: Action,
        input: &ActionInput,
    ) -> ServiceResult<Feedback> {
        let now = self.now();
        let seen = self.feedback(user, reference).await?;
        let command = Command {
            action,
            note: input.note.clone(),
            answer: input.answer.clone(),
            category: match input.category.as_deref().map(str::trim) {
                Some(c) if action == Action::Classify && !c.is_empty() => Some(
                    c.parse::<Category>()
                        .map_err(|_| ServiceError::invalid("category", msg!("feedback.category")))?,
                ),
                _ => None,
            },
            to_agency: match action {
                Action::Forward => self.forward_target(input.to_agency.as_deref(), now).await?,
                _ => None,
            },
            // A version the officer did not give is the one their page was built from.
            expected_version: Some(input.expected_version.unwrap_or(seen.feedback.version)),
        };
        let mut tx = self.db().begin().await?;
        let f = repo::find_tx(&mut tx, &seen.feedback.reference)
            .await?
            .ok_or_else(no_such_feedback)?;
        let decision = decide(&f, &command, &user.principal.username, &user.access(), now)?;
        repo::save(&mut tx, &decision.feedback, now).await?;
        repo::append_event(
            &mut tx,
            f.id,
            &repo::NewEvent {
                at: now,
                actor: &user.principal.username,
                action: action.as_str(),
                from_status: Some(decision.from),
                to_status: decision.to,
                agency_id: decision.agency_id,
                to_agency_id: decision.to_agency_id,
                due_at: decision.due_at,
                note: &decision.note,
            },
        )
        .await?;
        tx.commit().await?;
        repo::find(self.db(), &f.reference)
            .await?
            .ok_or_else(no_such_feedback)
    }

    /// The agency a feedback is forwarded to, with the deadlines it starts there (None: none
    /// named; an unknown one: the field's error, said after the rules that come first).
    async fn forward_target(
        &self,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> ServiceResult<Option<Result<Target, FieldError>>> {
        let code = to.map(str::trim).unwrap_or("");
        if code.is_empty() {
            return Ok(None);
        }
        let Some(agency) = agencies::by_code(self.db(), code).await? else {
            return Ok(Some(Err(FieldError::new(
                "to_agency",
                msg!("agency.unknown", quoted(code)),
            ))));
        };
        let rules = self.feedback_rules().await?;
        let legal = self.legal_time(Some(&agency.code)).await?;
        Ok(Some(Ok(Target {
            agency_id: agency.id,
            agency_code: agency.code,
            agency_name: agency.name,
            deadlines: Deadlines::starting(&legal.clock(), now, &rules),
        })))
    }

    /// A page of the feedback the user may see (`Services::scope`: officer agencies,
    /// supervised subtrees, everything for an administrator), open ones first.
    pub async fn feedback_list(
        &self,
        user: &CurrentUser,
        status: Option<Status>,
        q: Option<&str>,
        page: u32,
    ) -> ServiceResult<(Vec<Feedback>, i64)> {
        let scope = self.scope(user).await?;
        let filter = repo::ListFilter {
            agency_ids: scope,
            status,
            q: crate::search_query(q)?,
        };
        Ok(repo::list(self.db(), &filter, page, PER_PAGE).await?)
    }

    /// A page of published answers matching `q` (with or without diacritics).
    pub async fn published_feedback(
        &self,
        q: Option<&str>,
        page: u32,
    ) -> ServiceResult<(Vec<Feedback>, i64)> {
        let q = crate::search_query(q)?;
        Ok(repo::published(self.db(), q.as_deref(), page, PER_PAGE).await?)
    }
}

/// The number of pages for a total.
pub fn page_count(total: i64) -> u64 {
    (u64::try_from(total).unwrap_or(0))
        .div_ceil(u64::from(PER_PAGE))
        .max(1)
}
