//! Legal time (*thời gian pháp lý*): lunar calendar, public holidays, the work calendar,
//! office hours and deadlines. Pure computation on UTC instants read at UTC+7: no I/O, no
//! reading of the system clock, no global state.
//!
//! The rules and the decisions behind them are written up in `docs/time.md`.

#![warn(missing_docs)]

pub mod classify;
pub mod clock;
pub mod holidays;
pub mod limit;
pub mod lunar;
pub mod office_hours;
pub mod work_calendar;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

pub use classify::{InProcessClass, ResolvedClass};
pub use clock::LegalClock;
pub use holidays::{DayEntry, HolidayKind, Override, OverrideKind, effective_days, rule_days};
pub use limit::{LimitUnit, TimeLimit};
pub use lunar::{LunarDate, leap_month, lunar_new_year, lunar_to_solar, solar_to_lunar};
pub use office_hours::OfficeHours;
pub use work_calendar::WorkCalendar;

/// First solar year the calendar knows (lunar data and holiday rules).
pub const FIRST_YEAR: i32 = 1900;
/// Last solar year the calendar knows.
pub const LAST_YEAR: i32 = 2199;

/// Offset of the legal clock in seconds. Asia/Ho_Chi_Minh has been UTC+7 without daylight
/// saving time since 1975, so a fixed offset is exact for every date the system handles.
const LEGAL_OFFSET_SECONDS: i32 = 7 * 3600;

/// The legal clock's offset, UTC+7 (*giờ Việt Nam*).
pub const LEGAL_OFFSET: FixedOffset = match FixedOffset::east_opt(LEGAL_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// An instant read on the legal clock (UTC+7).
pub fn to_local(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&LEGAL_OFFSET)
}

/// The instant of a wall-clock reading on the legal clock. A fixed offset has neither gaps
/// nor folds, so every local reading names exactly one instant. (Saturates at chrono's first
/// instant for a reading in its first seven hours.)
pub fn from_local(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .and_utc()
        .checked_sub_signed(chrono::TimeDelta::seconds(i64::from(LEGAL_OFFSET_SECONDS)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The local (UTC+7) calendar date of an instant.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    to_local(instant).date_naive()
}

/// Convenience: the instant of a local date at a local time of day.
pub fn local_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    from_local(date.and_time(time))
}

/// The instant's local date lies within what the calendar knows.
pub fn check_instant(instant: DateTime<Utc>) -> Result<(), CalendarError> {
    check_date(local_date(instant))
}

/// Everything that can go wrong in legal-time computations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year is outside what the calendar knows.
    #[error("year {0} is outside the supported range {FIRST_YEAR}–{LAST_YEAR}")]
    YearOutOfRange(i32),
    /// The date is outside what the calendar knows.
    #[error("date {0} is outside the supported range {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31")]
    DateOutOfRange(NaiveDate),
    /// A lunar date that does not exist (bad month or day, a leap month the year lacks).
    #[error("{0} does not exist")]
    NoSuchLunarDate(LunarDate),
    /// An override kind string that is not `day_off`, `workday` or `remove`.
    #[error("unknown override kind {0:?}; expected day_off, workday or remove")]
    UnknownOverrideKind(String),
    /// A day kind string that is not `holiday`, `compensatory`, `day_off` or `workday`.
    #[error("unknown day kind {0:?}; expected holiday, compensatory, day_off or workday")]
    UnknownHolidayKind(String),
    /// Two overrides for the same date: the administrator must say one thing per day.
    #[error("more than one override for {0}")]
    ConflictingOverrides(NaiveDate),
    /// Office hours with no session.
    #[error("office hours need at least one session")]
    NoOfficeSession,
    /// A session whose end is not after its start.
    #[error("office session {start}–{end} does not end after it starts")]
    EmptyOfficeSession {
        /// Start of the session.
        start: NaiveTime,
        /// End of the session.
        end: NaiveTime,
    },
    /// Sessions out of order or overlapping.
    #[error("office session starting {start} overlaps or precedes the session ending {previous_end}")]
    OverlappingOfficeSessions {
        /// End of the earlier session.
        previous_end: NaiveTime,
        /// Start of the later session.
        start: NaiveTime,
    },
    /// Session bounds must be whole minutes: working time is counted in minutes.
    #[error("office session bound {0} is not a whole minute")]
    OfficeTimeNotWholeMinute(NaiveTime),
    /// Office hours text that cannot be read.
    #[error("cannot read office hours {0:?}; expected e.g. \"07:00-11:30,13:30-17:00\"")]
    OfficeHoursSyntax(String),
    /// A time limit that is not `<number> <unit>`.
    #[error("cannot read time limit {0:?}; expected \"<number> <unit>\", e.g. \"3 working-days\"")]
    TimeLimitSyntax(String),
    /// A time limit unit we do not know.
    #[error("unknown time limit unit {0:?}; expected working-days, working-hours or days")]
    UnknownLimitUnit(String),
    /// A negative time limit.
    #[error("time limit amount {0:?} is negative")]
    NegativeLimit(String),
    /// An amount that is not a plain decimal number.
    #[error("time limit amount {0:?} is not a number with at most three decimals, e.g. 0.5")]
    InvalidLimitAmount(String),
    /// An amount beyond what any procedure needs (and what the arithmetic is sized for).
    #[error("time limit amount {0} is larger than the maximum {max}", max = limit::MAX_AMOUNT)]
    LimitTooLarge(String),
    /// Calendar-day limits are whole days.
    #[error("calendar-day limit {0} must be a whole number of days")]
    FractionalCalendarDays(String),
}

