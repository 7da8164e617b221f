//! A worker killed (SIGKILL) in the middle of a batch loses no message, and an idempotent handler applies each
//! one exactly once although some are delivered twice: at-least-once delivery plus an idempotent effect.
//! Once with the kill at a known point (applied, not yet deleted), once at random moments, which may fall inside
//! a commit.
//!
//! The worker is this test binary run again as a child process, filtered down to [`queue_worker_entry`], which
//! acts only when the parent has set its environment.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::ports::{Queue, SystemClock};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

/// The handler's effect: the amount of each message applied, by message id. Its key makes it idempotent.
const EFFECTS: TableDefinition<&str, u64> = TableDefinition::new("worker_effects");
/// The sum of the amounts applied: what a handler without the idempotency check would overcount.
const TOTALS: TableDefinition<&str, u64> = TableDefinition::new("worker_totals");

const DB_VAR: &str = "LASTMILE_QUEUE_WORKER_DB";
const LOG_VAR: &str = "LASTMILE_QUEUE_WORKER_LOG";
/// After how many applied messages the worker stops short of deleting and waits to be killed.
const STALL_VAR: &str = "LASTMILE_QUEUE_WORKER_STALL_AFTER";

const BATCH: usize = 10;
/// Short, so that the last worker soon sees what the killed ones left in flight.
const VISIBILITY: Duration = Duration::from_secs(2);
/// Handling time, so that a batch takes a while and kills land inside one.
const PAUSE: Duration = Duration::from_millis(10);

fn open_queue(db: Arc<Database>) -> EmbeddedQueue {
    let options = QueueOptions { max_receives: 5, dead_letter: Some("jobs-dlq".to_owned()) };
    EmbeddedQueue::open(db, "jobs", options, Arc::new(SystemClock)).unwrap()
}

