//! Working-time arithmetic on the legal clock: intake normalisation, due instants, working
//! time between instants, pauses. Pure and allocation-free; must not read the system clock.
//!
//! Everything is computed on local (UTC+7) minutes: an instant becomes a day number and a
//! minute of that day. Seconds are dropped first (an intake at 10:00:37 counts from 10:00),
//! which is what the receipt (*giấy tiếp nhận*) prints, so a due instant recomputed from the
//! printed receipt is the one the system holds.

use chrono::{DateTime, NaiveTime, Timelike, Utc};

use super::limit::{LimitUnit, TimeLimit};
use super::office_hours::{MINUTES_PER_DAY, OfficeHours};
use super::work_calendar::WorkCalendar;

const OFFSET_SECONDS: i64 = super::LEGAL_OFFSET_SECONDS as i64;
const MINUTES_PER_DAY_I64: i64 = MINUTES_PER_DAY as i64;

/// The legal clock of an agency: its work calendar and office hours. Cheap to build (two
/// references); build one per computation.
#[derive(Debug, Clone, Copy)]
pub struct LegalClock<'a> {
    calendar: &'a WorkCalendar,
    hours: &'a OfficeHours,
}

/// A local (UTC+7) minute: minutes since 1970-01-01 00:00 local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LocalMinute(i64);

impl LocalMinute {
    fn of(instant: DateTime<Utc>) -> Self {
        Self((instant.timestamp() + OFFSET_SECONDS).div_euclid(60))
    }

    fn at(day: i64, minute: u32) -> Self {
        Self(day * MINUTES_PER_DAY_I64 + i64::from(minute))
    }

    fn day(self) -> i64 {
        self.0.div_euclid(MINUTES_PER_DAY_I64)
    }

    fn minute(self) -> u32 {
        u32::try_from(self.0.rem_euclid(MINUTES_PER_DAY_I64)).expect("a minute of the day fits u32")
    }

    /// The instant; saturates at chrono's last instant, which only a limit added to an
    /// instant near year 262 000 could pass.
    fn instant(self) -> DateTime<Utc> {
        self.0
            .checked_mul(60)
            .and_then(|s| s.checked_sub(OFFSET_SECONDS))
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

impl<'a> LegalClock<'a> {
    /// A clock reading working time from a calendar and office hours.
    pub fn new(calendar: &'a WorkCalendar, hours: &'a OfficeHours) -> Self {
        Self { calendar, hours }
    }

    /// The work calendar.
    pub fn calendar(&self) -> &'a WorkCalendar {
        self.calendar
    }

    /// The office hours.
    pub fn hours(&self) -> &'a OfficeHours {
        self.hours
    }

    /// When the clock starts for something received at `instant`: the instant itself (to the
    /// minute) inside a session of a working day; the next session start during a break or
    /// before opening; the next working day's opening after closing or on a day off.
    pub fn normalise_intake(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        self.normalise(LocalMinute::of(instant)).instant()
    }

    /// When the legal clock starts for a dossier received at `received` (*thời điểm bắt đầu
    /// tính thời hạn*): the receipt itself inside office hours, else the next opening
    /// ([`LegalClock::normalise_intake`]). The real receipt instant (*thời điểm tiếp nhận*) is
    /// kept beside it; reports classify by this one.
    pub fn legal_clock_start(&self, received: DateTime<Utc>) -> DateTime<Utc> {
        self.normalise_intake(received)
    }

    /// Whether a receipt at `received` came outside office hours, so that its legal clock
    /// starts later than the minute it was received (both are then shown, labelled).
    pub fn received_after_hours(&self, received: DateTime<Utc>) -> bool {
        self.legal_clock_start(received) > LocalMinute::of(received).instant()
    }

