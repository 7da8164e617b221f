//! The tracking consumer on AWS Lambda: SQS batches from the tracking queue, over DynamoDB, the POD bucket and
//! the shops' Admin API (names in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let tracking = Arc::new(lastmile_fn_tracking::lambda::tracking_from_env(&deployed).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let tracking = tracking.clone();
        async move { lastmile_fn_tracking::lambda::handle_event(&tracking, event.payload).await.map_err(Error::from) }
    }))
    .await
}
