//! Online submissions not yet sent: the citizen answers one section at a time (who applies,
//! what is asked, the documents, how the result comes back), may leave and come back, checks
//! the answers, then sends. Each section is checked by the intake's own rules (the refusals
//! of the fields it holds), so a draft never accepts what the intake would refuse. Files
//! chosen for a draft are kept at once and named by it, so a refused round loses none.
//!
//! A draft is reached by the secret token in its address; one begun by a signed-in citizen
//! also wants them signed in, and a guest's draft becomes a citizen's when they sign in and
//! save. Sent, the draft's token is the submission's receipt secret and its idempotency key:
//! sending twice gives the same dossier. Drafts untouched for [`KEEP_DAYS`] are forgotten.

use crate::citizens::Citizen;
use crate::dossiers::{Actor, ApplicantInput, ComponentInput, DeliveryInput, IntakeInput, View};
use crate::files::PendingScan;
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::procedure::ProcedureSpec;
use motcua_store::repo::drafts as repo;
pub use motcua_store::repo::drafts::DraftFile;
use serde::{Deserialize, Serialize};

/// Days an untouched draft is kept.
pub const KEEP_DAYS: i64 = 30;

/// A part of the journey, one page each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Applicant,
    Request,
    Documents,
    Delivery,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Applicant,
        Section::Request,
        Section::Documents,
        Section::Delivery,
    ];

    /// Its name in the draft's answers.
    pub fn key(self) -> &'static str {
        match self {
            Section::Applicant => "applicant",
            Section::Request => "request",
            Section::Documents => "documents",
            Section::Delivery => "delivery",
        }
    }

    /// Whether a refused field (the intake's path) is one of this section's.
    pub fn holds(self, path: &str) -> bool {
        match self {
            Section::Applicant => path.starts_with("applicant."),
            Section::Request => matches!(path, "agency" | "case" | "procedure" | "request"),
            Section::Documents => path.starts_with("components"),
            Section::Delivery => path.starts_with("delivery.") || path == "notify",
        }
    }

    /// The section after this one.
    pub fn next(self) -> Option<Section> {
        let i = Section::ALL.iter().position(|s| *s == self)?;
        Section::ALL.get(i + 1).copied()
    }
}

/// What the citizen has answered so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    pub case: String,
    pub agency: String,
    /// `person` or `organisation`.
    pub kind: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub request: String,
    /// `desk`, `post` or `electronic`.
    pub delivery: String,
    pub delivery_address: String,
    /// Where the notices go: `all`, `sms` or `email` (`motcua_domain::notice::Channels`).
    pub notify: String,
    /// The sections saved (their keys).
    pub done: Vec<String>,
}

/// A draft as its pages show it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub token: String,
    pub citizen_id: Option<i64>,
    pub procedure_name: String,
    pub spec: ProcedureSpec,
    pub answers: Answers,
    pub files: Vec<DraftFile>,
    pub updated_at: DateTime<Utc>,
}

impl Draft {
    pub fn is_done(&self, s: Section) -> bool {
        self.answers.done.iter().any(|d| d == s.key())
    }

    /// Every section saved: the answers may be checked and sent.
    pub fn ready(&self) -> bool {
        Section::ALL.iter().all(|s| self.is_done(*s))
    }

    /// The file held for a component (index of the procedure's list).
    pub fn file(&self, component: usize) -> Option<&DraftFile> {
        self.files.iter().find(|f| f.component == component as i64)
    }

    /// The intake these answers make.
    pub fn intake(&self) -> IntakeInput {
        let a = &self.answers;
        IntakeInput {
            procedure: self.spec.code.clone(),
            case: Some(a.case.clone()).filter(|c| !c.is_empty()),
            agency: a.agency.clone(),
            channel: "online".into(),
            applicant: ApplicantInput {
                kind: if a.kind.is_empty() {
                    "person".into()
                } else {
                    a.kind.clone()
                },
                name: a.name.clone(),
                id_number: a.id_number.clone(),
                phone: a.phone.clone(),
                email: a.email.clone(),
                address: a.address.clone(),
            },
            submitter_name: String::new(),
            request: a.request.clone(),
            components: self
                .files
                .iter()
                .map(|f| ComponentInput {
                    index: f.component as usize,
                    provided: true,
                    file: Some(format!("sha256:{}", f.sha256)),
                })
                .collect(),
            delivery: Some(DeliveryInput {
                method: if a.delivery.is_empty() {
                    "desk".into()
                } else {
                    a.delivery.clone()
                },
                address: a.delivery_address.clone(),
            }),
            notify: Some(a.notify.clone()).filter(|n| !n.is_empty()),
        }
    }
}

