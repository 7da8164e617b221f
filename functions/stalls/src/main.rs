//! The stall job on AWS Lambda, run by an EventBridge schedule every 15 minutes, over DynamoDB, the alerts queue
//! (SQS) and Secrets Manager (their names in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::aws::{dynamodb::DynamoTable, secrets_manager::SecretsManager, sqs::SqsQueue};
use lastmile_platform::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let aws = lastmile_platform::aws::config().await;
    let clock = Arc::new(SystemClock);
    let ports = Arc::new(lastmile_fn_stalls::Ports {
        table: Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), env("LASTMILE_TABLE")?, clock.clone())),
        alerts: Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(&aws), env("LASTMILE_ALERTS_QUEUE_URL")?)),
        secrets: Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws))),
        webhook: Arc::new(lastmile_fn_stalls::HttpSender),
    });
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let (ports, registry, now) = (ports.clone(), deployed.registry.clone(), clock.now());
        async move {
            let reports = lastmile_fn_stalls::run_all(&ports, &registry, now).await;
            let raised: usize = reports.iter().map(|(_, r)| r.raised.len()).sum();
            Ok::<_, Error>(serde_json::json!({ "tenants": reports.len(), "raised": raised }))
        }
    }))
    .await
}