    /// `minutes` of working time after `start`, walking forward through the sessions of
    /// working days. A result landing exactly on the end of a session stays there (one working
    /// day from 07:00 is 17:00 the same day). Adding nothing returns `start` unchanged.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: u64) -> DateTime<Utc> {
        if minutes == 0 {
            return start;
        }
        self.add(LocalMinute::of(start), minutes).instant()
    }

    /// The due instant (*ngày hẹn trả*) of something received at `received` with `limit`.
    ///
    /// The intake is normalised, then:
    /// - working days / hours: that much working time is added (N working days = N office
    ///   days of working time, so 10:00 Monday + 1 working day = 10:00 Tuesday);
    /// - calendar days: the local date moves N days keeping the time of day; on a day off the
    ///   due moves to the next working day at the same time of day.
    ///
    /// With a same-day `cutoff` (e.g. 15:00) the due is a closing time: an intake before the
    /// cut-off counts from its own day, a later one from the next working day's opening; the
    /// limit is added from there and the due is the closing time of the day reached. With a
    /// zero limit that is the same-day rule: due at today's closing if received before the
    /// cut-off, else at the next working day's closing.
    pub fn due(
        &self,
        received: DateTime<Utc>,
        limit: &TimeLimit,
        cutoff: Option<NaiveTime>,
    ) -> DateTime<Utc> {
        let start = self.normalise(LocalMinute::of(received));
        match cutoff {
            None => self.advance(start, limit).instant(),
            Some(cutoff) => {
                let cutoff_minute = cutoff.hour() * 60 + cutoff.minute();
                let start = if start.minute() < cutoff_minute {
                    start
                } else {
                    let next = self.calendar.nth_working_day_after(start.day(), 1);
                    LocalMinute::at(next, self.hours.opening_minute())
                };
                let reached = self.advance(start, limit);
                LocalMinute::at(reached.day(), self.hours.closing_minute()).instant()
            }
        }
    }

    /// Working minutes in `[from, to)` (0 when `to <= from`), both taken to the minute.
    pub fn working_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        let (from, to) = (LocalMinute::of(from), LocalMinute::of(to));
        if to <= from {
            return 0;
        }
        let day_minutes = |day: i64, from: u32, to: u32| {
            if self.calendar.is_working(day) {
                u64::from(self.hours.minutes_within(from, to))
            } else {
                0
            }
        };
        let (first, last) = (from.day(), to.day());
        if first == last {
            return day_minutes(first, from.minute(), to.minute());
        }
        day_minutes(first, from.minute(), MINUTES_PER_DAY)
            + self.calendar.count_working_days(first + 1, last) * u64::from(self.hours.day_minutes())
            + day_minutes(last, 0, to.minute())
    }

    /// The due instant after a pause (*tạm dừng*, e.g. awaiting supplements): `due` moved
    /// forward by the working time between `paused_from` and `resumed_at`. A pause with no
    /// working time in it changes nothing.
    pub fn resume_due(
        &self,
        due: DateTime<Utc>,
        paused_from: DateTime<Utc>,
        resumed_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.add_working_minutes(due, self.working_minutes_between(paused_from, resumed_at))
    }

    /// Whether an instant lies in a session (end included) of a working day.
    pub fn is_within_office_hours(&self, instant: DateTime<Utc>) -> bool {
        let local = super::to_local(instant);
        self.calendar.is_working_day(local.date_naive()) && self.hours.contains(local.time())
    }

    fn normalise(&self, at: LocalMinute) -> LocalMinute {
        let (day, minute) = (at.day(), at.minute());
        if self.calendar.is_working(day) {
            for &(start, end) in self.hours.minute_sessions() {
                if minute < end {
                    return LocalMinute::at(day, minute.max(start));
                }
            }
        }
        let next = self.calendar.nth_working_day_after(day, 1);
        LocalMinute::at(next, self.hours.opening_minute())
    }

    /// Moves a normalised start by a limit.
    fn advance(&self, start: LocalMinute, limit: &TimeLimit) -> LocalMinute {
        match limit.unit() {
            LimitUnit::WorkingDays | LimitUnit::WorkingHours => {
                let minutes = limit
                    .working_minutes(self.hours.day_minutes())
                    .expect("working units convert to minutes");
                if minutes == 0 {
                    start
                } else {
                    self.add(start, minutes)
                }
            }
            LimitUnit::CalendarDays => {
                let days = i64::try_from(limit.whole_units()).expect("limits are at most 100 000");
                let day = start.day() + days;
                let day = if self.calendar.is_working(day) {
                    day
                } else {
                    self.calendar.nth_working_day_after(day, 1)
                };
                LocalMinute::at(day, start.minute())
            }
        }
    }

    /// Adds `minutes > 0` of working time: finish the current day session by session, skip
    /// whole working days with the calendar's bitset, then place the rest in the last day.
    fn add(&self, start: LocalMinute, minutes: u64) -> LocalMinute {
        let sessions = self.hours.minute_sessions();
        let (day, minute) = (start.day(), start.minute());
        let mut remaining = minutes;
        if self.calendar.is_working(day) {
            for &(session_start, session_end) in sessions {
                if minute < session_end {
                    let from = minute.max(session_start);
                    let available = u64::from(session_end - from);
                    if remaining <= available {
                        return LocalMinute::at(day, from + remaining as u32);
                    }
                    remaining -= available;
                }
            }
        }
        // `remaining > 0` from the next working day's opening. Leave 1..=day_minutes for the
        // last day so that a due on a closing time stays on that day.
        let day_minutes = u64::from(self.hours.day_minutes());
        let whole_days = (remaining - 1) / day_minutes;
        let mut rest = remaining - whole_days * day_minutes;
        let last_day = self.calendar.nth_working_day_after(day, whole_days + 1);
        for &(session_start, session_end) in sessions {
            let length = u64::from(session_end - session_start);
            if rest <= length {
                return LocalMinute::at(last_day, session_start + rest as u32);
            }
            rest -= length;
        }
        // `rest <= day_minutes`, so the loop has returned.
        LocalMinute::at(last_day, self.hours.closing_minute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::holidays::{Override, OverrideKind};
    use crate::calendar::test_support::{date, local, rules_calendar};
    use proptest::prelude::*;

    fn limit(s: &str) -> TimeLimit {
        TimeLimit::parse(s).expect(s)
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid")
    }

    /// Runs `f` with a clock on the rule calendar and default office hours.
    fn with_clock<R>(f: impl FnOnce(LegalClock<'_>) -> R) -> R {
        let hours = OfficeHours::default();
        f(LegalClock::new(rules_calendar(), &hours))
    }

    #[test]
    fn one_working_day_from_opening_ends_at_closing_the_same_day() {
        with_clock(|clock| {
            // Monday 2025-03-10.
            let due = clock.due(local(2025, 3, 10, 7, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 3, 10, 17, 0));
        });
    }

    #[test]
    fn one_working_day_from_mid_morning_ends_next_day_same_time() {
        with_clock(|clock| {
            let due = clock.due(local(2025, 3, 10, 10, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 3, 11, 10, 0));
        });
    }

    #[test]
    fn working_time_skips_lunch() {
        with_clock(|clock| {
            let due = clock.due(local(2025, 3, 10, 10, 0), &limit("4 working-hours"), None);
            // 10:00–11:30 is 90 minutes, then 150 more from 13:30.
            assert_eq!(due, local(2025, 3, 10, 16, 0));
            let due = clock.due(local(2025, 3, 10, 11, 0), &limit("0.5 working-hours"), None);
            assert_eq!(due, local(2025, 3, 10, 11, 30));
            // 31 hours = 1860 minutes: 240 on Monday, 480 Tuesday to Thursday, 180 on Friday.
            let due = clock.due(local(2025, 3, 10, 11, 0), &limit("31 working-hours"), None);
            assert_eq!(due, local(2025, 3, 14, 10, 0));
        });
    }

    #[test]
    fn the_legal_clock_of_an_after_hours_receipt_starts_at_the_next_opening() {
        with_clock(|clock| {
            // Friday 20:00 → Monday 07:00; the receipt itself is after hours.
            let friday_evening = local(2025, 3, 14, 20, 0);
            assert_eq!(clock.legal_clock_start(friday_evening), local(2025, 3, 17, 7, 0));
            assert!(clock.received_after_hours(friday_evening));
            // Saturday morning → Monday 07:00.
            assert_eq!(
                clock.legal_clock_start(local(2025, 3, 15, 9, 0)),
                local(2025, 3, 17, 7, 0)
            );
            // Lunch → 13:30 the same day.
            assert_eq!(
                clock.legal_clock_start(local(2025, 3, 10, 12, 0)),
                local(2025, 3, 10, 13, 30)
            );
            assert!(clock.received_after_hours(local(2025, 3, 10, 12, 0)));
            // Inside a session: the clock starts at the receipt (seconds dropped), not later.
            let morning = local(2025, 3, 10, 9, 41) + chrono::Duration::seconds(37);
            assert_eq!(clock.legal_clock_start(morning), local(2025, 3, 10, 9, 41));
            assert!(!clock.received_after_hours(morning));
            // A public holiday (2 Sep 2025, Tuesday) → the next working day's opening.
            assert_eq!(
                clock.legal_clock_start(local(2025, 9, 2, 10, 0)),
                local(2025, 9, 3, 7, 0)
            );
        });
    }

    #[test]
    fn intake_outside_office_hours_starts_at_the_next_opening() {
        with_clock(|clock| {
            // During lunch → 13:30.
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 10, 12, 15)),
                local(2025, 3, 10, 13, 30)
            );
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 10, 11, 30)),
                local(2025, 3, 10, 13, 30)
            );
            // Before opening on a working day → 07:00 that day.
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 10, 5, 0)),
                local(2025, 3, 10, 7, 0)
            );
            // At or after closing → next working day 07:00.
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 10, 17, 0)),
                local(2025, 3, 11, 7, 0)
            );
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 14, 20, 0)),
                local(2025, 3, 17, 7, 0)
            );
            // Weekend → Monday 07:00.
            assert_eq!(
                clock.normalise_intake(local(2025, 3, 15, 9, 0)),
                local(2025, 3, 17, 7, 0)
            );
            // Inside a session → unchanged, to the minute.
            let odd = local(2025, 3, 10, 9, 41) + chrono::Duration::seconds(37);
            assert_eq!(clock.normalise_intake(odd), local(2025, 3, 10, 9, 41));
        });
    }

    #[test]
    fn weekend_intake_counts_from_monday() {
        with_clock(|clock| {
            let due = clock.due(local(2025, 3, 15, 9, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 3, 17, 17, 0));
            let due = clock.due(local(2025, 3, 14, 16, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 3, 17, 16, 0));
        });
    }

    #[test]
    fn half_days() {
        with_clock(|clock| {
            let due = clock.due(local(2025, 3, 10, 7, 0), &limit("0.5 working-days"), None);
            assert_eq!(due, local(2025, 3, 10, 11, 0));
            // 2.5 days = 1200 minutes: 180 on Monday, 480 on Tuesday and on Wednesday, 60 on
            // Thursday.
            let due = clock.due(local(2025, 3, 10, 14, 0), &limit("2.5 working-days"), None);
            assert_eq!(due, local(2025, 3, 13, 8, 0));
        });
    }

    #[test]
    fn tet_2025_is_skipped() {
        with_clock(|clock| {
            // Monday 2025-01-27, 10:00; off 28 Jan – 1 Feb (Tết) and Monday 3 Feb (compensatory).
            let due = clock.due(local(2025, 1, 27, 10, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 2, 4, 10, 0));
            // 15 working days from Friday 2025-01-24 10:00 end on the 15th working day after
            // it, at 10:00: 27 Jan (1), 4–7 Feb (2–5), 10–14 (6–10), 17–21 (11–15).
            let due = clock.due(local(2025, 1, 24, 10, 0), &limit("15 working-days"), None);
            assert_eq!(due, local(2025, 2, 21, 10, 0));
        });
    }

    #[test]
    fn national_day_break_2025_is_skipped() {
        with_clock(|clock| {
            // Friday 29 August 2025 at 15:00; Monday 1 and Tuesday 2 September are off.
            let due = clock.due(local(2025, 8, 29, 15, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 9, 3, 15, 0));
            assert_eq!(
                clock.working_minutes_between(local(2025, 8, 29, 17, 0), local(2025, 9, 3, 7, 0)),
                0
            );
        });
    }

    #[test]
    fn make_up_saturday_carries_working_time() {
        let saturday = date(2025, 2, 8);
        let calendar = WorkCalendar::new(&[Override {
            date: saturday,
            kind: OverrideKind::Workday,
            name: String::new(),
        }])
        .expect("valid");
        let hours = OfficeHours::default();
        let clock = LegalClock::new(&calendar, &hours);
        // Friday 7 February 2025 at 10:00 + 1 working day → Saturday 10:00.
        let due = clock.due(local(2025, 2, 7, 10, 0), &limit("1 working-days"), None);
        assert_eq!(due, local(2025, 2, 8, 10, 0));
        assert_eq!(
            clock.normalise_intake(local(2025, 2, 8, 6, 0)),
            local(2025, 2, 8, 7, 0)
        );
        // Without the override it is Monday.
        with_clock(|plain| {
            let due = plain.due(local(2025, 2, 7, 10, 0), &limit("1 working-days"), None);
            assert_eq!(due, local(2025, 2, 10, 10, 0));
        });
    }

    #[test]
    fn calendar_days_ending_on_a_day_off_move_to_the_next_working_day() {
        with_clock(|clock| {
            // Wednesday 20 August 2025 10:00 + 12 days = Monday 1 September (bridge day off)
            // → Wednesday 3 September 10:00.
            let due = clock.due(local(2025, 8, 20, 10, 0), &limit("12 days"), None);
            assert_eq!(due, local(2025, 9, 3, 10, 0));
            // Ending on a working day keeps the time of day.
            let due = clock.due(local(2025, 8, 20, 10, 0), &limit("15 days"), None);
            assert_eq!(due, local(2025, 9, 4, 10, 0));
            // Saturday intake normalises to Monday 07:00 first.
            let due = clock.due(local(2025, 3, 15, 10, 0), &limit("7 days"), None);
            assert_eq!(due, local(2025, 3, 24, 7, 0));
        });
    }

    #[test]
    fn same_day_cutoff() {
        with_clock(|clock| {
            let same_day = limit("0 working-days");
            let cutoff = Some(t(15, 0));
            // Before 15:00 → 17:00 the same day.
            assert_eq!(
                clock.due(local(2025, 3, 10, 14, 59), &same_day, cutoff),
                local(2025, 3, 10, 17, 0)
            );
            // At or after 15:00 → next working day's closing.
            assert_eq!(
                clock.due(local(2025, 3, 10, 15, 0), &same_day, cutoff),
                local(2025, 3, 11, 17, 0)
            );
            // Friday after the cut-off → Monday.
            assert_eq!(
                clock.due(local(2025, 3, 14, 16, 0), &same_day, cutoff),
                local(2025, 3, 17, 17, 0)
            );
            // After hours → normalised to next morning, which is before the cut-off.
            assert_eq!(
                clock.due(local(2025, 3, 10, 18, 0), &same_day, cutoff),
                local(2025, 3, 11, 17, 0)
            );
            // A one-day limit with a cut-off is due at the closing of the day it reaches.
            assert_eq!(
                clock.due(local(2025, 3, 10, 10, 0), &limit("1 working-days"), cutoff),
                local(2025, 3, 11, 17, 0)
            );
        });
    }

    #[test]
    fn working_minutes_between_counts_only_office_time() {
        with_clock(|clock| {
            let monday_10 = local(2025, 3, 10, 10, 0);
            assert_eq!(
                clock.working_minutes_between(monday_10, local(2025, 3, 10, 14, 0)),
                120
            );
            assert_eq!(
                clock.working_minutes_between(monday_10, local(2025, 3, 11, 10, 0)),
                480
            );
            assert_eq!(
                clock.working_minutes_between(monday_10, local(2025, 3, 17, 10, 0)),
                5 * 480
            );
            assert_eq!(
                clock.working_minutes_between(local(2025, 3, 11, 10, 0), monday_10),
                0
            );
            assert_eq!(clock.working_minutes_between(monday_10, monday_10), 0);
            // Across Tết 2025: Friday 24 Jan 17:00 to Tuesday 4 Feb 07:00 is Monday 27 only.
            assert_eq!(
                clock.working_minutes_between(local(2025, 1, 24, 17, 0), local(2025, 2, 4, 7, 0)),
                480
            );
        });
    }

    #[test]
    fn pause_and_resume_moves_the_due_by_the_working_time_paused() {
        with_clock(|clock| {
            let due = local(2025, 3, 14, 10, 0);
            // Paused Monday 10:00, resumed Wednesday 10:00: two working days.
            let resumed = clock.resume_due(due, local(2025, 3, 10, 10, 0), local(2025, 3, 12, 10, 0));
            assert_eq!(resumed, local(2025, 3, 18, 10, 0));
            // Paused over a weekend only: nothing moves.
            let unchanged = clock.resume_due(due, local(2025, 3, 8, 9, 0), local(2025, 3, 9, 18, 0));
            assert_eq!(unchanged, due);
            // A due on a closing time stays put if nothing is added, and moves to the next
            // morning otherwise.
            let closing = local(2025, 3, 14, 17, 0);
            assert_eq!(clock.resume_due(closing, monday(), monday()), closing);
            assert_eq!(
                clock.resume_due(closing, local(2025, 3, 10, 7, 0), local(2025, 3, 10, 8, 0)),
                local(2025, 3, 17, 8, 0)
            );
        });
    }

    fn monday() -> DateTime<Utc> {
        local(2025, 3, 10, 9, 0)
    }

    #[test]
    fn custom_office_hours() {
        let calendar = WorkCalendar::rules_only();
        let hours = OfficeHours::parse("08:00-12:00,13:00-16:30").expect("valid");
        let clock = LegalClock::new(&calendar, &hours);
        // A day is 450 minutes here.
        let due = clock.due(local(2025, 3, 10, 8, 0), &limit("1 working-days"), None);
        assert_eq!(due, local(2025, 3, 10, 16, 30));
        let due = clock.due(local(2025, 3, 10, 8, 0), &limit("0.5 working-days"), None);
        assert_eq!(due, local(2025, 3, 10, 11, 45));
    }

    #[test]
    fn limits_running_past_2199_still_end() {
        with_clock(|clock| {
            let due = clock.due(local(2199, 12, 30, 10, 0), &limit("10 working-days"), None);
            assert!(due > local(2200, 1, 1, 0, 0));
            assert!(clock.is_within_office_hours(due));
        });
    }

    fn instant_strategy() -> impl Strategy<Value = DateTime<Utc>> {
        // 2019-01-01 … 2031-12-31, any second.
        let from = local(2019, 1, 1, 0, 0).timestamp();
        let to = local(2032, 1, 1, 0, 0).timestamp();
        (from..to).prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range"))
    }

    fn limit_strategy() -> impl Strategy<Value = TimeLimit> {
        prop_oneof![
            (0u64..=60_000)
                .prop_map(|t| TimeLimit::from_thousandths(t, LimitUnit::WorkingDays).expect("valid")),
            (0u64..=300_000)
                .prop_map(|t| TimeLimit::from_thousandths(t, LimitUnit::WorkingHours).expect("valid")),
            (0u16..=90).prop_map(TimeLimit::calendar_days),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn due_is_never_before_received_and_lies_in_office_hours(
            received in instant_strategy(),
            limit in limit_strategy(),
            cutoff in proptest::option::of(6u32..20),
        ) {
            let calendar = rules_calendar();
            let hours = OfficeHours::default();
            let clock = LegalClock::new(calendar, &hours);
            let cutoff = cutoff.map(|h| t(h, 0));
            let due = clock.due(received, &limit, cutoff);
            prop_assert!(due >= received - chrono::Duration::seconds(59));
            prop_assert!(clock.is_within_office_hours(due), "{} not in office hours", due);
        }

        #[test]
        fn more_work_never_gives_an_earlier_due(
            received in instant_strategy(),
            a in 0u64..20_000,
            b in 0u64..20_000,
        ) {
            let calendar = rules_calendar();
            let hours = OfficeHours::default();
            let clock = LegalClock::new(calendar, &hours);
            let (less, more) = (a.min(b), a.max(b));
            let due = |m| clock.due(received, &TimeLimit::from_thousandths(m, LimitUnit::WorkingHours).expect("valid"), None);
            prop_assert!(due(less) <= due(more));
        }

        #[test]
        fn working_time_between_start_and_due_is_the_limit(
            received in instant_strategy(),
            minutes in 1u64..50_000,
        ) {
            let calendar = rules_calendar();
            let hours = OfficeHours::default();
            let clock = LegalClock::new(calendar, &hours);
            let start = clock.normalise_intake(received);
            let due = clock.add_working_minutes(start, minutes);
            prop_assert_eq!(clock.working_minutes_between(start, due), minutes);
            prop_assert_eq!(clock.working_minutes_between(received, due), minutes);
        }

        #[test]
        fn pausing_zero_changes_nothing(
            received in instant_strategy(),
            limit in limit_strategy(),
            pause in instant_strategy(),
        ) {
            let calendar = rules_calendar();
            let hours = OfficeHours::default();
            let clock = LegalClock::new(calendar, &hours);
            let due = clock.due(received, &limit, None);
            prop_assert_eq!(clock.resume_due(due, pause, pause), due);
            // A pause is never shortening.
            let later = pause + chrono::Duration::hours(30);
            prop_assert!(clock.resume_due(due, pause, later) >= due);
        }

        #[test]
        fn fast_addition_matches_minute_by_minute_walking(
            received in instant_strategy(),
            minutes in 1u64..3_000,
        ) {
            let calendar = rules_calendar();
            let hours = OfficeHours::default();
            let clock = LegalClock::new(calendar, &hours);
            // Reference: step one minute at a time, counting minutes that start inside a
            // session of a working day.
            let mut at = LocalMinute::of(received);
            let mut left = minutes;
            while left > 0 {
                let working = calendar.is_working(at.day())
                    && hours.minute_sessions().iter().any(|&(s, e)| s <= at.minute() && at.minute() < e);
                if working {
                    left -= 1;
                }
                at = LocalMinute(at.0 + 1);
            }
            prop_assert_eq!(clock.add_working_minutes(received, minutes), at.instant());
        }
    }
}
