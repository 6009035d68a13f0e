//! What the II.06a report needs of each dossier, read straight from the dossiers table: the
//! recount (slow, exact) path. Dates become local (UTC+7) dates in Rust, never in SQL.

use crate::{Db, StoreResult, on_read};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::local_date;
use motcua_domain::report::{Ending, Facts};
use sqlx::Row;

/// One counted dossier with the keys it can be grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The dossier code, or `online-ID` for one never given a code.
    pub code: String,
    pub agency_code: String,
    pub agency_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub field_code: String,
    pub field_name: String,
    pub facts: Facts,
}

/// Dossiers that may count in a period ending on `to`: received (never refused, not waiting
/// online) on or before `to` (local), and not finished before `from`. `agencies`: receiving
/// agency ids to keep (None: all).
pub async fn counted(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    agencies: Option<&[i64]>,
) -> StoreResult<Vec<Counted>> {
    // A day of margin on each side in UTC; exact local-date filtering happens below.
    let upper: DateTime<Utc> = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(17, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let lower: DateTime<Utc> = from
        .pred_opt()
        .unwrap_or(from)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let scope = match agencies {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!(
            "AND d.agency_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT d.id, d.code, a.code, a.name, p.code, p.name, f.code, f.name, d.channel, d.status, d.received_at, d.original_due_at, d.finished_at, d.paused_at
         FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id JOIN fields f ON f.id = p.field_id
         WHERE d.received_at IS NOT NULL AND d.status <> 'refused' AND d.received_at <= $1
           AND (d.finished_at IS NULL OR d.finished_at >= $2) {scope}"
    );
    type Raw = (
        i64,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Raw> = on_read!(db, pool => {
        sqlx::query(&sql).bind(upper).bind(lower).fetch_all(pool).await?.iter().map(|r| Ok::<_, sqlx::Error>((
            r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?,
            r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?, r.try_get(12)?, r.try_get(13)?,
        ))).collect::<Result<Vec<_>, _>>()?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, code, ac, an, pc, pn, fc, fname, channel, status, received, due, finished, paused)| {
                let ending = match status.as_str() {
                    "withdrawn" | "stopped" => Ending::WithdrawnOrStopped,
                    _ => Ending::Resolved,
                };
                // Statuses 9/10/7/8 have a finished instant; anything else is in process.
                let finished = finished
                    .filter(|_| matches!(status.as_str(), "resolved" | "returned" | "withdrawn" | "stopped"));
                Counted {
                    code: code.unwrap_or_else(|| format!("online-{id}")),
                    agency_code: ac,
                    agency_name: an,
                    procedure_code: pc,
                    procedure_name: pn,
                    field_code: fc,
                    field_name: fname,
                    facts: Facts {
                        received_on: local_date(received),
                        online: channel == "online",
                        due_on: due.map(local_date),
                        finished: finished.map(|t| (local_date(t), ending)),
                        // A pause open now is open at the period's end only for a period ending
                        // today or later; a report of the past cannot know older pauses yet.
                        paused_at_end: paused.is_some()
                            && status == "awaiting_supplement"
                            && to >= local_date(Utc::now()),
                    },
                }
            },
        )
        .collect())
}

/// How report rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Field,
    Procedure,
    Agency,
}

/// One row of the report: its key (code), name and columns. By agency, a row counts the
/// agency's own dossiers and every agency below it, and names its parent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyedRow {
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(flatten)]
    pub row: motcua_domain::report::Row,
}

/// Rows (sorted by key) and the total of a period; every row and the total pass the form's
/// identities (an error names the broken one).
pub fn group(
    counted: &[Counted],
    period: &motcua_domain::report::Period,
    by: By,
    tree: &[(String, String, Option<String>)],
) -> Result<(Vec<KeyedRow>, motcua_domain::report::Row), String> {
    use motcua_domain::report::Row;
    let mut rows: std::collections::BTreeMap<(String, String), Row> = std::collections::BTreeMap::new();
    let mut total = Row::default();
    let node = |code: &str| tree.iter().find(|t| t.0 == code);
    for c in counted {
        let mut one = Row::default();
        one.count(&c.facts, period);
        if one == Row::default() {
            continue;
        }
        for key in keys_of(c, by, tree) {
            let name = match by {
                By::Field => c.field_name.clone(),
                By::Procedure => c.procedure_name.clone(),
                By::Agency => node(&key)
                    .map(|t| t.1.clone())
                    .unwrap_or_else(|| c.agency_name.clone()),
            };
            rows.entry((key, name)).or_default().add(&one);
        }
        total.add(&one);
    }
    for r in rows.values().chain(std::iter::once(&total)) {
        r.check()?;
    }
    let parent_of = |code: &str| {
        if by == By::Agency {
            node(code).and_then(|t| t.2.clone())
        } else {
            None
        }
    };
    Ok((
        rows.into_iter()
            .map(|((key, name), row)| KeyedRow {
                parent: parent_of(&key),
                key,
                name,
                row,
            })
            .collect(),
        total,
    ))
}

/// The row keys a dossier counts in: its field or procedure code, or by agency its receiving
/// agency and every agency above it (a parent's row includes its whole subtree).
pub fn keys_of(c: &Counted, by: By, tree: &[(String, String, Option<String>)]) -> Vec<String> {
    match by {
        By::Field => vec![c.field_code.clone()],
        By::Procedure => vec![c.procedure_code.clone()],
        By::Agency => {
            let mut out = Vec::new();
            let mut code = Some(c.agency_code.clone());
            while let Some(current) = code.take() {
                if out.contains(&current) || out.len() >= 64 {
                    break;
                }
                code = tree.iter().find(|t| t.0 == current).and_then(|t| t.2.clone());
                out.push(current);
            }
            out
        }
    }
}

/// Every agency as (code, name, parent code), for rolling rows up.
pub async fn tree(db: &Db) -> StoreResult<Vec<(String, String, Option<String>)>> {
    Ok(crate::repo::agencies::list(db)
        .await?
        .into_iter()
        .map(|a| (a.code, a.name, a.parent_code))
        .collect())
}
