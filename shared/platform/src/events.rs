//! Messages between functions: what ingest puts on the orders queue and the router takes off it, and on the
//! tracking queue for the tracking consumer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The message the router receives for each order event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub tenant: String,
    /// A webhook topic, `api/orders` for the orders API, or `sweep/held` when the sweep job tries a held order
    /// again.
    pub topic: String,
    /// Shopify's event id, or `order:<id>` for the orders API.
    pub event_id: String,
    pub order_id: String,
    /// No shipping address: the router parks the order as `needs_address` instead of routing it.
    pub needs_address: bool,
    pub received_at: jiff::Timestamp,
    /// The order as the shop or the OMS sent it.
    pub order: Value,
}

/// What ingest puts on the tracking queue: one carrier's events of one tracking number, as its adapter mapped
/// them (a long journey may come in several). A batch without events says a POD file arrived for the number, so
/// the consumer resolves the delivered event's file names again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingBatch {
    pub tenant: String,
    pub carrier: String,
    pub tracking_number: String,
    /// The webhook delivery it came in (the content hash ingest deduplicates on), for tracing.
    pub delivery: String,
    pub received_at: jiff::Timestamp,
    #[serde(default)]
    pub events: Vec<lastmile_core::tracking::TrackingEvent>,
}
