//! Tracking on AWS: carrier webhooks and POD files through the ingest function (the carriers' secrets from
//! Secrets Manager, batches on SQS, files on S3), applied by the tracking consumer over DynamoDB.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::duty::rules::Rules;
use lastmile_core::tracking::Status;
use lastmile_fn_ingest::carriers::{CarrierIngest, SIGNATURE_HEADER, sign_carrier_body};
use lastmile_fn_tracking::Tracking;
use lastmile_fn_tracking::fulfillment::NoFulfillments;
use lastmile_platform::aws::dynamodb::DynamoTable;
use lastmile_platform::aws::s3::S3Blobs;
use lastmile_platform::aws::secrets_manager::SecretsManager;
use lastmile_platform::aws::sqs::SqsQueue;
use lastmile_platform::config::{CarrierFeed, TenantConfig};
use lastmile_platform::events::OrderEvent;
use lastmile_platform::ports::blob::{BlobError, sha256_hex};
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::queue::Queue;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::{decisions, tracking};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use lastmile_tests::moto::MotoServer;
use serde_json::{Value, json};
use tower::ServiceExt;

const FEDEX: &str = include_str!("../../shared/core/tests/fixtures/tracking/fedex-webhook.json");
const PARCELNET: &str = include_str!("../../shared/core/tests/fixtures/tracking/parcelnet-scans.csv");

/// The carriers' signing secrets, as the tenant's `[tracking]` carriers name them in Secrets Manager.
const FEDEX_SECRET: (&str, &str) = ("lastmile/test/carrier/acme-fedex", "fedex-signing-secret");
const PARCELNET_SECRET: (&str, &str) = ("lastmile/test/carrier/acme-parcelnet", "parcelnet-signing-secret");

/// Monday 2026-11-16, 09:00 in Anchorage: the order is routed before FedEx's first scan.
const START: &str = "2026-11-16T18:00:00Z";

