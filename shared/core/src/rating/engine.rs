//! Every line's answer for one shipment: the lines that can carry it, cheapest first, each with its breakdown
//! and delivery dates; the lines that cannot, each with its reason.

use serde::Serialize;

use super::card::RateCard;
use super::quote::{self, Excluded, LineQuote, Request};
use super::transit::{self, Estimate, Handover};
use crate::calendar::{CalendarId, Holidays};

/// One line's quote with its delivery dates (or why none could be promised).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    #[serde(flatten)]
    pub quote: LineQuote,
    pub dates: Option<Estimate>,
    /// Why `dates` is missing: the line has no transit table, or the date is beyond the holiday data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dates_error: Option<String>,
    /// Duties, import taxes and fees of a cross-border shipment when the order's customs lines were given;
    /// under DDP they are also lines of `breakdown` and part of `total_minor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed_cost: Option<Box<crate::duty::LandedCost>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    pub rates: Vec<Rate>,
    pub excluded: Vec<Excluded>,
}

/// Quotes `request` on every card; dates from `handover` to the destination's `calendar`.
pub fn quote_all<'c>(
    cards: impl IntoIterator<Item = &'c RateCard>,
    request: &Request<'_>,
    handover: &Handover<'_>,
    destination_calendar: &CalendarId,
    holidays: &Holidays,
) -> Rates {
    let mut rates = Vec::new();
    let mut excluded = Vec::new();
    for card in cards {
        match quote::quote(card, request) {
            Ok(quote) => {
                let dates = card
                    .transit
                    .as_ref()
                    .map(|t| transit::estimate(t, &quote.zone, handover, destination_calendar, holidays));
                let (dates, dates_error) = match dates {
                    Some(Ok(estimate)) => (Some(estimate), None),
                    Some(Err(e)) => (None, Some(e.to_string())),
                    None => (None, Some("the line publishes no transit times".to_owned())),
                };
                rates.push(Rate { quote, dates, dates_error, landed_cost: None });
            }
            Err(e) => excluded.push(e),
        }
    }
    rates.sort_by(|a, b| {
        (a.quote.currency, a.quote.total_minor, a.dates.as_ref().map(|d| d.max)).cmp(&(
            b.quote.currency,
            b.quote.total_minor,
            b.dates.as_ref().map(|d| d.max),
        ))
    });
    Rates { rates, excluded }
}
