//! Parsing of import files (CSV) into domain values, all-or-nothing: either every record is
//! valid, or the caller gets every error with its line number. No I/O here.

use crate::calendar::{self, CalendarError, Override, OverrideKind};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
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
    let mut reader = reader(text);
    read_header(&mut reader, &["date", "kind", "name"])?;
    let mut errors = Vec::new();
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

/// Agency levels the system knows (the tree itself is data, of any depth).
pub const AGENCY_LEVELS: [&str; 7] = [
    "central",
    "ministry",
    "province",
    "department",
    "unit",
    "district",
    "commune",
];

/// One row of an agencies file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRow {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub address: String,
    /// Normalised text (`07:00-11:30,13:30-17:00`) or None for the default.
    pub office_hours: Option<String>,
    pub one_stop: bool,
}

pub const AGENCIES_HEADER: [&str; 7] = [
    "code",
    "name",
    "level",
    "parent_code",
    "address",
    "office_hours",
    "one_stop",
];

fn read_header(reader: &mut csv::Reader<&[u8]>, expected: &[&str]) -> Result<(), ImportErrors> {
    let ok = match reader.headers() {
        Ok(h) => h.iter().collect::<Vec<_>>() == expected,
        Err(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ImportErrors(vec![LineError {
            line: 1,
            message: format!("the header must be exactly: {}", expected.join(",")),
        }]))
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// Reads an agencies file (header `code,name,level,parent_code,address,office_hours,one_stop`),
/// sorted so that every parent given in the file comes before its children. Parents not in
/// the file must already exist: the caller checks that against storage.
pub fn agencies(text: &str) -> Result<Vec<AgencyRow>, ImportErrors> {
    let mut reader = reader(text);
    read_header(&mut reader, &AGENCIES_HEADER)?;
    let mut errors = Vec::new();
    let mut rows: Vec<AgencyRow> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError {
                    line: e.position().map(|p| p.line()).unwrap_or(0),
                    message: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut fail = |message: String| errors.push(LineError { line, message });
        if record.len() != AGENCIES_HEADER.len() {
            fail(format!(
                "expected {} fields, found {}",
                AGENCIES_HEADER.len(),
                record.len()
            ));
            continue;
        }
        let code = record[0].to_string();
        if crate::code::AgencyCode::parse(&code).is_err() {
            fail(format!("invalid agency code {code:?} (e.g. 000.00.06.H56)"));
            continue;
        }
        if record[1].is_empty() || record[1].chars().count() > 300 {
            fail("name must be 1–300 characters".into());
            continue;
        }
        if !AGENCY_LEVELS.contains(&&record[2]) {
            fail(format!(
                "level {:?} is not one of {}",
                &record[2],
                AGENCY_LEVELS.join(", ")
            ));
            continue;
        }
        let parent_code = (!record[3].is_empty()).then(|| record[3].to_string());
        if parent_code.as_deref() == Some(code.as_str()) {
            fail("an agency cannot be its own parent".into());
            continue;
        }
        let office_hours = if record[5].is_empty() {
            None
        } else {
            match crate::calendar::OfficeHours::parse(&record[5]) {
                Ok(h) => Some(h.to_string()),
                Err(e) => {
                    fail(format!("office_hours: {e}"));
                    continue;
                }
            }
        };
        let one_stop = match record[6].to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" | "x" | "có" => true,
            "no" | "false" | "0" | "" | "không" => false,
            other => {
                fail(format!("one_stop must be yes or no, not {other:?}"));
                continue;
            }
        };
        if let Some(first) = seen.insert(code.clone(), line) {
            fail(format!("{code} is already given on line {first}"));
            continue;
        }
        rows.push(AgencyRow {
            line,
            code,
            name: record[1].to_string(),
            level: record[2].to_string(),
            parent_code,
            address: record[4].to_string(),
            office_hours,
            one_stop,
        });
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    // Parents first; a cycle inside the file is an error.
    let mut placed: HashSet<String> = HashSet::new();
    let mut ordered = Vec::with_capacity(rows.len());
    let mut pending = rows;
    while !pending.is_empty() {
        let before = pending.len();
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|r| match &r.parent_code {
            Some(p) => !seen.contains_key(p) || placed.contains(p),
            None => true,
        });
        for r in &ready {
            placed.insert(r.code.clone());
        }
        ordered.extend(ready);
        pending = rest;
        if pending.len() == before {
            return Err(ImportErrors(
                pending
                    .iter()
                    .map(|r| LineError {
                        line: r.line,
                        message: format!("{} is part of a parent cycle", r.code),
                    })
                    .collect(),
            ));
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agencies_are_read_parents_first() {
        let text = "code,name,level,parent_code,address,office_hours,one_stop\n000.00.06.H56,Sở Tư pháp,department,000.00.00.H56,\"Số 3, Trần Hưng Đạo\",,no\n000.00.00.H56,UBND tỉnh,province,,,07:30-11:30,yes\n";
        let rows = agencies(text).unwrap();
        assert_eq!(rows[0].code, "000.00.00.H56");
        assert_eq!(rows[0].office_hours.as_deref(), Some("07:30-11:30"));
        assert!(rows[0].one_stop);
        assert_eq!(rows[1].address, "Số 3, Trần Hưng Đạo");
        assert_eq!(rows[1].line, 2);
    }

    #[test]
    fn bad_agency_rows_are_reported_by_line() {
        let text = "code,name,level,parent_code,address,office_hours,one_stop\nH56,x,province,,,,no\n000.00.01.H56,x,village,,,,no\n000.00.02.H56,x,province,,,25:00-26:00,no\n000.00.03.H56,x,province,,,,maybe\n000.00.04.H56,x,province,000.00.05.H56,,,no\n000.00.05.H56,y,province,000.00.04.H56,,,no\n";
        let errs = agencies(text).unwrap_err().0;
        assert_eq!(
            errs.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![2, 3, 4, 5],
            "{errs:?}"
        );
        let cycle = "code,name,level,parent_code,address,office_hours,one_stop\n000.00.04.H56,x,province,000.00.05.H56,,,no\n000.00.05.H56,y,province,000.00.04.H56,,,no\n";
        let errs = agencies(cycle).unwrap_err().0;
        assert!(errs[0].message.contains("cycle"));
    }

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
