//! Dossier numbers: the per-agency daily sequence behind dossier codes (DOMAIN.md §5) and
//! the ids of new dossiers, reserved inside the intake's write transaction.

use crate::{StoreError, StoreResult, Tx, on_tx};
use chrono::NaiveDate;
use motcua_domain::code::{AgencyCode, DossierCode};

/// The day's sequence of an agency, moved on by one: `$1` the agency code, `$2` the day.
const NEXT_SEQ: &str =
    "INSERT INTO dossier_sequences (agency_id, day, last_seq) SELECT id, $2, 1 FROM agencies WHERE code = $1
     ON CONFLICT (agency_id, day) DO UPDATE SET last_seq = dossier_sequences.last_seq + 1
     RETURNING last_seq";

/// The sequence row of an agency's day set to `$2` (`$1` the day, `$3` the agency code): a
/// step the writer already knew (`Reserved`), written with the transaction's other writes.
const SET_SEQ: &str =
    "INSERT INTO dossier_sequences (day, last_seq, agency_id) SELECT $1, $2, id FROM agencies WHERE code = $3
     ON CONFLICT (agency_id, day) DO UPDATE SET last_seq = excluded.last_seq";

/// The sequence row of an agency's day (`$1` the day, `$3` the agency code) moved from
/// `$2 - 1` to `$2`: PostgreSQL, a number taken from what this process knows (`PgKnown`),
/// checked by the intake's own write (`PgTx::defer_guard`). The statement fails (division
/// by zero, SQLSTATE 22012) if the row holds another number or is not there to see (not yet
/// committed, or rolled back). A concurrent holder of the row is waited for, and the row it
/// leaves is the one checked.
const GUARD_SEQ: &str =
    "UPDATE dossier_sequences SET last_seq = $2 / (CASE WHEN last_seq = $2 - 1 THEN 1 ELSE 0 END)
     WHERE day = $1 AND agency_id = (SELECT id FROM agencies WHERE code = $3)";

/// Dossier ids taken from PostgreSQL's sequence at a time (`PgKnown`): ids may have gaps
/// (a process that stops leaves its unused ones), codes never do.
const PG_IDS_AHEAD: i64 = 32;

/// Issues the next dossier code of an agency for a local date. Runs inside the caller's
/// write transaction, so a code is never duplicated and, once committed, never reused.
pub async fn next_code(tx: &mut Tx, agency_code: &str, day: NaiveDate) -> StoreResult<DossierCode> {
    let agency = AgencyCode::parse(agency_code).map_err(|e| StoreError::Conflict(e.to_string()))?;
    if let Some(seq) = known_seq(tx, agency_code, day)? {
        return code_of(agency, day, seq);
    }
    let seq: i64 = on_tx!(tx, c => {
        sqlx::query_scalar(NEXT_SEQ)
            .bind(agency_code)
            .bind(day.format("%Y-%m-%d").to_string())
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?
    });
    remember(tx, None, Some((agency_code, day, seq)));
    code_of(agency, day, seq)
}

/// The next number of an agency's day if the writer knows the last one (SQLite, a group
/// member: `Reserved`), its row's update deferred; None if it does not.
fn known_seq(tx: &mut Tx, agency_code: &str, day: NaiveDate) -> StoreResult<Option<i64>> {
    let Tx::Sqlite(t) = tx else { return Ok(None) };
    let seq = match t.reserved().and_then(|r| r.sequences.get_mut(agency_code)) {
        Some((known, last)) if *known == day => {
            *last += 1;
            *last
        }
        _ => return Ok(None),
    };
    let (code, day) = (agency_code.to_string(), day.format("%Y-%m-%d").to_string());
    t.defer("dossier_sequences", SET_SEQ, move |a| {
        use sqlx::Arguments;
        a.add(day)?;
        a.add(seq)?;
        a.add(code)?;
        Ok(())
    })?;
    Ok(Some(seq))
}

/// The id the next dossier gets: from what the writer knows (as `known_seq`), else from
/// `sql` (`reserve`'s query of it), remembered.
async fn new_id(tx: &mut Tx, sql: &str) -> StoreResult<i64> {
    if let Tx::Sqlite(t) = tx
        && let Some(r) = t.reserved()
        && let Some(id) = r.next_id
    {
        r.next_id = Some(id + 1);
        return Ok(id);
    }
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).fetch_one(c).await?);
    remember(tx, Some(id), None);
    Ok(id)
}

/// Keeps what a reservation read from the database (SQLite, a group member; PostgreSQL, a
/// transaction of `begin_grouped`: the day's number only).
fn remember(tx: &mut Tx, id: Option<i64>, seq: Option<(&str, NaiveDate, i64)>) {
    if let Tx::Postgres(t) = tx {
        if let (Some(known), Some((agency_code, day, seq))) = (t.known(), seq) {
            known.remember(agency_code, day, seq);
        }
        return;
    }
    let Tx::Sqlite(t) = tx else { return };
    let Some(r) = t.reserved() else { return };
    if let Some(id) = id {
        r.next_id = Some(id + 1);
    }
    if let Some((agency_code, day, seq)) = seq {
        if r.sequences.len() >= 10_000 {
            r.sequences.retain(|_, (known, _)| *known >= day);
        }
        r.sequences.insert(agency_code.to_string(), (day, seq));
    }
}

