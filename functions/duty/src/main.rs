//! The duty function on AWS Lambda behind API Gateway: the same router `lastmile dev` serves.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    lambda_http::run(lastmile_fn_duty::app(deployed.registry, deployed.rules)).await
}
