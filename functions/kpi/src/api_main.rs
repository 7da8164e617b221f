//! `GET /v1/kpis` on AWS Lambda behind API Gateway, over DynamoDB (the table name in the environment, set by
//! infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = lastmile_platform::aws::Resources::load().await;
    let table = aws.table(Arc::new(SystemClock))?;
    let api = lastmile_fn_kpi::api::KpiApi { table: Arc::new(table) };
    lambda_http::run(lastmile_fn_kpi::api::app(deployed.registry, Arc::new(api))).await
}
