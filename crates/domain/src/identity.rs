//! Identities, only constructible valid: the 12-digit personal identification number
//! (*số định danh cá nhân* / CCCD), the enterprise tax code, Vietnamese phone numbers, e-mail
//! addresses, and the accounts' usernames and passwords. Each rule is written here once.

use crate::msg;
use crate::msg::Msg;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalId(String);

impl PersonalId {
    /// Exactly 12 digits (Circular 59/2021/TT-BCA: province 3, sex/century 1, year 2, serial 6).
    pub fn parse(s: &str) -> Result<Self, Msg> {
        let s = s.trim();
        if s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(msg!("identity.personal_id"))
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
    pub fn parse(s: &str) -> Result<Self, Msg> {
        let s = s.trim();
        let digits = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_digit());
        let ok = match s.split_once('-') {
            None => digits(s, 10),
            Some((a, b)) => digits(a, 10) && digits(b, 3),
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(msg!("identity.tax_code"))
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
    pub fn parse(s: &str) -> Result<Self, Msg> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else {
            compact
        };
        if national.len() == 10 && national.starts_with('0') && national.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(national))
        } else {
            Err(msg!("identity.phone"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: something@domain.tld, no spaces, at most 200 characters; kept in
/// lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 200;

    pub fn parse(s: &str) -> Result<Self, Msg> {
        let lower = s.trim().to_lowercase();
        let ok = lower.chars().count() <= Self::MAX
            && !lower.chars().any(char::is_whitespace)
            && lower.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if ok {
            Ok(Self(lower))
        } else {
            Err(msg!("identity.email"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A citizen's sign-in: a phone number (kept as 0XXXXXXXXX) or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Phone(PhoneVn),
    Email(Email),
}

impl Login {
    /// An e-mail address when it holds `@`, a phone number otherwise.
    pub fn parse(s: &str) -> Result<Self, Msg> {
        if s.contains('@') {
            Email::parse(s).map(Login::Email)
        } else {
            PhoneVn::parse(s.trim())
                .map(Login::Phone)
                .map_err(|_| msg!("identity.login_phone"))
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Login::Phone(p) => p.as_str(),
            Login::Email(e) => e.as_str(),
        }
    }
    /// A phone number or an e-mail address, as stored.
    pub fn kind(&self) -> LoginKind {
        match self {
            Login::Phone(_) => LoginKind::Phone,
            Login::Email(_) => LoginKind::Email,
        }
    }
}

crate::stored_text! {
    /// What a citizen signs in with.
    LoginKind, "login kind" { Phone = "phone", Email = "email" }
}

crate::stored_text! {
    /// What a citizen's one-time code is for.
    CodePurpose, "code purpose" {
        /// Confirming a new account.
        Verify = "verify",
        /// Setting a new password.
        Reset = "reset",
    }
}

/// An officer's username: 3–64 of lowercase ASCII letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, Msg> {
        let s = s.trim();
        let ok = (3..=64).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(msg!("identity.username"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as chosen: 8 to 256 characters. Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(s: &str) -> Result<Self, Msg> {
        let n = s.chars().count();
        if n < Self::MIN {
            Err(msg!("identity.password_short", Self::MIN))
        } else if n > Self::MAX {
            Err(msg!("identity.password_long", Self::MAX))
        } else {
            Ok(Self(s.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never printed.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
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
    fn emails_logins_usernames_and_passwords() {
        assert_eq!(Email::parse(" An@Example.VN ").unwrap().as_str(), "an@example.vn");
        for bad in [
            "an@",
            "@x.vn",
            "an@localhost",
            "an @x.vn",
            "a@b@c.vn",
            "a@.vn",
            "a@vn.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Login::parse("+84 912 345 678").unwrap(),
            Login::Phone(PhoneVn::parse("0912345678").unwrap())
        );
        assert_eq!(Login::parse("+84 912 345 678").unwrap().kind(), LoginKind::Phone);
        assert_eq!(Login::parse("An@Example.vn").unwrap().kind().as_str(), "email");
        assert_eq!("verify".parse::<CodePurpose>(), Ok(CodePurpose::Verify));
        assert!(LoginKind::try_from("fax".to_string()).is_err());
        assert_eq!(Login::parse("An@Example.vn").unwrap().as_str(), "an@example.vn");
        assert_eq!(Login::parse("12345").unwrap_err().code, "identity.login_phone");
        assert!(Username::parse("lan.tn").is_ok());
        for bad in ["ab", "Lan", "lan tn", "lân", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Password::parse("1234567").unwrap_err(),
            crate::msg!("identity.password_short", 8)
        );
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("bí mật lắm").unwrap()),
            "Password(…)"
        );
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("Nguyễn Văn An"), "N. V. An");
        assert_eq!(mask_name("Đặng Thị Minh Hạnh"), "Đ. T. M. Hạnh");
        assert_eq!(mask_name("An"), "An");
    }
}
