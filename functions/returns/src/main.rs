//! The returns API on AWS Lambda behind API Gateway: RMAs, labels and inspections, over DynamoDB and the
//! customer-files bucket.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let returns = Arc::new(lastmile_fn_returns::lambda::returns_from_env(&deployed).await?);
    lambda_http::run(lastmile_fn_returns::api::app(deployed.registry, returns)).await
}
