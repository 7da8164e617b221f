//! The AWS adapters against a moto server: the same conformance suites the embedded adapters pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_sdk_dynamodb::config::{Credentials, Region};
use lastmile_platform::aws::dynamodb::DynamoTable;
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
