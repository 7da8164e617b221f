//! The ingest function on AWS Lambda behind API Gateway: the same routes `lastmile dev` serves, over DynamoDB,
//! the orders and tracking queues, the POD bucket and Secrets Manager (names in the environment, set by
//! infra/template.yaml). The carriers' signing secrets are read by the references in each tenant's `[tracking]`
//! carriers, when a delivery comes.

use std::sync::Arc;

use lastmile_fn_ingest::carriers::CarrierIngest;
use lastmile_platform::aws::{dynamodb::DynamoTable, s3::S3Blobs, secrets_manager::SecretsManager, sqs::SqsQueue};
use lastmile_platform::ports::{SystemClock, secrets::Secrets};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let aws = lastmile_platform::aws::config().await;
    let secrets = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws)));
    let mut shopify_secrets = vec![secrets.get(&env("LASTMILE_SHOPIFY_SECRET_ARN")?).await?];
    if let Ok(previous) = env("LASTMILE_SHOPIFY_SECRET_PREVIOUS_ARN") {
        shopify_secrets.push(secrets.get(&previous).await?);
    }
    let clock = Arc::new(SystemClock);
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), env("LASTMILE_TABLE")?, clock.clone()));
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let orders = SqsQueue::new(sqs.clone(), env("LASTMILE_ORDERS_QUEUE_URL")?);
    let tracking = SqsQueue::new(sqs, env("LASTMILE_TRACKING_QUEUE_URL")?);
    let pod_files = S3Blobs::new(aws_sdk_s3::Client::new(&aws), env("LASTMILE_POD_BUCKET")?);
    let ingest = lastmile_fn_ingest::Ingest {
        registry: deployed.registry.clone(),
        table: table.clone(),
        orders: Arc::new(orders),
        shopify_secrets,
    };
    let carriers = CarrierIngest {
        registry: deployed.registry,
        table,
        tracking: Arc::new(tracking),
        secrets,
        blobs: Arc::new(pod_files),
        clock,
    };
    lambda_http::run(lastmile_fn_ingest::app(Arc::new(ingest), Arc::new(carriers))).await
}
