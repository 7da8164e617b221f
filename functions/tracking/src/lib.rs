//! Tracking on the platform. A shipment gets its carrier and tracking number through the API (and the shop's
//! fulfillment is made, so Shopify tells the buyer); carrier events, taken in and checked by ingest, come off the
//! tracking queue one batch per tracking number and are applied to the shipment's journey; POD files are archived
//! with their SHA-256 and resolved by the delivered event's names; the dispute pack gathers the evidence.
//!
//! - [`api`]: `POST /v1/shipments/{id}/tracking`, `GET /v1/shipments/{id}/evidence`.
//! - [`evidence`]: the dispute pack and `GET /pod-files/{*key}`, the signed POD links of `lastmile dev`.
//! - [`consumer`]: the tracking queue's consumer.
//! - [`fulfillment`]: the shop's fulfillment, as a port.
//! - [`labels`]: shipping labels bought from the carrier, as a port (no carrier connected yet).
//! - [`destination`]: where the parcel should arrive, from the router's decision.

pub mod api;
pub mod consumer;
pub mod destination;
pub mod evidence;
pub mod fulfillment;
pub mod labels;
#[cfg(feature = "lambda")]
pub mod lambda;

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

/// Handles a batch of tracking-queue messages `(id, body)`; answers the ids of those that failed, for SQS's
/// partial batch response (only they come back; a poison message ends in the dead-letter queue after its
/// retries and never holds up the rest).
pub async fn handle_batch(tracking: &Tracking, messages: &[(&str, &str)]) -> Vec<String> {
    let mut failed = Vec::new();
    for &(id, body) in messages {
        match tracking.handle(body).await {
            Ok(handled) => tracing::info!(message = id, ?handled, "tracking batch"),
            Err(e) => {
                match &e {
                    consumer::TrackError::Poison(_) => tracing::error!(message = id, error = %e, "poison message"),
                    consumer::TrackError::Retry(_) => tracing::warn!(message = id, error = %e, "will retry"),
                }
                failed.push(id.to_owned());
            }
        }
    }
    failed
}
