//! A rate card: one carrier line as data (`shared/data/ratecards/*.toml`, schema in that folder's README.md).
//! Parsing checks what would otherwise give silently wrong prices: brackets in ascending order, a positive
//! increment, a known currency.

use serde::{Deserialize, Serialize};

use super::price::PriceModel;
use super::surcharge::Surcharge;
use super::weight::WeightRule;
use super::zone::ZoneRule;
use crate::money::Currency;

/// What kind of network a line is: postal lines deliver to PO boxes and military addresses, couriers do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Courier,
    Postal,
    /// Truck/LTL, priced per pallet.
    Freight,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCard {
    /// Stable id, used as the service code: `us-national-ground`.
    pub id: String,
    /// Shown to buyers: "National Ground".
    pub name: String,
    pub carrier: String,
    pub kind: LineKind,
    pub currency: Currency,
    /// The card's own version (a date or a tag), echoed in every quote.
    pub version: String,
    /// True when prices are illustrative rather than a carrier's tariff.
    pub illustrative: bool,
    /// Where the prices and rules come from.
    pub source: String,
    pub origin_countries: Vec<String>,
    pub destination_countries: Vec<String>,
    /// Destination regions served (US states, CA provinces …) for regional lines; empty serves the countries.
    #[serde(default)]
    pub destination_regions: Vec<String>,
    pub weight: WeightRule,
    #[serde(default)]
    pub limits: Limits,
    pub zones: ZoneRule,
    pub price: PriceModel,
    /// Lowest base price, in minor units.
    #[serde(default)]
    pub minimum_charge: Option<i64>,
    #[serde(default)]
    pub surcharges: Vec<Surcharge>,
    #[serde(default)]
    pub insurance: Option<Insurance>,
    #[serde(default)]
    pub transit: Option<Transit>,
}

/// Hard limits: a parcel over any of them cannot go on the line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default)]
    pub max_weight_g: Option<u64>,
    #[serde(default)]
    pub max_length_mm: Option<u32>,
    /// Sides, longest first (DHL Paket: 1200 × 600 × 600).
    #[serde(default)]
    pub max_sides_mm: Option<[u32; 3]>,
    /// Length + girth, girth = 2 × (width + height).
    #[serde(default)]
    pub max_length_plus_girth_mm: Option<u32>,
}

/// Declared-value cover: `included` is free; each started `per` above it costs `rate`, at least `minimum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insurance {
    pub included: i64,
    pub per: i64,
    pub rate: i64,
    #[serde(default)]
    pub minimum: i64,
    /// Highest value the line will cover.
    #[serde(default)]
    pub max_declared: Option<i64>,
}

/// Business days in transit by zone, and the days the line delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transit {
    /// `[min, max]` business days by zone.
    pub days: std::collections::BTreeMap<String, [u8; 2]>,
    /// ISO weekdays the line delivers on, 1 = Monday … 7 = Sunday.
    pub delivery_weekdays: Vec<u8>,
    /// The line's own non-delivery dates, beyond public holidays.
    #[serde(default)]
    pub closed_dates: Vec<jiff::civil::Date>,
}

/// The rate cards compiled into the binary (`shared/data/ratecards/*.toml`), as `(file name, TOML)`.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/ratecards.rs"));

/// The compiled-in cards, parsed once per process. A card that does not parse is a build-time mistake that
/// the test suite reports; here it is left out with its error, so one bad file cannot stop every quote.
pub fn builtin() -> &'static [Result<RateCard, (String, String)>] {
    static CARDS: std::sync::OnceLock<Vec<Result<RateCard, (String, String)>>> = std::sync::OnceLock::new();
    CARDS.get_or_init(|| {
        BUILTIN
            .iter()
            .map(|(file, text)| RateCard::from_toml(text).map_err(|e| ((*file).to_owned(), e.to_string())))
            .collect()
    })
}

/// Why a card could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("rate card is not valid TOML for the schema: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("rate card {id}: {problem}")]
    Rule { id: String, problem: String },
}

impl RateCard {
    pub fn from_toml(text: &str) -> Result<RateCard, CardError> {
        let card: RateCard = toml::from_str(text)?;
        card.check()?;
        Ok(card)
    }

    fn check(&self) -> Result<(), CardError> {
        let problem = |problem: String| Err(CardError::Rule { id: self.id.clone(), problem });
        if self.weight.increment == 0 {
            return problem("weight.increment must be positive".into());
        }
        if let PriceModel::Brackets { brackets } = &self.price {
            if brackets.is_empty() {
                return problem("price.brackets is empty".into());
            }
            if let Some(pair) = brackets.windows(2).find(|pair| pair[0].up_to >= pair[1].up_to) {
                return problem(format!("brackets must ascend: {} then {}", pair[0].up_to, pair[1].up_to));
            }
        }
        if let Some(transit) = &self.transit
            && let Some(day) = transit.delivery_weekdays.iter().find(|d| !(1..=7).contains(*d))
        {
            return problem(format!("delivery weekday {day} is not 1 (Monday) to 7 (Sunday)"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_card_parses_and_ids_are_unique() {
        let cards: Vec<&RateCard> =
            builtin().iter().map(|card| card.as_ref().unwrap_or_else(|(file, e)| panic!("{file}: {e}"))).collect();
        assert!(cards.len() >= 10, "{} cards", cards.len());
        let mut ids: Vec<&str> = cards.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), cards.len(), "duplicate card ids");
        for country in ["US", "DE", "GB", "FR", "CA", "AU"] {
            assert!(cards.iter().any(|c| c.origin_countries.iter().any(|o| o == country)), "no line from {country}");
        }
        assert!(cards.iter().any(|c| c.kind == LineKind::Freight), "no per-pallet line");
    }
}
