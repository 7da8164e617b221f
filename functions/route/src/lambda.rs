//! What the Lambda function receives: an SQS batch from the orders queue, answered with the ids of the
//! messages that failed (`ReportBatchItemFailures`, so only those come back), or the scheduled sweep
//! (`{"job":"sweep"}` from EventBridge).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::{Value, json};

use crate::{RouteError, Router, handle_batch};

pub async fn handle_event(router: &Router, payload: Value) -> Result<Value, RouteError> {
    if payload.get("job").and_then(Value::as_str) == Some("sweep") {
        return Ok(json!({ "sent": router.sweep().await? }));
    }
    let batch: SqsEvent = serde_json::from_value(payload)
        .map_err(|e| RouteError::Poison(format!("neither an SQS batch nor a job: {e}")))?;
    let messages: Vec<(&str, &str)> =
        batch.records.iter().filter_map(|r| Some((r.message_id.as_deref()?, r.body.as_deref()?))).collect();
    let mut response = SqsBatchResponse::default();
    for id in handle_batch(router, &messages).await {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    serde_json::to_value(response).map_err(|e| RouteError::Retry(e.to_string()))
}
