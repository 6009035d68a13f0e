//! The payment port (DOMAIN.md §9: fees go through the national payment platform by an
//! adapter). A provider says who it is and where the citizen goes to pay; confirmation comes
//! back through the provider's callback. The built-in provider is a sandbox that pays at once
//! when the citizen presses its button, and says so on every page that shows it; the
//! national payment platform is `gateway::Gateway` (a redirect and a signed notification).
//! Here: starting a payment, the gateway's callbacks, the fee receipt, the daily
//! reconciliation. Only a verified notification marks a fee paid through the gateway.

pub mod gateway;

use crate::auth::{CurrentUser, constant_time_eq, secret_hash};
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, Utc};
use gateway::{AttemptState, Gateway, Outcome};
use motcua_domain::dossier::{Dossier, PaymentStatus};
use motcua_domain::msg;
use motcua_store::repo::payments as repo;
use motcua_store::repo::{citizens, dossiers};
use rand::Rng;

pub use repo::{Attempt, Callback, PaymentRecord};

/// A payment provider.
pub trait PaymentProvider: Send + Sync {
    /// Stored in `payments.provider`.
    fn id(&self) -> &'static str;
    /// Whether no real money moves (pages must say so).
    fn is_sandbox(&self) -> bool;
    /// Where the citizen confirms a payment: a local form for the sandbox, the platform's
    /// checkout for a real provider.
    fn checkout_path(&self, reference: &str) -> String;
    /// The gateway the citizen is sent to, if payment is not confirmed at once.
    fn gateway(&self) -> Option<&Gateway> {
        None
    }
}

/// The built-in sandbox: confirmation is the citizen pressing "pay" on our own page.
pub struct Sandbox;

impl PaymentProvider for Sandbox {
    fn id(&self) -> &'static str {
        "sandbox"
    }
    fn is_sandbox(&self) -> bool {
        true
    }
    fn checkout_path(&self, reference: &str) -> String {
        format!("/cong-dan/thanh-toan/{reference}")
    }
}

/// What pressing "pay" led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    /// Paid at once (the sandbox).
    Paid,
    /// An attempt was made: the citizen goes on to the gateway with this order id.
    Gateway { order_id: String },
}

/// An attempt on its way to the gateway: what the page before the redirect shows.
#[derive(Debug, Clone)]
pub struct CheckoutView {
    pub attempt: Attempt,
    /// The gateway's checkout with the signed request.
    pub url: String,
}

/// Where a payment stands when the citizen comes back from the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnState {
    /// The gateway's notification was verified: paid.
    Paid,
    /// The gateway says it did not go through: the fee is still owed.
    Failed,
    /// The gateway says it went through, but its notification has not arrived yet.
    Pending,
    /// The gateway says it went through, but its notification was refused (amount not the
    /// fee, late, the fee paid twice): the money is the reconciliation's to settle.
    Disputed,
}

/// The citizen back from the gateway.
#[derive(Debug, Clone)]
pub struct Returned {
    pub state: ReturnState,
    pub payment: PaymentRecord,
    pub attempt: Attempt,
    /// The gateway's result code as it said it.
    pub result: String,
}

/// The receipt of a paid fee ("Biên lai thu phí, lệ phí").
#[derive(Debug, Clone)]
pub struct FeeReceipt {
    pub dossier: Dossier,
    pub payment: PaymentRecord,
    /// The procedure's fees: (name, amount in đồng if fixed).
    pub fees: Vec<(String, Option<u64>)>,
    /// The order id of the attempt that paid it ('' for the sandbox).
    pub order_id: String,
    /// The receiving agency's parent, as form headers print it.
    pub parent_agency: String,
}

/// One line of a reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconLine {
    /// `paid`, `pending` or `mismatched`.
    pub kind: &'static str,
    pub dossier: String,
    pub order_id: String,
    pub amount_vnd: Option<i64>,
    pub transaction_id: String,
    /// When it was paid, made, or told (by kind).
    pub at: DateTime<Utc>,
    pub provider: String,
    /// Why it is pending or mismatched.
    pub note: String,
}

