//! Public holidays (*ngày nghỉ lễ, tết*) from the Labour Code rules, and the administrator's
//! per-year overrides. Owns which days are off by law; must not decide working time.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{CalendarError, days_from_civil, is_weekend, lunar};

/// First year of the Labour Code 2019 (art. 112): 2 September gains an adjacent day.
pub const NATIONAL_DAY_BRIDGE_FROM: i32 = 2021;
/// First year of Vietnam Culture Day, 24 November (Resolution 80-NQ/TW).
pub const CULTURE_DAY_FROM: i32 = 2026;

const NEW_YEAR: &str = "Tết Dương lịch";
const TET: &str = "Tết Nguyên đán";
const HUNG_KINGS: &str = "Giỗ Tổ Hùng Vương";
const VICTORY_DAY: &str = "Ngày Chiến thắng";
const LABOUR_DAY: &str = "Ngày Quốc tế Lao động";
const NATIONAL_DAY: &str = "Quốc khánh";
const CULTURE_DAY: &str = "Ngày Văn hóa Việt Nam";
/// Prefix of a compensatory day's name, followed by the holiday's name.
const COMPENSATORY_PREFIX: &str = "Nghỉ bù";
/// Name of an override that came without one.
const DEFAULT_DAY_OFF_NAME: &str = "Ngày nghỉ";
const DEFAULT_WORKDAY_NAME: &str = "Ngày làm việc bù";

/// What kind of day a calendar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A public holiday by law (*ngày lễ, tết*).
    Holiday,
    /// A compensatory day off for a holiday falling on a weekend (*nghỉ bù*, art. 111).
    Compensatory,
    /// A day off added by the administrator (e.g. a bridge day the government grants).
    DayOff,
    /// A make-up working day (*ngày làm bù*), typically a Saturday.
    Workday,
}

impl HolidayKind {
    /// The snake_case name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::Compensatory => "compensatory",
            Self::DayOff => "day_off",
            Self::Workday => "workday",
        }
    }

    /// Reads `holiday`, `compensatory`, `day_off` or `workday`.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        match s {
            "holiday" => Ok(Self::Holiday),
            "compensatory" => Ok(Self::Compensatory),
            "day_off" => Ok(Self::DayOff),
            "workday" => Ok(Self::Workday),
            other => Err(CalendarError::UnknownHolidayKind(other.to_owned())),
        }
    }

    /// Whether a day of this kind is a day off.
    pub fn is_off(self) -> bool {
        !matches!(self, Self::Workday)
    }
}

impl fmt::Display for HolidayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HolidayKind {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// One day of a year's calendar that differs from the plain Monday–Friday week.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DayEntry {
    /// The day.
    pub date: NaiveDate,
    /// Its name in Vietnamese, e.g. "Quốc khánh".
    pub name: String,
    /// What kind of day it is.
    pub kind: HolidayKind,
}

/// What an administrator's override does to a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// The date is a day off.
    DayOff,
    /// The date is a working day, even a Saturday, Sunday or rule holiday.
    Workday,
    /// The rule day (holiday or compensatory) on the date is dropped.
    Remove,
}

impl OverrideKind {
    /// The snake_case name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DayOff => "day_off",
            Self::Workday => "workday",
            Self::Remove => "remove",
        }
    }

    /// Reads `day_off`, `workday` or `remove`.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        match s {
            "day_off" => Ok(Self::DayOff),
            "workday" => Ok(Self::Workday),
            "remove" => Ok(Self::Remove),
            other => Err(CalendarError::UnknownOverrideKind(other.to_owned())),
        }
    }
}

impl fmt::Display for OverrideKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OverrideKind {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An administrator's edit of one date of the calendar, as stored per year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Override {
    /// The date edited.
    pub date: NaiveDate,
    /// What the edit does.
    pub kind: OverrideKind,
    /// Name shown in the calendar (may be empty: a default name is used).
    pub name: String,
}

/// A rule day before names are spelled out: building the work calendar needs only dates and
/// kinds, and allocating 300 years of names would dominate its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RuleDay {
    /// Day number (days since 1970-01-01).
    pub day: i64,
    pub kind: HolidayKind,
    /// The holiday (or, for a compensatory day, the holiday it compensates).
    pub name: &'static str,
    /// A second holiday on the same date (lunar 10/3 can fall on 30 April or 1 May).
    pub also: Option<&'static str>,
}

