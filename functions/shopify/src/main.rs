//! The Shopify app function on AWS Lambda behind API Gateway: install, callback and app/uninstalled over
//! DynamoDB, with the app's secret and the token sealing key from Secrets Manager (the ARNs in the environment,
//! set by infra/template.yaml).

use std::sync::Arc;

use lastmile_platform::aws::{dynamodb::DynamoTable, secrets_manager::SecretsManager};
use lastmile_platform::ports::{SystemClock, secrets::Secrets};
use lastmile_platform::{sealed::Sealer, shopify_admin::HttpTokenExchange};

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
    let api_key = env("LASTMILE_SHOPIFY_API_KEY")?;
    let sealer = Sealer::load(&secrets, &env("LASTMILE_TOKEN_KEY_ARN")?, &[]).await?;
    let exchange = HttpTokenExchange { client_id: api_key.clone(), client_secret: app_secrets[0].clone(), base: None };
    let clock = Arc::new(SystemClock);
    let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), env("LASTMILE_TABLE")?, clock.clone());
    // Without the app's public URL nothing can be registered in a shop: the install routes say so (503).
    let app_url = env("LASTMILE_APP_URL")?;
    let credentials =
        (!app_url.is_empty()).then_some(lastmile_fn_shopify::Credentials { api_key, secrets: app_secrets });
    let app = lastmile_fn_shopify::App {
        credentials,
        scopes: lastmile_fn_shopify::SCOPES.map(str::to_owned).to_vec(),
        app_url,
        registry: deployed.registry,
        table: Arc::new(table),
        sealer: Arc::new(sealer),
        exchange: Arc::new(exchange),
        admin: lastmile_fn_shopify::App::admin_at(None),
        clock,
    };
    lambda_http::run(lastmile_fn_shopify::app(Arc::new(app))).await
}
