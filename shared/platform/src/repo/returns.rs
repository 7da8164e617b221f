//! Returns (RMAs): what comes back from an order and why, whether it may, where it goes and at what label cost,
//! what becomes of it (with the arithmetic), its label, its inspection and its way through the lifecycle. One
//! record per RMA, indexed by order (earlier returns of an order) and by status (the dashboard, and the returns
//! awaiting their parcel's scans). The quantities already taken back per order are one counter record, written
//! in the same transaction as each new return so two returns never take back more than was bought.
//!
//! The buyer's name and address and the photos are personal: they live in the return's personal item
//! ([`PERSONAL`]), never in the record.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::returns::disposition::Disposition;
use lastmile_core::returns::eligibility::ReasonCode;
use lastmile_core::returns::lifecycle::ReturnStatus;
use lastmile_core::returns::policy::Condition;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// The return's personal item: the address the parcel comes from (with the buyer's name) and the photos of the
/// items (blob references). Kept as long as a dispute over the refund may last.
pub const PERSONAL: Declaration = Declaration {
    kind: "return",
    record: "returns",
    fields: &["/buyer_address", "/photos"],
    purpose: "the return label's sender address and the evidence of the items' condition",
    retention_days: 365,
};

pub const BY_STATUS: &str = "returns-by-status";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub sku: String,
    pub quantity: u32,
    pub reason: ReasonCode,
    /// Unit price in the order's currency, minor units.
    pub unit_price: i64,
    /// How many photos the buyer sent (the references are in the personal item).
    #[serde(default)]
    pub photos: usize,
}

/// Why the return may come back: the delivery it is counted from and the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub delivered_on: Date,
    pub window_days: u32,
    /// The last day a return is taken.
    pub open_until: Date,
}

/// Where it goes and what its label costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRoute {
    pub destination: String,
    /// `warehouse` or `return_hub`.
    pub kind: String,
    pub name: String,
    pub address: Vec<String>,
    pub country: String,
    pub postcode: String,
    pub line: String,
    pub carrier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_days: Option<u8>,
    /// The rating engine's quote of the return label, with its breakdown.
    pub quote: Value,
    pub cost_minor: i64,
    pub currency: String,
    pub explanation: String,
}

/// What becomes of it, with the arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionRecord {
    pub disposition: Disposition,
    pub condition: Condition,
    pub value_minor: i64,
    pub recoverable_minor: i64,
    pub cost_minor: i64,
    pub currency: String,
    pub explanation: String,
}

/// Where the label's document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// Bought from the carrier through the label port; it carries a tracking number.
    Carrier,
    /// No carrier connected: lastmile's own 4×6 ZPL, without a carrier's number.
    Own,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLabel {
    pub source: LabelSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    pub content_type: String,
    pub blob_key: String,
    pub sha256: String,
    pub bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_minor: Option<i64>,
    pub issued_at: Timestamp,
}

/// What the inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// As the buyer said.
    Ok,
    Damaged,
    MissingParts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub finding: Finding,
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub inspected_at: Timestamp,
}

/// One step of the lifecycle and what moved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub status: ReturnStatus,
    pub at: Timestamp,
    pub cause: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub rma: String,
    pub order_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status: ReturnStatus,
    pub history: Vec<Move>,
    pub items: Vec<ReturnItem>,
    pub currency: String,
    pub eligibility: Eligibility,
    pub route: ReturnRoute,
    /// Decided on the request, from the condition the reasons state.
    pub disposition: DispositionRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<ReturnLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<Inspection>,
    /// Decided again on inspection, from the condition found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_disposition: Option<DispositionRecord>,
}

impl ReturnRecord {
    /// The id its parcel is tracked under (the tracking record's shipment id).
    pub fn parcel_id(&self) -> String {
        parcel_id(&self.rma)
    }

    /// Moves the lifecycle to `next`, recorded with its cause.
    pub fn advance(
        &mut self,
        next: ReturnStatus,
        at: Timestamp,
        cause: impl Into<String>,
    ) -> Result<(), lastmile_core::returns::lifecycle::IllegalMove> {
        self.status = lastmile_core::returns::lifecycle::advance(self.status, next)?;
        self.history.push(Move { status: next, at, cause: cause.into() });
        self.updated_at = at;
        Ok(())
    }