/// The payments of one legal day (Asia/Ho_Chi_Minh).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub day: NaiveDate,
    pub lines: Vec<ReconLine>,
    /// Callbacks refused that moved no money (forged, malformed, replayed): how many of each.
    pub refused: Vec<(&'static str, usize)>,
}

impl Reconciliation {
    pub fn count(&self, kind: &str) -> usize {
        self.lines.iter().filter(|l| l.kind == kind).count()
    }
    pub fn total(&self, kind: &str) -> i64 {
        self.lines
            .iter()
            .filter(|l| l.kind == kind)
            .filter_map(|l| l.amount_vnd)
            .sum()
    }
}

fn no_gateway() -> ServiceError {
    ServiceError::NotFound(msg!("payment.no_gateway"))
}

/// A new order id: unique per attempt, 20 characters the gateways accept (`MC`, the legal
/// date and time, random letters and digits).
fn new_order_id(now: DateTime<Utc>) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("MC{}{tail}", &gateway::stamp(now)[2..])
}

impl Services {
    /// The citizen pressed "pay": the sandbox pays at once; the gateway gets a new attempt
    /// (its own order id, expiring), to which the citizen is sent.
    pub async fn start_payment(&self, reference: &str) -> ServiceResult<Checkout> {
        let Some(g) = self.payments().gateway() else {
            self.pay(reference).await?;
            return Ok(Checkout::Paid);
        };
        let payment = repo::by_reference(self.db(), reference)
            .await?
            .filter(|p| p.status == PaymentStatus::Pending)
            .ok_or_else(|| ServiceError::Conflict(msg!("payment.none")))?;
        // Whole seconds: the gateway's instants have none.
        let now = self.now().trunc_subsecs(0);
        let order_id = new_order_id(now);
        let mut tx = self.db().begin().await?;
        repo::add_attempt(
            &mut tx,
            payment.id,
            self.payments().id(),
            &order_id,
            payment.amount_vnd,
            now,
            now + g.expiry,
        )
        .await?;
        tx.commit().await?;
        Ok(Checkout::Gateway { order_id })
    }

