//! Buyers sending parcels back: a share of the delivered parcels comes back a few days after delivery, asked for
//! through the returns API as a shop's return portal asks (one item, a reason, the portal's idempotency key), and
//! is inspected when it reaches the warehouse about a week later.

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde_json::{Value, json};

use super::{Outcome, Scenario, Story};
use lastmile_core::tracking::Status;

/// Share of delivered parcels whose buyer asks to send one item back.
pub const RETURN_SHARE: f64 = 0.06;

/// The reasons buyers give, as the returns API names them, with their weights.
const REASONS: [(&str, u32); 6] = [
    ("wrong_size", 35),
    ("changed_mind", 25),
    ("not_as_described", 15),
    ("defective", 10),
    ("arrived_damaged", 8),
    ("wrong_item", 7),
];

/// What the warehouse finds when the parcel is opened, with their weights.
const FINDINGS: [(&str, u32); 3] = [("ok", 80), ("damaged", 12), ("missing_parts", 8)];

/// One return a buyer will ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnPlan {
    pub requested_at: Timestamp,
    /// The body of `POST /v1/returns`.
    pub request: Value,
    pub inspected_at: Timestamp,
    /// The body of `POST /v1/returns/{rma}/inspection`.
    pub inspection: Value,
}

/// The return of `story`'s parcel, if its buyer sends one back: drawn from the parcel's own random stream, so the
/// same whatever else the run draws.
pub fn plan(scenario: &Scenario, story: &Story, order: &Value) -> Option<ReturnPlan> {
    if story.outcome != Outcome::Delivered {
        return None;
    }
    let delivered = story.events.iter().rev().find(|e| e.status == Status::Delivered)?.at;
    let items = order["line_items"].as_array().filter(|items| !items.is_empty())?;
    let mut rng = scenario.return_rng(&story.shipment_id);
    if rng.random::<f64>() >= RETURN_SHARE {
        return None;
    }
    let item = &items[rng.random_range(0..items.len())];
    let reason = weighted(&REASONS, &mut rng);
    let requested_at = delivered.checked_add(SignedDuration::from_hours(rng.random_range(2 * 24..12 * 24))).ok()?;
    let inspected_at = requested_at.checked_add(SignedDuration::from_hours(rng.random_range(5 * 24..9 * 24))).ok()?;
    let request = json!({
        "order_id": order["id"],
        "client_key": format!("portal-{}", story.shipment_id),
        "items": [{"sku": item["sku"], "quantity": 1, "reason": reason, "photos": []}],
    });
    let inspection = json!({ "finding": weighted(&FINDINGS, &mut rng) });
    Some(ReturnPlan { requested_at, request, inspected_at, inspection })
}

fn weighted(choices: &[(&'static str, u32)], rng: &mut impl Rng) -> &'static str {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut draw = rng.random_range(0..total);
    for (choice, weight) in choices {
        if draw < *weight {
            return choice;
        }
        draw -= weight;
    }
    choices[choices.len() - 1].0
}
