//! Citizens' accounts, one-time codes (hashed), sessions, owned dossiers and ratings.

use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{PaymentStatus, Status};
use motcua_domain::evaluation::Satisfaction;
use motcua_domain::identity::{CodePurpose, LoginKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: i64,
    pub login: String,
    pub login_kind: LoginKind,
    pub full_name: String,
    pub password_hash: String,
    pub verified: bool,
}

/// A citizen as their row reads (`CITIZEN_SELECT`).
#[derive(sqlx::FromRow)]
struct CitizenRow {
    id: i64,
    login: String,
    login_kind: Code<LoginKind>,
    full_name: String,
    password_hash: String,
    verified_at: Option<DateTime<Utc>>,
}

impl From<CitizenRow> for Citizen {
    fn from(r: CitizenRow) -> Citizen {
        let (login_kind, verified) = (r.login_kind.0, r.verified_at.is_some());
        record_from!(r => Citizen { id, login, full_name, password_hash; login_kind, verified })
    }
}

const CITIZEN_SELECT: &str =
    "SELECT id, login, login_kind, full_name, password_hash, verified_at FROM citizens";

pub async fn by_login(db: &Db, login: &str) -> StoreResult<Option<Citizen>> {
    let sql = format!("{CITIZEN_SELECT} WHERE login = $1");
    let row: Option<CitizenRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(login).fetch_optional(pool).await?
    });
    Ok(row.map(Citizen::from))
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Citizen>> {
    let sql = format!("{CITIZEN_SELECT} WHERE id = $1");
    let row: Option<CitizenRow> = on_read!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(Citizen::from))
}

/// Creates an unverified account, or refreshes the name and password of an unverified one.
pub async fn upsert_unverified(
    tx: &mut Tx,
    login: &str,
    kind: LoginKind,
    full_name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id: Option<i64> = on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO citizens (login, login_kind, full_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (login) DO UPDATE SET full_name = excluded.full_name, password_hash = excluded.password_hash
               WHERE citizens.verified_at IS NULL
             RETURNING id",
        )
        .bind(login).bind(kind.as_str()).bind(full_name).bind(password_hash).bind(now)
        .fetch_optional(c)
        .await?
    });
    id.ok_or_else(|| StoreError::Conflict("this phone number or e-mail already has an account".into()))
}

pub async fn mark_verified(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE citizens SET verified_at = COALESCE(verified_at, $1) WHERE id = $2").bind(now).bind(id).execute(c).await?;
    });
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: i64, hash: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE citizens SET password_hash = $1 WHERE id = $2").bind(hash).bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM citizen_sessions WHERE citizen_id = $1").bind(id).execute(c).await?;
    });
    Ok(())
}

/// Stores a new one-time code (its hash), voiding earlier unused ones of the same purpose.
pub async fn new_code(
    tx: &mut Tx,
    citizen_id: i64,
    purpose: CodePurpose,
    code_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE citizen_codes SET used_at = $1 WHERE citizen_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now).bind(citizen_id).bind(purpose.as_str()).execute(&mut *c).await?;
        sqlx::query("INSERT INTO citizen_codes (citizen_id, purpose, code_hash, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(citizen_id).bind(purpose.as_str()).bind(code_hash).bind(expires_at).execute(c).await?;
    });
    Ok(())
}

/// The live code of a purpose: (id, hash, expires_at, attempts).
pub async fn live_code(
    tx: &mut Tx,
    citizen_id: i64,
    purpose: CodePurpose,
) -> StoreResult<Option<(i64, String, DateTime<Utc>, i64)>> {
    Ok(on_tx!(tx, c => {
        sqlx::query_as("SELECT id, code_hash, expires_at, attempts FROM citizen_codes WHERE citizen_id = $1 AND purpose = $2 AND used_at IS NULL ORDER BY id DESC LIMIT 1")
            .bind(citizen_id).bind(purpose.as_str()).fetch_optional(c).await?
    }))
}

pub async fn code_attempt(tx: &mut Tx, code_id: i64, used: bool, now: DateTime<Utc>) -> StoreResult<()> {
    on_tx!(tx, c => {
        if used {
            sqlx::query("UPDATE citizen_codes SET used_at = $1, attempts = attempts + 1 WHERE id = $2").bind(now).bind(code_id).execute(c).await?;
        } else {
            sqlx::query("UPDATE citizen_codes SET attempts = attempts + 1 WHERE id = $1").bind(code_id).execute(c).await?;
        }
    });
    Ok(())
}

