//! Reads as the repositories send them (`Read`: the SQL and its values), and what the
//! database plans for them (`explain`): EXPLAIN QUERY PLAN on SQLite, EXPLAIN (FORMAT JSON)
//! on PostgreSQL. The conformance suite checks that no list or count of dossiers reads
//! `dossiers` or `dossier_steps` whole (`Plan::full_scans`), on the SQL the lists really run.

use crate::{Db, StoreResult, on_read};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A read: its SQL (in both dialects alike, `$1, $2, …` numbered in the order of `binds`)
/// and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// A value bound to a read.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Instant(DateTime<Utc>),
}

impl Read {
    /// A read of `sql` with no values.
    pub fn of(sql: impl Into<String>) -> Read {
        Read {
            sql: sql.into(),
            binds: Vec::new(),
        }
    }
}

/// Binds a `Read`'s values, in order, to a query of `sqlx::query*` made of its SQL.
macro_rules! bind_read {
    ($q:expr, $read:expr) => {{
        let mut q = $q;
        for b in &$read.binds {
            q = match b {
                $crate::repo::plan::Bind::Text(t) => q.bind(t.clone()),
                $crate::repo::plan::Bind::Instant(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_read;

/// The tables no list may read whole.
const WATCHED: [&str; 2] = ["dossiers", "dossier_steps"];

/// A plan as the database gave it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// SQLite: one line per step of the plan, indented by depth. PostgreSQL: the JSON.
    pub text: String,
    /// The steps that read `dossiers` or `dossier_steps` whole, a table or one of its
    /// indexes from end to end: SQLite's `SCAN` of either, PostgreSQL's `Seq Scan` or an
    /// index scan without a condition.
    pub full_scans: Vec<String>,
}

/// What the database plans for `read`, with its values bound as they would be.
pub async fn explain(db: &Db, read: &Read) -> StoreResult<Plan> {
    match db {
        Db::Sqlite { .. } => {
            let sql = format!("EXPLAIN QUERY PLAN {}", read.sql);
            let rows: Vec<(i64, i64, String)> = on_read!(db, pool => {
                bind_read!(sqlx::query(&sql), read)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("id")?, r.try_get("parent")?, r.try_get("detail")?)))
                    .collect::<Result<_, sqlx::Error>>()?
            });
            Ok(sqlite_plan(&read.sql, &rows))
        }
        Db::Postgres(_) => {
            let sql = format!("EXPLAIN (FORMAT JSON) {}", read.sql);
            // The plan is `json`, whose binary form is its text.
            let json: String = on_read!(db, pool => {
                bind_read!(sqlx::query(&sql), read).fetch_one(pool).await?.try_get_unchecked(0)?
            });
            let value: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
            let mut full_scans = Vec::new();
            if let Some(root) = value.get(0).and_then(|p| p.get("Plan")) {
                pg_full_scans(root, &mut full_scans);
            }
            Ok(Plan {
                text: serde_json::to_string_pretty(&value).unwrap_or(json),
                full_scans,
            })
        }
    }
}

/// The names `sql` gives `dossiers` and `dossier_steps` (themselves and their aliases).
fn watched_names(sql: &str) -> Vec<String> {
    // Words, and every other character but spaces as a word of its own: `dossiers) c` gives
    // `c` no table.
    let mut words: Vec<&str> = Vec::new();
    let mut start = None;
    for (i, c) in sql.char_indices() {
        let in_word = c.is_ascii_alphanumeric() || c == '_';
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push(&sql[s..i]);
                start = None;
            }
            _ => {}
        }
        if !in_word && !c.is_whitespace() {
            words.push(&sql[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        words.push(&sql[s..]);
    }
    let mut names: Vec<String> = WATCHED.iter().map(|t| t.to_string()).collect();
    for (i, w) in words.iter().enumerate() {
        if WATCHED.contains(w) {
            let next = match words.get(i + 1) {
                Some(a) if a.eq_ignore_ascii_case("AS") => words.get(i + 2),
                other => other,
            };
            if let Some(alias) = next
                && alias.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !is_keyword(alias)
            {
                names.push(alias.to_string());
            }
        }
    }
    names
}

fn is_keyword(w: &str) -> bool {
    [
        "WHERE", "JOIN", "LEFT", "ON", "GROUP", "ORDER", "LIMIT", "UNION", "SET", "VALUES",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(w))
}

fn sqlite_plan(sql: &str, rows: &[(i64, i64, String)]) -> Plan {
    let names = watched_names(sql);
    let mut text = String::new();
    let mut full_scans = Vec::new();
    let mut depth: std::collections::HashMap<i64, usize> = Default::default();
    for (id, parent, detail) in rows {
        let d = depth.get(parent).map_or(0, |d| d + 1);
        depth.insert(*id, d);
        text.push_str(&format!("{}{detail}\n", "  ".repeat(d)));
        // `SCAN d`, `SCAN d USING COVERING INDEX i`, `SCAN TABLE dossiers AS d` (older SQLite).
        let mut words = detail.split_whitespace();
        if words.next() == Some("SCAN") {
            let object = match words.next() {
                Some("TABLE") => words.next(),
                other => other,
            };
            if object.is_some_and(|o| names.iter().any(|n| n == o)) {
                full_scans.push(detail.clone());
            }
        }
    }
    Plan { text, full_scans }
}

fn pg_full_scans(node: &serde_json::Value, out: &mut Vec<String>) {
    let field = |k: &str| node.get(k).and_then(|v| v.as_str());
    let relation = field("Relation Name").filter(|r| WATCHED.contains(r));
    if let (Some(kind), Some(relation)) = (field("Node Type"), relation) {
        let whole = match kind {
            "Seq Scan" => true,
            "Index Scan" | "Index Only Scan" => node.get("Index Cond").is_none(),
            _ => false,
        };
        if whole {
            out.push(format!("{kind} on {relation}"));
        }
    }
    if let Some(children) = node.get("Plans").and_then(|p| p.as_array()) {
        for c in children {
            pg_full_scans(c, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_scans_of_dossiers_and_their_steps_are_found_by_alias() {
        let sql = "SELECT d.id FROM dossiers d JOIN agencies a ON a.id = d.agency_id
            WHERE EXISTS (SELECT 1 FROM dossier_steps AS s WHERE s.dossier_id = d.id)
              AND d.id IN (SELECT id FROM (SELECT id FROM dossiers) c)";
        assert_eq!(watched_names(sql), vec!["dossiers", "dossier_steps", "d", "s"]);
        let rows = vec![
            (
                2,
                0,
                "SCAN d USING COVERING INDEX dossiers_agency_status".to_string(),
            ),
            (5, 0, "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)".to_string()),
            (7, 0, "CORRELATED SCALAR SUBQUERY 1".to_string()),
            (
                9,
                7,
                "SEARCH s USING INDEX dossier_steps_open (agency_id=?)".to_string(),
            ),
            (11, 0, "SCAN a".to_string()),
        ];
        let plan = sqlite_plan(sql, &rows);
        assert_eq!(
            plan.full_scans,
            vec!["SCAN d USING COVERING INDEX dossiers_agency_status"]
        );
        assert!(plan.text.contains("\n  SEARCH s"), "{}", plan.text);
        assert!(
            sqlite_plan("SELECT 1 FROM dossiers", &[(1, 0, "SCAN TABLE dossiers".into())])
                .full_scans
                .len()
                == 1
        );
    }

    #[test]
    fn postgres_sequential_and_unconditioned_index_scans_are_found() {
        let plan = serde_json::json!({
            "Node Type": "Hash Join",
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "dossiers"},
                {"Node Type": "Seq Scan", "Relation Name": "agencies"},
                {"Node Type": "Index Only Scan", "Relation Name": "dossier_steps"},
                {"Node Type": "Index Scan", "Relation Name": "dossiers", "Index Cond": "(id = ANY ($0))"}
            ]
        });
        let mut found = Vec::new();
        pg_full_scans(&plan, &mut found);
        assert_eq!(
            found,
            vec!["Seq Scan on dossiers", "Index Only Scan on dossier_steps"]
        );
    }
}
