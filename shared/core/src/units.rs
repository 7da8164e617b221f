//! Weights and lengths as the API and the CLI take them ("2.3kg", "5 lb 4 oz", "40x30x20cm", "16x12x8in"),
//! converted to the internal units: grams and millimetres, as integers. Decimals are read digit by digit, so no
//! float ever rounds a weight.

use serde::{Deserialize, Serialize};

/// Grams per pound, times 10^5: 1 lb = 453.59237 g exactly (international pound, 1959).
const GRAMS_PER_LB_E5: u128 = 45_359_237;
/// Millimetres per inch, times 10: 1 in = 25.4 mm exactly.
const MM_PER_IN_E1: u128 = 254;

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{0:?} is not a number with a unit (e.g. 2.3kg, 5lb, 12oz, 500g)")]
    Weight(String),
    #[error("{0:?} is not three lengths with a unit (e.g. 40x30x20cm, 16x12x8in)")]
    Dimensions(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// Length × width × height in millimetres, as given (not sorted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

impl Dimensions {
    /// The sides, longest first.
    pub fn sorted_desc(self) -> [u32; 3] {
        let mut sides = [self.length_mm, self.width_mm, self.height_mm];
        sides.sort_unstable_by(|a, b| b.cmp(a));
        sides
    }
}

/// A decimal such as `2.3` as (2300, 3): the value times 10^scale, exactly.
fn decimal(text: &str) -> Option<(u128, u32)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 9 || whole.len() > 12 {
        return None;
    }
    if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    Some((digits.parse().ok()?, fraction.len() as u32))
}

/// Splits `2.3kg` / `2.3 kg` into the number and the lower-cased unit.
fn number_and_unit(text: &str) -> Option<(&str, String)> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    Some((number, unit.trim().to_ascii_lowercase()))
}

/// Divides rounding up.
fn ceil_div(n: u128, d: u128) -> u128 {
    n.div_ceil(d)
}

/// Reads a weight into grams, rounding a fraction of a gram up: `2.3kg`, `500 g`, `5lb`, `12oz`, `5lb 4oz`.
pub fn parse_weight(text: &str) -> Result<u64, UnitError> {
    let error = || UnitError::Weight(text.to_owned());
    let mut total_e9: u128 = 0; // grams × 10^9 across the parts
    let mut parts = 0;
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = rest
            .char_indices()
            .skip_while(|(_, c)| c.is_ascii_digit() || *c == '.' || *c == ' ')
            .find(|(_, c)| c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let (part, next) = rest.split_at(end);
        let (number, unit) = number_and_unit(part).ok_or_else(error)?;
        let (value, scale) = decimal(number).ok_or_else(error)?;
        let e9 = |grams_e5: u128| value * grams_e5 * 10u128.pow(9 - scale) / 100_000;
        total_e9 += match unit.as_str() {
            "g" | "gram" | "grams" => value * 10u128.pow(9 - scale),
            "kg" | "kilo" | "kilos" | "kilogram" | "kilograms" => value * 1000 * 10u128.pow(9 - scale),
            "lb" | "lbs" | "pound" | "pounds" => e9(GRAMS_PER_LB_E5),
            // 1 oz = 1/16 lb
            "oz" | "ounce" | "ounces" => e9(GRAMS_PER_LB_E5) / 16,
            _ => return Err(error()),
        };
        parts += 1;
        rest = next.trim();
    }
    if parts == 0 {
        return Err(error());
    }
    u64::try_from(ceil_div(total_e9, 1_000_000_000)).map_err(|_| UnitError::TooLarge(text.to_owned()))
}

