//! Personal data end to end: an order with a known name, address and phone routed by the router, its shipment
//! rated with a comment naming the buyer, a file about the buyer in the blob store; then Shopify's
//! `customers/data_request` (the export holds all of it), `customers/redact` (no stored item, no blob and no
//! blob version still holds the name, the street or the phone, while the shipment, its outcome and the line's
//! statistics remain; a redelivery changes nothing and is audited once) and `shop/redact` (nothing of the
//! tenant is left; another tenant keeps everything). The same scenario runs on DynamoDB and S3 (moto) and on
//! the embedded table and filesystem blobs.

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::duty::rules::Rules;
use lastmile_fn_route::api::RoutingApi;
use lastmile_fn_route::{Outcome, Router};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::events::OrderEvent;
use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::clock::{Clock, SystemClock};
use lastmile_platform::ports::table::{TableStore, TenantTable};
use lastmile_platform::privacy::{self, audit, blobs};
use lastmile_platform::repo::{lines, orders, shipments};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

const SHOP: &str = "acme-demo.myshopify.com";
const NAME: &str = "Grace Hopper";
const STREET: &str = "1029 W 6th Ave";
const PHONE: &str = "+1 907 555 0147";
const EMAIL: &str = "grace@example.com";

/// What the scenario searches for in everything stored; the street also as the address engine writes it.
const PERSONAL: [&str; 5] = [NAME, STREET, "1029 W 6TH AVE", PHONE, EMAIL];

/// Every stored item and every stored blob (every version), as text to search.
pub trait Dump {
    async fn items(&self) -> Vec<String>;
    async fn blobs(&self) -> Vec<String>;
}

fn tenant(id: &str, shop: &str) -> TenantConfig {
    let mut tenant = TenantConfig::sample(id);
    tenant.shopify_domain = Some(shop.into());
    tenant.rating.lines = ["us-national-ground", "us-alaska-regional", "us-postal-ground"].map(str::to_owned).to_vec();
    tenant
}

fn grace_order(id: &str) -> Value {
    json!({
        "id": id, "currency": "USD", "email": EMAIL, "phone": PHONE,
        "customer": {"id": 4242, "first_name": "Grace", "last_name": "Hopper", "email": EMAIL},
        "line_items": [{"sku": "MUG-1", "quantity": 2, "grams": 450, "price": "18.00"}],
        "shipping_address": {"name": NAME, "address1": STREET, "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US", "phone": PHONE}
    })
}

fn other_order(id: &str) -> Value {
    json!({
        "id": id, "currency": "USD", "email": "someone@example.org",
        "line_items": [{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}],
        "shipping_address": {"name": "Sam Buyer", "address1": "600 4th Ave", "city": "Seattle", "province_code": "WA", "zip": "98104", "country_code": "US"}
    })
}

async fn route(router: &Router, tenant: &str, order: Value) -> Outcome {
    let order_id = order["id"].as_str().unwrap().to_owned();
    let event = OrderEvent {
        tenant: tenant.into(),
        topic: "orders/create".into(),
        event_id: format!("evt-{order_id}"),
        order_id,
        needs_address: false,
        received_at: router.clock.now(),
        order,
    };
    router.handle(&serde_json::to_string(&event).unwrap()).await.unwrap()
}

async fn call(app: &axum::Router, uri: &str, body: Value) -> (u16, Value) {
    let request = axum::http::Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn compliance(
    table: &dyn TableStore,
    blob_store: &dyn BlobStore,
    tenant: Option<&str>,
    topic: &str,
    webhook_id: &str,
    body: Value,
) -> (privacy::AuditRecord, bool) {
    let request = privacy::Request { tenant, shop_domain: SHOP, webhook_id, topic, body: &body };
    privacy::handle(table, blob_store, &SystemClock, &request).await.unwrap()
}

fn holding<'a>(texts: &'a [String], what: &str) -> Vec<&'a String> {
    texts.iter().filter(|t| t.to_lowercase().contains(&what.to_lowercase())).collect()
}

