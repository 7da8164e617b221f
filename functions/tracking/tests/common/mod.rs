//! A tenant with a routed order over the embedded store, a stand-in for Shopify's Admin GraphQL on loopback,
//! and helpers to call the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use http_body_util::BodyExt;
use jiff::Timestamp;
use lastmile_core::duty::rules::Rules;
use lastmile_fn_shopify::installation::{self, Installation};
use lastmile_fn_tracking::Tracking;
use lastmile_fn_tracking::fulfillment::{FulfillmentSync, NoFulfillments, ShopifyFulfillments};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::events::OrderEvent;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::decisions;
use lastmile_platform::sealed::Sealer;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Where the tests' signed POD links point.
pub const LINK_BASE: &str = "http://127.0.0.1:8080";

pub fn link_signer() -> lastmile_platform::embedded::links::LinkSigner {
    lastmile_platform::embedded::links::LinkSigner::new([9; 32])
}

pub const SHOP: &str = "acme-shop.myshopify.com";
pub const TOKEN: &str = "shpat_acme";

/// The stand-in's view of what the app asked.
#[derive(Default)]
pub struct Shopify {
    /// Fulfillments made: (id, order gid, tracking info).
    pub fulfillments: Mutex<Vec<(String, String, Value)>>,
    /// Tracking updates: (fulfillment id, tracking info).
    pub updates: Mutex<Vec<(String, Value)>>,
    /// Fulfillment events: (fulfillment id, status).
    pub events: Mutex<Vec<(String, String)>>,
    pub refused: Mutex<Vec<String>>,
}

