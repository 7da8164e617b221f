//! Surcharges of a rate card, each with its condition and its dated amounts: fuel (a percentage that changes
//! by date, on the charges the card names), residential delivery, delivery-area/remote postcodes, additional
//! handling and oversize thresholds, peak-season windows, and options the shipper buys (signature, DDP
//! handling). Amounts are minor units of the card's currency; percentages are basis points.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::money::percent_of;
use crate::units::Dimensions;

/// One `[[surcharges]]` entry of a rate card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surcharge {
    /// Stable code shown in the breakdown: `fuel`, `residential`, `remote_area`, `additional_handling`, …
    pub code: String,
    /// When the surcharge applies to a shipment.
    #[serde(default)]
    pub when: Condition,
    /// Amounts by ship date; the first whose period holds the date applies, none means not charged that day.
    pub amounts: Vec<DatedAmount>,
}

/// What must hold for a surcharge to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every shipment (fuel, peak: their dates do the selecting).
    #[default]
    Always,
    /// The destination is residential, as the address engine judged it (unknown counts as residential, as
    /// carriers bill it until an address is known to be a business).
    Residential,
    /// The destination postcode starts with one of these (a line's delivery-area or remote list).
    PostcodePrefixes { prefixes: Vec<String> },
    /// The address engine flagged the destination as a remote area (lists in `shared/data/remote-areas`).
    RemoteArea,
    /// Any threshold exceeded: actual weight, longest side, second-longest side, length + girth (grams, mm).
    Exceeds {
        #[serde(default)]
        weight_g: Option<u64>,
        #[serde(default)]
        longest_mm: Option<u32>,
        #[serde(default)]
        second_longest_mm: Option<u32>,
        #[serde(default)]
        length_plus_girth_mm: Option<u32>,
    },
    /// The shipper asked for this option (`signature`, `ddp`).
    Option { name: String },
}

/// An amount valid from `from` to `to`, both inclusive; no `to` means until further notice. (Unknown fields
/// cannot be refused here: serde does not support that together with the flattened amount.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedAmount {
    pub from: Date,
    #[serde(default)]
    pub to: Option<Date>,
    #[serde(flatten)]
    pub amount: Amount,
}

impl DatedAmount {
    fn holds(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    /// A fixed amount per parcel.
    Fixed { minor: i64 },
    /// A percentage of the base price and of the named surcharges (fuel on base + residential, …).
    Percent {
        basis_points: i64,
        #[serde(default)]
        of_surcharges: Vec<String>,
    },
}

/// What the conditions look at.
#[derive(Debug, Clone)]
pub struct Shipment<'a> {
    pub ship_date: Date,
    pub actual_grams: u64,
    pub dimensions: Option<Dimensions>,
    /// `None` when the address engine could not tell.
    pub residential: Option<bool>,
    pub remote_area: bool,
    /// Destination postcode, compact (letters and digits, uppercase).
    pub postcode: &'a str,
    pub options: &'a [String],
}

/// One line of a quote's breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub code: String,
    pub minor: i64,
    pub explanation: String,
}

impl Condition {
    fn holds(&self, s: &Shipment<'_>) -> bool {
        match self {
            Condition::Always => true,
            Condition::Residential => s.residential != Some(false),
            Condition::PostcodePrefixes { prefixes } => prefixes.iter().any(|p| s.postcode.starts_with(p.as_str())),
            Condition::RemoteArea => s.remote_area,
            Condition::Exceeds { weight_g, longest_mm, second_longest_mm, length_plus_girth_mm } => {
                let sides = s.dimensions.map(Dimensions::sorted_desc);
                let over = |limit: Option<u32>, value: Option<u32>| limit.zip(value).is_some_and(|(l, v)| v > l);
                weight_g.is_some_and(|limit| s.actual_grams > limit)
                    || over(*longest_mm, sides.map(|d| d[0]))
                    || over(*second_longest_mm, sides.map(|d| d[1]))
                    || over(*length_plus_girth_mm, sides.map(|[l, w, h]| l + 2 * (w + h)))
            }
            Condition::Option { name } => s.options.iter().any(|o| o == name),
        }
    }
}