/// The whole scenario over one table and one blob store; `run` keeps tenant ids apart on a shared store.
pub async fn scenario(table: Arc<dyn TableStore>, blob_store: Arc<dyn BlobStore>, dump: &impl Dump, run: &str) {
    let acme = format!("acme{run}");
    let globex = format!("globex{run}");
    let dir = std::env::temp_dir().join(format!("lastmile-privacy-e2e-{run}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    registry.put_tenant(tenant(&acme, SHOP)).await.unwrap();
    registry.put_tenant(tenant(&globex, "globex.myshopify.com")).await.unwrap();
    let clock = Arc::new(SystemClock);
    let queue_db = Arc::new(redb::Database::create(dir.join("queue.redb")).unwrap());
    let queue = EmbeddedQueue::open(queue_db, "orders", QueueOptions::default(), clock.clone()).unwrap();
    let router = Router {
        registry: registry.clone(),
        table: table.clone(),
        orders: Arc::new(queue),
        rules: Arc::new(Rules::builtin().unwrap().clone()),
        clock: clock.clone(),
    };

    // The customer's order, routed; another customer's, and another tenant's.
    assert_eq!(route(&router, &acme, grace_order("7001")).await, Outcome::Routed { shipments: 1 });
    assert_eq!(route(&router, &acme, other_order("7002")).await, Outcome::Routed { shipments: 1 });
    assert_eq!(route(&router, &globex, other_order("9001")).await, Outcome::Routed { shipments: 1 });
    let api = lastmile_fn_route::api::router::<()>(Arc::new(RoutingApi { table: table.clone(), clock: clock.clone() }))
        .layer(axum::Extension(TenantContext { tenant: registry.tenant(&acme).unwrap(), key_id: "test".into() }));
    let (status, _) = call(&api, "/v1/shipments/7001/outcome", json!({"delivered": true, "transit_days": 3.0})).await;
    assert_eq!(status, 200);
    let comment = format!("{NAME} here: left on the porch at {STREET}, call {PHONE} next time");
    let (status, _) = call(&api, "/v1/shipments/7001/rating", json!({"stars": 4, "comment": comment})).await;
    assert_eq!(status, 200);
    let file = blobs::customer_file(&acme, "shopify-4242", clock.now(), "proof-of-delivery.txt");
    let photo = format!("signed for by {NAME}, {STREET}");
    // Put twice: on a versioned bucket the first bytes live on as an older version, which erasure must reach.
    blob_store.put(&file, format!("draft: {photo}").as_bytes(), "text/plain").await.unwrap();
    blob_store.put(&file, photo.as_bytes(), "text/plain").await.unwrap();
    let everything = [dump.items().await, dump.blobs().await].concat();
    assert!(!holding(&everything, NAME).is_empty(), "the scenario stores the name somewhere to begin with");

    // customers/data_request: the export holds all of it.
    let customer = json!({"id": 4242, "email": EMAIL, "phone": PHONE});
    let request = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer, "orders_requested": [7001], "data_request": {"id": 31337}});
    let (exported, first) =
        compliance(&*table, &*blob_store, Some(&acme), "customers/data_request", "w-export", request).await;
    assert!(first);
    let key = exported.export_key.clone().unwrap();
    let export = String::from_utf8(blob_store.get(&key).await.unwrap().unwrap()).unwrap();
    for personal in [NAME, STREET, PHONE, &comment] {
        assert!(export.contains(personal), "the export holds {personal:?}");
    }
    assert!(export.contains(&file), "the export lists the customer's files");
    assert!(!export.contains("Sam Buyer"), "another customer's data is not exported");

    // customers/redact: nothing stored still names them; the aggregates remain.
    let request = json!({"shop_id": 1, "shop_domain": SHOP, "customer": customer, "orders_to_redact": [7001]});
    let (redacted, first) =
        compliance(&*table, &*blob_store, Some(&acme), "customers/redact", "w-redact", request.clone()).await;
    assert!(first);
    assert!(redacted.items_erased >= 3, "order, address and comment: {redacted:?}");
    assert_eq!(redacted.blobs_deleted, 2, "the file and the export: {redacted:?}");
    let everything = [dump.items().await, dump.blobs().await].concat();
    for personal in PERSONAL {
        let left = holding(&everything, personal);
        assert!(left.is_empty(), "{personal:?} is still stored: {left:?}");
    }
    assert!(!holding(&everything, "Sam Buyer").is_empty(), "another customer's data stays");
    let view = TenantTable::new(&*table, &acme);
    let shipment = shipments::get(&view, "7001").await.unwrap().unwrap().value;
    assert_eq!((shipment.outcome.unwrap().delivered, shipment.rating.unwrap().stars), (true, 4));
    let stats = lines::stats(&view, &shipment.line).await.unwrap().unwrap().value.stats;
    assert_eq!(stats.success.trials, 1);
    let order = orders::get(&view, "7001").await.unwrap().unwrap().value;
    assert_eq!(
        (order.status, order.order["line_items"][0]["quantity"].as_u64()),
        (orders::OrderStatus::Routed, Some(2))
    );

    // Again, as Shopify redelivers: nothing more is done, one audit record.
    let (again, first) =
        compliance(&*table, &*blob_store, Some(&acme), "customers/redact", "w-redact", request.clone()).await;
    assert!(!first);
    assert_eq!(again, redacted);
    let (later, _) = compliance(&*table, &*blob_store, Some(&acme), "customers/redact", "w-redact-2", request).await;
    assert_eq!((later.items_erased, later.blobs_deleted, later.fields_masked), (0, 0, 0));
    let trail = audit::of_tenant(&*table, &acme).await.unwrap();
    assert_eq!(trail.iter().filter(|a| a.webhook_id == "w-redact").count(), 1);
    let trail_text = serde_json::to_string(&trail).unwrap();
    for personal in [EMAIL, PHONE, "shopify-4242", "\"customer\""] {
        assert!(!trail_text.contains(personal), "{personal:?} in the audit: {trail_text}");
    }

    // shop/redact: nothing of the tenant is left but its audit trail; the other tenant keeps everything.
    blob_store.put(&format!("{acme}/labels/7002.pdf"), b"label", "application/pdf").await.unwrap();
    let another_customers = blobs::customer_file(&acme, "shopify-5150", clock.now(), "label-7002.zpl");
    blob_store.put(&another_customers, b"^XA^XZ", "application/zpl").await.unwrap();
    let body = json!({"shop_id": 1, "shop_domain": SHOP});
    let (erased, first) = compliance(&*table, &*blob_store, Some(&acme), "shop/redact", "w-shop", body).await;
    assert!(first && erased.items_erased > 0 && erased.blobs_deleted == 2, "{erased:?}");
    let left = table.scan_prefix(&format!("{acme}#"), None, 100).await.unwrap();
    assert!(left.items.is_empty() && left.next.is_none(), "{:?}", left.items);
    for folder in blobs::tenant_folders(&acme) {
        assert!(blob_store.list(&folder).await.unwrap().is_empty(), "{folder} is empty");
    }
    let everything = [dump.items().await, dump.blobs().await].concat();
    assert!(
        holding(&everything, &format!("{acme}#")).iter().all(|t| t.starts_with("_audit#")),
        "only the audit trail stays"
    );
    let other = TenantTable::new(&*table, &globex);
    assert!(orders::get(&other, "9001").await.unwrap().is_some());
    assert_eq!(audit::of_tenant(&*table, &acme).await.unwrap().len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

mod embedded {
    use std::path::PathBuf;

    use lastmile_platform::embedded::blob::FsBlobStore;
    use lastmile_platform::embedded::table::EmbeddedTable;
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};

    use super::*;

    /// The embedded table's own items table (embedded/table.rs), read row by row, expired rows and all.
    const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

    struct Files {
        db: Arc<redb::Database>,
        blobs: PathBuf,
    }

    impl Dump for Files {
        async fn items(&self) -> Vec<String> {
            let txn = self.db.begin_read().unwrap();
            let items = txn.open_table(ITEMS).unwrap();
            items
                .iter()
                .unwrap()
                .map(|row| {
                    let (key, value) = row.unwrap();
                    let (pk, sk) = key.value();
                    format!("{pk} {sk} {}", String::from_utf8_lossy(value.value()))
                })
                .collect()
        }

        /// Every file under the blob root, whatever its name (earlier bytes of a key included).
        async fn blobs(&self) -> Vec<String> {
            let mut out = Vec::new();
            let mut pending = vec![self.blobs.clone()];
            while let Some(dir) = pending.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                for entry in entries.flatten() {
                    if entry.file_type().unwrap().is_dir() {
                        pending.push(entry.path());
                    } else {
                        out.push(String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned());
                    }
                }
            }
            out
        }
    }

    #[tokio::test]
    async fn after_customers_redact_nothing_in_the_embedded_store_names_the_customer() {
        let dir = std::env::temp_dir().join(format!("lastmile-privacy-embedded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
        let table = Arc::new(EmbeddedTable::on(db.clone(), Arc::new(SystemClock)).unwrap());
        let files = Files { db, blobs: dir.join("blobs") };
        let blob_store = Arc::new(FsBlobStore::new(files.blobs.clone()));
        scenario(table, blob_store, &files, "").await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod on_aws {
    use lastmile_platform::aws::dynamodb::DynamoTable;
    use lastmile_platform::aws::s3::S3Blobs;
    use lastmile_tests::moto::MotoServer;

    use super::*;

    const TABLE: &str = "lastmile-privacy";
    const BUCKET: &str = "lastmile-privacy";

    struct Moto {
        dynamodb: aws_sdk_dynamodb::Client,
        s3: aws_sdk_s3::Client,
    }

    impl Dump for Moto {
        /// A Scan of the whole table through the SDK: every attribute of every item.
        async fn items(&self) -> Vec<String> {
            let mut out = Vec::new();
            let mut start = None;
            loop {
                let page = self.dynamodb.scan().table_name(TABLE).set_exclusive_start_key(start).send().await.unwrap();
                out.extend(page.items().iter().map(|item| {
                    let mut fields: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    fields.sort();
                    // The key first, as the embedded dump writes it.
                    let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    format!("{pk} {}", fields.join(" "))
                }));
                match page.last_evaluated_key() {
                    Some(key) => start = Some(key.clone()),
                    None => return out,
                }
            }
        }

        /// Every version of every object (the bucket is versioned, as the template's is).
        async fn blobs(&self) -> Vec<String> {
            let listed = self.s3.list_object_versions().bucket(BUCKET).send().await.unwrap();
            let mut out = Vec::new();
            for version in listed.versions() {
                let object = self
                    .s3
                    .get_object()
                    .bucket(BUCKET)
                    .key(version.key().unwrap())
                    .set_version_id(version.version_id().map(str::to_owned))
                    .send()
                    .await
                    .unwrap();
                let bytes = object.body.collect().await.unwrap().into_bytes();
                out.push(format!("{} {}", version.key().unwrap(), String::from_utf8_lossy(&bytes)));
            }
            out
        }
    }

    #[tokio::test]
    #[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
    async fn after_customers_redact_nothing_in_dynamodb_or_s3_names_the_customer() {
        let moto = MotoServer::start();
        let config = super::super::sdk_config(&moto).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let s3 =
            aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
        DynamoTable::create_if_missing(&dynamodb, TABLE).await.unwrap();
        S3Blobs::create_if_missing(&s3, BUCKET).await.unwrap();
        let versioning = aws_sdk_s3::types::VersioningConfiguration::builder()
            .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
            .build();
        s3.put_bucket_versioning().bucket(BUCKET).versioning_configuration(versioning).send().await.unwrap();
        let table = Arc::new(DynamoTable::new(dynamodb.clone(), TABLE, Arc::new(SystemClock)));
        let blob_store = Arc::new(S3Blobs::new(s3.clone(), BUCKET));
        scenario(table, blob_store, &Moto { dynamodb, s3 }, "").await;
    }
}
