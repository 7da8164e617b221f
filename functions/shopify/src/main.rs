//! The Shopify app function on AWS Lambda behind API Gateway: install, callback and app/uninstalled over
//! DynamoDB, with the app's secret and the token sealing key from Secrets Manager (the ARNs in the environment,
//! set by infra/template.yaml).

use std::sync::Arc;

use lastmile_fn_shopify::{App, Credentials};
use lastmile_platform::aws::{Resources, env};
use lastmile_platform::ports::SystemClock;
use lastmile_platform::sealed::Sealer;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let aws = Resources::load().await;
    let credentials = Credentials { api_key: env("LASTMILE_SHOPIFY_API_KEY")?, secrets: aws.shopify_secrets().await? };
    let sealer = Sealer::load(&aws.secrets(), &env("LASTMILE_TOKEN_KEY_ARN")?, &[]).await?;
    let clock = Arc::new(SystemClock);
    let table = aws.table(clock.clone())?;
    let app = App::new(Some(credentials), env("LASTMILE_APP_URL")?, deployed.registry, Arc::new(table), sealer, clock);
    lambda_http::run(lastmile_fn_shopify::app(Arc::new(app))).await
}