impl RuleDay {
    fn entry(&self) -> DayEntry {
        let mut name = match self.kind {
            HolidayKind::Compensatory => format!("{COMPENSATORY_PREFIX} {}", self.name),
            _ => self.name.to_owned(),
        };
        if let Some(also) = self.also {
            name.push_str("; ");
            name.push_str(also);
        }
        DayEntry {
            date: super::date_of_epoch_day(self.day).expect("a rule day lies within 1900–2199"),
            name,
            kind: self.kind,
        }
    }
}

/// The days off the law gives in a year (1900–2199), sorted by date, one entry per date.
///
/// Rules (Labour Code 2019 art. 112; art. 115 of the 2012 Code before 2021):
/// - 1 January; 30 April; 1 May; 2 September;
/// - Tết: five days, the last day of the lunar year and lunar 1/1 to 4/1;
/// - Hùng Kings' commemoration, lunar 10/3 (of the ordinary, not the leap, month 3);
/// - from 2021, one day adjacent to 2 September chosen by weekday to join the weekend;
/// - from 2026, 24 November;
/// - a holiday on a Saturday or Sunday gives a compensatory day on the next day that is
///   neither a weekend, a holiday nor an earlier compensatory day (art. 111).
///
/// Two holidays on one date give one entry carrying both names and no extra day: the law
/// grants none. Law before the 2012 Code (4-day Tết, no Hùng Kings day before 2007) is not
/// modelled: historical years are corrected with overrides.
pub fn rule_days(year: i32) -> Result<Vec<DayEntry>, CalendarError> {
    super::check_year(year)?;
    Ok(raw_rule_days(year).iter().map(RuleDay::entry).collect())
}

