//! `lastmile dev`: every function in one process over the data directory. On first start it writes the
//! server configuration, the `default` tenant with a sample configuration, and a local API key, which it
//! prints once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lastmile_core::duty::rules::Rules;
use lastmile_fn_ingest::Ingest;
use lastmile_fn_ingest::carriers::CarrierIngest;
use lastmile_fn_privacy::Compliance;
use lastmile_fn_route::Router as OrderRouter;
use lastmile_fn_route::api::RoutingApi;
use lastmile_fn_shopify::Credentials;
use lastmile_fn_tracking::fulfillment::ShopifyFulfillments;
use lastmile_platform::config::{self, ServerConfig, TenantConfig};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::embedded::links::LinkSigner;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::{Clock, SystemClock};
use lastmile_platform::ports::secrets::{EnvSecrets, FileSecrets};
use lastmile_platform::sealed::Sealer;
use lastmile_platform::tenants::{KeyScope, TenantRegistry};

pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug)]
pub struct DevOptions {
    pub listen: Option<String>,
    pub data_dir: PathBuf,
}

/// What the first start created, to tell the user once.
pub struct Prepared {
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub registry: Arc<TenantRegistry>,
    /// The customs rules: the shipped ones overlaid by the data directory's `customs` folder.
    pub rules: Arc<Rules>,
    /// Orders in, over the embedded table and queue in the data directory's `state.redb`.
    pub ingest: Arc<Ingest>,
    /// The router, consuming the same orders queue in this process.
    pub router: Arc<OrderRouter>,
    pub routing_api: Arc<RoutingApi>,
    /// Shopify's compliance webhooks, over the table and the blob store in the data directory's `blobs`.
    pub compliance: Arc<Compliance>,
    /// The Shopify app's install, callback and uninstall routes.
    pub shopify: Arc<lastmile_fn_shopify::App>,
    /// The table, for the jobs that keep it (expiry).
    pub table: Arc<EmbeddedTable>,
    /// The blob store, for the job that expires personal blobs.
    pub blobs: Arc<FsBlobStore>,
    /// Signs the blob store's short-lived links to POD files, served at `/pod-files/…`.
    pub pod_links: LinkSigner,
    /// Dashboard sessions, signed with the data directory's secret.
    pub dashboard: Arc<crate::dashboard::Dashboard>,
    /// The stall and KPI jobs' ports and the KPI API.
    pub tracking: Arc<crate::tracking::Tracking>,
    /// Carrier events in (signed webhooks, POD uploads), onto the tracking queue.
    pub carriers: Arc<CarrierIngest>,
    /// The tracking API and the tracking queue's consumer.
    pub tracker: Arc<lastmile_fn_tracking::Tracking>,
    /// The tracking queue, consumed in this process.
    pub tracking_queue: Arc<EmbeddedQueue>,
    /// The returns API and its sweep, over the tracking function's ports; no carrier account connected.
    pub returns: Arc<lastmile_fn_returns::Returns>,
    /// The clock every port reads: the system's, or a simulation's.
    pub clock: Arc<dyn Clock>,
    /// The local API key, when this start created it.
    pub new_key: Option<String>,
    /// The token of the default tenant's Shopify CarrierService URL, when this start created it.
    pub new_carrier_service_token: Option<String>,
}

/// Opens the data directory, creating the configuration, the default tenant and its key on first use.
pub async fn prepare(data_dir: &Path) -> Result<Prepared, Box<dyn std::error::Error + Send + Sync>> {
    prepare_with_clock(data_dir, Arc::new(SystemClock)).await
}

