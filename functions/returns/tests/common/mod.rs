//! A tenant with a routed, tracked and delivered order over the embedded store, a label port that sells
//! FedEx labels, and helpers to call the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::duty::rules::Rules;
use lastmile_core::tracking::{TrackingEvent, adapters, mapping};
use lastmile_fn_returns::Returns;
use lastmile_fn_tracking::Tracking;
use lastmile_fn_tracking::fulfillment::NoFulfillments;
use lastmile_fn_tracking::labels::{LabelError, LabelPurchase, LabelRequest, NoCarrierConnected, PurchasedLabel};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::events::{OrderEvent, TrackingBatch};
use lastmile_platform::ports::clock::{Clock, ManualClock};
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::decisions;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The return parcel's FedEx number, as the stand-in carrier sells it.
pub const RETURN_NUMBER: &str = "794655550000";

/// A carrier that sells one FedEx label per idempotency key, and counts the sales.
#[derive(Default)]
pub struct FedexLabels {
    pub sold: AtomicUsize,
    pub requests: std::sync::Mutex<Vec<LabelRequest>>,
}

#[async_trait]
impl LabelPurchase for FedexLabels {
    async fn buy(&self, _: &str, request: &LabelRequest) -> Result<PurchasedLabel, LabelError> {
        self.sold.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().unwrap().push(request.clone());
        Ok(PurchasedLabel {
            carrier: "fedex".into(),
            tracking_number: RETURN_NUMBER.into(),
            document: b"^XA^FDfedex return label^FS^XZ".to_vec(),
            cost: Some((700, "USD".into())),
        })
    }
}

pub struct Setup {
    pub returns: Arc<Returns>,
    pub tracking: Arc<Tracking>,
    pub registry: Arc<TenantRegistry>,
    pub route: lastmile_fn_route::Router,
    pub clock: Arc<ManualClock>,
    pub dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Tenant `acme` on Friday 2026-12-04, 10:00 in New York; with `carrier`, labels are bought from it, else no
/// carrier is connected.
pub async fn setup(name: &str, carrier: Option<Arc<dyn LabelPurchase>>) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-returns-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = lastmile_platform::config::TenantConfig::sample("acme");
    acme.rating.lines = ["us-national-ground", "us-postal-ground"].map(str::to_owned).to_vec();
    registry.put_tenant(acme).await.unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(ManualClock::new("2026-12-04T15:00:00Z".parse().unwrap()));
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let orders = EmbeddedQueue::open(db, "orders", QueueOptions::default(), clock.clone()).unwrap();
    let route = lastmile_fn_route::Router {
        registry: registry.clone(),
        table: table.clone(),
        orders: Arc::new(orders),
        rules: Arc::new(Rules::builtin().unwrap().clone()),
        clock: clock.clone(),
    };
    let blobs = Arc::new(FsBlobStore::new(dir.join("blobs")));
    let tracking = Arc::new(Tracking {
        registry: registry.clone(),
        table,
        blobs,
        fulfillments: Arc::new(NoFulfillments),
        clock: clock.clone(),
    });
    let carriers = carrier.unwrap_or_else(|| Arc::new(NoCarrierConnected));
    let returns = Arc::new(Returns::builtin(tracking.clone(), carriers).unwrap());
    Setup { returns, tracking, registry, route, clock, dir }
}

/// Routes order `order_id` to Manhattan (ZIP 10001) for customer 7001: two pairs of shoes at $89.00 (450 g
/// each), a $25.00 gift card and a pair of socks at $5.00 (100 g); answers its shipment's id.
pub async fn routed_order(s: &Setup, order_id: &str) -> String {
    let order = json!({
        "id": order_id, "currency": "USD",
        "customer": {"id": 7001, "email": "sam@example.com"},
        "line_items": [
            {"sku": "SHOE-42", "quantity": 2, "grams": 450, "price": "89.00", "product_type": "Footwear"},
            {"sku": "GIFT-25", "quantity": 1, "grams": 0, "price": "25.00", "gift_card": true},
            {"sku": "SOCK-1", "quantity": 1, "grams": 100, "price": "5.00", "product_type": "Hosiery"}
        ],
        "shipping_address": {"name": "Sam Buyer", "address1": "350 5th Ave", "city": "New York", "province_code": "NY", "zip": "10001", "country_code": "US"}
    });
    let event = OrderEvent {
        tenant: "acme".into(),
        topic: "orders/create".into(),
        event_id: format!("evt-{order_id}"),
        order_id: order_id.into(),
        needs_address: false,
        received_at: s.clock.now(),
        order,
    };
    let outcome = s.route.handle(&serde_json::to_string(&event).unwrap()).await.unwrap();
    assert!(matches!(outcome, lastmile_fn_route::Outcome::Routed { .. }), "{outcome:?}");
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let decision = decisions::get(&table, order_id).await.unwrap().unwrap().value;
    decision.shipments[0].shipment_id.clone()
}