pub async fn create_session(
    tx: &mut Tx,
    token_hash: &str,
    citizen_id: i64,
    csrf: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO citizen_sessions (token_hash, citizen_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(citizen_id).bind(csrf).bind(now).bind(expires_at).execute(c).await?;
    });
    Ok(())
}

/// (citizen id, csrf token) of a live session.
pub async fn session(db: &Db, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(i64, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT citizen_id, csrf_token FROM citizen_sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash).bind(now).fetch_optional(pool).await?
    }))
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM citizen_sessions WHERE token_hash = $1").bind(token_hash).execute(c).await?;
    });
    Ok(())
}

/// Links a dossier to the citizen who submitted it.
pub async fn own_dossier(tx: &mut Tx, dossier_id: i64, citizen_id: i64) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("UPDATE dossiers SET citizen_id = $1 WHERE id = $2").bind(citizen_id).bind(dossier_id).execute(c).await?;
    });
    Ok(())
}

/// One of a citizen's dossiers, for their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedDossier {
    pub key: String,
    pub procedure_name: String,
    pub status: Status,
    pub submitted: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// One of a citizen's dossiers as its row reads.
#[derive(sqlx::FromRow)]
struct OwnedRow {
    id: i64,
    code: Option<String>,
    procedure_name: String,
    status: Code<Status>,
    submitted: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
}

impl From<OwnedRow> for OwnedDossier {
    fn from(r: OwnedRow) -> OwnedDossier {
        let key = r.code.clone().unwrap_or_else(|| format!("online-{}", r.id));
        let status = r.status.0;
        record_from!(r => OwnedDossier { procedure_name, submitted, due_at; key, status })
    }
}

/// A citizen's dossiers, newest first.
pub async fn dossiers_of(db: &Db, citizen_id: i64) -> StoreResult<Vec<OwnedDossier>> {
    let rows: Vec<OwnedRow> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT d.id, d.code, p.name AS procedure_name, d.status, COALESCE(d.submitted_at, d.received_at) AS submitted,
               d.due_at
             FROM dossiers d JOIN procedures p ON p.id = d.procedure_id WHERE d.citizen_id = $1 ORDER BY d.id DESC",
        )
        .bind(citizen_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(OwnedDossier::from).collect())
}

/// Stores a rating once per dossier; Conflict when already rated.
pub async fn rate(
    tx: &mut Tx,
    dossier_id: i64,
    citizen_id: Option<i64>,
    answers: &str,
    satisfaction: Satisfaction,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = on_tx!(tx, c => {
        sqlx::query("INSERT INTO ratings (dossier_id, citizen_id, answers, satisfaction, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(dossier_id).bind(citizen_id).bind(answers).bind(satisfaction.as_str()).bind(now).execute(c).await.map(|_| ())
    });
    match res {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::Conflict("this dossier was already rated".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The rating of a dossier: (answers JSON, satisfaction).
pub async fn rating(db: &Db, dossier_id: i64) -> StoreResult<Option<(String, Satisfaction)>> {
    let row: Option<(String, Code<Satisfaction>)> = on_read!(db, pool => {
        sqlx::query_as("SELECT answers, satisfaction FROM ratings WHERE dossier_id = $1").bind(dossier_id).fetch_optional(pool).await?
    });
    Ok(row.map(|(answers, satisfaction)| (answers, satisfaction.0)))
}

/// A payment of a dossier's fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: i64,
    pub dossier_id: i64,
    pub amount_vnd: i64,
    pub provider: String,
    pub reference: String,
    pub status: PaymentStatus,
}

/// A payment as its row reads.
#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    dossier_id: i64,
    amount_vnd: i64,
    provider: String,
    reference: String,
    status: Code<PaymentStatus>,
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Payment {
        let status = r.status.0;
        record_from!(r => Payment { id, dossier_id, amount_vnd, provider, reference; status })
    }
}

pub async fn create_payment(
    tx: &mut Tx,
    dossier_id: i64,
    amount_vnd: i64,
    provider: &str,
    reference: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO payments (dossier_id, amount_vnd, provider, reference, status, created_at) VALUES ($1, $2, $3, $4, 'pending', $5)")
            .bind(dossier_id).bind(amount_vnd).bind(provider).bind(reference).bind(now).execute(c).await?;
    });
    Ok(())
}

