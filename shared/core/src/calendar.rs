//! Public-holiday calendars by country and subdivision (`shared/data/holidays`), parsed once per process.
//! A date outside the data's years is an error, never a guess.

use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use rustc_hash::FxHashMap;

/// Years the holiday data covers, inclusive.
pub const FIRST_YEAR: i16 = 2025;
pub const LAST_YEAR: i16 = 2028;

/// A calendar: a country, or a country's subdivision (`US-AK`, `DE-BY`), which adds its own holidays to the
/// country's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CalendarId {
    pub country: String,
    pub subdivision: Option<String>,
}

impl CalendarId {
    pub fn new(country: &str, subdivision: Option<&str>) -> CalendarId {
        CalendarId {
            country: country.to_ascii_uppercase(),
            subdivision: subdivision.filter(|s| !s.is_empty()).map(str::to_ascii_uppercase),
        }
    }
}

impl std::fmt::Display for CalendarId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.subdivision {
            Some(sub) => write!(f, "{}-{sub}", self.country),
            None => f.write_str(&self.country),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{date} is outside the holiday data ({FIRST_YEAR}–{LAST_YEAR}): no date can be promised for it")]
    BeyondData { date: Date },
    #[error("no holiday calendar for {0}")]
    Unknown(String),
}

/// Every calendar of the data.
#[derive(Debug, Default)]
pub struct Holidays {
    /// Country → subdivision ("" for nationwide) → holiday dates with their names: looked up by `&str`, so a
    /// lookup allocates nothing.
    days: FxHashMap<String, FxHashMap<String, FxHashMap<Date, String>>>,
}

impl Holidays {
    /// Parses the CSV (`country,subdivision,date,name,local_name,observed`).
    pub fn from_csv(text: &str) -> Holidays {
        let mut holidays = Holidays::default();
        for line in text.lines().skip(1) {
            let mut cols = line.splitn(5, ',');
            let (Some(country), Some(sub), Some(date), Some(name)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let Ok(date) = date.parse::<Date>() else { continue };
            let country_days = holidays.days.entry(country.to_owned()).or_default();
            country_days.entry(sub.to_owned()).or_default().insert(date, name.to_owned());
        }
        holidays
    }

    /// The holiday on `date` in `calendar`, if any.
    pub fn holiday(&self, calendar: &CalendarId, date: Date) -> Result<Option<&str>, CalendarError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            return Err(CalendarError::BeyondData { date });
        }
        let subdivisions =
            self.days.get(&calendar.country).ok_or_else(|| CalendarError::Unknown(calendar.to_string()))?;
        let lookup = |sub: &str| subdivisions.get(sub).and_then(|days| days.get(&date)).map(String::as_str);
        Ok(lookup("").or_else(|| calendar.subdivision.as_deref().and_then(lookup)))
    }

    pub fn has_country(&self, country: &str) -> bool {
        self.days.contains_key(country)
    }
}

/// The holiday data compiled into the binary.
pub fn holidays() -> &'static Holidays {
    static HOLIDAYS: OnceLock<Holidays> = OnceLock::new();
    HOLIDAYS.get_or_init(|| Holidays::from_csv(include_str!("../../data/holidays/holidays_2025_2028.csv")))
}

/// ISO weekday number: 1 = Monday … 7 = Sunday.
pub fn iso_weekday(date: Date) -> u8 {
    date.weekday().to_monday_one_offset() as u8
}

/// True on Saturday and Sunday.
pub fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// True on a day that is neither a weekend day nor a holiday of `calendar`.
pub fn is_business_day(holidays: &Holidays, calendar: &CalendarId, date: Date) -> Result<bool, CalendarError> {
    Ok(!is_weekend(date) && holidays.holiday(calendar, date)?.is_none())
}

/// The `n`th business day after `start` (`start` itself not counted).
pub fn add_business_days(
    holidays: &Holidays,
    calendar: &CalendarId,
    start: Date,
    n: u32,
) -> Result<Date, CalendarError> {
    let mut date = start;
    let mut counted = 0;
    while counted < n {
        date = date.tomorrow().map_err(|_| CalendarError::BeyondData { date })?;
        if is_business_day(holidays, calendar, date)? {
            counted += 1;
        }
    }
    Ok(date)
}

/// Business days in `(from, to]`: 0 when `to` is not after `from`.
pub fn business_days_between(
    holidays: &Holidays,
    calendar: &CalendarId,
    from: Date,
    to: Date,
) -> Result<u32, CalendarError> {
    let mut date = from;
    let mut counted = 0;
    while date < to {
        date = date.tomorrow().map_err(|_| CalendarError::BeyondData { date })?;
        if is_business_day(holidays, calendar, date)? {
            counted += 1;
        }
    }
    Ok(counted)
}

/// `date` when it is a business day, else the next one: a deadline on a closed day moves forward.
pub fn on_or_next_business_day(holidays: &Holidays, calendar: &CalendarId, date: Date) -> Result<Date, CalendarError> {
    let mut date = date;
    while !is_business_day(holidays, calendar, date)? {
        date = date.tomorrow().map_err(|_| CalendarError::BeyondData { date })?;
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn national_and_subdivision_holidays() {
        let h = holidays();
        let us = CalendarId::new("US", None);
        assert_eq!(h.holiday(&us, date(2026, 11, 26)), Ok(Some("Thanksgiving Day")));
        assert_eq!(h.holiday(&us, date(2026, 11, 27)), Ok(None));
        // The day after Thanksgiving is a state holiday in California, not federally.
        assert!(h.holiday(&CalendarId::new("US", Some("CA")), date(2026, 11, 27)).unwrap().is_some());
        let berlin = CalendarId::new("DE", Some("BE"));
        assert!(h.holiday(&berlin, date(2026, 12, 25)).unwrap().is_some());
        assert!(h.holiday(&berlin, date(2026, 12, 26)).unwrap().is_some());
        assert_eq!(h.holiday(&berlin, date(2026, 12, 23)), Ok(None));
    }

    #[test]
    fn dates_beyond_the_data_and_unknown_countries_are_errors() {
        let us = CalendarId::new("US", None);
        assert_eq!(
            holidays().holiday(&us, date(2029, 1, 2)),
            Err(CalendarError::BeyondData { date: date(2029, 1, 2) })
        );
        assert!(matches!(
            holidays().holiday(&CalendarId::new("ZZ", None), date(2026, 1, 2)),
            Err(CalendarError::Unknown(_))
        ));
    }

    #[test]
    fn calendars_are_data() {
        // A calendar file with one extra day closes that day, without a code change.
        let mut text = include_str!("../../data/holidays/holidays_2025_2028.csv").to_owned();
        text.push_str("US,,2026-11-25,Company closure,Company closure,N\n");
        let custom = Holidays::from_csv(&text);
        assert_eq!(custom.holiday(&CalendarId::new("US", None), date(2026, 11, 25)), Ok(Some("Company closure")));
        assert_eq!(iso_weekday(date(2026, 11, 25)), 3);
    }
}
