//! The work calendar: which dates are working days, as one bit per day for 1900–2199.
//! Owns the answer "is this a working day" and fast day counting; knows nothing of hours.

use chrono::NaiveDate;

use super::holidays::{self, HolidayKind, Override, OverrideKind};
use super::{CalendarError, FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR, is_weekend};

/// Number of days the bitset covers.
const DAYS: usize = (LAST_DAY - FIRST_DAY + 1) as usize;
/// Number of 64-bit words the bitset needs.
const WORDS: usize = DAYS.div_ceil(64);

/// Working days of 1900–2199 after holiday rules and the administrator's overrides
/// (*lịch làm việc*). Outside that range only the Monday–Friday week applies, so deadline
/// arithmetic never gets stuck.
///
/// About 14 KB; rebuilt whenever an administrator edits overrides, which takes about a
/// millisecond (see `docs/time.md`).
#[derive(Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Bit `i` is set when day `FIRST_DAY + i` is a working day.
    working: Box<[u64]>,
}

impl std::fmt::Debug for WorkCalendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkCalendar")
            .field("working_days", &self.count_working_days(FIRST_DAY, LAST_DAY + 1))
            .finish()
    }
}

impl WorkCalendar {
    /// The calendar of the holiday rules edited by `overrides` (any years 1900–2199). An
    /// override outside the range, or two overrides for one date, is an error. Overrides mean
    /// what they mean in [`holidays::effective_days`].
    pub fn new(overrides: &[Override]) -> Result<Self, CalendarError> {
        let mut sorted: Vec<&Override> = overrides.iter().collect();
        sorted.sort_by_key(|o| o.date);
        for o in &sorted {
            super::check_date(o.date)?;
        }
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0].date == pair[1].date) {
            return Err(CalendarError::ConflictingOverrides(pair[0].date));
        }

        let mut calendar = Self::weekdays();
        for year in FIRST_YEAR..=LAST_YEAR {
            for rule_day in holidays::raw_rule_days(year) {
                debug_assert!(rule_day.kind != HolidayKind::Workday);
                calendar.set(rule_day.day, false);
            }
        }
        for o in sorted {
            let day = super::epoch_day(o.date);
            match o.kind {
                OverrideKind::DayOff => calendar.set(day, false),
                OverrideKind::Workday => calendar.set(day, true),
                // Removing a rule day gives the date back to the ordinary week; on a date
                // without a rule day that is what it already has.
                OverrideKind::Remove => calendar.set(day, !is_weekend(day)),
            }
        }
        Ok(calendar)
    }

    /// The calendar of the holiday rules alone.
    pub fn rules_only() -> Self {
        Self::new(&[]).expect("no override, nothing to conflict")
    }

    /// Whether a date is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.is_working(super::epoch_day(date))
    }

    /// The first working day strictly after a date.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let day = self.nth_working_day_after(super::epoch_day(date), 1);
        super::date_of_epoch_day(day).unwrap_or(NaiveDate::MAX)
    }

    /// Number of working days in `[from, to)`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        self.count_working_days(super::epoch_day(from), super::epoch_day(to))
    }

    /// Working days of a year, for display and checks.
    pub fn working_days_in_year(&self, year: i32) -> u64 {
        let first = NaiveDate::from_ymd_opt(year, 1, 1);
        let next = NaiveDate::from_ymd_opt(year + 1, 1, 1);
        match (first, next) {
            (Some(first), Some(next)) => self.working_days_between(first, next),
            _ => 0,
        }
    }

    /// Monday–Friday working, everything else off, built a word at a time: 64 weeks are
    /// exactly 7 words, so the pattern of the first seven words repeats.
    fn weekdays() -> Self {
        let mut working = vec![0u64; WORDS].into_boxed_slice();
        for (i, word) in working.iter_mut().enumerate().take(7) {
            for bit in 0..64 {
                let day = FIRST_DAY + (i * 64 + bit) as i64;
                if !is_weekend(day) {
                    *word |= 1 << bit;
                }
            }
        }
        for i in 7..WORDS {
            working[i] = working[i - 7];
        }
        // Bits past 2199-12-31 must stay clear: counting relies on it.
        let tail = DAYS % 64;
        if tail != 0 {
            working[WORDS - 1] &= (1u64 << tail) - 1;
        }
        Self { working }
    }

    fn set(&mut self, day: i64, working: bool) {
        if let Some(index) = Self::index(day) {
            let (word, bit) = (index / 64, index % 64);
            if working {
                self.working[word] |= 1 << bit;
            } else {
                self.working[word] &= !(1 << bit);
            }
        }
    }

    /// Position of a day in the bitset, if covered.
    fn index(day: i64) -> Option<usize> {
        (FIRST_DAY..=LAST_DAY)
            .contains(&day)
            .then(|| (day - FIRST_DAY) as usize)
    }

    /// Whether a day number is a working day.
    pub(crate) fn is_working(&self, day: i64) -> bool {
        match Self::index(day) {
            Some(index) => self.working[index / 64] >> (index % 64) & 1 == 1,
            None => !is_weekend(day),
        }
    }

    /// The `n`-th working day strictly after `day` (`n >= 1`), skipping 64 days per step
    /// inside the covered range.
    pub(crate) fn nth_working_day_after(&self, day: i64, n: u64) -> i64 {
        debug_assert!(n >= 1);
        let mut n = n.max(1);
        let mut day = day + 1;
        loop {
            if let Some(index) = Self::index(day) {
                let bit = index % 64;
                let word = self.working[index / 64] >> bit;
                let count = u64::from(word.count_ones());
                if count >= n {
                    return day + i64::from(select(word, n));
                }
                n -= count;
                // Next word, but never past the first uncovered day: the last word's spare
                // bits are clear, and the days they stand for still count by weekday.
                day = (day + (64 - bit) as i64).min(LAST_DAY + 1);
            } else if day > LAST_DAY {
                // Past the range every week has exactly five working days.
                let weeks = (n - 1) / 5;
                day += 7 * weeks as i64;
                n -= 5 * weeks;
                while n > 0 {
                    if !is_weekend(day) {
                        n -= 1;
                        if n == 0 {
                            return day;
                        }
                    }
                    day += 1;
                }
            } else {
                // Before the range: walk to it (or to the answer).
                if !is_weekend(day) {
                    n -= 1;
                    if n == 0 {
                        return day;
                    }
                }
                day += 1;
            }
        }
    }

    /// Number of working days in `[from, to)`.
    pub(crate) fn count_working_days(&self, from: i64, to: i64) -> u64 {
        if to <= from {
            return 0;
        }
        let covered_from = from.max(FIRST_DAY);
        let covered_to = to.min(LAST_DAY + 1);
        let mut count =
            weekdays_between(from, to.min(FIRST_DAY)) + weekdays_between(from.max(LAST_DAY + 1), to);
        if covered_from < covered_to {
            let start = (covered_from - FIRST_DAY) as usize;
            let end = (covered_to - FIRST_DAY) as usize; // exclusive
            let (first_word, last_word) = (start / 64, (end - 1) / 64);
            for w in first_word..=last_word {
                let mut word = self.working[w];
                if w == first_word {
                    word &= u64::MAX << (start % 64);
                }
                if w == last_word && !end.is_multiple_of(64) {
                    word &= (1u64 << (end % 64)) - 1;
                }
                count += u64::from(word.count_ones());
            }
        }
        count
    }
}

