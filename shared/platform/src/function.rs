//! What every function's `main` sets up before it serves: JSON logs, the customs rules, and the tenants and keys:
//! those of the configuration folder deployed with it (`LASTMILE_DATA_DIR`, else `/var/task/lastmile`) under
//! those of the deployment's table (`LASTMILE_TABLE`), which holds the tenants created when a shop installs the
//! app and the keys created or revoked since the deployment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lastmile_core::duty::rules::Rules;

use crate::config::{LogConfig, LogFormat};
use crate::tenants::TenantRegistry;

pub struct Deployed {
    pub registry: Arc<TenantRegistry>,
    /// The compiled-in customs rules overlaid by the folder's `customs` subfolder when it has one.
    pub rules: Arc<Rules>,
}

pub async fn start() -> Result<Deployed, Box<dyn std::error::Error + Send + Sync>> {
    crate::telemetry::init(&LogConfig { format: LogFormat::Json, level: "info".to_owned() });
    let dir = std::env::var_os("LASTMILE_DATA_DIR").map_or_else(|| PathBuf::from("/var/task/lastmile"), PathBuf::from);
    let registry = Arc::new(registry(&dir).await?);
    let rules = Arc::new(crate::customs::load_rules(&dir.join("customs"))?);
    Ok(Deployed { registry, rules })
}

#[cfg(feature = "aws")]
async fn registry(dir: &Path) -> Result<TenantRegistry, Box<dyn std::error::Error + Send + Sync>> {
    let Ok(name) = std::env::var("LASTMILE_TABLE") else {
        return Ok(TenantRegistry::open(dir)?);
    };
    let aws = crate::aws::config().await;
    let clock = Arc::new(crate::ports::clock::SystemClock);
    let table = crate::aws::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), name, clock);
    Ok(TenantRegistry::open_with_table(dir, Arc::new(table)).await?)
}

/// Without the AWS adapters a function can only read its folder: a table it was given would be silently
/// ignored, so that is refused.
#[cfg(not(feature = "aws"))]
async fn registry(dir: &Path) -> Result<TenantRegistry, Box<dyn std::error::Error + Send + Sync>> {
    if std::env::var_os("LASTMILE_TABLE").is_some() {
        return Err(
            "LASTMILE_TABLE is set but this build has no DynamoDB adapter: build with `--features lambda`".into()
        );
    }
    Ok(TenantRegistry::open(dir)?)
}
