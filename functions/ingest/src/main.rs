//! The ingest function on AWS Lambda behind API Gateway: the same routes `lastmile dev` serves, over DynamoDB,
//! SQS and the Shopify secret from Secrets Manager (the ARNs in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::aws::{dynamodb::DynamoTable, secrets_manager::SecretsManager, sqs::SqsQueue};
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
    let orders = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), env("LASTMILE_ORDERS_QUEUE_URL")?);
    let ingest = lastmile_fn_ingest::Ingest {
        registry: deployed.registry,
        table: Arc::new(table),
        orders: Arc::new(orders),
        shopify_secrets,
    };
    lambda_http::run(lastmile_fn_ingest::app(Arc::new(ingest))).await
}
