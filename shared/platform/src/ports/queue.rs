//! A queue in SQS's model: at-least-once delivery, a visibility timeout during which a received message is
//! hidden from other consumers, deletion by receipt once handled, and a dead-letter queue that takes a message
//! after it has been received a set number of times without being deleted.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: String,
    /// Names this delivery; delete and change visibility by it.
    pub receipt: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The receipt is not the message's latest delivery (it became visible and was received again).
    #[error("receipt is stale or unknown")]
    StaleReceipt,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("queue: {0}")]
    Backend(String),
}

/// Most messages in one receive (SQS's limit).
pub const MAX_RECEIVE: usize = 10;

/// Largest message body (SQS's limit is 256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[async_trait]
pub trait Queue: Send + Sync {
    /// Answers the message id.
    async fn send(&self, body: &str) -> Result<String, QueueError>;

    /// Up to `max` (≤ [`MAX_RECEIVE`]) visible messages, hidden from other receives for `visibility`. A message
    /// received more than the queue's maximum number of times moves to its dead-letter queue instead.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError>;

    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;

    /// Hides a received message for `visibility` from now (zero makes it visible at once).
    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError>;
}
