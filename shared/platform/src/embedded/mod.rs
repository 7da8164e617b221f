//! The embedded adapters of the ports, for `lastmile dev`: a redb file for the table and the queues, files for
//! blobs. Nothing to install, and a restart (or a crash) loses nothing.

pub mod blob;
pub mod links;
pub mod queue;
pub mod table;

use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, Durability, TransactionError, WriteTransaction};

/// Whether commits skip the flush to disk: only inside [`batch_commits`].
static BATCH: AtomicBool = AtomicBool::new(false);

/// A write transaction: durable when it commits, unless a batch job holds [`batch_commits`].
pub(crate) fn begin_write(db: &Database) -> Result<WriteTransaction, TransactionError> {
    let mut txn = db.begin_write()?;
    if BATCH.load(Ordering::Relaxed) {
        // Refused only while a persistent savepoint exists, which nothing here makes: then the commit is durable.
        let _ = txn.set_durability(Durability::None);
    }
    Ok(txn)
}

/// For a batch job that can start over if the process dies (`lastmile simulate`): commits made while the guard
/// lives reach the disk together, when [`BatchCommits::finish`] makes one durable commit. Without it every commit
/// waits for the disk, which is what a server needs.
pub fn batch_commits() -> BatchCommits {
    BATCH.store(true, Ordering::Relaxed);
    BatchCommits
}

pub struct BatchCommits;

impl BatchCommits {
    /// Writes everything committed so far to disk. redb reuses the pages freed by commits only after a durable
    /// one, so a long batch checkpoints now and then to keep the file from growing.
    pub fn checkpoint(&self, db: &Database) -> Result<(), redb::Error> {
        db.begin_write()?.commit()?;
        Ok(())
    }

    /// Writes everything committed since the guard was taken to disk, and ends the batch.
    pub fn finish(self, db: &Database) -> Result<(), redb::Error> {
        BATCH.store(false, Ordering::Relaxed);
        self.checkpoint(db)
    }
}

impl Drop for BatchCommits {
    fn drop(&mut self) {
        BATCH.store(false, Ordering::Relaxed);
    }
}
