//! The conformance suites against the embedded adapters.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::path::PathBuf;
use std::sync::Arc;

use lastmile_platform::conformance::blob::{blob_suite, fs_blob_corruption, fs_blob_links};
use lastmile_platform::conformance::queue::{QueueSuiteOptions, StaleReceipts, queue_suite};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::ports::SystemClock;

/// A directory of its own per test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("lastmile-conformance-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn embedded_queue_passes_the_queue_suite() {
    let dir = TempDir::new("queue");
    let db = Arc::new(redb::Database::create(dir.0.join("queues.redb")).unwrap());
    let options = QueueOptions { max_receives: 3, dead_letter: Some("jobs-dlq".to_owned()) };
    let queue = EmbeddedQueue::open(db, "jobs", options, Arc::new(SystemClock)).unwrap();
    let dead_letters = queue.dead_letter_queue().unwrap();

    let suite = QueueSuiteOptions { max_receives: 3, stale_receipts: StaleReceipts::Rejected };
    queue_suite(&queue, &dead_letters, suite).await.unwrap();

    let counts = (queue.counts().await.unwrap(), dead_letters.counts().await.unwrap());
    assert_eq!((counts.0.total(), counts.1.total()), (0, 0));
}

#[tokio::test]
async fn fs_blob_store_passes_the_blob_suite() {
    let dir = TempDir::new("blob");
    blob_suite(&FsBlobStore::new(dir.0.clone())).await.unwrap();
}

#[tokio::test]
async fn fs_blob_store_reports_tampering_as_corruption() {
    let dir = TempDir::new("blob-corruption");
    fs_blob_corruption(dir.0.clone()).await.unwrap();
}

#[tokio::test]
async fn fs_blob_store_signs_links_that_verify_until_they_expire() {
    let dir = TempDir::new("blob-links");
    fs_blob_links(dir.0.clone()).await.unwrap();
}
