//! What of an order is not personal: the projection the order record keeps (lines, currency, the destination's
//! country and region), and the customer reference personal items are indexed by. Pure.

use serde_json::{Map, Value};

use crate::ports::blob::sha256_hex;

/// Fields of an order kept on the order record, by allow-list: anything Shopify or an OMS adds later stays in
/// the personal item until someone decides it is not personal.
const ORDER_FIELDS: [&str; 9] =
    ["id", "name", "order_number", "currency", "created_at", "updated_at", "cancelled_at", "total_weight", "test"];
const LINE_FIELDS: [&str; 10] = [
    "id",
    "sku",
    "variant_id",
    "product_id",
    "title",
    "quantity",
    "grams",
    "price",
    "requires_shipping",
    "fulfillment_service",
];
const ADDRESS_FIELDS: [&str; 3] = ["country_code", "province_code", "country"];

fn pick(from: &Value, fields: &[&str]) -> Map<String, Value> {
    fields.iter().filter_map(|f| from.get(*f).map(|v| ((*f).to_owned(), v.clone()))).collect()
}

/// The order without its personal fields: what aggregates, reports and the router's checks read.
pub fn non_personal(order: &Value) -> Value {
    let mut out = pick(order, &ORDER_FIELDS);
    if let Some(Value::Array(lines)) = order.get("line_items") {
        out.insert(
            "line_items".into(),
            Value::Array(lines.iter().map(|l| Value::Object(pick(l, &LINE_FIELDS))).collect()),
        );
    }
    if let Some(address) = order.get("shipping_address").filter(|a| a.is_object()) {
        out.insert("shipping_address".into(), Value::Object(pick(address, &ADDRESS_FIELDS)));
    }
    Value::Object(out)
}

/// A reference to a customer that is not their email: `shopify-{id}` for a Shopify customer id, else
/// `email-{sha256 of the lower-cased, trimmed email}`.
pub fn customer_ref(id: Option<&Value>, email: Option<&str>) -> Option<String> {
    let id = id.and_then(|v| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()) => Some(s.clone()),
        _ => None,
    });
    match (id, email.map(str::trim).filter(|e| !e.is_empty())) {
        (Some(id), _) => Some(format!("shopify-{id}")),
        (None, Some(email)) => Some(email_ref(email)),
        (None, None) => None,
    }
}

pub fn email_ref(email: &str) -> String {
    format!("email-{}", sha256_hex(email.trim().to_lowercase().as_bytes()))
}

/// The customer an order is about, from Shopify's order shape (`customer.id`, else an email).
pub fn order_customer(order: &Value) -> Option<String> {
    let customer = order.get("customer");
    let email = [order.get("email"), order.get("contact_email"), customer.and_then(|c| c.get("email"))]
        .into_iter()
        .flatten()
        .find_map(Value::as_str);
    customer_ref(customer.and_then(|c| c.get("id")), email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_projection_keeps_lines_and_country_and_drops_the_person() {
        let order = json!({
            "id": 1001, "currency": "USD", "email": "Ada@Example.com", "phone": "+1 555 0100",
            "customer": {"id": 77, "first_name": "Ada"},
            "shipping_address": {"name": "Ada Lovelace", "address1": "12 Analytical Way", "country_code": "US", "province_code": "NY", "phone": "+1 555 0100"},
            "line_items": [{"sku": "MUG", "quantity": 2, "grams": 350, "price": "12.00", "properties": [{"name": "Gift note", "value": "For Ada"}]}]
        });
        let kept = non_personal(&order);
        let text = kept.to_string();
        for personal in ["Ada", "Analytical", "555", "Example"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
        assert_eq!(kept["line_items"][0]["quantity"], 2);
        assert_eq!(kept["shipping_address"]["country_code"], "US");
        assert_eq!(order_customer(&order).as_deref(), Some("shopify-77"));
    }

    #[test]
    fn without_a_customer_id_the_reference_is_the_hashed_email() {
        let a = order_customer(&json!({"email": " Ada@Example.com"})).unwrap();
        assert_eq!(a, email_ref("ada@example.com"));
        assert!(a.starts_with("email-") && !a.contains("example"));
        assert_eq!(order_customer(&json!({})), None);
    }
}
