//! Repositories, one module per aggregate. Thin: SQL in, rows out; the same SQL text on both
//! backends unless a dialect really differs.

pub mod agencies;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod citizens;
pub mod dashboard;
pub mod dossiers;
pub mod evaluation;
pub mod feedback;
pub mod files;
pub mod legacy;
pub mod lifecycle;
pub mod meta;
pub mod report;
pub mod users;

/// The VALUES list of a multi-row INSERT: `template` is one row with `{1}`…`{per_row}` for
/// its parameters, repeated `rows` times with `$N` numbered on (`{1}` of row 2 is
/// `$per_row+1`).
pub(crate) fn values_list(rows: usize, per_row: usize, template: &str) -> String {
    let mut out = String::with_capacity(rows * (template.len() + 8));
    for i in 0..rows {
        if i > 0 {
            out.push(',');
        }
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map(|c| open + c).unwrap_or(rest.len() - 1);
            let n: usize = rest[open + 1..close].parse().unwrap_or(0);
            out.push_str(&format!("${}", i * per_row + n));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_lists_number_on() {
        assert_eq!(
            super::values_list(2, 2, "({1}, {2}, {1})"),
            "($1, $2, $1),($3, $4, $3)"
        );
        assert_eq!(super::values_list(1, 1, "({1}, TRUE)"), "($1, TRUE)");
    }
}
