//! The KPI roll-up job on AWS Lambda, run by an EventBridge schedule every 5 minutes, over DynamoDB (the table
//! name in the environment, set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = lastmile_platform::aws::Resources::load().await;
    let clock = Arc::new(SystemClock);
    let table = Arc::new(aws.table(clock.clone())?);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let (table, registry, now) = (table.clone(), deployed.registry.clone(), clock.now());
        async move {
            let reports = lastmile_fn_kpi::run_all(table.as_ref(), &registry, now).await;
            let moved: usize = reports.iter().map(|(_, r)| r.moved).sum();
            Ok::<_, Error>(serde_json::json!({ "tenants": reports.len(), "moved": moved }))
        }
    }))
    .await
}
