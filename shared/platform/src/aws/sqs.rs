//! The queue port on SQS. Dead-lettering is SQS's own redrive policy (`maxReceiveCount`), set on the queue by
//! the infrastructure template or by [`SqsQueue::create_with_dead_letters`].

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use crate::ports::queue::{MAX_BODY_BYTES, MAX_RECEIVE, Message, Queue, QueueError};

pub struct SqsQueue {
    client: Client,
    url: String,
}

fn backend(e: impl std::fmt::Display) -> QueueError {
    QueueError::Backend(e.to_string())
}

/// SQS counts visibility in whole seconds, up to 12 hours.
fn seconds(visibility: Duration) -> i32 {
    let whole = visibility.as_secs() + u64::from(visibility.subsec_nanos() > 0);
    i32::try_from(whole.min(12 * 60 * 60)).unwrap_or(i32::MAX)
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> SqsQueue {
        SqsQueue { client, url: url.into() }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates `name` and its dead-letter queue `name-dlq`, which takes a message after `max_receives`
    /// receives; answers both (tests and tooling; a deployment gets them from the template).
    pub async fn create_with_dead_letters(
        client: &Client,
        name: &str,
        max_receives: u32,
    ) -> Result<(SqsQueue, SqsQueue), QueueError> {
        let dlq = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let dlq_url = dlq.queue_url().ok_or_else(|| backend("no URL for the dead-letter queue"))?.to_owned();
        let arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or_else(|| backend("no ARN for the dead-letter queue"))?;
        let redrive = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{max_receives}"}}"#);
        let source = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let url = source.queue_url().ok_or_else(|| backend("no URL for the queue"))?.to_owned();
        Ok((SqsQueue::new(client.clone(), url), SqsQueue::new(client.clone(), dlq_url)))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &str) -> Result<String, QueueError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(QueueError::Invalid(format!("a body has at most {MAX_BODY_BYTES} bytes")));
        }
        let output = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        output.message_id().map(str::to_owned).ok_or_else(|| backend("SQS answered no message id"))
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::Invalid(format!("receive 1 to {MAX_RECEIVE} messages")));
        }
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max).unwrap_or(1))
            .visibility_timeout(seconds(visibility))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        Ok(output
            .messages()
            .iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1);
                Some(Message {
                    id: m.message_id()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        match self.client.delete_message().queue_url(&self.url).receipt_handle(receipt).send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                e if e.is_receipt_handle_is_invalid() => Err(QueueError::StaleReceipt),
                e => Err(backend(e)),
            },
        }
    }

    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        match self
            .client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(visibility))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                e if e.is_receipt_handle_is_invalid() || e.is_message_not_inflight() => Err(QueueError::StaleReceipt),
                e => Err(backend(e)),
            },
        }
    }
}
