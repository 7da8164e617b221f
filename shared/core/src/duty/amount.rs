//! An amount as order systems send it: `"120.00 EUR"`, or `{"minor": 12000, "currency": "EUR"}`.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

/// A [`Money`] read from either shape and written as `"120.00 EUR"`, the shape people read on an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Money);

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Text(String),
            Minor { minor: i64, currency: Currency },
        }
        match Shape::deserialize(deserializer)? {
            Shape::Text(text) => Money::parse(&text).map(Amount).map_err(serde::de::Error::custom),
            Shape::Minor { minor, currency } => {
                if currency.minor_digits().is_none() {
                    return Err(serde::de::Error::custom(format!("{currency} is not a currency with minor units")));
                }
                Ok(Amount(Money::new(minor, currency)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_read_the_same_amount() {
        let text: Amount = serde_json::from_str(r#""120.00 EUR""#).unwrap();
        let minor: Amount = serde_json::from_str(r#"{"minor":12000,"currency":"EUR"}"#).unwrap();
        assert_eq!(text, minor);
        assert_eq!(serde_json::to_string(&text).unwrap(), r#""120.00 EUR""#);
        assert!(serde_json::from_str::<Amount>(r#""120.001 EUR""#).is_err());
        assert!(serde_json::from_str::<Amount>(r#"{"minor":1,"currency":"XAU"}"#).is_err());
    }
}