pub const FEDEX: &str = include_str!("../../../../shared/core/tests/fixtures/tracking/fedex-webhook.json");
pub const PARCELNET: &str = include_str!("../../../../shared/core/tests/fixtures/tracking/parcelnet-scans.csv");

/// Routes the order, tracks it with FedEx and applies the carriers' fixture scans (their numbers made the
/// order's own, `7946{order}` and `PN{order}AK`): handed to parcelnet and delivered on 2026-11-20 13:07 in
/// Anchorage (17:07 in New York, the order's destination zone). Answers the shipment's id.
pub async fn delivered_order(s: &Setup, order_id: &str) -> String {
    let shipment = routed_order(s, order_id).await;
    let (fedex_number, parcelnet_number) = (format!("7946{order_id:0>8}"), format!("PN{order_id:0>8}AK"));
    let fedex_webhook = FEDEX.replace("794612345678", &fedex_number).replace("PN00998812AK", &parcelnet_number);
    let parcelnet_scans = PARCELNET.replace("PN00998812AK", &parcelnet_number);
    let tracking_api = {
        let context = TenantContext { tenant: s.registry.tenant("acme").unwrap(), key_id: "test".into() };
        lastmile_fn_tracking::api::router(s.tracking.clone()).layer(axum::Extension(context))
    };
    let (status, body) = call(
        &tracking_api,
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": fedex_number})),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let tables = mapping::builtin();
    let fedex = adapters::scan_events_json(tables.carrier("fedex").unwrap(), fedex_webhook.as_bytes(), None).unwrap();
    let parcelnet: Vec<_> = adapters::scan_csv(tables.carrier("parcelnet").unwrap(), &parcelnet_scans)
        .unwrap()
        .into_iter()
        .filter(|e| e.tracking_number == parcelnet_number)
        .collect();
    s.tracking.handle(&batch("fedex", &fedex_number, fedex)).await.unwrap();
    s.tracking.handle(&batch("parcelnet", &parcelnet_number, parcelnet)).await.unwrap();
    shipment
}

/// A FedEx webhook for the return parcel, in FedEx's shape, mapped by the core adapter.
pub fn return_scans(scans: &[(&str, &str, &str)]) -> Vec<TrackingEvent> {
    let events: Vec<Value> = scans
        .iter()
        .enumerate()
        .map(|(i, (date, kind, description))| {
            json!({
                "eventId": format!("fx-{RETURN_NUMBER}-{i:04}"),
                "date": date,
                "eventType": kind,
                "eventDescription": description,
                "scanLocation": {"city": "NEWARK", "stateOrProvinceCode": "NJ", "postalCode": "07102", "countryCode": "US"}
            })
        })
        .collect();
    let webhook = json!({"trackingNumber": RETURN_NUMBER, "carrierCode": "FDXG", "scanEvents": events});
    let tables = mapping::builtin();
    adapters::scan_events_json(tables.carrier("fedex").unwrap(), webhook.to_string().as_bytes(), None).unwrap()
}

/// A tracking-queue message of `events`.
pub fn batch(carrier: &str, number: &str, events: Vec<TrackingEvent>) -> String {
    serde_json::to_string(&TrackingBatch {
        tenant: "acme".into(),
        carrier: carrier.into(),
        tracking_number: number.into(),
        delivery: "test".into(),
        received_at: "2026-12-05T23:00:00Z".parse().unwrap(),
        events,
    })
    .unwrap()
}

/// The returns API as `acme` calls it.
pub fn api(s: &Setup) -> Router {
    api_of(s, s.returns.clone())
}

/// The returns routes of tenant `acme` over `returns`.
pub fn api_of(s: &Setup, returns: Arc<Returns>) -> Router {
    let context = TenantContext { tenant: s.registry.tenant("acme").unwrap(), key_id: "test".into() };
    lastmile_fn_returns::api::router(returns).layer(axum::Extension(context))
}

pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let (status, bytes) = call_raw(app, method, uri, body, headers).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

pub async fn call_raw(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Vec<u8>) {
    let mut request = axum::http::Request::builder().method(method).uri(uri).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// A request to take back one pair of shoes, the wrong size.
pub fn one_pair(order_id: &str, key: &str) -> Value {
    json!({"order_id": order_id, "client_key": key, "items": [{"sku": "SHOE-42", "quantity": 1, "reason": "wrong_size", "photos": ["blobs/acme/photo-1.jpg"]}]})
}