async fn graphql(
    State(shopify): State<Arc<Shopify>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> axum::response::Response {
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if token != TOKEN {
        shopify.refused.lock().unwrap().push(format!("token {token:?}"));
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": "[API] Invalid API key or access token"})))
            .into_response();
    }
    let query = body["query"].as_str().unwrap_or_default();
    let vars = &body["variables"];
    let answer = if query.contains("orderFulfillments") {
        let order = vars["id"].as_str().unwrap().to_owned();
        let made = shopify.fulfillments.lock().unwrap();
        let fulfillments: Vec<Value> = made
            .iter()
            .filter(|(_, o, _)| *o == order)
            .map(|(id, _, t)| json!({"id": id, "trackingInfo": [t]}))
            .collect();
        let status = if fulfillments.is_empty() { "OPEN" } else { "CLOSED" };
        json!({"order": {"fulfillmentOrders": {"nodes": [{"id": format!("{order}/fo/1"), "status": status}]}, "fulfillments": fulfillments}})
    } else if query.contains("fulfillmentCreate(") {
        let f = &vars["fulfillment"];
        let fo = f["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderId"].as_str().unwrap_or_default();
        let order = fo.trim_end_matches("/fo/1").to_owned();
        let mut made = shopify.fulfillments.lock().unwrap();
        let id = format!("gid://shopify/Fulfillment/{}", made.len() + 1);
        made.push((id.clone(), order, f["trackingInfo"].clone()));
        json!({"fulfillmentCreate": {"fulfillment": {"id": id, "status": "SUCCESS"}, "userErrors": []}})
    } else if query.contains("fulfillmentTrackingInfoUpdate(") {
        let id = vars["fulfillmentId"].as_str().unwrap().to_owned();
        shopify.updates.lock().unwrap().push((id.clone(), vars["trackingInfoInput"].clone()));
        json!({"fulfillmentTrackingInfoUpdate": {"fulfillment": {"id": id}, "userErrors": []}})
    } else if query.contains("fulfillmentEventCreate(") {
        let e = &vars["fulfillmentEvent"];
        let id = e["fulfillmentId"].as_str().unwrap().to_owned();
        shopify.events.lock().unwrap().push((id, e["status"].as_str().unwrap().to_owned()));
        json!({"fulfillmentEventCreate": {"fulfillmentEvent": {"id": "gid://shopify/FulfillmentEvent/1", "status": e["status"]}, "userErrors": []}})
    } else {
        shopify.refused.lock().unwrap().push(format!("unknown query {query}"));
        return (StatusCode::BAD_REQUEST, Json(json!({"errors": "unknown query"}))).into_response();
    };
    Json(json!({"data": answer})).into_response()
}

pub async fn start_shopify() -> (Arc<Shopify>, String) {
    let shopify = Arc::new(Shopify::default());
    let router = Router::new().route("/admin/api/{version}/graphql.json", post(graphql)).with_state(shopify.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (shopify, url)
}

pub struct Setup {
    pub tracking: Arc<Tracking>,
    pub registry: Arc<TenantRegistry>,
    pub route: lastmile_fn_route::Router,
    pub clock: Arc<ManualClock>,
    pub shopify: Option<Arc<Shopify>>,
    pub dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Tenant `acme` (the sample seller); with `shop`, its Shopify shop has the app installed and a stand-in answers
/// its Admin API.
pub async fn setup(name: &str, shop: bool) -> Setup {
    // Friday 2026-12-04, 10:00 in New Jersey.
    setup_at(name, shop, "2026-12-04T15:00:00Z").await
}

/// [`setup`] with the clock at `start`.
pub async fn setup_at(name: &str, shop: bool, start: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-tracking-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = lastmile_platform::config::TenantConfig::sample("acme");
    acme.rating.lines = ["us-national-ground", "us-alaska-regional", "us-postal-ground"].map(str::to_owned).to_vec();
    acme.tracking.carriers.push(lastmile_platform::config::CarrierFeed {
        carrier: "fedex".into(),
        secrets: vec!["LASTMILE_TEST_FEDEX".into()],
    });
    registry.put_tenant(acme).await.unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(ManualClock::new(start.parse().unwrap()));
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let orders = EmbeddedQueue::open(db, "orders", QueueOptions::default(), clock.clone()).unwrap();
    let rules = Arc::new(Rules::builtin().unwrap().clone());
    let route = lastmile_fn_route::Router {
        registry: registry.clone(),
        table: table.clone(),
        orders: Arc::new(orders),
        rules,
        clock: clock.clone(),
    };
    let (shopify, fulfillments): (Option<Arc<Shopify>>, Arc<dyn FulfillmentSync>) = if shop {
        let (shopify, url) = start_shopify().await;
        let sealer = Arc::new(Sealer::from_secrets(&"5a".repeat(32), &[]).unwrap());
        let sealed = sealer.seal(TOKEN.as_bytes(), &installation::token_owner("acme")).unwrap();
        let record = Installation {
            shop: SHOP.into(),
            scopes: "read_orders,write_fulfillments".into(),
            token: Some(sealed),
            status: installation::Status::Active,
            installed_at: clock.now_ts(),
            uninstalled_at: None,
            carrier_service_id: None,
            webhooks: Default::default(),
        };
        installation::put(&TenantTable::new(&*table, "acme"), &record, None).await.unwrap();
        let admin = lastmile_fn_shopify::App::admin_at(Some(url));
        (Some(shopify), Arc::new(ShopifyFulfillments { table: table.clone(), sealer, admin }))
    } else {
        (None, Arc::new(NoFulfillments))
    };
    let blobs = Arc::new(FsBlobStore::new(dir.join("blobs")).with_links(link_signer(), LINK_BASE));
    let tracking = Arc::new(Tracking { registry: registry.clone(), table, blobs, fulfillments, clock: clock.clone() });
    Setup { tracking, registry, route, clock, shopify, dir }
}

trait Now {
    fn now_ts(&self) -> Timestamp;
}

impl Now for ManualClock {
    fn now_ts(&self) -> Timestamp {
        lastmile_platform::ports::clock::Clock::now(self)
    }
}

/// Routes an order to Manhattan (ZIP 10001) and answers its shipment's id.
pub async fn routed_order(s: &Setup, order_id: &str) -> String {
    let address = json!({"name": "Sam Buyer", "address1": "350 5th Ave", "city": "New York", "province_code": "NY", "zip": "10001", "country_code": "US"});
    routed_order_to(s, order_id, address).await
}

/// Routes an order to downtown Anchorage (ZIP 99501) and answers its shipment's id.
pub async fn routed_anchorage_order(s: &Setup, order_id: &str) -> String {
    let address = json!({"name": "Sam Buyer", "address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"});
    routed_order_to(s, order_id, address).await
}

pub async fn routed_order_to(s: &Setup, order_id: &str, address: Value) -> String {
    let order = json!({
        "id": order_id, "currency": "USD",
        "line_items": [{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}],
        "shipping_address": address
    });
    let event = OrderEvent {
        tenant: "acme".into(),
        topic: "orders/create".into(),
        event_id: format!("evt-{order_id}"),
        order_id: order_id.into(),
        needs_address: false,
        received_at: s.clock.now_ts(),
        order,
    };
    let outcome = s.route.handle(&serde_json::to_string(&event).unwrap()).await.unwrap();
    assert!(matches!(outcome, lastmile_fn_route::Outcome::Routed { .. }), "{outcome:?}");
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let decision = decisions::get(&table, order_id).await.unwrap().unwrap().value;
    decision.shipments[0].shipment_id.clone()
}

/// The API routes as `acme` calls them.
pub fn api(s: &Setup) -> Router {
    let context = TenantContext { tenant: s.registry.tenant("acme").unwrap(), key_id: "test".into() };
    lastmile_fn_tracking::api::router(s.tracking.clone()).layer(axum::Extension(context))
}

pub async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

pub const FEDEX: &str = include_str!("../../../../shared/core/tests/fixtures/tracking/fedex-webhook.json");
pub const PARCELNET: &str = include_str!("../../../../shared/core/tests/fixtures/tracking/parcelnet-scans.csv");

/// The fixture deliveries as the core adapters map them: FedEx's six scans of 794612345678 (the last hands the
/// parcel to parcelnet as PN00998812AK), then parcelnet's four scans of PN00998812AK (delivered with a signature
/// and a door photo).
pub fn fixture_events() -> (Vec<lastmile_core::tracking::TrackingEvent>, Vec<lastmile_core::tracking::TrackingEvent>) {
    use lastmile_core::tracking::{adapters, mapping};
    let tables = mapping::builtin();
    let fedex = adapters::scan_events_json(tables.carrier("fedex").unwrap(), FEDEX.as_bytes(), None).unwrap();
    let parcelnet: Vec<_> = adapters::scan_csv(tables.carrier("parcelnet").unwrap(), PARCELNET)
        .unwrap()
        .into_iter()
        .filter(|e| e.tracking_number == "PN00998812AK")
        .collect();
    (fedex, parcelnet)
}

/// A tracking-queue message of `events`.
pub fn batch(carrier: &str, number: &str, events: Vec<lastmile_core::tracking::TrackingEvent>) -> String {
    serde_json::to_string(&lastmile_platform::events::TrackingBatch {
        tenant: "acme".into(),
        carrier: carrier.into(),
        tracking_number: number.into(),
        delivery: "test".into(),
        received_at: "2026-11-20T23:00:00Z".parse().unwrap(),
        events,
    })
    .unwrap()
}

/// Records an uploaded POD file as ingest does (the bytes in the blob store, the record by name).
pub async fn upload_pod(s: &Setup, carrier: &str, number: &str, name: &str, bytes: &[u8]) -> String {
    use lastmile_platform::repo::tracking::{POD_PERSONAL, PodFileRecord, StoredPod};
    let sha256 = lastmile_platform::ports::blob::sha256_hex(bytes);
    let key = format!("pod/acme/{carrier}/{number}/{sha256}-{name}");
    s.tracking.blobs.put(&key, bytes, "image/png").await.unwrap();
    let now = s.clock.now_ts();
    let record = PodFileRecord {
        carrier: carrier.into(),
        tracking_number: number.into(),
        file: StoredPod {
            name: name.into(),
            key: key.clone(),
            sha256,
            content_type: "image/png".into(),
            bytes: bytes.len() as u64,
        },
        stored_at: now,
        expires_at: POD_PERSONAL.expiry(now),
    };
    let table = TenantTable::new(&*s.tracking.table, "acme");
    lastmile_platform::repo::save(&table, &record, lastmile_platform::ports::table::Condition::Always).await.unwrap();
    key
}
