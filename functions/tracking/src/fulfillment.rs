//! The shop's side of tracking, as a port: when a shipment gets its tracking number the order's fulfillment is
//! made with carrier, number and link (Shopify notifies the buyer), a hand-over points it at the new number, and
//! a delivery marks it delivered. [`ShopifyFulfillments`] does it through the Admin GraphQL API with the token
//! the Shopify app keeps sealed in the tenant's installation record; a tenant without an active installation
//! (an OMS seller, a shop that uninstalled the app) has nothing to update, and the calls do nothing.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use lastmile_fn_shopify::{AdminFactory, installation};
use lastmile_platform::ports::table::{TableStore, TenantTable};
use lastmile_platform::sealed::Sealer;
pub use lastmile_platform::shopify_admin::TrackingInfo;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The shop or the store did not answer; a later attempt may work.
    #[error("the shop did not answer: {0}")]
    Unavailable(String),
    /// The shop said no (the order is gone, nothing left to fulfill …).
    #[error("the shop refused: {0}")]
    Refused(String),
}

#[async_trait]
pub trait FulfillmentSync: Send + Sync {
    /// Fulfills the order with `tracking`; answers the fulfillment's id, or `None` when the tenant has no shop.
    async fn tracking_assigned(
        &self,
        tenant: &str,
        order_id: &str,
        tracking: &TrackingInfo,
    ) -> Result<Option<String>, SyncError>;

    /// The parcel passed to another carrier under a new number.
    async fn tracking_changed(
        &self,
        tenant: &str,
        fulfillment_id: &str,
        tracking: &TrackingInfo,
    ) -> Result<(), SyncError>;

    /// The parcel was delivered at `at`.
    async fn delivered(&self, tenant: &str, fulfillment_id: &str, at: Timestamp) -> Result<(), SyncError>;
}

/// No shop to tell (tests, a deployment without the Shopify app).
pub struct NoFulfillments;

#[async_trait]
impl FulfillmentSync for NoFulfillments {
    async fn tracking_assigned(&self, _: &str, _: &str, _: &TrackingInfo) -> Result<Option<String>, SyncError> {
        Ok(None)
    }
    async fn tracking_changed(&self, _: &str, _: &str, _: &TrackingInfo) -> Result<(), SyncError> {
        Ok(())
    }
    async fn delivered(&self, _: &str, _: &str, _: Timestamp) -> Result<(), SyncError> {
        Ok(())
    }
}

/// Fulfillments in the tenant's Shopify shop, with the installation's sealed access token.
pub struct ShopifyFulfillments {
    pub table: Arc<dyn TableStore>,
    pub sealer: Arc<Sealer>,
    pub admin: AdminFactory,
}

impl ShopifyFulfillments {
    /// The shop's Admin API client, or `None` when the tenant has no active installation.
    async fn client(&self, tenant: &str) -> Result<Option<lastmile_platform::shopify_admin::AdminClient>, SyncError> {
        let table = TenantTable::new(&*self.table, tenant);
        let found = installation::get(&table).await.map_err(|e| SyncError::Unavailable(e.to_string()))?;
        let Some(found) = found.map(|f| f.value).filter(|i| i.status == installation::Status::Active) else {
            return Ok(None);
        };
        let Some(sealed) = &found.token else { return Ok(None) };
        let token = self
            .sealer
            .open(sealed, &installation::token_owner(tenant))
            .map_err(|e| SyncError::Refused(format!("the shop's access token does not open: {e}")))?;
        let token = String::from_utf8(token).map_err(|_| SyncError::Refused("the access token is not text".into()))?;
        Ok(Some((self.admin)(&found.shop, &token)))
    }
}

fn admin_error(e: lastmile_platform::shopify_admin::AdminError) -> SyncError {
    use lastmile_platform::shopify_admin::AdminError;
    match e {
        AdminError::Refused(m) => SyncError::Refused(m),
        e => SyncError::Unavailable(e.to_string()),
    }
}

/// Runs a blocking Admin API call off the async workers.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, lastmile_platform::shopify_admin::AdminError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(call).await.map_err(|e| SyncError::Unavailable(e.to_string()))?.map_err(admin_error)
}

#[async_trait]
impl FulfillmentSync for ShopifyFulfillments {
    async fn tracking_assigned(
        &self,
        tenant: &str,
        order_id: &str,
        tracking: &TrackingInfo,
    ) -> Result<Option<String>, SyncError> {
        let Some(client) = self.client(tenant).await? else { return Ok(None) };
        let (order_id, tracking) = (order_id.to_owned(), tracking.clone());
        blocking(move || client.create_fulfillment(&order_id, &tracking)).await.map(Some)
    }

    async fn tracking_changed(
        &self,
        tenant: &str,
        fulfillment_id: &str,
        tracking: &TrackingInfo,
    ) -> Result<(), SyncError> {
        let Some(client) = self.client(tenant).await? else { return Ok(()) };
        let (id, tracking) = (fulfillment_id.to_owned(), tracking.clone());
        blocking(move || client.update_tracking(&id, &tracking)).await
    }

    async fn delivered(&self, tenant: &str, fulfillment_id: &str, at: Timestamp) -> Result<(), SyncError> {
        let Some(client) = self.client(tenant).await? else { return Ok(()) };
        let id = fulfillment_id.to_owned();
        blocking(move || client.fulfillment_event(&id, "DELIVERED", &at.to_string())).await
    }
}

/// What a carrier's tracking looks like to the buyer: its name and, when the status table has one, the link.
pub fn tracking_info(carrier: &str, tracking_number: &str) -> TrackingInfo {
    let table = lastmile_core::tracking::mapping::builtin().carrier(carrier);
    TrackingInfo {
        company: company(carrier),
        number: tracking_number.to_owned(),
        url: table.and_then(|t| t.tracking_url_of(tracking_number)),
    }
}

/// Shopify recognises some carriers by name (and then links the number itself).
fn company(carrier: &str) -> String {
    match carrier {
        "fedex" => "FedEx".to_owned(),
        "ups" => "UPS".to_owned(),
        "usps" => "USPS".to_owned(),
        "dhl" => "DHL Express".to_owned(),
        other => other.to_owned(),
    }
}
