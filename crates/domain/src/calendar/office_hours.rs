//! Office hours (*giờ làm việc*): the sessions of a working day, configurable per agency.
//! Owns their validation and minute-of-day arithmetic; knows nothing of dates.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use super::CalendarError;

/// Minutes in a day.
pub(crate) const MINUTES_PER_DAY: u32 = 24 * 60;

/// The ordered, non-overlapping sessions of every working day. The default is 07:00–11:30
/// and 13:30–17:00, eight working hours.
///
/// Serialised as text, e.g. `"07:00-11:30,13:30-17:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfficeHours {
    /// Sessions as minutes of the day, `start < end`, each ending no later than the next starts.
    sessions: Vec<(u32, u32)>,
    /// Total minutes of the sessions: one working day.
    day_minutes: u32,
}

impl OfficeHours {
    /// Office hours from `(start, end)` sessions: at least one, each ending after it starts,
    /// in order and not overlapping (one may start when the previous ends), on whole minutes.
    pub fn new(sessions: &[(NaiveTime, NaiveTime)]) -> Result<Self, CalendarError> {
        if sessions.is_empty() {
            return Err(CalendarError::NoOfficeSession);
        }
        let mut minutes = Vec::with_capacity(sessions.len());
        let mut previous_end: Option<NaiveTime> = None;
        for &(start, end) in sessions {
            let (s, e) = (whole_minute(start)?, whole_minute(end)?);
            if e <= s {
                return Err(CalendarError::EmptyOfficeSession { start, end });
            }
            if let Some(previous_end) = previous_end
                && start < previous_end
            {
                return Err(CalendarError::OverlappingOfficeSessions { previous_end, start });
            }
            previous_end = Some(end);
            minutes.push((s, e));
        }
        let day_minutes = minutes.iter().map(|(s, e)| e - s).sum();
        Ok(Self {
            sessions: minutes,
            day_minutes,
        })
    }

    /// Reads sessions written `HH:MM-HH:MM`, separated by commas, e.g.
    /// `"07:00-11:30,13:30-17:00"`.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let syntax = || CalendarError::OfficeHoursSyntax(s.to_owned());
        let sessions = s
            .split(',')
            .map(|session| {
                let (start, end) = session.trim().split_once('-').ok_or_else(syntax)?;
                let read = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| syntax());
                Ok((read(start)?, read(end)?))
            })
            .collect::<Result<Vec<_>, CalendarError>>()?;
        Self::new(&sessions)
    }

    /// The sessions, in order.
    pub fn sessions(&self) -> impl Iterator<Item = (NaiveTime, NaiveTime)> + '_ {
        self.sessions
            .iter()
            .map(|&(s, e)| (time_of_minute(s), time_of_minute(e)))
    }

    /// Working minutes in one working day (480 by default).
    pub fn day_minutes(&self) -> u32 {
        self.day_minutes
    }

    /// Start of the first session.
    pub fn opening(&self) -> NaiveTime {
        time_of_minute(self.opening_minute())
    }

    /// End of the last session.
    pub fn closing(&self) -> NaiveTime {
        time_of_minute(self.closing_minute())
    }

    /// Whether a time of day lies within a session; the end of a session counts as within,
    /// since a due instant may land exactly on a closing time.
    pub fn contains(&self, time: NaiveTime) -> bool {
        let minute = time.hour() * 60 + time.minute();
        let exact = time.second() == 0 && time.nanosecond() == 0;
        self.sessions
            .iter()
            .any(|&(s, e)| s <= minute && (minute < e || (minute == e && exact)))
    }

    /// Session bounds as minutes of the day.
    pub(crate) fn minute_sessions(&self) -> &[(u32, u32)] {
        &self.sessions
    }

    pub(crate) fn opening_minute(&self) -> u32 {
        self.sessions.first().map_or(0, |&(s, _)| s)
    }

    pub(crate) fn closing_minute(&self) -> u32 {
        self.sessions.last().map_or(0, |&(_, e)| e)
    }

    /// Working minutes of a working day within `[from, to)`, as minutes of the day.
    pub(crate) fn minutes_within(&self, from: u32, to: u32) -> u32 {
        self.sessions
            .iter()
            .map(|&(s, e)| e.min(to).saturating_sub(s.max(from)))
            .sum()
    }
}

