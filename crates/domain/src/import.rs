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

fn read_header<R: std::io::Read>(reader: &mut csv::Reader<R>, expected: &[&str]) -> Result<(), ImportErrors> {
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

/// The header of a historic dossiers file (`motcua import dossiers`).
pub const DOSSIERS_HEADER: [&str; 8] = [
    "code",
    "procedure_code",
    "agency_code",
    "channel",
    "received_at",
    "due_at",
    "finished_at",
    "outcome",
];

/// How a historic dossier ended (empty: still in process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    InProcess,
    Resolved,
    Returned,
    Withdrawn,
    Stopped,
    Refused,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "" => Outcome::InProcess,
            "resolved" => Outcome::Resolved,
            "returned" => Outcome::Returned,
            "withdrawn" => Outcome::Withdrawn,
            "stopped" => Outcome::Stopped,
            "refused" => Outcome::Refused,
            _ => return None,
        })
    }

    /// The dossier status it is stored with.
    pub fn status(self) -> crate::dossier::Status {
        use crate::dossier::Status;
        match self {
            Outcome::InProcess => Status::Processing,
            Outcome::Resolved => Status::Resolved,
            Outcome::Returned => Status::Returned,
            Outcome::Withdrawn => Status::Withdrawn,
            Outcome::Stopped => Status::Stopped,
            Outcome::Refused => Status::Refused,
        }
    }
}

/// One row of a historic dossiers file, validated. Instants are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyDossier {
    pub line: u64,
    pub code: String,
    pub procedure_code: String,
    pub agency_code: String,
    pub channel: crate::dossier::Channel,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub outcome: Outcome,
}

fn instant(s: &str, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|_| format!("{name} {s:?} is not an RFC 3339 instant (e.g. 2025-03-04T08:30:00+07:00)"))?
        .to_utc();
    let year = chrono::Datelike::year(&calendar::to_local(t));
    if !(calendar::FIRST_YEAR..=calendar::LAST_YEAR).contains(&year) {
        return Err(format!(
            "{name} {s:?} is outside {}–{}",
            calendar::FIRST_YEAR,
            calendar::LAST_YEAR
        ));
    }
    Ok(Some(t))
}

/// Validates one record (8 fields) of a historic dossiers file.
pub fn legacy_dossier(line: u64, f: &csv::StringRecord) -> Result<LegacyDossier, String> {
    use crate::dossier::Channel;
    if f.len() != DOSSIERS_HEADER.len() {
        return Err(format!(
            "expected 8 fields ({}), found {}",
            DOSSIERS_HEADER.join(","),
            f.len()
        ));
    }
    let code = &f[0];
    if code.is_empty()
        || code.chars().count() > 64
        || code.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("code {code:?} must be 1–64 characters without spaces"));
    }
    if code.starts_with("online-") {
        return Err(format!(
            "code {code:?} must not start with \"online-\" (reserved)"
        ));
    }
    for (i, name) in [(1, "procedure_code"), (2, "agency_code")] {
        if f[i].is_empty() || f[i].chars().count() > 64 {
            return Err(format!("{name} must be 1–64 characters"));
        }
    }
    let channel = match &f[3] {
        "direct" => Channel::Direct,
        "online" => Channel::Online,
        "postal" => Channel::Postal,
        other => return Err(format!("channel {other:?} must be direct, online or postal")),
    };
    let outcome = Outcome::parse(&f[7]).ok_or_else(|| {
        format!(
            "outcome {:?} must be resolved, returned, withdrawn, stopped, refused or empty (in process)",
            &f[7]
        )
    })?;
    let received_at = instant(&f[4], "received_at")?.ok_or("received_at is required")?;
    let due_at = instant(&f[5], "due_at")?;
    let finished_at = instant(&f[6], "finished_at")?;
    if due_at.is_none() && outcome != Outcome::Refused {
        return Err("due_at is required (it may be empty only for refused dossiers)".into());
    }
    match (outcome, finished_at) {
        (Outcome::InProcess, Some(_)) => {
            return Err("finished_at is given but outcome is empty (in process); give the outcome".into());
        }
        (o, None) if o != Outcome::InProcess => {
            return Err(format!("finished_at is required when the outcome is {:?}", &f[7]));
        }
        _ => {}
    }
    if finished_at.is_some_and(|t| t < received_at) {
        return Err("finished_at is before received_at".into());
    }
    if due_at.is_some_and(|t| t < received_at) {
        return Err("due_at is before received_at".into());
    }
    Ok(LegacyDossier {
        line,
        code: code.to_string(),
        procedure_code: f[1].to_string(),
        agency_code: f[2].to_string(),
        channel,
        received_at,
        due_at,
        finished_at,
        outcome,
    })
}

