//! Vietnamese lunar calendar (*âm lịch*) for solar years 1900–2199, computed astronomically.
//! Owns solar↔lunar conversion; holds no table and no global state (everything is computed).
//!
//! The method is Hồ Ngọc Đức's: a month starts on the local day of a new moon, the month
//! containing the December solstice is month 11, and in a 13-month solstice year the first
//! month without a major solar term (*trung khí*) is the leap month. "Local" is UTC+7, which is
//! what makes the Vietnamese calendar differ from the Chinese one (UTC+8) in some years: Tết
//! 1968, 1985 and 2007 fall on other days than the Chinese New Year. The astronomical series
//! (Meeus, low precision) are those of the reference implementation, so results match the
//! published Vietnamese tables.

use std::f64::consts::PI;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{CalendarError, FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR, days_from_civil};

/// Hours ahead of UTC at which new moons and solar terms are dated in Vietnam.
const VIETNAM_HOURS: f64 = 7.0;
/// Julian day number of 1970-01-01, to move between day numbers and Julian days.
const JDN_OF_EPOCH: i64 = 2_440_588;
/// Mean synodic month in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;
/// Julian day of the new moon the series counts from (1900-01-01).
const NEW_MOON_EPOCH: f64 = 2_415_021.076_998_695;

/// A date of the Vietnamese lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LunarDate {
    /// Lunar year, named by the solar year in which its first month mostly falls.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–30.
    pub day: u32,
    /// Whether the month is the leap (intercalary, *nhuận*) repetition of `month`.
    pub leap: bool,
}

impl fmt::Display for LunarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leap = if self.leap { "leap " } else { "" };
        write!(
            f,
            "lunar day {} of {leap}month {} of year {}",
            self.day, self.month, self.year
        )
    }
}

