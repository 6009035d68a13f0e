//! Payments through the national payment platform: a payment's attempts (one order id each),
//! the log of the gateway's callbacks, and what the daily reconciliation reads. Decides
//! nothing: which callback settles what is the service's (`motcua_service::payments`).

use super::Code;
use crate::{Db, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::PaymentStatus;

/// A payment of a dossier's fees, with what its receipt and the officer's page show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: i64,
    pub dossier_id: i64,
    /// The dossier's code, or `online-ID` before one is issued (its key in addresses).
    pub dossier_key: String,
    pub amount_vnd: i64,
    pub provider: String,
    pub reference: String,
    pub status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The gateway's transaction number, once a verified notification paid it.
    pub transaction_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    dossier_id: i64,
    code: Option<String>,
    amount_vnd: i64,
    provider: String,
    reference: String,
    status: Code<PaymentStatus>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    transaction_id: Option<String>,
}

fn key_of(code: Option<String>, dossier_id: i64) -> String {
    code.unwrap_or_else(|| format!("online-{dossier_id}"))
}

impl From<PaymentRow> for PaymentRecord {
    fn from(r: PaymentRow) -> PaymentRecord {
        PaymentRecord {
            dossier_key: key_of(r.code, r.dossier_id),
            id: r.id,
            dossier_id: r.dossier_id,
            amount_vnd: r.amount_vnd,
            provider: r.provider,
            reference: r.reference,
            status: r.status.0,
            created_at: r.created_at,
            paid_at: r.paid_at,
            transaction_id: r.transaction_id,
        }
    }
}

const PAYMENT_SELECT: &str =
    "SELECT p.id, p.dossier_id, d.code, p.amount_vnd, p.provider, p.reference, p.status,
        p.created_at, p.paid_at, p.transaction_id
    FROM payments p JOIN dossiers d ON d.id = p.dossier_id";

/// The payment a reference names.
pub async fn by_reference(db: &Db, reference: &str) -> StoreResult<Option<PaymentRecord>> {
    let sql = format!("{PAYMENT_SELECT} WHERE p.reference = $1");
    let row: Option<PaymentRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(reference).fetch_optional(pool).await?
    });
    Ok(row.map(PaymentRecord::from))
}

/// A payment by its id.
pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<PaymentRecord>> {
    let sql = format!("{PAYMENT_SELECT} WHERE p.id = $1");
    let row: Option<PaymentRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(PaymentRecord::from))
}

/// The order id of the attempt that paid a payment, if the gateway paid it.
pub async fn paid_attempt(db: &Db, payment_id: i64) -> StoreResult<Option<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT order_id FROM payment_attempts WHERE payment_id = $1 AND status = 'paid' ORDER BY id LIMIT 1")
            .bind(payment_id).fetch_optional(pool).await?
    }))
}

/// The payment of a dossier's fees (its first, the one made at submission), if it has one.
pub async fn of_dossier(db: &Db, dossier_id: i64) -> StoreResult<Option<PaymentRecord>> {
    let sql = format!("{PAYMENT_SELECT} WHERE p.dossier_id = $1 ORDER BY p.id LIMIT 1");
    let row: Option<PaymentRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(dossier_id).fetch_optional(pool).await?
    });
    Ok(row.map(PaymentRecord::from))
}

/// One redirect to the gateway, under an order id of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub payment_id: i64,
    pub order_id: String,
    pub amount_vnd: i64,
    pub status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    pub transaction_id: Option<String>,
    /// The dossier's key (its code, or `online-ID`).
    pub dossier_key: String,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    payment_id: i64,
    order_id: String,
    amount_vnd: i64,
    status: Code<PaymentStatus>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    settled_at: Option<DateTime<Utc>>,
    transaction_id: Option<String>,
    dossier_id: i64,
    code: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Attempt {
        Attempt {
            dossier_key: key_of(r.code, r.dossier_id),
            id: r.id,
            payment_id: r.payment_id,
            order_id: r.order_id,
            amount_vnd: r.amount_vnd,
            status: r.status.0,
            created_at: r.created_at,
            expires_at: r.expires_at,
            settled_at: r.settled_at,
            transaction_id: r.transaction_id,
        }
    }
}

