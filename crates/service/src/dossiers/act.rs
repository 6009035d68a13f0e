//! An action on a dossier by an officer or its citizen: load, ask the domain
//! (`motcua_domain::dossier::decide`), write the decision in one transaction.

use super::events::{NoticeCx, chain_event, write_event};
use super::{ActionInput, Actor, View, may_read, name_agencies, no_such_dossier, uploaded};
use crate::reference::Reference;
use crate::{ServiceError, ServiceResult, Services};
use chrono::DateTime;
use motcua_domain::access::Grant;
use motcua_domain::calendar;
use motcua_domain::dossier::Status;
use motcua_domain::dossier::decide::{self, Acting, Assignee, ChosenAgency, Command, Decision, State};
use motcua_domain::dossier::machine::{self, Action};
use motcua_domain::msg;
use motcua_domain::msg::quoted;
use motcua_domain::report::Facts;
use motcua_store::repo::{auth, citizens, codes, components, dossiers, steps, users};

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
        let reference = self.reference_for(by.officer()).await?;
        let command = self.command(&reference, &by, key, action, input).await?;
        // Read with the transaction that writes: on PostgreSQL the first attempt reads before
        // its BEGIN, unlocked, and the commit checks the version read (`dossiers::save_state`);
        // if another action moved it (`StoreError::Retry`), nothing was written and the action
        // runs again in a plain transaction, which reads it locked.
        let mut attempts = 0;
        let (decision, components) = loop {
            attempts += 1;
            match self
                .decide_and_write(&reference, &by, key, &command, attempts)
                .await
            {
                Err(ServiceError::Store(e)) if e.is_retry() && attempts < 2 => continue,
                // The first attempt's read is unlocked (PostgreSQL): the dossier and its steps
                // may come from two moments, one before and one after another action. A refusal
                // on such a read is decided again on a locked one, so a loser of a race is told
                // "changed meanwhile" (409), never "not yours" (403) from steps it saw moved.
                Err(
                    ServiceError::Forbidden(_) | ServiceError::Illegal { .. } | ServiceError::NotFound(_),
                ) if attempts < 2 => continue,
                done => break done?,
            }
        };
        let Decision {
            mut dossier,
            mut steps,
            to,
            ..
        } = decision;
        if let Some(code) = &dossier.code {
            self.forget_lookup(code);
        }
        dossier.version += 1;
        name_agencies(&reference, &mut steps);
        Ok(View {
            allowed: machine::allowed_actions(to, dossier.supplement_before_receipt),
            dossier,
            steps,
            components,
            events: Vec::new(),
            chain: None,
            payment: None,
            receipt: None,
        })
    }

    /// One attempt: load → decide → persist.
    async fn decide_and_write(
        &self,
        reference: &Reference,
        by: &Actor<'_>,
        key: &str,
        command: &Command,
        attempt: u32,
    ) -> ServiceResult<(Decision, Vec<motcua_domain::dossier::Component>)> {
        let now = self.now();
        let mut tx = match attempt {
            1 => self.db().begin_grouped().await?,
            _ => self.db().begin().await?,
        };
        let (d, steps, mut components) = dossiers::find_for_action_tx(&mut tx, key)
            .await?
            .ok_or_else(no_such_dossier)?;
        let (user_id, access) = match by {
            Actor::Officer(user) => {
                may_read(reference, user, &d, &steps)?;
                (user.principal.user_id, Some(user.access()))
            }
            _ => (0, None),
        };
        let acting = match &access {
            Some(access) => Acting::Officer { user_id, access },
            None => Acting::Owner,
        };
        let legal = reference.legal_time(&d.agency_code)?;
        let stored = reference
            .procedure_version(self.db(), &d.procedure_code, d.procedure_version)
            .await?
            .ok_or_else(no_such_dossier)?;
        let actor_name = by.name();
        // Where its notices go, read before the transaction (see `NoticeCx::channels`).
        let channels = motcua_store::repo::drafts::channels_of_dossier(self.db(), d.id)
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or_default();
        let context = decide::Context {
            now,
            clock: legal.clock(),
            spec: &stored.spec,
            max_supplements: self.rules().max_supplements,
            online_accept_hours: self.rules().online_accept_hours,
            actor_name: &actor_name,
        };
        let state = State {
            dossier: &d,
            steps: &steps,
            components: &components,
        };
        let mut decision = decide::decide(state, command, acting, &context)?;
        if decision.needs_code {
            let code = codes::next_code(&mut tx, &d.agency_code, calendar::local_date(now)).await?;
            decision.issue_code(code.to_string());
        }
        let event = chain_event(
            &mut decision.dossier,
            &actor_name,
            command.action.as_str(),
            decision.from,
            decision.to,
            decision.step_seq,
            command.note.trim(),
            decision.details.clone(),
            now,
        );
        // The dossier's update first: on PostgreSQL it checks the version read (a guard), and
        // its row lock comes before the others.
        dossiers::save_state(&mut tx, Facts::of_dossier(&d).as_ref(), &decision.dossier, now).await?;
        let to = decision.to;
        let notice = NoticeCx {
            agency_address: reference
                .agency(&d.agency_code)
                .map(|a| a.address.as_str())
                .unwrap_or(""),
            // Read only when the notice says how the result comes back.
            delivery: match to {
                Status::Resolved => self.delivery_of(d.id).await?.map(|(m, _)| m),
                _ => None,
            },
            supplement_by: (to == Status::AwaitingSupplement).then(|| {
                legal
                    .clock()
                    .add_working_minutes(now, u64::from(self.rules().supplement_working_days) * 8 * 60)
            }),
            public_url: &self.rules().public_url,
            channels,
        };
        write_event(
            &mut tx,
            &decision.dossier,
            &event,
            decision.from,
            to,
            now,
            &notice,
        )
        .await?;
        let changed: Vec<_> = decision.changed().collect();
        steps::save_steps(&mut tx, &changed).await?;
        if let Some(c) = &decision.component {
            components::add_components(&mut tx, d.id, std::slice::from_ref(c), now).await?;
            components.push(c.clone());
        }
        tx.commit().await?;
        Ok((decision, components))
    }

    /// The input as the domain takes it: who may act at all (a citizen, only on their own
    /// dossier), values parsed, users, agencies and files looked up, before the transaction.
    async fn command(
        &self,
        reference: &Reference,
        by: &Actor<'_>,
        key: &str,
        action: Action,
        input: ActionInput,
    ) -> ServiceResult<Command> {
        match by {
            Actor::Citizen { id, .. } => {
                let d = dossiers::find(self.db(), key)
                    .await?
                    .ok_or_else(no_such_dossier)?;
                if citizens::owner_of(self.db(), d.id).await? != Some(*id) {
                    return Err(no_such_dossier());
                }
            }
            Actor::Guest | Actor::Portal => return Err(no_such_dossier()),
            Actor::Officer(_) => {}
        }
        let assignee = match (&input.assignee, action) {
            (Some(name), Action::Assign) => {
                let who = users::by_username(self.db(), name)
                    .await?
                    .ok_or_else(|| ServiceError::invalid("assignee", msg!("user.unknown", quoted(name))))?;
                // None: disabled, refused where the other checks on the assignee are.
                let grants = auth::principal(self.db(), who.id).await?.map(|p| {
                    p.roles
                        .iter()
                        .map(|&(agency_id, _, role)| Grant { agency_id, role })
                        .collect()
                });
                Some(Assignee {
                    id: who.id,
                    username: who.username,
                    grants,
                })
            }
            _ => None,
        };
        let to_agency = match &input.to_agency {
            Some(code) => {
                let a = reference.agency(code).ok_or_else(|| {
                    ServiceError::invalid("to_agency", msg!("agency.unknown", quoted(code)))
                })?;
                Some(ChosenAgency {
                    id: a.id,
                    code: a.code.clone(),
                    parent_id: reference.parent_of(a.id),
                })
            }
            None => None,
        };
        let file = match &input.file {
            Some(f) => match uploaded(f) {
                Some(sha) if self.file_stored(sha).await? => Some(sha.to_string()),
                _ => return Err(ServiceError::invalid("file", msg!("file.upload_first"))),
            },
            None => None,
        };
        let new_due = match input.new_due.as_deref() {
            Some(text) => Some(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| ServiceError::invalid("new_due", msg!("dossier.new_due_format")))?
                    .to_utc(),
            ),
            None => None,
        };
        let method = match input.method.as_deref() {
            Some(m) => Some(
                m.parse()
                    .map_err(|_| ServiceError::invalid("method", msg!("dossier.return_method")))?,
            ),
            None => None,
        };
        Ok(Command {
            action,
            note: input.note,
            expected_version: input.expected_version,
            assignee,
            to_agency,
            new_due,
            file,
            result_number: input.result_number,
            method,
        })
    }
}
