//! Benchmarks of legal-time computations: due instants across holidays and years, working
//! time between instants, building the work calendar, lunar conversion.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-domain cargo bench -p motcua-domain --bench deadline`.
//! Figures are recorded in docs/time.md.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use divan::{Bencher, black_box};
use motcua_domain::calendar::{
    LegalClock, LimitUnit, LunarDate, OfficeHours, Override, OverrideKind, TimeLimit, WorkCalendar,
    local_instant, lunar_to_solar, rule_days, solar_to_lunar,
};

fn main() {
    divan::main();
}

/// A small deterministic generator (xorshift64*), so every run measures the same inputs
/// without a `rand` dependency.
struct Inputs(u64);

impl Inputs {
    fn new() -> Self {
        Self(0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Any second of 2020–2030, local time.
    fn instant(&mut self) -> DateTime<Utc> {
        let from = received(2020, 1, 1, 0, 0).timestamp();
        let to = received(2031, 1, 1, 0, 0).timestamp();
        let secs = from + self.below((to - from) as u64) as i64;
        DateTime::from_timestamp(secs, 0).expect("in range")
    }
}

fn received(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    local_instant(
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date"),
        NaiveTime::from_hms_opt(h, min, 0).expect("valid time"),
    )
}

/// Runs `f` with a clock on the rule calendar and default office hours.
fn with_clock(f: impl FnOnce(LegalClock<'_>)) {
    let calendar = WorkCalendar::rules_only();
    let hours = OfficeHours::default();
    f(LegalClock::new(&calendar, &hours));
}

mod due {
    use super::*;

    /// Random intake 2020–2030, 0.5–30 working days in half days.
    #[divan::bench]
    fn working_days(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            bencher
                .with_inputs(|| {
                    let half_days = 1 + inputs.below(60);
                    let limit = TimeLimit::from_thousandths(half_days * 500, LimitUnit::WorkingDays)
                        .expect("valid limit");
                    (inputs.instant(), limit)
                })
                .bench_local_values(|(at, limit)| clock.due(at, &limit, None));
        });
    }

    /// Random intake 2020–2030, 1–64 working hours.
    #[divan::bench]
    fn working_hours(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            bencher
                .with_inputs(|| {
                    let limit = TimeLimit::working_hours(1 + inputs.below(64) as u16);
                    (inputs.instant(), limit)
                })
                .bench_local_values(|(at, limit)| clock.due(at, &limit, None));
        });
    }

    /// Random intake 2020–2030, 1–60 calendar days.
    #[divan::bench]
    fn calendar_days(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            bencher
                .with_inputs(|| {
                    let limit = TimeLimit::calendar_days(1 + inputs.below(60) as u16);
                    (inputs.instant(), limit)
                })
                .bench_local_values(|(at, limit)| clock.due(at, &limit, None));
        });
    }

    /// Random intake 2020–2030, same-day rule with a 15:00 cut-off.
    #[divan::bench]
    fn same_day_cutoff(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            let cutoff = NaiveTime::from_hms_opt(15, 0, 0);
            let limit = TimeLimit::working_days(0);
            bencher
                .with_inputs(|| inputs.instant())
                .bench_local_values(|at| clock.due(at, &limit, cutoff));
        });
    }

    /// The typical case of the brief: 15 working days across Tết 2025.
    #[divan::bench]
    fn fifteen_working_days_across_tet(bencher: Bencher) {
        with_clock(|clock| {
            let at = received(2025, 1, 24, 10, 0);
            let limit = TimeLimit::working_days(15);
            bencher.bench_local(|| clock.due(black_box(at), black_box(&limit), None));
        });
    }

    /// A long limit: 250 working days (about a year of holidays to skip).
    #[divan::bench]
    fn a_year_of_working_days(bencher: Bencher) {
        with_clock(|clock| {
            let at = received(2025, 1, 24, 10, 0);
            let limit = TimeLimit::working_days(250);
            bencher.bench_local(|| clock.due(black_box(at), black_box(&limit), None));
        });
    }
}