/// A deployment on moto: the table, the tracking queue, the POD bucket, the carriers' secrets, the ingest
/// function's app and the tracking consumer, as the Lambda mains build them.
pub struct Deployment {
    /// Kept for the deployment's life: dropping it stops the server.
    _moto: MotoServer,
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<DynamoTable>,
    pub tracking_queue: Arc<SqsQueue>,
    pub orders_queue: Arc<SqsQueue>,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub clock: Arc<ManualClock>,
    pub ingest: axum::Router,
    pub tracking: Arc<Tracking>,
    dir: std::path::PathBuf,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The ingest function's carrier side over the given ports (the order tests build one too, for the whole app).
pub fn carrier_ingest(
    registry: Arc<TenantRegistry>,
    table: Arc<DynamoTable>,
    tracking_queue: Arc<SqsQueue>,
    secrets: SecretsManager,
    blobs: S3Blobs,
    clock: Arc<dyn lastmile_platform::ports::clock::Clock>,
) -> Arc<CarrierIngest> {
    Arc::new(CarrierIngest {
        registry,
        table,
        tracking: tracking_queue,
        secrets: Arc::new(secrets),
        blobs: Arc::new(blobs),
        clock,
    })
}

/// An S3 client for moto: bucket names in the path, as a local endpoint has no per-bucket host names.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

pub(crate) async fn deployment(name: &str) -> Deployment {
    let moto = MotoServer::start();
    let config = super::sdk_config(&moto).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = s3_client(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    for (id, value) in [FEDEX_SECRET, PARCELNET_SECRET] {
        secrets.create_secret().name(id).secret_string(value).send().await.unwrap();
    }
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let table_name = format!("lastmile-{name}");
    DynamoTable::create_if_missing(&dynamodb, &table_name).await.unwrap();
    let table = Arc::new(DynamoTable::new(dynamodb, table_name, clock.clone()));
    let (tracking_queue, _dead_letters) =
        SqsQueue::create_with_dead_letters(&sqs, &format!("tracking-{name}"), 5).await.unwrap();
    let (orders, _) = SqsQueue::create_with_dead_letters(&sqs, &format!("orders-{name}"), 5).await.unwrap();
    let orders_queue = Arc::new(orders);
    let tracking_queue = Arc::new(tracking_queue);
    let bucket = format!("lastmile-pod-{name}");
    S3Blobs::create_if_missing(&s3, &bucket).await.unwrap();

    let dir = std::env::temp_dir().join(format!("lastmile-aws-tracking-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = TenantConfig::sample("acme");
    acme.rating.lines = ["us-national-ground", "us-alaska-regional", "us-postal-ground"].map(str::to_owned).to_vec();
    acme.tracking.carriers = vec![
        CarrierFeed { carrier: "fedex".into(), secrets: vec![FEDEX_SECRET.0.into()] },
        CarrierFeed { carrier: "parcelnet".into(), secrets: vec![PARCELNET_SECRET.0.into()] },
    ];
    registry.put_tenant(acme).await.unwrap();

    let orders_ingest = Arc::new(lastmile_fn_ingest::Ingest {
        registry: registry.clone(),
        table: table.clone(),
        orders: orders_queue.clone(),
        shopify_secrets: vec!["unused".into()],
    });
    let carriers = carrier_ingest(
        registry.clone(),
        table.clone(),
        tracking_queue.clone(),
        SecretsManager::new(secrets),
        S3Blobs::new(s3.clone(), &bucket),
        clock.clone(),
    );
    let ingest = lastmile_fn_ingest::app(orders_ingest, carriers);
    // The tracking function's own view of the bucket, as its main builds it.
    let tracking = Arc::new(Tracking {
        registry: registry.clone(),
        table: table.clone(),
        blobs: Arc::new(S3Blobs::new(s3.clone(), &bucket)),
        fulfillments: Arc::new(NoFulfillments),
        clock: clock.clone(),
    });
    Deployment { _moto: moto, registry, table, tracking_queue, orders_queue, s3, bucket, clock, ingest, tracking, dir }
}

/// A request to the ingest function signed with `secret`; the status and the answer.
async fn signed(
    d: &Deployment,
    method: &str,
    uri: &str,
    content_type: &str,
    secret: &str,
    body: &[u8],
) -> (u16, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .header(SIGNATURE_HEADER, sign_carrier_body(secret.as_bytes(), body))
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = d.ingest.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn fedex_webhook(d: &Deployment, scans: &[Value]) -> (u16, Value) {
    let mut body: Value = serde_json::from_str(FEDEX).unwrap();
    body["scanEvents"] = Value::Array(scans.to_vec());
    let body = body.to_string();
    signed(d, "POST", "/webhooks/carriers/acme/fedex", "application/json", FEDEX_SECRET.1, body.as_bytes()).await
}

/// Everything on the tracking queue, received once (and left invisible for a minute): `(id, body, receipt)`.
async fn drain(d: &Deployment) -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    loop {
        let messages = d.tracking_queue.receive(10, Duration::from_secs(60)).await.unwrap();
        if messages.is_empty() {
            return all;
        }
        all.extend(messages.into_iter().map(|m| (m.id, m.body, m.receipt)));
    }
}

/// What Lambda's event source mapping does with a batch: the consumer, then a delete of each message it did
/// not report as failed. Answers the failed ids.
async fn consume(d: &Deployment, messages: &[(String, String, String)]) -> Vec<String> {
    let mut failed = Vec::new();
    for chunk in messages.chunks(10) {
        let batch: Vec<(&str, &str)> = chunk.iter().map(|(id, body, _)| (id.as_str(), body.as_str())).collect();
        let failures = lastmile_fn_tracking::handle_batch(&d.tracking, &batch).await;
        for (id, _, receipt) in chunk {
            if !failures.contains(id) {
                d.tracking_queue.delete(receipt).await.unwrap();
            }
        }
        failed.extend(failures);
    }
    failed
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn a_pod_file_uploaded_through_ingest_reads_back_on_the_tracking_side_and_tampering_is_caught() {
    let d = deployment("pod").await;
    // A PNG's signature bytes and a little more: what matters is that the bytes come back the same.
    let signature = b"\x89PNG\r\n\x1a\n signature of J. SAMPLE".to_vec();
    let uri = "/webhooks/carriers/acme/parcelnet/pod/PN00998812AK/PN00998812AK-sig.png";
    let (status, stored) = signed(&d, "PUT", uri, "image/png", PARCELNET_SECRET.1, &signature).await;
    assert_eq!(status, 200, "{stored}");
    let sha256 = sha256_hex(&signature);
    assert_eq!(stored["sha256"], sha256);
    let key = format!("pod/acme/parcelnet/PN00998812AK/{sha256}-PN00998812AK-sig.png");
    assert_eq!(stored["key"], key);
    // A body signed with another secret is refused, and nothing is stored for it.
    let (status, _) = signed(&d, "PUT", uri, "image/png", "not-the-carrier-secret", b"forged").await;
    assert_eq!(status, 401);

    // The tracking side finds the file by name and reads it from the bucket, checked against its SHA-256.
    let table = TenantTable::new(&*d.table, "acme");
    let files = tracking::pod_files(&table, "parcelnet", "PN00998812AK").await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].file.key.as_str(), files[0].file.sha256.as_str()), (key.as_str(), sha256.as_str()));
    let read = d.tracking.blobs.get(&key).await.unwrap().expect("the file is in the bucket");
    assert_eq!(read, signature);
    assert_eq!(sha256_hex(&read), files[0].file.sha256);
    // The upload told the consumer (so a delivered event that named the file first gets it).
    let told = drain(&d).await;
    assert_eq!(told.len(), 1);
    assert!(consume(&d, &told).await.is_empty());

    // Someone overwrites the object in the bucket, keeping its SHA-256 metadata: the read refuses it.
    d.s3.put_object()
        .bucket(&d.bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from(b"\x89PNG\r\n\x1a\n someone else".to_vec()))
        .metadata("sha256", &sha256)
        .send()
        .await
        .unwrap();
    assert_eq!(d.tracking.blobs.get(&key).await, Err(BlobError::Corrupt { key: key.clone() }));
    // And without it.
    d.s3.put_object()
        .bucket(&d.bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from(signature.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(d.tracking.blobs.get(&key).await, Err(BlobError::Corrupt { key }));
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn a_journey_from_out_of_order_webhooks_through_sqs_is_ordered_never_regresses_and_applies_once() {
    let d = deployment("journey").await;
    let shipment = routed_anchorage_order(&d, "5001").await;
    let api = lastmile_fn_tracking::api::router(d.tracking.clone())
        .layer(axum::Extension(TenantContext { tenant: d.registry.tenant("acme").unwrap(), key_id: "test".into() }));
    let request = axum::http::Request::post(format!("/v1/shipments/{shipment}/tracking"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"carrier": "fedex", "tracking_number": "794612345678"}).to_string()))
        .unwrap();
    assert_eq!(api.oneshot(request).await.unwrap().status().as_u16(), 201);

    let fedex: Value = serde_json::from_str(FEDEX).unwrap();
    let scans = fedex["scanEvents"].as_array().unwrap().clone();
    // First wave, out of order: parcelnet's scans (the second leg, not yet known: they wait), then FedEx's last
    // three scans, the hand-over among them.
    let (status, answer) =
        signed(&d, "POST", "/webhooks/carriers/acme/parcelnet", "text/csv", PARCELNET_SECRET.1, PARCELNET.as_bytes())
            .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let (status, answer) = fedex_webhook(&d, &scans[3..]).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let first = drain(&d).await;
    // parcelnet's file names two parcels (PN00998812AK and PN00441170AK), FedEx's one: three batches.
    assert_eq!(first.len(), 3);
    assert!(consume(&d, &first).await.is_empty());
    let table = TenantTable::new(&*d.table, "acme");
    let record = tracking::get(&table, &shipment).await.unwrap().unwrap().value;
    assert_eq!(record.status(), Some(Status::Delivered));
    assert_eq!(record.journey.events.len(), 3 + 4);

    // Second wave: FedEx's first three scans, late, then the same first delivery again (recognised by ingest),
    // and one more carrying a scan already applied.
    let (status, answer) = fedex_webhook(&d, &scans[..3]).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let (status, answer) = fedex_webhook(&d, &scans[3..]).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("duplicate")), "{answer}");
    let (status, answer) = fedex_webhook(&d, &scans[1..2]).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let second = drain(&d).await;
    assert_eq!(second.len(), 2);
    assert!(consume(&d, &second).await.is_empty());

    let journey = || async { tracking::get(&table, &shipment).await.unwrap().unwrap().value };
    let record = journey().await;
    // The late scans (information sent, picked up, departed) did not move the status back from delivered.
    assert_eq!(record.status(), Some(Status::Delivered));
    let ids: Vec<&str> = record.journey.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 6 + 4, "{ids:?}");
    let times: Vec<_> = record.journey.events.iter().map(|e| e.occurred_at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "the history is in time order: {times:?}");
    // Reno's first scan at 14:05 PST = 22:05Z starts it; parcelnet's delivery at 13:07 AKST = 22:07Z ends it.
    assert_eq!(times.first().unwrap().to_string(), "2026-11-16T22:05:00Z");
    assert_eq!(times.last().unwrap().to_string(), "2026-11-20T22:07:00Z");
    let legs: Vec<(String, String)> =
        record.journey.legs().into_iter().map(|l| (l.carrier, l.tracking_number)).collect();
    assert_eq!(
        legs,
        [("fedex".to_owned(), "794612345678".to_owned()), ("parcelnet".to_owned(), "PN00998812AK".to_owned())]
    );
    assert_eq!(tracking::shipment_for(&table, "parcelnet", "PN00998812AK").await.unwrap(), Some(shipment.clone()));
    // The other parcel in parcelnet's file belongs to no shipment here: it waits as orphan events.
    assert!(tracking::orphans(&table, "parcelnet", "PN00441170AK").await.unwrap().is_some());

