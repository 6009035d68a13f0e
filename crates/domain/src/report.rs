//! The statutory report II.06a (DOMAIN.md §6) as pure arithmetic: which column each dossier
//! falls in for a period, rows that add up, and the reporting periods (calendar or the
//! reporting-regime cut-off, 15th to 14th). Storage and fast counters build on this; a recount
//! over the dossiers must give exactly these numbers.

use crate::dossier::{Channel, Dossier, Status};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub mod counts;

/// An inclusive range of local (UTC+7) dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, crate::msg::Msg> {
        if to < from {
            return Err(crate::msg!(
                "period.order",
                to.format("%d/%m/%Y"),
                from.format("%d/%m/%Y")
            ));
        }
        Ok(Self { from, to })
    }

    /// The calendar month, quarter (1–4), half (1–2) or year.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        let from = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Some(Self {
            from,
            to: next.pred_opt()?,
        })
    }

    pub fn quarter(year: i32, q: u32) -> Option<Self> {
        (1..=4).contains(&q).then_some(())?;
        let first = Self::month(year, 3 * q - 2)?;
        let last = Self::month(year, 3 * q)?;
        Some(Self {
            from: first.from,
            to: last.to,
        })
    }

    pub fn half(year: i32, h: u32) -> Option<Self> {
        (1..=2).contains(&h).then_some(())?;
        let first = Self::month(year, 6 * h - 5)?;
        let last = Self::month(year, 6 * h)?;
        Some(Self {
            from: first.from,
            to: last.to,
        })
    }

    pub fn year(year: i32) -> Option<Self> {
        Some(Self {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// The reporting-regime month: the 15th of the previous month to the 14th of this one.
    pub fn cutoff_month(year: i32, month: u32) -> Option<Self> {
        let to = NaiveDate::from_ymd_opt(year, month, 14)?;
        let (py, pm) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
        Some(Self {
            from: NaiveDate::from_ymd_opt(py, pm, 15)?,
            to,
        })
    }

    /// The reporting-regime quarter, half or year: from the 15th of the month before the
    /// first month to the 14th of the last month (year: 15/12 of the previous year to 14/12).
    pub fn cutoff_span(year: i32, first_month: u32, last_month: u32) -> Option<Self> {
        Some(Self {
            from: Self::cutoff_month(year, first_month)?.from,
            to: Self::cutoff_month(year, last_month)?.to,
        })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    /// Whole days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period as II.06a judges it on `today`: a period not yet ended is counted up to
    /// today, so "in process, overdue" means overdue now, not at a future end (nothing is
    /// received or finished after today anyway). An ended period is unchanged.
    pub fn as_of(&self, today: NaiveDate) -> Period {
        Period {
            from: self.from,
            to: self.to.min(today).max(self.from),
        }
    }
}

/// How a finished dossier ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// A result was issued (statuses 9, 10).
    Resolved,
    /// Withdrawn (7) or stopped (8): counted as resolved on time.
    WithdrawnOrStopped,
}

/// What the report needs of one dossier, in local dates. Refused dossiers and online
/// dossiers never received are not counted and have no facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub received_on: NaiveDate,
    pub online: bool,
    /// The legal due date (`original_due_at`), if it has one.
    pub due_on: Option<NaiveDate>,
    /// When and how it finished, if it has.
    pub finished: Option<(NaiveDate, Ending)>,
    /// Awaiting a supplement at the end of the period: counted as within time.
    pub paused_at_end: bool,
}

impl Facts {
    /// The facts of a dossier (status, channel, UTC instants), or None when the report does
    /// not count it: refused, or never received. Local dates are UTC+7. A finished instant
    /// counts only with a finished status (resolved, returned, withdrawn, stopped).
    /// `paused_at_end` is left false: it depends on the period (see the callers).
    pub fn of(
        status: Status,
        channel: Channel,
        received_at: Option<DateTime<Utc>>,
        original_due_at: Option<DateTime<Utc>>,
        finished_at: Option<DateTime<Utc>>,
    ) -> Option<Facts> {
        use crate::calendar::local_date;
        if status == Status::Refused {
            return None;
        }
        let received_on = local_date(received_at?);
        let ending = match status {
            Status::Resolved | Status::Returned => Some(Ending::Resolved),
            Status::Withdrawn | Status::Stopped => Some(Ending::WithdrawnOrStopped),
            _ => None,
        };
        Some(Facts {
            received_on,
            online: channel == Channel::Online,
            due_on: original_due_at.map(local_date),
            finished: ending.and_then(|e| finished_at.map(|t| (local_date(t).max(received_on), e))),
            paused_at_end: false,
        })
    }

    /// What II.06a counts of a dossier as it stands (None: refused or not received).
    pub fn of_dossier(d: &Dossier) -> Option<Facts> {
        Facts::of(
            d.status,
            d.channel,
            d.received_at,
            d.original_due_at,
            d.finished_at,
        )
    }
}

/// One row (or the total) of II.06a. `received` is column 3 = online + direct + carried over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub received: i64,
    pub received_online: i64,
    pub received_direct: i64,
    pub carried_over: i64,
    pub resolved: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    pub in_process: i64,
    pub within_time: i64,
    pub overdue: i64,
}

