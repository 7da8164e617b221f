//! The ingest routes over the embedded table and queue: signed webhooks queued once, redeliveries answered as
//! duplicates, every malformed request a 4xx JSON error that queues nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::shopify::webhook::sign_webhook;
use lastmile_fn_ingest::{Ingest, OrderEvent};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::SystemClock;
use lastmile_platform::ports::queue::Queue;
use lastmile_platform::ports::table::{Condition, Item, Key, TenantTable};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "shpss_test_secret";

struct Setup {
    ingest: Arc<Ingest>,
    queue: EmbeddedQueue,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-ingest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    registry.put_tenant(TenantConfig::sample("acme")).await.unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(SystemClock);
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let queue = EmbeddedQueue::open(db, "orders", QueueOptions::default(), clock).unwrap();
    let ingest = Arc::new(Ingest {
        registry,
        table,
        orders: Arc::new(queue.clone()),
        shopify_secrets: vec!["old-secret".into(), SECRET.into()],
    });
    Setup { ingest, queue, dir }
}

fn app(setup: &Setup) -> Router {
    let context = TenantContext { tenant: Arc::new(TenantConfig::sample("acme")), key_id: "test".into() };
    lastmile_fn_ingest::webhook_router(setup.ingest.clone())
        .merge(lastmile_fn_ingest::orders_api(setup.ingest.clone()).layer(axum::Extension(context)))
}

fn order(id: u64) -> Value {
    json!({"id": id, "name": format!("#{id}"), "currency": "USD",
        "shipping_address": {"address1": "1 Main St", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"},
        "line_items": [{"sku": "CHAIR-1", "quantity": 1, "grams": 12000, "price": "120.00"}]})
}

async fn webhook(setup: &Setup, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let mut request = axum::http::Request::post("/webhooks/shopify").header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app(setup).oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn signed(setup: &Setup, topic: &str, event: &str, body: &str) -> (u16, Value) {
    let signature = sign_webhook(body.as_bytes(), SECRET.as_bytes());
    webhook(
        setup,
        &[
            ("x-shopify-hmac-sha256", &signature),
            ("x-shopify-topic", topic),
            ("x-shopify-event-id", event),
            ("x-shopify-shop-domain", "acme-demo.myshopify.com"),
        ],
        body,
    )
    .await
}

async fn queued(queue: &EmbeddedQueue) -> Vec<OrderEvent> {
    let mut events = Vec::new();
    loop {
        let batch = queue.receive(10, Duration::from_secs(60)).await.unwrap();
        if batch.is_empty() {
            return events;
        }
        events.extend(batch.iter().map(|m| serde_json::from_str(&m.body).unwrap()));
    }
}

#[tokio::test]
async fn a_signed_order_is_queued_once_however_often_it_is_delivered() {
    let setup = setup("once").await;
    let body = order(820982911946154508).to_string();
    let (status, answer) = signed(&setup, "orders/create", "evt-1", &body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let (status, answer) = signed(&setup, "orders/create", "evt-1", &body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("duplicate")), "{answer}");
    let events = queued(&setup.queue).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tenant, "acme");
    assert_eq!(events[0].order_id, "820982911946154508");
    assert_eq!(events[0].topic, "orders/create");
    assert!(!events[0].needs_address);
    // An update of the same order is another event.
    let (_, answer) = signed(&setup, "orders/updated", "evt-2", &body).await;
    assert_eq!(answer["status"], "queued");
}

#[tokio::test]
async fn bad_webhooks_are_refused_and_queue_nothing() {
    let setup = setup("bad").await;
    let body = order(1).to_string();
    let good = sign_webhook(body.as_bytes(), SECRET.as_bytes());
    let forged = sign_webhook(body.as_bytes(), b"not the secret");
    let base = |signature: &'static str| {
        vec![
            ("x-shopify-hmac-sha256", signature),
            ("x-shopify-topic", "orders/create"),
            ("x-shopify-event-id", "evt-9"),
            ("x-shopify-shop-domain", "acme-demo.myshopify.com"),
        ]
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (status, answer) = webhook(&setup, &base(leak(forged)), &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("bad_signature")));
    let (status, _) = webhook(&setup, &base(leak(good.clone()))[1..], &body).await;
    assert_eq!(status, 401);
    // Signed, but a body changed on the way.
    let (status, _) = webhook(&setup, &base(leak(good.clone())), &order(2).to_string()).await;
    assert_eq!(status, 401);
    let (status, answer) = signed(&setup, "products/update", "evt-10", &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("unsupported_topic")));
    let (status, answer) = signed(&setup, "orders/create", "evt-11", "{\"id\": 1,").await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = signed(&setup, "orders/create", "evt-12", "{\"name\": \"#1\"}").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("missing_order_id")));
    let mut headers = base(leak(good));
    headers[3] = ("x-shopify-shop-domain", "someone-else.myshopify.com");
    let (status, answer) = webhook(&setup, &headers, &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("unknown_shop")));
    let huge = format!("{{\"id\":1,\"note\":\"{}\"}}", "x".repeat(lastmile_fn_ingest::MAX_ORDER_BODY_BYTES));
    let (status, _) = signed(&setup, "orders/create", "evt-13", &huge).await;
    assert_eq!(status, 413);
    assert!(queued(&setup.queue).await.is_empty());
}

