//! Tracking on the platform. A shipment gets its carrier and tracking number through the API (and the shop's
//! fulfillment is made, so Shopify tells the buyer); carrier events, taken in and checked by ingest, come off the
//! tracking queue one batch per tracking number and are applied to the shipment's journey; POD files are archived
//! with their SHA-256 and resolved by the delivered event's names; the dispute pack gathers the evidence.
//!
//! - [`api`]: `POST /v1/shipments/{id}/tracking`, `GET /v1/shipments/{id}/evidence`.
//! - [`consumer`]: the tracking queue's consumer.
//! - [`fulfillment`]: the shop's fulfillment, as a port.
//! - [`destination`]: where the parcel should arrive, from the router's decision.

pub mod api;
pub mod consumer;
pub mod destination;
pub mod fulfillment;

use std::sync::Arc;

use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::TableStore;
use lastmile_platform::tenants::TenantRegistry;

use fulfillment::FulfillmentSync;

/// What tracking needs: the table, the POD blob store, the shop's fulfillments and the clock.
pub struct Tracking {
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub fulfillments: Arc<dyn FulfillmentSync>,
    pub clock: Arc<dyn Clock>,
}