/// Applies `surcharges` to a base price: fixed amounts first, then percentages on the base and the surcharges
/// they name, each rounded half away from zero to a minor unit.
pub fn apply(surcharges: &[Surcharge], base: i64, shipment: &Shipment<'_>) -> Vec<Charge> {
    let due: Vec<(&Surcharge, &DatedAmount)> = surcharges
        .iter()
        .filter(|s| s.when.holds(shipment))
        .filter_map(|s| s.amounts.iter().find(|a| a.holds(shipment.ship_date)).map(|a| (s, a)))
        .collect();
    let mut charges: Vec<Charge> = due
        .iter()
        .filter_map(|(s, a)| match a.amount {
            Amount::Fixed { minor } => {
                Some(Charge { code: s.code.clone(), minor, explanation: format!("{} from {}", s.code, a.from) })
            }
            Amount::Percent { .. } => None,
        })
        .collect();
    for (s, a) in &due {
        let Amount::Percent { basis_points, of_surcharges } = &a.amount else { continue };
        let of: i64 = base + charges.iter().filter(|c| of_surcharges.contains(&c.code)).map(|c| c.minor).sum::<i64>();
        let named = if of_surcharges.is_empty() { String::new() } else { format!(" + {}", of_surcharges.join(" + ")) };
        charges.push(Charge {
            code: s.code.clone(),
            minor: percent_of(of, *basis_points),
            explanation: format!(
                "{}.{:02} % of {of} (base{named}), rate from {}",
                basis_points / 100,
                basis_points % 100,
                a.from
            ),
        });
    }
    charges
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn card() -> Vec<Surcharge> {
        serde_json::from_value(serde_json::json!([
            {"code": "residential", "when": {"if": "residential"}, "amounts": [{"from": "2026-01-01", "minor": 545}]},
            {"code": "additional_handling",
             "when": {"if": "exceeds", "weight_g": 22680, "longest_mm": 1219, "second_longest_mm": 762},
             "amounts": [{"from": "2026-01-01", "minor": 2850}]},
            {"code": "peak", "amounts": [{"from": "2026-11-23", "to": "2027-01-17", "minor": 45}]},
            {"code": "fuel", "amounts": [
                {"from": "2026-11-02", "to": "2026-11-29", "basis_points": 1825, "of_surcharges": ["residential", "additional_handling"]},
                {"from": "2026-11-30", "basis_points": 1900, "of_surcharges": ["residential", "additional_handling"]}
            ]}
        ]))
        .unwrap()
    }

    fn shipment(day: Date, grams: u64, sides: (u32, u32, u32), residential: Option<bool>) -> Shipment<'static> {
        Shipment {
            ship_date: day,
            actual_grams: grams,
            dimensions: Some(Dimensions { length_mm: sides.0, width_mm: sides.1, height_mm: sides.2 }),
            residential,
            remote_area: false,
            postcode: "99501",
            options: &[],
        }
    }

    fn total(charges: &[Charge]) -> Vec<(&str, i64)> {
        charges.iter().map(|c| (c.code.as_str(), c.minor)).collect()
    }

    #[test]
    fn fuel_follows_its_dated_table_and_applies_to_the_charges_it_names() {
        // Base 12.34 to a residence on 2026-11-25: residential 5.45; peak 0.45 (window 2026-11-23..2027-01-17);
        // fuel 18.25 % of (1234 + 545) = 324.67 → 325.
        let on_25th = apply(&card(), 1234, &shipment(date(2026, 11, 25), 2300, (400, 300, 200), Some(true)));
        assert_eq!(total(&on_25th), [("residential", 545), ("peak", 45), ("fuel", 325)]);
        // From 2026-11-30 the fuel rate is 19.00 %: 1779 × 0.19 = 338.01 → 338.
        let on_30th = apply(&card(), 1234, &shipment(date(2026, 11, 30), 2300, (400, 300, 200), Some(true)));
        assert_eq!(total(&on_30th)[2], ("fuel", 338));
        // Before the fuel table and the peak window (2026-10-01): residential only.
        let october = apply(&card(), 1234, &shipment(date(2026, 10, 1), 2300, (400, 300, 200), Some(true)));
        assert_eq!(total(&october), [("residential", 545)]);
    }

    #[test]
    fn handling_thresholds_and_residential_knowledge() {
        // A business (residential = false), 23 kg > 22,680 g (50 lb): additional handling 28.50;
        // fuel 18.25 % of (1000 + 2850) = 702.625 → 703.
        let heavy = apply(&card(), 1000, &shipment(date(2026, 11, 25), 23_000, (500, 400, 300), Some(false)));
        assert_eq!(total(&heavy), [("additional_handling", 2850), ("peak", 45), ("fuel", 703)]);
        // Second-longest side 77 cm > 76.2 cm (30 in): additional handling even when light.
        let wide = apply(&card(), 1000, &shipment(date(2026, 11, 25), 5_000, (800, 770, 100), Some(false)));
        assert!(total(&wide).contains(&("additional_handling", 2850)));
        // An address the engine could not classify is billed as residential.
        let unknown = apply(&card(), 1000, &shipment(date(2026, 11, 25), 1_000, (100, 100, 100), None));
        assert!(total(&unknown).contains(&("residential", 545)));
    }

    #[test]
    fn options_and_postcode_lists() {
        let surcharges: Vec<Surcharge> = serde_json::from_value(serde_json::json!([
            {"code": "signature", "when": {"if": "option", "name": "signature"}, "amounts": [{"from": "2026-01-01", "minor": 650}]},
            {"code": "delivery_area", "when": {"if": "postcode_prefixes", "prefixes": ["995", "996"]},
             "amounts": [{"from": "2026-01-01", "minor": 430}]}
        ]))
        .unwrap();
        let signature = ["signature".to_owned()];
        let mut s = shipment(date(2026, 11, 25), 1000, (100, 100, 100), Some(false));
        assert_eq!(total(&apply(&surcharges, 1000, &s)), [("delivery_area", 430)]);
        s.options = &signature;
        s.postcode = "10115";
        assert_eq!(total(&apply(&surcharges, 1000, &s)), [("signature", 650)]);
    }
}