#[tokio::test]
async fn an_order_without_a_shipping_address_is_queued_as_needing_one() {
    let setup = setup("no-address").await;
    let mut body = order(7);
    body["shipping_address"] = Value::Null;
    let (_, answer) = signed(&setup, "orders/create", "evt-7", &body.to_string()).await;
    assert_eq!(answer["needs_address"], true);
    assert!(queued(&setup.queue).await[0].needs_address);
}

#[tokio::test]
async fn an_event_marked_pending_by_an_interrupted_delivery_is_sent_again() {
    let setup = setup("pending").await;
    // A first delivery marked the event and stopped before sending it.
    let table = TenantTable::new(&*setup.ingest.table, "acme");
    let mut attributes = serde_json::Map::new();
    attributes.insert("status".into(), json!("pending"));
    table.put(Item::new(Key::new("webhook-event", "evt-5"), attributes), Condition::NotExists).await.unwrap();
    let (_, answer) = signed(&setup, "orders/create", "evt-5", &order(5).to_string()).await;
    assert_eq!(answer["status"], "queued");
    assert_eq!(queued(&setup.queue).await.len(), 1);
    let (_, answer) = signed(&setup, "orders/create", "evt-5", &order(5).to_string()).await;
    assert_eq!(answer["status"], "duplicate");
}

#[tokio::test]
async fn the_orders_api_is_idempotent_on_the_order_id() {
    let setup = setup("api").await;
    let post = |body: String| {
        let app = app(&setup);
        async move {
            let request = axum::http::Request::post("/v1/orders")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let body = json!({"id": "SO-1001", "shipping_address": {"country_code": "US", "zip": "07001"}}).to_string();
    assert_eq!(post(body.clone()).await.1["status"], "queued");
    assert_eq!(post(body).await.1["status"], "duplicate");
    let (status, answer) = post("[1, 2]".into()).await;
    assert_eq!(status, 422, "{answer}");
    let events = queued(&setup.queue).await;
    assert_eq!((events.len(), events[0].event_id.as_str()), (1, "order:SO-1001"));
}

#[tokio::test]
async fn a_disabled_tenants_shop_gets_nothing_taken_in_until_enabled_again() {
    let setup = setup("disabled").await;
    setup.ingest.registry.set_enabled("acme", false).await.unwrap();
    let body = order(7).to_string();
    let (status, answer) = signed(&setup, "orders/create", "evt-disabled", &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("tenant_disabled")), "{answer}");
    assert!(queued(&setup.queue).await.is_empty());
    setup.ingest.registry.set_enabled("acme", true).await.unwrap();
    let (status, answer) = signed(&setup, "orders/create", "evt-disabled", &body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
}
