//! The claims job on AWS Lambda, run daily by an EventBridge schedule, over DynamoDB (its name in the environment,
//! set by infra/template.yaml).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lastmile_platform::aws::Resources;
use lastmile_platform::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let clock = Arc::new(SystemClock);
    let table: Arc<dyn lastmile_platform::ports::table::TableStore> = Arc::new(aws.table(clock.clone())?);
    let ports = Arc::new(lastmile_fn_claims::Ports {
        table: table.clone(),
        clock: clock.clone(),
        inspections: Arc::new(lastmile_fn_claims::ReturnInspections { table }),
    });
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let (ports, registry, now) = (ports.clone(), deployed.registry.clone(), clock.now());
        async move {
            let reports = lastmile_fn_claims::run_all(&ports, &registry, now).await;
            let created: usize = reports.iter().map(|(_, r)| r.created.len()).sum();
            Ok::<_, Error>(serde_json::json!({ "tenants": reports.len(), "created": created }))
        }
    }))
    .await
}
