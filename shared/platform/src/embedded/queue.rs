//! [`Queue`] kept in a redb database, so that a restart (or a crash) loses nothing.
//!
//! Every state change is one write transaction: a send, a receive (with any moves to the dead-letter queue it
//! makes), a delete, a change of visibility. A process killed at any point leaves the database as it was
//! before or after that change, never in between.
//!
//! Differences from SQS, all on the strict side:
//! - a receipt stops working as soon as the message is received again: deleting or changing visibility with it
//!   is [`QueueError::StaleReceipt`] (SQS may accept an older receipt and delete the message anyway);
//! - visible messages are delivered in send order (SQS's standard queues only try);
//! - a message moved to the dead-letter queue starts there with a receive count of zero.
//!
//! A receive reads from the oldest message on, skipping those in flight: cheap for the thousands of messages a
//! development queue holds, not meant for millions.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::ports::clock::Clock;
use crate::ports::queue::{MAX_BODY_BYTES, MAX_RECEIVE, Message, Queue, QueueError};

/// The messages of every queue in the database, in send order: (queue name, sequence number) → a
/// [`StoredMessage`] as JSON.
const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue_messages");

/// The next sequence number of each queue, by queue name.
const SEQUENCES: TableDefinition<&str, u64> = TableDefinition::new("queue_sequences");

/// Longest visibility timeout (SQS's limit: 12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Receives after which a message goes to the dead-letter queue instead of being delivered once more (SQS's
    /// `maxReceiveCount`). Only counts with a dead-letter queue: without one, messages are delivered forever.
    pub max_receives: u32,
    /// The name of the dead-letter queue, in the same database.
    pub dead_letter: Option<String>,
}

impl Default for QueueOptions {
    /// No dead-letter queue.
    fn default() -> QueueOptions {
        QueueOptions { max_receives: 5, dead_letter: None }
    }
}

/// How many messages a queue holds, for dashboards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Ready to be received.
    pub visible: u64,
    /// Received and neither deleted nor visible again yet.
    pub in_flight: u64,
}

impl QueueCounts {
    pub fn total(&self) -> u64 {
        self.visible + self.in_flight
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredMessage {
    id: String,
    body: String,
    /// Unix microseconds, as are the other times.
    sent_at: i64,
    /// Hidden from receives before this.
    visible_at: i64,
    receive_count: u32,
    /// The latest delivery's receipt, the only one that deletes or changes visibility.
    receipt: Option<String>,
}

/// One named queue in a redb database; clones share the database.
#[derive(Clone)]
pub struct EmbeddedQueue {
    db: Arc<Database>,
    name: String,
    options: QueueOptions,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for EmbeddedQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedQueue").field("name", &self.name).field("options", &self.options).finish()
    }
}

impl EmbeddedQueue {
    /// The queue `name` in `db` (created on first use). Names follow SQS's rules: 1 to 80 letters, digits,
    /// `-` and `_`. The options are not stored: whoever opens the queue says what they are.
    pub fn open(
        db: Arc<Database>,
        name: &str,
        options: QueueOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<EmbeddedQueue, QueueError> {
        check_name(name)?;
        if let Some(dead_letter) = &options.dead_letter {
            check_name(dead_letter)?;
            if dead_letter == name {
                return Err(QueueError::Invalid(format!("queue {name} cannot be its own dead-letter queue")));
            }
            if options.max_receives == 0 {
                return Err(QueueError::Invalid("max_receives must be at least 1".to_owned()));
            }
        }
        // Created here so that reads never meet a missing table.
        let txn = super::begin_write(&db).map_err(backend)?;
        txn.open_table(MESSAGES).map_err(backend)?;
        txn.open_table(SEQUENCES).map_err(backend)?;
        txn.commit().map_err(backend)?;
        Ok(EmbeddedQueue { db, name: name.to_owned(), options, clock })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dead-letter queue, when there is one: a plain queue (no dead-letter queue of its own) in the same
    /// database, on the same clock.
    pub fn dead_letter_queue(&self) -> Option<EmbeddedQueue> {
        self.options.dead_letter.as_ref().map(|dead_letter| EmbeddedQueue {
            db: Arc::clone(&self.db),
            name: dead_letter.clone(),
            options: QueueOptions::default(),
            clock: Arc::clone(&self.clock),
        })
    }

    /// Visible and in-flight messages, as of the clock's now.
    pub async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let queue = self.clone();
        run_blocking(move || queue.counts_now()).await
    }

    fn counts_now(&self) -> Result<QueueCounts, QueueError> {
        let now = micros(self.clock.now());
        let txn = self.db.begin_read().map_err(backend)?;
        let messages = txn.open_table(MESSAGES).map_err(backend)?;
        let mut counts = QueueCounts::default();
        for entry in messages.range(self.all_keys()).map_err(backend)? {
            let (_, value) = entry.map_err(backend)?;
            if decode(value.value())?.visible_at <= now {
                counts.visible += 1;
            } else {
                counts.in_flight += 1;
            }
        }
        Ok(counts)
    }

    fn all_keys(&self) -> std::ops::RangeInclusive<(&str, u64)> {
        (self.name.as_str(), 0)..=(self.name.as_str(), u64::MAX)
    }

    fn send_now(&self, body: &str) -> Result<String, QueueError> {
        check_body(body)?;
        let id = random_hex::<16>()?;
        let now = micros(self.clock.now());
        let message = StoredMessage {
            id: id.clone(),
            body: body.to_owned(),
            sent_at: now,
            visible_at: now,
            receive_count: 0,
            receipt: None,
        };
        let txn = super::begin_write(&self.db).map_err(backend)?;
        {
            let mut messages = txn.open_table(MESSAGES).map_err(backend)?;
            let mut sequences = txn.open_table(SEQUENCES).map_err(backend)?;
            append(&mut messages, &mut sequences, &self.name, &message)?;
        }
        txn.commit().map_err(backend)?;
        Ok(id)
    }

    fn receive_now(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::Invalid(format!("receive takes 1 to {MAX_RECEIVE} messages, not {max}")));
        }
        check_visibility(visibility)?;
        let now = micros(self.clock.now());
        let hidden_until = now.saturating_add(micros_of(visibility));
        let dead_letter = self.options.dead_letter.as_deref();