#[test]
#[ignore = "the worker process of the tests below, run by them"]
fn queue_worker_entry() {
    let (Some(db), Some(log)) = (std::env::var_os(DB_VAR), std::env::var_os(LOG_VAR)) else {
        return;
    };
    let stall_after = std::env::var(STALL_VAR).ok().map(|n| n.parse().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(work_until_empty(Path::new(&db), Path::new(&log), stall_after));
}

/// Receives, applies and deletes until the queue holds nothing, visible or in flight. Logs each delivery and
/// each application, so that the parent can tell when to kill it and how often a message came.
async fn work_until_empty(db_path: &Path, log_path: &Path, stall_after: Option<usize>) {
    let db = Arc::new(Database::create(db_path).unwrap());
    let queue = open_queue(db.clone());
    let mut log = OpenOptions::new().create(true).append(true).open(log_path).unwrap();
    let mut applied = 0;
    loop {
        let batch = queue.receive(BATCH, VISIBILITY).await.unwrap();
        if batch.is_empty() {
            if queue.counts().await.unwrap().total() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        for message in &batch {
            log_line(&mut log, &format!("received {}\n", message.id));
        }
        for message in batch {
            let amount: u64 = message.body.strip_prefix("amount ").unwrap().parse().unwrap();
            apply_once(&db, &message.id, amount);
            log_line(&mut log, &format!("applied {}\n", message.id));
            applied += 1;
            if Some(applied) == stall_after {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(PAUSE).await;
            queue.delete(&message.receipt).await.unwrap();
        }
    }
}

/// Adds `amount` to the total unless this message has already been applied, in one transaction.
fn apply_once(db: &Database, id: &str, amount: u64) {
    let txn = db.begin_write().unwrap();
    {
        let mut effects = txn.open_table(EFFECTS).unwrap();
        if effects.get(id).unwrap().is_none() {
            effects.insert(id, amount).unwrap();
            let mut totals = txn.open_table(TOTALS).unwrap();
            let total = totals.get("sum").unwrap().map_or(0, |value| value.value());
            totals.insert("sum", total + amount).unwrap();
        }
    }
    txn.commit().unwrap();
}

fn spawn_worker(db: &Path, log: &Path, stall_after: Option<usize>) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["queue_worker_entry", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(DB_VAR, db)
        .env(LOG_VAR, log)
        .stdout(Stdio::null());
    if let Some(stall_after) = stall_after {
        command.env(STALL_VAR, stall_after.to_string());
    }
    command.spawn().unwrap()
}

/// The ids of the log's lines of one kind (`received`, `applied`), in order.
/// Appends a whole line in one write: `writeln!` may split a line over several writes, and a kill between them
/// would leave half a line that the next worker's line runs into.
fn log_line(log: &mut std::fs::File, line: &str) {
    log.write_all(line.as_bytes()).unwrap();
}

fn log_ids(log: &Path, kind: &str) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().filter_map(|line| line.strip_prefix(kind)?.strip_prefix(' ')).map(str::to_owned).collect()
}

fn times_each(ids: &[String]) -> BTreeMap<&str, usize> {
    let mut times: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *times.entry(id.as_str()).or_default() += 1;
    }
    times
}

/// A database with messages `amount 1` to `amount <count>` queued, and the log the workers write.
struct Scenario {
    dir: PathBuf,
    db: PathBuf,
    log: PathBuf,
    runtime: tokio::runtime::Runtime,
    sent: BTreeSet<String>,
    count: u64,
}

impl Scenario {
    fn new(test: &str, count: u64) -> Scenario {
        let dir = std::env::temp_dir().join(format!("lastmile-queue-crash-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (db, log) = (dir.join("queues.redb"), dir.join("worker.log"));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        // Closed again at the end of the block: redb lets one process at a time open the file.
        let sent = runtime.block_on(async {
            let queue = open_queue(Arc::new(Database::create(&db).unwrap()));
            let mut sent = BTreeSet::new();
            for amount in 1..=count {
                sent.insert(queue.send(&format!("amount {amount}")).await.unwrap());
            }
            sent
        });
        Scenario { dir, db, log, runtime, sent, count }
    }

    fn kill(&self, mut worker: Child) {
        worker.kill().unwrap();
        worker.wait().unwrap();
    }

    /// Runs a worker until it has emptied the queue.
    fn finish(&self) {
        let mut worker = spawn_worker(&self.db, &self.log, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = worker.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                self.kill(worker);
                panic!("the last worker did not empty the queue in 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "the last worker failed: {status}");
    }

    /// Every message delivered, applied exactly once (the total of all amounts), and the queues empty.
    fn assert_each_applied_once(&self) {
        let delivered: BTreeSet<String> = log_ids(&self.log, "received").into_iter().collect();
        assert_eq!(delivered, self.sent);

        let db = Arc::new(Database::create(&self.db).unwrap());
        let txn = db.begin_read().unwrap();
        let effects = txn.open_table(EFFECTS).unwrap();
        let applied: BTreeSet<String> =
            effects.iter().unwrap().map(|entry| entry.unwrap().0.value().to_owned()).collect();
        assert_eq!(applied, self.sent);
        let total = txn.open_table(TOTALS).unwrap().get("sum").unwrap().map(|value| value.value());
        assert_eq!(total, Some(self.count * (self.count + 1) / 2));
        drop((effects, txn));

        self.runtime.block_on(async {
            let queue = open_queue(db);
            assert_eq!(queue.counts().await.unwrap().total(), 0);
            assert_eq!(queue.dead_letter_queue().unwrap().counts().await.unwrap().total(), 0);
        });
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_worker_killed_between_applying_and_deleting_loses_nothing_and_applies_nothing_twice() {
    let scenario = Scenario::new("known-point", 40);
    // Stalls after applying the 15th message, the 5th of its second batch, before deleting it.
    let stall_after = BATCH + BATCH / 2;
    let worker = spawn_worker(&scenario.db, &scenario.log, Some(stall_after));
    let deadline = Instant::now() + Duration::from_secs(30);
    while log_ids(&scenario.log, "applied").len() < stall_after {
        assert!(Instant::now() < deadline, "the first worker applied too little in 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    scenario.kill(worker);
    scenario.finish();

    // The stalled message was handled twice, the rest of its batch delivered twice...
    let applied = log_ids(&scenario.log, "applied");
    let handled_twice: Vec<_> = times_each(&applied).into_iter().filter(|&(_, times)| times > 1).collect();
    assert_eq!(handled_twice, [(applied[stall_after - 1].as_str(), 2)]);
    let received = log_ids(&scenario.log, "received");
    let delivered_twice = times_each(&received).values().filter(|&&times| times > 1).count();
    assert_eq!(delivered_twice, BATCH - (stall_after - BATCH) + 1);
    // ...and every effect happened once.
    scenario.assert_each_applied_once();
}

#[test]
fn workers_killed_at_random_moments_lose_nothing_and_apply_nothing_twice() {
    let scenario = Scenario::new("random", 200);
    for _ in 0..4 {
        let worker = spawn_worker(&scenario.db, &scenario.log, None);
        let mut random = [0u8; 2];
        getrandom::fill(&mut random).unwrap();
        std::thread::sleep(Duration::from_millis(50 + u64::from(u16::from_le_bytes(random)) % 250));
        scenario.kill(worker);
    }
    assert!(log_ids(&scenario.log, "applied").len() < 200, "the killed workers finished the queue");
    scenario.finish();
    scenario.assert_each_applied_once();
}
