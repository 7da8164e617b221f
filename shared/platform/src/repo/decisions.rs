//! Routing decisions: written once per order (a redelivered message finds it and changes nothing), with every
//! candidate, its score components and why the winner won.

use jiff::Timestamp;
use lastmile_core::routing::Choice;
use lastmile_core::routing::split::{Allocation, Units};
use serde::{Deserialize, Serialize};

use super::{Record, Versioned};
use crate::ports::table::{Key, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// The destination as the address engine standardized it (lines, locality, postcode, the corrections made) is
/// personal and kept in the decision's personal item; the decision keeps the verdict, flags and country.
pub const PERSONAL: Declaration = Declaration {
    kind: "routing-address",
    record: "decisions",
    fields: &["/standardized", "/changes"],
    purpose: "showing why an order went where it went (GET /v1/orders/{id}/routing)",
    retention_days: 180,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub order_id: String,
    pub decided_at: Timestamp,
    /// The currency costs are compared in (the order's).
    pub currency: String,
    /// The destination as the address engine read it, without what is personal: verdict, flags, country and
    /// region. The standardized lines and corrections are in the decision's personal item ([`PERSONAL`]).
    #[serde(default)]
    pub address: serde_json::Value,
    pub allocation: Allocation,
    pub shipments: Vec<ShipmentDecision>,
    #[serde(default)]
    pub backordered: Vec<BackorderedUnits>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDecision {
    pub shipment_id: String,
    pub warehouse: String,
    pub units: Vec<UnitsRecord>,
    pub choice: Choice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitsRecord {
    pub sku: String,
    pub quantity: u32,
}

pub type BackorderedUnits = UnitsRecord;

impl From<&Units> for UnitsRecord {
    fn from(u: &Units) -> Self {
        UnitsRecord { sku: u.sku.clone(), quantity: u.quantity }
    }
}

/// Takes the personal parts (standardized lines, corrections) out of an address reading; answers them.
pub fn strip_personal(address: &mut serde_json::Value) -> Option<serde_json::Value> {
    let fields = address.as_object_mut()?;
    let personal: serde_json::Map<String, serde_json::Value> =
        PERSONAL_FIELDS.iter().filter_map(|f| fields.remove(*f).map(|v| ((*f).to_owned(), v))).collect();
    (!personal.is_empty()).then_some(serde_json::Value::Object(personal))
}

const PERSONAL_FIELDS: [&str; 2] = ["standardized", "changes"];

pub fn key(order_id: &str) -> Key {
    Key::new(format!("order#{order_id}"), "decision")
}

impl Record for Decision {
    fn key(&self) -> Key {
        key(&self.order_id)
    }
}

pub async fn get(table: &TenantTable<'_>, order_id: &str) -> Result<Option<Versioned<Decision>>, StoreError> {
    super::load(table, &key(order_id)).await
}

/// The ids of an order's shipments: as its routing decision names them (`{order}` or `{order}-{n}`), or the
/// order id itself when it has not been routed.
pub fn shipment_ids(order_id: &str, decision: Option<&Decision>) -> Vec<String> {
    match decision {
        Some(decision) => decision.shipments.iter().map(|s| s.shipment_id.clone()).collect(),
        None => vec![order_id.to_owned()],
    }
}
