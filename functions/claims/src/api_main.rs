//! The claims API on AWS Lambda behind API Gateway, over DynamoDB (the table name in the environment, set by
//! infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = lastmile_platform::aws::Resources::load().await;
    let clock = Arc::new(SystemClock);
    let table = aws.table(clock.clone())?;
    let api = lastmile_fn_claims::api::ClaimsApi { table: Arc::new(table), clock };
    lambda_http::run(lastmile_fn_claims::api::app(deployed.registry, Arc::new(api))).await
}
