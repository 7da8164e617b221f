//! The AWS adapters against a moto server: the same conformance suites the embedded adapters pass, and the
//! functions over them (orders routed, compliance requests, carrier events and POD files tracked, returns).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod privacy;
mod reconcile;
mod returns;
mod routing;
mod shopify;
mod template;
mod tracking;

use std::sync::Arc;

use aws_sdk_dynamodb::config::{Credentials, Region};
use lastmile_platform::aws::dynamodb::DynamoTable;
use lastmile_platform::aws::s3::S3Blobs;
use lastmile_platform::aws::sqs::SqsQueue;
use lastmile_platform::conformance::blob::blob_suite;
use lastmile_platform::conformance::queue::{QueueSuiteOptions, StaleReceipts, queue_suite};
use lastmile_platform::conformance::table::table_suite;
use lastmile_platform::ports::clock::SystemClock;
use lastmile_tests::moto::MotoServer;

async fn sdk_config(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn dynamodb_passes_the_table_conformance_suite() {
    let moto = MotoServer::start();
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&moto).await);
    DynamoTable::create_if_missing(&client, "lastmile").await.unwrap();
    let table = DynamoTable::new(client, "lastmile", Arc::new(SystemClock));
    table_suite(&table, "run1").await.unwrap();
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn sqs_passes_the_queue_conformance_suite() {
    let moto = MotoServer::start();
    let client = aws_sdk_sqs::Client::new(&sdk_config(&moto).await);
    let (queue, dead_letters) = SqsQueue::create_with_dead_letters(&client, "jobs", 3).await.unwrap();
    // SQS may accept a delete with an earlier receipt; the suite then only asks that the latest one works.
    let options = QueueSuiteOptions { max_receives: 3, stale_receipts: StaleReceipts::MayBeAccepted };
    queue_suite(&queue, &dead_letters, options).await.unwrap();
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn s3_passes_the_blob_conformance_suite() {
    let moto = MotoServer::start();
    // Bucket names in the path: a local endpoint has no per-bucket host names.
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(&moto).await).force_path_style(true).build();
    let client = aws_sdk_s3::Client::from_conf(config);
    S3Blobs::create_if_missing(&client, "lastmile-blobs").await.unwrap();
    blob_suite(&S3Blobs::new(client, "lastmile-blobs")).await.unwrap();
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn an_s3_presigned_link_reads_the_blob_without_credentials() {
    use lastmile_platform::ports::blob::BlobStore;
    let moto = MotoServer::start();
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(&moto).await).force_path_style(true).build();
    let client = aws_sdk_s3::Client::from_conf(config);
    S3Blobs::create_if_missing(&client, "lastmile-pod").await.unwrap();
    let blobs = S3Blobs::new(client, "lastmile-pod");
    let key = "pod/acme/fedex/1Z999/photo.jpg";
    blobs.put(key, b"jpeg bytes", "image/jpeg").await.unwrap();
    let url = blobs.presign_get(key, std::time::Duration::from_secs(900)).await.unwrap();
    assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=900"), "{url}");
    let fetched = tokio::task::spawn_blocking(move || {
        let mut response = ureq::get(&url).call().unwrap();
        response.body_mut().read_to_vec().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(fetched, b"jpeg bytes");
}

/// A deployment's functions keep tenants created at install and keys created or revoked since the deployment in
/// DynamoDB: what one instance writes, another reads.
#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn tenants_and_keys_created_by_one_function_instance_reach_the_others_through_dynamodb() {
    use lastmile_platform::config::TenantConfig;
    use lastmile_platform::tenants::{KeyScope, TenantRegistry};
    let moto = MotoServer::start();
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&moto).await);
    DynamoTable::create_if_missing(&client, "lastmile").await.unwrap();
    let table: Arc<dyn lastmile_platform::ports::table::TableStore> =
        Arc::new(DynamoTable::new(client, "lastmile", Arc::new(SystemClock)));
    // The deployed folder holds no tenant at all: every one comes from the table.
    let folder = std::env::temp_dir().join(format!("lastmile-aws-registry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);

    let install = TenantRegistry::open_with_table(&folder, table.clone()).await.unwrap();
    let mut shop = TenantConfig::sample("new-shop");
    shop.shopify_domain = Some("new-shop.myshopify.com".into());
    install.put_tenant(shop).await.unwrap();
    let (token_record, token) = install
        .create_scoped_key("new-shop", "shopify", "2026-12-04T00:00:00Z", KeyScope::CarrierService)
        .await
        .unwrap();

    let quote = TenantRegistry::open_with_table(&folder, table.clone()).await.unwrap();
    let context = quote.resolve_current(&token, KeyScope::CarrierService).await.expect("the token works elsewhere");
    assert_eq!(context.tenant.id, "new-shop");
    assert_eq!(quote.tenant_by_shop("NEW-SHOP.myshopify.com").map(|t| t.id.clone()).as_deref(), Some("new-shop"));
    assert!(quote.resolve_current(&token, KeyScope::Api).await.is_none(), "a token opens its own door only");

    install.revoke_key(&token_record.id).await.unwrap();
    let later = TenantRegistry::open_with_table(&folder, table).await.unwrap();
    assert!(later.resolve_current(&token, KeyScope::CarrierService).await.is_none(), "revoked everywhere");
}

/// `lastmile tenant --table`: an operator creates a tenant and rotates its keys in a deployment's table; the
/// functions' registry over that table sees them.
#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn the_tenant_cli_manages_a_deployments_table() {
    use lastmile_platform::tenants::{KeyScope, TenantRegistry};
    let moto = MotoServer::start();
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&moto).await);
    DynamoTable::create_if_missing(&client, "lastmile-cli").await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let built =
        lastmile_tests::cargo().args(["build", "--quiet", "-p", "lastmile", "--features", "aws"]).status().unwrap();
    assert!(built.success());
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let folder = std::env::temp_dir().join(format!("lastmile-aws-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(target.join("debug/lastmile"))
            .arg("tenant")
            .args(args)
            .args(["--table", "lastmile-cli", "--data-dir"])
            .arg(&folder)
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let created = cli(&["create", "acme", "--name", "Acme", "--shop", "acme.myshopify.com"]);
    let key = created.split_whitespace().find(|w| w.starts_with("lmk_")).unwrap().to_owned();
    assert!(!folder.join("keys.json").exists(), "nothing written to the deployed folder");

    let table: Arc<dyn lastmile_platform::ports::table::TableStore> =
        Arc::new(DynamoTable::new(client, "lastmile-cli", Arc::new(SystemClock)));
    let function = TenantRegistry::open_with_table(&folder, table.clone()).await.unwrap();
    let context = function.resolve_current(&key, KeyScope::Api).await.expect("the CLI's key works");
    assert_eq!(context.tenant.shopify_domain.as_deref(), Some("acme.myshopify.com"));

    let listed = cli(&["key", "list", "acme"]);
    let key_id = listed.lines().find(|l| l.contains(" first ")).and_then(|l| l.split_whitespace().next()).unwrap();
    cli(&["key", "revoke", key_id]);
    let later = TenantRegistry::open_with_table(&folder, table).await.unwrap();
    assert!(later.resolve_current(&key, KeyScope::Api).await.is_none(), "revoked from the CLI");
}
