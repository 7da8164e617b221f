//! Billable weight: the greater of the actual and the volumetric (dimensional) weight, in the line's billing
//! unit and rounded up to its increment, with the arithmetic spelled out so that a quote can explain itself.

use serde::{Deserialize, Serialize};

use crate::units::{self, Dimensions};

/// The unit a line bills weight in. Amounts are thousandths of it: grams for kg, millipounds for lb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightUnit {
    Kg,
    Lb,
}

impl WeightUnit {
    fn thousandths_of(self, grams: u64) -> u64 {
        match self {
            WeightUnit::Kg => grams,
            WeightUnit::Lb => units::grams_to_millipounds(grams),
        }
    }

    fn name(self) -> &'static str {
        match self {
            WeightUnit::Kg => "kg",
            WeightUnit::Lb => "lb",
        }
    }
}

/// How dimensions are measured before the volume is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionRounding {
    /// Exact millimetres.
    #[default]
    None,
    /// Each side up to the next whole cm or inch.
    Up,
    /// Each side to the nearest whole cm or inch (half up), as UPS states it.
    Nearest,
}

/// A line's weight rule (the `[weight]` table of a rate card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightRule {
    /// Billing unit; it also sets the volumetric formula: cm³ per kg, or in³ per lb.
    pub unit: WeightUnit,
    /// Volumetric divisor (5000 cm³/kg, 139 in³/lb, …); absent when the line bills actual weight only.
    #[serde(default)]
    pub divisor: Option<u32>,
    /// Rounding of each side before the volume is taken.
    #[serde(default)]
    pub dimension_rounding: DimensionRounding,
    /// Volumetric weight applies only above this volume, in cm³ or in³ (USPS: 1,728 in³).
    #[serde(default)]
    pub volumetric_min_volume: Option<u64>,
    /// Billable weight is rounded up to a multiple of this, in thousandths of the unit (500 = 0.5 kg).
    pub increment: u32,
    /// Smallest billable weight, in thousandths of the unit.
    #[serde(default)]
    pub minimum: u32,
}

/// Billable weight and how it was reached. Amounts are thousandths of `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billable {
    pub unit: WeightUnit,
    pub actual: u64,
    pub volumetric: Option<u64>,
    pub billable: u64,
    /// Which weight won: `actual` or `volumetric`.
    pub basis: &'static str,
    pub explanation: String,
}

impl WeightRule {
    /// Billable weight of a parcel of `grams` with `dimensions` (when known).
    pub fn billable(&self, grams: u64, dimensions: Option<Dimensions>) -> Billable {
        let actual = self.unit.thousandths_of(grams);
        let volume = dimensions.and_then(|d| self.divisor.map(|divisor| (self.volume(d), divisor)));
        let volumetric = volume
            .filter(|(volume, _)| self.volumetric_min_volume.is_none_or(|min| *volume > min))
            // cm³ / (cm³/kg) = kg → ×1000 for grams; in³ / (in³/lb) = lb → ×1000 for millipounds. Up.
            .map(|(volume, divisor)| (volume * 1000).div_ceil(u64::from(divisor)));
        let heavier = volumetric.filter(|v| *v > actual);
        let raw = heavier.unwrap_or(actual).max(u64::from(self.minimum));
        let increment = u64::from(self.increment.max(1));
        let billable = raw.div_ceil(increment) * increment;
        let unit = self.unit.name();
        let thousandths = |v: u64| format!("{}.{:03} {unit}", v / 1000, v % 1000);
        let mut explanation = format!("actual {}", thousandths(actual));
        match (volume, volumetric) {
            (Some((volume, divisor)), Some(v)) => {
                let cubic = if self.unit == WeightUnit::Kg { "cm³" } else { "in³" };
                explanation.push_str(&format!(", volumetric {volume} {cubic} / {divisor} = {}", thousandths(v)));
            }
            (Some((volume, _)), None) => explanation.push_str(&format!(
                ", volume {volume} is not above the volumetric threshold {}",
                self.volumetric_min_volume.unwrap_or_default()
            )),
            _ => {}
        }
        explanation.push_str(&format!(
            "; billable {} ({} rounded up to {})",
            thousandths(billable),
            if heavier.is_some() { "volumetric" } else { "actual" },
            thousandths(increment)
        ));
        Billable {
            unit: self.unit,
            actual,
            volumetric,
            billable,
            basis: if heavier.is_some() { "volumetric" } else { "actual" },
            explanation,
        }
    }

