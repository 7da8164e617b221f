//! The returns sweep on AWS Lambda, run by an EventBridge schedule every 15 minutes: returns whose parcel is on
//! its way are brought up to date with its scans (the API does it too, whenever a return is read), so a return
//! reaches `in_transit` and `received` without anyone asking for it.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deployed = lastmile_platform::function::start().await?;
    let returns = Arc::new(lastmile_fn_returns::lambda::returns_from_env(&deployed).await?);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let returns = returns.clone();
        async move {
            let moved = lastmile_fn_returns::progress::sweep_all(&returns).await;
            Ok::<_, Error>(serde_json::json!({ "moved": moved }))
        }
    }))
    .await
}