/// Days since 1970-01-01, the day number every internal computation uses.
pub(crate) fn epoch_day(date: NaiveDate) -> i64 {
    // 719_163 is 1970-01-01 counted from 0001-01-01 as day 1.
    i64::from(chrono::Datelike::num_days_from_ce(&date)) - 719_163
}

/// The date of a day number, if chrono can represent it.
pub(crate) fn date_of_epoch_day(day: i64) -> Option<NaiveDate> {
    i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Day number of a proleptic Gregorian date (H. Hinnant's `days_from_civil`), usable in
/// constants.
pub(crate) const fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year as i64 - 1 } else { year as i64 };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let year_of_era = y - era * 400;
    let m = month as i64;
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Day number of 1900-01-01, the first day the calendar knows.
pub(crate) const FIRST_DAY: i64 = days_from_civil(FIRST_YEAR, 1, 1);
/// Day number of 2199-12-31, the last day the calendar knows.
pub(crate) const LAST_DAY: i64 = days_from_civil(LAST_YEAR, 12, 31);

/// Monday = 0 … Sunday = 6 for a day number (1970-01-01 was a Thursday).
pub(crate) const fn weekday_index(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Saturday and Sunday are the weekly rest days of state agencies.
pub(crate) const fn is_weekend(day: i64) -> bool {
    weekday_index(day) >= 5
}

/// The year lies within what the calendar knows.
pub fn check_year(year: i32) -> Result<(), CalendarError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::YearOutOfRange(year))
    }
}

/// The date lies within what the calendar knows.
pub fn check_date(date: NaiveDate) -> Result<(), CalendarError> {
    let day = epoch_day(date);
    if (FIRST_DAY..=LAST_DAY).contains(&day) {
        Ok(())
    } else {
        Err(CalendarError::DateOutOfRange(date))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

    /// A calendar date, for tests.
    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// The rule calendar, built once for all tests (building it in debug builds is slow).
    pub fn rules_calendar() -> &'static super::WorkCalendar {
        static CALENDAR: std::sync::OnceLock<super::WorkCalendar> = std::sync::OnceLock::new();
        CALENDAR.get_or_init(super::WorkCalendar::rules_only)
    }

    /// Reads a value from a string through serde, as a JSON string would be read.
    pub fn from_str_via_serde<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
        use serde::de::value::{Error, StrDeserializer};
        T::deserialize(StrDeserializer::<Error>::new(s)).map_err(|e| e.to_string())
    }

    /// A local (UTC+7) instant, for tests.
    pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        super::local_instant(
            date(y, m, d),
            NaiveTime::from_hms_opt(h, min, 0).expect("valid test time"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{date, local};
    use super::*;

    #[test]
    fn legal_clock_is_seven_hours_ahead_of_utc() {
        let instant = local(2025, 1, 1, 7, 0);
        assert_eq!(instant.to_rfc3339(), "2025-01-01T00:00:00+00:00");
        assert_eq!(to_local(instant).to_rfc3339(), "2025-01-01T07:00:00+07:00");
        assert_eq!(from_local(to_local(instant).naive_local()), instant);
        assert_eq!(local_date(local(2025, 1, 1, 6, 59)), date(2025, 1, 1));
        assert_eq!(
            local_date(from_local(date(2025, 1, 1).and_hms_opt(0, 0, 0).unwrap())),
            date(2025, 1, 1)
        );
    }

    #[test]
    fn day_numbers_agree_with_chrono() {
        for d in [
            date(1900, 1, 1),
            date(1970, 1, 1),
            date(2000, 2, 29),
            date(2199, 12, 31),
        ] {
            let n = epoch_day(d);
            assert_eq!(date_of_epoch_day(n), Some(d));
            assert_eq!(
                days_from_civil(
                    chrono::Datelike::year(&d),
                    chrono::Datelike::month(&d),
                    chrono::Datelike::day(&d)
                ),
                n
            );
            assert_eq!(
                weekday_index(n),
                i64::from(chrono::Datelike::weekday(&d).num_days_from_monday())
            );
        }
        assert_eq!(FIRST_DAY, epoch_day(date(1900, 1, 1)));
        assert_eq!(LAST_DAY, epoch_day(date(2199, 12, 31)));
    }
}
