//! Base price models of a rate card: weight brackets × zone, first weight plus each continued step, per pallet;
//! and the line's minimum charge. Weights are thousandths of the card's billing unit (see [`super::weight`]);
//! prices are minor units of the card's currency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a card turns billable weight and zone into a base price (the `[price]` table of a rate card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriceModel {
    /// The first bracket whose `up_to` is at least the billable weight; its price for the zone.
    Brackets { brackets: Vec<Bracket> },
    /// `first` buys up to `first_weight`; every started `step` above it adds `each`.
    FirstAndContinued { first_weight: u64, step: u64, zones: BTreeMap<String, FirstAndContinued> },
    /// A price per pallet and zone; weight only decides whether the pallet is allowed.
    PerPallet { zones: BTreeMap<String, i64> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bracket {
    /// Heaviest billable weight of the bracket, inclusive.
    pub up_to: u64,
    /// Price by zone.
    pub zones: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstAndContinued {
    pub first: i64,
    pub each: i64,
}

/// A base price and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasePrice {
    pub minor: i64,
    pub explanation: String,
}

/// Why a card has no price for this parcel: the line is excluded with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoPrice {
    #[error("zone {0} is not priced on this line")]
    Zone(String),
    #[error("billable weight is above the heaviest bracket ({0} thousandths of the unit)")]
    OverHeaviestBracket(u64),
}

impl PriceModel {
    /// Base price for `units` (parcels, or pallets for a per-pallet card) of `billable` weight each in `zone`.
    pub fn base_price(&self, zone: &str, billable: u64, units: u32) -> Result<BasePrice, NoPrice> {
        let no_zone = || NoPrice::Zone(zone.to_owned());
        let units_i = i64::from(units.max(1));
        match self {
            PriceModel::Brackets { brackets } => {
                let bracket = brackets
                    .iter()
                    .find(|b| billable <= b.up_to)
                    .ok_or_else(|| NoPrice::OverHeaviestBracket(brackets.last().map_or(0, |b| b.up_to)))?;
                let price = *bracket.zones.get(zone).ok_or_else(no_zone)?;
                Ok(BasePrice {
                    minor: price * units_i,
                    explanation: format!("bracket up to {} in zone {zone}: {price}", bracket.up_to),
                })
            }
            PriceModel::FirstAndContinued { first_weight, step, zones } => {
                let prices = zones.get(zone).ok_or_else(no_zone)?;
                let steps = billable.saturating_sub(*first_weight).div_ceil((*step).max(1));
                let price = prices.first + prices.each * steps as i64;
                Ok(BasePrice {
                    minor: price * units_i,
                    explanation: format!(
                        "first {first_weight}: {} + {steps} × {} per {step} in zone {zone} = {price}",
                        prices.first, prices.each
                    ),
                })
            }
            PriceModel::PerPallet { zones } => {
                let price = *zones.get(zone).ok_or_else(no_zone)?;
                Ok(BasePrice {
                    minor: price * units_i,
                    explanation: format!("{units_i} pallet(s) × {price} in zone {zone}"),
                })
            }
        }
    }
}

/// Raises a price to the line's minimum charge, saying so when it does.
pub fn apply_minimum(price: BasePrice, minimum: Option<i64>) -> BasePrice {
    match minimum {
        Some(minimum) if price.minor < minimum => BasePrice {
            minor: minimum,
            explanation: format!("{}; raised to the minimum charge {minimum}", price.explanation),
        },
        _ => price,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn zones(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(z, p)| ((*z).to_owned(), *p)).collect()
    }

    fn brackets() -> PriceModel {
        PriceModel::Brackets {
            brackets: vec![
                Bracket { up_to: 1000, zones: zones(&[("2", 850), ("8", 1420)]) },
                Bracket { up_to: 5000, zones: zones(&[("2", 1190), ("8", 2630)]) },
                Bracket { up_to: 10_000, zones: zones(&[("2", 1590), ("8", 3875)]) },
            ],
        }
    }

    #[test]
    fn brackets_take_the_first_that_holds_the_weight() {
        // 5.000 lb is inside "up to 5 lb" (inclusive): zone 8 → 26.30
        assert_eq!(brackets().base_price("8", 5000, 1).map(|p| p.minor), Ok(2630));
        // 5.001 lb moves to "up to 10 lb": zone 2 → 15.90
        assert_eq!(brackets().base_price("2", 5001, 1).map(|p| p.minor), Ok(1590));
        assert_eq!(brackets().base_price("5", 1000, 1), Err(NoPrice::Zone("5".into())));
        assert_eq!(brackets().base_price("2", 10_001, 1), Err(NoPrice::OverHeaviestBracket(10_000)));
    }

    #[test]
    fn first_weight_then_each_started_step() {
        // First 1 kg 4.90, each further started 0.5 kg 0.80: 2.3 kg → 1.3 kg over → 3 steps → 4.90 + 2.40 = 7.30
        let model = PriceModel::FirstAndContinued {
            first_weight: 1000,
            step: 500,
            zones: [("DE".to_owned(), FirstAndContinued { first: 490, each: 80 })].into(),
        };
        let price = model.base_price("DE", 2300, 1).unwrap();
        assert_eq!(price.minor, 730);
        assert!(price.explanation.contains("3 × 80"), "{}", price.explanation);
        assert_eq!(model.base_price("DE", 800, 1).unwrap().minor, 490);
    }

    #[test]
    fn pallets_and_the_minimum_charge() {
        let model = PriceModel::PerPallet { zones: zones(&[("A", 18_500)]) };
        // 3 pallets × 185.00 = 555.00
        assert_eq!(model.base_price("A", 400_000, 3).unwrap().minor, 55_500);
        let low = BasePrice { minor: 420, explanation: "x".into() };
        assert_eq!(apply_minimum(low.clone(), Some(500)).minor, 500);
        assert_eq!(apply_minimum(low, Some(400)).minor, 420);
    }

    #[test]
    fn cards_read_from_toml_shapes() {
        let model: PriceModel = serde_json::from_value(serde_json::json!({
            "model": "brackets",
            "brackets": [{"up_to": 1000, "zones": {"1": 500}}]
        }))
        .unwrap();
        assert_eq!(model.base_price("1", 1, 1).unwrap().minor, 500);
        assert!(serde_json::from_value::<PriceModel>(serde_json::json!({"model": "per_kilo"})).is_err());
    }

    proptest! {
        #[test]
        fn more_weight_never_costs_less_on_a_bracket_card(a in 0u64..10_000, b in 0u64..10_000) {
            let (light, heavy) = (a.min(b), a.max(b));
            let price = |w| brackets().base_price("8", w, 1).map(|p| p.minor).unwrap_or(i64::MAX);
            prop_assert!(price(heavy) >= price(light));
        }
    }
}
