//! Money as integer minor units plus an ISO 4217 currency. No floats: percentages are basis points and every
//! rounding is explicit.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use serde::{Deserialize, Serialize};

/// An ISO 4217 code such as `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn new(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_uppercase).then_some(Currency(bytes))
    }

    /// Digits after the decimal point (ISO 4217 "minor units"): 2 for EUR, 0 for JPY, 3 for KWD. Codes the
    /// standard lists without minor units (funds, metals) and unknown codes have none: `None`.
    pub fn minor_digits(&self) -> Option<u32> {
        minor_digits().get(self).copied()
    }

    /// A known ISO 4217 currency with minor units.
    pub fn parse_known(code: &str) -> Option<Currency> {
        Currency::new(code).filter(|c| c.minor_digits().is_some())
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::str::FromStr for Currency {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::new(code).ok_or_else(|| format!("{code:?} is not an ISO 4217 code (three capitals)"))
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

/// ISO 4217 minor units by code, from `shared/data/currencies/iso4217.csv`, read once.
fn minor_digits() -> &'static HashMap<Currency, u32> {
    static TABLE: OnceLock<HashMap<Currency, u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let text = include_str!("../../data/currencies/iso4217.csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        reader
            .records()
            .flatten()
            .filter_map(|row| Some((Currency::new(row.get(0)?)?, row.get(2)?.parse().ok()?)))
            .collect()
    })
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

impl Money {
    /// `"120.00"` in `currency` → 12000 minor units. More decimals than the currency has is an error, not a
    /// silent rounding.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let digits = currency.minor_digits().ok_or(MoneyError::UnknownCurrency(currency))?;
        let value: Decimal = text.trim().parse().map_err(|_| MoneyError::NotANumber(text.to_owned()))?;
        if value.scale() > digits && value.normalize().scale() > digits {
            return Err(MoneyError::TooPrecise { text: text.to_owned(), currency, digits });
        }
        let minor = (value * Decimal::from(10i64.pow(digits))).trunc();
        let minor = i64::try_from(minor).map_err(|_| MoneyError::TooLarge(text.to_owned()))?;
        Ok(Money { minor, currency })
    }

    /// `"120.00 EUR"` or `"EUR 120.00"`.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (number, code) = match parts.as_slice() {
            [a, b] if Currency::new(b).is_some() => (*a, *b),
            [a, b] if Currency::new(a).is_some() => (*b, *a),
            _ => return Err(MoneyError::Shape(text.to_owned())),
        };
        let currency = Currency::new(code).ok_or(MoneyError::Shape(text.to_owned()))?;
        Money::parse_decimal(number, currency)
    }

    /// An exact amount in `currency`, rounded half-even to its minor unit (saturating far beyond any real amount).
    pub fn from_decimal(value: Decimal, currency: Currency) -> Money {
        let digits = currency.minor_digits().unwrap_or(0);
        let minor = value.round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointNearestEven)
            * Decimal::from(10i64.pow(digits));
        Money::new(i64::try_from(minor.trunc()).unwrap_or(i64::MAX), currency)
    }

    /// The amount as a decimal in major units: 12000 EUR cents → 120.00.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, self.currency.minor_digits().unwrap_or(0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an amount with a currency (e.g. \"120.00 EUR\")")]
    Shape(String),
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0} is not an ISO 4217 currency with minor units")]
    UnknownCurrency(Currency),
    #[error("{text:?} has more decimals than {currency} has ({digits})")]
    TooPrecise { text: String, currency: Currency, digits: u32 },
    #[error("{0:?} is too large")]
    TooLarge(String),
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
    fn amounts_follow_the_currency_minor_units() {
        let eur = Currency::new("EUR").unwrap();
        assert_eq!(Money::parse("120.00 EUR"), Ok(Money::new(12000, eur)));
        assert_eq!(Money::parse("EUR 120.5"), Ok(Money::new(12050, eur)));
        // ISO 4217: JPY has no minor unit, KWD three.
        assert_eq!(Money::parse("1500 JPY").map(|m| m.minor), Ok(1500));
        assert_eq!(Money::parse("1.234 KWD").map(|m| m.minor), Ok(1234));
        assert!(matches!(Money::parse("1500.5 JPY"), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::parse("1.00 XAU"), Err(MoneyError::UnknownCurrency(_))));
        assert!(matches!(Money::parse("12 euros"), Err(MoneyError::Shape(_))));
        assert_eq!(Money::new(12050, eur).to_string(), "120.50 EUR");
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