impl Row {
    /// Adds one dossier to the row for a period; a dossier outside the period adds nothing.
    pub fn count(&mut self, f: &Facts, p: &Period) {
        if f.received_on > p.to {
            return;
        }
        let finished_before = f.finished.is_some_and(|(d, _)| d < p.from);
        if f.received_on < p.from {
            if finished_before {
                return;
            }
            self.carried_over += 1;
        } else if f.online {
            self.received_online += 1;
        } else {
            self.received_direct += 1;
        }
        self.received += 1;
        match f.finished {
            Some((done, ending)) if done <= p.to => {
                self.resolved += 1;
                match (ending, f.due_on) {
                    (Ending::WithdrawnOrStopped, _) | (Ending::Resolved, None) => self.on_time += 1,
                    (Ending::Resolved, Some(due)) if done < due => self.early += 1,
                    (Ending::Resolved, Some(due)) if done == due => self.on_time += 1,
                    (Ending::Resolved, Some(_)) => self.late += 1,
                }
            }
            _ => {
                self.in_process += 1;
                let within = f.paused_at_end || f.due_on.is_none_or(|due| due >= p.to);
                if within {
                    self.within_time += 1
                } else {
                    self.overdue += 1
                }
            }
        }
    }

    pub fn add(&mut self, o: &Row) {
        self.received += o.received;
        self.received_online += o.received_online;
        self.received_direct += o.received_direct;
        self.carried_over += o.carried_over;
        self.resolved += o.resolved;
        self.early += o.early;
        self.on_time += o.on_time;
        self.late += o.late;
        self.in_process += o.in_process;
        self.within_time += o.within_time;
        self.overdue += o.overdue;
    }

    /// The identities of the form: 3 = 4 + 5 + 6, 3 = 7 + 11, 7 = 8 + 9 + 10, 11 = 12 + 13.
    pub fn check(&self) -> Result<(), String> {
        let rules = [
            (
                self.received == self.received_online + self.received_direct + self.carried_over,
                "received = online + direct + carried over",
            ),
            (
                self.received == self.resolved + self.in_process,
                "received = resolved + in process",
            ),
            (
                self.resolved == self.early + self.on_time + self.late,
                "resolved = early + on time + late",
            ),
            (
                self.in_process == self.within_time + self.overdue,
                "in process = within time + overdue",
            ),
        ];
        match rules.iter().find(|(ok, _)| !ok) {
            None => Ok(()),
            Some((_, rule)) => Err(format!("II.06a identity broken: {rule} ({self:?})")),
        }
    }
}

/// A numbered column of the form (its JSON name is the `Row` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Received,
    ReceivedOnline,
    ReceivedDirect,
    CarriedOver,
    Resolved,
    Early,
    OnTime,
    Late,
    InProcess,
    WithinTime,
    Overdue,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Received,
        Column::ReceivedOnline,
        Column::ReceivedDirect,
        Column::CarriedOver,
        Column::Resolved,
        Column::Early,
        Column::OnTime,
        Column::Late,
        Column::InProcess,
        Column::WithinTime,
        Column::Overdue,
    ];

    /// The JSON / CSV name (`received_online`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Column::Received => "received",
            Column::ReceivedOnline => "received_online",
            Column::ReceivedDirect => "received_direct",
            Column::CarriedOver => "carried_over",
            Column::Resolved => "resolved",
            Column::Early => "early",
            Column::OnTime => "on_time",
            Column::Late => "late",
            Column::InProcess => "in_process",
            Column::WithinTime => "within_time",
            Column::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The column number on the official form, (3) to (13).
    pub fn number(self) -> u8 {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0) as u8 + 3
    }

    /// The Vietnamese heading on the form.
    pub fn label_vi(self) -> &'static str {
        match self {
            Column::Received => "Tổng số hồ sơ tiếp nhận",
            Column::ReceivedOnline => "Trực tuyến",
            Column::ReceivedDirect => "Trực tiếp, dịch vụ bưu chính",
            Column::CarriedOver => "Kỳ trước chuyển qua",
            Column::Resolved => "Tổng số hồ sơ đã giải quyết",
            Column::Early => "Trước hạn",
            Column::OnTime => "Đúng hạn",
            Column::Late => "Quá hạn",
            Column::InProcess => "Tổng số hồ sơ đang giải quyết",
            Column::WithinTime => "Trong hạn",
            Column::Overdue => "Quá hạn",
        }
    }
}

