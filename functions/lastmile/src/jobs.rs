//! What AWS runs beside the functions, run in-process by `lastmile dev`: the orders and tracking queues' consumers (Lambda's
//! event source mapping: batches of up to ten, failed messages left to come back, the dead-letter queue after
//! five receives) and the scheduled jobs (EventBridge: the sweep every ten minutes; the stall job every 15 and the
//! KPI roll-up every 5 minutes, see [`crate::tracking`]; the claims job daily and at start, see [`crate::claims`];
//! the invoice reconciliation hourly, see [`crate::invoices`]; expiry of TTL items, which
//! DynamoDB does by itself, and of personal blobs past their retention, which S3's lifecycle rule does).
//! Expired personal items are invisible at once; the hourly purge deletes them from the file.

use std::sync::Arc;
use std::time::Duration;

use lastmile_fn_route::Router;
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::queue::{Queue, QueueError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a received message stays invisible to other receivers: the router's Lambda timeout.
const VISIBILITY: Duration = Duration::from_secs(30);
/// How often an idle consumer looks at the queue again.
const IDLE_POLL: Duration = Duration::from_millis(100);
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);
const RETURNS_EVERY: Duration = Duration::from_secs(5 * 60);

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

/// Starts the queues' consumers and the scheduler over what `lastmile dev` prepared.
pub fn start(prepared: &crate::dev::Prepared) -> Jobs {
    let (router, table, blobs) = (prepared.router.clone(), prepared.table.clone(), prepared.blobs.clone());
    let (stop, stopped) = watch::channel(false);
    let orders = tokio::spawn(consume(router.orders.clone(), orders_handler(router.clone()), stopped.clone()));
    let tracking_events = tokio::spawn(consume(
        prepared.tracking_queue.clone(),
        tracking_handler(prepared.tracker.clone()),
        stopped.clone(),
    ));
    let tracking = tokio::spawn(crate::tracking::schedule(
        prepared.tracking.clone(),
        prepared.registry.clone(),
        prepared.clock.clone(),
        stopped.clone(),
    ));
    let invoices = tokio::spawn(crate::invoices::schedule(
        prepared.data_dir.clone(),
        crate::invoices::ports(prepared),
        prepared.registry.clone(),
        prepared.clock.clone(),
        stopped.clone(),
    ));
    let claims = tokio::spawn(crate::claims::schedule(
        table.clone(),
        prepared.registry.clone(),
        prepared.clock.clone(),
        stopped.clone(),
    ));
    let returns = tokio::spawn(returns_schedule(prepared.returns.clone(), stopped.clone()));
    let scheduler = tokio::spawn(schedule(router, table, blobs, stopped));
    Jobs { stop, tasks: vec![orders, tracking_events, scheduler, tracking, claims, invoices, returns] }
}

/// Returns whose parcel is on its way, brought up to date with its scans every few minutes (reads do it too).
async fn returns_schedule(returns: Arc<lastmile_fn_returns::Returns>, mut stopped: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(RETURNS_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => {
                let moved = lastmile_fn_returns::progress::sweep_all(&returns).await;
                tracing::info!(moved, "returns sweep");
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Handles a batch of `(id, body)` messages; answers the ids of those that failed.
pub type BatchHandler = Arc<dyn Fn(Vec<(String, String)>) -> BoxFuture<Vec<String>> + Send + Sync>;
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The router on the orders queue.
pub fn orders_handler(router: Arc<Router>) -> BatchHandler {
    Arc::new(move |batch| {
        let router = router.clone();
        Box::pin(async move {
            let batch: Vec<(&str, &str)> = batch.iter().map(|(id, body)| (id.as_str(), body.as_str())).collect();
            lastmile_fn_route::handle_batch(&router, &batch).await
        })
    })
}

/// Tracking on the tracking queue.
pub fn tracking_handler(tracking: Arc<lastmile_fn_tracking::Tracking>) -> BatchHandler {
    Arc::new(move |batch| {
        let tracking = tracking.clone();
        Box::pin(async move {
            let batch: Vec<(&str, &str)> = batch.iter().map(|(id, body)| (id.as_str(), body.as_str())).collect();
            lastmile_fn_tracking::handle_batch(&tracking, &batch).await
        })
    })
}

/// One receive of up to ten messages, handled, the handled ones deleted; answers how many were received.
pub async fn consume_once(queue: &dyn Queue, handler: &BatchHandler) -> Result<usize, QueueError> {
    let messages = queue.receive(10, VISIBILITY).await?;
    if messages.is_empty() {
        return Ok(0);
    }
    let batch = messages.iter().map(|m| (m.id.clone(), m.body.clone())).collect();
    let failed = handler(batch).await;
    for message in messages.iter().filter(|m| !failed.contains(&m.id)) {
        if let Err(e) = queue.delete(&message.receipt).await {
            tracing::warn!(error = %e, "a handled message could not be deleted; it will be seen again, and change nothing");
        }
    }
    Ok(messages.len())
}

/// Handles every visible message until the queue has none (a failed message stays hidden for the visibility
/// timeout); answers how many were received.
pub async fn drain(queue: &dyn Queue, handler: &BatchHandler) -> Result<usize, QueueError> {
    let mut received = 0;
    loop {
        match consume_once(queue, handler).await? {
            0 => return Ok(received),
            n => received += n,
        }
    }
}

/// A queue's consumer as Lambda's event source mapping runs one, until `stopped`.
async fn consume(queue: Arc<dyn Queue>, handler: BatchHandler, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        match consume_once(queue.as_ref(), &handler).await {
            Ok(0) => {
                let _ = tokio::time::timeout(IDLE_POLL, stopped.changed()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "queue");
                let _ = tokio::time::timeout(IDLE_POLL, stopped.changed()).await;
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
        match lastmile_platform::privacy::blobs::expire_pod_files(router.table.as_ref(), blobs, &tenant.id, now).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(tenant = %tenant.id, deleted, "expired POD files removed"),
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "POD file expiry"),
        }
    }
}