/// Keeps the SHA-256 of an online submission's receipt secret.
pub async fn add_receipt(tx: &mut Tx, dossier_id: i64, secret_hash: &str) -> StoreResult<()> {
    on_tx!(tx, c => {
        sqlx::query("INSERT INTO submission_receipts (dossier_id, secret_hash) VALUES ($1, $2)")
            .bind(dossier_id).bind(secret_hash).execute(c).await?;
    });
    Ok(())
}

/// The SHA-256 of a submission's receipt secret, if it has one.
pub async fn receipt_of(db: &Db, dossier_id: i64) -> StoreResult<Option<String>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT secret_hash FROM submission_receipts WHERE dossier_id = $1")
            .bind(dossier_id).fetch_optional(pool).await?
    }))
}

pub async fn payments_of(db: &Db, dossier_id: i64) -> StoreResult<Vec<Payment>> {
    let rows: Vec<PaymentRow> = on_read!(db, pool => {
        sqlx::query_as("SELECT id, dossier_id, amount_vnd, provider, reference, status FROM payments WHERE dossier_id = $1 ORDER BY id")
            .bind(dossier_id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Payment::from).collect())
}

/// Marks a pending payment paid; false when it was not pending.
pub async fn mark_paid(tx: &mut Tx, reference: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    Ok(on_tx!(tx, c => {
        sqlx::query("UPDATE payments SET status = 'paid', paid_at = $1 WHERE reference = $2 AND status = 'pending'")
            .bind(now).bind(reference).execute(c).await?.rows_affected() == 1
    }))
}

/// The citizen who owns a dossier, if any.
pub async fn owner_of(db: &Db, dossier_id: i64) -> StoreResult<Option<i64>> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar::<_, Option<i64>>("SELECT citizen_id FROM dossiers WHERE id = $1").bind(dossier_id).fetch_optional(pool).await?.flatten()
    }))
}

/// One file of a citizen's electronic data store: a document they handed in, or a result
/// they were issued, in one of their dossiers.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    /// The document's name, or the procedure's for a result.
    pub name: String,
    /// The dossier's code (or `online-N` before it has one).
    pub dossier: String,
    pub is_result: bool,
    pub result_number: Option<String>,
    /// When it was handed in or issued (stored instant).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A citizen's data store: the results issued to them (finished dossiers), then the
/// documents they handed in, newest first, each file once.
pub async fn data_store(db: &Db, citizen_id: i64) -> StoreResult<Vec<StoredFile>> {
    type Row = (
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let results: Vec<Row> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT d.result_file, p.name, d.code, d.id, d.result_number, d.finished_at FROM dossiers d
             JOIN procedures p ON p.id = d.procedure_id
             WHERE d.citizen_id = $1 AND d.result_file IS NOT NULL AND d.status IN ('resolved', 'returned')
             ORDER BY d.id DESC",
        )
        .bind(citizen_id)
        .fetch_all(pool)
        .await?
    });
    let documents: Vec<Row> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT c.file_sha256, c.name, d.code, d.id, NULL AS result_number, c.added_at FROM dossier_components c
             JOIN dossiers d ON d.id = c.dossier_id
             WHERE d.citizen_id = $1 AND c.file_sha256 IS NOT NULL ORDER BY c.id DESC",
        )
        .bind(citizen_id)
        .fetch_all(pool)
        .await?
    });
    let mut seen = std::collections::HashSet::new();
    let tagged = results
        .into_iter()
        .map(|r| (true, r))
        .chain(documents.into_iter().map(|r| (false, r)));
    Ok(tagged
        .filter(|(_, (sha, ..))| seen.insert(sha.clone()))
        .map(
            |(is_result, (sha256, name, code, id, result_number, at))| StoredFile {
                sha256,
                name,
                dossier: code.unwrap_or_else(|| format!("online-{id}")),
                is_result,
                result_number,
                at,
            },
        )
        .collect())
}