const ATTEMPT_SELECT: &str =
    "SELECT a.id, a.payment_id, a.order_id, a.amount_vnd, a.status, a.created_at, a.expires_at,
        a.settled_at, a.transaction_id, p.dossier_id, d.code
    FROM payment_attempts a JOIN payments p ON p.id = a.payment_id JOIN dossiers d ON d.id = p.dossier_id";

/// Records an attempt (pending), and that the payment now goes through `provider`.
pub async fn add_attempt(
    tx: &mut Tx,
    payment_id: i64,
    provider: &str,
    order_id: &str,
    amount_vnd: i64,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO payment_attempts (payment_id, order_id, amount_vnd, status, created_at, expires_at)
             VALUES ($1, $2, $3, 'pending', $4, $5)",
        )
        .bind(payment_id).bind(order_id).bind(amount_vnd).bind(created_at).bind(expires_at)
        .execute(&mut *c).await?;
        sqlx::query("UPDATE payments SET provider = $1 WHERE id = $2 AND status = 'pending'")
            .bind(provider).bind(payment_id).execute(c).await?;
    });
    Ok(())
}

/// The attempt of an order id, read in a write transaction.
pub async fn attempt_in(tx: &mut Tx, order_id: &str) -> StoreResult<Option<Attempt>> {
    let sql = format!("{ATTEMPT_SELECT} WHERE a.order_id = $1");
    let row: Option<AttemptRow> = on_tx!(tx, c => {
        sqlx::query_as(&sql).bind(order_id).fetch_optional(c).await?
    });
    Ok(row.map(Attempt::from))
}

/// The attempt of an order id.
pub async fn attempt(db: &Db, order_id: &str) -> StoreResult<Option<Attempt>> {
    let sql = format!("{ATTEMPT_SELECT} WHERE a.order_id = $1");
    let row: Option<AttemptRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(order_id).fetch_optional(pool).await?
    });
    Ok(row.map(Attempt::from))
}

/// The status of a payment, read in a write transaction.
pub async fn payment_status_in(tx: &mut Tx, payment_id: i64) -> StoreResult<Option<PaymentStatus>> {
    let status: Option<Code<PaymentStatus>> = on_tx!(tx, c => {
        sqlx::query_scalar("SELECT status FROM payments WHERE id = $1").bind(payment_id).fetch_optional(c).await?
    });
    Ok(status.map(|s| s.0))
}

