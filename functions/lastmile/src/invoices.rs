//! The invoice reconciliation job and API in `lastmile dev`, over the embedded store and the data directory's
//! blob store: at start, then hourly as EventBridge runs it on AWS. Invoice files are dropped as plain files into
//! `<data dir>/invoices/inbox/{tenant}/{layout}/` (the layout as named in `shared/data/invoices/layouts.toml`);
//! each run first moves them into the blob store's inbox `invoices/inbox/{tenant}/{layout}/{file}`, which is
//! what the job reads (an S3 prefix on AWS), then reconciles what it has not processed yet.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use lastmile_fn_reconcile::api::InvoicesApi;
use lastmile_fn_reconcile::{Ports, Report};
use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::tenants::TenantRegistry;
use tokio::sync::watch;

use crate::dev::Prepared;

pub const RECONCILE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Where plain invoice files are dropped in a data directory.
pub fn drop_folder(data_dir: &Path) -> PathBuf {
    data_dir.join("invoices").join("inbox")
}

pub fn ports(prepared: &Prepared) -> Ports {
    Ports { table: prepared.table.clone(), blobs: prepared.blobs.clone() }
}

pub fn api(prepared: &Prepared) -> Arc<InvoicesApi> {
    Arc::new(InvoicesApi { table: prepared.table.clone(), blobs: prepared.blobs.clone() })
}

/// Moves the files dropped in `<data dir>/invoices/inbox/{tenant}/{layout}/` into the blob store's inbox; a file
/// is removed from the folder only once it is stored. Answers how many were moved.
pub async fn take_dropped(
    data_dir: &Path,
    blobs: &dyn BlobStore,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let root = drop_folder(data_dir);
    let mut moved = 0;
    for tenant in subfolders(&root)? {
        for layout in subfolders(&tenant)? {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&layout)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                // Hidden files are an editor's or a file manager's, not invoices.
                .filter(|p| p.is_file() && !name(p).starts_with('.'))
                .collect();
            files.sort();
            for file in files {
                let folder = format!("invoices/inbox/{}/{}", name(&tenant), name(&layout));
                let bytes = std::fs::read(&file)?;
                let mut key = format!("{folder}/{}", key_segment(&name(&file)));
                // Inbox files are not changed in place: other bytes under a name taken come under a new one.
                if blobs.get(&key).await.ok().flatten().is_some_and(|existing| existing != bytes) {
                    let hash = lastmile_platform::ports::blob::sha256_hex(&bytes);
                    key = format!("{folder}/{}-{}", &hash[..8], key_segment(&name(&file)));
                }
                blobs.put(&key, &bytes, "text/csv").await?;
                std::fs::remove_file(&file)?;
                moved += 1;
            }
        }
    }
    Ok(moved)
}

fn subfolders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut dirs: Vec<PathBuf> =
                entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
            dirs.sort();
            Ok(dirs)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A file name as a blob key segment: letters, digits, `-`, `_`, `.`; anything else becomes `-`.
fn key_segment(name: &str) -> String {
    let segment: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' }).collect();
    if segment.chars().all(|c| c == '.') { "invoice.csv".to_owned() } else { segment }
}

/// The dropped files taken in, then the job once for every tenant at `now`.
pub async fn run_once(prepared: &Prepared, now: Timestamp) -> Vec<(String, Report)> {
    if let Err(e) = take_dropped(&prepared.data_dir, prepared.blobs.as_ref()).await {
        tracing::error!(error = %e, "invoice inbox folder");
    }
    lastmile_fn_reconcile::run_all(&ports(prepared), &prepared.registry, now).await
}

/// The job on its schedule until `stopped`; the first run is one period away, as a schedule's is.
pub async fn schedule(
    data_dir: PathBuf,
    ports: Ports,
    registry: Arc<TenantRegistry>,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
) {
    // The first tick is immediate: invoices dropped while the server was down (or by `lastmile simulate`) are
    // reconciled at start.
    let mut every = tokio::time::interval(RECONCILE_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(e) = take_dropped(&data_dir, ports.blobs.as_ref()).await {
                    tracing::error!(error = %e, "invoice inbox folder");
                }
                let reports = lastmile_fn_reconcile::run_all(&ports, &registry, clock.now()).await;
                let files: usize = reports.iter().map(|(_, r)| r.processed.len()).sum();
                tracing::info!(files, "invoice reconciliation");
            }
            _ = stopped.changed() => return,
        }
    }
}

/// `lastmile job reconcile`: the job once, now, for one tenant; prints its report as JSON.
pub fn cli(args: &crate::cli::ReconcileArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let prepared = crate::dev::prepare(&args.data_dir).await.map_err(|e| e.to_string())?;
        let tenant = prepared.registry.tenant(&args.tenant).ok_or_else(|| format!("no tenant {:?}", args.tenant))?;
        take_dropped(&prepared.data_dir, prepared.blobs.as_ref()).await.map_err(|e| e.to_string())?;
        let report = lastmile_fn_reconcile::run(&ports(&prepared), &tenant, prepared.clock.now())
            .await
            .map_err(|e| e.to_string())?;
        let out = serde_json::json!({ "tenant": tenant.id, "report": report });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
        Ok::<i32, Box<dyn std::error::Error>>(0)
    })
}