mod working_time {
    use super::*;

    /// Working minutes between two random instants up to 60 days apart.
    #[divan::bench]
    fn between(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            bencher
                .with_inputs(|| {
                    let from = inputs.instant();
                    let to = from + chrono::Duration::minutes(inputs.below(60 * 24 * 60) as i64);
                    (from, to)
                })
                .bench_local_values(|(from, to)| clock.working_minutes_between(from, to));
        });
    }

    /// Resuming after a pause of up to 20 days.
    #[divan::bench]
    fn resume_due(bencher: Bencher) {
        with_clock(|clock| {
            let mut inputs = Inputs::new();
            let limit = TimeLimit::working_days(15);
            bencher
                .with_inputs(|| {
                    let at = inputs.instant();
                    let due = clock.due(at, &limit, None);
                    let paused = at + chrono::Duration::minutes(inputs.below(60 * 24 * 10) as i64);
                    let resumed = paused + chrono::Duration::minutes(inputs.below(60 * 24 * 20) as i64);
                    (due, paused, resumed)
                })
                .bench_local_values(|(due, paused, resumed)| clock.resume_due(due, paused, resumed));
        });
    }
}

mod work_calendar {
    use super::*;

    /// The rule calendar for 1900–2199, as rebuilt when there are no overrides.
    #[divan::bench]
    fn build_rules_only() -> WorkCalendar {
        WorkCalendar::rules_only()
    }

    /// A realistic administrator's calendar: a dozen overrides a year for 2015–2035.
    #[divan::bench]
    fn build_with_overrides(bencher: Bencher) {
        let mut inputs = Inputs::new();
        let mut overrides: Vec<Override> = Vec::new();
        for year in 2015..=2035 {
            let mut dates: Vec<NaiveDate> = (0..12)
                .filter_map(|_| NaiveDate::from_yo_opt(year, 1 + inputs.below(365) as u32))
                .collect();
            dates.sort();
            dates.dedup();
            for (i, date) in dates.into_iter().enumerate() {
                let kind = [OverrideKind::DayOff, OverrideKind::Workday, OverrideKind::Remove][i % 3];
                overrides.push(Override {
                    date,
                    kind,
                    name: String::new(),
                });
            }
        }
        bencher.bench_local(|| WorkCalendar::new(black_box(&overrides)));
    }

    /// The rule days of one year (names included).
    #[divan::bench]
    fn rule_days_of_a_year(bencher: Bencher) {
        bencher.bench_local(|| rule_days(black_box(2026)));
    }

    /// The O(1) question.
    #[divan::bench]
    fn is_working_day(bencher: Bencher) {
        let calendar = WorkCalendar::rules_only();
        let mut inputs = Inputs::new();
        bencher
            .with_inputs(|| inputs.instant().date_naive())
            .bench_local_values(|date| calendar.is_working_day(date));
    }
}

mod lunar {
    use super::*;

    /// Solar → lunar for a random day of 1900–2199.
    #[divan::bench]
    fn solar_to_lunar_random(bencher: Bencher) {
        let mut inputs = Inputs::new();
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid");
        bencher
            .with_inputs(|| first + chrono::Duration::days(inputs.below(109_572) as i64))
            .bench_local_values(solar_to_lunar);
    }

    /// Lunar → solar for a random lunar date of 1900–2198 (days 1–29 always exist).
    #[divan::bench]
    fn lunar_to_solar_random(bencher: Bencher) {
        let mut inputs = Inputs::new();
        bencher
            .with_inputs(|| LunarDate {
                year: 1900 + inputs.below(299) as i32,
                month: 1 + inputs.below(12) as u32,
                day: 1 + inputs.below(29) as u32,
                leap: false,
            })
            .bench_local_values(lunar_to_solar);
    }
}
