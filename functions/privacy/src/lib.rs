//! Shopify's compliance webhooks (the `compliance_topics` subscription of the app's configuration points at
//! `POST /webhooks/shopify/compliance`): `customers/data_request` writes an export of everything stored about the
//! customer to the blob store and logs where for the shop; `customers/redact` erases the customer's personal
//! data; `shop/redact` erases everything of the tenant. The signature is checked against the app's secrets (two
//! during a rotation), the shop resolved to its tenant, and the work done once per webhook id with an audit
//! record (`lastmile_platform::privacy`). A shop lastmile does not know (uninstalled and already erased) is
//! answered 200 with an audit note: Shopify needs a 2xx, and there is nothing of it to export or erase.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use lastmile_core::contract::{self, ApiError};
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::TableStore;
use lastmile_platform::privacy::{self, PrivacyError, TOPICS};
use lastmile_platform::shopify_webhook;
use lastmile_platform::tenants::TenantRegistry;
use serde_json::{Value, json};

/// Largest body: `customers/redact` lists the orders to redact, which stays far below this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub const PATH: &str = "/webhooks/shopify/compliance";

/// What the compliance route needs.
pub struct Compliance {
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// The Shopify app's client secrets: two during a rotation.
    pub shopify_secrets: Vec<String>,
}

/// The function on its own (as Lambda runs it), with JSON 404/405 and correlation ids.
pub fn app(compliance: Arc<Compliance>) -> Router {
    use lastmile_platform::http;
    router(compliance)
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The compliance route (signed, no API key).
pub fn router<S: Clone + Send + Sync + 'static>(compliance: Arc<Compliance>) -> Router<S> {
    Router::new().route(PATH, post(compliance_webhook)).with_state(compliance)
}

fn failed(e: PrivacyError) -> ApiError {
    match e {
        PrivacyError::Payload { .. } => ApiError::new(422, "invalid_payload", e.to_string()),
        PrivacyError::Topic(_) => ApiError::new(422, "unsupported_topic", e.to_string()).with_field("X-Shopify-Topic"),
        PrivacyError::Store(_) | PrivacyError::Blob(_) => {
            tracing::error!(error = %e, "compliance request");
            ApiError::new(503, "store_unavailable", "the store did not answer; Shopify will deliver again")
        }
    }
}

async fn compliance_webhook(State(compliance): State<Arc<Compliance>>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_BODY_BYTES).await?;
        let secrets: Vec<&[u8]> = compliance.shopify_secrets.iter().map(|s| s.as_bytes()).collect();
        let delivery = shopify_webhook::check(&parts.headers, &bytes, &secrets, &TOPICS)?;
        let (topic, shop, webhook_id) = (delivery.topic, delivery.shop, delivery.webhook()?);
        let payload: Value = contract::parse_json_body(&bytes, MAX_BODY_BYTES)?;
        compliance.registry.refresh().await;
        let tenant = compliance.registry.tenant_by_shop(shop);
        let request = privacy::Request {
            tenant: tenant.as_deref().map(|t| t.id.as_str()),
            shop_domain: shop,
            webhook_id,
            topic,
            body: &payload,
        };
        let (audit, first) =
            privacy::handle(&*compliance.table, &*compliance.blobs, &*compliance.clock, &request).await.map_err(failed)?;
        if let (privacy::SHOP_REDACT, Some(tenant)) = (topic, &tenant) {
            // The shop's data is gone: its configuration and keys go too (a redelivery finds nothing to remove).
            let removal = compliance.registry.remove_tenant(&tenant.id).await.map_err(|e| {
                tracing::error!(error = %e, "tenant registry");
                ApiError::new(503, "registry_unavailable", "the tenant registry did not answer; retry")
            })?;
            tracing::info!(tenant = %tenant.id, keys = removal.keys, kept_deployed = removal.kept_deployed, "shop/redact: tenant removed");
        }
        // Counts and keys only: the customer's id, email and phone are never logged.
        tracing::info!(
            tenant = %audit.tenant,
            topic = %audit.topic,
            request = %audit.webhook_id,
            first,
            items_erased = audit.items_erased,
            fields_masked = audit.fields_masked,
            blobs_deleted = audit.blobs_deleted,
            "compliance request"
        );
        if let (true, Some(key)) = (first, &audit.export_key) {
            tracing::info!(tenant = %audit.tenant, shop = %audit.shop_domain, request = %audit.webhook_id, blob = %key, "data request: export written");
        }
        Ok(json!({ "status": if first { "done" } else { "duplicate" }, "audit": audit }))
    }
    .await;
    match outcome {
        Ok(body) => Json(body).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    vec![RouteDoc {
        method: "post",
        path: PATH,
        authenticated: false,
        operation: json!({
            "operationId": "shopifyCompliance",
            "summary": "Shopify's compliance webhooks: customers/data_request, customers/redact, shop/redact",
            "description": format!("Signed with the app's secret in X-Shopify-Hmac-Sha256 (401 otherwise); the topic in X-Shopify-Topic; done once per X-Shopify-Webhook-Id and audited (a redelivery answers `duplicate` with the first run's audit record); the shop from X-Shopify-Shop-Domain (an unknown shop is answered 200 with an audit note). A data request writes its export to the blob store and logs its key. Body at most {MAX_BODY_BYTES} bytes. See docs/privacy.md."),
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {"description": "Done, or a duplicate of a request already done: the audit record (counts, no personal data)", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                "422": {"$ref": "#/components/responses/Unprocessable"}
            }
        }),
    }]
}
