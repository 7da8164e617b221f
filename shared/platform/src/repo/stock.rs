//! Stock per warehouse and SKU: what the router allocates from and decrements in the same transaction as its
//! decision, so stock is never promised twice.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Record, Versioned};
use crate::ports::table::{Key, StoreError, TenantTable};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRecord {
    pub warehouse: String,
    pub sku: String,
    pub available: i64,
    pub updated_at: Timestamp,
}

pub fn key(warehouse: &str, sku: &str) -> Key {
    Key::new(format!("stock#{warehouse}"), sku)
}

impl Record for StockRecord {
    fn key(&self) -> Key {
        key(&self.warehouse, &self.sku)
    }
}

pub async fn get(
    table: &TenantTable<'_>,
    warehouse: &str,
    sku: &str,
) -> Result<Option<Versioned<StockRecord>>, StoreError> {
    super::load(table, &key(warehouse, sku)).await
}
