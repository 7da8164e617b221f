//! What the consumer Lambda receives: an SQS batch from the tracking queue, answered with the ids of the
//! messages that failed (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::Value;

use crate::consumer::TrackError;
use crate::{Tracking, handle_batch};

pub async fn handle_event(tracking: &Tracking, payload: Value) -> Result<Value, TrackError> {
    let batch: SqsEvent =
        serde_json::from_value(payload).map_err(|e| TrackError::Poison(format!("not an SQS batch: {e}")))?;
    let messages: Vec<(&str, &str)> =
        batch.records.iter().filter_map(|r| Some((r.message_id.as_deref()?, r.body.as_deref()?))).collect();
    let mut response = SqsBatchResponse::default();
    for id in handle_batch(tracking, &messages).await {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    serde_json::to_value(response).map_err(|e| TrackError::Retry(e.to_string()))
}

/// The tracking ports on AWS: DynamoDB, the POD bucket, and the Shopify fulfillments with the sealed tokens
/// (the sealing key's secret ARN in `LASTMILE_TOKEN_KEY_ARN`; without it, no shop is told).
pub async fn tracking_from_env(
    deployed: &lastmile_platform::function::Deployed,
) -> Result<Tracking, Box<dyn std::error::Error + Send + Sync>> {
    use std::sync::Arc;

    use lastmile_platform::aws::{Resources, env};
    use lastmile_platform::ports::SystemClock;

    let aws = Resources::load().await;
    let clock = Arc::new(SystemClock);
    let table: Arc<dyn lastmile_platform::ports::table::TableStore> = Arc::new(aws.table(clock.clone())?);
    let blobs = Arc::new(aws.bucket("LASTMILE_ARCHIVE_BUCKET")?);
    let fulfillments: Arc<dyn crate::fulfillment::FulfillmentSync> = match env("LASTMILE_TOKEN_KEY_ARN") {
        Ok(arn) => {
            let sealer = lastmile_platform::sealed::Sealer::load(&aws.secrets(), &arn, &[]).await?;
            Arc::new(crate::fulfillment::ShopifyFulfillments {
                table: table.clone(),
                sealer: Arc::new(sealer),
                admin: lastmile_fn_shopify::App::admin_at(None),
            })
        }
        Err(_) => Arc::new(crate::fulfillment::NoFulfillments),
    };
    Ok(Tracking { registry: deployed.registry.clone(), table, blobs, fulfillments, clock })
}
