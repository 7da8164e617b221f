//! The stall job on AWS Lambda, run by an EventBridge schedule every 15 minutes, over DynamoDB, the alerts queue
//! (SQS) and Secrets Manager (their names in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::aws::Resources;
use lastmile_platform::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let clock = Arc::new(SystemClock);
    let ports = Arc::new(lastmile_fn_stalls::Ports {
        table: Arc::new(aws.table(clock.clone())?),
        alerts: Arc::new(aws.queue("LASTMILE_ALERTS_QUEUE_URL")?),
        secrets: Arc::new(aws.secrets()),
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
