//! When a parcel counts as stalled: no scan for longer than its lane allows. By default the wait is counted in
//! business hours, the hours of the lane's working days (the line's delivery weekdays, less the destination's
//! public holidays), so a parcel last scanned on Friday evening is not stalled on Sunday, nor over Christmas.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, CalendarId, Holidays, iso_weekday};

/// How a lane counts the time since the last scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallClock {
    #[default]
    BusinessHours,
    /// Plain elapsed hours, for lines that move every day of the year.
    Elapsed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StallRule {
    #[serde(default)]
    pub clock: StallClock,
    #[serde(default = "default_stalled_after")]
    pub stalled_after_hours: u32,
    /// A second, later threshold: the alert is raised again, louder.
    #[serde(default = "default_escalate_after")]
    pub escalate_after_hours: u32,
}

fn default_stalled_after() -> u32 {
    48
}

fn default_escalate_after() -> u32 {
    96
}

impl Default for StallRule {
    fn default() -> Self {
        StallRule {
            clock: StallClock::default(),
            stalled_after_hours: default_stalled_after(),
            escalate_after_hours: default_escalate_after(),
        }
    }
}

/// The days a lane moves parcels: ISO weekdays (Monday 1 … Sunday 7) and the destination's holiday calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDays {
    pub weekdays: Vec<u8>,
    pub calendar: CalendarId,
    /// The destination's time zone: its days are the ones counted.
    pub zone: TimeZone,
}

impl WorkingDays {
    fn works(&self, date: Date, holidays: &Holidays) -> Result<bool, CalendarError> {
        Ok(self.weekdays.contains(&iso_weekday(date)) && holidays.holiday(&self.calendar, date)?.is_none())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallLevel {
    Moving,
    Stalled,
    Escalated,
}

/// Seconds of `from..to` that fall on working days, day by day in the destination's zone (a day is its real
/// length, 23 or 25 hours across a clock change).
pub fn working_seconds(
    from: Timestamp,
    to: Timestamp,
    days: &WorkingDays,
    holidays: &Holidays,
) -> Result<i64, CalendarError> {
    if to <= from {
        return Ok(0);
    }
    let mut total = 0;
    let mut date = from.to_zoned(days.zone.clone()).date();
    let last = to.to_zoned(days.zone.clone()).date();
    while date <= last {
        if days.works(date, holidays)? {
            let start = day_start(date, &days.zone).unwrap_or(from);
            let end = date.tomorrow().ok().and_then(|next| day_start(next, &days.zone)).unwrap_or(to);
            let overlap = end.min(to).as_second() - start.max(from).as_second();
            total += overlap.max(0);
        }
        date = match date.checked_add(1.day()) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    Ok(total)
}

/// A day without a midnight (a clock change at 00:00) starts at its first valid instant; `None` only for dates
/// beyond what a timestamp can hold.
fn day_start(date: Date, zone: &TimeZone) -> Option<Timestamp> {
    date.to_zoned(zone.clone()).ok().map(|z| z.timestamp())
}

/// Hours without a scan as the lane counts them.
pub fn hours_waiting(
    last_scan: Timestamp,
    now: Timestamp,
    rule: &StallRule,
    days: &WorkingDays,
    holidays: &Holidays,
) -> Result<f64, CalendarError> {
    let seconds = match rule.clock {
        StallClock::Elapsed => (now.as_second() - last_scan.as_second()).max(0),
        StallClock::BusinessHours => working_seconds(last_scan, now, days, holidays)?,
    };
    Ok(seconds as f64 / 3600.0)
}

pub fn assess(
    last_scan: Timestamp,
    now: Timestamp,
    rule: &StallRule,
    days: &WorkingDays,
    holidays: &Holidays,
) -> Result<StallLevel, CalendarError> {
    let hours = hours_waiting(last_scan, now, rule, days, holidays)?;
    Ok(if hours >= f64::from(rule.escalate_after_hours) {
        StallLevel::Escalated
    } else if hours >= f64::from(rule.stalled_after_hours) {
        StallLevel::Stalled
    } else {
        StallLevel::Moving
    })
}
