//! The [`Queue`] conformance suite.
//!
//! It runs on wall time, with visibility timeouts of a second or so and real sleeps, because SQS does; the whole
//! suite takes about two seconds. Receives are retried for a few seconds where a message is expected, since
//! SQS's short polling may answer nothing while messages wait.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{check, step};
use crate::ports::queue::{MAX_BODY_BYTES, MAX_RECEIVE, Message, Queue, QueueError};

/// What the suite may expect of the queue under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSuiteOptions {
    /// The source queue's receives before a message moves to the dead-letter queue.
    pub max_receives: u32,
    pub stale_receipts: StaleReceipts,
}

/// What becomes of a delete or change of visibility with a receipt from an earlier delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReceipts {
    /// Refused with [`QueueError::StaleReceipt`] (the embedded queue).
    Rejected,
    /// Refused, or accepted as SQS may do; either way the latest receipt must still delete the message.
    MayBeAccepted,
}

/// How long to keep receiving when a message is expected.
const PATIENCE: Duration = Duration::from_secs(5);

/// Long enough not to run out during a step.
const HIDDEN: Duration = Duration::from_secs(30);

/// Runs every check against `queue`, whose dead-letter queue is `dead_letters`. Both must start empty and are
/// left empty when the suite passes.
pub async fn queue_suite(
    queue: &dyn Queue,
    dead_letters: &dyn Queue,
    options: QueueSuiteOptions,
) -> Result<(), String> {
    check!(options.max_receives >= 1, "max_receives must be at least 1");
    check!(nothing_visible(queue).await?, "the queue is not empty at the start");
    check!(nothing_visible(dead_letters).await?, "the dead-letter queue is not empty at the start");
    limits(queue).await?;
    send_receive_delete(queue, options).await?;
    batches(queue).await?;
    visibility(queue, options).await?;
    dead_letter(queue, dead_letters, options.max_receives).await?;
    check!(nothing_visible(queue).await?, "the queue is not empty at the end");
    check!(nothing_visible(dead_letters).await?, "the dead-letter queue is not empty at the end");
    Ok(())
}

/// Batch sizes out of 1..=10 and bodies over the limit are refused; a body of exactly the limit goes through whole.
async fn limits(queue: &dyn Queue) -> Result<(), String> {
    check!(is_invalid(&queue.receive(0, HIDDEN).await), "receive of 0 messages was not refused as invalid");
    check!(
        is_invalid(&queue.receive(MAX_RECEIVE + 1, HIDDEN).await),
        "receive of {} messages was not refused as invalid",
        MAX_RECEIVE + 1
    );
    let oversize = "x".repeat(MAX_BODY_BYTES + 1);
    check!(is_invalid(&queue.send(&oversize).await), "a body of {} bytes was not refused as invalid", oversize.len());

    let largest = "y".repeat(MAX_BODY_BYTES);
    let id = step("send a body of the largest size", queue.send(&largest).await)?;
    let received = receive_until(queue, 1, HIDDEN, "the largest body").await?;
    check!(received[0].id == id, "the largest body came back under id {}, sent as {id}", received[0].id);
    check!(received[0].body == largest, "the largest body came back as {} bytes", received[0].body.len());
    step("delete the largest body", queue.delete(&received[0].receipt).await)
}

async fn send_receive_delete(queue: &dyn Queue, options: QueueSuiteOptions) -> Result<(), String> {
    let id = step("send", queue.send("hello, queue").await)?;
    let message = receive_until(queue, 1, HIDDEN, "a sent message").await?.remove(0);
    check!(message.id == id, "received id {} for the message sent as {id}", message.id);
    check!(message.body == "hello, queue", "received body {:?} for {:?}", message.body, "hello, queue");
    check!(message.receive_count == 1, "the first receive counted {}", message.receive_count);
    check!(!message.receipt.is_empty(), "the receipt is empty");
    check!(nothing_visible(queue).await?, "a message in flight was delivered to a second receive");
    step("delete by receipt", queue.delete(&message.receipt).await)?;
    if options.stale_receipts == StaleReceipts::Rejected {
        check!(
            queue.change_visibility(&message.receipt, Duration::ZERO).await == Err(QueueError::StaleReceipt),
            "change_visibility with the receipt of a deleted message was not refused as stale"
        );
    }
    check!(nothing_visible(queue).await?, "a deleted message was delivered again");
    Ok(())
}

/// A receive answers at most `max` messages, each once while in flight.
async fn batches(queue: &dyn Queue) -> Result<(), String> {
    let mut sent = BTreeSet::new();
    for n in 0..3 {
        sent.insert(step("send a batch", queue.send(&format!("batch {n}")).await)?);
    }
    let first = step("receive 2", queue.receive(2, HIDDEN).await)?;
    check!(first.len() <= 2, "receive of at most 2 answered {} messages", first.len());
    let mut received = first;
    received.extend(receive_until(queue, 3 - received.len(), HIDDEN, "the rest of a batch").await?);
    let ids: BTreeSet<_> = received.iter().map(|message| message.id.clone()).collect();
    check!(received.len() == 3 && ids == sent, "a batch of 3 came back as {:?}", bodies(&received));
    for message in &received {
        step("delete a batch", queue.delete(&message.receipt).await)?;
    }
    Ok(())
}

