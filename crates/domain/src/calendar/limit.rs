//! Time limits (*thời hạn giải quyết*) such as "3 working-days" or "0.5 working-days".
//! Owns their syntax and exact fractional amounts; knows nothing of calendars.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::CalendarError;

/// Largest amount a limit may have, in units: no procedure needs more, and it keeps every
/// minute count far inside `u64`.
pub const MAX_AMOUNT: u64 = 100_000;

/// Amounts are kept in thousandths of a unit, so 0.5 or 0.25 day are exact (no float).
const SCALE: u64 = 1000;

/// What a time limit counts. Serialised with the spelling of the limit syntax
/// (`working-days`, `working-hours`, `days`), so a unit reads the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitUnit {
    /// Working days (*ngày làm việc*): one day is one office day of working time.
    #[serde(rename = "working-days")]
    WorkingDays,
    /// Working hours (*giờ làm việc*): 60 working minutes each.
    #[serde(rename = "working-hours")]
    WorkingHours,
    /// Calendar days (*ngày*), every day counted.
    #[serde(rename = "days")]
    CalendarDays,
}

impl LimitUnit {
    /// The unit as written in a limit, e.g. `working-days`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkingDays => "working-days",
            Self::WorkingHours => "working-hours",
            Self::CalendarDays => "days",
        }
    }

    /// Reads a unit; singular forms and `calendar-days` are accepted too.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        match s {
            "working-days" | "working-day" => Ok(Self::WorkingDays),
            "working-hours" | "working-hour" => Ok(Self::WorkingHours),
            "days" | "day" | "calendar-days" | "calendar-day" => Ok(Self::CalendarDays),
            other => Err(CalendarError::UnknownLimitUnit(other.to_owned())),
        }
    }
}

impl fmt::Display for LimitUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time limit: a non-negative amount (up to three decimals) of a unit. Written
/// `"<amount> <unit>"`, e.g. `"3 working-days"`, `"0.5 working-days"`, `"4 working-hours"`,
/// `"15 days"`; serialised the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeLimit {
    thousandths: u64,
    unit: LimitUnit,
}

impl TimeLimit {
    /// A limit of `thousandths / 1000` units. Calendar days must be whole; the amount at most
    /// [`MAX_AMOUNT`].
    pub fn from_thousandths(thousandths: u64, unit: LimitUnit) -> Result<Self, CalendarError> {
        let limit = Self { thousandths, unit };
        if thousandths > MAX_AMOUNT * SCALE {
            return Err(CalendarError::LimitTooLarge(limit.amount_text()));
        }
        if unit == LimitUnit::CalendarDays && !thousandths.is_multiple_of(SCALE) {
            return Err(CalendarError::FractionalCalendarDays(limit.amount_text()));
        }
        Ok(limit)
    }

    /// `days` working days.
    pub fn working_days(days: u16) -> Self {
        Self {
            thousandths: u64::from(days) * SCALE,
            unit: LimitUnit::WorkingDays,
        }
    }

    /// `hours` working hours.
    pub fn working_hours(hours: u16) -> Self {
        Self {
            thousandths: u64::from(hours) * SCALE,
            unit: LimitUnit::WorkingHours,
        }
    }

    /// `days` calendar days.
    pub fn calendar_days(days: u16) -> Self {
        Self {
            thousandths: u64::from(days) * SCALE,
            unit: LimitUnit::CalendarDays,
        }
    }

    /// Reads `"<amount> <unit>"`: amount a plain decimal (`3`, `0.5`, `1.25`), unit one of
    /// `working-days`, `working-hours`, `days`.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let mut words = s.split_whitespace();
        let (Some(amount), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(CalendarError::TimeLimitSyntax(s.to_owned()));
        };
        let unit = LimitUnit::parse(unit)?;
        let thousandths = parse_amount(amount)?;
        Self::from_thousandths(thousandths, unit)
    }

    /// The unit.
    pub fn unit(&self) -> LimitUnit {
        self.unit
    }

    /// The amount in thousandths of the unit (500 for half a day).
    pub fn thousandths(&self) -> u64 {
        self.thousandths
    }

    /// Whole calendar days, for a calendar-day limit.
    pub(crate) fn whole_units(&self) -> u64 {
        self.thousandths / SCALE
    }

    /// Working minutes of a working-time limit given the minutes of one office day; `None`
    /// for calendar days. A fraction of a minute rounds up: a limit is never shortened.
    pub fn working_minutes(&self, day_minutes: u32) -> Option<u64> {
        let per_unit = match self.unit {
            LimitUnit::WorkingDays => u64::from(day_minutes),
            LimitUnit::WorkingHours => 60,
            LimitUnit::CalendarDays => return None,
        };
        Some((self.thousandths * per_unit).div_ceil(SCALE))
    }

    fn amount_text(&self) -> String {
        let whole = self.thousandths / SCALE;
        let fraction = self.thousandths % SCALE;
        if fraction == 0 {
            whole.to_string()
        } else {
            let digits = format!("{fraction:03}");
            format!("{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// Reads a plain decimal with at most three decimals into thousandths.
fn parse_amount(text: &str) -> Result<u64, CalendarError> {
    if text.starts_with('-') {
        return Err(CalendarError::NegativeLimit(text.to_owned()));
    }
    let invalid = || CalendarError::InvalidLimitAmount(text.to_owned());
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > 3 {
        return Err(invalid());
    }
    let too_large = || CalendarError::LimitTooLarge(text.to_owned());
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let fraction: u64 = format!("{fraction:0<3}").parse().map_err(|_| invalid())?;
    whole
        .checked_mul(SCALE)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_large)
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_text(), self.unit)
    }
}