/// Reads a historic dossiers file one row at a time, in constant memory (the import reads a
/// file twice: once to check all of it, once to write it). The header is checked on creation;
/// a byte-order mark is skipped.
pub struct LegacyReader<R> {
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    ended: bool,
}

/// One row of a historic dossiers file as read: its line, and the validated row or why it is
/// not valid. `fingerprint` is a hash of the row's fields (see [`LegacyCheck::fingerprint`]).
pub struct LegacyRead {
    pub line: u64,
    pub row: Result<LegacyDossier, String>,
    pub fingerprint: u64,
}

impl<R: std::io::Read> LegacyReader<R> {
    pub fn new(input: R) -> Result<Self, ImportErrors> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        read_header(&mut reader, &DOSSIERS_HEADER)?;
        Ok(LegacyReader {
            reader,
            record: csv::StringRecord::new(),
            ended: false,
        })
    }

    /// The next row; None at the end. Unreadable CSV (broken quoting, bytes that are not
    /// UTF-8, a read error) is an error row, after which the file ends: what follows cannot be
    /// told apart reliably.
    pub fn next_row(&mut self) -> Option<LegacyRead> {
        if self.ended {
            return None;
        }
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.ended = true;
                return None;
            }
            Err(e) => {
                self.ended = true;
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => format!("the file is not UTF-8 text: {e}"),
                    _ => format!("unreadable CSV: {e}"),
                };
                return Some(LegacyRead {
                    line,
                    row: Err(message),
                    fingerprint: 0,
                });
            }
        }
        let line = self.record.position().map(|p| p.line()).unwrap_or(0);
        Some(LegacyRead {
            line,
            row: legacy_dossier(line, &self.record),
            fingerprint: fingerprint(&self.record),
        })
    }

    /// Bytes of the file read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// What checking a whole historic dossiers file found, when every row is valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyCheck {
    pub rows: u64,
    /// Agency codes the file uses, each with the first line using it, by line.
    pub agencies: Vec<(String, u64)>,
    /// Procedure codes the file uses, each with the first line using it, by line.
    pub procedures: Vec<(String, u64)>,
    /// A hash of every row in order: reading the file again must give the same, or it changed
    /// between the check and the writing.
    pub fingerprint: u64,
}

/// Checks a whole historic dossiers file without keeping its rows: every row valid and codes
/// unique in the file, or every error (up to 50) with its line. Memory is a 64-bit hash per
/// code; if two codes share a hash (a repeated code, or by chance) the file is read again
/// through `reopen` to tell which, so the errors are exact. `progress` is called every 10,000
/// rows with the bytes read so far.
pub fn check_legacy_dossiers<R: std::io::Read>(
    input: R,
    reopen: impl FnOnce() -> std::io::Result<R>,
    mut progress: impl FnMut(u64),
) -> Result<LegacyCheck, ImportErrors> {
    let mut reader = LegacyReader::new(input)?;
    let mut errors: Vec<LineError> = Vec::new();
    let mut check = LegacyCheck::default();
    let mut agencies: HashMap<String, u64> = HashMap::new();
    let mut procedures: HashMap<String, u64> = HashMap::new();
    // Hashes of the codes of valid rows, and those seen twice.
    let mut seen: HashSet<u64, std::hash::BuildHasherDefault<Prehashed>> = HashSet::default();
    let mut suspects: HashSet<u64> = HashSet::new();
    let mut last_line = 0;
    while errors.len() < MAX_ERRORS {
        let Some(read) = reader.next_row() else { break };
        last_line = read.line;
        if check.rows % 10_000 == 0 {
            progress(reader.bytes_read());
        }
        let d = match read.row {
            Ok(d) => d,
            Err(message) => {
                errors.push(LineError {
                    line: read.line,
                    message,
                });
                continue;
            }
        };
        check.rows += 1;
        check.fingerprint = fold_fingerprint(check.fingerprint, read.fingerprint);
        let hash = code_hash(&d.code);
        if !seen.insert(hash) {
            // Settled below, once the whole file is read.
            suspects.insert(hash);
            errors.push(LineError {
                line: d.line,
                message: String::new(),
            });
            continue;
        }
        agencies.entry(d.agency_code).or_insert(d.line);
        procedures.entry(d.procedure_code).or_insert(d.line);
    }
    if !suspects.is_empty() {
        errors.retain(|e| !e.message.is_empty());
        errors.extend(repeated_codes(reopen, &suspects, last_line)?);
        errors.sort_by_key(|e| e.line);
        errors.truncate(MAX_ERRORS);
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    let by_line = |m: HashMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by_key(|x| x.1);
        v
    };
    check.agencies = by_line(agencies);
    check.procedures = by_line(procedures);
    Ok(check)
}