    /// An attempt still to be paid, and the gateway's address for it.
    pub async fn checkout(&self, order_id: &str) -> ServiceResult<CheckoutView> {
        let g = self.payments().gateway().ok_or_else(no_gateway)?;
        let attempt = repo::attempt(self.db(), order_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("payment.no_order")))?;
        if attempt.status != PaymentStatus::Pending {
            return Err(ServiceError::Conflict(msg!("payment.none")));
        }
        if self.now() > attempt.expires_at {
            return Err(ServiceError::Conflict(msg!("payment.expired")));
        }
        let fields = g.request(
            &attempt.order_id,
            attempt.amount_vnd,
            &attempt.dossier_key,
            attempt.created_at,
            attempt.expires_at,
        );
        Ok(CheckoutView {
            url: g.redirect_url(&fields),
            attempt,
        })
    }

    /// The gateway's notification (server to server): verified, decided, logged. The outcome
    /// is the answer; refusals are answers too, never errors. Only a verified notification
    /// of a pending attempt, for the fee, in time, marks the fee paid, once.
    pub async fn payment_notified(&self, fields: &[(String, String)]) -> ServiceResult<Outcome> {
        let g = self.payments().gateway().ok_or_else(no_gateway)?;
        let now = self.now();
        let cb = match g.verify(fields) {
            Ok(cb) => cb,
            Err((outcome, detail)) => {
                self.log_refused("notify", fields, outcome, &detail, now).await?;
                return Ok(outcome);
            }
        };
        // A lost race (the same notification twice at once, or two attempts paid at once)
        // is decided again on what the winner wrote.
        for _ in 0..3 {
            let mut tx = self.db().begin().await?;
            let attempt = repo::attempt_in(&mut tx, &cb.order_id).await?;
            let state = match &attempt {
                Some(a) => Some(AttemptState {
                    status: a.status,
                    amount_vnd: a.amount_vnd,
                    expires_at: a.expires_at,
                    payment_paid: repo::payment_status_in(&mut tx, a.payment_id).await?
                        == Some(PaymentStatus::Paid),
                }),
                None => None,
            };
            let (outcome, detail) = gateway::decide(&cb, state, now, g.late_after);
            let settled = match (outcome, &attempt) {
                (Outcome::Accepted, Some(a)) => {
                    repo::settle_attempt(&mut tx, a.id, PaymentStatus::Paid, &cb.transaction_id, now).await?
                        && repo::mark_paid_by_gateway(&mut tx, a.payment_id, cb.paid_at, &cb.transaction_id)
                            .await?
                }
                (Outcome::Failed, Some(a)) => {
                    repo::settle_attempt(&mut tx, a.id, PaymentStatus::Failed, &cb.transaction_id, now)
                        .await?
                }
                _ => true,
            };
            if !settled {
                // Rolled back as it is dropped.
                continue;
            }
            repo::log_callback(
                &mut tx,
                &callback_row("notify", fields, &cb, outcome, &detail, now),
            )
            .await?;
            tx.commit().await?;
            if outcome.refused() {
                tracing::warn!(order_id = %cb.order_id, outcome = outcome.as_str(), %detail, "payment notification refused");
            } else {
                tracing::info!(order_id = %cb.order_id, outcome = outcome.as_str(), "payment notification");
            }
            return Ok(outcome);
        }
        Err(ServiceError::Conflict(msg!("payment.busy")))
    }

    /// Logs a callback that did not verify.
    async fn log_refused(
        &self,
        channel: &str,
        fields: &[(String, String)],
        outcome: Outcome,
        detail: &str,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let claimed = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.chars().take(64).collect::<String>())
                .unwrap_or_default()
        };
        let row = Callback {
            id: 0,
            received_at: now,
            channel: channel.into(),
            order_id: claimed("order_id"),
            amount_vnd: claimed("amount").parse().ok(),
            transaction_id: claimed("transaction_id"),
            result: claimed("result"),
            outcome: outcome.as_str().into(),
            detail: detail.into(),
            fields: fields_json(fields),
        };
        let mut tx = self.db().begin().await?;
        repo::log_callback(&mut tx, &row).await?;
        tx.commit().await?;
        tracing::warn!(channel, order_id = %row.order_id, outcome = outcome.as_str(), detail, "payment callback refused");
        Ok(())
    }

    /// The citizen's browser back from the gateway: verified (a forged or unreadable one is
    /// logged and refused), then said as motcua's own records stand. It settles nothing:
    /// only the notification does.
    pub async fn payment_returned(&self, fields: &[(String, String)]) -> ServiceResult<Returned> {
        let g = self.payments().gateway().ok_or_else(no_gateway)?;
        let now = self.now();
        let cb = match g.verify(fields) {
            Ok(cb) => cb,
            Err((outcome, detail)) => {
                self.log_refused("return", fields, outcome, &detail, now).await?;
                return Err(ServiceError::BadRequest(msg!("payment.bad_return")));
            }
        };
        let Some(attempt) = repo::attempt(self.db(), &cb.order_id).await? else {
            self.log_refused(
                "return",
                fields,
                Outcome::UnknownOrder,
                &format!("no attempt has order id {}", cb.order_id),
                now,
            )
            .await?;
            return Err(ServiceError::NotFound(msg!("payment.no_order")));
        };
        let payment = repo::by_id(self.db(), attempt.payment_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("payment.no_order")))?;
        let state = match attempt.status {
            PaymentStatus::Paid => ReturnState::Paid,
            PaymentStatus::Failed => ReturnState::Failed,
            PaymentStatus::Pending if cb.result != gateway::PAID => ReturnState::Failed,
            PaymentStatus::Pending => {
                let disputed = repo::callbacks_of_order(self.db(), &attempt.order_id)
                    .await?
                    .iter()
                    .filter(|c| c.channel == "notify")
                    .filter_map(|c| Outcome::parse(&c.outcome))
                    .any(Outcome::money_unbooked);
                if disputed {
                    ReturnState::Disputed
                } else {
                    ReturnState::Pending
                }
            }
        };
        Ok(Returned {
            state,
            payment,
            attempt,
            result: cb.result,
        })
    }

    /// The fee of a dossier and where its payment stands (the officer's dossier page).
    pub async fn payment_of_dossier(&self, dossier_id: i64) -> ServiceResult<Option<PaymentRecord>> {
        Ok(repo::of_dossier(self.db(), dossier_id).await?)
    }

    /// The receipt of a dossier's paid fee, for its owner signed in or whoever holds the
    /// payment's reference (a guest who paid); not found for anyone else, or while unpaid.
    pub async fn fee_receipt(
        &self,
        key: &str,
        reference: &str,
        citizen_id: Option<i64>,
    ) -> ServiceResult<FeeReceipt> {
        let not_found = || ServiceError::NotFound(msg!("payment.no_receipt"));
        let d = dossiers::find(self.db(), key).await?.ok_or_else(not_found)?;
        let payment = repo::of_dossier(self.db(), d.id).await?.ok_or_else(not_found)?;
        let owner = citizens::owner_of(self.db(), d.id).await?;
        let is_owner = owner.is_some() && owner == citizen_id;
        let holds =
            !reference.is_empty() && constant_time_eq(payment.reference.as_bytes(), reference.as_bytes());
        // The submission's receipt secret opens it too, as it opens the confirmation page.
        let holds_receipt = !is_owner
            && !holds
            && !reference.is_empty()
            && citizens::receipt_of(self.db(), d.id)
                .await?
                .is_some_and(|h| constant_time_eq(h.as_bytes(), secret_hash(reference).as_bytes()));
        if !(is_owner || holds || holds_receipt) {
            return Err(not_found());
        }
        self.receipt_of(d, payment).await
    }

    /// The receipt of a dossier's paid fee, for an officer who may read the dossier.
    pub async fn fee_receipt_for_officer(&self, user: &CurrentUser, key: &str) -> ServiceResult<FeeReceipt> {
        let v = self.dossier(user, key).await?;
        let payment = repo::of_dossier(self.db(), v.dossier.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("payment.no_receipt")))?;
        self.receipt_of(v.dossier, payment).await
    }

    async fn receipt_of(&self, d: Dossier, payment: PaymentRecord) -> ServiceResult<FeeReceipt> {
        if payment.status != PaymentStatus::Paid {
            return Err(ServiceError::NotFound(msg!("payment.no_receipt")));
        }
        let fees = match self.procedure(&d.procedure_code, Some(d.procedure_version)).await {
            Ok(p) => p.spec.fees.into_iter().map(|f| (f.name, f.amount_vnd)).collect(),
            Err(ServiceError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let order_id = repo::paid_attempt(self.db(), payment.id)
            .await?
            .unwrap_or_default();
        let reference = self.reference().await?;
        let parent_agency = reference
            .agency(&d.agency_code)
            .and_then(|a| a.parent_code.as_deref())
            .and_then(|p| reference.agency(p))
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Ok(FeeReceipt {
            dossier: d,
            payment,
            fees,
            order_id,
            parent_agency,
        })
    }

    /// The reconciliation of one legal day: what was paid (by the instant the money moved),
    /// the attempts made that day and still unsettled, and the callbacks of that day in which
    /// the gateway says money moved that motcua did not book.
    pub async fn reconcile(&self, day: NaiveDate) -> ServiceResult<Reconciliation> {
        let from = motcua_domain::calendar::local_instant(day, NaiveTime::MIN);
        let next = day
            .succ_opt()
            .ok_or_else(|| ServiceError::BadRequest(msg!("date_range", day)))?;
        let to = motcua_domain::calendar::local_instant(next, NaiveTime::MIN);
        let now = self.now();
        let mut lines = Vec::new();
        for (p, order_id) in repo::paid_between(self.db(), from, to).await? {
            lines.push(ReconLine {
                kind: "paid",
                dossier: p.dossier_key,
                order_id,
                amount_vnd: Some(p.amount_vnd),
                transaction_id: p.transaction_id.unwrap_or_default(),
                at: p.paid_at.unwrap_or(p.created_at),
                provider: p.provider,
                note: String::new(),
            });
        }
        let callbacks = repo::callbacks_between(self.db(), from, to).await?;
        for a in repo::pending_attempts_between(self.db(), from, to).await? {
            let refused: Vec<&str> = callbacks
                .iter()
                .filter(|c| c.order_id == a.order_id && c.channel == "notify")
                .map(|c| c.outcome.as_str())
                .collect();
            let mut note = if now > a.expires_at {
                "expired unpaid".to_string()
            } else {
                "awaiting the gateway".to_string()
            };
            if !refused.is_empty() {
                note = format!("{note}; notifications refused: {}", refused.join(", "));
            }
            lines.push(ReconLine {
                kind: "pending",
                dossier: a.dossier_key,
                order_id: a.order_id,
                amount_vnd: Some(a.amount_vnd),
                transaction_id: String::new(),
                at: a.created_at,
                provider: self.payments().id().to_string(),
                note,
            });
        }
        let mut refused: Vec<(&'static str, usize)> = Vec::new();
        for c in &callbacks {
            let Some(outcome) = Outcome::parse(&c.outcome) else {
                continue;
            };
            if outcome.money_unbooked() && c.channel == "notify" && c.result == gateway::PAID {
                let dossier = match repo::attempt(self.db(), &c.order_id).await? {
                    Some(a) => a.dossier_key,
                    None => String::new(),
                };
                lines.push(ReconLine {
                    kind: "mismatched",
                    dossier,
                    order_id: c.order_id.clone(),
                    amount_vnd: c.amount_vnd,
                    transaction_id: c.transaction_id.clone(),
                    at: c.received_at,
                    provider: "gateway".into(),
                    note: format!("{}: {}", c.outcome, c.detail),
                });
            } else if outcome.refused() {
                match refused.iter_mut().find(|(o, _)| *o == outcome.as_str()) {
                    Some((_, n)) => *n += 1,
                    None => refused.push((outcome.as_str(), 1)),
                }
            }
        }
        Ok(Reconciliation { day, lines, refused })
    }

    /// `reconcile`, for an officer's page: administrators only (it spans every agency).
    pub async fn reconcile_for(&self, user: &CurrentUser, day: NaiveDate) -> ServiceResult<Reconciliation> {
        if !user.is_admin() {
            return Err(ServiceError::Forbidden(msg!("forbidden")));
        }
        self.reconcile(day).await
    }

    /// The callbacks logged about an order id, oldest first.
    pub async fn payment_callbacks(&self, order_id: &str) -> ServiceResult<Vec<Callback>> {
        Ok(repo::callbacks_of_order(self.db(), order_id).await?)
    }
}

fn fields_json(fields: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .take(32)
        .map(|(k, v)| {
            (
                k.chars().take(64).collect(),
                serde_json::Value::String(v.chars().take(2048).collect()),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn callback_row(
    channel: &str,
    fields: &[(String, String)],
    cb: &gateway::Callback,
    outcome: Outcome,
    detail: &str,
    now: DateTime<Utc>,
) -> Callback {
    Callback {
        id: 0,
        received_at: now,
        channel: channel.into(),
        order_id: cb.order_id.clone(),
        amount_vnd: Some(cb.amount_vnd),
        transaction_id: cb.transaction_id.clone(),
        result: cb.result.clone(),
        outcome: outcome.as_str().into(),
        detail: detail.into(),
        fields: fields_json(fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_says_it_is_one() {
        let p: &dyn PaymentProvider = &Sandbox;
        assert!(p.is_sandbox());
        assert_eq!(p.id(), "sandbox");
        assert_eq!(p.checkout_path("abc"), "/cong-dan/thanh-toan/abc");
        assert!(p.gateway().is_none());
    }

    #[test]
    fn order_ids_are_unique_per_attempt_and_say_when() {
        let now = gateway::parse_stamp("20260305143000").unwrap();
        let a = new_order_id(now);
        let b = new_order_id(now);
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(a.starts_with("MC260305143000"), "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
