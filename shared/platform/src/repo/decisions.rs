//! Routing decisions: written once per order (a redelivered message finds it and changes nothing), with every
//! candidate, its score components and why the winner won.

use jiff::Timestamp;
use lastmile_core::routing::Choice;
use lastmile_core::routing::split::{Allocation, Units};
use serde::{Deserialize, Serialize};

use super::{Record, Versioned};
use crate::ports::table::{Key, StoreError, TenantTable};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub order_id: String,
    pub decided_at: Timestamp,
    /// The currency costs are compared in (the order's).
    pub currency: String,
    /// The destination as the address engine read it: verdict and corrections.
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
