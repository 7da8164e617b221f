//! The ingest function on AWS Lambda behind API Gateway: the same routes `lastmile dev` serves, over DynamoDB,
//! the orders and tracking queues, the POD bucket and Secrets Manager (names in the environment, set by
//! infra/template.yaml). The carriers' signing secrets are read by the references in each tenant's `[tracking]`
//! carriers, when a delivery comes.

use std::sync::Arc;

use lastmile_fn_ingest::carriers::CarrierIngest;
use lastmile_platform::aws::Resources;
use lastmile_platform::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let shopify_secrets = aws.shopify_secrets().await?;
    let clock = Arc::new(SystemClock);
    let table = Arc::new(aws.table(clock.clone())?);
    let orders = aws.queue("LASTMILE_ORDERS_QUEUE_URL")?;
    let tracking = aws.queue("LASTMILE_TRACKING_QUEUE_URL")?;
    let pod_files = aws.bucket("LASTMILE_ARCHIVE_BUCKET")?;
    let ingest = lastmile_fn_ingest::Ingest {
        registry: deployed.registry.clone(),
        table: table.clone(),
        orders: Arc::new(orders),
        shopify_secrets,
    };
    let carriers = CarrierIngest {
        registry: deployed.registry,
        table,
        tracking: Arc::new(tracking),
        secrets: Arc::new(aws.secrets()),
        blobs: Arc::new(pod_files),
        clock,
    };
    lambda_http::run(lastmile_fn_ingest::app(Arc::new(ingest), Arc::new(carriers))).await
}