impl Default for OfficeHours {
    /// 07:00–11:30 and 13:30–17:00.
    fn default() -> Self {
        Self {
            sessions: vec![(7 * 60, 11 * 60 + 30), (13 * 60 + 30, 17 * 60)],
            day_minutes: 480,
        }
    }
}

impl fmt::Display for OfficeHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (s, e)) in self.sessions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)?;
        }
        Ok(())
    }
}

impl FromStr for OfficeHours {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for OfficeHours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OfficeHours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn whole_minute(time: NaiveTime) -> Result<u32, CalendarError> {
    if time.second() != 0 || time.nanosecond() != 0 {
        return Err(CalendarError::OfficeTimeNotWholeMinute(time));
    }
    Ok(time.hour() * 60 + time.minute())
}

fn time_of_minute(minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("a minute of the day is a valid time")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid")
    }

    #[test]
    fn default_is_eight_hours_with_lunch() {
        let hours = OfficeHours::default();
        assert_eq!(hours.day_minutes(), 480);
        assert_eq!(hours.opening(), t(7, 0));
        assert_eq!(hours.closing(), t(17, 0));
        assert_eq!(hours.to_string(), "07:00-11:30,13:30-17:00");
        assert_eq!(OfficeHours::parse("07:00-11:30, 13:30-17:00"), Ok(hours.clone()));
        assert_eq!(
            OfficeHours::new(&[(t(7, 0), t(11, 30)), (t(13, 30), t(17, 0))]),
            Ok(hours.clone())
        );
        assert!(hours.contains(t(11, 30)));
        assert!(!hours.contains(t(12, 0)));
        assert!(hours.contains(t(17, 0)));
        assert!(!hours.contains(t(6, 59)));
    }

    #[test]
    fn invalid_office_hours_are_errors() {
        assert_eq!(OfficeHours::new(&[]), Err(CalendarError::NoOfficeSession));
        assert_eq!(
            OfficeHours::new(&[(t(8, 0), t(8, 0))]),
            Err(CalendarError::EmptyOfficeSession {
                start: t(8, 0),
                end: t(8, 0)
            })
        );
        assert_eq!(
            OfficeHours::new(&[(t(13, 0), t(17, 0)), (t(7, 0), t(11, 0))]),
            Err(CalendarError::OverlappingOfficeSessions {
                previous_end: t(17, 0),
                start: t(7, 0)
            })
        );
        assert!(OfficeHours::new(&[(t(7, 0), t(12, 0)), (t(11, 0), t(17, 0))]).is_err());
        let odd = NaiveTime::from_hms_opt(7, 0, 30).expect("valid");
        assert_eq!(
            OfficeHours::new(&[(odd, t(11, 0))]),
            Err(CalendarError::OfficeTimeNotWholeMinute(odd))
        );
        assert!(matches!(
            OfficeHours::parse("7h-11h"),
            Err(CalendarError::OfficeHoursSyntax(_))
        ));
        // Back-to-back sessions are allowed.
        assert!(OfficeHours::parse("08:00-12:00,12:00-16:00").is_ok());
    }

    #[test]
    fn minutes_within_skips_lunch() {
        let hours = OfficeHours::default();
        assert_eq!(hours.minutes_within(10 * 60, 14 * 60), 90 + 30);
        assert_eq!(hours.minutes_within(0, MINUTES_PER_DAY), 480);
        assert_eq!(hours.minutes_within(12 * 60, 13 * 60), 0);
    }
}
