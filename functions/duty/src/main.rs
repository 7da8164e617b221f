//! The duty function on AWS Lambda behind API Gateway: the same router `lastmile dev` serves.

use std::path::PathBuf;
use std::sync::Arc;

use lastmile_platform::config::{LogConfig, LogFormat};
use lastmile_platform::tenants::TenantRegistry;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lastmile_platform::telemetry::init(&LogConfig { format: LogFormat::Json, level: "info".to_owned() });
    // Tenants and hashed keys from the configuration folder deployed with the function; customs rules from its
    // `customs` subfolder when the deployment ships its own, else the compiled-in ones.
    let dir = std::env::var_os("LASTMILE_DATA_DIR").map_or_else(|| PathBuf::from("/var/task/lastmile"), PathBuf::from);
    let registry = Arc::new(TenantRegistry::open(&dir)?);
    let rules = Arc::new(lastmile_platform::customs::load_rules(&dir.join("customs"))?);
    lambda_http::run(lastmile_fn_duty::app(registry, rules)).await
}
