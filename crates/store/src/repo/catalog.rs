//! Fields (*lĩnh vực*) and procedures (*thủ tục hành chính*). Each edit of a procedure is a
//! new version holding the whole validated spec; dossiers keep the version they were
//! received under. The `procedures` row carries what listing and search need.

use super::{Code, record_from};
use crate::{Db, StoreError, StoreResult, Tx, on_read, on_tx};
use chrono::{NaiveDate, Utc};
use motcua_domain::procedure::{OnlineLevel, ProcedureSpec};
use motcua_domain::text::fold_vi;

pub async fn upsert_field(tx: &mut Tx, code: &str, name: &str) -> StoreResult<i64> {
    Ok(on_tx!(tx, c => {
        sqlx::query_scalar(
            "INSERT INTO fields (code, name) VALUES ($1, $2)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(code)
        .bind(name)
        .fetch_one(c)
        .await?
    }))
}

/// What saving a procedure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    NewVersion(i64),
    Unchanged,
}

/// Saves a validated procedure: a new row, a new version when anything changed, or nothing.
/// The implementing agencies must exist.
pub async fn save_procedure(
    tx: &mut Tx,
    spec: &ProcedureSpec,
    by: &str,
    today: NaiveDate,
) -> StoreResult<Saved> {
    let json = serde_json::to_string(spec).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let effective_from = spec.effective_from.unwrap_or(today);
    let levels = format!("|{}|", spec.levels.join("|"));
    let fee_text = spec
        .fees
        .iter()
        .map(|f| match f.amount_vnd {
            Some(n) => format!("{}: {n} đồng", f.name),
            None => format!("{}: {}", f.name, f.note),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let field_id = upsert_field(tx, &spec.field.code, &spec.field.name).await?;
    Ok(on_tx!(tx, c => {
        let existing: Option<(i64, i64)> = sqlx::query_as("SELECT id, current_version FROM procedures WHERE code = $1")
            .bind(&spec.code)
            .fetch_optional(&mut *c)
            .await?;
        if let Some((id, version)) = existing {
            let current: Option<String> = sqlx::query_scalar("SELECT spec FROM procedure_versions WHERE procedure_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .fetch_optional(&mut *c)
                .await?;
            if current.as_deref() == Some(json.as_str()) {
                return Ok(Saved::Unchanged);
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO procedures (code, name, field_id, level, levels, time_limit, fee_text, online_level, four_on_the_spot, search_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, field_id = excluded.field_id, level = excluded.level,
               levels = excluded.levels, time_limit = excluded.time_limit, fee_text = excluded.fee_text,
               online_level = excluded.online_level, four_on_the_spot = excluded.four_on_the_spot, search_text = excluded.search_text
             RETURNING id",
        )
        .bind(&spec.code)
        .bind(&spec.name)
        .bind(field_id)
        .bind(spec.levels.first().map(String::as_str).unwrap_or(""))
        .bind(&levels)
        .bind(&spec.time_limit)
        .bind(&fee_text)
        .bind(spec.online_level.as_str())
        .bind(spec.four_on_the_spot)
        .bind(spec.search_text())
        .fetch_one(&mut *c)
        .await?;
        let version: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM procedure_versions WHERE procedure_id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?;
        sqlx::query("INSERT INTO procedure_versions (procedure_id, version, effective_from, spec, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(version)
            .bind(effective_from)
            .bind(&json)
            .bind(Utc::now())
            .bind(by)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE procedures SET current_version = $1 WHERE id = $2").bind(version).bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM procedure_agencies WHERE procedure_id = $1").bind(id).execute(&mut *c).await?;
        for code in &spec.agencies {
            let agency_id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *c)
                .await?
                .ok_or_else(|| StoreError::Conflict(format!("unknown agency {code}")))?;
            sqlx::query("INSERT INTO procedure_agencies (procedure_id, agency_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(agency_id)
                .execute(&mut *c)
                .await?;
        }
        if version == 1 { Saved::Created } else { Saved::NewVersion(version) }
    }))
}

/// A stored procedure version.
#[derive(Debug, Clone)]
pub struct StoredProcedure {
    pub id: i64,
    /// The procedure's current name (`procedures.name`, what dossiers are listed under).
    pub name: String,
    pub version: i64,
    pub effective_from: NaiveDate,
    pub spec: ProcedureSpec,
}

fn decode(spec: &str) -> StoreResult<ProcedureSpec> {
    serde_json::from_str(spec)
        .map_err(|e| StoreError::Conflict(format!("stored procedure is unreadable: {e}")))
}

/// The version of a procedure in force on a date (the latest effective on or before it;
/// the first version when all are later).
pub async fn procedure(db: &Db, code: &str, on: NaiveDate) -> StoreResult<Option<StoredProcedure>> {
    let rows: Vec<(i64, i64, NaiveDate, String, String)> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT p.id, v.version, v.effective_from, v.spec, p.name FROM procedures p
             JOIN procedure_versions v ON v.procedure_id = p.id WHERE p.code = $1 ORDER BY v.version DESC",
        )
        .bind(code)
        .fetch_all(pool)
        .await?
    });
    let chosen = rows.iter().find(|r| r.2 <= on).or(rows.last());
    chosen
        .map(|(id, version, effective_from, spec, name)| {
            Ok(StoredProcedure {
                id: *id,
                name: name.clone(),
                version: *version,
                effective_from: *effective_from,
                spec: decode(spec)?,
            })
        })
        .transpose()
}

/// A given version of a procedure (what a dossier was received under).
pub async fn procedure_version(db: &Db, code: &str, version: i64) -> StoreResult<Option<StoredProcedure>> {
    let row: Option<(i64, NaiveDate, String, String)> = on_read!(db, pool => {
        sqlx::query_as(
            "SELECT p.id, v.effective_from, v.spec, p.name FROM procedures p JOIN procedure_versions v ON v.procedure_id = p.id
             WHERE p.code = $1 AND v.version = $2",
        )
        .bind(code)
        .bind(version)
        .fetch_optional(pool)
        .await?
    });
    row.map(|(id, effective_from, spec, name)| {
        Ok(StoredProcedure {
            id,
            name,
            version,
            effective_from,
            spec: decode(&spec)?,
        })
    })
    .transpose()
}

/// A procedure's code and current name by its id.
pub async fn procedure_name(db: &Db, id: i64) -> StoreResult<Option<(String, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as("SELECT code, name FROM procedures WHERE id = $1").bind(id).fetch_optional(pool).await?
    }))
}

