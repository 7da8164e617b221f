//! Where a return goes: among the warehouses and return hubs that accept the buyer's country
//! (`shared/data/returns/destinations.toml`), the cheapest reverse quote — the rating engine pricing the parcel
//! from the buyer to the destination on the destination's reverse lines — then the shortest transit.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::rating::card::RateCard;
use crate::rating::quote::{self, Destination as QuoteDestination, LineQuote, Parcel, Request};
use crate::rating::zone::Place;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnDestination {
    pub id: String,
    /// `warehouse` or `return_hub`.
    pub kind: String,
    pub name: String,
    /// Address lines as printed on the label.
    pub address: Vec<String>,
    pub country: String,
    pub postcode: String,
    pub accepts: Vec<String>,
    pub reverse_lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destinations {
    pub destinations: Vec<ReturnDestination>,
}

pub const BUILTIN: &str = include_str!("../../../data/returns/destinations.toml");

impl Destinations {
    pub fn from_toml(text: &str) -> Result<Destinations, toml::de::Error> {
        toml::from_str(text)
    }

    /// Parsed once per process; the tests read the file too, so an error is a broken build, not a panic.
    pub fn builtin() -> Result<&'static Destinations, toml::de::Error> {
        static PARSED: std::sync::OnceLock<Result<Destinations, toml::de::Error>> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| Destinations::from_toml(BUILTIN)).as_ref().map_err(Clone::clone)
    }
}

/// Where the return starts.
#[derive(Debug, Clone, Copy)]
pub struct Buyer<'a> {
    pub country: &'a str,
    pub postcode: &'a str,
}

/// The chosen destination with its return label quote, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub destination: ReturnDestination,
    pub quote: LineQuote,
    /// Most business days in transit on the quote's zone, when the line publishes them.
    pub transit_days: Option<u8>,
    pub explanation: String,
}

/// The cheapest, then fastest, destination for a `parcel` from `buyer`; None when no line can carry it.
pub fn choose<'c>(
    destinations: &Destinations,
    cards: impl Fn(&str) -> Option<&'c RateCard>,
    buyer: Buyer<'_>,
    parcel: Parcel,
    ship_date: Date,
) -> Option<Choice> {
    let parcels = [parcel];
    let mut options: Vec<Choice> = Vec::new();
    let mut refused = Vec::new();
    for destination in destinations.destinations.iter().filter(|d| d.accepts.iter().any(|c| c == buyer.country)) {
        for card in destination.reverse_lines.iter().filter_map(|line| cards(line)) {
            let request = Request {
                origin: Place { country: buyer.country, postcode: buyer.postcode },
                // A return hub or warehouse is a business address.
                destination: QuoteDestination {
                    country: &destination.country,
                    postcode: &destination.postcode,
                    residential: Some(false),
                    ..QuoteDestination::default()
                },
                parcels: &parcels,
                ship_date,
                declared_value: None,
                options: &[],
                discount_basis_points: 0,
            };
            match quote::quote(card, &request) {
                Ok(quote) => {
                    let transit_days = card.transit.as_ref().and_then(|t| t.days.get(&quote.zone)).map(|d| d[1]);
                    options.push(Choice {
                        destination: destination.clone(),
                        quote,
                        transit_days,
                        explanation: String::new(),
                    });
                }
                Err(excluded) => refused.push(format!("{} via {}: {}", destination.id, excluded.line, excluded.reason)),
            }
        }
    }
    options.sort_by(|a, b| {
        (a.quote.total_minor, a.transit_days.unwrap_or(u8::MAX), &a.destination.id).cmp(&(
            b.quote.total_minor,
            b.transit_days.unwrap_or(u8::MAX),
            &b.destination.id,
        ))
    });
    let considered: Vec<String> = options
        .iter()
        .map(|o| {
            let days = o.transit_days.map_or("no published transit".to_owned(), |d| format!("{d} business days"));
            format!("{} via {} {} {} ({days})", o.destination.id, o.quote.line, o.quote.total_minor, o.quote.currency)
        })
        .chain(refused)
        .collect();
    let mut best = options.into_iter().next()?;
    best.explanation = format!("cheapest, then fastest, of: {}", considered.join("; "));
    Some(best)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::rating::card::builtin;
    use crate::units::Dimensions;

    fn card(id: &str) -> Option<&'static RateCard> {
        builtin().iter().flatten().find(|c| c.id == id)
    }

    fn parcel() -> Parcel {
        Parcel { grams: 1200, dimensions: Some(Dimensions { length_mm: 300, width_mm: 200, height_mm: 100 }) }
    }

    #[test]
    fn the_data_names_existing_lines() {
        for destination in &Destinations::from_toml(BUILTIN).unwrap().destinations {
            for line in &destination.reverse_lines {
                assert!(card(line).is_some(), "{} returns over {line}, which has no rate card", destination.id);
            }
        }
    }

    #[test]
    fn a_uk_return_goes_to_the_uk_hub_at_the_hand_worked_price() {
        let buyer = Buyer { country: "GB", postcode: "M1 1AE" };
        let choice = choose(Destinations::builtin().unwrap(), card, buyer, parcel(), date(2026, 11, 2)).unwrap();
        assert_eq!(choice.destination.id, "gb-returns");
        // 1.2 kg; 30 × 20 × 10 cm = 6000 cm³ / 5000 = 1.2 kg; up to 2 kg → £3.89, flat zone, not remote.
        assert_eq!(choice.quote.total_minor, 389);
    }

    #[test]
    fn the_nearer_destination_is_cheaper_and_wins() {
        let east = Buyer { country: "US", postcode: "10001" };
        let west = Buyer { country: "US", postcode: "90012" };
        let from_east = choose(Destinations::builtin().unwrap(), card, east, parcel(), date(2026, 11, 2)).unwrap();
        let from_west = choose(Destinations::builtin().unwrap(), card, west, parcel(), date(2026, 11, 2)).unwrap();
        assert_eq!(from_east.destination.id, "us-east-returns", "{}", from_east.explanation);
        assert_eq!(from_west.destination.id, "us-west-warehouse", "{}", from_west.explanation);
        assert!(from_east.explanation.contains("us-west-warehouse"), "the answer lists what was weighed");
        // No destination takes returns from Australia.
        assert!(
            choose(
                Destinations::builtin().unwrap(),
                card,
                Buyer { country: "AU", postcode: "2000" },
                parcel(),
                date(2026, 11, 2)
            )
            .is_none()
        );
    }
}
