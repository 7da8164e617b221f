//! The compliance route over the embedded table and blob store: only signed requests with a known topic are
//! taken; each request id is done once and audited once; an unknown shop gets its 2xx.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::shopify::webhook::sign_webhook;
use lastmile_fn_privacy::{Compliance, PATH};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::table::{Condition, TenantTable};
use lastmile_platform::privacy::audit;
use lastmile_platform::repo::{self, orders, personal::PersonalRecord};
use lastmile_platform::tenants::TenantRegistry;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "shpss_test_secret";
const SHOP: &str = "acme-demo.myshopify.com";

struct Setup {
    compliance: Arc<Compliance>,
    table: Arc<EmbeddedTable>,
    blobs: Arc<FsBlobStore>,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-privacy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = TenantConfig::sample("acme");
    acme.shopify_domain = Some(SHOP.into());
    registry.put_tenant(acme).await.unwrap();
    let clock: Arc<ManualClock> = Arc::new(ManualClock::new("2026-12-04T10:00:00Z".parse().unwrap()));
    let table = Arc::new(EmbeddedTable::open(&dir.join("state.redb"), clock.clone()).unwrap());
    let blobs = Arc::new(FsBlobStore::new(dir.join("blobs")));
    let compliance = Arc::new(Compliance {
        registry,
        table: table.clone(),
        blobs: blobs.clone(),
        clock,
        shopify_secrets: vec!["old-secret".into(), SECRET.into()],
    });
    Setup { compliance, table, blobs, dir }
}

async fn post(setup: &Setup, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let mut request = axum::http::Request::post(PATH).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let app = lastmile_fn_privacy::app(setup.compliance.clone());
    let response = app.oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn signed(setup: &Setup, shop: &str, topic: &str, webhook: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let signature = sign_webhook(body.as_bytes(), SECRET.as_bytes());
    let headers = [
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-topic", topic),
        ("x-shopify-webhook-id", webhook),
        ("x-shopify-shop-domain", shop),
    ];
    post(setup, &headers, &body).await
}

/// An order of customer 77 with its personal item, as the router stores it.
async fn stored_order(setup: &Setup, id: &str) {
    let table = TenantTable::new(&*setup.table, "acme");
    let now = setup.compliance.clock.now();
    let sent = json!({"id": id, "customer": {"id": 77}, "email": "ada@example.com",
        "shipping_address": {"name": "Ada Lovelace", "address1": "12 Analytical Way", "country_code": "GB"},
        "line_items": [{"sku": "MUG", "quantity": 1}]});
    let record = orders::OrderRecord {
        id: id.into(),
        status: orders::OrderStatus::Held,
        topic: "orders/create".into(),
        event_id: format!("evt-{id}"),
        received_at: now,
        updated_at: now,
        order: lastmile_platform::privacy::order::non_personal(&sent),
        note: None,
    };
    repo::save(&table, &record, Condition::Always).await.unwrap();
    let customer = lastmile_platform::privacy::order::order_customer(&sent);
    let item = PersonalRecord::new(&orders::PERSONAL, orders::key(id).pk, customer, sent, now);
    repo::save(&table, &item, Condition::Always).await.unwrap();
}

fn customer() -> Value {
    json!({"id": 77, "email": "ada@example.com", "phone": "+44 20 7946 0000"})
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused() {
    let s = setup("signature").await;
    let body = json!({"shop_id": 1, "shop_domain": SHOP}).to_string();
    let forged = sign_webhook(body.as_bytes(), b"not the secret");
    let headers = [
        ("x-shopify-hmac-sha256", forged.as_str()),
        ("x-shopify-topic", "shop/redact"),
        ("x-shopify-webhook-id", "w-1"),
        ("x-shopify-shop-domain", SHOP),
    ];
    let (status, answer) = post(&s, &headers, &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("bad_signature")));
    let (status, answer) = post(&s, &headers[1..], &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("missing_signature")));
    // Nothing was done or audited.
    assert!(audit::of_tenant(&*s.table, "acme").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_topic_and_a_malformed_payload_are_refused() {
    let s = setup("topic").await;
    let (status, answer) = signed(&s, SHOP, "orders/create", "w-1", &json!({})).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("unsupported_topic")), "{answer}");
    let (status, answer) = signed(&s, SHOP, "customers/redact", "w-2", &json!({"customer": "ada"})).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("invalid_payload")), "{answer}");
    let body = "not json";
    let signature = sign_webhook(body.as_bytes(), SECRET.as_bytes());
    let headers = [
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-topic", "shop/redact"),
        ("x-shopify-webhook-id", "w-3"),
        ("x-shopify-shop-domain", SHOP),
    ];
    assert_eq!(post(&s, &headers, body).await.0, 400);
    assert!(audit::of_tenant(&*s.table, "acme").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_redelivered_redaction_is_done_and_audited_once() {
    let s = setup("redelivery").await;
    stored_order(&s, "1001").await;
    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer(), "orders_to_redact": [1001]});
    let (status, first) = signed(&s, SHOP, "customers/redact", "w-redact", &body).await;
    assert_eq!((status, first["status"].as_str()), (200, Some("done")), "{first}");
    assert_eq!(first["audit"]["items_erased"], 1);
    assert!(!first.to_string().contains("ada@example.com") && !first.to_string().contains("shopify-77"), "{first}");
    let (status, again) = signed(&s, SHOP, "customers/redact", "w-redact", &body).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(again["audit"], first["audit"]);
    let trail = audit::of_tenant(&*s.table, "acme").await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (trail[0].topic.as_str(), trail[0].shop_domain.as_str(), trail[0].items_erased),
        ("customers/redact", SHOP, 1)
    );
    // The order record stays for the aggregates.
    let table = TenantTable::new(&*s.table, "acme");
    assert!(orders::get(&table, "1001").await.unwrap().is_some());
}

