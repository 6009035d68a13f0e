//! Citizens' accounts: registration by phone or e-mail with a one-time code sent through the
//! notification port (the outbox), sign-in with throttling, password reset, sessions, and a
//! citizen's own dossiers (list, rating, payment).

use crate::auth::{constant_time_eq, new_secret, secret_hash};
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Duration};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::{Dossier, Step};
use motcua_domain::evaluation::Satisfaction;
use motcua_domain::identity::{CodePurpose, Login, LoginKind, Password};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_store::StoreError;
use motcua_store::repo::files::FileMeta;
use motcua_store::repo::{citizens as repo, dossiers, events, outbox, steps};
use rand::Rng;

pub use repo::{Citizen, OwnedDossier, Payment};

/// Lifetime of a citizen's session.
pub const SESSION_HOURS: i64 = 24;
/// One-time codes live 10 minutes and allow 5 attempts.
pub const CODE_MINUTES: i64 = 10;
pub const CODE_ATTEMPTS: i64 = 5;
/// Longest full name.
const MAX_NAME: usize = 200;

/// An online submission as its confirmation page shows it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub key: String,
    pub procedure_name: String,
    pub accept_due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub payment: Option<Payment>,
    /// How the applicant asked for the result, if they said.
    pub delivery: Option<motcua_domain::dossier::ReturnMethod>,
}

/// A citizen's own dossier as their page shows it.
#[derive(Debug, Clone)]
pub struct OwnDossier {
    pub dossier: Dossier,
    /// The steps started so far.
    pub steps: Vec<Step>,
    /// What the agency asked to complete, while awaiting a supplement.
    pub missing: Option<String>,
    /// The satisfaction given, once rated.
    pub rating: Option<Satisfaction>,
    /// What was handed in: the procedure's documents and the supplements, with their files.
    pub components: Vec<motcua_domain::dossier::Component>,
    /// The fees and where their payment stands.
    pub payment: Option<Payment>,
    /// How the applicant asked for the result: (method, postal address).
    pub delivery: Option<(motcua_domain::dossier::ReturnMethod, String)>,
    /// Where the notices go.
    pub notify: motcua_domain::notice::Channels,
}

/// The citizen's questions of DOMAIN.md §7, by key (indicators 5, 6 and 7).
pub const QUESTIONS: [&str; 3] = ["q5", "q6", "q7"];

fn wrong_code() -> ServiceError {
    ServiceError::invalid("code", msg!("citizen.wrong_code"))
}

fn too_many(wait: u64) -> ServiceError {
    ServiceError::TooMany {
        msg: msg!("citizen.too_many", wait.div_ceil(60)),
        wait_seconds: wait,
    }
}

