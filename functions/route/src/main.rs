//! The router on AWS Lambda: SQS batches from the orders queue and the scheduled sweep, over DynamoDB and SQS
//! (their names in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::aws::Resources;
use lastmile_platform::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let clock = Arc::new(SystemClock);
    let router = Arc::new(lastmile_fn_route::Router {
        registry: deployed.registry,
        table: Arc::new(aws.table(clock.clone())?),
        orders: Arc::new(aws.queue("LASTMILE_ORDERS_QUEUE_URL")?),
        rules: deployed.rules,
        clock,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let router = router.clone();
        async move { lastmile_fn_route::lambda::handle_event(&router, event.payload).await.map_err(Error::from) }
    }))
    .await
}
