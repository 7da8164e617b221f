//! Returns: eligibility against the policy as data (`shared/data/returns/policy.toml`), the RMA number of a
//! request (the same for a retried request), the destination by reverse-line cost and transit, disposition by
//! recoverable value against the cost of bringing the item back, the lifecycle moved by tracking events, and the
//! 4×6 ZPL return label. Rules in `docs/returns.md`.

pub mod destination;
pub mod disposition;
pub mod eligibility;
pub mod label;
pub mod lifecycle;
pub mod policy;

use sha2::{Digest, Sha256};

/// The RMA number of a shop's return request: derived from the client's idempotency key, so a retried request
/// gets the same number and finds the return it already created.
pub fn rma_number(shop: &str, client_key: &str) -> String {
    let digest = Sha256::digest(format!("{shop}\u{1f}{client_key}").as_bytes());
    format!("RMA-{}", hex::encode_upper(&digest[..5]))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::civil::date;

    use super::eligibility::{OrderItem, ReasonCode, RequestedItem, check};
    use super::policy::{BUILTIN, Policy};
    use super::*;

    fn order() -> Vec<OrderItem> {
        vec![
            OrderItem { sku: "SHOE-42".into(), category: "footwear".into(), quantity: 2, unit_price: 8900 },
            OrderItem { sku: "GIFT-25".into(), category: "gift_card".into(), quantity: 1, unit_price: 2500 },
        ]
    }

    fn item(sku: &str, quantity: u32) -> RequestedItem {
        RequestedItem { sku: sku.into(), quantity, reason: ReasonCode::WrongSize, photos: vec!["blob/ph1".into()] }
    }

    #[test]
    fn the_rma_number_is_the_same_for_a_retried_request() {
        assert_eq!(rma_number("shop-1", "key-9"), rma_number("shop-1", "key-9"));
        assert_ne!(rma_number("shop-1", "key-9"), rma_number("shop-2", "key-9"));
        assert_eq!(rma_number("shop-1", "key-9").len(), "RMA-".len() + 10);
    }

    #[test]
    fn the_window_counts_calendar_days_from_delivery() {
        let none = BTreeMap::new();
        // Delivered Nov 2; Dec 2 is day 30: still open. Dec 3 is day 31: closed.
        assert!(
            check(
                Policy::builtin().unwrap(),
                &order(),
                date(2026, 11, 2),
                &none,
                &[item("SHOE-42", 1)],
                date(2026, 12, 2)
            )
            .is_ok()
        );
        let late = check(
            Policy::builtin().unwrap(),
            &order(),
            date(2026, 11, 2),
            &none,
            &[item("SHOE-42", 1)],
            date(2026, 12, 3),
        );
        let refusals = late.unwrap_err();
        assert_eq!(
            (refusals[0].status, refusals[0].code, refusals[0].field.as_deref()),
            (422, "return_window_closed", Some("delivered_on"))
        );
        // The window is data.
        let longer = Policy::from_toml(&BUILTIN.replace("window_days = 30", "window_days = 31")).unwrap();
        assert!(check(&longer, &order(), date(2026, 11, 2), &none, &[item("SHOE-42", 1)], date(2026, 12, 3)).is_ok());
    }

    #[test]
    fn categories_and_quantities_already_returned_are_refused_by_field() {
        let returned = BTreeMap::from([("SHOE-42".to_owned(), 1)]);
        let today = date(2026, 11, 10);
        let refusals = check(
            Policy::builtin().unwrap(),
            &order(),
            date(2026, 11, 2),
            &returned,
            &[item("SHOE-42", 2), item("GIFT-25", 1), item("HAT-1", 1)],
            today,
        )
        .unwrap_err();
        let fields: Vec<(&str, Option<&str>)> = refusals.iter().map(|r| (r.code, r.field.as_deref())).collect();
        assert_eq!(
            fields,
            [
                ("quantity_not_returnable", Some("items[0].quantity")),
                ("not_returnable", Some("items[1].sku")),
                ("not_in_order", Some("items[2].sku")),
            ]
        );
        // Two bought, one back already: one more may come.
        assert!(
            check(Policy::builtin().unwrap(), &order(), date(2026, 11, 2), &returned, &[item("SHOE-42", 1)], today)
                .is_ok()
        );
    }
}
