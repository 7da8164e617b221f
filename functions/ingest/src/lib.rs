//! Orders in. `POST /webhooks/shopify` takes Shopify's order webhooks: it checks the signature, recognises a
//! redelivery by its event id with a conditional write, puts the order on the orders queue and answers at once.
//! `POST /v1/orders` does the same for any ERP or OMS, with an API key, once per order id.
//!
//! A write that marks an event as seen and a send to the queue are two systems: the mark is written first as
//! `pending`, the message sent, then the mark set to `queued`. A redelivery finding `queued` is answered as a
//! duplicate; one finding `pending` (the first attempt failed between the two) sends again, so an order is never
//! lost, and the router, which keys its work on the order, does it once.
//!
//! Carrier events and POD files come in through [`carriers`].

pub mod carriers;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use lastmile_core::contract::{self, ApiError};
pub use lastmile_platform::events::OrderEvent;
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::queue::{MAX_BODY_BYTES, Queue};
use lastmile_platform::ports::table::{Condition, Item, Key, StoreError, TableStore, TenantTable};
use lastmile_platform::shopify_webhook;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Largest order body: what still fits an SQS message with its envelope.
pub const MAX_ORDER_BODY_BYTES: usize = MAX_BODY_BYTES - 4 * 1024;

/// How long a seen event id is remembered: Shopify retries a failed delivery for 48 hours.
const DEDUP_SECONDS: i64 = 7 * 24 * 60 * 60;

/// The webhook topics lastmile takes.
pub const TOPICS: [&str; 3] = ["orders/create", "orders/updated", "orders/cancelled"];

/// What the ingest routes need.
pub struct Ingest {
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    pub orders: Arc<dyn Queue>,
    /// The Shopify app's client secrets: two during a rotation.
    pub shopify_secrets: Vec<String>,
}

/// The whole function on its own (as Lambda runs it): the Shopify and carrier webhooks (signed), the orders API
/// and the POD upload behind API-key resolution, JSON 404/405 and correlation ids.
pub fn app(ingest: Arc<Ingest>, carriers: Arc<carriers::CarrierIngest>) -> Router {
    use lastmile_platform::http;
    let registry = ingest.registry.clone();
    let keyed = orders_api(ingest.clone()).merge(carriers::pod_api(carriers.clone()));
    webhook_router(ingest)
        .merge(carriers::webhook_router(carriers))
        .merge(keyed.route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant)))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The ingest routes: the webhook (signed, no API key) and the orders API (behind the API-key layer the caller
/// adds to [`orders_api`]).
pub fn webhook_router<S: Clone + Send + Sync + 'static>(ingest: Arc<Ingest>) -> Router<S> {
    Router::new().route("/webhooks/shopify", post(shopify_webhook)).with_state(ingest)
}

/// `POST /v1/orders`; expects a [`TenantContext`] extension.
pub fn orders_api<S: Clone + Send + Sync + 'static>(ingest: Arc<Ingest>) -> Router<S> {
    Router::new().route("/v1/orders", post(api_order)).with_state(ingest)
}

#[derive(Debug, Serialize)]
struct Accepted {
    /// `queued`, or `duplicate` for a redelivery.
    status: &'static str,
    event_id: String,
    order_id: String,
    needs_address: bool,
}

async fn shopify_webhook(State(ingest): State<Arc<Ingest>>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_ORDER_BODY_BYTES).await?;
        let secrets: Vec<&[u8]> = ingest.shopify_secrets.iter().map(|s| s.as_bytes()).collect();
        let delivery = shopify_webhook::check(&parts.headers, &bytes, &secrets, &TOPICS)?;
        let (topic, shop, event_id) = (delivery.topic, delivery.shop, delivery.event()?);
        ingest.registry.refresh().await;
        let tenant = ingest
            .registry
            .tenant_by_shop(shop)
            .ok_or_else(|| ApiError::new(404, "unknown_shop", format!("no tenant for the shop {shop}")))?;
        if !tenant.enabled {
            return Err(ApiError::new(403, "tenant_disabled", format!("the shop {shop} uninstalled the app")));
        }
        let order: Value = contract::parse_json_body(&bytes, MAX_ORDER_BODY_BYTES)?;
        accept(&ingest, &tenant.id, topic, event_id, order).await
    }
    .await;
    respond(outcome)
}

async fn api_order(
    State(ingest): State<Arc<Ingest>>,
    Extension(tenant): Extension<TenantContext>,
    request: Request,
) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_ORDER_BODY_BYTES).await?;
        let order: Value = contract::parse_json_body(&bytes, MAX_ORDER_BODY_BYTES)?;
        let id = order_id(&order)?;
        accept(&ingest, &tenant.tenant.id, "api/orders", &format!("order:{id}"), order).await
    }
    .await;
    respond(outcome)
}