impl Row {
    pub fn get(&self, c: Column) -> i64 {
        match c {
            Column::Received => self.received,
            Column::ReceivedOnline => self.received_online,
            Column::ReceivedDirect => self.received_direct,
            Column::CarriedOver => self.carried_over,
            Column::Resolved => self.resolved,
            Column::Early => self.early,
            Column::OnTime => self.on_time,
            Column::Late => self.late,
            Column::InProcess => self.in_process,
            Column::WithinTime => self.within_time,
            Column::Overdue => self.overdue,
        }
    }

    /// The columns (3)–(13) in order.
    pub fn values(&self) -> [i64; 11] {
        Column::ALL.map(|c| self.get(c))
    }
}

/// `previous.in_process == this.carried_over` for consecutive periods: column 6 of a period is
/// column 11 of the one before. True by construction of `Row::count`; checked in tests.
pub fn carries_over(previous: &Row, this: &Row) -> bool {
    previous.in_process == this.carried_over
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn nov() -> Period {
        Period::month(2026, 11).unwrap()
    }

    fn facts(received: NaiveDate, due: Option<NaiveDate>, finished: Option<(NaiveDate, Ending)>) -> Facts {
        Facts {
            received_on: received,
            online: false,
            due_on: due,
            finished,
            paused_at_end: false,
        }
    }

    #[test]
    fn a_period_not_yet_ended_judges_overdue_as_of_today() {
        // Received on 7 December, due on the 21st: this month's report on the 7th has it in
        // process within time (judged at the month's end it would be overdue).
        let dec = Period::month(2026, 12).unwrap();
        let today = d(2026, 12, 7);
        let f = facts(today, Some(d(2026, 12, 21)), None);
        let mut now = Row::default();
        now.count(&f, &dec.as_of(today));
        assert_eq!((now.received, now.within_time, now.overdue), (1, 1, 0));
        let mut at_end = Row::default();
        at_end.count(&f, &dec);
        assert_eq!(at_end.overdue, 1, "the month's end, once it has come");
        assert_eq!(nov().as_of(today), nov(), "an ended period is unchanged");
        assert_eq!(
            dec.as_of(d(2026, 11, 20)).to,
            dec.from,
            "not begun: its first day"
        );
    }

    #[test]
    fn periods() {
        assert_eq!(Period::month(2026, 2).unwrap().to, d(2026, 2, 28));
        assert_eq!(
            Period::quarter(2026, 4).unwrap(),
            Period {
                from: d(2026, 10, 1),
                to: d(2026, 12, 31)
            }
        );
        assert_eq!(Period::half(2026, 1).unwrap().to, d(2026, 6, 30));
        assert_eq!(
            Period::cutoff_month(2026, 1).unwrap(),
            Period {
                from: d(2025, 12, 15),
                to: d(2026, 1, 14)
            }
        );
        assert_eq!(
            Period::cutoff_span(2026, 1, 12).unwrap(),
            Period {
                from: d(2025, 12, 15),
                to: d(2026, 12, 14)
            }
        );
        assert!(Period::quarter(2026, 5).is_none());
        assert!(Period::new(d(2026, 2, 1), d(2026, 1, 1)).is_err());
    }

    #[test]
    fn each_case_lands_in_its_column() {
        let p = nov();
        let mut r = Row::default();
        // Received in the period, resolved before its due date: early.
        r.count(
            &facts(
                d(2026, 11, 2),
                Some(d(2026, 11, 10)),
                Some((d(2026, 11, 9), Ending::Resolved)),
            ),
            &p,
        );
        // Resolved on the due date: on time; after: late.
        r.count(
            &facts(
                d(2026, 11, 2),
                Some(d(2026, 11, 10)),
                Some((d(2026, 11, 10), Ending::Resolved)),
            ),
            &p,
        );
        r.count(
            &facts(
                d(2026, 11, 2),
                Some(d(2026, 11, 10)),
                Some((d(2026, 11, 11), Ending::Resolved)),
            ),
            &p,
        );
        // Withdrawn after the due date: still on time.
        r.count(
            &facts(
                d(2026, 11, 2),
                Some(d(2026, 11, 3)),
                Some((d(2026, 11, 20), Ending::WithdrawnOrStopped)),
            ),
            &p,
        );
        // Carried over from October, due on the last day, unfinished: within time.
        r.count(&facts(d(2026, 10, 20), Some(d(2026, 11, 30)), None), &p);
        // Finished after the period's end: in process; due before the end: overdue.
        r.count(
            &facts(
                d(2026, 11, 5),
                Some(d(2026, 11, 29)),
                Some((d(2026, 12, 1), Ending::Resolved)),
            ),
            &p,
        );
        // Awaiting a supplement at the end: within time even past its due.
        r.count(
            &Facts {
                paused_at_end: true,
                ..facts(d(2026, 11, 5), Some(d(2026, 11, 6)), None)
            },
            &p,
        );
        // Finished in October, or received in December: not in November at all.
        r.count(
            &facts(
                d(2026, 10, 1),
                Some(d(2026, 10, 5)),
                Some((d(2026, 10, 31), Ending::Resolved)),
            ),
            &p,
        );
        r.count(&facts(d(2026, 12, 1), Some(d(2026, 12, 5)), None), &p);
        let online = Facts {
            online: true,
            ..facts(d(2026, 11, 30), Some(d(2026, 12, 3)), None)
        };
        r.count(&online, &p);
        assert_eq!(
            r,
            Row {
                received: 8,
                received_online: 1,
                received_direct: 6,
                carried_over: 1,
                resolved: 4,
                early: 1,
                on_time: 2,
                late: 1,
                in_process: 4,
                within_time: 3,
                overdue: 1
            }
        );
        r.check().unwrap();
    }

    fn any_facts() -> impl Strategy<Value = Facts> {
        (
            0i64..120,
            any::<bool>(),
            proptest::option::of(0i64..60),
            proptest::option::of((0i64..90, any::<bool>())),
            any::<bool>(),
        )
            .prop_map(|(received, online, due, finished, paused)| {
                let base = d(2026, 9, 1);
                let received_on = base + chrono::Duration::days(received);
                Facts {
                    received_on,
                    online,
                    due_on: due.map(|x| received_on + chrono::Duration::days(x)),
                    finished: finished.map(|(x, w)| {
                        (
                            received_on + chrono::Duration::days(x),
                            if w {
                                Ending::WithdrawnOrStopped
                            } else {
                                Ending::Resolved
                            },
                        )
                    }),
                    paused_at_end: paused && finished.is_none(),
                }
            })
    }

    proptest! {
        #[test]
        fn identities_hold_and_periods_chain(all in proptest::collection::vec(any_facts(), 0..200)) {
            let months = [Period::month(2026, 10).unwrap(), Period::month(2026, 11).unwrap(), Period::month(2026, 12).unwrap()];
            let rows: Vec<Row> = months.iter().map(|p| {
                let mut r = Row::default();
                for f in &all {
                    // Pausing is a fact about one period's end; without it the chain must hold.
                    r.count(&Facts { paused_at_end: false, ..*f }, p);
                }
                r
            }).collect();
            for r in &rows {
                prop_assert!(r.check().is_ok(), "{:?}", r);
            }
            prop_assert!(carries_over(&rows[0], &rows[1]));
            prop_assert!(carries_over(&rows[1], &rows[2]));
            // Rows of a split add up to the row of the whole.
            let mut total = Row::default();
            let (a, b): (Vec<Facts>, Vec<Facts>) = all.iter().partition(|f| f.online);
            for part in [a, b] {
                let mut r = Row::default();
                for f in &part { r.count(f, &months[1]); }
                total.add(&r);
            }
            let mut whole = Row::default();
            for f in &all { whole.count(f, &months[1]); }
            prop_assert_eq!(total, whole);
        }
    }
}