/// [`prepare`] with every port reading `clock`: `lastmile simulate` runs the same functions on simulated time.
pub async fn prepare_with_clock(
    data_dir: &Path,
    clock: Arc<dyn Clock>,
) -> Result<Prepared, Box<dyn std::error::Error + Send + Sync>> {
    std::fs::create_dir_all(data_dir)?;
    let server = config::load_or_init_server(data_dir)?;
    let registry = Arc::new(TenantRegistry::open(data_dir)?);
    if registry.tenant(DEFAULT_TENANT).is_none() {
        registry.put_tenant(TenantConfig::sample(DEFAULT_TENANT)).await?;
    }
    let missing = |scope: KeyScope| registry.keys(DEFAULT_TENANT).iter().all(|k| k.revoked || k.scope != scope);
    let mut new_key = None;
    if missing(KeyScope::Api) {
        new_key = Some(registry.create_key(DEFAULT_TENANT, "local", &now_rfc3339()).await?.1);
    }
    let mut new_carrier_service_token = None;
    if missing(KeyScope::CarrierService) {
        let created =
            registry.create_scoped_key(DEFAULT_TENANT, "shopify", &now_rfc3339(), KeyScope::CarrierService).await?;
        new_carrier_service_token = Some(created.1);
    }
    create_carrier_secrets(data_dir, &registry)?;
    let secret = crate::dashboard::session::SessionSecret::load_or_create(data_dir)?;
    let rules = Arc::new(lastmile_platform::customs::load_rules(&data_dir.join("customs"))?);
    let state = embedded_state(data_dir, registry.clone(), rules.clone(), clock.clone())?;
    let dashboard = crate::dashboard::Dashboard::with_table(registry.clone(), secret, state.table.clone());
    let shopify = Arc::new(shopify_app(data_dir, &server, registry.clone(), state.table.clone()).await?);
    // The shops' fulfillments are made with the tokens the app keeps sealed; a tenant without an installed shop
    // is not told anything.
    let fulfillments = Arc::new(ShopifyFulfillments {
        table: state.table.clone(),
        sealer: shopify.sealer.clone(),
        admin: shopify.admin.clone(),
    });
    let tracker = Arc::new(lastmile_fn_tracking::Tracking {
        registry: registry.clone(),
        table: state.table.clone(),
        blobs: state.blobs.clone(),
        fulfillments,
        clock: clock.clone(),
    });
    let returns = Arc::new(lastmile_fn_returns::Returns::builtin(
        tracker.clone(),
        Arc::new(lastmile_fn_tracking::labels::NoCarrierConnected),
    )?);
    Ok(Prepared {
        data_dir: data_dir.to_owned(),
        server,
        registry,
        rules,
        ingest: state.ingest,
        router: state.router,
        routing_api: state.routing_api,
        compliance: state.compliance,
        shopify,
        table: state.table,
        blobs: state.blobs,
        pod_links: state.pod_links,
        dashboard,
        tracking: state.tracking,
        carriers: state.carriers,
        tracker,
        tracking_queue: state.tracking_queue,
        returns,
        clock,
        new_key,
        new_carrier_service_token,
    })
}

/// The Shopify app's client secrets: the current one and, during a rotation, the previous. Each from its
/// environment variable, else from its file in the data directory (`shopify-api-secret`,
/// `shopify-api-secret.previous`, owner-only), so that a secret need not sit in a shell's environment.
pub fn shopify_secrets(data_dir: &Path) -> Vec<String> {
    let files = FileSecrets::new(data_dir);
    [
        ("LASTMILE_SHOPIFY_API_SECRET", SHOPIFY_SECRET_FILE),
        ("LASTMILE_SHOPIFY_API_SECRET_PREVIOUS", SHOPIFY_PREVIOUS_SECRET_FILE),
    ]
    .iter()
    .filter_map(|(variable, file)| std::env::var(variable).ok().or_else(|| files.read(file).ok()))
    .map(|secret| secret.trim().to_owned())
    .filter(|secret| !secret.is_empty())
    .collect()
}

/// The data directory's files that may hold the Shopify app's client secrets.
pub const SHOPIFY_SECRET_FILE: &str = "shopify-api-secret";
pub const SHOPIFY_PREVIOUS_SECRET_FILE: &str = "shopify-api-secret.previous";

/// The token sealing key's file in the data directory, made on first start when `LASTMILE_TOKEN_KEY` is not set.
pub const TOKEN_KEY_FILE: &str = "token.key";

/// The Shopify app over the data directory: its key and secrets from the environment
/// (`LASTMILE_SHOPIFY_API_KEY`, `LASTMILE_SHOPIFY_API_SECRET`), its public URL from `LASTMILE_APP_URL` (else the
/// listen address), and the key that seals access tokens from `LASTMILE_TOKEN_KEY` or the data directory's
/// `token.key` (64 random hex digits, owner-only, made on first start).
async fn shopify_app(
    data_dir: &Path,
    server: &ServerConfig,
    registry: Arc<TenantRegistry>,
    table: Arc<EmbeddedTable>,
) -> Result<lastmile_fn_shopify::App, Box<dyn std::error::Error + Send + Sync>> {
    let env = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let sealer = match env("LASTMILE_TOKEN_KEY") {
        Some(_) => Sealer::load(&EnvSecrets, "LASTMILE_TOKEN_KEY", &[]).await?,
        None => {
            let files = FileSecrets::new(data_dir);
            files.create_if_missing(TOKEN_KEY_FILE, &lastmile_platform::sealed::new_key_value()?)?;
            Sealer::load(&files, TOKEN_KEY_FILE, &[]).await?
        }
    };
    let secrets = shopify_secrets(data_dir);
    let credentials =
        env("LASTMILE_SHOPIFY_API_KEY").filter(|_| !secrets.is_empty()).map(|api_key| Credentials { api_key, secrets });
    let app_url = env("LASTMILE_APP_URL").unwrap_or_else(|| format!("http://{}", server.listen));
    Ok(lastmile_fn_shopify::App::new(credentials, app_url, registry, table, sealer, Arc::new(SystemClock)))
}