fn respond(outcome: Result<Accepted, ApiError>) -> Response {
    match outcome {
        Ok(accepted) => {
            tracing::info!(status = accepted.status, needs_address = accepted.needs_address, "order event");
            Json(accepted).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// The order's id: a number (Shopify) or a non-empty string (an OMS).
fn order_id(order: &Value) -> Result<String, ApiError> {
    let id = match order.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => s.trim().to_owned(),
        _ => return Err(ApiError::new(422, "missing_order_id", "the order needs an `id`").with_field("id")),
    };
    Ok(id)
}

fn backend(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store");
    ApiError::new(503, "store_unavailable", "the order store did not answer; retry")
}

/// Marks the event as seen, queues it, and marks it queued; a redelivery of a queued event is a duplicate.
async fn accept(
    ingest: &Ingest,
    tenant: &str,
    topic: &str,
    event_id: &str,
    order: Value,
) -> Result<Accepted, ApiError> {
    if !order.is_object() {
        return Err(ApiError::new(422, "invalid_order", "the order must be a JSON object"));
    }
    let order_id = order_id(&order)?;
    let needs_address = order.get("shipping_address").is_none_or(Value::is_null);
    let table = TenantTable::new(&*ingest.table, tenant);
    let key = Key::new("webhook-event", event_id);
    let now = jiff::Timestamp::now();
    let mark = |status: &str| {
        let mut attributes = Map::new();
        attributes.insert("status".into(), json!(status));
        attributes.insert("order_id".into(), json!(order_id));
        Item::new(key.clone(), attributes).expiring_at(now.as_second() + DEDUP_SECONDS)
    };
    let accepted =
        |status| Accepted { status, event_id: event_id.to_owned(), order_id: order_id.clone(), needs_address };
    let version = match table.put(mark("pending"), Condition::NotExists).await {
        Ok(version) => version,
        Err(StoreError::ConditionFailed) => {
            let seen = table.get(&key).await.map_err(backend)?;
            match seen {
                Some(item) if item.attributes.get("status") == Some(&json!("queued")) => {
                    return Ok(accepted("duplicate"));
                }
                // Pending: the first delivery stopped between the mark and the send. Send again.
                Some(item) => item.version,
                None => return Err(ApiError::new(409, "retry", "the event is being taken in; retry")),
            }
        }
        Err(e) => return Err(backend(e)),
    };
    let event = OrderEvent {
        tenant: tenant.to_owned(),
        topic: topic.to_owned(),
        event_id: event_id.to_owned(),
        order_id: order_id.clone(),
        needs_address,
        received_at: now,
        order,
    };
    let body = serde_json::to_string(&event).map_err(|e| ApiError::new(422, "invalid_order", e.to_string()))?;
    ingest.orders.send(&body).await.map_err(|e| {
        tracing::error!(error = %e, "orders queue");
        ApiError::new(503, "queue_unavailable", "the orders queue did not answer; retry")
    })?;
    // The send happened: a failure to record it only means a redelivery sends once more.
    if let Err(e) = table.put(mark("queued"), Condition::Version(version)).await {
        tracing::warn!(error = %e, "event queued but not marked");
    }
    Ok(accepted("queued"))
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let responses = |extra: Value| {
        let mut r = json!({
            "200": {"description": "Queued, or a duplicate of an event already queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderAccepted"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "413": {"$ref": "#/components/responses/PayloadTooLarge"},
            "422": {"$ref": "#/components/responses/Unprocessable"}
        });
        if let (Some(r), Value::Object(extra)) = (r.as_object_mut(), extra) {
            r.extend(extra);
        }
        r
    };
    vec![
        RouteDoc {
            method: "post",
            path: "/webhooks/shopify",
            authenticated: false,
            operation: json!({
                "operationId": "shopifyWebhook",
                "summary": "Shopify order webhooks (orders/create, orders/updated, orders/cancelled)",
                "description": format!("Signed with the app's secret in X-Shopify-Hmac-Sha256 (401 otherwise); deduplicated on X-Shopify-Event-Id (or X-Shopify-Webhook-Id); the shop from X-Shopify-Shop-Domain. Body at most {MAX_ORDER_BODY_BYTES} bytes."),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": responses(json!({"404": {"description": "No tenant for the shop", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}))
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/orders",
            authenticated: true,
            operation: json!({
                "operationId": "createOrder",
                "summary": "An order from an ERP or OMS, routed like a Shopify order",
                "description": "The body is the order (Shopify's order shape: `id`, `line_items`, `shipping_address` …); idempotent on `id`.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["id"]}}}},
                "responses": responses(json!({}))
            }),
        },
    ]
}
