//! The claims job in `lastmile dev` (daily, and once at start, as an EventBridge schedule runs it on AWS) and
//! `lastmile job claims` (once, on demand, for one tenant or all, on a chosen day), over the embedded store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use lastmile_fn_claims::{Ports, Report, ReturnInspections};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::{Clock, SystemClock};
use lastmile_platform::ports::table::TableStore;
use lastmile_platform::tenants::TenantRegistry;
use serde_json::json;
use tokio::sync::watch;

pub const CLAIMS_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The job's ports over the embedded table: damage is found from the carriers' exceptions and the returns'
/// inspections.
pub fn ports(table: Arc<dyn TableStore>, clock: Arc<dyn Clock>) -> Ports {
    Ports { table: table.clone(), clock, inspections: Arc::new(ReturnInspections { table }) }
}

/// The job once at start, then daily, until `stopped`.
pub async fn schedule(
    table: Arc<EmbeddedTable>,
    registry: Arc<TenantRegistry>,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
) {
    let ports = ports(table, clock.clone());
    // The first tick is immediate: claims that came due while the server was down are raised at start.
    let mut daily = tokio::time::interval(CLAIMS_EVERY);
    loop {
        tokio::select! {
            _ = daily.tick() => {
                let reports = lastmile_fn_claims::run_all(&ports, &registry, clock.now()).await;
                let created: usize = reports.iter().map(|(_, r)| r.created.len()).sum();
                tracing::info!(created, "claims job");
            }
            _ = stopped.changed() => return,
        }
    }
}

/// `lastmile job claims`: the job once over the data directory, for `tenant` (else every enabled tenant), on `date`
/// (else today, UTC); answers what it did, per tenant, as JSON.
pub async fn run_once(
    data_dir: &Path,
    tenant: Option<&str>,
    date: Option<Date>,
) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
    let state = data_dir.join("state.redb");
    if !state.exists() {
        return Err(format!("no store at {}: run `lastmile dev` or `lastmile simulate` first", state.display()).into());
    }
    let registry = TenantRegistry::open(data_dir)?;
    let db = redb::Database::create(&state)
        .map_err(|e| format!("{}: {e} (is `lastmile dev` running on it? stop it first)", state.display()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let table = Arc::new(EmbeddedTable::on(Arc::new(db), clock.clone())?);
    let ports = ports(table, clock.clone());
    let today = date.unwrap_or_else(|| clock.now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let tenants: Vec<_> = match tenant {
        Some(id) => vec![registry.tenant(id).ok_or_else(|| format!("no tenant {id:?} in {}", data_dir.display()))?],
        None => registry.tenants().into_iter().filter(|t| t.enabled).collect(),
    };
    let mut out = Vec::new();
    for tenant in tenants {
        let report: Report = lastmile_fn_claims::run(&ports, &tenant, today).await?;
        out.push(json!({ "tenant": tenant.id, "report": report }));
    }
    Ok(json!({ "job": "claims", "date": today, "tenants": out }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn the_cli_run_reports_per_tenant_and_says_when_there_is_no_store() {
        let dir = std::env::temp_dir().join(format!("lastmile-claims-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let missing = run_once(&dir, None, None).await.unwrap_err().to_string();
        assert!(missing.contains("no store at"), "{missing}");
        drop(crate::dev::prepare(&dir).await.unwrap());
        let day = jiff::civil::date(2026, 12, 1);
        let done = run_once(&dir, Some("default"), Some(day)).await.unwrap();
        assert_eq!(done["date"], "2026-12-01");
        assert_eq!(done["tenants"][0]["tenant"], "default");
        assert_eq!(done["tenants"][0]["report"]["created"], json!([]));
        let unknown = run_once(&dir, Some("nobody"), Some(day)).await.unwrap_err().to_string();
        assert!(unknown.contains("no tenant \"nobody\""), "{unknown}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
