//! The AWS adapters against a moto server: the same conformance suites the embedded adapters pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod routing;

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
