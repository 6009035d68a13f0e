//! II.06a from counters: the fast path. Each dossier contributes a few dated increments
//! (received, finished by class, overdue from / until); every column of the form for any
//! period `[from, to]` is a difference of **prefix sums** of those increments at `from − 1`
//! and at `to`. Prefix sums are read from three grains (whole years, months of the current
//! year, days of the current month), so a report reads a bounded number of counter rows
//! whatever the period and however many dossiers there are.
//!
//! Proven equal to `Row::count` (the recount) by the property tests below; the store applies
//! `diff(old, new)` on every transition and on import, so the counters follow every change
//! (including a due date moved by a supplement pause).

use super::{Ending, Facts, Row};
use chrono::{Datelike, Duration, NaiveDate};

/// A counted increment. Stored as its `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    ReceivedOnline,
    ReceivedDirect,
    FinishedEarly,
    FinishedOnTime,
    FinishedLate,
    /// The first day at whose end the dossier is in process and overdue.
    OverdueFrom,
    /// The day it stopped being so (its finishing day).
    OverdueUntil,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::ReceivedOnline,
        Metric::ReceivedDirect,
        Metric::FinishedEarly,
        Metric::FinishedOnTime,
        Metric::FinishedLate,
        Metric::OverdueFrom,
        Metric::OverdueUntil,
    ];

    pub fn id(self) -> i16 {
        self as i16 + 1
    }

    pub fn from_id(id: i16) -> Option<Metric> {
        Metric::ALL.get(usize::try_from(id - 1).ok()?).copied()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Whether the dossier is in process and overdue at the end of day `t` (without pauses).
pub fn overdue_at(f: &Facts, t: NaiveDate) -> bool {
    overdue_interval(f).is_some_and(|(a, b)| a <= t && b.is_none_or(|b| t < b))
}

/// `[a, b)`: overdue at the end of every day from `a` (inclusive) to `b` (exclusive, None:
/// still open). Overdue at `t` ⇔ received by `t`, due before `t`, not finished by `t`.
fn overdue_interval(f: &Facts) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let due = f.due_on?;
    let a = f.received_on.max(due.succ_opt()?);
    match f.finished {
        Some((e, _)) if a >= e => None,
        Some((e, _)) => Some((a, Some(e))),
        None => Some((a, None)),
    }
}

/// The dated increments of one dossier. Assumes it did not finish before it was received.
pub fn contributions(f: &Facts) -> Vec<(NaiveDate, Metric)> {
    let mut out = Vec::with_capacity(4);
    out.push((
        f.received_on,
        if f.online {
            Metric::ReceivedOnline
        } else {
            Metric::ReceivedDirect
        },
    ));
    if let Some((done, ending)) = f.finished {
        let class = match (ending, f.due_on) {
            (Ending::WithdrawnOrStopped, _) | (Ending::Resolved, None) => Metric::FinishedOnTime,
            (Ending::Resolved, Some(due)) if done < due => Metric::FinishedEarly,
            (Ending::Resolved, Some(due)) if done == due => Metric::FinishedOnTime,
            (Ending::Resolved, Some(_)) => Metric::FinishedLate,
        };
        out.push((done, class));
    }
    if let Some((a, b)) = overdue_interval(f) {
        out.push((a, Metric::OverdueFrom));
        if let Some(b) = b {
            out.push((b, Metric::OverdueUntil));
        }
    }
    out
}

/// What to add to the counters when a dossier's facts change from `old` to `new` (None: not
/// counted, e.g. refused or not yet received). Increments that cancel out are left out.
pub fn diff(old: Option<&Facts>, new: Option<&Facts>) -> Vec<(NaiveDate, Metric, i64)> {
    let mut out: Vec<(NaiveDate, Metric, i64)> = Vec::new();
    let mut put = |d: NaiveDate, m: Metric, n: i64| match out.iter_mut().find(|x| x.0 == d && x.1 == m) {
        Some(x) => x.2 += n,
        None => out.push((d, m, n)),
    };
    for (d, m) in old.map(contributions).unwrap_or_default() {
        put(d, m, -1);
    }
    for (d, m) in new.map(contributions).unwrap_or_default() {
        put(d, m, 1);
    }
    out.retain(|x| x.2 != 0);
    out
}

/// The grain of a counter row: its bucket is the day, the first of the month or 1 January.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Day,
    Month,
    Year,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Month, Grain::Year];

    /// Stored as one letter.
    pub fn code(self) -> &'static str {
        match self {
            Grain::Day => "d",
            Grain::Month => "m",
            Grain::Year => "y",
        }
    }

    pub fn bucket(self, day: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => day,
            Grain::Month => day.with_day(1).unwrap_or(day),
            Grain::Year => day.with_ordinal(1).unwrap_or(day),
        }
    }
}

