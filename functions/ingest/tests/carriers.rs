//! Carrier events and POD files in, over the embedded table, queue and blob folder: signed deliveries mapped and
//! queued one batch per tracking number, once; a rotation's second secret accepted; unknown codes, bad
//! signatures and wrong files refused with a JSON error that queues nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_fn_ingest::carriers::{CarrierIngest, pod_api, sign_carrier_body, webhook_router};
use lastmile_platform::config::{CarrierFeed, TenantConfig};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::events::TrackingBatch;
use lastmile_platform::ports::blob::sha256_hex;
use lastmile_platform::ports::clock::SystemClock;
use lastmile_platform::ports::queue::Queue;
use lastmile_platform::ports::secrets::{SecretError, Secrets};
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::tracking;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::Value;
use tower::ServiceExt;

const FEDEX: &str = include_str!("../../../shared/core/tests/fixtures/tracking/fedex-webhook.json");
const PARCELNET: &str = include_str!("../../../shared/core/tests/fixtures/tracking/parcelnet-scans.csv");

struct MapSecrets(HashMap<String, String>);

#[async_trait::async_trait]
impl Secrets for MapSecrets {
    async fn get(&self, reference: &str) -> Result<String, SecretError> {
        self.0.get(reference).cloned().ok_or_else(|| SecretError::Missing(reference.to_owned()))
    }
}

struct Setup {
    ingest: Arc<CarrierIngest>,
    queue: EmbeddedQueue,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-ingest-carriers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = TenantConfig::sample("acme");
    acme.tracking.carriers = vec![
        // Rotating: the new secret first, the old one still accepted.
        CarrierFeed { carrier: "fedex".into(), secrets: vec!["fedex-new".into(), "fedex-old".into()] },
        CarrierFeed { carrier: "parcelnet".into(), secrets: vec!["parcelnet".into()] },
    ];
    registry.put_tenant(acme).await.unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(SystemClock);
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let queue = EmbeddedQueue::open(db, "tracking", QueueOptions::default(), clock.clone()).unwrap();
    let secrets = MapSecrets(HashMap::from([
        ("fedex-new".to_owned(), "new-secret".to_owned()),
        ("fedex-old".to_owned(), "old-secret".to_owned()),
        ("parcelnet".to_owned(), "pn-secret".to_owned()),
    ]));
    let ingest = Arc::new(CarrierIngest {
        registry,
        table,
        tracking: Arc::new(queue.clone()),
        secrets: Arc::new(secrets),
        blobs: Arc::new(FsBlobStore::new(dir.join("blobs"))),
        clock,
    });
    Setup { ingest, queue, dir }
}

fn app(s: &Setup) -> Router {
    let context = TenantContext { tenant: s.ingest.registry.tenant("acme").unwrap(), key_id: "test".into() };
    webhook_router(s.ingest.clone()).merge(pod_api(s.ingest.clone()).layer(axum::Extension(context)))
}

async fn send(s: &Setup, method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let mut request = axum::http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app(s).oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn queued(s: &Setup) -> Vec<TrackingBatch> {
    let messages = s.queue.receive(10, Duration::from_secs(60)).await.unwrap();
    messages.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect()
}

#[tokio::test]
async fn a_signed_delivery_is_queued_once_per_tracking_number() {
    let s = setup("fedex").await;
    let signature = sign_carrier_body(b"new-secret", FEDEX.as_bytes());
    let headers = [("content-type", "application/json"), ("x-lastmile-hmac-sha256", signature.as_str())];
    let (status, body) = send(&s, "POST", "/webhooks/carriers/acme/fedex", &headers, FEDEX.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["events"].as_u64()), (Some("queued"), Some(6)));
    let batches = queued(&s).await;
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].tracking_number, "794612345678");
    assert_eq!(batches[0].events.len(), 6);
    assert_eq!(batches[0].tenant, "acme");

    // Redelivered: a duplicate, nothing queued.
    let (status, body) = send(&s, "POST", "/webhooks/carriers/acme/fedex", &headers, FEDEX.as_bytes()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
    assert!(queued(&s).await.is_empty());
}