struct EmbeddedState {
    ingest: Arc<Ingest>,
    router: Arc<OrderRouter>,
    routing_api: Arc<RoutingApi>,
    compliance: Arc<Compliance>,
    table: Arc<EmbeddedTable>,
    blobs: Arc<FsBlobStore>,
    pod_links: LinkSigner,
    tracking: Arc<crate::tracking::Tracking>,
    carriers: Arc<CarrierIngest>,
    tracking_queue: Arc<EmbeddedQueue>,
}

/// The functions' ports on the embedded store: one redb file holds the table and the queues, so a restart loses
/// nothing.
fn embedded_state(
    data_dir: &Path,
    registry: Arc<TenantRegistry>,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
) -> Result<EmbeddedState, Box<dyn std::error::Error + Send + Sync>> {
    let db = Arc::new(redb::Database::create(data_dir.join("state.redb"))?);
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone())?);
    let tracking = Arc::new(crate::tracking::Tracking::open(db.clone(), table.clone(), data_dir, clock.clone())?);
    let queue = |name: &str, dead_letter: &str| {
        let options = QueueOptions { max_receives: 5, dead_letter: Some(dead_letter.into()) };
        EmbeddedQueue::open(db.clone(), name, options, clock.clone()).map(Arc::new)
    };
    let orders = queue("orders", "orders-dlq")?;
    let tracking_queue = queue("tracking", "tracking-dlq")?;
    let ingest = Arc::new(Ingest {
        registry: registry.clone(),
        table: table.clone(),
        orders: orders.clone(),
        shopify_secrets: shopify_secrets(data_dir),
    });
    // Links to POD files are relative (`/pod-files/…`) unless the server's public URL is known.
    let pod_links = LinkSigner::load_or_create(data_dir)?;
    let base = std::env::var("LASTMILE_APP_URL").unwrap_or_default();
    let blobs = Arc::new(FsBlobStore::new(data_dir.join("blobs")).with_links(pod_links.clone(), base));
    let compliance = Arc::new(Compliance {
        registry: registry.clone(),
        table: table.clone(),
        blobs: blobs.clone(),
        clock: clock.clone(),
        shopify_secrets: shopify_secrets(data_dir),
    });
    let carriers = Arc::new(CarrierIngest {
        registry: registry.clone(),
        table: table.clone(),
        tracking: tracking_queue.clone(),
        secrets: Arc::new(FileSecrets::new(data_dir.join(crate::tracking::SECRETS_DIR))),
        blobs: blobs.clone(),
        clock: clock.clone(),
    });
    let router = Arc::new(OrderRouter { registry, table: table.clone(), orders, rules, clock: clock.clone() });
    let routing_api = Arc::new(RoutingApi { table: table.clone(), clock });
    Ok(EmbeddedState {
        ingest,
        router,
        routing_api,
        compliance,
        table,
        blobs,
        pod_links,
        tracking,
        carriers,
        tracking_queue,
    })
}