/// The earliest bucket ever read.
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The bucket ranges (grain, first bucket, last bucket, inclusive) whose sum is the prefix
/// sum of every day up to and including `day`: the whole years before, the months of this
/// year before this month, the days of this month up to `day` — or, when `day` ends its
/// month (or year), whole months (years) up to it, so reports of calendar periods read no day
/// rows at all. Empty ranges are left out.
pub fn prefix_ranges(day: NaiveDate) -> Vec<(Grain, NaiveDate, NaiveDate)> {
    let year_start = Grain::Year.bucket(day);
    let month_start = Grain::Month.bucket(day);
    let next = day.succ_opt();
    let ends_month = next.is_none_or(|n| n.day() == 1);
    let ends_year = next.is_none_or(|n| n.ordinal() == 1);
    let mut out = Vec::with_capacity(3);
    if ends_year {
        out.push((Grain::Year, EPOCH, year_start));
        return out;
    }
    if let Some(last_year) = year_start.pred_opt().map(|d| Grain::Year.bucket(d)) {
        out.push((Grain::Year, EPOCH, last_year));
    }
    let last_whole_month = if ends_month {
        Some(month_start)
    } else {
        month_start.pred_opt().map(|d| Grain::Month.bucket(d))
    };
    if let Some(last) = last_whole_month
        && last >= year_start
    {
        out.push((Grain::Month, year_start, last));
    }
    if !ends_month {
        out.push((Grain::Day, month_start, day));
    }
    out
}

/// Prefix sums of one row key's metrics at the day before the period and at its last day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefixes {
    pub before: [i64; 7],
    pub at_end: [i64; 7],
}

impl Prefixes {
    pub fn add(&mut self, m: Metric, before: i64, at_end: i64) {
        self.before[m.index()] += before;
        self.at_end[m.index()] += at_end;
    }

    pub fn merge(&mut self, o: &Prefixes) {
        for i in 0..7 {
            self.before[i] += o.before[i];
            self.at_end[i] += o.at_end[i];
        }
    }

    /// The row of the form. `paused_overdue`: dossiers awaiting a supplement at the end that
    /// the counters hold as overdue; they count as within time (DOMAIN.md §5).
    pub fn row(&self, paused_overdue: i64) -> Row {
        use Metric::*;
        let (b, e) = (&self.before, &self.at_end);
        let at = |a: &[i64; 7], m: Metric| a[m.index()];
        let received_by = |a: &[i64; 7]| at(a, ReceivedOnline) + at(a, ReceivedDirect);
        let finished_by = |a: &[i64; 7]| at(a, FinishedEarly) + at(a, FinishedOnTime) + at(a, FinishedLate);
        let flow = |m: Metric| at(e, m) - at(b, m);
        let received_online = flow(ReceivedOnline);
        let received_direct = flow(ReceivedDirect);
        let carried_over = received_by(b) - finished_by(b);
        let (early, on_time, late) = (flow(FinishedEarly), flow(FinishedOnTime), flow(FinishedLate));
        let in_process = received_by(e) - finished_by(e);
        let overdue = at(e, OverdueFrom) - at(e, OverdueUntil) - paused_overdue;
        Row {
            received: received_online + received_direct + carried_over,
            received_online,
            received_direct,
            carried_over,
            resolved: early + on_time + late,
            early,
            on_time,
            late,
            in_process,
            within_time: in_process - overdue,
            overdue,
        }
    }
}