fn no_draft() -> ServiceError {
    ServiceError::NotFound(msg!("draft.not_found"))
}

impl Services {
    /// Begins a draft of an online submission of a procedure (and case), filled in with what
    /// the signed-in citizen's account knows; its token.
    pub async fn start_draft(
        &self,
        procedure: &str,
        case: &str,
        citizen: Option<&Citizen>,
    ) -> ServiceResult<String> {
        let p = self.procedure(procedure.trim(), None).await?;
        if !p.spec.accepts_online() {
            return Err(ServiceError::NotFound(msg!("draft.not_online")));
        }
        let mut a = Answers {
            case: match p.spec.case(case) {
                Some(c) => c.code.clone(),
                None => p.spec.cases.first().map(|c| c.code.clone()).unwrap_or_default(),
            },
            kind: "person".into(),
            delivery: "desk".into(),
            ..Answers::default()
        };
        if let [only] = p.spec.agencies.as_slice() {
            a.agency = only.clone();
        }
        if let Some(c) = citizen {
            a.name = c.full_name.clone();
            match c.login_kind {
                motcua_domain::identity::LoginKind::Phone => a.phone = c.login.clone(),
                motcua_domain::identity::LoginKind::Email => a.email = c.login.clone(),
            }
        }
        let token = crate::auth::new_secret();
        let answers = to_json(&a)?;
        let mut tx = self.db().begin().await?;
        repo::create(
            &mut tx,
            &token,
            citizen.map(|c| c.id),
            &p.spec.code,
            &answers,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// A draft, to whoever holds its token (and, for a citizen's draft, only to them:
    /// `Unauthenticated` when nobody is signed in, not found for another citizen).
    pub async fn draft(&self, token: &str, citizen_id: Option<i64>) -> ServiceResult<Draft> {
        let token = token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(no_draft());
        }
        let row = repo::get(self.db(), token).await?.ok_or_else(no_draft)?;
        match (row.citizen_id, citizen_id) {
            (Some(_), None) => return Err(ServiceError::Unauthenticated(msg!("draft.sign_in"))),
            (Some(owner), Some(me)) if owner != me => return Err(no_draft()),
            _ => {}
        }
        let answers: Answers = serde_json::from_str(&row.answers)
            .map_err(|e| ServiceError::Internal(format!("draft answers: {e}")))?;
        let p = self.procedure(&row.procedure_code, None).await?;
        let files = repo::files(self.db(), token).await?;
        Ok(Draft {
            token: row.token,
            citizen_id: row.citizen_id,
            procedure_name: p.name,
            spec: p.spec,
            answers,
            files,
            updated_at: row.updated_at,
        })
    }

    /// The refusals the intake would make of a section of the draft (none: the section may
    /// be saved).
    async fn refusals(
        &self,
        draft: &Draft,
        section: Section,
        actor: Actor<'_>,
    ) -> ServiceResult<Vec<FieldError>> {
        let mut input = draft.intake();
        // The intake stops at an unknown agency or case before it looks at the rest: while
        // another part is checked, they stand in as the procedure's first.
        if section != Section::Request {
            if !draft.spec.agencies.contains(&input.agency) {
                input.agency = draft.spec.agencies.first().cloned().unwrap_or_default();
            }
            if input.case.as_deref().is_none_or(|c| draft.spec.case(c).is_none()) {
                input.case = draft.spec.cases.first().map(|c| c.code.clone());
            }
        }
        match self.check_intake(actor, input).await {
            Ok(()) => Ok(Vec::new()),
            Err(ServiceError::Invalid(list)) => {
                Ok(list.into_iter().filter(|f| section.holds(&f.path)).collect())
            }
            Err(e) => Err(e),
        }
    }

    /// Saves a section's answers if the intake accepts them (every refusal of the section at
    /// once otherwise, nothing saved).
    pub async fn save_draft(
        &self,
        mut draft: Draft,
        section: Section,
        actor: Actor<'_>,
        change: impl FnOnce(&mut Answers),
    ) -> ServiceResult<()> {
        change(&mut draft.answers);
        let refused = self.refusals(&draft, section, actor).await?;
        if !refused.is_empty() {
            return Err(ServiceError::Invalid(refused));
        }
        if !draft.is_done(section) {
            draft.answers.done.push(section.key().into());
        }
        let owner = match actor {
            Actor::Citizen { id, .. } => Some(id),
            _ => draft.citizen_id,
        };
        let answers = to_json(&draft.answers)?;
        let mut tx = self.db().begin().await?;
        repo::save(&mut tx, &draft.token, owner, &answers, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a scan chosen for a component of a draft (replacing the one it held).
    pub async fn draft_file(&self, draft: &Draft, component: usize, scan: PendingScan) -> ServiceResult<()> {
        if component >= draft.spec.components.len() {
            return Err(ServiceError::BadRequest(msg!(
                "dossier.component_index",
                draft.spec.components.len()
            )));
        }
        let meta = self.keep_scan(scan).await?;
        self.name_draft_file(draft, component, &meta.sha256, &meta.filename)
            .await
    }

    /// Puts one of the citizen's earlier files in a draft for a component.
    pub async fn draft_reuse(
        &self,
        draft: &Draft,
        component: usize,
        citizen_id: i64,
        sha256: &str,
    ) -> ServiceResult<()> {
        let own = self.reusable_files(citizen_id).await?;
        let Some((_, label)) = own.iter().find(|(s, _)| s == sha256) else {
            return Err(ServiceError::invalid(
                format!("components[{component}].file"),
                msg!("draft.not_yours"),
            ));
        };
        if component >= draft.spec.components.len() {
            return Err(no_draft());
        }
        self.name_draft_file(draft, component, sha256, label).await
    }

    async fn name_draft_file(
        &self,
        draft: &Draft,
        component: usize,
        sha256: &str,
        filename: &str,
    ) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        repo::set_file(&mut tx, &draft.token, component as i64, sha256, filename).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a component's file out of a draft.
    pub async fn draft_unfile(&self, draft: &Draft, component: usize) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        repo::remove_file(&mut tx, &draft.token, component as i64).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a draft whose sections are all saved: the intake (once per draft), then the
    /// draft is forgotten. The new dossier's view; its receipt secret is the draft's token.
    pub async fn send_draft(&self, draft: &Draft, actor: Actor<'_>) -> ServiceResult<View> {
        if !draft.ready() {
            let missing = Section::ALL
                .iter()
                .filter(|s| !draft.is_done(**s))
                .map(|s| FieldError::new(s.key(), msg!("draft.section_missing")))
                .collect();
            return Err(ServiceError::Invalid(missing));
        }
        let view = self.intake_of_draft(actor, draft.intake(), &draft.token).await?;
        let mut tx = self.db().begin().await?;
        repo::delete(&mut tx, &draft.token).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A citizen's drafts, the latest touched first: (token, procedure name, touched).
    pub async fn drafts_of(&self, citizen_id: i64) -> ServiceResult<Vec<(String, String, DateTime<Utc>)>> {
        let rows = repo::of_citizen(self.db(), citizen_id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (token, code, at) in rows {
            let name = match self.procedure(&code, None).await {
                Ok(p) => p.name,
                Err(_) => code,
            };
            out.push((token, name, at));
        }
        Ok(out)
    }

    /// Forgets drafts untouched for [`KEEP_DAYS`] (their files then go with the orphan sweep).
    pub async fn forget_old_drafts(&self) -> ServiceResult<u64> {
        let cutoff = self.now() - chrono::Duration::days(KEEP_DAYS);
        Ok(repo::forget_before(self.db(), cutoff).await?)
    }

    /// How the applicant of a dossier wants the result: (method, postal address).
    pub async fn delivery_of(
        &self,
        dossier_id: i64,
    ) -> ServiceResult<Option<(motcua_domain::dossier::ReturnMethod, String)>> {
        let Some((method, address)) = repo::delivery_of(self.db(), dossier_id).await? else {
            return Ok(None);
        };
        let method = method
            .parse()
            .map_err(|_| ServiceError::Internal(format!("stored delivery method {method:?}")))?;
        Ok(Some((method, address)))
    }
}

fn to_json(a: &Answers) -> ServiceResult<String> {
    serde_json::to_string(a).map_err(|e| ServiceError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refused_field_belongs_to_one_section() {
        let paths = [
            "applicant.name",
            "applicant.id_number",
            "applicant.phone",
            "agency",
            "request",
            "components",
            "components[0].file",
            "delivery.method",
            "delivery.address",
            "notify",
        ];
        for p in paths {
            let n = Section::ALL.iter().filter(|s| s.holds(p)).count();
            assert_eq!(n, 1, "{p} belongs to {n} sections");
        }
        assert_eq!(Section::Applicant.next(), Some(Section::Request));
        assert_eq!(Section::Delivery.next(), None);
    }
}
