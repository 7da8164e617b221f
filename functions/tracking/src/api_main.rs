//! The tracking API on AWS Lambda behind API Gateway: tracking numbers and the dispute pack, over DynamoDB, the
//! POD bucket and the shops' Admin API.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let tracking = Arc::new(lastmile_fn_tracking::lambda::tracking_from_env(&deployed).await?);
    lambda_http::run(lastmile_fn_tracking::api::app(deployed.registry, tracking)).await
}