/// Versions of a procedure: (version, effective_from, created_by).
pub async fn versions(db: &Db, code: &str) -> StoreResult<Vec<(i64, NaiveDate, String)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(
            "SELECT v.version, v.effective_from, v.created_by FROM procedure_versions v JOIN procedures p ON p.id = v.procedure_id
             WHERE p.code = $1 ORDER BY v.version",
        )
        .bind(code)
        .fetch_all(pool)
        .await?
    }))
}

/// Listing filters; every one optional.
#[derive(Debug, Clone, Default)]
pub struct ProcedureFilter {
    /// Search words, matched with or without diacritics, in any case.
    pub q: Option<String>,
    pub field: Option<String>,
    pub agency: Option<String>,
    pub level: Option<String>,
    /// Only those citizens may submit online (online level partial or full).
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcedureSummary {
    pub code: String,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
    pub levels: Vec<String>,
    pub time_limit: String,
    pub online_level: OnlineLevel,
    pub four_on_the_spot: bool,
}

/// A procedure as its listing row reads: `levels` as stored (`|province|district|`).
#[derive(sqlx::FromRow)]
struct SummaryRow {
    code: String,
    name: String,
    field_code: String,
    field_name: String,
    levels: String,
    time_limit: String,
    online_level: Code<OnlineLevel>,
    four_on_the_spot: bool,
}

impl From<SummaryRow> for ProcedureSummary {
    fn from(r: SummaryRow) -> ProcedureSummary {
        let levels = r
            .levels
            .split('|')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let online_level = r.online_level.0;
        record_from!(r => ProcedureSummary {
            code, name, field_code, field_name, time_limit, four_on_the_spot; levels, online_level
        })
    }
}

/// A page of procedures matching the filter (sorted by field, then name) and the total.
pub async fn list_procedures(
    db: &Db,
    f: &ProcedureFilter,
    page: u32,
    per_page: u32,
) -> StoreResult<(Vec<ProcedureSummary>, i64)> {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(q) = f.q.as_deref() {
        for word in fold_vi(q).split(' ').filter(|w| !w.is_empty()).take(8) {
            let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            args.push(format!("%{escaped}%"));
            conds.push(format!("p.search_text LIKE ${} ESCAPE '\\'", args.len()));
        }
    }
    if let Some(field) = f.field.as_deref() {
        args.push(field.to_string());
        conds.push(format!("fl.code = ${}", args.len()));
    }
    if let Some(level) = f.level.as_deref() {
        args.push(format!("%|{level}|%"));
        conds.push(format!("p.levels LIKE ${}", args.len()));
    }
    if let Some(agency) = f.agency.as_deref() {
        args.push(agency.to_string());
        conds.push(format!(
            "EXISTS (SELECT 1 FROM procedure_agencies pa JOIN agencies a ON a.id = pa.agency_id WHERE pa.procedure_id = p.id AND a.code = ${})",
            args.len()
        ));
    }
    if f.online {
        conds.push("p.online_level <> 'none'".to_string());
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let from = format!("FROM procedures p JOIN fields fl ON fl.id = p.field_id {filter}");
    let count_sql = format!("SELECT COUNT(*) {from}");
    let list_sql = format!(
        "SELECT p.code, p.name, fl.code AS field_code, fl.name AS field_name, p.levels, p.time_limit, p.online_level,
           p.four_on_the_spot {from}
         ORDER BY fl.name, p.name, p.code LIMIT {} OFFSET {}",
        per_page,
        u64::from(page.saturating_sub(1)) * u64::from(per_page)
    );
    // Two reads, each on a connection of its own while it runs.
    let total = on_read!(db, pool => {
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            count = count.bind(a);
        }
        count.fetch_one(pool).await?
    });
    let rows: Vec<SummaryRow> = on_read!(db, pool => {
        let mut list = sqlx::query_as(&list_sql);
        for a in &args {
            list = list.bind(a);
        }
        list.fetch_all(pool).await?
    });
    Ok((rows.into_iter().map(ProcedureSummary::from).collect(), total))
}

/// Fields with the number of procedures in each, by name.
pub async fn fields(db: &Db) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(on_read!(db, pool => {
        sqlx::query_as(
            "SELECT f.code, f.name, COUNT(p.id) FROM fields f LEFT JOIN procedures p ON p.field_id = f.id
             GROUP BY f.code, f.name ORDER BY f.name",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// The current spec of every procedure, by code (for export).
pub async fn all_current(db: &Db) -> StoreResult<Vec<ProcedureSpec>> {
    let specs: Vec<String> = on_read!(db, pool => {
        sqlx::query_scalar(
            "SELECT v.spec FROM procedures p JOIN procedure_versions v ON v.procedure_id = p.id AND v.version = p.current_version
             ORDER BY p.code",
        )
        .fetch_all(pool)
        .await?
    });
    specs.iter().map(|s| decode(s)).collect()
}

pub async fn count_procedures(db: &Db) -> StoreResult<i64> {
    Ok(on_read!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM procedures").fetch_one(pool).await?
    }))
}
