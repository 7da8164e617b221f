//! Money as integer minor units plus an ISO 4217 currency. No floats: percentages are basis points and every
//! rounding is explicit.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 code such as `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn new(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_uppercase).then_some(Currency(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::new(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("{code:?} is not an ISO 4217 code (three capitals)")))
    }
}

/// An amount in minor units (cents, pence) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }
}

/// `basis_points` of `minor` (100 bp = 1 %), rounded half away from zero to a whole minor unit.
pub fn percent_of(minor: i64, basis_points: i64) -> i64 {
    let product = i128::from(minor) * i128::from(basis_points);
    let rounded = if product >= 0 { (product + 5_000) / 10_000 } else { (product - 5_000) / 10_000 };
    rounded as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_capitals() {
        assert_eq!(Currency::new("USD").map(|c| c.to_string()), Some("USD".to_owned()));
        assert_eq!(Currency::new("usd"), None);
        assert_eq!(Currency::new("EURO"), None);
        let money: Money = serde_json::from_str(r#"{"minor":1299,"currency":"EUR"}"#).unwrap();
        assert_eq!(money.minor, 1299);
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"eu"}"#).is_err());
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        // 18.25 % of $12.34 = 225.205 cents → 225
        assert_eq!(percent_of(1234, 1825), 225);
        // 10 % of 5 cents = 0.5 → 1
        assert_eq!(percent_of(5, 1000), 1);
        assert_eq!(percent_of(-5, 1000), -1);
        assert_eq!(percent_of(0, 1825), 0);
    }
}
