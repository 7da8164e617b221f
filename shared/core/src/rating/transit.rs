//! Delivery dates: the warehouse's cut-off and working days decide when the carrier has the parcel; the line's
//! business days by zone, its delivery weekdays and closed dates, and the public holidays of origin and
//! destination decide when it arrives. Every estimate names the calendars it used.

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use serde::Serialize;

use super::card::Transit;
use crate::calendar::{CalendarError, CalendarId, Holidays, iso_weekday};

/// When and where the carrier takes the parcel over.
#[derive(Debug, Clone)]
pub struct Handover<'a> {
    /// The order's time, local to the warehouse (its time zone applied by the caller).
    pub local: DateTime,
    pub cutoff: Time,
    /// ISO weekdays the warehouse ships on.
    pub working_weekdays: &'a [u8],
    pub calendar: CalendarId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// The day the carrier has the parcel.
    pub handover: Date,
    pub min: Date,
    pub max: Date,
    /// Holiday calendars used, e.g. `["US-NJ", "US-AK"]`.
    pub calendars: Vec<String>,
    /// Holidays the estimate stepped over, as `date name`.
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("the line has no transit time for zone {0}")]
    NoZone(String),
    #[error("no working day within {0} days: check the working and delivery weekdays")]
    NoWorkingDay(u32),
}

/// Longest search for a working or delivery day before giving up on a misconfigured calendar.
const SEARCH_DAYS: u32 = 60;

pub fn estimate(
    transit: &Transit,
    zone: &str,
    handover: &Handover<'_>,
    destination: &CalendarId,
    holidays: &Holidays,
) -> Result<Estimate, TransitError> {
    let [min_days, max_days] = *transit.days.get(zone).ok_or_else(|| TransitError::NoZone(zone.to_owned()))?;
    let mut skipped = Vec::new();
    let mut note = |date: Date, calendar: &CalendarId, name: &str| {
        let entry = format!("{date} {name} ({calendar})");
        if !skipped.contains(&entry) {
            skipped.push(entry);
        }
    };

    // The carrier has the parcel on the first working day on or after the order (the next one after the cut-off).
    let mut day = handover.local.date();
    if handover.local.time() >= handover.cutoff {
        day = next(day);
    }
    let mut searched = 0;
    loop {
        let holiday = holidays.holiday(&handover.calendar, day)?;
        if let Some(name) = holiday {
            note(day, &handover.calendar, name);
        }
        if holiday.is_none()
            && handover.working_weekdays.contains(&iso_weekday(day))
            && !transit.closed_dates.contains(&day)
        {
            break;
        }
        day = next(day);
        searched += 1;
        if searched > SEARCH_DAYS {
            return Err(TransitError::NoWorkingDay(SEARCH_DAYS));
        }
    }
    let handover_day = day;

    // Each business day must be a delivery weekday of the line, not closed, and a holiday in neither calendar.
    let mut business_day = |date: Date| -> Result<bool, TransitError> {
        let mut open = transit.delivery_weekdays.contains(&iso_weekday(date)) && !transit.closed_dates.contains(&date);
        for calendar in [&handover.calendar, destination] {
            if let Some(name) = holidays.holiday(calendar, date)? {
                note(date, calendar, name);
                open = false;
            }
        }
        Ok(open)
    };
    let mut after = |days: u8| -> Result<Date, TransitError> {
        let (mut date, mut counted, mut searched) = (handover_day, 0, 0);
        if days == 0 {
            // Same-day lines deliver on the handover day if it is a business day, else on the next one.
            while !business_day(date)? {
                date = next(date);
                searched += 1;
                if searched > SEARCH_DAYS {
                    return Err(TransitError::NoWorkingDay(SEARCH_DAYS));
                }
            }
            return Ok(date);
        }
        while counted < days {
            date = next(date);
            if business_day(date)? {
                counted += 1;
            }
            searched += 1;
            if searched > SEARCH_DAYS {
                return Err(TransitError::NoWorkingDay(SEARCH_DAYS));
            }
        }
        Ok(date)
    };
    let min = after(min_days)?;
    let max = after(max_days.max(min_days))?;
    let mut calendars = vec![handover.calendar.to_string()];
    if destination != &handover.calendar {
        calendars.push(destination.to_string());
    }
    Ok(Estimate { handover: handover_day, min, max, calendars, skipped })
}

