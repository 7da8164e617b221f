//! An order as the router needs it, read from Shopify's order shape (which the orders API takes too): the units
//! to ship by SKU with their weight and price, the currency, and the shipping address. What cannot be read is a
//! message that can never be routed, said in words.

use jiff::Timestamp;
use lastmile_core::address::AddressRequest;
use lastmile_core::money::{Currency, Money};
use lastmile_core::routing::split::Units;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub grams: u64,
    /// The unit price, in the order's currency.
    pub unit_price: Option<Money>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingOrder {
    pub currency: Option<Currency>,
    pub created_at: Option<Timestamp>,
    pub lines: Vec<OrderLine>,
    pub address: Option<AddressRequest>,
}

/// Reads what routing needs; an error says which field is wrong.
pub fn parse(order: &Value) -> Result<RoutingOrder, String> {
    let currency = match order.get("currency") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) => Some(code.parse::<Currency>().map_err(|e| format!("currency {code:?}: {e}"))?),
        Some(other) => return Err(format!("currency must be a code such as \"USD\", not {other}")),
    };
    let created_at = order.get("created_at").and_then(Value::as_str).and_then(|t| t.parse().ok());
    let items = match order.get("line_items") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err("line_items must be a list".into()),
        None => return Err("the order has no line_items".into()),
    };
    let mut lines: Vec<OrderLine> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |what: &str| format!("line_items[{i}].{what}");
        if !item.is_object() {
            return Err(format!("line_items[{i}] must be an object"));
        }
        if item.get("requires_shipping") == Some(&Value::Bool(false)) {
            continue;
        }
        let quantity = item
            .get("quantity")
            .and_then(Value::as_u64)
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| format!("{} must be a whole number", at("quantity")))?;
        if quantity == 0 {
            continue;
        }
        let sku = match (item.get("sku"), item.get("variant_id")) {
            (Some(Value::String(sku)), _) if !sku.trim().is_empty() => sku.trim().to_owned(),
            (_, Some(Value::Number(variant))) => format!("variant:{variant}"),
            _ => return Err(format!("{} or variant_id is needed to find stock", at("sku"))),
        };
        let grams = match item.get("grams") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| format!("{} must be whole grams", at("grams")))?,
            Some(_) => return Err(format!("{} must be whole grams", at("grams"))),
        };
        let unit_price = match (item.get("price"), currency) {
            (Some(Value::String(price)), Some(currency)) => {
                Some(Money::parse_decimal(price, currency).map_err(|e| format!("{}: {e}", at("price")))?)
            }
            _ => None,
        };
        let title = item.get("title").and_then(Value::as_str).map(str::to_owned);
        // The same SKU on two lines ships as one.
        match lines.iter_mut().find(|l| l.sku == sku) {
            Some(line) => line.quantity = line.quantity.saturating_add(quantity),
            None => lines.push(OrderLine { sku, quantity, grams, unit_price, title }),
        }
    }
    if lines.is_empty() {
        return Err("nothing in the order needs shipping".into());
    }
    let address = match order.get("shipping_address") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<AddressRequest>(value.clone()).map_err(|e| format!("shipping_address: {e}"))?,
        ),
    };
    Ok(RoutingOrder { currency, created_at, lines, address })
}

impl RoutingOrder {
    pub fn units(&self) -> Vec<Units> {
        self.lines.iter().map(|l| Units { sku: l.sku.clone(), quantity: l.quantity }).collect()
    }

    pub fn line(&self, sku: &str) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.sku == sku)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_shopify_order() {
        let order = json!({
            "id": 820982911946154508u64, "currency": "USD", "created_at": "2026-12-04T10:00:00-05:00",
            "line_items": [
                {"sku": "MUG-1", "quantity": 2, "grams": 450, "price": "12.50", "title": "Mug"},
                {"sku": "", "variant_id": 4471, "quantity": 1, "grams": 200, "price": "5.00"},
                {"sku": "GIFT", "quantity": 1, "requires_shipping": false, "price": "25.00"},
                {"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "12.50"}
            ],
            "shipping_address": {"address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"}
        });
        let parsed = parse(&order).expect("a valid order");
        assert_eq!(
            parsed.units(),
            vec![Units { sku: "MUG-1".into(), quantity: 3 }, Units { sku: "variant:4471".into(), quantity: 1 }]
        );
        assert_eq!(parsed.lines[0].unit_price, Some(Money::new(1250, "USD".parse().expect("USD"))));
        assert_eq!(parsed.address.expect("an address").zip.as_deref(), Some("99501"));
    }

    #[test]
    fn says_what_is_wrong() {
        for (order, error) in [
            (json!({"line_items": "oops"}), "line_items must be a list"),
            (json!({}), "the order has no line_items"),
            (json!({"line_items": [{"sku": "A", "quantity": -1}]}), "line_items[0].quantity must be a whole number"),
            (json!({"line_items": [{"quantity": 1}]}), "line_items[0].sku or variant_id is needed to find stock"),
            (json!({"line_items": [{"sku": "A", "quantity": 0}]}), "nothing in the order needs shipping"),
            (json!({"currency": "DOLLARS", "line_items": []}), "currency \"DOLLARS\""),
        ] {
            let got = parse(&order).expect_err("invalid");
            assert!(got.starts_with(error), "{got:?} should start with {error:?}");
        }
    }
}