/// The lunar date of a solar date (1900-01-01 … 2199-12-31).
pub fn solar_to_lunar(date: NaiveDate) -> Result<LunarDate, CalendarError> {
    super::check_date(date)?;
    let day_number = super::epoch_day(date) + JDN_OF_EPOCH;
    let solar_year = chrono::Datelike::year(&date);

    let mut k = ((day_number as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut month_start = new_moon_day(k + 1, VIETNAM_HOURS);
    if month_start > day_number {
        month_start = new_moon_day(k, VIETNAM_HOURS);
    }
    // The estimate from the mean lunation can overshoot when the true new moon falls late
    // (2054-05-07 is such a day): step back until the month starts on or before the day.
    while month_start > day_number {
        k -= 1;
        month_start = new_moon_day(k, VIETNAM_HOURS);
    }
    // Find the solstice year (month 11 to month 11) that holds the day.
    let mut a11 = lunar_month_11(solar_year, VIETNAM_HOURS);
    let mut b11 = a11;
    let mut year = if a11 >= month_start {
        a11 = lunar_month_11(solar_year - 1, VIETNAM_HOURS);
        solar_year
    } else {
        b11 = lunar_month_11(solar_year + 1, VIETNAM_HOURS);
        solar_year + 1
    };
    let day = day_number - month_start + 1;
    // Months are 29 or 30 days, so dividing by 29 counts whole months since month 11.
    let diff = (month_start - a11) / 29;
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_offset = leap_month_offset(month_index_of(a11), VIETNAM_HOURS);
        if diff >= leap_offset {
            month = diff + 10;
            leap = diff == leap_offset;
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        year -= 1;
    }
    Ok(LunarDate {
        year,
        month: u32::try_from(month).expect("a lunar month number is 1–12"),
        day: u32::try_from(day).expect("a lunar day number is 1–30"),
        leap,
    })
}

/// The solar date of a lunar date; an error if the lunar date does not exist (no such leap
/// month that year, day 30 of a 29-day month, …) or falls outside 1900–2199.
pub fn lunar_to_solar(date: LunarDate) -> Result<NaiveDate, CalendarError> {
    let missing = || CalendarError::NoSuchLunarDate(date);
    if !(1..=12).contains(&date.month) || !(1..=30).contains(&date.day) {
        return Err(missing());
    }
    // Lunar year 1899's last month already lies in solar 1900; the solar check below is the
    // real bound.
    if !(FIRST_YEAR - 1..=LAST_YEAR).contains(&date.year) {
        return Err(CalendarError::YearOutOfRange(date.year));
    }
    let (start, length) = SolsticeYear::holding(date.year, date.month, VIETNAM_HOURS)
        .month(date.month, date.leap)
        .ok_or_else(missing)?;
    if i64::from(date.day) > length {
        return Err(missing());
    }
    let day = start + i64::from(date.day) - 1;
    if !(FIRST_DAY..=LAST_DAY).contains(&day) {
        return Err(CalendarError::YearOutOfRange(date.year));
    }
    Ok(super::date_of_epoch_day(day).expect("a day between 1900 and 2199 is a valid date"))
}

/// The solar date of Tết (*Tết Nguyên đán*, lunar 1/1) of a year 1900–2199.
pub fn lunar_new_year(year: i32) -> Result<NaiveDate, CalendarError> {
    super::check_year(year)?;
    lunar_to_solar(LunarDate {
        year,
        month: 1,
        day: 1,
        leap: false,
    })
}

/// The leap month of a lunar year 1900–2199, if it has one.
pub fn leap_month(year: i32) -> Result<Option<u32>, CalendarError> {
    super::check_year(year)?;
    // Months 1–10 belong to the solstice year that began in the previous solar year,
    // months 11–12 to the one beginning this year.
    if let Some(month) = SolsticeYear::of(year - 1, VIETNAM_HOURS).leap_month()
        && month <= 10
    {
        return Ok(Some(month));
    }
    Ok(SolsticeYear::of(year, VIETNAM_HOURS)
        .leap_month()
        .filter(|&m| m >= 11))
}

/// The day numbers of lunar 1/1 and lunar 10/3 (Hùng Kings) of a lunar year, computed from one
/// solstice year so that building a work calendar does the astronomy once per year.
pub(crate) fn new_year_and_hung_kings(year: i32) -> (i64, i64) {
    let solstice_year = SolsticeYear::of(year - 1, VIETNAM_HOURS);
    let (new_year, _) = solstice_year
        .month(1, false)
        .expect("month 1 exists in every lunar year");
    let (third_month, _) = solstice_year
        .month(3, false)
        .expect("month 3 exists in every lunar year");
    (new_year, third_month + 9)
}

/// The months from one month 11 to the next, the unit in which leap months are decided.
struct SolsticeYear {
    /// Index of the new moon starting month 11.
    first_moon: i64,
    /// Hours ahead of UTC of the reckoning.
    time_zone: f64,
    /// Offset from month 11 of the leap month, in a 13-month solstice year.
    leap_offset: Option<i64>,
}

impl SolsticeYear {
    /// The solstice year starting with month 11 of lunar year `year`.
    fn of(year: i32, time_zone: f64) -> Self {
        let a11 = lunar_month_11(year, time_zone);
        let b11 = lunar_month_11(year + 1, time_zone);
        let first_moon = month_index_of(a11);
        // 13 new moons between two months 11 make more than 365 days.
        let leap_offset = (b11 - a11 > 365).then(|| leap_month_offset(first_moon, time_zone));
        Self {
            first_moon,
            time_zone,
            leap_offset,
        }
    }

    /// The solstice year holding `month` of lunar year `year`.
    fn holding(year: i32, month: u32, time_zone: f64) -> Self {
        if month >= 11 {
            Self::of(year, time_zone)
        } else {
            Self::of(year - 1, time_zone)
        }
    }

    /// The number (1–12) of the leap month, if any.
    fn leap_month(&self) -> Option<u32> {
        // The leap month repeats the month before it; offset 0 is month 11.
        self.leap_offset
            .map(|offset| u32::try_from((offset + 9).rem_euclid(12) + 1).expect("a month number is 1–12"))
    }

    /// First day number and length in days of a month, or `None` if it does not exist.
    fn month(&self, month: u32, leap: bool) -> Option<(i64, i64)> {
        let mut offset = (i64::from(month) - 11).rem_euclid(12);
        match self.leap_offset {
            Some(leap_offset) => {
                if leap && Some(month) != self.leap_month() {
                    return None;
                }
                if leap || offset >= leap_offset {
                    offset += 1;
                }
            }
            None if leap => return None,
            None => {}
        }
        let start = new_moon_day(self.first_moon + offset, self.time_zone) - JDN_OF_EPOCH;
        let next = new_moon_day(self.first_moon + offset + 1, self.time_zone) - JDN_OF_EPOCH;
        Some((start, next - start))
    }
}

/// Index of the new moon nearest to a Julian day number.
fn month_index_of(julian_day: i64) -> i64 {
    (0.5 + (julian_day as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64
}

/// Julian day (fractional, UT) of the `k`-th new moon after 1900-01-01.
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries from 1900 January 0.5
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3; // Sun's mean anomaly
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3; // Moon's mean anomaly
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3; // Moon's argument of latitude
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// Sun's apparent longitude in radians, normalised to [0, 2π), at a Julian day (UT).
fn sun_longitude(julian_day: f64) -> f64 {
    let t = (julian_day - 2_451_545.0) / 36525.0; // Julian centuries from J2000.0
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2; // mean anomaly
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2; // mean longitude
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl += (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - PI * 2.0 * (l / (PI * 2.0)).floor()
}

/// Julian day number of the local day on which the `k`-th new moon falls.
fn new_moon_day(k: i64, time_zone: f64) -> i64 {
    (new_moon(k) + 0.5 + time_zone / 24.0).floor() as i64
}

/// Which 30° sector (0–11) the sun is in at local midnight starting a day; sector changes are
/// the major solar terms.
fn sun_sector(julian_day_number: i64, time_zone: f64) -> i64 {
    (sun_longitude(julian_day_number as f64 - 0.5 - time_zone / 24.0) / PI * 6.0).floor() as i64
}

/// Julian day number of the first day of lunar month 11 of a year, the month holding the
/// December solstice.
fn lunar_month_11(year: i32, time_zone: f64) -> i64 {
    let last_day = days_from_civil(year, 12, 31) + JDN_OF_EPOCH;
    let k = ((last_day - 2_415_021) as f64 / SYNODIC_MONTH).floor() as i64;
    let new_moon = new_moon_day(k, time_zone);
    // If the sun is already past 270° (sector 9) that new moon is after the solstice, so
    // month 11 began one lunation earlier.
    if sun_sector(new_moon, time_zone) >= 9 {
        new_moon_day(k - 1, time_zone)
    } else {
        new_moon
    }
}

/// Offset from month 11 of the first month without a major solar term: the sun stays in the
/// same sector from its first day to the next month's first day.
fn leap_month_offset(first_moon: i64, time_zone: f64) -> i64 {
    let sector_at = |i: i64| sun_sector(new_moon_day(first_moon + i, time_zone), time_zone);
    let mut i = 1;
    let mut arc = sector_at(i);
    loop {
        let last = arc;
        i += 1;
        arc = sector_at(i);
        if arc == last || i >= 14 {
            return i - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::date;
    use proptest::prelude::*;

    fn lunar(year: i32, month: u32, day: u32, leap: bool) -> LunarDate {
        LunarDate {
            year,
            month,
            day,
            leap,
        }
    }

    #[test]
    fn every_day_from_1900_to_2199_round_trips() {
        let mut d = date(1900, 1, 1);
        let last = date(2199, 12, 31);
        while d <= last {
            let l = solar_to_lunar(d).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert!((1..=30).contains(&l.day), "{d}: {l:?}");
            assert_eq!(lunar_to_solar(l), Ok(d), "{d} → {l:?}");
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn a_late_true_new_moon_does_not_give_day_zero() {
        let l = solar_to_lunar(date(2054, 5, 7)).unwrap();
        assert!(l.day >= 1);
        assert_eq!(lunar_to_solar(l), Ok(date(2054, 5, 7)));
    }

    /// Chinese New Year 1900–2039, as widely published. Tết falls on the same day except in
    /// the years of `TET_DIFFERS`.
    const CHINESE_NEW_YEAR: &[(i32, u32, u32)] = &[
        (1900, 1, 31),
        (1901, 2, 19),
        (1902, 2, 8),
        (1903, 1, 29),
        (1904, 2, 16),
        (1905, 2, 4),
        (1906, 1, 25),
        (1907, 2, 13),
        (1908, 2, 2),
        (1909, 1, 22),
        (1910, 2, 10),
        (1911, 1, 30),
        (1912, 2, 18),
        (1913, 2, 6),
        (1914, 1, 26),
        (1915, 2, 14),
        (1916, 2, 3),
        (1917, 1, 23),
        (1918, 2, 11),
        (1919, 2, 1),
        (1920, 2, 20),
        (1921, 2, 8),
        (1922, 1, 28),
        (1923, 2, 16),
        (1924, 2, 5),
        (1925, 1, 24),
        (1926, 2, 13),
        (1927, 2, 2),
        (1928, 1, 23),
        (1929, 2, 10),
        (1930, 1, 30),
        (1931, 2, 17),
        (1932, 2, 6),
        (1933, 1, 26),
        (1934, 2, 14),
        (1935, 2, 4),
        (1936, 1, 24),
        (1937, 2, 11),
        (1938, 1, 31),
        (1939, 2, 19),
        (1940, 2, 8),
        (1941, 1, 27),
        (1942, 2, 15),
        (1943, 2, 5),
        (1944, 1, 25),
        (1945, 2, 13),
        (1946, 2, 2),
        (1947, 1, 22),
        (1948, 2, 10),
        (1949, 1, 29),
        (1950, 2, 17),
        (1951, 2, 6),
        (1952, 1, 27),
        (1953, 2, 14),
        (1954, 2, 3),
        (1955, 1, 24),
        (1956, 2, 12),
        (1957, 1, 31),
        (1958, 2, 18),
        (1959, 2, 8),
        (1960, 1, 28),
        (1961, 2, 15),
        (1962, 2, 5),
        (1963, 1, 25),
        (1964, 2, 13),
        (1965, 2, 2),
        (1966, 1, 21),
        (1967, 2, 9),
        (1968, 1, 30),
        (1969, 2, 17),
        (1970, 2, 6),
        (1971, 1, 27),
        (1972, 2, 15),
        (1973, 2, 3),
        (1974, 1, 23),
        (1975, 2, 11),
        (1976, 1, 31),
        (1977, 2, 18),
        (1978, 2, 7),
        (1979, 1, 28),
        (1980, 2, 16),
        (1981, 2, 5),
        (1982, 1, 25),
        (1983, 2, 13),
        (1984, 2, 2),
        (1985, 2, 20),
        (1986, 2, 9),
        (1987, 1, 29),
        (1988, 2, 17),
        (1989, 2, 6),
        (1990, 1, 27),
        (1991, 2, 15),
        (1992, 2, 4),
        (1993, 1, 23),
        (1994, 2, 10),
        (1995, 1, 31),
        (1996, 2, 19),
        (1997, 2, 7),
        (1998, 1, 28),
        (1999, 2, 16),
        (2000, 2, 5),
        (2001, 1, 24),
        (2002, 2, 12),
        (2003, 2, 1),
        (2004, 1, 22),
        (2005, 2, 9),
        (2006, 1, 29),
        (2007, 2, 18),
        (2008, 2, 7),
        (2009, 1, 26),
        (2010, 2, 14),
        (2011, 2, 3),
        (2012, 1, 23),
        (2013, 2, 10),
        (2014, 1, 31),
        (2015, 2, 19),
        (2016, 2, 8),
        (2017, 1, 28),
        (2018, 2, 16),
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 3),
        (2031, 1, 23),
        (2032, 2, 11),
        (2033, 1, 31),
        (2034, 2, 19),
        (2035, 2, 8),
        (2036, 1, 28),
        (2037, 2, 15),
        (2038, 2, 4),
        (2039, 1, 24),
    ];

    /// Years in which UTC+7 gives Tết another day than the Chinese calendar (UTC+8):
    /// (year, Tết in Vietnam, New Year in China). Before 1968 Vietnam still printed
    /// calendars reckoned at UTC+8, so for 1903, 1935 and 1965 the computed date is the
    /// astronomical UTC+7 one, not the one printed at the time (see docs/time.md).
    /// A (month, day) in a known year.
    type MonthDay = (u32, u32);

    const TET_DIFFERS: &[(i32, MonthDay, MonthDay)] = &[
        (1903, (1, 28), (1, 29)),
        (1935, (2, 3), (2, 4)),
        (1965, (2, 1), (2, 2)),
        (1968, (1, 29), (1, 30)),
        (1969, (2, 16), (2, 17)),
        (1985, (1, 21), (2, 20)),
        (2007, (2, 17), (2, 18)),
        (2030, (2, 2), (2, 3)),
    ];

    #[test]
    fn tet_matches_published_dates_from_1900_to_2039() {
        let mut wrong = Vec::new();
        for &(y, m, d) in CHINESE_NEW_YEAR {
            let expected = match TET_DIFFERS.iter().find(|(year, _, _)| *year == y) {
                Some(&(_, (vm, vd), (cm, cd))) => {
                    assert_eq!((cm, cd), (m, d), "table disagrees for {y}");
                    date(y, vm, vd)
                }
                None => date(y, m, d),
            };
            let got = lunar_new_year(y).expect("year in range");
            if got != expected {
                wrong.push((y, expected, got));
            }
            assert_eq!(solar_to_lunar(expected), Ok(lunar(y, 1, 1, false)));
            let eve = expected.pred_opt().expect("valid");
            assert_eq!(solar_to_lunar(eve).map(|l| (l.year, l.month)), Ok((y - 1, 12)));
        }
        assert!(wrong.is_empty(), "Tết differs: {wrong:?}");
    }

    #[test]
    fn reckoned_at_utc_plus_8_the_same_method_gives_the_chinese_new_year() {
        for &(y, m, d) in CHINESE_NEW_YEAR {
            // Before 1929 China reckoned at Beijing local time (UTC+7:46), not UTC+8.
            if y < 1929 {
                continue;
            }
            let (new_year, _) = SolsticeYear::of(y - 1, 8.0).month(1, false).expect("month 1");
            assert_eq!(
                crate::calendar::date_of_epoch_day(new_year),
                Some(date(y, m, d)),
                "{y}"
            );
        }
    }

    #[test]
    fn tet_follows_the_vietnamese_not_the_chinese_calendar() {
        // Chinese New Year (UTC+8) in brackets.
        assert_eq!(lunar_new_year(1968), Ok(date(1968, 1, 29))); // (1968-01-30)
        assert_eq!(lunar_new_year(1985), Ok(date(1985, 1, 21))); // (1985-02-20)
        assert_eq!(lunar_new_year(2007), Ok(date(2007, 2, 17))); // (2007-02-18)
    }

    #[test]
    fn recent_tet_dates() {
        for (y, m, d) in [
            (2020, 1, 25),
            (2021, 2, 12),
            (2022, 2, 1),
            (2023, 1, 22),
            (2024, 2, 10),
            (2025, 1, 29),
            (2026, 2, 17),
        ] {
            assert_eq!(lunar_new_year(y), Ok(date(y, m, d)));
        }
    }

    #[test]
    fn known_leap_months() {
        for (year, month) in [
            (2001, 4),
            (2004, 2),
            (2006, 7),
            (2009, 5),
            (2012, 4),
            (2014, 9),
            (2017, 6),
            (2020, 4),
            (2023, 2),
            (2025, 6),
            (2028, 5),
        ] {
            assert_eq!(leap_month(year), Ok(Some(month)), "lunar year {year}");
        }
        for year in [2018, 2019, 2021, 2022, 2024, 2026, 2027] {
            assert_eq!(leap_month(year), Ok(None), "lunar year {year}");
        }
    }

    #[test]
    fn leap_month_dates_convert_both_ways() {
        // 2020: leap month 4 began on 2020-05-23; 2023: leap month 2 on 2023-03-22;
        // 2025: leap month 6 on 2025-07-25.
        for (l, s) in [
            (lunar(2020, 4, 1, true), date(2020, 5, 23)),
            (lunar(2023, 2, 1, true), date(2023, 3, 22)),
            (lunar(2025, 6, 1, true), date(2025, 7, 25)),
            (lunar(2025, 6, 1, false), date(2025, 6, 25)),
        ] {
            assert_eq!(lunar_to_solar(l), Ok(s));
            assert_eq!(solar_to_lunar(s), Ok(l));
        }
    }

    #[test]
    fn hung_kings_and_mid_autumn_2024() {
        assert_eq!(lunar_to_solar(lunar(2024, 3, 10, false)), Ok(date(2024, 4, 18)));
        assert_eq!(lunar_to_solar(lunar(2024, 8, 15, false)), Ok(date(2024, 9, 17)));
        assert_eq!(lunar_to_solar(lunar(2025, 3, 10, false)), Ok(date(2025, 4, 7)));
    }

    #[test]
    fn non_existent_lunar_dates_are_errors() {
        // 2024 has no leap month; 2025's is month 6, not 5.
        for l in [
            lunar(2024, 4, 1, true),
            lunar(2025, 5, 1, true),
            lunar(2025, 0, 1, false),
            lunar(2025, 13, 1, false),
            lunar(2025, 1, 0, false),
            lunar(2025, 1, 31, false),
        ] {
            assert_eq!(lunar_to_solar(l), Err(CalendarError::NoSuchLunarDate(l)));
        }
        // Find a 29-day month and ask for its day 30.
        let short = (1..=12)
            .map(|m| lunar(2025, m, 30, false))
            .find(|l| lunar_to_solar(*l).is_err())
            .expect("some month of 2025 has 29 days");
        assert!(matches!(
            lunar_to_solar(short),
            Err(CalendarError::NoSuchLunarDate(_))
        ));
        let next_month = lunar(short.year, short.month + 1, 1, false);
        let last = lunar(short.year, short.month, 29, false);
        assert_eq!(
            lunar_to_solar(last).map(|d| d.succ_opt()),
            lunar_to_solar(next_month).map(Some)
        );
    }

    #[test]
    fn out_of_range_is_an_error() {
        assert_eq!(
            solar_to_lunar(date(1899, 12, 31)),
            Err(CalendarError::DateOutOfRange(date(1899, 12, 31)))
        );
        assert!(solar_to_lunar(date(2200, 1, 1)).is_err());
        assert!(lunar_new_year(2200).is_err());
        assert!(lunar_to_solar(lunar(2300, 1, 1, false)).is_err());
        // The first and last days of the range convert.
        assert_eq!(solar_to_lunar(date(1900, 1, 1)), Ok(lunar(1899, 12, 1, false)));
        assert!(solar_to_lunar(date(2199, 12, 31)).is_ok());
    }

    /// Walks every month of every lunar year: months are 29 or 30 days, follow each other
    /// without gap, a year has 12 or 13 months and the leap month sits where `leap_month` says.
    #[test]
    fn every_lunar_year_is_well_formed() {
        let mut previous_end: Option<NaiveDate> = None;
        for year in FIRST_YEAR..LAST_YEAR {
            let leap = leap_month(year).expect("year in range");
            let mut months = Vec::new();
            for month in 1..=12 {
                months.push(lunar(year, month, 1, false));
                if leap == Some(month) {
                    months.push(lunar(year, month, 1, true));
                }
            }
            for first in months {
                let start = lunar_to_solar(first).expect("first day exists");
                if let Some(end) = previous_end {
                    assert_eq!(end.succ_opt(), Some(start), "gap before {first}");
                }
                let day30 = lunar_to_solar(LunarDate { day: 30, ..first });
                let end = match day30 {
                    Ok(d) => d,
                    Err(_) => lunar_to_solar(LunarDate { day: 29, ..first }).expect("day 29"),
                };
                previous_end = Some(end);
            }
            assert!(lunar_to_solar(lunar(year, 1, 1, true)).is_err() || leap == Some(1));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn solar_lunar_solar_round_trip(day in FIRST_DAY..=LAST_DAY) {
            let solar = crate::calendar::date_of_epoch_day(day).expect("in range");
            let l = solar_to_lunar(solar).expect("in range");
            prop_assert_eq!(lunar_to_solar(l), Ok(solar));
        }
    }
}