/// A received message reappears after its visibility timeout, counted once more and under a new receipt;
/// change_visibility extends the timeout or (at zero) ends it at once.
async fn visibility(queue: &dyn Queue, options: QueueSuiteOptions) -> Result<(), String> {
    let short = Duration::from_secs(1);
    let expiring_id = step("send", queue.send("expiring").await)?;
    let extended_id = step("send", queue.send("extended").await)?;
    let received = receive_until(queue, 2, short, "two messages").await?;
    let (Some(expiring), Some(extended)) = (find(&received, &expiring_id), find(&received, &extended_id)) else {
        return Err(format!("sent expiring and extended, received {:?}", bodies(&received)));
    };
    step("change_visibility to 30 s", queue.change_visibility(&extended.receipt, HIDDEN).await)?;
    check!(nothing_visible(queue).await?, "a message was delivered again before its visibility timeout");

    tokio::time::sleep(short + Duration::from_millis(500)).await;
    let again = receive_until(queue, 1, HIDDEN, "a message after its visibility timeout").await?;
    check!(again.len() == 1 && again[0].id == expiring_id, "after the timeout came {:?}", bodies(&again));
    check!(again[0].receive_count == 2, "the second receive counted {}", again[0].receive_count);
    check!(again[0].receipt != expiring.receipt, "the second receive answered the first receipt again");

    let stale_delete = queue.delete(&expiring.receipt).await;
    match options.stale_receipts {
        StaleReceipts::Rejected => {
            check!(
                stale_delete == Err(QueueError::StaleReceipt),
                "delete with a stale receipt answered {stale_delete:?}"
            );
            let stale_change = queue.change_visibility(&expiring.receipt, Duration::ZERO).await;
            check!(
                stale_change == Err(QueueError::StaleReceipt),
                "change_visibility with a stale receipt answered {stale_change:?}"
            );
        }
        StaleReceipts::MayBeAccepted => check!(
            matches!(stale_delete, Ok(()) | Err(QueueError::StaleReceipt)),
            "delete with a stale receipt answered {stale_delete:?}"
        ),
    }
    step("delete with the latest receipt", queue.delete(&again[0].receipt).await)?;

    step("change_visibility to 0", queue.change_visibility(&extended.receipt, Duration::ZERO).await)?;
    let shown = receive_until(queue, 1, HIDDEN, "a message made visible at once").await?;
    check!(shown[0].id == extended_id, "after change_visibility(0) came {:?}", bodies(&shown));
    check!(shown[0].receive_count == 2, "the receive after change_visibility(0) counted {}", shown[0].receive_count);
    step("delete", queue.delete(&shown[0].receipt).await)
}

/// After `max_receives` receives without a delete, the next receive moves the message to the dead-letter queue
/// instead of delivering it.
async fn dead_letter(queue: &dyn Queue, dead_letters: &dyn Queue, max_receives: u32) -> Result<(), String> {
    let id = step("send", queue.send("poison").await)?;
    for count in 1..=max_receives {
        let received = receive_until(queue, 1, HIDDEN, "a message not yet dead-lettered").await?;
        check!(received[0].id == id, "expected the poison message, received {:?}", bodies(&received));
        check!(received[0].receive_count == count, "receive {count} counted {}", received[0].receive_count);
        // Handed back at once, as a failing handler would, rather than by waiting out a timeout.
        step("change_visibility to 0", queue.change_visibility(&received[0].receipt, Duration::ZERO).await)?;
    }
    let after = step("receive once too many", queue.receive(MAX_RECEIVE, HIDDEN).await)?;
    check!(
        after.is_empty(),
        "receive {} delivered {:?} instead of dead-lettering it",
        max_receives + 1,
        bodies(&after)
    );

    let dead = receive_until(dead_letters, 1, HIDDEN, "the dead-lettered message").await?;
    check!(dead[0].body == "poison", "the dead-letter queue holds {:?}", bodies(&dead));
    step("delete from the dead-letter queue", dead_letters.delete(&dead[0].receipt).await)?;
    check!(nothing_visible(queue).await?, "the dead-lettered message is still in the source queue");
    Ok(())
}

/// Receives until `wanted` messages have come, or fails after [`PATIENCE`].
async fn receive_until(
    queue: &dyn Queue,
    wanted: usize,
    visibility: Duration,
    what: &str,
) -> Result<Vec<Message>, String> {
    let deadline = Instant::now() + PATIENCE;
    let mut received: Vec<Message> = Vec::new();
    while received.len() < wanted {
        let max = (wanted - received.len()).min(MAX_RECEIVE);
        let batch = step(&format!("receive {what}"), queue.receive(max, visibility).await)?;
        check!(batch.len() <= max, "receive of at most {max} answered {} messages", batch.len());
        if batch.is_empty() {
            check!(Instant::now() < deadline, "{what}: {} of {wanted} received in {PATIENCE:?}", received.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        received.extend(batch);
    }
    Ok(received)
}

/// Whether a receive answers nothing (hiding for long whatever it does answer, which fails the suite anyway).
async fn nothing_visible(queue: &dyn Queue) -> Result<bool, String> {
    Ok(step("receive", queue.receive(MAX_RECEIVE, HIDDEN).await)?.is_empty())
}

fn is_invalid<T>(result: &Result<T, QueueError>) -> bool {
    matches!(result, Err(QueueError::Invalid(_)))
}

fn find<'a>(messages: &'a [Message], id: &str) -> Option<&'a Message> {
    messages.iter().find(|message| message.id == id)
}

/// Bodies for failure messages, cut short.
fn bodies(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|message| message.body.chars().take(40).collect()).collect()
}
