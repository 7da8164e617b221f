//! Tracking's jobs and API in `lastmile dev`: the stall job (every 15 minutes) and the KPI roll-up (every 5), as
//! EventBridge runs them on AWS, over the embedded store; the alerts queue is `alerts` in the same file, the
//! webhook secrets are files in the data directory's `secrets` folder (a tenant's
//! `tracking.alert_webhook.secret` names one). [`run_stalls_once`] and [`run_kpi_once`] run a job at a given
//! instant, for the CLI and the tests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use lastmile_fn_kpi::api::KpiApi;
use lastmile_fn_stalls::{HttpSender, Ports as StallPorts};
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::secrets::FileSecrets;
use lastmile_platform::tenants::TenantRegistry;
use tokio::sync::watch;

pub const STALLS_EVERY: Duration = Duration::from_secs(15 * 60);
pub const KPI_EVERY: Duration = Duration::from_secs(5 * 60);

/// The folder of the data directory holding the alert webhooks' secrets, one file per reference.
pub const SECRETS_DIR: &str = "secrets";

pub struct Tracking {
    pub stalls: Arc<StallPorts>,
    pub kpi: Arc<KpiApi>,
    pub table: Arc<EmbeddedTable>,
    pub alerts: EmbeddedQueue,
}

impl Tracking {
    /// The ports over the data directory's store (`db`, where `table` lives).
    pub fn open(
        db: Arc<redb::Database>,
        table: Arc<EmbeddedTable>,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Tracking, Box<dyn std::error::Error + Send + Sync>> {
        let options = QueueOptions { max_receives: 5, dead_letter: Some("alerts-dlq".into()) };
        let alerts = EmbeddedQueue::open(db, "alerts", options, clock)?;
        let stalls = Arc::new(StallPorts {
            table: table.clone(),
            alerts: Arc::new(alerts.clone()),
            secrets: Arc::new(FileSecrets::new(data_dir.join(SECRETS_DIR))),
            webhook: Arc::new(HttpSender),
        });
        Ok(Tracking { stalls, kpi: Arc::new(KpiApi { table: table.clone() }), table, alerts })
    }
}

/// The stall job once, for every tenant, at `now`: the alerts raised.
pub async fn run_stalls_once(tracking: &Tracking, registry: &TenantRegistry, now: Timestamp) -> usize {
    let reports = lastmile_fn_stalls::run_all(&tracking.stalls, registry, now).await;
    reports.iter().map(|(_, r)| r.raised.len()).sum()
}

/// The KPI roll-up once, for every tenant, at `now`: the records moved.
pub async fn run_kpi_once(tracking: &Tracking, registry: &TenantRegistry, now: Timestamp) -> usize {
    let reports = lastmile_fn_kpi::run_all(tracking.table.as_ref(), registry, now).await;
    reports.iter().map(|(_, r)| r.moved).sum()
}

/// Both jobs on their schedules until `stopped`; the first runs are one period away, as a schedule's are.
pub async fn schedule(
    tracking: Arc<Tracking>,
    registry: Arc<TenantRegistry>,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut stalls = tokio::time::interval(STALLS_EVERY);
    let mut kpi = tokio::time::interval(KPI_EVERY);
    stalls.tick().await;
    kpi.tick().await;
    loop {
        tokio::select! {
            _ = stalls.tick() => {
                let raised = run_stalls_once(&tracking, &registry, clock.now()).await;
                tracing::info!(raised, "stall job");
            }
            _ = kpi.tick() => {
                let moved = run_kpi_once(&tracking, &registry, clock.now()).await;
                tracing::info!(moved, "KPI roll-up");
            }
            _ = stopped.changed() => return,
        }
    }
}
