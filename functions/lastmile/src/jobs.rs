//! What AWS runs beside the functions, run in-process by `lastmile dev`: the orders queue's consumer (Lambda's
//! event source mapping: batches of up to ten, failed messages left to come back, the dead-letter queue after
//! five receives) and the scheduled jobs (EventBridge: the sweep every ten minutes; the stall job every 15 and the
//! KPI roll-up every 5 minutes, see [`crate::tracking`]; expiry of TTL items, which
//! DynamoDB does by itself, and of personal blobs past their retention, which S3's lifecycle rule does).
//! Expired personal items are invisible at once; the hourly purge deletes them from the file.

use std::sync::Arc;
use std::time::Duration;

use lastmile_fn_route::Router;
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::table::EmbeddedTable;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a received message stays invisible to other receivers: the router's Lambda timeout.
const VISIBILITY: Duration = Duration::from_secs(30);
/// How often an idle consumer looks at the queue again.
const IDLE_POLL: Duration = Duration::from_millis(100);
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);

pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Lets the current batch finish, then stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts the consumer and the scheduler over what `lastmile dev` prepared.
pub fn start(prepared: &crate::dev::Prepared) -> Jobs {
    let (router, table, blobs) = (prepared.router.clone(), prepared.table.clone(), prepared.blobs.clone());
    let (stop, stopped) = watch::channel(false);
    let consumer = tokio::spawn(consume(router.clone(), stopped.clone()));
    let tracking =
        tokio::spawn(crate::tracking::schedule(prepared.tracking.clone(), prepared.registry.clone(), stopped.clone()));
    let scheduler = tokio::spawn(schedule(router, table, blobs, stopped));
    Jobs { stop, tasks: vec![consumer, scheduler, tracking] }
}

async fn consume(router: Arc<Router>, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let messages = match router.orders.receive(10, VISIBILITY).await {
            Ok(messages) => messages,
            Err(e) => {
                tracing::error!(error = %e, "orders queue");
                Vec::new()
            }
        };
        if messages.is_empty() {
            let _ = tokio::time::timeout(IDLE_POLL, stopped.changed()).await;
            continue;
        }
        let batch: Vec<(&str, &str)> = messages.iter().map(|m| (m.id.as_str(), m.body.as_str())).collect();
        let failed = lastmile_fn_route::handle_batch(&router, &batch).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.id)) {
            if let Err(e) = router.orders.delete(&message.receipt).await {
                tracing::warn!(error = %e, "a routed message could not be deleted; it will be seen again, and change nothing");
            }
        }
    }
}

async fn schedule(
    router: Arc<Router>,
    table: Arc<EmbeddedTable>,
    blobs: Arc<FsBlobStore>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut purge = tokio::time::interval(PURGE_EVERY);
    // The first tick of an interval is immediate: skip it, as a schedule's first run is one period away.
    sweep.tick().await;
    purge.tick().await;
    loop {
        tokio::select! {
            _ = sweep.tick() => match router.sweep().await {
                Ok(sent) => tracing::info!(sent, "sweep: held orders sent back"),
                Err(e) => tracing::error!(error = %e, "sweep"),
            },
            _ = purge.tick() => {
                match table.purge_expired() {
                    Ok(purged) => tracing::info!(purged, "expired items removed"),
                    Err(e) => tracing::error!(error = %e, "expiry"),
                }
                expire_blobs(&router, &blobs).await;
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Personal blobs past their kind's retention, tenant by tenant (the keys carry the day they were stored).
async fn expire_blobs(router: &Router, blobs: &FsBlobStore) {
    let now = router.clock.now();
    for tenant in router.registry.tenants() {
        match lastmile_platform::privacy::blobs::expire(blobs, &tenant.id, now).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(tenant = %tenant.id, deleted, "expired personal blobs removed"),
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "blob expiry"),
        }
    }
}