        let txn = super::begin_write(&self.db).map_err(backend)?;
        let mut received = Vec::new();
        {
            let mut messages = txn.open_table(MESSAGES).map_err(backend)?;
            let mut sequences = txn.open_table(SEQUENCES).map_err(backend)?;

            // First pick (the table cannot change while it is being read), then change.
            let mut to_deliver = Vec::new();
            let mut to_dead_letter = Vec::new();
            for entry in messages.range(self.all_keys()).map_err(backend)? {
                let (key, value) = entry.map_err(backend)?;
                let message = decode(value.value())?;
                if message.visible_at > now {
                    continue;
                }
                let sequence = key.value().1;
                if dead_letter.is_some() && message.receive_count >= self.options.max_receives {
                    to_dead_letter.push((sequence, message));
                } else {
                    to_deliver.push((sequence, message));
                    if to_deliver.len() == max {
                        break;
                    }
                }
            }
            if to_deliver.is_empty() && to_dead_letter.is_empty() {
                // Nothing changes: spare the commit's sync, which polling would otherwise pay every time.
                return Ok(Vec::new());
            }

            if let Some(dead_letter) = dead_letter {
                for (sequence, message) in to_dead_letter {
                    messages.remove((self.name.as_str(), sequence)).map_err(backend)?;
                    let moved = StoredMessage { visible_at: now, receive_count: 0, receipt: None, ..message };
                    append(&mut messages, &mut sequences, dead_letter, &moved)?;
                }
            }
            for (sequence, message) in to_deliver {
                let receipt = format!("{sequence:016x}.{}", random_hex::<16>()?);
                let delivered = StoredMessage {
                    visible_at: hidden_until,
                    receive_count: message.receive_count.saturating_add(1),
                    receipt: Some(receipt.clone()),
                    ..message
                };
                messages.insert((self.name.as_str(), sequence), encode(&delivered)?.as_slice()).map_err(backend)?;
                received.push(Message {
                    id: delivered.id,
                    body: delivered.body,
                    receipt,
                    receive_count: delivered.receive_count,
                });
            }
        }
        txn.commit().map_err(backend)?;
        Ok(received)
    }