    /// Volume in cm³ (kg lines) or in³ (lb lines), each side rounded as the rule says; fractions of a cm³ are
    /// rounded up.
    fn volume(&self, d: Dimensions) -> u64 {
        let sides = [d.length_mm, d.width_mm, d.height_mm];
        match self.unit {
            WeightUnit::Kg => {
                let cm = |mm: u32| -> u64 {
                    let mm = u64::from(mm);
                    match self.dimension_rounding {
                        DimensionRounding::None => mm,
                        DimensionRounding::Up => mm.div_ceil(10) * 10,
                        DimensionRounding::Nearest => (mm + 5) / 10 * 10,
                    }
                };
                // mm³ / 1000 = cm³
                sides.iter().map(|s| cm(*s)).product::<u64>().div_ceil(1000)
            }
            WeightUnit::Lb => {
                let round_up = self.dimension_rounding != DimensionRounding::Nearest;
                sides.iter().map(|s| units::mm_to_inches(*s, round_up)).product()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn dims(l: u32, w: u32, h: u32) -> Option<Dimensions> {
        Some(Dimensions { length_mm: l, width_mm: w, height_mm: h })
    }

    /// IATA / DHL Express volumetric rule (carriers/NOTES.md): L×W×H cm / 5000, billed per 0.5 kg.
    fn metric() -> WeightRule {
        WeightRule {
            unit: WeightUnit::Kg,
            divisor: Some(5000),
            dimension_rounding: DimensionRounding::Up,
            volumetric_min_volume: None,
            increment: 500,
            minimum: 0,
        }
    }

    #[test]
    fn volumetric_wins_for_a_light_bulky_parcel() {
        // The parcel: 2.3 kg, 40×30×20 cm. Volume 24,000 cm³ / 5000 = 4.8 kg > 2.3 kg;
        // 4.8 kg up to the next 0.5 kg = 5.0 kg.
        let b = metric().billable(2300, dims(400, 300, 200));
        assert_eq!((b.actual, b.volumetric, b.billable, b.basis), (2300, Some(4800), 5000, "volumetric"));
        assert!(b.explanation.contains("24000 cm³ / 5000 = 4.800 kg"), "{}", b.explanation);
    }

    #[test]
    fn actual_wins_for_a_dense_parcel_and_sides_round_up_to_the_cm() {
        // 7.2 kg in 30.1×20×10 cm: sides up to 31×20×10 = 6,200 cm³ / 5000 = 1.24 kg < 7.2 kg → 7.5 kg.
        let b = metric().billable(7200, dims(301, 200, 100));
        assert_eq!((b.volumetric, b.billable, b.basis), (Some(1240), 7500, "actual"));
    }

    #[test]
    fn ups_rule_in_pounds_rounds_sides_to_the_nearest_inch() {
        // UPS (carriers/NOTES.md): sides to the nearest inch, L×W×H / 139, up to the next lb.
        // 2.3 kg = 5.071 lb (2300 × 10^8 / 45359237 = 5070.63 → 5071 mlb).
        // 400 mm = 15.75 in → 16; 300 mm = 11.81 → 12; 200 mm = 7.87 → 8. 16×12×8 = 1,536 in³.
        // 1536 / 139 = 11.0504 lb → 11.051 (up) → billable 12 lb.
        let ups = WeightRule {
            unit: WeightUnit::Lb,
            divisor: Some(139),
            dimension_rounding: DimensionRounding::Nearest,
            volumetric_min_volume: None,
            increment: 1000,
            minimum: 0,
        };
        let b = ups.billable(2300, dims(400, 300, 200));
        assert_eq!((b.actual, b.volumetric, b.billable), (5071, Some(11_051), 12_000));
    }

    #[test]
    fn usps_applies_dimensional_weight_only_above_one_cubic_foot() {
        // USPS (carriers/NOTES.md): divisor 166, only for parcels over 1,728 in³.
        // 16×12×8 in = 1,536 in³ ≤ 1,728: actual 5.071 lb → 6 lb.
        let usps = WeightRule {
            unit: WeightUnit::Lb,
            divisor: Some(166),
            dimension_rounding: DimensionRounding::Up,
            volumetric_min_volume: Some(1728),
            increment: 1000,
            minimum: 0,
        };
        let small = usps.billable(2300, dims(406, 304, 203));
        assert_eq!((small.volumetric, small.billable), (None, 6000));
        // 20×14×10 in = 2,800 in³ > 1,728: 2800 / 166 = 16.867 lb → 17 lb.
        let big = usps.billable(2300, dims(508, 355, 254));
        assert_eq!((big.volumetric, big.billable), (Some(16_868), 17_000));
    }

    #[test]
    fn the_minimum_and_no_dimensions() {
        let rule = WeightRule { minimum: 1000, ..metric() };
        assert_eq!(rule.billable(120, None).billable, 1000);
        assert_eq!(metric().billable(120, None).volumetric, None);
    }

    proptest! {
        #[test]
        fn billable_is_never_below_actual_and_more_weight_never_bills_less(
            grams in 0u64..200_000, extra in 0u64..10_000,
            l in 1u32..2_000, w in 1u32..1_500, h in 1u32..1_500,
            lb in any::<bool>(), divisor in 100u32..8_000, increment in 1u32..2_000,
        ) {
            let rule = WeightRule {
                unit: if lb { WeightUnit::Lb } else { WeightUnit::Kg },
                divisor: Some(divisor),
                dimension_rounding: DimensionRounding::Up,
                volumetric_min_volume: None,
                increment,
                minimum: 0,
            };
            let b = rule.billable(grams, dims(l, w, h));
            prop_assert!(b.billable >= b.actual);
            prop_assert!(b.billable >= b.volumetric.unwrap_or(0));
            prop_assert_eq!(b.billable % u64::from(increment), 0);
            prop_assert!(rule.billable(grams + extra, dims(l, w, h)).billable >= b.billable);
        }
    }
}
