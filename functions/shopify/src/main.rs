//! The Shopify app function on AWS Lambda behind API Gateway: install, callback and app/uninstalled over
//! DynamoDB, with the app's secret and the token sealing key from Secrets Manager (the ARNs in the environment,
//! set by infra/template.yaml).

use std::sync::Arc;

use lastmile_fn_shopify::{App, Credentials};
use lastmile_platform::aws::{dynamodb::DynamoTable, secrets_manager::SecretsManager};
use lastmile_platform::ports::{SystemClock, secrets::Secrets};
use lastmile_platform::sealed::Sealer;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deployed = lastmile_platform::function::start().await?;
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let aws = lastmile_platform::aws::config().await;
    let secrets = SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws));
    let mut app_secrets = vec![secrets.get(&env("LASTMILE_SHOPIFY_SECRET_ARN")?).await?];
    if let Ok(previous) = env("LASTMILE_SHOPIFY_SECRET_PREVIOUS_ARN") {
        app_secrets.push(secrets.get(&previous).await?);
    }
    let credentials = Credentials { api_key: env("LASTMILE_SHOPIFY_API_KEY")?, secrets: app_secrets };
    let sealer = Sealer::load(&secrets, &env("LASTMILE_TOKEN_KEY_ARN")?, &[]).await?;
    let clock = Arc::new(SystemClock);
    let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), env("LASTMILE_TABLE")?, clock.clone());
    let app = App::new(Some(credentials), env("LASTMILE_APP_URL")?, deployed.registry, Arc::new(table), sealer, clock);
    lambda_http::run(lastmile_fn_shopify::app(Arc::new(app))).await
}
