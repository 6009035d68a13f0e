//! Parsing of import files (CSV) into domain values, all-or-nothing: either every record is
//! valid, or the caller gets every error with its line number. No I/O here.

use crate::calendar::{self, CalendarError, Override, OverrideKind};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt;

/// At most this many errors are reported; a file that bad needs fixing at the source.
const MAX_ERRORS: usize = 50;

/// One problem in an import file, with its 1-based line number (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every error of a rejected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<LineError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ImportErrors {}

/// Reads a calendar override file: header `date,kind,name`; `kind` is `day_off`, `workday` or
/// `remove`; `date` is `YYYY-MM-DD` within 1900–2199; one row per date.
pub fn calendar_overrides(text: &str) -> Result<Vec<Override>, ImportErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let header_ok = match reader.headers() {
        Ok(h) => h.iter().collect::<Vec<_>>() == ["date", "kind", "name"],
        Err(_) => false,
    };
    if !header_ok {
        return Err(ImportErrors(vec![LineError {
            line: 1,
            message: "the header must be exactly: date,kind,name".into(),
        }]));
    }
    let mut out = Vec::new();
    let mut seen: HashMap<NaiveDate, u64> = HashMap::new();
    for record in reader.records() {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(LineError {
                    line,
                    message: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut fail = |message: String| errors.push(LineError { line, message });
        if record.len() != 3 {
            fail(format!(
                "expected 3 fields (date,kind,name), found {}",
                record.len()
            ));
            continue;
        }
        let date = match NaiveDate::parse_from_str(&record[0], "%Y-%m-%d") {
            Ok(d) if (calendar::FIRST_YEAR..=calendar::LAST_YEAR).contains(&chrono::Datelike::year(&d)) => d,
            Ok(d) => {
                fail(CalendarError::DateOutOfRange(d).to_string());
                continue;
            }
            Err(_) => {
                fail(format!("invalid date {:?}: expected YYYY-MM-DD", &record[0]));
                continue;
            }
        };
        let kind = match OverrideKind::parse(&record[1]) {
            Ok(k) => k,
            Err(e) => {
                fail(e.to_string());
                continue;
            }
        };
        if record[2].chars().count() > 200 {
            fail("name is longer than 200 characters".into());
            continue;
        }
        if let Some(first) = seen.insert(date, line) {
            fail(format!("{date} is already given on line {first}"));
            continue;
        }
        out.push(Override {
            date,
            kind,
            name: record[2].to_string(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_valid_file_with_quoted_vietnamese_names() {
        let text = "date,kind,name\n2026-02-14,workday,\"Làm bù, thứ Bảy\"\n2026-02-20,day_off,Nghỉ Tết bổ sung\n2026-09-01,remove,\n";
        let got = calendar_overrides(text).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].name, "Làm bù, thứ Bảy");
        assert_eq!(got[0].kind, OverrideKind::Workday);
        assert_eq!(got[2].kind, OverrideKind::Remove);
        assert_eq!(got[2].name, "");
    }

    #[test]
    fn accepts_a_byte_order_mark() {
        assert_eq!(
            calendar_overrides("\u{feff}date,kind,name\n2026-01-02,day_off,x\n")
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn reports_every_bad_line_with_its_number() {
        let text = "date,kind,name\n2026-13-01,day_off,x\n2026-01-02,holiday,x\n2026-01-05,day_off,ok\n2026-01-05,workday,dup\n2300-01-01,day_off,x\n";
        let errs = calendar_overrides(text).unwrap_err().0;
        let lines: Vec<u64> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 5, 6], "{errs:?}");
        assert!(errs[0].message.contains("invalid date"));
        assert!(errs[1].message.contains("unknown override kind"));
        assert!(errs[2].message.contains("line 4"));
    }

    #[test]
    fn rejects_a_wrong_header() {
        let errs = calendar_overrides("day,kind,name\n").unwrap_err().0;
        assert_eq!(errs[0].line, 1);
        assert!(calendar_overrides("").is_err());
    }

    #[test]
    fn rejects_a_short_row() {
        let errs = calendar_overrides("date,kind,name\n2026-01-02,day_off\n")
            .unwrap_err()
            .0;
        assert_eq!(errs[0].line, 2);
    }
}