/// The day before `d` (the prefix that a period starting on `d` subtracts).
pub fn day_before(d: NaiveDate) -> NaiveDate {
    d.checked_sub_signed(Duration::days(1)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::super::Period;
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn any_facts() -> impl Strategy<Value = Facts> {
        (
            0i64..800,
            any::<bool>(),
            proptest::option::of(-3i64..60),
            proptest::option::of((0i64..90, any::<bool>())),
        )
            .prop_map(|(received, online, due, finished)| {
                let received_on = d(2025, 10, 20) + Duration::days(received);
                Facts {
                    received_on,
                    online,
                    due_on: due.map(|x| received_on + Duration::days(x)),
                    finished: finished.map(|(x, w)| {
                        (
                            received_on + Duration::days(x),
                            if w {
                                Ending::WithdrawnOrStopped
                            } else {
                                Ending::Resolved
                            },
                        )
                    }),
                    paused_at_end: false,
                }
            })
    }

    /// Counters as the store keeps them: every increment in its three grain buckets.
    fn stored(all: &[Facts]) -> BTreeMap<(Grain, NaiveDate, Metric), i64> {
        let mut m = BTreeMap::new();
        for f in all {
            for (day, metric, n) in diff(None, Some(f)) {
                for g in Grain::ALL {
                    *m.entry((g, g.bucket(day), metric)).or_insert(0) += n;
                }
            }
        }
        m
    }

    fn prefix(counters: &BTreeMap<(Grain, NaiveDate, Metric), i64>, day: NaiveDate) -> [i64; 7] {
        let mut out = [0; 7];
        for (g, lo, hi) in prefix_ranges(day) {
            for ((grain, bucket, metric), n) in counters {
                if *grain == g && lo <= *bucket && *bucket <= hi {
                    out[metric.index()] += n;
                }
            }
        }
        out
    }

    fn fast(counters: &BTreeMap<(Grain, NaiveDate, Metric), i64>, p: &Period) -> Row {
        Prefixes {
            before: prefix(counters, day_before(p.from)),
            at_end: prefix(counters, p.to),
        }
        .row(0)
    }

    #[test]
    fn prefix_ranges_cover_every_day_once() {
        for day in [
            d(2026, 1, 1),
            d(2026, 1, 31),
            d(2026, 3, 1),
            d(2026, 12, 31),
            d(2024, 2, 29),
        ] {
            let r = prefix_ranges(day);
            let covers = |x: NaiveDate| {
                r.iter()
                    .filter(|(g, lo, hi)| *lo <= g.bucket(x) && g.bucket(x) <= *hi)
                    .count()
            };
            for back in 0..800 {
                let x = day - Duration::days(back);
                assert_eq!(covers(x), 1, "{x} for {day}: {r:?}");
            }
            assert_eq!(covers(day + Duration::days(1)), 0, "{day}: {r:?}");
            let ends_month = (day + Duration::days(1)).day() == 1;
            assert_eq!(r.iter().any(|x| x.0 == Grain::Day), !ends_month, "{day}: {r:?}");
        }
    }

    #[test]
    fn metric_ids_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_id(m.id()), Some(m));
        }
        assert_eq!(Metric::from_id(0), None);
        assert_eq!(Metric::from_id(8), None);
    }

    #[test]
    fn a_due_date_moved_by_a_pause_moves_the_overdue_counter() {
        let before = Facts {
            received_on: d(2026, 11, 2),
            online: false,
            due_on: Some(d(2026, 11, 5)),
            finished: None,
            paused_at_end: false,
        };
        let after = Facts {
            due_on: Some(d(2026, 11, 12)),
            ..before
        };
        let changes = diff(Some(&before), Some(&after));
        assert_eq!(
            changes,
            vec![
                (d(2026, 11, 6), Metric::OverdueFrom, -1),
                (d(2026, 11, 13), Metric::OverdueFrom, 1)
            ]
        );
        assert!(overdue_at(&before, d(2026, 11, 10)) && !overdue_at(&after, d(2026, 11, 10)));
    }

    proptest! {
        #[test]
        fn counters_give_the_recount(all in proptest::collection::vec(any_facts(), 0..120), a in 0i64..900, len in 0i64..400) {
            let counters = stored(&all);
            let from = d(2025, 10, 1) + Duration::days(a);
            let p = Period::new(from, from + Duration::days(len)).unwrap();
            let mut recount = Row::default();
            for f in &all {
                recount.count(f, &p);
            }
            let got = fast(&counters, &p);
            prop_assert_eq!(got, recount);
            // Calendar periods read whole months and years only.
            let month = Period::month(from.year(), from.month()).unwrap();
            let mut recount_month = Row::default();
            for f in &all {
                recount_month.count(f, &month);
            }
            prop_assert_eq!(fast(&counters, &month), recount_month);
            prop_assert!(got.check().is_ok());
            for f in &all {
                let mut one = Row::default();
                one.count(f, &p);
                prop_assert_eq!(one.overdue == 1, overdue_at(f, p.to));
            }
        }

        #[test]
        fn diffs_follow_changes(old in any_facts(), new in any_facts(), gone in any::<bool>()) {
            // Applying diff(old, new) on top of old's contributions gives new's.
            let mut counters = stored(std::slice::from_ref(&old));
            let next = if gone { None } else { Some(&new) };
            for (day, metric, n) in diff(Some(&old), next) {
                for g in Grain::ALL {
                    *counters.entry((g, g.bucket(day), metric)).or_insert(0) += n;
                }
            }
            counters.retain(|_, n| *n != 0);
            let mut expected = if gone { BTreeMap::new() } else { stored(std::slice::from_ref(&new)) };
            expected.retain(|_, n| *n != 0);
            prop_assert_eq!(counters, expected);
        }
    }
}