fn code_of(agency: AgencyCode, day: NaiveDate, seq: i64) -> StoreResult<DossierCode> {
    let seq = u32::try_from(seq).map_err(|_| StoreError::Conflict("dossier sequence overflow".into()))?;
    Ok(DossierCode::new(agency, day, seq))
}

/// The id a new dossier will have and, for one received at once, the day's next code of its
/// agency (`code_for`: agency code and local date), in one call inside the caller's write
/// transaction, so the dossier's INSERT can wait with the transaction's other writes
/// (`dossiers::insert`). SQLite: two statements in one hand-off, the id being one past the
/// largest (the transaction holds the write lock, as SQLite itself would pick it), or, for
/// a group member once the writer knows them (`Reserved` in `db::sqlite`), no statement at all;
/// PostgreSQL: the sequence's upsert and `nextval` in one statement, or, in a transaction of
/// `begin_grouped` once this process knows the day's last number (`PgKnown`), no statement:
/// the number is checked by a sequence update deferred with the intake's writes, whose
/// commit fails with `StoreError::Retry` if another transaction took it first.
pub async fn reserve(
    tx: &mut Tx,
    code_for: Option<(&str, NaiveDate)>,
) -> StoreResult<(i64, Option<DossierCode>)> {
    if let Some(reserved) = reserve_known(tx, code_for).await? {
        return Ok(reserved);
    }
    let sqlite = matches!(tx, Tx::Sqlite(_));
    let next_id = if sqlite {
        "SELECT COALESCE(MAX(id), 0) + 1 AS next_id FROM dossiers"
    } else {
        "SELECT nextval(pg_get_serial_sequence('dossiers', 'id')) AS next_id"
    };
    let Some((agency_code, day)) = code_for else {
        return Ok((new_id(tx, next_id).await?, None));
    };
    let agency = AgencyCode::parse(agency_code).map_err(|e| StoreError::Conflict(e.to_string()))?;
    // The day's number known to the writer: no statement for it (its row is written later),
    // nor for the id once that is known too.
    if let Some(seq) = known_seq(tx, agency_code, day)? {
        return Ok((new_id(tx, next_id).await?, Some(code_of(agency, day, seq)?)));
    }
    let sql = if sqlite {
        // `$1` and `$2` name the same values in both statements; no sequence row (an
        // unknown agency) leaves the id's row alone.
        format!("{NEXT_SEQ};\n{next_id}")
    } else {
        format!(
            "WITH s AS ({NEXT_SEQ}) SELECT s.last_seq, nextval(pg_get_serial_sequence('dossiers', 'id')) AS next_id FROM s"
        )
    };
    let day_text = day.format("%Y-%m-%d").to_string();
    let found: Option<(i64, i64)> = on_tx!(tx, c => {
        if sqlite {
            // One row per statement, one column each: the number, then the id.
            let rows: Vec<i64> = sqlx::query_scalar(&sql).bind(agency_code).bind(&day_text).fetch_all(c).await?;
            match rows.as_slice() {
                [seq, id] => Some((*seq, *id)),
                _ => None,
            }
        } else {
            sqlx::query_as(&sql).bind(agency_code).bind(&day_text).fetch_optional(c).await?
        }
    });
    let (seq, id) = found.ok_or(StoreError::NotFound)?;
    remember(tx, Some(id), Some((agency_code, day, seq)));
    Ok((id, Some(code_of(agency, day, seq)?)))
}

/// `reserve` on PostgreSQL from what this process knows; None if it does not know the day's
/// last number (or is not in a transaction of `begin_grouped`).
async fn reserve_known(
    tx: &mut Tx,
    code_for: Option<(&str, NaiveDate)>,
) -> StoreResult<Option<(i64, Option<DossierCode>)>> {
    let Tx::Postgres(t) = tx else { return Ok(None) };
    let Some(known) = t.known().cloned() else {
        return Ok(None);
    };
    let code = match code_for {
        None => None,
        Some((agency_code, day)) => {
            let agency = AgencyCode::parse(agency_code).map_err(|e| StoreError::Conflict(e.to_string()))?;
            let Some((hold, seq)) = known.next_seq(agency_code, day).await else {
                return Ok(None);
            };
            t.guessed(hold);
            let (code, day_text) = (agency_code.to_string(), day.format("%Y-%m-%d").to_string());
            t.defer_guard("dossier_sequences", GUARD_SEQ, move |a| {
                use sqlx::Arguments;
                a.add(day_text)?;
                a.add(seq)?;
                a.add(code)?;
                Ok(())
            })?;
            Some(code_of(agency, day, seq)?)
        }
    };
    let id = match known.take_id() {
        Some(id) => id,
        None => {
            // `nextval` is not undone by a rollback: taken outside the transaction.
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence('dossiers', 'id')) FROM generate_series(1, $1)",
            )
            .bind(PG_IDS_AHEAD)
            .fetch_all(t.untransacted()?)
            .await?;
            known.add_ids(ids);
            known.take_id().ok_or(StoreError::NotFound)?
        }
    };
    Ok(Some((id, code)))
}