/// The carriers' signing secrets of every tenant's `[tracking]` carriers that are missing from the data
/// directory's `secrets` folder: made now (random, owner-only), so the sample tenant takes signed carrier
/// webhooks from the first start. A carrier signs with the file's content.
pub fn create_carrier_secrets(
    data_dir: &Path,
    registry: &TenantRegistry,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let files = FileSecrets::new(data_dir.join(crate::tracking::SECRETS_DIR));
    for tenant in registry.tenants() {
        for feed in &tenant.tracking.carriers {
            if let Some(first) = feed.secrets.first() {
                files.create_if_missing(first, &lastmile_platform::sealed::new_key_value()?)?;
            }
        }
    }
    Ok(())
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default()
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(options: DevOptions) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut prepared = prepare(&options.data_dir).await?;
    lastmile_platform::telemetry::init(&prepared.server.log);
    let rows = lastmile_core::address::preload();
    tracing::info!(reference_rows = rows, "reference data loaded");
    let listen = options.listen.unwrap_or_else(|| prepared.server.listen.clone());
    let addr: SocketAddr =
        listen.parse().map_err(|e| format!("--listen '{listen}' is not an address such as 127.0.0.1:8080: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    println!("lastmile dev listening on http://{local} (data in {})", options.data_dir.display());
    if let Some(key) = &prepared.new_key {
        println!("created tenant '{DEFAULT_TENANT}' with a local API key (shown once, stored hashed):\n  {key}");
        println!(
            "try: curl -s http://{local}/v1/address/validate -H 'Authorization: Bearer {key}' \\\n       -H 'content-type: application/json' -d '{{\"country\":\"US\",\"text\":\"1600 pennsylvania ave nw, washington dc 20500\"}}'"
        );
    }
    if let Some(token) = &prepared.new_carrier_service_token {
        println!(
            "Shopify CarrierService callback for tenant '{DEFAULT_TENANT}' (shown once; the token opens this URL only):\n  http://{local}/shopify/carrier-service/{token}"
        );
    }
    println!("dashboard: http://{local}/ (log in with an API key of the tenant)");
    println!(
        "carrier invoices: drop them in {}/<tenant>/<layout>/ (reconciled hourly, or now with lastmile job reconcile)",
        crate::invoices::drop_folder(&options.data_dir).display()
    );
    if std::env::var_os("LASTMILE_APP_URL").is_none() {
        prepared.shopify =
            Arc::new(lastmile_fn_shopify::App { app_url: format!("http://{local}"), ..(*prepared.shopify).clone() });
    }
    print_shopify_install(&prepared.shopify);
    println!("press Ctrl-C to stop");
    let jobs = crate::jobs::start(&prepared);
    let app = crate::app::router(&prepared);
    // The peer address counts failed dashboard logins per client.
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    jobs.stop().await;
    Ok(())
}

/// Where to install the Shopify app on a development store, or what to set for it (README: "Install on a Shopify
/// development store").
fn print_shopify_install(app: &lastmile_fn_shopify::App) {
    if app.credentials.is_none() {
        println!(
            "Shopify app: not configured; set LASTMILE_SHOPIFY_API_KEY, LASTMILE_SHOPIFY_API_SECRET and LASTMILE_APP_URL (your tunnel's https URL) to install it on a development store"
        );
        return;
    }
    println!(
        "Shopify app: install on a development store at\n  {}/shopify/install?shop=<your-dev-store>.myshopify.com",
        app.app_url
    );
    if !app.app_url.starts_with("https://") {
        println!("  (Shopify calls back only over https: set LASTMILE_APP_URL to a tunnel's public URL)");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_start_creates_a_key_and_a_second_start_does_not() {
        let dir = std::env::temp_dir().join(format!("lastmile-dev-prepare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = prepare(&dir).await.expect("first start");
        let key = first.new_key.clone().expect("a key on first start");
        assert!(first.registry.resolve(&key).is_some());
        // One process owns a data directory's store at a time.
        assert!(prepare(&dir).await.is_err(), "a second process on the same data directory must be refused");
        drop(first);
        let second = prepare(&dir).await.expect("second start");
        assert!(second.new_key.is_none());
        assert!(second.registry.resolve(&key).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_app_secrets_come_from_the_data_directory_when_the_environment_has_none() {
        if std::env::var_os("LASTMILE_SHOPIFY_API_SECRET").is_some() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("lastmile-dev-app-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(shopify_secrets(&dir).is_empty());
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(SHOPIFY_SECRET_FILE), "shpss_current\n").expect("file");
        std::fs::write(dir.join(SHOPIFY_PREVIOUS_SECRET_FILE), "shpss_previous").expect("file");
        assert_eq!(shopify_secrets(&dir), vec!["shpss_current".to_owned(), "shpss_previous".to_owned()]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_token_sealing_key_is_made_once_owner_only_and_kept_across_starts() {
        if std::env::var_os("LASTMILE_TOKEN_KEY").is_some() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("lastmile-dev-token-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = prepare(&dir).await.expect("first start");
        let sealed = first.shopify.sealer.seal(b"shpat_x", "default/installation/shopify").expect("sealed");
        let key = std::fs::read_to_string(dir.join(TOKEN_KEY_FILE)).expect("key file");
        assert_eq!(key.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(TOKEN_KEY_FILE)).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(first);
        let second = prepare(&dir).await.expect("second start");
        assert_eq!(std::fs::read_to_string(dir.join(TOKEN_KEY_FILE)).expect("key file"), key);
        assert_eq!(second.shopify.sealer.open(&sealed, "default/installation/shopify").expect("opens"), b"shpat_x");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
