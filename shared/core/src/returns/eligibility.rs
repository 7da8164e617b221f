//! Whether an order's items may come back: within the window from delivery, not of a non-returnable category,
//! and no more than was bought less what already came back. Every refusal names its field, as a 422.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::policy::{Condition, Policy};
use crate::contract::ApiError;

/// One line of the order, as sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub sku: String,
    pub category: String,
    pub quantity: u32,
    /// Unit price in the order's currency.
    pub unit_price: i64,
}

/// Why the buyer sends an item back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ChangedMind,
    WrongSize,
    NotAsDescribed,
    Defective,
    ArrivedDamaged,
    WrongItem,
}

impl ReasonCode {
    /// The condition to expect before inspection.
    pub fn expected_condition(self) -> Condition {
        match self {
            ReasonCode::ChangedMind | ReasonCode::WrongSize | ReasonCode::WrongItem => Condition::New,
            ReasonCode::NotAsDescribed => Condition::Opened,
            ReasonCode::Defective => Condition::Defective,
            ReasonCode::ArrivedDamaged => Condition::Damaged,
        }
    }
}

/// One item asked to come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedItem {
    pub sku: String,
    pub quantity: u32,
    pub reason: ReasonCode,
    /// Photos, as references to stored blobs.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// Checks `requested` against the order, the policy and `already_returned` (quantity by SKU) on `today`.
pub fn check(
    policy: &Policy,
    order: &[OrderItem],
    delivered_on: Date,
    already_returned: &BTreeMap<String, u32>,
    requested: &[RequestedItem],
    today: Date,
) -> Result<(), Vec<ApiError>> {
    let mut refusals = Vec::new();
    let refuse =
        |code: &'static str, field: String, message: String| ApiError::new(422, code, message).with_field(field);
    let days = (today - delivered_on).get_days();
    if days > policy.window_days as i32 {
        refusals.push(refuse(
            "return_window_closed",
            "delivered_on".into(),
            format!("delivered {delivered_on}, {days} days ago: the return window is {} days", policy.window_days),
        ));
    }
    if requested.is_empty() {
        refusals.push(refuse("no_items", "items".into(), "a return needs at least one item".into()));
    }
    for (i, item) in requested.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let Some(sold) = order.iter().find(|o| o.sku == item.sku) else {
            refusals.push(refuse("not_in_order", field("sku"), format!("{} is not in the order", item.sku)));
            continue;
        };
        if policy.non_returnable_categories.contains(&sold.category) {
            refusals.push(refuse(
                "not_returnable",
                field("sku"),
                format!("{} is a {} item, which cannot be returned", item.sku, sold.category),
            ));
        }
        // The same SKU on two lines of the request counts once against what is left.
        let asked: u32 = requested.iter().filter(|r| r.sku == item.sku).map(|r| r.quantity).sum();
        let returned = already_returned.get(&item.sku).copied().unwrap_or(0);
        let left = sold.quantity.saturating_sub(returned);
        if item.quantity == 0 || asked > left {
            refusals.push(refuse(
                "quantity_not_returnable",
                field("quantity"),
                format!("{asked} of {} asked back: {} bought, {returned} already returned", item.sku, sold.quantity),
            ));
        }
    }
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}
