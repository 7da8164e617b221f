//! What every function's `main` sets up before it serves: JSON logs, and the tenants, keys and customs rules of
//! the configuration folder deployed with it (`LASTMILE_DATA_DIR`, else `/var/task/lastmile`).

use std::path::PathBuf;
use std::sync::Arc;

use lastmile_core::duty::rules::Rules;

use crate::config::{LogConfig, LogFormat};
use crate::tenants::TenantRegistry;

pub struct Deployed {
    pub registry: Arc<TenantRegistry>,
    /// The compiled-in customs rules overlaid by the folder's `customs` subfolder when it has one.
    pub rules: Arc<Rules>,
}

pub fn start() -> Result<Deployed, Box<dyn std::error::Error + Send + Sync>> {
    crate::telemetry::init(&LogConfig { format: LogFormat::Json, level: "info".to_owned() });
    let dir = std::env::var_os("LASTMILE_DATA_DIR").map_or_else(|| PathBuf::from("/var/task/lastmile"), PathBuf::from);
    let registry = Arc::new(TenantRegistry::open(&dir)?);
    let rules = Arc::new(crate::customs::load_rules(&dir.join("customs"))?);
    Ok(Deployed { registry, rules })
}
