//! Repositories, one module per aggregate or table. Thin: SQL in, typed rows out (a private
//! `#[derive(sqlx::FromRow)]` row struct per record, its coded columns `Code<T>`, parsed as they
//! are decoded, then the domain's record); the same SQL text on both backends unless a dialect really differs.

/// Statuses of a dossier in process (2, 4, 5, 6): its clock may be running. Migration 0010's partial index
/// `dossiers_due` repeats this list verbatim; a query that wants it repeats it too.
pub const IN_PROCESS: &str = "('received','processing','awaiting_supplement','awaiting_payment')";
/// Statuses of a dossier not yet finished (`IN_PROCESS` and submitted online): the partial
/// index `dossiers_status` (migration 0010), likewise.
pub const OPEN: &str = "('submitted','received','processing','awaiting_supplement','awaiting_payment')";

pub mod agencies;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod citizens;
pub mod codes;
pub mod components;
pub mod dashboard;
pub mod dossier_list;
pub mod dossiers;
pub mod drafts;
pub mod evaluation;
pub mod events;
pub mod feedback;
pub mod files;
pub mod idempotency;
pub mod incoming;
pub mod legacy;
pub mod meta;
pub mod outbox;
pub mod payments;
pub mod plan;
pub mod portal;
pub mod report;
pub mod scope;
pub mod steps;
pub mod users;
pub mod vneid;

/// A coded column (a status, a role, a method) in a row struct: decoded as text and
/// parsed, so that text which does not parse is a decode error, never a default. Nullable:
/// `Option<Code<T>>`.
pub(crate) struct Code<T>(pub T);

impl<DB: sqlx::Database, T> sqlx::Type<DB> for Code<T>
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database, T: std::str::FromStr> sqlx::Decode<'r, DB> for Code<T>
where
    String: sqlx::Decode<'r, DB>,
    T::Err: std::fmt::Display,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(Code(text.parse().map_err(|e: T::Err| e.to_string())?))
    }
}

/// A domain record from a row struct of the same fields (`r.field` each), the fields after
/// `;` taken from local variables of the same name.
macro_rules! record_from {
    ($r:ident => $ty:ident { $($f:ident),* $(,)? $(; $($local:ident),* $(,)?)? }) => {
        $ty { $($f: $r.$f,)* $($($local,)*)? }
    };
}
pub(crate) use record_from;

/// The VALUES list of a multi-row INSERT: `template` (one row, a `?` per parameter, each
/// parameter once) repeated `rows` times.
pub(crate) fn values_list(rows: usize, template: &str) -> String {
    let mut out = String::with_capacity(rows * (template.len() + 1));
    for i in 0..rows {
        if i > 0 {
            out.push(',');
        }
        out.push_str(template);
    }
    out
}

/// SQL written with `?` placeholders for the backend of a transaction: kept as is for SQLite
/// (anonymous parameters bind in O(1) each; with thousands of `$N` parameters, binding by
/// name costs O(n²) in SQLite's parameter lookup), numbered `$1, $2, …` for PostgreSQL.
pub(crate) fn positional(tx: &crate::Tx, sql: &str) -> String {
    match tx {
        crate::Tx::Sqlite(_) => sql.to_string(),
        crate::Tx::Postgres(_) => {
            let mut out = String::with_capacity(sql.len() + sql.len() / 2);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_lists_repeat_the_row() {
        assert_eq!(super::values_list(2, "(?, ?, TRUE)"), "(?, ?, TRUE),(?, ?, TRUE)");
    }
}