async fn hash(password: &Password) -> ServiceResult<String> {
    let p = password.as_str().to_string();
    tokio::task::spawn_blocking(move || crate::auth::password::hash(&p))
        .await?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

impl Services {
    /// Admits one more online submission by a guest (nobody signed in) from a client address,
    /// before its form is read: too many this hour is a refusal with the wait.
    pub fn admit_guest_submission(&self, client: &str) -> ServiceResult<()> {
        self.limits()
            .guest_submissions_per_address
            .hit(client)
            .map_err(|wait| ServiceError::TooMany {
                msg: msg!("submit.too_many", wait.div_ceil(60)),
                wait_seconds: wait,
            })
    }

    /// Issues a 6-digit code and queues it to the citizen's phone or e-mail.
    async fn send_code(
        &self,
        tx: &mut motcua_store::Tx,
        citizen_id: i64,
        login: &Login,
        purpose: CodePurpose,
        now: DateTime<chrono::Utc>,
    ) -> ServiceResult<()> {
        let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
        repo::new_code(
            tx,
            citizen_id,
            purpose,
            &secret_hash(&code),
            now + Duration::minutes(CODE_MINUTES),
            now,
        )
        .await?;
        let what = match purpose {
            CodePurpose::Verify => "xác thực tài khoản",
            CodePurpose::Reset => "đặt lại mật khẩu",
        };
        let payload = serde_json::json!({
            "to": login.as_str(),
            "channel": if login.kind() == LoginKind::Phone { "sms" } else { "email" },
            "purpose": purpose.as_str(),
            "message": motcua_domain::notice::one_time_code(what, &code, CODE_MINUTES),
        });
        outbox::enqueue_message(tx, "notify_citizen", &payload.to_string(), now).await?;
        Ok(())
    }

    /// Registers (or re-registers an unverified) account and sends a verification code; the
    /// login as kept (a phone as 0XXXXXXXXX, an e-mail in lower case).
    pub async fn register(&self, login: &str, full_name: &str, password: &str) -> ServiceResult<String> {
        let mut errors = Vec::new();
        let login = Login::parse(login).map_err(|e| errors.push(FieldError::new("login", e)));
        if full_name.trim().is_empty() || full_name.chars().count() > MAX_NAME {
            errors.push(FieldError::new("full_name", msg!("citizen.full_name", MAX_NAME)));
        }
        let password = Password::parse(password).map_err(|e| errors.push(FieldError::new("password", e)));
        let (Ok(login), Ok(password), true) = (login, password, errors.is_empty()) else {
            return Err(ServiceError::Invalid(errors));
        };
        self.limits()
            .codes_per_login
            .hit(login.as_str())
            .map_err(too_many)?;
        let hash = hash(&password).await?;
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let id = match repo::upsert_unverified(
            &mut tx,
            login.as_str(),
            login.kind(),
            full_name.trim(),
            &hash,
            now,
        )
        .await
        {
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::invalid("login", msg!("citizen.login_taken")));
            }
            other => other?,
        };
        self.send_code(&mut tx, id, &login, CodePurpose::Verify, now)
            .await?;
        tx.commit().await?;
        Ok(login.as_str().to_string())
    }

    async fn check_code(&self, citizen_id: i64, purpose: CodePurpose, code: &str) -> ServiceResult<()> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let Some((id, stored, expires, attempts)) = repo::live_code(&mut tx, citizen_id, purpose).await?
        else {
            return Err(wrong_code());
        };
        if expires <= now || attempts >= CODE_ATTEMPTS {
            return Err(wrong_code());
        }
        let ok = constant_time_eq(stored.as_bytes(), secret_hash(code.trim()).as_bytes());
        repo::code_attempt(&mut tx, id, ok, now).await?;
        if ok && purpose == CodePurpose::Verify {
            repo::mark_verified(&mut tx, citizen_id, now).await?;
        }
        tx.commit().await?;
        if ok { Ok(()) } else { Err(wrong_code()) }
    }

    /// Confirms an account with its code.
    pub async fn verify_citizen(&self, login: &str, code: &str) -> ServiceResult<()> {
        let login = Login::parse(login).map_err(|e| ServiceError::invalid("login", e))?;
        let c = repo::by_login(self.db(), login.as_str())
            .await?
            .ok_or_else(wrong_code)?;
        self.check_code(c.id, CodePurpose::Verify, code).await
    }

    /// Signs a citizen in from `client` (the adapter's name for the caller); the secret of a
    /// new session.
    pub async fn citizen_sign_in(&self, login: &str, password: &str, client: &str) -> ServiceResult<String> {
        let wrong = || ServiceError::Unauthenticated(msg!("citizen.wrong_password"));
        let login = Login::parse(login).map_err(|_| wrong())?;
        let key = format!("citizen:{}", login.as_str());
        let throttle = &self.limits().login;
        throttle.check(&key, client).map_err(too_many)?;
        let c = repo::by_login(self.db(), login.as_str()).await?;
        let p = password.to_string();
        let stored = c.as_ref().map(|c| c.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || match stored {
            Some(h) => crate::auth::password::verify(&p, &h),
            None => {
                crate::auth::password::dummy_verify(&p);
                false
            }
        })
        .await?;
        let Some(c) = c.filter(|_| ok) else {
            throttle.failed(&key, client);
            return Err(wrong());
        };
        throttle.succeeded(&key, client);
        if !c.verified {
            return Err(ServiceError::Forbidden(msg!("citizen.not_verified")));
        }
        let secret = new_secret();
        let now = self.now();
        let mut tx = self.db().begin().await?;
        repo::create_session(
            &mut tx,
            &secret_hash(&secret),
            c.id,
            &new_secret(),
            now,
            now + Duration::hours(SESSION_HOURS),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Sends a reset code if the account exists; answers the same either way.
    pub async fn request_reset(&self, login: &str) -> ServiceResult<()> {
        let Ok(login) = Login::parse(login) else {
            return Ok(());
        };
        self.limits()
            .codes_per_login
            .hit(login.as_str())
            .map_err(too_many)?;
        if let Some(c) = repo::by_login(self.db(), login.as_str()).await? {
            let now = self.now();
            let mut tx = self.db().begin().await?;
            self.send_code(&mut tx, c.id, &login, CodePurpose::Reset, now)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Sets a new password with a reset code (and verifies the account: the code proves it).
    pub async fn reset_password(&self, login: &str, code: &str, password: &str) -> ServiceResult<()> {
        let password = Password::parse(password).map_err(|e| ServiceError::invalid("password", e))?;
        let login = Login::parse(login).map_err(|e| ServiceError::invalid("login", e))?;
        let c = repo::by_login(self.db(), login.as_str())
            .await?
            .ok_or_else(wrong_code)?;
        self.check_code(c.id, CodePurpose::Reset, code).await?;
        let hash = hash(&password).await?;
        let mut tx = self.db().begin().await?;
        repo::set_password(&mut tx, c.id, &hash).await?;
        repo::mark_verified(&mut tx, c.id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The citizen of a live session, and the session's CSRF token.
    pub async fn citizen_of_session(&self, secret: &str) -> ServiceResult<Option<(Citizen, String)>> {
        let Some((id, csrf)) = repo::session(self.db(), &secret_hash(secret), self.now()).await? else {
            return Ok(None);
        };
        Ok(repo::by_id(self.db(), id).await?.map(|c| (c, csrf)))
    }

    /// A citizen's own dossiers, newest first.
    pub async fn dossiers_of_citizen(&self, citizen_id: i64) -> ServiceResult<Vec<OwnedDossier>> {
        Ok(repo::dossiers_of(self.db(), citizen_id).await?)
    }

    /// A citizen's electronic data store: the results issued to them and the documents they
    /// handed in, newest first, each file once.
    pub async fn data_store(&self, citizen_id: i64) -> ServiceResult<Vec<repo::StoredFile>> {
        Ok(repo::data_store(self.db(), citizen_id).await?)
    }

    /// Files a citizen handed in or was issued before, offered for reuse: (sha256, what).
    pub async fn reusable_files(&self, citizen_id: i64) -> ServiceResult<Vec<(String, String)>> {
        Ok(self
            .data_store(citizen_id)
            .await?
            .into_iter()
            .map(|f| {
                let what = match f.is_result {
                    true => format!("Kết quả: {} (hồ sơ {})", f.name, f.dossier),
                    false => format!("{} (hồ sơ {})", f.name, f.dossier),
                };
                (f.sha256, what)
            })
            .collect())
    }

    /// A file of the citizen's own data store, and its bytes; not found for any other.
    pub async fn own_stored_file(&self, citizen_id: i64, sha256: &str) -> ServiceResult<(FileMeta, Vec<u8>)> {
        let missing = || ServiceError::NotFound(msg!("store.not_found"));
        let own = self.data_store(citizen_id).await?;
        let entry = own.iter().find(|f| f.sha256 == sha256).ok_or_else(missing)?;
        let (mut meta, bytes) = self.file(&entry.sha256).await?.ok_or_else(missing)?;
        if entry.is_result {
            meta.filename = format!("ket-qua-{}", meta.filename);
        }
        Ok((meta, bytes))
    }

    /// What the page after an online submission shows: nothing personal, and the fee to pay
    /// only to the dossier's owner or to a guest holding the payment's reference (a
    /// capability given at submission).
    pub async fn submitted(
        &self,
        key: &str,
        reference: &str,
        citizen_id: Option<i64>,
    ) -> ServiceResult<Submitted> {
        let d = dossiers::find(self.db(), key)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("dossier.not_found")))?;
        let owner = repo::owner_of(self.db(), d.id).await?;
        let is_owner = owner.is_some() && owner == citizen_id;
        let payments = repo::payments_of(self.db(), d.id).await?;
        let pays = |p: &Payment| {
            !reference.is_empty() && constant_time_eq(p.reference.as_bytes(), reference.as_bytes())
        };
        let holds_receipt = !is_owner
            && !reference.is_empty()
            && repo::receipt_of(self.db(), d.id)
                .await?
                .is_some_and(|h| constant_time_eq(h.as_bytes(), secret_hash(reference).as_bytes()));
        // Only its owner, or whoever holds its receipt or payment reference, sees it.
        if !(is_owner || holds_receipt || payments.iter().any(pays)) {
            return Err(ServiceError::NotFound(msg!("dossier.not_found")));
        }
        let payment = payments.into_iter().next();
        let delivery = self.delivery_of(d.id).await?.map(|(m, _)| m);
        Ok(Submitted {
            key: d.key(),
            procedure_name: d.procedure_name,
            accept_due_at: d.accept_due_at,
            payment,
            delivery,
        })
    }

    /// Marks a pending payment paid (the sandbox provider's confirmation).
    pub async fn pay(&self, reference: &str) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        let paid = repo::mark_paid(&mut tx, reference, self.now()).await?;
        tx.commit().await?;
        if paid {
            Ok(())
        } else {
            Err(ServiceError::Conflict(msg!("payment.none")))
        }
    }

    /// A dossier of this citizen's; not found for anyone else's.
    pub async fn own_dossier(&self, citizen_id: i64, key: &str) -> ServiceResult<OwnDossier> {
        let not_found = || ServiceError::NotFound(msg!("dossier.not_found"));
        let d = dossiers::find(self.db(), key).await?.ok_or_else(not_found)?;
        if repo::owner_of(self.db(), d.id).await? != Some(citizen_id) {
            return Err(not_found());
        }
        let steps = steps::steps(self.db(), d.id)
            .await?
            .into_iter()
            .filter(|s| s.started_at.is_some())
            .collect();
        let missing = if d.status == Status::AwaitingSupplement {
            events::events(self.db(), d.id)
                .await?
                .into_iter()
                .rev()
                .find(|e| e.action == "request_supplement")
                .map(|e| e.note)
        } else {
            None
        };
        let rating = repo::rating(self.db(), d.id).await?.map(|(_, s)| s);
        let components = motcua_store::repo::components::components(self.db(), d.id).await?;
        let payment = repo::payments_of(self.db(), d.id).await?.into_iter().next();
        let delivery = self.delivery_of(d.id).await?;
        let notify = motcua_store::repo::drafts::channels_of_dossier(self.db(), d.id)
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or_default();
        Ok(OwnDossier {
            dossier: d,
            steps,
            missing,
            rating,
            components,
            payment,
            delivery,
            notify,
        })
    }

    /// The electronic result of a citizen's own finished dossier, and its bytes.
    pub async fn own_result(&self, citizen_id: i64, key: &str) -> ServiceResult<(FileMeta, Vec<u8>)> {
        let d = self.own_dossier(citizen_id, key).await?.dossier;
        let ready = matches!(d.status, Status::Resolved | Status::Returned);
        d.result_file
            .filter(|_| ready)
            .map(|sha| async move { self.file(&sha).await })
            .ok_or_else(|| ServiceError::NotFound(msg!("dossier.no_result")))?
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("dossier.no_result")))
    }

    /// The citizen rates their own finished dossier, once: the three questions (each 0, 1
    /// or 2, keys of [`QUESTIONS`]) and their satisfaction.
    pub async fn rate_dossier(
        &self,
        citizen_id: i64,
        key: &str,
        answers: &[(String, u8)],
        satisfaction: &str,
    ) -> ServiceResult<()> {
        let d = self.own_dossier(citizen_id, key).await?.dossier;
        let finished = matches!(
            d.status,
            Status::Resolved | Status::Returned | Status::Withdrawn | Status::Stopped
        );
        if !finished {
            return Err(ServiceError::Conflict(msg!("dossier.rate_finished")));
        }
        let mut json = serde_json::Map::new();
        for q in QUESTIONS {
            match answers.iter().find(|(k, v)| k == q && *v <= 2) {
                Some((_, v)) => json.insert(q.to_string(), (*v).into()),
                None => return Err(ServiceError::invalid(q, msg!("dossier.answer_all"))),
            };
        }
        let Ok(satisfaction) = satisfaction.parse::<Satisfaction>() else {
            return Err(ServiceError::invalid(
                "satisfaction",
                msg!("dossier.choose_satisfaction"),
            ));
        };
        let mut tx = self.db().begin().await?;
        match repo::rate(
            &mut tx,
            d.id,
            Some(citizen_id),
            &serde_json::Value::Object(json).to_string(),
            satisfaction,
            self.now(),
        )
        .await
        {
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(msg!("dossier.already_rated"))),
            other => {
                other?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Ends a citizen's session.
    pub async fn end_citizen_session(&self, secret: &str) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        repo::delete_session(&mut tx, &secret_hash(secret)).await?;
        tx.commit().await?;
        Ok(())
    }
}