#[tokio::test]
async fn a_data_request_writes_an_export_and_an_unknown_shop_is_answered() {
    let s = setup("export").await;
    stored_order(&s, "1002").await;
    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer(), "orders_requested": [1002], "data_request": {"id": 9999}});
    let (status, answer) = signed(&s, SHOP, "customers/data_request", "w-export", &body).await;
    assert_eq!(status, 200, "{answer}");
    let key = answer["audit"]["export_key"].as_str().unwrap().to_owned();
    assert_eq!(key, "privacy-exports/acme/2026-12-04/9999.json");
    let export: Value = serde_json::from_slice(&s.blobs.get(&key).await.unwrap().unwrap()).unwrap();
    assert_eq!(export["personal_data"][0]["data"]["shipping_address"]["name"], "Ada Lovelace");
    assert_eq!(export["records"]["orders"][0]["id"], "1002");

    let (status, answer) = signed(
        &s,
        "gone.myshopify.com",
        "shop/redact",
        "w-gone",
        &json!({"shop_id": 2, "shop_domain": "gone.myshopify.com"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["audit"]["note"].as_str().unwrap().contains("no tenant"));
}

#[tokio::test]
async fn shop_redact_erases_the_tenants_data_configuration_and_keys_once() {
    let s = setup("shop-redact").await;
    stored_order(&s, "1003").await;
    let (_, key) = s.compliance.registry.create_key("acme", "ci", "2026-12-04T10:00:00Z").await.unwrap();
    let body = json!({"shop_id": 1, "shop_domain": SHOP});
    let (status, answer) = signed(&s, SHOP, "shop/redact", "w-shop", &body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("done")), "{answer}");
    assert!(answer["audit"]["items_erased"].as_u64().unwrap() >= 1, "{answer}");
    let table = TenantTable::new(&*s.table, "acme");
    assert!(orders::get(&table, "1003").await.unwrap().is_none(), "the order is gone");
    assert!(s.compliance.registry.tenant("acme").is_none(), "the tenant is gone");
    assert!(s.compliance.registry.resolve(&key).is_none(), "its key opens nothing");
    let reopened = TenantRegistry::open(&s.dir).unwrap();
    assert!(reopened.tenant("acme").is_none() && reopened.keys("acme").is_empty(), "nor on disk");
    // Shopify redelivers: the shop is unknown now, so there is nothing left to do; the tenant's audit trail stays.
    let (status, again) = signed(&s, SHOP, "shop/redact", "w-shop", &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(audit::of_tenant(&*s.table, "acme").await.unwrap().len(), 1);
}

/// Order `id` of customer 77 shipped and delivered with a door photo: the shipment's tracking record listing the
/// file, the file's record, the photo in the blob store and the recipient's name in the `pod` personal item.
/// Answers the photo's key.
async fn delivered_with_pod(setup: &Setup, id: &str) -> String {
    use lastmile_platform::repo::tracking::{
        POD_PERSONAL, PodFileRecord, StoredPod, TrackedDestination, TrackingRecord,
    };
    stored_order(setup, id).await;
    let table = TenantTable::new(&*setup.table, "acme");
    let now = setup.compliance.clock.now();
    let bytes = b"door photo";
    let sha256 = lastmile_platform::ports::blob::sha256_hex(bytes);
    let key = format!("pod/acme/fedex/1Z{id}/{sha256}-door.jpg");
    setup.blobs.put(&key, bytes, "image/jpeg").await.unwrap();
    let file =
        StoredPod { name: "door.jpg".into(), key: key.clone(), sha256, content_type: "image/jpeg".into(), bytes: 10 };
    let pod_record = PodFileRecord {
        carrier: "fedex".into(),
        tracking_number: format!("1Z{id}"),
        file: file.clone(),
        stored_at: now,
        expires_at: POD_PERSONAL.expiry(now),
    };
    repo::save(&table, &pod_record, Condition::Always).await.unwrap();
    // Without a routing decision the order's shipment has the order's id.
    let tracking = TrackingRecord {
        shipment_id: id.into(),
        order_id: id.into(),
        line: "uk-parcel".into(),
        lane: "GB-GB".into(),
        carrier: "fedex".into(),
        tracking_number: format!("1Z{id}"),
        destination: TrackedDestination {
            country: "GB".into(),
            postcode: None,
            point: None,
            area: lastmile_core::tracking::pod::AreaType::Urban,
            time_zone: "Europe/London".into(),
        },
        journey: lastmile_core::tracking::Journey::new("fedex", &format!("1Z{id}")),
        tracked_since: now,
        stall: lastmile_core::tracking::stall::StallLevel::Moving,
        pods: vec![file],
        assessment: None,
        facts: None,
        counted: None,
        updated_at: now,
        fulfillment_id: None,
        claims_reviewed: None,
    };
    repo::save(&table, &tracking, Condition::Always).await.unwrap();
    let owner = lastmile_platform::repo::tracking::key(id).pk;
    let item = PersonalRecord::new(
        &POD_PERSONAL,
        owner,
        Some("shopify-77".into()),
        json!({"evt-1": {"recipient_name": "A. LOVELACE", "gps": [51.5, -0.12]}}),
        now,
    );
    repo::save(&table, &item, Condition::Always).await.unwrap();
    key
}

#[tokio::test]
async fn a_customers_proof_of_delivery_is_exported_and_then_erased() {
    let s = setup("pod-customer").await;
    let photo = delivered_with_pod(&s, "1005").await;
    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer(), "orders_requested": [1005], "data_request": {"id": 4242}});
    let (status, answer) = signed(&s, SHOP, "customers/data_request", "w-pod-export", &body).await;
    assert_eq!(status, 200, "{answer}");
    let key = answer["audit"]["export_key"].as_str().unwrap().to_owned();
    let export = String::from_utf8(s.blobs.get(&key).await.unwrap().unwrap()).unwrap();
    assert!(export.contains("A. LOVELACE"), "the recipient's name is exported: {export}");
    assert!(export.contains(&photo), "the photo is listed: {export}");

    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer(), "orders_to_redact": [1005]});
    let (status, answer) = signed(&s, SHOP, "customers/redact", "w-pod-redact", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(s.blobs.get(&photo).await.unwrap(), None, "the photo is deleted");
    let table = TenantTable::new(&*s.table, "acme");
    let kept = lastmile_platform::repo::personal::get(&table, "shipment#1005", "pod").await.unwrap();
    assert!(kept.is_none(), "the recipient and GPS are erased");
    let records = lastmile_platform::repo::tracking::pod_files(&table, "fedex", "1Z1005").await.unwrap();
    assert!(records.is_empty(), "{records:?}");
    let tracking = lastmile_platform::repo::tracking::get(&table, "1005").await.unwrap().unwrap().value;
    assert!(tracking.pods.is_empty(), "the journey stays, without the erased files");
}

#[tokio::test]
async fn shop_redact_deletes_the_tenants_pod_files() {
    let s = setup("pod-shop").await;
    let photo = delivered_with_pod(&s, "1006").await;
    s.blobs.put("pod/globex/fedex/1Z9/aa-door.jpg", b"x", "image/jpeg").await.unwrap();
    let (status, answer) =
        signed(&s, SHOP, "shop/redact", "w-pod-shop", &json!({"shop_id": 1, "shop_domain": SHOP})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(s.blobs.get(&photo).await.unwrap(), None);
    assert!(s.blobs.list("pod/acme/").await.unwrap().is_empty());
    assert_eq!(s.blobs.list("pod/globex/").await.unwrap().len(), 1, "another tenant's files stay");
}