    /// Quantity by SKU this return takes back.
    pub fn quantities(&self) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        for item in &self.items {
            *out.entry(item.sku.clone()).or_insert(0) += item.quantity;
        }
        out
    }

    /// A complete record, for examples and tests: one pair of shoes (89.00 USD) sent back in the wrong size, 30
    /// days after delivery on 2026-11-20, to a US returns hub for 7.00 USD, to be restocked.
    pub fn sample(rma: &str, order_id: &str, status: ReturnStatus, at: Timestamp) -> Self {
        ReturnRecord {
            rma: rma.into(),
            order_id: order_id.into(),
            created_at: at,
            updated_at: at,
            status,
            history: Vec::new(),
            items: vec![ReturnItem {
                sku: "SHOE-42".into(),
                quantity: 1,
                reason: ReasonCode::WrongSize,
                unit_price: 8900,
                photos: 0,
            }],
            currency: "USD".into(),
            eligibility: Eligibility {
                delivered_on: jiff::civil::date(2026, 11, 20),
                window_days: 30,
                open_until: jiff::civil::date(2026, 12, 20),
            },
            route: ReturnRoute {
                destination: "us-east-returns".into(),
                kind: "return_hub".into(),
                name: "East Returns Hub".into(),
                address: Vec::new(),
                country: "US".into(),
                postcode: "07102".into(),
                line: "us-postal-ground".into(),
                carrier: "Example Post".into(),
                transit_days: Some(3),
                quote: Value::Null,
                cost_minor: 700,
                currency: "USD".into(),
                explanation: String::new(),
            },
            disposition: DispositionRecord {
                disposition: Disposition::Restock,
                condition: Condition::New,
                value_minor: 8900,
                recoverable_minor: 8900,
                cost_minor: 1000,
                currency: "USD".into(),
                explanation: "restock".into(),
            },
            label: None,
            inspection: None,
            final_disposition: None,
        }
    }
}

const PARCEL_PREFIX: &str = "return-";

pub fn parcel_id(rma: &str) -> String {
    format!("{PARCEL_PREFIX}{rma}")
}

/// Whether a tracked parcel is a return on its way back (whose scans are no delivery to count).
pub fn is_return_parcel(shipment_id: &str) -> bool {
    shipment_id.starts_with(PARCEL_PREFIX)
}

pub fn key(rma: &str) -> Key {
    Key::new(format!("return#{rma}"), "return")
}

impl Record for ReturnRecord {
    fn key(&self) -> Key {
        key(&self.rma)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        vec![
            (
                "gsi1",
                Key::new(format!("returns-of-order#{}", self.order_id), format!("{}#{}", self.created_at, self.rma)),
            ),
            (
                "gsi2",
                Key::new(
                    format!("{BY_STATUS}#{}", self.status.as_str()),
                    format!("{}#{}", super::tracking::time_sk(self.updated_at), self.rma),
                ),
            ),
        ]
    }
}

pub async fn get(table: &TenantTable<'_>, rma: &str) -> Result<Option<Versioned<ReturnRecord>>, StoreError> {
    super::load(table, &key(rma)).await
}

/// The returns of an order, oldest first.
pub async fn of_order(table: &TenantTable<'_>, order_id: &str, cap: usize) -> Result<Vec<ReturnRecord>, StoreError> {
    let query = Query::index("gsi1", format!("returns-of-order#{order_id}")).sk(SkRange::All);
    Ok(query_all(table, query, cap).await?.into_iter().map(|v| v.value).collect())
}

/// The returns in `status`, least recently changed first.
pub async fn with_status(
    table: &TenantTable<'_>,
    status: ReturnStatus,
    cap: usize,
) -> Result<Vec<Versioned<ReturnRecord>>, StoreError> {
    let query = Query::index("gsi2", format!("{BY_STATUS}#{}", status.as_str())).sk(SkRange::All);
    let mut found = query_all(table, query, cap).await?;
    found.truncate(cap);
    Ok(found)
}

/// The quantities of an order already taken back, by SKU.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReturnedQuantities {
    pub order_id: String,
    pub returned: BTreeMap<String, u32>,
}

pub fn returned_key(order_id: &str) -> Key {
    Key::new(format!("order#{order_id}"), "returned")
}

impl Record for ReturnedQuantities {
    fn key(&self) -> Key {
        returned_key(&self.order_id)
    }
}

pub async fn returned(
    table: &TenantTable<'_>,
    order_id: &str,
) -> Result<Option<Versioned<ReturnedQuantities>>, StoreError> {
    super::load(table, &returned_key(order_id)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::repo::item;

    #[test]
    fn a_return_is_indexed_by_its_order_and_its_status() {
        let at: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
        let record = ReturnRecord::sample("RMA-0A1B2C3D4E", "1001", ReturnStatus::Approved, at);
        let stored = item(&record).unwrap();
        assert_eq!(stored.key, key("RMA-0A1B2C3D4E"));
        let indexes: Vec<(&str, String)> = stored.indexes.iter().map(|(i, k)| (i.as_str(), k.pk.clone())).collect();
        assert!(indexes.contains(&("gsi1", "returns-of-order#1001".into())), "{indexes:?}");
        assert!(indexes.contains(&("gsi2", "returns-by-status#approved".into())), "{indexes:?}");
        assert_eq!(record.quantities(), BTreeMap::from([("SHOE-42".to_owned(), 1)]));
        // Nothing personal in the record: the address and photos are in the personal item.
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("buyer_address") && !text.contains("blob/"));
    }
}
