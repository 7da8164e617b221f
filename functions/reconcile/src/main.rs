//! The reconciliation job on AWS Lambda, run by an EventBridge schedule every hour, over DynamoDB and the blob
//! bucket's `invoices/` prefix (their names in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::aws::Resources;
use lastmile_platform::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let clock = Arc::new(SystemClock);
    let ports = Arc::new(lastmile_fn_reconcile::Ports {
        table: Arc::new(aws.table(clock.clone())?),
        blobs: Arc::new(aws.bucket("LASTMILE_ARCHIVE_BUCKET")?),
    });
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let (ports, registry, now) = (ports.clone(), deployed.registry.clone(), clock.now());
        async move {
            let reports = lastmile_fn_reconcile::run_all(&ports, &registry, now).await;
            let files: usize = reports.iter().map(|(_, r)| r.processed.len()).sum();
            Ok::<_, Error>(serde_json::json!({ "tenants": reports.len(), "files": files }))
        }
    }))
    .await
}
