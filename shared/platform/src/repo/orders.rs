//! Orders as the router knows them: the order as received, its status, and the last routing attempt's note.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// The order as the shop or the OMS sent it is personal: it is kept in the order's personal item, and the order
/// record keeps only what routing and aggregates need ([`crate::privacy::order::non_personal`]). Kept long enough
/// to route, ship, answer the seller's questions and handle a claim.
pub const PERSONAL: Declaration = Declaration {
    kind: "order",
    record: "orders",
    fields: &[
        "/customer",
        "/email",
        "/contact_email",
        "/phone",
        "/shipping_address",
        "/billing_address",
        "/note",
        "/note_attributes",
        "/client_details",
        "/browser_ip",
        "/line_items/*/properties",
    ],
    purpose: "routing and shipping the order; the seller's questions and claims about it",
    retention_days: 180,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Taken in, not yet routed.
    Received,
    /// No shipping address, or one the address engine finds undeliverable: waits for an update.
    NeedsAddress,
    /// Every line that could carry it is full today, or no stock: the sweep job tries again.
    Held,
    Routed,
    /// No line serves it (excluded, disabled, or none quotes it): needs the seller.
    Unroutable,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::NeedsAddress => "needs_address",
            OrderStatus::Held => "held",
            OrderStatus::Routed => "routed",
            OrderStatus::Unroutable => "unroutable",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub id: String,
    pub status: OrderStatus,
    /// The event that last changed it (`orders/create`, `api/orders` …) and its id.
    pub topic: String,
    pub event_id: String,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
    /// The order as the shop or the OMS sent it.
    pub order: Value,
    /// Why it is not routed, in words, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn key(id: &str) -> Key {
    Key::new(format!("order#{id}"), "order")
}

impl Record for OrderRecord {
    fn key(&self) -> Key {
        key(&self.id)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        vec![(
            "gsi1",
            Key::new(format!("orders-by-status#{}", self.status.as_str()), format!("{}#{}", self.received_at, self.id)),
        )]
    }
}

pub async fn get(table: &TenantTable<'_>, id: &str) -> Result<Option<Versioned<OrderRecord>>, StoreError> {
    super::load(table, &key(id)).await
}

/// Orders in `status`, oldest first, at most `limit`.
pub async fn with_status(
    table: &TenantTable<'_>,
    status: OrderStatus,
    limit: usize,
) -> Result<Vec<Versioned<OrderRecord>>, StoreError> {
    let query = Query::index("gsi1", format!("orders-by-status#{}", status.as_str())).limit(limit.min(100));
    let mut orders = query_all(table, query, limit).await?;
    orders.truncate(limit);
    Ok(orders)
}
