//! Applicant identities, only constructible valid: the 12-digit personal identification number
//! (*số định danh cá nhân* / CCCD), the enterprise tax code, Vietnamese phone numbers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalId(String);

impl PersonalId {
    /// Exactly 12 digits (Circular 59/2021/TT-BCA: province 3, sex/century 1, year 2, serial 6).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(format!("{s:?} is not a 12-digit personal identification number"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxCode(String);

impl TaxCode {
    /// 10 digits, or 10 digits, a dash and 3 digits for a branch.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let digits = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_digit());
        let ok = match s.split_once('-') {
            None => digits(s, 10),
            Some((a, b)) => digits(a, 10) && digits(b, 3),
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a tax code (10 digits, or 10-3 for a branch)"
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneVn(String);

impl PhoneVn {
    /// A Vietnamese number: 0 and 9 more digits, or +84 and 9 digits; spaces, dots and dashes
    /// are ignored. Stored as 0XXXXXXXXX.
    pub fn parse(s: &str) -> Result<Self, String> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else {
            compact
        };
        if national.len() == 10 && national.starts_with('0') && national.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(national))
        } else {
            Err(format!("{s:?} is not a Vietnamese phone number"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name shown publicly with only initials and the given name: "Nguyễn Văn An" → "N. V. An".
pub fn mask_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        None => String::new(),
        Some((last, rest)) => {
            let mut out: Vec<String> = rest
                .iter()
                .filter_map(|w| w.chars().next())
                .map(|c| format!("{c}."))
                .collect();
            out.push((*last).to_string());
            out.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_ids_have_twelve_digits() {
        assert!(PersonalId::parse("015093000123").is_ok());
        for bad in ["01509300012", "0150930001234", "01509300012a", ""] {
            assert!(PersonalId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tax_codes() {
        assert!(TaxCode::parse("0101234567").is_ok());
        assert!(TaxCode::parse("0101234567-001").is_ok());
        assert!(TaxCode::parse("010123456").is_err());
        assert!(TaxCode::parse("0101234567-01").is_err());
    }

    #[test]
    fn phones_normalise() {
        assert_eq!(PhoneVn::parse("+84 912 345 678").unwrap().as_str(), "0912345678");
        assert_eq!(PhoneVn::parse("0912.345.678").unwrap().as_str(), "0912345678");
        assert!(PhoneVn::parse("12345").is_err());
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("Nguyễn Văn An"), "N. V. An");
        assert_eq!(mask_name("Đặng Thị Minh Hạnh"), "Đ. T. M. Hạnh");
        assert_eq!(mask_name("An"), "An");
    }
}