/// The valid rows repeating the code of an earlier valid row, among those whose code hash is
/// in `suspects`, found by reading the file again up to `last_line`.
fn repeated_codes<R: std::io::Read>(
    reopen: impl FnOnce() -> std::io::Result<R>,
    suspects: &HashSet<u64>,
    last_line: u64,
) -> Result<Vec<LineError>, ImportErrors> {
    let input = reopen().map_err(|e| {
        ImportErrors(vec![LineError {
            line: 0,
            message: format!("cannot read the file again: {e}"),
        }])
    })?;
    let mut reader = LegacyReader::new(input)?;
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    while let Some(read) = reader.next_row() {
        if read.line > last_line {
            break;
        }
        let Ok(d) = read.row else { continue };
        if !suspects.contains(&code_hash(&d.code)) {
            continue;
        }
        if let Some(before) = last.insert(d.code.clone(), d.line) {
            out.push(LineError {
                line: d.line,
                message: format!("code {:?} is already given on line {before}", d.code),
            });
        }
    }
    Ok(out)
}

/// A 64-bit hash of a dossier code (SipHash with fixed keys: the same in every run).
fn code_hash(code: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    code.hash(&mut h);
    h.finish()
}

/// A hash of a record's fields, cheap (a multiply per eight bytes): it tells a changed file,
/// it does not defend against a crafted one.
fn fingerprint(record: &csv::StringRecord) -> u64 {
    let mut h = record.len() as u64;
    for field in record.iter() {
        let bytes = field.as_bytes();
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        h = mix(h, u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
    }
    h
}

/// The fingerprint of rows so far, `rows`, followed by a row of fingerprint `row`.
pub fn fold_fingerprint(rows: u64, row: u64) -> u64 {
    mix(rows, row)
}

fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0, u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Reads a whole historic dossiers file into memory: every row valid and codes unique in the
/// file, or every error (up to 50) with its line. (The import streams instead:
/// [`check_legacy_dossiers`], then [`LegacyReader`].)
pub fn legacy_dossiers(text: &str) -> Result<Vec<LegacyDossier>, ImportErrors> {
    check_legacy_dossiers(text.as_bytes(), || Ok(text.as_bytes()), |_| {})?;
    let mut reader = LegacyReader::new(text.as_bytes())?;
    let mut out = Vec::new();
    while let Some(read) = reader.next_row() {
        out.push(read.row.map_err(|message| {
            ImportErrors(vec![LineError {
                line: read.line,
                message,
            }])
        })?);
    }
    Ok(out)
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

    #[test]
    fn historic_dossiers_are_read_with_their_offsets() {
        let text = "\u{feff}code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome\n\
            H56.01-250304-0001,1.001193,000.30.01.H56,direct,2025-03-04T08:30:00+07:00,2025-03-05T17:00:00+07:00,2025-03-05T01:00:00Z,resolved\n\
            H56.01-250304-0002,1.001193,000.30.01.H56,online,2025-03-03T20:00:00Z,2025-03-06T10:00:00Z,,\n\
            H56.01-250304-0003,1.001193,000.30.01.H56,postal,2025-03-04T09:00:00+07:00,,2025-03-04T10:00:00+07:00,refused\n";
        let rows = legacy_dossiers(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].received_at.to_rfc3339(), "2025-03-04T01:30:00+00:00");
        assert_eq!(rows[0].outcome, Outcome::Resolved);
        assert_eq!(rows[1].outcome, Outcome::InProcess);
        assert_eq!(
            crate::calendar::local_date(rows[1].received_at).to_string(),
            "2025-03-04",
            "UTC evening is the next local day"
        );
        assert_eq!(rows[2].due_at, None);
        assert_eq!(rows[2].line, 4);
    }

    #[test]
    fn every_bad_historic_row_is_named_with_its_line() {
        let text = "code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome\n\
            A1,1.1,X,fax,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n\
            A2,1.1,X,direct,04/03/2025,2025-03-05T08:30:00+07:00,,\n\
            A3,1.1,X,direct,2025-03-04T08:30:00+07:00,,,\n\
            A4,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,2025-03-05T08:30:00+07:00,\n\
            A5,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,resolved\n\
            A6,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,2025-03-01T08:30:00+07:00,resolved\n\
            A7,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,done\n\
            A1,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n\
            A9,1.1,X,direct\n\
            ,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n";
        let errors = legacy_dossiers(text).unwrap_err().0;
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        // Line 9 repeats a code whose first line was rejected: that is not a duplicate.
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8, 10, 11], "{errors:?}");
        assert!(errors[1].message.contains("RFC 3339"), "{}", errors[1]);
        assert!(errors[2].message.contains("due_at is required"), "{}", errors[2]);
        assert!(errors[5].message.contains("before received_at"), "{}", errors[5]);
        let dup = "code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome\n\
            B1,1.1,X,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n\
            B1,1.1,X,online,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n";
        let errors = legacy_dossiers(dup).unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("already given on line 2") && errors[0].line == 3,
            "{errors:?}"
        );
        let header = legacy_dossiers("code,procedure,agency\n").unwrap_err();
        assert_eq!(header.0[0].line, 1);
    }

    #[test]
    fn checking_a_file_keeps_codes_used_and_finds_repeats_far_apart() {
        let row = |code: &str, agency: &str| {
            format!("{code},1.1,{agency},direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n")
        };
        let mut text = format!("{}\n", DOSSIERS_HEADER.join(","));
        for i in 0..3000 {
            text += &row(&format!("C-{i}"), if i < 2000 { "A1" } else { "A2" });
        }
        let check = check_legacy_dossiers(text.as_bytes(), || Ok(text.as_bytes()), |_| {}).unwrap();
        assert_eq!(check.rows, 3000);
        assert_eq!(
            check.agencies,
            vec![("A1".to_string(), 2), ("A2".to_string(), 2002)]
        );
        assert_eq!(check.procedures, vec![("1.1".to_string(), 2)]);
        // The same rows read again give the same fingerprint; a changed row does not.
        let mut reader = LegacyReader::new(text.as_bytes()).unwrap();
        let mut fingerprint = 0;
        while let Some(read) = reader.next_row() {
            assert!(read.row.is_ok());
            fingerprint = fold_fingerprint(fingerprint, read.fingerprint);
        }
        assert_eq!(fingerprint, check.fingerprint);
        let changed = text.replace("C-2999,1.1,A2,direct", "C-2999,1.1,A2,postal");
        let other = check_legacy_dossiers(changed.as_bytes(), || Ok(changed.as_bytes()), |_| {}).unwrap();
        assert_ne!(other.fingerprint, check.fingerprint);

        // Line 3002 repeats line 2; line 3003 repeats line 3002 (as the in-memory check said).
        text += &row("C-0", "A1");
        text += &row("C-0", "A1");
        text += &row("X", "A1");
        let errors = check_legacy_dossiers(text.as_bytes(), || Ok(text.as_bytes()), |_| {})
            .unwrap_err()
            .0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[1].line), (3002, 3003));
        assert!(
            errors[0].message.contains("\"C-0\" is already given on line 2"),
            "{}",
            errors[0]
        );
        assert!(errors[1].message.contains("on line 3002"), "{}", errors[1]);
        let bad = b"code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome\nA,1,X,direct,2025-03-04T08:30:00Z,2025-03-05T08:30:00Z,,\n\xff\xfe,1,X,direct,2025-03-04T08:30:00Z,2025-03-05T08:30:00Z,,\n";
        let errors = check_legacy_dossiers(&bad[..], || Ok(&bad[..]), |_| {})
            .unwrap_err()
            .0;
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].message.contains("not UTF-8"), "{}", errors[0]);
    }
}
