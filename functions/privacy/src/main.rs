//! The compliance function on AWS Lambda behind API Gateway: the same route `lastmile dev` serves, over
//! DynamoDB, S3 and the Shopify secret from Secrets Manager (the names in the environment, set by
//! infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::aws::{dynamodb::DynamoTable, s3::S3Blobs, secrets_manager::SecretsManager};
use lastmile_platform::ports::{SystemClock, secrets::Secrets};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let aws = lastmile_platform::aws::config().await;
    let secrets = SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws));
    let mut shopify_secrets = vec![secrets.get(&env("LASTMILE_SHOPIFY_SECRET_ARN")?).await?];
    if let Ok(previous) = env("LASTMILE_SHOPIFY_SECRET_PREVIOUS_ARN") {
        shopify_secrets.push(secrets.get(&previous).await?);
    }
    let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), env("LASTMILE_TABLE")?, Arc::new(SystemClock));
    let blobs = S3Blobs::new(aws_sdk_s3::Client::new(&aws), env("LASTMILE_ARCHIVE_BUCKET")?);
    let compliance = lastmile_fn_privacy::Compliance {
        registry: deployed.registry,
        table: Arc::new(table),
        blobs: Arc::new(blobs),
        clock: Arc::new(SystemClock),
        shopify_secrets,
    };
    lambda_http::run(lastmile_fn_privacy::app(Arc::new(compliance))).await
}