/// The rule days of a year (already checked to be in range), sorted, one per date.
pub(crate) fn raw_rule_days(year: i32) -> Vec<RuleDay> {
    let fixed = |month, day| days_from_civil(year, month, day);
    let (new_year, hung_kings) = lunar::new_year_and_hung_kings(year);

    let mut holidays: Vec<(i64, &'static str)> = Vec::with_capacity(12);
    holidays.push((fixed(1, 1), NEW_YEAR));
    holidays.extend((-1..=3).map(|offset| (new_year + offset, TET)));
    holidays.push((hung_kings, HUNG_KINGS));
    holidays.push((fixed(4, 30), VICTORY_DAY));
    holidays.push((fixed(5, 1), LABOUR_DAY));
    let national_day = fixed(9, 2);
    holidays.push((national_day, NATIONAL_DAY));
    if year >= NATIONAL_DAY_BRIDGE_FROM {
        holidays.push((
            national_day + national_day_bridge_offset(national_day),
            NATIONAL_DAY,
        ));
    }
    if year >= CULTURE_DAY_FROM {
        holidays.push((fixed(11, 24), CULTURE_DAY));
    }
    holidays.sort_by_key(|&(day, _)| day);

    let mut days: Vec<RuleDay> = Vec::with_capacity(holidays.len() + 4);
    for (day, name) in holidays {
        match days.last_mut() {
            Some(last) if last.day == day => last.also = Some(name),
            _ => days.push(RuleDay {
                day,
                kind: HolidayKind::Holiday,
                name,
                also: None,
            }),
        }
    }

    let weekend_holidays: Vec<(i64, &'static str)> = days
        .iter()
        .filter(|d| is_weekend(d.day))
        .map(|d| (d.day, d.name))
        .collect();
    for (holiday, name) in weekend_holidays {
        let mut day = holiday + 1;
        while is_weekend(day) || days.iter().any(|d| d.day == day) {
            day += 1;
        }
        days.push(RuleDay {
            day,
            kind: HolidayKind::Compensatory,
            name,
            also: None,
        });
    }
    days.sort_by_key(|d| d.day);
    days
}

/// The day adjacent to 2 September, as an offset in days: chosen to join the weekend
/// (Mon→Tue, Tue→Mon, Wed→Tue, Thu→Fri, Fri→Thu, Sat→Fri, Sun→Mon).
fn national_day_bridge_offset(national_day: i64) -> i64 {
    match super::weekday_index(national_day) {
        0 => 1,  // Monday → Tuesday
        1 => -1, // Tuesday → Monday
        2 => -1, // Wednesday → Tuesday
        3 => 1,  // Thursday → Friday
        4 => -1, // Friday → Thursday
        5 => -1, // Saturday → Friday
        _ => 1,  // Sunday → Monday
    }
}

/// A year's calendar: the rule days edited by the administrator's overrides, sorted by date,
/// one entry per date. Overrides for other years are ignored; two overrides for one date are
/// an error.
///
/// - `Remove` drops the rule day on its date (nothing happens if there is none, so an override
///   left behind by a change of rules does no harm); removing a holiday does not remove the
///   compensatory day it caused, which has its own date to remove;
/// - `Workday` replaces whatever the rules say and appears as a `workday` entry;
/// - `DayOff` adds a `day_off` entry, unless the date already is a rule day off, which is
///   kept as it is (its legal name and kind matter more than the repetition).
pub fn effective_days(year: i32, overrides: &[Override]) -> Result<Vec<DayEntry>, CalendarError> {
    super::check_year(year)?;
    let mut of_year: Vec<&Override> = overrides.iter().filter(|o| o.date.year() == year).collect();
    of_year.sort_by_key(|o| o.date);
    if let Some(pair) = of_year.windows(2).find(|pair| pair[0].date == pair[1].date) {
        return Err(CalendarError::ConflictingOverrides(pair[0].date));
    }

    let mut days: BTreeMap<NaiveDate, DayEntry> = raw_rule_days(year)
        .iter()
        .map(|d| {
            let entry = d.entry();
            (entry.date, entry)
        })
        .collect();
    for o in of_year {
        let named = |default: &str| {
            if o.name.trim().is_empty() {
                default.to_owned()
            } else {
                o.name.clone()
            }
        };
        match o.kind {
            OverrideKind::Remove => {
                days.remove(&o.date);
            }
            OverrideKind::Workday => {
                days.insert(
                    o.date,
                    DayEntry {
                        date: o.date,
                        name: named(DEFAULT_WORKDAY_NAME),
                        kind: HolidayKind::Workday,
                    },
                );
            }
            OverrideKind::DayOff => {
                days.entry(o.date).or_insert_with(|| DayEntry {
                    date: o.date,
                    name: named(DEFAULT_DAY_OFF_NAME),
                    kind: HolidayKind::DayOff,
                });
            }
        }
    }
    Ok(days.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::{date, from_str_via_serde};

    fn off_days(year: i32) -> Vec<(NaiveDate, HolidayKind)> {
        rule_days(year)
            .expect("year in range")
            .into_iter()
            .map(|d| (d.date, d.kind))
            .collect()
    }

    fn has(year: i32, d: NaiveDate, kind: HolidayKind) -> bool {
        off_days(year).contains(&(d, kind))
    }

    fn name_on(days: &[DayEntry], d: NaiveDate) -> Option<&str> {
        days.iter().find(|e| e.date == d).map(|e| e.name.as_str())
    }

    #[test]
    fn year_2025_rule_days() {
        use HolidayKind::*;
        let expected = vec![
            (date(2025, 1, 1), Holiday),
            // Tết: 1/1 is Wednesday 29 January; 28 January is the last day of the year.
            (date(2025, 1, 28), Holiday),
            (date(2025, 1, 29), Holiday),
            (date(2025, 1, 30), Holiday),
            (date(2025, 1, 31), Holiday),
            (date(2025, 2, 1), Holiday),
            (date(2025, 2, 3), Compensatory), // for Saturday 1 February
            (date(2025, 4, 7), Holiday),      // Hùng Kings, Monday
            (date(2025, 4, 30), Holiday),
            (date(2025, 5, 1), Holiday),
            // 2 September is a Tuesday, so Monday 1 September is the adjacent day.
            (date(2025, 9, 1), Holiday),
            (date(2025, 9, 2), Holiday),
        ];
        assert_eq!(off_days(2025), expected);
    }

    #[test]
    fn names_are_vietnamese_with_diacritics() {
        let days = rule_days(2026).expect("in range");
        assert_eq!(name_on(&days, date(2026, 1, 1)), Some("Tết Dương lịch"));
        assert_eq!(name_on(&days, date(2026, 2, 17)), Some("Tết Nguyên đán"));
        assert_eq!(name_on(&days, date(2026, 4, 26)), Some("Giỗ Tổ Hùng Vương"));
        assert_eq!(name_on(&days, date(2026, 4, 30)), Some("Ngày Chiến thắng"));
        assert_eq!(name_on(&days, date(2026, 5, 1)), Some("Ngày Quốc tế Lao động"));
        assert_eq!(name_on(&days, date(2026, 9, 2)), Some("Quốc khánh"));
        assert_eq!(name_on(&days, date(2026, 11, 24)), Some("Ngày Văn hóa Việt Nam"));
        // Hùng Kings 2026 is a Sunday: compensated on Monday.
        assert_eq!(
            name_on(&days, date(2026, 4, 27)),
            Some("Nghỉ bù Giỗ Tổ Hùng Vương")
        );
        for d in &days {
            assert!(unicode_normalization::is_nfc(&d.name), "{} not NFC", d.name);
        }
    }

    #[test]
    fn culture_day_from_2026_only() {
        assert!(has(2026, date(2026, 11, 24), HolidayKind::Holiday));
        assert!(!off_days(2025).iter().any(|(d, _)| *d == date(2025, 11, 24)));
        assert!(has(2030, date(2030, 11, 24), HolidayKind::Holiday));
    }

    #[test]
    fn national_day_bridge_by_weekday() {
        // (year, weekday of 2 Sep, adjacent day)
        for (year, adjacent) in [
            (2024, date(2024, 9, 3)), // Monday → Tuesday
            (2025, date(2025, 9, 1)), // Tuesday → Monday
            (2026, date(2026, 9, 1)), // Wednesday → Tuesday
            (2021, date(2021, 9, 3)), // Thursday → Friday
            (2022, date(2022, 9, 1)), // Friday → Thursday
            (2023, date(2023, 9, 1)), // Saturday → Friday
            (2029, date(2029, 9, 3)), // Sunday → Monday
        ] {
            assert!(has(year, adjacent, HolidayKind::Holiday), "{year}");
        }
        // Before the Labour Code 2019, 2 September alone.
        let sept_2020: Vec<_> = off_days(2020)
            .into_iter()
            .filter(|(d, _)| d.month() == 9)
            .collect();
        assert_eq!(sept_2020, vec![(date(2020, 9, 2), HolidayKind::Holiday)]);
    }

    #[test]
    fn weekend_holidays_give_compensatory_days() {
        use HolidayKind::Compensatory;
        // 1 January 2022 and 2023 fell on Saturday and Sunday.
        assert!(has(2022, date(2022, 1, 3), Compensatory));
        assert!(has(2023, date(2023, 1, 2), Compensatory));
        // 2022: 30 April Saturday, 1 May Sunday → Monday 2 and Tuesday 3 May.
        assert!(has(2022, date(2022, 5, 2), Compensatory));
        assert!(has(2022, date(2022, 5, 3), Compensatory));
        // 2022: Hùng Kings on Sunday 10 April → Monday 11 April.
        assert!(has(2022, date(2022, 4, 11), Compensatory));
        // 2023: Hùng Kings Saturday 29 April, 30 April Sunday, 1 May Monday →
        // compensatory Tuesday 2 and Wednesday 3 May (as the government decided).
        assert!(has(2023, date(2023, 5, 2), Compensatory));
        assert!(has(2023, date(2023, 5, 3), Compensatory));
        // 2023: 2 September Saturday with Friday 1 September → Monday 4 September.
        assert!(has(2023, date(2023, 9, 4), Compensatory));
        // 2027: 1 May is a Saturday → Monday 3 May.
        assert!(has(2027, date(2027, 5, 3), Compensatory));
        // 2026: 30 April Thursday, 1 May Friday: no compensatory day in May.
        assert!(
            !off_days(2026)
                .iter()
                .any(|(d, k)| d.month() == 5 && *k == Compensatory)
        );
    }

    #[test]
    fn tet_spanning_a_weekend_is_compensated_after_it() {
        use HolidayKind::*;
        // 2021: 1/1 is Friday 12 February → Tết 11–15 February with Saturday and Sunday,
        // compensated on Tuesday 16 and Wednesday 17.
        let feb: Vec<_> = off_days(2021)
            .into_iter()
            .filter(|(d, _)| d.month() == 2)
            .collect();
        assert_eq!(
            feb,
            vec![
                (date(2021, 2, 11), Holiday),
                (date(2021, 2, 12), Holiday),
                (date(2021, 2, 13), Holiday),
                (date(2021, 2, 14), Holiday),
                (date(2021, 2, 15), Holiday),
                (date(2021, 2, 16), Compensatory),
                (date(2021, 2, 17), Compensatory),
            ]
        );
    }

    #[test]
    fn every_year_has_one_entry_per_date_and_every_holiday_compensated() {
        for year in crate::calendar::FIRST_YEAR..=crate::calendar::LAST_YEAR {
            let days = off_days(year);
            assert!(
                days.windows(2).all(|w| w[0].0 < w[1].0),
                "{year} not sorted/unique"
            );
            let weekend = days
                .iter()
                .filter(|(d, k)| *k == HolidayKind::Holiday && d.weekday().number_from_monday() >= 6)
                .count();
            let compensatory = days
                .iter()
                .filter(|(_, k)| *k == HolidayKind::Compensatory)
                .count();
            assert_eq!(weekend, compensatory, "{year}");
            assert!(days.iter().all(|(d, _)| d.year() == year), "{year}");
        }
    }

    #[test]
    fn coinciding_holidays_share_one_entry() {
        // Lunar 10/3 fell on 30 April only in 1947 within 1900–2199.
        let days = rule_days(1947).expect("in range");
        assert_eq!(
            name_on(&days, date(1947, 4, 30)),
            Some("Giỗ Tổ Hùng Vương; Ngày Chiến thắng")
        );
        assert_eq!(days.iter().filter(|d| d.date == date(1947, 4, 30)).count(), 1);
    }

    #[test]
    fn out_of_range_years_are_errors() {
        assert_eq!(rule_days(1899), Err(CalendarError::YearOutOfRange(1899)));
        assert_eq!(
            effective_days(2200, &[]),
            Err(CalendarError::YearOutOfRange(2200))
        );
    }

    fn ov(d: NaiveDate, kind: OverrideKind, name: &str) -> Override {
        Override {
            date: d,
            kind,
            name: name.to_owned(),
        }
    }

    #[test]
    fn overrides_edit_the_year() {
        // Tết 2025 as decided: 25 January – 2 February off; make-up Saturday 8 February.
        let overrides = vec![
            ov(date(2025, 1, 27), OverrideKind::DayOff, "Nghỉ Tết (hoán đổi)"),
            ov(date(2025, 2, 3), OverrideKind::Remove, ""),
            ov(date(2025, 2, 8), OverrideKind::Workday, ""),
            ov(date(2025, 1, 1), OverrideKind::DayOff, "repeat"),
            ov(date(2024, 12, 30), OverrideKind::DayOff, "other year"),
        ];
        let days = effective_days(2025, &overrides).expect("valid");
        assert_eq!(name_on(&days, date(2025, 1, 27)), Some("Nghỉ Tết (hoán đổi)"));
        assert_eq!(name_on(&days, date(2025, 2, 3)), None);
        let saturday = days.iter().find(|d| d.date == date(2025, 2, 8)).expect("listed");
        assert_eq!(saturday.kind, HolidayKind::Workday);
        assert_eq!(saturday.name, "Ngày làm việc bù");
        // A day off on a holiday keeps the holiday.
        assert_eq!(name_on(&days, date(2025, 1, 1)), Some("Tết Dương lịch"));
        assert!(days.windows(2).all(|w| w[0].date < w[1].date));
        assert!(days.iter().all(|d| d.date.year() == 2025));
    }

    #[test]
    fn workday_override_replaces_a_holiday() {
        let days = effective_days(2025, &[ov(date(2025, 9, 1), OverrideKind::Workday, "x")]).expect("valid");
        let entry = days.iter().find(|d| d.date == date(2025, 9, 1)).expect("listed");
        assert_eq!(entry.kind, HolidayKind::Workday);
    }

    #[test]
    fn two_overrides_for_one_date_are_an_error() {
        let d = date(2025, 3, 8);
        let result = effective_days(
            2025,
            &[ov(d, OverrideKind::DayOff, ""), ov(d, OverrideKind::Workday, "")],
        );
        assert_eq!(result, Err(CalendarError::ConflictingOverrides(d)));
    }

    #[test]
    fn kinds_parse_and_serialise_in_snake_case() {
        for kind in [OverrideKind::DayOff, OverrideKind::Workday, OverrideKind::Remove] {
            assert_eq!(OverrideKind::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(
            "holiday_off".parse::<OverrideKind>(),
            Err(CalendarError::UnknownOverrideKind("holiday_off".into()))
        );
        for kind in [
            HolidayKind::Holiday,
            HolidayKind::Compensatory,
            HolidayKind::DayOff,
            HolidayKind::Workday,
        ] {
            assert_eq!(HolidayKind::parse(&kind.to_string()), Ok(kind));
        }
        assert!(HolidayKind::parse("remove").is_err());
        // serde reads the same snake_case names as `as_str` writes.
        for kind in [
            HolidayKind::Holiday,
            HolidayKind::Compensatory,
            HolidayKind::DayOff,
            HolidayKind::Workday,
        ] {
            assert_eq!(from_str_via_serde::<HolidayKind>(kind.as_str()), Ok(kind));
        }
        for kind in [OverrideKind::DayOff, OverrideKind::Workday, OverrideKind::Remove] {
            assert_eq!(from_str_via_serde::<OverrideKind>(kind.as_str()), Ok(kind));
        }
    }
}