    fn delete_now(&self, receipt: &str) -> Result<(), QueueError> {
        let sequence = sequence_of(receipt)?;
        let txn = super::begin_write(&self.db).map_err(backend)?;
        {
            let mut messages = txn.open_table(MESSAGES).map_err(backend)?;
            self.current_delivery(&messages, sequence, receipt)?;
            messages.remove((self.name.as_str(), sequence)).map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn change_visibility_now(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        check_visibility(visibility)?;
        let sequence = sequence_of(receipt)?;
        let visible_at = micros(self.clock.now()).saturating_add(micros_of(visibility));
        let txn = super::begin_write(&self.db).map_err(backend)?;
        {
            let mut messages = txn.open_table(MESSAGES).map_err(backend)?;
            let message = self.current_delivery(&messages, sequence, receipt)?;
            let changed = StoredMessage { visible_at, ..message };
            messages.insert((self.name.as_str(), sequence), encode(&changed)?.as_slice()).map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    /// The message `receipt` names, when it is that message's latest delivery.
    fn current_delivery(
        &self,
        messages: &Table<(&str, u64), &[u8]>,
        sequence: u64,
        receipt: &str,
    ) -> Result<StoredMessage, QueueError> {
        let stored = messages.get((self.name.as_str(), sequence)).map_err(backend)?;
        let message = match stored {
            Some(value) => decode(value.value())?,
            None => return Err(QueueError::StaleReceipt),
        };
        if message.receipt.as_deref() == Some(receipt) { Ok(message) } else { Err(QueueError::StaleReceipt) }
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, body: &str) -> Result<String, QueueError> {
        let (queue, body) = (self.clone(), body.to_owned());
        run_blocking(move || queue.send_now(&body)).await
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let queue = self.clone();
        run_blocking(move || queue.receive_now(max, visibility)).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let (queue, receipt) = (self.clone(), receipt.to_owned());
        run_blocking(move || queue.delete_now(&receipt)).await
    }

    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        let (queue, receipt) = (self.clone(), receipt.to_owned());
        run_blocking(move || queue.change_visibility_now(&receipt, visibility)).await
    }
}

/// Runs redb's blocking work (file I/O, a sync per commit) off the async workers.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, QueueError> + Send + 'static,
) -> Result<T, QueueError> {
    tokio::task::spawn_blocking(work).await.map_err(backend)?
}

/// Adds `message` at the end of queue `name`.
fn append(
    messages: &mut Table<(&str, u64), &[u8]>,
    sequences: &mut Table<&str, u64>,
    name: &str,
    message: &StoredMessage,
) -> Result<(), QueueError> {
    let sequence = sequences.get(name).map_err(backend)?.map_or(0, |value| value.value());
    sequences.insert(name, sequence + 1).map_err(backend)?;
    messages.insert((name, sequence), encode(message)?.as_slice()).map_err(backend)?;
    Ok(())
}

fn check_name(name: &str) -> Result<(), QueueError> {
    let ok =
        (1..=80).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok { Ok(()) } else { Err(QueueError::Invalid(format!("invalid queue name {name:?}"))) }
}

/// SQS's rules: 1 byte to [`MAX_BODY_BYTES`], of the characters XML allows.
fn check_body(body: &str) -> Result<(), QueueError> {
    if body.is_empty() || body.len() > MAX_BODY_BYTES {
        return Err(QueueError::Invalid(format!("a body takes 1 to {MAX_BODY_BYTES} bytes, not {}", body.len())));
    }
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    match body.chars().find(|&c| !allowed(c)) {
        Some(c) => Err(QueueError::Invalid(format!("a body cannot hold the character {c:?}"))),
        None => Ok(()),
    }
}

fn check_visibility(visibility: Duration) -> Result<(), QueueError> {
    if visibility > MAX_VISIBILITY {
        return Err(QueueError::Invalid(format!("visibility timeout {visibility:?} is over 12 hours")));
    }
    Ok(())
}

/// The sequence number a receipt carries (before its dot); an unreadable receipt is as good as a stale one.
fn sequence_of(receipt: &str) -> Result<u64, QueueError> {
    receipt
        .split_once('.')
        .and_then(|(sequence, _)| u64::from_str_radix(sequence, 16).ok())
        .ok_or(QueueError::StaleReceipt)
}

fn random_hex<const BYTES: usize>() -> Result<String, QueueError> {
    let mut bytes = [0u8; BYTES];
    getrandom::fill(&mut bytes).map_err(backend)?;
    Ok(hex::encode(bytes))
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

fn micros_of(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn encode(message: &StoredMessage) -> Result<Vec<u8>, QueueError> {
    serde_json::to_vec(message).map_err(backend)
}

fn decode(bytes: &[u8]) -> Result<StoredMessage, QueueError> {
    serde_json::from_slice(bytes).map_err(backend)
}

fn backend(error: impl fmt::Display) -> QueueError {
    QueueError::Backend(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use jiff::SignedDuration;

    use super::*;
    use crate::ports::clock::ManualClock;

    /// A database file of its own per test, removed when dropped.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new(test: &str) -> TempDb {
            let path = std::env::temp_dir().join(format!("lastmile-queue-{}-{test}.redb", std::process::id()));
            let _ = std::fs::remove_file(&path);
            TempDb(path)
        }

        fn open(&self) -> Arc<Database> {
            Arc::new(Database::create(&self.0).unwrap())
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap()))
    }

    fn with_dead_letter(max_receives: u32) -> QueueOptions {
        QueueOptions { max_receives, dead_letter: Some("jobs-dlq".to_owned()) }
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn delivers_in_send_order_and_hides_what_is_in_flight() {
        let temp = TempDb::new("order");
        let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock()).unwrap();
        let mut sent = Vec::new();
        for n in 0..12 {
            sent.push(queue.send(&format!("job {n}")).await.unwrap());
        }
        let first = queue.receive(10, 30 * SECOND).await.unwrap();
        let ids: Vec<_> = first.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, sent[..10]);
        assert!(first.iter().all(|m| m.receive_count == 1));
        assert_eq!(queue.counts().await.unwrap(), QueueCounts { visible: 2, in_flight: 10 });
        let rest = queue.receive(10, 30 * SECOND).await.unwrap();
        assert_eq!(rest.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["job 10", "job 11"]);
        assert!(queue.receive(10, 30 * SECOND).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_new_delivery_makes_the_old_receipt_stale() {
        let temp = TempDb::new("stale");
        let clock = clock();
        let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock.clone()).unwrap();
        queue.send("x").await.unwrap();
        let first = queue.receive(1, 30 * SECOND).await.unwrap().remove(0);
        clock.advance(SignedDuration::from_secs(29));
        assert!(queue.receive(1, 30 * SECOND).await.unwrap().is_empty());
        clock.advance(SignedDuration::from_secs(1));
        let second = queue.receive(1, 30 * SECOND).await.unwrap().remove(0);
        assert_eq!((second.id.as_str(), second.receive_count), (first.id.as_str(), 2));
        assert_ne!(second.receipt, first.receipt);
        assert_eq!(queue.delete(&first.receipt).await, Err(QueueError::StaleReceipt));
        assert_eq!(queue.change_visibility(&first.receipt, SECOND).await, Err(QueueError::StaleReceipt));
        assert_eq!(queue.delete("not a receipt").await, Err(QueueError::StaleReceipt));
        queue.delete(&second.receipt).await.unwrap();
        assert_eq!(queue.delete(&second.receipt).await, Err(QueueError::StaleReceipt));
        assert_eq!(queue.counts().await.unwrap().total(), 0);
    }

    #[tokio::test]
    async fn the_last_receipt_still_deletes_after_the_timeout_until_received_again() {
        let temp = TempDb::new("late-delete");
        let clock = clock();
        let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock.clone()).unwrap();
        queue.send("x").await.unwrap();
        let message = queue.receive(1, SECOND).await.unwrap().remove(0);
        clock.advance(SignedDuration::from_secs(5));
        queue.delete(&message.receipt).await.unwrap();
        assert!(queue.receive(1, SECOND).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn change_visibility_hides_longer_or_shows_at_once() {
        let temp = TempDb::new("visibility");
        let clock = clock();
        let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock.clone()).unwrap();
        queue.send("x").await.unwrap();
        let message = queue.receive(1, SECOND).await.unwrap().remove(0);
        queue.change_visibility(&message.receipt, 60 * SECOND).await.unwrap();
        clock.advance(SignedDuration::from_secs(59));
        assert!(queue.receive(1, SECOND).await.unwrap().is_empty());
        queue.change_visibility(&message.receipt, Duration::ZERO).await.unwrap();
        assert_eq!(queue.receive(1, SECOND).await.unwrap()[0].receive_count, 2);
    }

    #[tokio::test]
    async fn moves_to_the_dead_letter_queue_instead_of_one_receive_too_many() {
        let temp = TempDb::new("dead-letter");
        let queue = EmbeddedQueue::open(temp.open(), "jobs", with_dead_letter(3), clock()).unwrap();
        let id = queue.send("poison").await.unwrap();
        queue.send("fine").await.unwrap();
        for n in 1..=3 {
            let received = queue.receive(1, Duration::ZERO).await.unwrap();
            assert_eq!((received[0].body.as_str(), received[0].receive_count), ("poison", n));
        }
        // The fourth receive moves the poison message and delivers the next one in the same transaction.
        let received = queue.receive(10, 30 * SECOND).await.unwrap();
        assert_eq!(received.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["fine"]);
        assert_eq!(queue.counts().await.unwrap(), QueueCounts { visible: 0, in_flight: 1 });

        let dead_letters = queue.dead_letter_queue().unwrap();
        assert_eq!(dead_letters.name(), "jobs-dlq");
        let dead = dead_letters.receive(10, 30 * SECOND).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].id.as_str(), dead[0].body.as_str(), dead[0].receive_count), (id.as_str(), "poison", 1));
    }

    #[tokio::test]
    async fn without_a_dead_letter_queue_delivers_forever() {
        let temp = TempDb::new("no-dead-letter");
        let queue =
            EmbeddedQueue::open(temp.open(), "jobs", QueueOptions { max_receives: 1, dead_letter: None }, clock())
                .unwrap();
        queue.send("x").await.unwrap();
        for n in 1..=5 {
            assert_eq!(queue.receive(1, Duration::ZERO).await.unwrap()[0].receive_count, n);
        }
        assert!(queue.dead_letter_queue().is_none());
    }

    #[tokio::test]
    async fn survives_a_restart_with_messages_in_flight() {
        let temp = TempDb::new("restart");
        let clock = clock();
        let sent = {
            let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock.clone()).unwrap();
            let sent = [queue.send("a").await.unwrap(), queue.send("b").await.unwrap()];
            assert_eq!(queue.receive(1, 30 * SECOND).await.unwrap()[0].id, sent[0]);
            sent
        };
        let queue = EmbeddedQueue::open(temp.open(), "jobs", QueueOptions::default(), clock.clone()).unwrap();
        assert_eq!(queue.counts().await.unwrap(), QueueCounts { visible: 1, in_flight: 1 });
        clock.advance(SignedDuration::from_secs(30));
        let received = queue.receive(10, 30 * SECOND).await.unwrap();
        let seen: Vec<_> = received.iter().map(|m| (m.id.clone(), m.receive_count)).collect();
        assert_eq!(seen, [(sent[0].clone(), 2), (sent[1].clone(), 1)]);
    }

    #[tokio::test]
    async fn queues_in_one_database_keep_apart() {
        let temp = TempDb::new("apart");
        let db = temp.open();
        let jobs = EmbeddedQueue::open(db.clone(), "jobs", QueueOptions::default(), clock()).unwrap();
        let mail = EmbeddedQueue::open(db, "mail", QueueOptions::default(), clock()).unwrap();
        jobs.send("job").await.unwrap();
        assert!(mail.receive(10, SECOND).await.unwrap().is_empty());
        assert_eq!(jobs.receive(10, SECOND).await.unwrap()[0].body, "job");
    }

    fn invalid<T>(result: Result<T, QueueError>) -> bool {
        matches!(result, Err(QueueError::Invalid(_)))
    }

    #[tokio::test]
    async fn rejects_what_sqs_rejects() {
        let temp = TempDb::new("invalid");
        let db = temp.open();
        let queue = EmbeddedQueue::open(db.clone(), "jobs", QueueOptions::default(), clock()).unwrap();
        assert!(invalid(queue.receive(0, SECOND).await));
        assert!(invalid(queue.receive(MAX_RECEIVE + 1, SECOND).await));
        assert!(invalid(queue.receive(1, MAX_VISIBILITY + SECOND).await));
        assert!(invalid(queue.send("").await));
        assert!(invalid(queue.send("nul \0 inside").await));
        assert!(invalid(queue.send(&"x".repeat(MAX_BODY_BYTES + 1)).await));
        assert!(queue.send(&"x".repeat(MAX_BODY_BYTES)).await.is_ok());
        assert!(queue.send("tabs\t, newlines\n and ünïcödé ✓").await.is_ok());

        let open = |name: &str, options: QueueOptions| EmbeddedQueue::open(db.clone(), name, options, clock());
        assert!(invalid(open("", QueueOptions::default())));
        assert!(invalid(open("has space", QueueOptions::default())));
        assert!(invalid(open(&"q".repeat(81), QueueOptions::default())));
        assert!(invalid(open("jobs-dlq", with_dead_letter(3))));
        assert!(invalid(open("jobs", with_dead_letter(0))));
        assert!(invalid(open("jobs", QueueOptions { max_receives: 3, dead_letter: Some("dlq/x".to_owned()) })));
    }
}
