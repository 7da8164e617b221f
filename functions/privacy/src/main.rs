//! The compliance function on AWS Lambda behind API Gateway: the same route `lastmile dev` serves, over
//! DynamoDB, S3 and the Shopify secret from Secrets Manager (the names in the environment, set by
//! infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::aws::Resources;
use lastmile_platform::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let shopify_secrets = aws.shopify_secrets().await?;
    let table = aws.table(Arc::new(SystemClock))?;
    let blobs = aws.bucket("LASTMILE_ARCHIVE_BUCKET")?;
    let compliance = lastmile_fn_privacy::Compliance {
        registry: deployed.registry,
        table: Arc::new(table),
        blobs: Arc::new(blobs),
        clock: Arc::new(SystemClock),
        shopify_secrets,
    };
    lambda_http::run(lastmile_fn_privacy::app(Arc::new(compliance))).await
}