/// Settles a pending attempt (`paid` or `failed`); false when it was no longer pending
/// (another callback settled it meanwhile).
pub async fn settle_attempt(
    tx: &mut Tx,
    attempt_id: i64,
    status: PaymentStatus,
    transaction_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(on_tx!(tx, c => {
        sqlx::query(
            "UPDATE payment_attempts SET status = $1, transaction_id = $2, settled_at = $3
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(status.as_str()).bind(transaction_id).bind(now).bind(attempt_id)
        .execute(c).await?.rows_affected() == 1
    }))
}

/// Marks a pending payment paid by the gateway; false when it was not pending (paid already
/// through another attempt).
pub async fn mark_paid_by_gateway(
    tx: &mut Tx,
    payment_id: i64,
    paid_at: DateTime<Utc>,
    transaction_id: &str,
) -> StoreResult<bool> {
    Ok(on_tx!(tx, c => {
        sqlx::query(
            "UPDATE payments SET status = 'paid', paid_at = $1, transaction_id = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(paid_at).bind(transaction_id).bind(payment_id)
        .execute(c).await?.rows_affected() == 1
    }))
}

/// A callback as it is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// `notify` or `return`.
    pub channel: String,
    pub order_id: String,
    pub amount_vnd: Option<i64>,
    pub transaction_id: String,
    /// The gateway's result code as claimed (`00`: paid).
    pub result: String,
    /// What was decided: `accepted`, `failed`, `replayed`, `forged`, `malformed`,
    /// `unknown_order`, `amount_mismatch`, `late`, `double_payment`.
    pub outcome: String,
    pub detail: String,
    /// The fields as received (a JSON object).
    pub fields: String,
}

#[derive(sqlx::FromRow)]
struct CallbackRow {
    id: i64,
    received_at: DateTime<Utc>,
    channel: String,
    order_id: String,
    amount_vnd: Option<i64>,
    transaction_id: String,
    result: String,
    outcome: String,
    detail: String,
    fields: String,
}

impl From<CallbackRow> for Callback {
    fn from(r: CallbackRow) -> Callback {
        Callback {
            id: r.id,
            received_at: r.received_at,
            channel: r.channel,
            order_id: r.order_id,
            amount_vnd: r.amount_vnd,
            transaction_id: r.transaction_id,
            result: r.result,
            outcome: r.outcome,
            detail: r.detail,
            fields: r.fields,
        }
    }
}

/// Logs a callback (`id` is ignored).
pub async fn log_callback(tx: &mut Tx, cb: &Callback) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO payment_callbacks (received_at, channel, order_id, amount_vnd, transaction_id, result, outcome, detail, fields)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(cb.received_at).bind(&cb.channel).bind(&cb.order_id).bind(cb.amount_vnd).bind(&cb.transaction_id)
        .bind(&cb.result).bind(&cb.outcome).bind(&cb.detail).bind(&cb.fields)
        .execute(c).await?;
    });
    Ok(())
}

const CALLBACK_SELECT: &str =
    "SELECT id, received_at, channel, order_id, amount_vnd, transaction_id, result, outcome, detail, fields
    FROM payment_callbacks";

/// The callbacks received in `[from, to)`, oldest first.
pub async fn callbacks_between(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<Callback>> {
    let sql = format!("{CALLBACK_SELECT} WHERE received_at >= $1 AND received_at < $2 ORDER BY id");
    let rows: Vec<CallbackRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(from).bind(to).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Callback::from).collect())
}

/// The callbacks about an order id, oldest first.
pub async fn callbacks_of_order(db: &Db, order_id: &str) -> StoreResult<Vec<Callback>> {
    let sql = format!("{CALLBACK_SELECT} WHERE order_id = $1 ORDER BY id");
    let rows: Vec<CallbackRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(order_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Callback::from).collect())
}

/// The payments paid in `[from, to)` (by the instant the money moved), with the order id of
/// the attempt that paid them ('' for the sandbox's), oldest first.
pub async fn paid_between(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<(PaymentRecord, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        payment: PaymentRow,
        order_id: Option<String>,
    }
    let sql = "SELECT p.id, p.dossier_id, d.code, p.amount_vnd, p.provider, p.reference, p.status,
            p.created_at, p.paid_at, p.transaction_id,
            (SELECT a.order_id FROM payment_attempts a WHERE a.payment_id = p.id AND a.status = 'paid' ORDER BY a.id LIMIT 1) AS order_id
        FROM payments p JOIN dossiers d ON d.id = p.dossier_id
        WHERE p.status = 'paid' AND p.paid_at >= $1 AND p.paid_at < $2 ORDER BY p.paid_at, p.id";
    let rows: Vec<Row> = on_read!(db, pool => {
        sqlx::query_as(sql).bind(from).bind(to).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|r| (PaymentRecord::from(r.payment), r.order_id.unwrap_or_default()))
        .collect())
}

/// The attempts made in `[from, to)` that no verified notification has settled, oldest first.
pub async fn pending_attempts_between(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<Attempt>> {
    let sql = format!(
        "{ATTEMPT_SELECT} WHERE a.status = 'pending' AND a.created_at >= $1 AND a.created_at < $2 ORDER BY a.id"
    );
    let rows: Vec<AttemptRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(from).bind(to).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Attempt::from).collect())
}
