//! Which dossiers an officer's read covers (their scope: received by, or with a step at, one
//! of their agencies), as SQL that each backend plans through an index.
//!
//! "Received by S, or with a step at S" cannot be one index lookup: an `OR` over two tables
//! is a scan of `dossiers` with a question per row, and on SQLite that question searched
//! every step of the agency (issue 25: the unit inbox's count took 70 s at 8k dossiers). So
//! a scope is read as two disjoint parts, each led by one index: the dossiers received by S
//! (`dossiers_agency_status`), and those received elsewhere with a step at S
//! (`dossier_steps_agency`, then each dossier by its key). A list led by open steps (my
//! inbox, the unit's) asks the scope of those few dossiers only.

use crate::{Backend, Db, StoreResult, on_read};

/// A step started and not completed, in the words of the partial indexes
/// `dossier_steps_open` and `dossier_steps_assignee` (migration 0013), which SQLite uses only
/// for a query that repeats them; `{s}` is the steps' alias.
pub(crate) fn open_step(s: &str) -> String {
    format!("{s}.started_at IS NOT NULL AND {s}.completed_at IS NULL")
}

/// The agencies whose dossiers a read covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every agency (an administrator, a supervisor of the root): no condition at all.
    Every,
    /// These agencies (sorted, none twice, at least one, not every one).
    Agencies(Vec<i64>),
    /// No agency: nothing to read.
    Nothing,
}

impl Scope {
    /// The scope of these agency ids: `Every` when no agency is left out (one short query on
    /// the agencies), so that an administrator's list asks no question of each dossier.
    pub async fn of(db: &Db, ids: &[i64]) -> StoreResult<Scope> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Scope::Nothing);
        }
        let sql = format!("SELECT COUNT(*) FROM agencies WHERE id NOT IN ({})", list(&ids));
        let left_out: i64 = on_read!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await?);
        Ok(if left_out == 0 {
            Scope::Every
        } else {
            Scope::Agencies(ids)
        })
    }

    /// The scope as disjoint conditions on `dossiers d`, each led by its own index: none for
    /// `Every` (one empty condition), two for some agencies, nothing for `Nothing`. A read
    /// asks each part and adds (or merges) what they give.
    pub(crate) fn parts(&self, backend: Backend) -> Vec<String> {
        match self {
            Scope::Every => vec![String::new()],
            Scope::Nothing => Vec::new(),
            Scope::Agencies(ids) => {
                let s = list(ids);
                vec![
                    format!("d.agency_id IN ({s})"),
                    format!(
                        "d.agency_id NOT IN ({s}) AND {}",
                        id_in(
                            backend,
                            "d.id",
                            &format!(
                                "SELECT sa.dossier_id FROM dossier_steps sa WHERE sa.agency_id IN ({s})"
                            )
                        )
                    ),
                ]
            }
        }
    }

    /// The scope as one condition on `dossiers d`, for a read led by something narrower (a
    /// few open steps): asked of each dossier that read finds, through an index either way.
    /// None for `Every`.
    pub(crate) fn probe(&self) -> Option<String> {
        match self {
            Scope::Agencies(ids) => {
                let s = list(ids);
                Some(format!(
                    "(d.agency_id IN ({s}) OR EXISTS (SELECT 1 FROM dossier_steps sp WHERE sp.dossier_id = d.id AND sp.agency_id IN ({s})))"
                ))
            }
            Scope::Every | Scope::Nothing => None,
        }
    }

    /// Whether a dossier with an open step at each of `agencies` is in the scope whatever it
    /// is: every one of them is in it.
    pub(crate) fn holds_all(&self, agencies: &[i64]) -> bool {
        match self {
            Scope::Every => true,
            Scope::Agencies(ids) => agencies.iter().all(|a| ids.binary_search(a).is_ok()),
            Scope::Nothing => false,
        }
    }

    /// The agencies as an SQL list, or None for `Every`.
    pub(crate) fn ids(&self) -> Option<String> {
        match self {
            Scope::Agencies(ids) => Some(list(ids)),
            Scope::Every | Scope::Nothing => None,
        }
    }
}

/// `column` is one of the ids `subquery` gives. SQLite reads the subquery first and finds
/// each row by its key. PostgreSQL would estimate the subquery's distinct ids (a dossier has
/// several steps) too high and scan `dossiers` instead; an array of them it looks up by key.
pub(crate) fn id_in(backend: Backend, column: &str, subquery: &str) -> String {
    match backend {
        Backend::Sqlite => format!("{column} IN ({subquery})"),
        Backend::Postgres => format!("{column} = ANY(ARRAY({subquery}))"),
    }
}

/// Ids as an SQL list (`1,2,3`).
pub(crate) fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `conditions` joined by AND, or a condition that always holds.
pub(crate) fn all_of<'a>(conditions: impl IntoIterator<Item = &'a str>) -> String {
    let kept: Vec<&str> = conditions.into_iter().filter(|c| !c.is_empty()).collect();
    if kept.is_empty() {
        "1 = 1".to_string()
    } else {
        kept.join(" AND ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_two_disjoint_parts_or_none() {
        let s = Scope::Agencies(vec![3, 5]);
        let parts = s.parts(Backend::Sqlite);
        assert_eq!(parts[0], "d.agency_id IN (3,5)");
        assert!(parts[1].starts_with("d.agency_id NOT IN (3,5) AND d.id IN (SELECT"));
        assert!(Scope::Agencies(vec![3]).parts(Backend::Postgres)[1].contains("d.id = ANY(ARRAY(SELECT"));
        assert_eq!(Scope::Every.parts(Backend::Sqlite), vec![String::new()]);
        assert!(Scope::Nothing.parts(Backend::Sqlite).is_empty());
        assert!(s.holds_all(&[5]) && !s.holds_all(&[4, 5]) && Scope::Every.holds_all(&[4]));
        assert_eq!(all_of(["", "a", "b"]), "a AND b");
        assert_eq!(all_of([""]), "1 = 1");
    }
}