    // Lambda may deliver a batch again (a timeout after the work, before the delete): both waves once more.
    assert!(consume(&d, &first).await.is_empty());
    assert!(consume(&d, &second).await.is_empty());
    let again = journey().await;
    assert_eq!(again.journey, record.journey);
    assert_eq!(again.status(), Some(Status::Delivered));
}

/// Routes an order to downtown Anchorage (ZIP 99501) over the deployment's table; answers its shipment's id.
pub(crate) async fn routed_anchorage_order(d: &Deployment, order_id: &str) -> String {
    let order = json!({
        "id": order_id, "currency": "USD",
        "line_items": [{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}],
        "shipping_address": {"name": "Sam Buyer", "address1": "1029 W 6th Ave", "city": "Anchorage",
            "province_code": "AK", "zip": "99501", "country_code": "US"}
    });
    let now = lastmile_platform::ports::clock::Clock::now(&*d.clock);
    let event = OrderEvent {
        tenant: "acme".into(),
        topic: "orders/create".into(),
        event_id: format!("evt-{order_id}"),
        order_id: order_id.into(),
        needs_address: false,
        received_at: now,
        order,
    };
    let router = lastmile_fn_route::Router {
        registry: d.registry.clone(),
        table: d.table.clone(),
        orders: d.orders_queue.clone(),
        rules: Arc::new(Rules::builtin().unwrap().clone()),
        clock: d.clock.clone(),
    };
    let outcome = router.handle(&serde_json::to_string(&event).unwrap()).await.unwrap();
    assert!(matches!(outcome, lastmile_fn_route::Outcome::Routed { .. }), "{outcome:?}");
    let table = TenantTable::new(&*d.table, "acme");
    decisions::get(&table, order_id).await.unwrap().unwrap().value.shipments[0].shipment_id.clone()
}