/// Reads `LxWxH` with one unit (`cm`, `mm`, `in`, `m`) into millimetres, rounding a fraction of a mm up.
pub fn parse_dimensions(text: &str) -> Result<Dimensions, UnitError> {
    let error = || UnitError::Dimensions(text.to_owned());
    let lower = text.trim().to_ascii_lowercase();
    let unit_start = lower.rfind(|c: char| c.is_ascii_digit() || c == '.').map(|i| i + 1).ok_or_else(error)?;
    let (numbers, unit) = lower.split_at(unit_start);
    // mm per unit × 10
    let mm_e1: u128 = match unit.trim() {
        "mm" => 10,
        "cm" => 100,
        "m" => 10_000,
        "in" | "inch" | "inches" | "\"" => MM_PER_IN_E1,
        _ => return Err(error()),
    };
    let sides: Vec<u32> = numbers
        .split(['x', '×', '*'])
        .map(|n| {
            let (value, scale) = decimal(n.trim()).ok_or_else(error)?;
            let mm = ceil_div(value * mm_e1, 10 * 10u128.pow(scale));
            u32::try_from(mm).map_err(|_| UnitError::TooLarge(text.to_owned()))
        })
        .collect::<Result<_, _>>()?;
    match sides[..] {
        [length_mm, width_mm, height_mm] => Ok(Dimensions { length_mm, width_mm, height_mm }),
        _ => Err(error()),
    }
}

/// Grams to thousandths of a pound, rounding up: a carrier never bills less than the parcel weighs.
pub fn grams_to_millipounds(grams: u64) -> u64 {
    // mlb = g × 1000 / 453.59237 = g × 10^8 / 45359237
    ceil_div(u128::from(grams) * 100_000_000, GRAMS_PER_LB_E5) as u64
}

/// Thousandths of a pound to grams, rounding up.
pub fn millipounds_to_grams(millipounds: u64) -> u64 {
    ceil_div(u128::from(millipounds) * GRAMS_PER_LB_E5, 100_000_000) as u64
}

/// Millimetres to whole inches, rounded up or to the nearest (half up) as a carrier's rule says.
pub fn mm_to_inches(mm: u32, round_up: bool) -> u64 {
    let tenths = u128::from(mm) * 10; // mm × 10, so that inches = tenths / 254
    let inches = if round_up { ceil_div(tenths, MM_PER_IN_E1) } else { (tenths + MM_PER_IN_E1 / 2) / MM_PER_IN_E1 };
    inches as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_in_every_unit_become_whole_grams() {
        assert_eq!(parse_weight("2.3kg"), Ok(2300));
        assert_eq!(parse_weight(" 2.3 KG "), Ok(2300));
        assert_eq!(parse_weight("500g"), Ok(500));
        // 5 lb × 453.59237 = 2267.96185 g → 2268 (up)
        assert_eq!(parse_weight("5lb"), Ok(2268));
        // 12 oz = 0.75 lb = 340.1942775 g → 341
        assert_eq!(parse_weight("12oz"), Ok(341));
        // 5 lb 4 oz = 5.25 lb = 2381.35994 g → 2382
        assert_eq!(parse_weight("5lb 4oz"), Ok(2382));
        assert!(parse_weight("heavy").is_err());
        assert!(parse_weight("2.3").is_err());
        assert!(parse_weight("2.3 tonnes").is_err());
        assert!(parse_weight("").is_err());
    }

    #[test]
    fn dimensions_become_millimetres() {
        assert_eq!(parse_dimensions("40x30x20cm"), Ok(Dimensions { length_mm: 400, width_mm: 300, height_mm: 200 }));
        // 16 in = 406.4 mm → 407; 12 in = 304.8 → 305; 8 in = 203.2 → 204
        assert_eq!(
            parse_dimensions("16 x 12 x 8 in"),
            Ok(Dimensions { length_mm: 407, width_mm: 305, height_mm: 204 })
        );
        assert_eq!(parse_dimensions("1.2x0.6x0.6m").map(|d| d.sorted_desc()), Ok([1200, 600, 600]));
        assert!(parse_dimensions("40x30cm").is_err());
        assert!(parse_dimensions("40x30x20").is_err());
    }

    #[test]
    fn pounds_and_inches_round_as_carriers_bill() {
        // 1000 g / 453.59237 = 2.20462 lb → 2205 mlb (up)
        assert_eq!(grams_to_millipounds(1000), 2205);
        assert_eq!(millipounds_to_grams(1000), 454);
        // 407 mm = 16.02 in: up → 17, nearest → 16
        assert_eq!(mm_to_inches(407, true), 17);
        assert_eq!(mm_to_inches(407, false), 16);
        // 393.7 mm is 15.5 in: half rounds up
        assert_eq!(mm_to_inches(394, false), 16);
    }
}