impl FromStr for TimeLimit {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeLimit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::from_str_via_serde;
    use proptest::prelude::*;

    #[test]
    fn reads_and_writes_the_documented_syntax() {
        for (text, thousandths, unit) in [
            ("3 working-days", 3000, LimitUnit::WorkingDays),
            ("0.5 working-days", 500, LimitUnit::WorkingDays),
            ("4 working-hours", 4000, LimitUnit::WorkingHours),
            ("15 days", 15_000, LimitUnit::CalendarDays),
            ("1.25 working-days", 1250, LimitUnit::WorkingDays),
            ("0 working-days", 0, LimitUnit::WorkingDays),
        ] {
            let limit = TimeLimit::parse(text).expect(text);
            assert_eq!((limit.thousandths(), limit.unit()), (thousandths, unit));
            assert_eq!(limit.to_string(), text);
        }
        assert_eq!(
            TimeLimit::parse("  1 working-day ").map(|l| l.to_string()),
            Ok("1 working-days".to_owned())
        );
        assert_eq!(
            TimeLimit::parse("0.50 working-days"),
            Ok(TimeLimit::from_thousandths(500, LimitUnit::WorkingDays).expect("valid"))
        );
    }

    #[test]
    fn rejects_bad_limits_with_clear_messages() {
        let error = |s: &str| TimeLimit::parse(s).expect_err(s).to_string();
        assert_eq!(
            error("3 fortnights"),
            "unknown time limit unit \"fortnights\"; expected working-days, working-hours or days"
        );
        assert_eq!(error("-2 working-days"), "time limit amount \"-2\" is negative");
        assert_eq!(
            error("three working-days"),
            "time limit amount \"three\" is not a number with at most three decimals, e.g. 0.5"
        );
        for bad in [
            "1.2345 working-days",
            ".5 working-days",
            "5. days",
            "1e3 days",
            "+3 days",
            "NaN days",
        ] {
            assert!(
                matches!(TimeLimit::parse(bad), Err(CalendarError::InvalidLimitAmount(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            TimeLimit::parse("3working-days"),
            Err(CalendarError::TimeLimitSyntax(_))
        ));
        assert!(matches!(
            TimeLimit::parse(""),
            Err(CalendarError::TimeLimitSyntax(_))
        ));
        assert_eq!(
            error("1.5 days"),
            "calendar-day limit 1.5 must be a whole number of days"
        );
        assert!(matches!(
            TimeLimit::parse("100001 working-days"),
            Err(CalendarError::LimitTooLarge(_))
        ));
        assert!(matches!(
            TimeLimit::parse("99999999999999999999999 days"),
            Err(CalendarError::LimitTooLarge(_))
        ));
    }

    #[test]
    fn converts_to_working_minutes() {
        let minutes = |s: &str| TimeLimit::parse(s).expect(s).working_minutes(480);
        assert_eq!(minutes("1 working-days"), Some(480));
        assert_eq!(minutes("0.5 working-days"), Some(240));
        assert_eq!(minutes("4 working-hours"), Some(240));
        assert_eq!(minutes("0.001 working-hours"), Some(1)); // rounded up
        assert_eq!(minutes("15 days"), None);
    }

    #[test]
    fn serialises_as_text() {
        use serde::de::value::{Error, StrDeserializer};
        let limit = TimeLimit::deserialize(StrDeserializer::<Error>::new("0.5 working-days"));
        assert_eq!(limit.map(|l| l.thousandths()), Ok(500));
        assert!(TimeLimit::deserialize(StrDeserializer::<Error>::new("soon")).is_err());
        for unit in [
            LimitUnit::WorkingDays,
            LimitUnit::WorkingHours,
            LimitUnit::CalendarDays,
        ] {
            assert_eq!(from_str_via_serde::<LimitUnit>(unit.as_str()), Ok(unit));
        }
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(thousandths in 0u64..=MAX_AMOUNT * 1000, unit in 0..3) {
            let unit = [LimitUnit::WorkingDays, LimitUnit::WorkingHours, LimitUnit::CalendarDays][unit as usize];
            let thousandths = if unit == LimitUnit::CalendarDays { thousandths / 1000 * 1000 } else { thousandths };
            let limit = TimeLimit::from_thousandths(thousandths, unit).expect("valid");
            prop_assert_eq!(TimeLimit::parse(&limit.to_string()), Ok(limit));
        }
    }
}