#[tokio::test]
async fn the_old_secret_of_a_rotation_still_signs_and_a_wrong_one_does_not() {
    let s = setup("rotation").await;
    let old = sign_carrier_body(b"old-secret", FEDEX.as_bytes());
    let (status, _) =
        send(&s, "POST", "/webhooks/carriers/acme/fedex", &[("x-lastmile-hmac-sha256", &old)], FEDEX.as_bytes()).await;
    assert_eq!(status, 200);
    let wrong = sign_carrier_body(b"guess", b"other body");
    let (status, body) =
        send(&s, "POST", "/webhooks/carriers/acme/fedex", &[("x-lastmile-hmac-sha256", &wrong)], b"{}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("bad_signature")));
    let (status, body) = send(&s, "POST", "/webhooks/carriers/acme/fedex", &[], b"{}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("missing_signature")));
    let (status, body) =
        send(&s, "POST", "/webhooks/carriers/acme/aftership", &[("x-lastmile-hmac-sha256", &old)], b"{}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_feed")));
    let (status, _) =
        send(&s, "POST", "/webhooks/carriers/nobody/fedex", &[("x-lastmile-hmac-sha256", &old)], b"{}").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_unknown_code_or_a_malformed_body_is_named_and_nothing_is_queued() {
    let s = setup("unknown-code").await;
    let body = FEDEX.replace("\"eventType\": \"PU\"", "\"eventType\": \"ZZ\"");
    let signature = sign_carrier_body(b"new-secret", body.as_bytes());
    let (status, answer) =
        send(&s, "POST", "/webhooks/carriers/acme/fedex", &[("x-lastmile-hmac-sha256", &signature)], body.as_bytes())
            .await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("unknown_code")));
    assert!(answer["error"]["message"].as_str().unwrap().contains("ZZ"), "{answer}");
    let garbage = b"{\"trackingNumber\": 5";
    let signature = sign_carrier_body(b"new-secret", garbage);
    let (status, answer) =
        send(&s, "POST", "/webhooks/carriers/acme/fedex", &[("x-lastmile-hmac-sha256", &signature)], garbage).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("malformed_events")));
    assert!(queued(&s).await.is_empty());
}

#[tokio::test]
async fn a_scan_file_becomes_one_batch_per_tracking_number() {
    let s = setup("csv").await;
    let signature = sign_carrier_body(b"pn-secret", PARCELNET.as_bytes());
    let headers = [("content-type", "text/csv"), ("x-lastmile-hmac-sha256", signature.as_str())];
    let (status, body) = send(&s, "POST", "/webhooks/carriers/acme/parcelnet", &headers, PARCELNET.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["events"].as_u64(), body["tracking_numbers"].as_u64()), (Some(6), Some(2)));
    let mut batches = queued(&s).await;
    batches.sort_by(|a, b| a.tracking_number.cmp(&b.tracking_number));
    let sizes: Vec<(&str, usize)> = batches.iter().map(|b| (b.tracking_number.as_str(), b.events.len())).collect();
    assert_eq!(sizes, [("PN00441170AK", 2), ("PN00998812AK", 4)]);
}

#[test]
fn a_journey_too_long_for_one_message_is_split() {
    // 600 events of ~1 KiB each: about 600 KiB, so at least three messages under the 256 KiB limit.
    let event: lastmile_core::tracking::TrackingEvent = serde_json::from_value(serde_json::json!({
        "id": "e", "carrier": "fedex", "tracking_number": "1", "occurred_at": "2026-11-16T14:05:00Z",
        "status": "in_transit", "code": "IT", "description": "x".repeat(1000)
    }))
    .unwrap();
    let events: Vec<_> =
        (0..600).map(|i| lastmile_core::tracking::TrackingEvent { id: format!("e{i}"), ..event.clone() }).collect();
    let now = jiff::Timestamp::now();
    let messages = lastmile_fn_ingest::carriers::batches("acme", "fedex", "d", now, events);
    assert!(messages.len() >= 3, "{}", messages.len());
    assert!(messages.iter().all(|m| m.len() <= lastmile_platform::ports::queue::MAX_BODY_BYTES));
    let total: usize = messages.iter().map(|m| serde_json::from_str::<TrackingBatch>(m).unwrap().events.len()).sum();
    assert_eq!(total, 600);
}

#[tokio::test]
async fn a_pod_file_is_stored_under_its_hash_and_recorded_by_name() {
    let s = setup("pod").await;
    let png = b"\x89PNG\r\n\x1a\n signature strokes";
    let uri = "/v1/tracking/pod/parcelnet/PN00998812AK/PN00998812AK-sig.png";
    let (status, body) = send(&s, "PUT", uri, &[("content-type", "image/png")], png).await;
    assert_eq!(status, 200, "{body}");
    let sha = sha256_hex(png);
    let key = format!("pod/acme/parcelnet/PN00998812AK/{sha}-PN00998812AK-sig.png");
    assert_eq!(body["key"], key.as_str());
    assert_eq!(s.ingest.blobs.get(&key).await.unwrap().unwrap(), png);
    let table = TenantTable::new(&*s.ingest.table, "acme");
    let files = tracking::pod_files(&table, "parcelnet", "PN00998812AK").await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file.sha256, sha);
    // The consumer is told, with a batch of no events.
    let batches = queued(&s).await;
    assert_eq!((batches.len(), batches[0].events.len()), (1, 0));

    let (status, _) = send(&s, "PUT", uri, &[("content-type", "text/html")], b"<p>").await;
    assert_eq!(status, 415);
    let (status, body) =
        send(&s, "PUT", "/v1/tracking/pod/parcelnet/PN1/..sig.png", &[("content-type", "image/png")], png).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("name")));

    // Signed by the carrier instead of an API key.
    let pdf = b"%PDF-1.7 proof";
    let signature = sign_carrier_body(b"pn-secret", pdf);
    let headers = [("content-type", "application/pdf"), ("x-lastmile-hmac-sha256", signature.as_str())];
    let (status, body) =
        send(&s, "PUT", "/webhooks/carriers/acme/parcelnet/pod/PN00998812AK/receipt.pdf", &headers, pdf).await;
    assert_eq!(status, 200, "{body}");
}