fn next(date: Date) -> Date {
    date.checked_add(1.day()).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;
    use crate::calendar::holidays;

    const WEEKDAYS: [u8; 5] = [1, 2, 3, 4, 5];

    fn transit(days: [u8; 2], delivery_weekdays: &[u8]) -> Transit {
        Transit {
            days: [("z".to_owned(), days)].into(),
            delivery_weekdays: delivery_weekdays.to_vec(),
            closed_dates: vec![],
        }
    }

    fn handover(local: DateTime, calendar: CalendarId) -> Handover<'static> {
        Handover { local, cutoff: time(15, 0, 0, 0), working_weekdays: &WEEKDAYS, calendar }
    }

    #[test]
    fn thanksgiving_moves_a_us_delivery() {
        // Wed 2026-11-25 10:00 in New Jersey, before the 15:00 cut-off: handed over that day. One to three
        // business days, Mon–Fri: Thu 11-26 is Thanksgiving (US), so day 1 is Fri 11-27; Sat/Sun are not
        // delivery days: day 2 Mon 11-30, day 3 Tue 12-01.
        let nj = CalendarId::new("US", Some("NJ"));
        let e = estimate(
            &transit([1, 3], &WEEKDAYS),
            "z",
            &handover(date(2026, 11, 25).at(10, 0, 0, 0), nj),
            &CalendarId::new("US", Some("AK")),
            holidays(),
        )
        .unwrap();
        assert_eq!((e.handover, e.min, e.max), (date(2026, 11, 25), date(2026, 11, 27), date(2026, 12, 1)));
        assert_eq!(e.calendars, ["US-NJ", "US-AK"]);
        assert!(e.skipped.iter().any(|s| s.starts_with("2026-11-26 Thanksgiving Day")), "{:?}", e.skipped);
    }

    #[test]
    fn christmas_moves_a_german_delivery_and_the_cutoff_moves_the_handover() {
        // Wed 2026-12-23 16:30 in Berlin, after the 15:00 cut-off: handed over Thu 12-24 (not a public holiday).
        // Two business days Mon–Sat: Fri 12-25 and Sat 12-26 are Christmas holidays, Sun 12-27 is no delivery
        // day: day 1 Mon 12-28, day 2 Tue 12-29.
        let berlin = CalendarId::new("DE", Some("BE"));
        let e = estimate(
            &transit([1, 2], &[1, 2, 3, 4, 5, 6]),
            "z",
            &handover(date(2026, 12, 23).at(16, 30, 0, 0), berlin.clone()),
            &berlin,
            holidays(),
        )
        .unwrap();
        assert_eq!((e.handover, e.min, e.max), (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)));
        assert_eq!(e.calendars, ["DE-BE"]);
    }

    #[test]
    fn dates_past_the_holiday_data_are_an_error() {
        let us = CalendarId::new("US", None);
        let e = estimate(
            &transit([1, 3], &WEEKDAYS),
            "z",
            &handover(date(2028, 12, 29).at(10, 0, 0, 0), us.clone()),
            &us,
            holidays(),
        );
        assert!(matches!(e, Err(TransitError::Calendar(CalendarError::BeyondData { .. }))), "{e:?}");
        let unknown_zone = estimate(
            &transit([1, 3], &WEEKDAYS),
            "9",
            &handover(date(2026, 6, 1).at(10, 0, 0, 0), us.clone()),
            &us,
            holidays(),
        );
        assert_eq!(unknown_zone, Err(TransitError::NoZone("9".into())));
    }
}