impl Default for WorkCalendar {
    /// The calendar of the holiday rules alone.
    fn default() -> Self {
        Self::rules_only()
    }
}

/// Offset (0–63) of the `n`-th set bit (`n >= 1`) of a word that has at least `n`.
fn select(mut word: u64, n: u64) -> u32 {
    for _ in 1..n {
        word &= word - 1;
    }
    word.trailing_zeros()
}

/// Monday–Friday days in `[from, to)`.
fn weekdays_between(from: i64, to: i64) -> u64 {
    if to <= from {
        return 0;
    }
    let days = to - from;
    let mut count = days / 7 * 5;
    let mut day = from + days / 7 * 7;
    while day < to {
        if !is_weekend(day) {
            count += 1;
        }
        day += 1;
    }
    count as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::test_support::{date, rules_calendar};
    use chrono::Datelike;
    use proptest::prelude::*;

    /// Whether the working days of a year agree with its effective day list.
    fn agrees_with_effective_days(
        calendar: &WorkCalendar,
        year: i32,
        overrides: &[Override],
    ) -> Result<bool, CalendarError> {
        let days = holidays::effective_days(year, overrides)?;
        let mut date = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(CalendarError::YearOutOfRange(year))?;
        while date.year() == year {
            let expected = match days.iter().find(|d| d.date == date) {
                Some(entry) => !entry.kind.is_off(),
                None => !is_weekend(crate::calendar::epoch_day(date)),
            };
            if calendar.is_working_day(date) != expected {
                return Ok(false);
            }
            date = match date.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        Ok(true)
    }

    fn ov(d: NaiveDate, kind: OverrideKind) -> Override {
        Override {
            date: d,
            kind,
            name: String::new(),
        }
    }

    #[test]
    fn weekends_and_holidays_are_off() {
        let calendar = WorkCalendar::rules_only();
        assert!(calendar.is_working_day(date(2025, 9, 3))); // Wednesday
        assert!(!calendar.is_working_day(date(2025, 9, 6))); // Saturday
        assert!(!calendar.is_working_day(date(2025, 9, 7))); // Sunday
        assert!(!calendar.is_working_day(date(2025, 9, 1))); // bridge Monday
        assert!(!calendar.is_working_day(date(2025, 9, 2))); // Quốc khánh
        assert!(!calendar.is_working_day(date(2025, 2, 3))); // compensatory for Tết
        assert!(!calendar.is_working_day(date(2026, 11, 24)));
        assert!(calendar.is_working_day(date(2025, 11, 24)));
    }

    #[test]
    fn make_up_saturday_is_a_working_day() {
        let saturday = date(2025, 2, 8);
        let calendar = WorkCalendar::new(&[ov(saturday, OverrideKind::Workday)]).expect("valid");
        assert!(calendar.is_working_day(saturday));
        assert_eq!(calendar.next_working_day(date(2025, 2, 7)), saturday);
    }

    #[test]
    fn remove_gives_the_day_back_and_day_off_takes_it() {
        let calendar = WorkCalendar::new(&[
            ov(date(2025, 2, 3), OverrideKind::Remove),
            ov(date(2025, 2, 4), OverrideKind::DayOff),
            ov(date(2025, 2, 9), OverrideKind::Remove), // a Sunday stays a Sunday
        ])
        .expect("valid");
        assert!(calendar.is_working_day(date(2025, 2, 3)));
        assert!(!calendar.is_working_day(date(2025, 2, 4)));
        assert!(!calendar.is_working_day(date(2025, 2, 9)));
    }

    #[test]
    fn bad_overrides_are_errors() {
        let d = date(2025, 3, 8);
        assert_eq!(
            WorkCalendar::new(&[ov(d, OverrideKind::Workday), ov(d, OverrideKind::Remove)]),
            Err(CalendarError::ConflictingOverrides(d))
        );
        assert_eq!(
            WorkCalendar::new(&[ov(date(2200, 1, 1), OverrideKind::DayOff)]),
            Err(CalendarError::DateOutOfRange(date(2200, 1, 1)))
        );
    }

    #[test]
    fn outside_the_range_only_weekends_are_off() {
        let calendar = WorkCalendar::rules_only();
        assert!(calendar.is_working_day(date(2200, 1, 1))); // Wednesday
        assert!(!calendar.is_working_day(date(2200, 1, 4))); // Saturday
        assert!(calendar.is_working_day(date(1899, 12, 29))); // Friday
        assert_eq!(calendar.next_working_day(date(2199, 12, 31)), date(2200, 1, 1));
        assert_eq!(calendar.next_working_day(date(1899, 12, 29)), date(1900, 1, 2));
    }

    #[test]
    fn working_days_in_2025() {
        // 365 days − 104 weekend days − 11 weekdays off (10 holidays + 1 compensatory).
        let calendar = WorkCalendar::rules_only();
        assert_eq!(calendar.working_days_in_year(2025), 365 - 104 - 11);
    }

    #[test]
    fn every_year_agrees_with_its_day_list() {
        let overrides = vec![
            ov(date(2025, 1, 27), OverrideKind::DayOff),
            ov(date(2025, 2, 3), OverrideKind::Remove),
            ov(date(2025, 2, 8), OverrideKind::Workday),
            ov(date(2025, 9, 1), OverrideKind::Workday),
            ov(date(2025, 1, 1), OverrideKind::DayOff),
        ];
        let calendar = WorkCalendar::new(&overrides).expect("valid");
        for year in [1900, 1968, 2020, 2021, 2024, 2025, 2026, 2099, 2199] {
            assert_eq!(
                agrees_with_effective_days(&calendar, year, &overrides),
                Ok(true),
                "{year}"
            );
        }
    }

    /// Reference answers by walking day by day.
    fn slow_nth(calendar: &WorkCalendar, day: i64, n: u64) -> i64 {
        let (mut day, mut n) = (day, n);
        loop {
            day += 1;
            if calendar.is_working(day) {
                n -= 1;
                if n == 0 {
                    return day;
                }
            }
        }
    }

    fn slow_count(calendar: &WorkCalendar, from: i64, to: i64) -> u64 {
        (from..to).filter(|&d| calendar.is_working(d)).count() as u64
    }

    proptest! {
        #[test]
        fn fast_day_skipping_matches_walking(
            day in FIRST_DAY - 400..LAST_DAY + 400,
            n in 1u64..800,
            span in 0i64..2000,
        ) {
            let calendar = rules_calendar();
            prop_assert_eq!(calendar.nth_working_day_after(day, n), slow_nth(calendar, day, n));
            prop_assert_eq!(
                calendar.count_working_days(day, day + span),
                slow_count(calendar, day, day + span)
            );
        }
    }
}
