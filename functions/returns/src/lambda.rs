//! The returns ports on AWS: DynamoDB and the bucket of customer files (names in the environment, set by
//! infra/template.yaml). No carrier account is connected yet, so labels are lastmile's own ZPL.

use std::sync::Arc;

use lastmile_fn_tracking::labels::NoCarrierConnected;

use crate::Returns;

pub async fn returns_from_env(
    deployed: &lastmile_platform::function::Deployed,
) -> Result<Returns, Box<dyn std::error::Error + Send + Sync>> {
    let tracking = Arc::new(lastmile_fn_tracking::lambda::tracking_from_env(deployed).await?);
    Ok(Returns::builtin(tracking, Arc::new(NoCarrierConnected))?)
}
