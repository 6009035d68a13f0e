//! Identifier codes of the domain: agency identifiers (QCVN 102), procedure codes and the
//! dossier code of Circular 01/2018 and 03/2025. Parsing only; issuing sequences is storage's job.

use chrono::NaiveDate;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("invalid agency code {0:?}: expected dotted segments such as 000.00.06.H56")]
    Agency(String),
    #[error("invalid procedure code {0:?}: expected d.dddddd, optionally followed by .SUFFIX")]
    Procedure(String),
    #[error("invalid dossier code {0:?}: expected AGENCY-YYMMDD-NNNN")]
    Dossier(String),
}

/// Agency identifier code (*mã định danh*, QCVN 102:2016/BTTTT), e.g. `000.00.06.H56`.
/// Loaded from data, never derived; we only check its shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.split('.').count() >= 2
            && s.split('.')
                .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric()));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(CodeError::Agency(s.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Procedure code of the national database (CSDLQG TTHC): `d.dddddd`, with an optional local
/// suffix (`1.000948.H38`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        let mut parts = s.splitn(3, '.');
        let head = parts.next().unwrap_or("");
        let body = parts.next().unwrap_or("");
        let suffix = parts.next();
        let ok = head.len() == 1
            && head.chars().all(|c| c.is_ascii_digit())
            && body.len() == 6
            && body.chars().all(|c| c.is_ascii_digit())
            && suffix.is_none_or(|x| {
                !x.is_empty() && x.len() <= 20 && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
            });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(CodeError::Procedure(s.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Dossier code (*mã số hồ sơ*): `<receiving agency id>-<YYMMDD>-<NNNN>`; the per-agency daily
/// sequence has 4 digits and widens to 5+ past 9999. Unique forever, never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DossierCode {
    pub agency: AgencyCode,
    pub date: NaiveDate,
    pub seq: u32,
}

impl DossierCode {
    pub fn new(agency: AgencyCode, date: NaiveDate, seq: u32) -> Self {
        Self { agency, date, seq }
    }

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let err = || CodeError::Dossier(s.to_string());
        let mut it = s.trim().rsplitn(3, '-');
        let seq = it.next().ok_or_else(err)?;
        let date = it.next().ok_or_else(err)?;
        let agency = it.next().ok_or_else(err)?;
        if seq.len() < 4
            || !seq.chars().all(|c| c.is_ascii_digit())
            || (seq.len() > 4 && seq.starts_with('0'))
        {
            return Err(err());
        }
        if date.len() != 6 || !date.chars().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        let date = NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").map_err(|_| err())?;
        let seq: u32 = seq.parse().map_err(|_| err())?;
        if seq == 0 {
            return Err(err());
        }
        let agency = AgencyCode::parse(agency).map_err(|_| err())?;
        Ok(Self { agency, date, seq })
    }

    /// The dossier code in what a citizen typed or pasted: any case, spaces around the
    /// dashes, typographic dashes and invisible characters, inside an SMS's words ("Mã hồ sơ:
    /// 000.00.01.h56 – 261207 – 0001."). None if there is no code of this shape in it.
    pub fn find_in(text: &str) -> Option<Self> {
        let mut clean = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => {}
                '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' => clean.push('-'),
                c => clean.push(c),
            }
        }
        // No space next to a dash: "H56 - 261207" is one code.
        let mut joined = String::with_capacity(clean.len());
        let chars: Vec<char> = clean.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_whitespace() {
                let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
                let after = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if before == Some(&'-') || after == Some(&'-') {
                    continue;
                }
            }
            joined.push(c);
        }
        joined
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .map(|token| token.trim_matches(|c| c == '.' || c == '-'))
            .find_map(|token| Self::parse(&token.to_ascii_uppercase()).ok())
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:04}",
            self.agency,
            self.date.format("%y%m%d"),
            self.seq
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossier_code_has_the_circular_format() {
        let code = DossierCode::new(
            AgencyCode::parse("000.00.06.H56").unwrap(),
            NaiveDate::from_ymd_opt(2023, 10, 27).unwrap(),
            361,
        );
        assert_eq!(code.to_string(), "000.00.06.H56-231027-0361");
        assert_eq!(DossierCode::parse("000.00.06.H56-231027-0361").unwrap(), code);
    }

    #[test]
    fn dossier_sequence_widens_past_9999() {
        let code = DossierCode::new(
            AgencyCode::parse("000.00.06.H56").unwrap(),
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            10_000,
        );
        assert_eq!(code.to_string(), "000.00.06.H56-260105-10000");
        assert_eq!(DossierCode::parse(&code.to_string()).unwrap(), code);
    }

    #[test]
    fn a_code_is_found_however_it_was_typed_or_pasted() {
        let code = "000.00.01.H56-261207-0001";
        for typed in [
            code,
            "  000.00.01.h56-261207-0001  ",
            "000.00.01.H56 - 261207 - 0001",
            "000.00.01.H56\u{2013}261207\u{2014}0001",
            "000.00.01.H56-261207-\u{200B}0001",
            "Mã hồ sơ: 000.00.01.H56-261207-0001. Hẹn trả 15/12/2026.",
            "Ho so 000.00.01.H56-261207-0001 da duoc tiep nhan",
            "(000.00.01.H56-261207-0001)",
        ] {
            assert_eq!(
                DossierCode::find_in(typed).map(|c| c.to_string()).as_deref(),
                Some(code),
                "{typed:?}"
            );
        }
        for nothing in [
            "",
            "   ",
            "hồ sơ của tôi",
            "261207-0001",
            "000.00.01.H56-261307-0001",
        ] {
            assert_eq!(DossierCode::find_in(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn bad_dossier_codes_are_rejected() {
        for bad in [
            "",
            "abc",
            "000.00.06.H56-231327-0001",
            "000.00.06.H56-231027-01",
            "000.00.06.H56-231027-0000",
            "-231027-0001",
            "000.00.06.H56-231027-01234",
        ] {
            assert!(DossierCode::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn procedure_codes() {
        assert!(ProcedureCode::parse("1.000948").is_ok());
        assert!(ProcedureCode::parse("1.000948.H38").is_ok());
        for bad in ["1000948", "1.00094", "12.000948", "1.000948.", "a.000948"] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn agency_codes() {
        assert!(AgencyCode::parse("000.00.06.H56").is_ok());
        assert!(AgencyCode::parse("H56").is_err());
        assert!(AgencyCode::parse("000..H56").is_err());
    }
}
