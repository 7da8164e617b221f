//! The AWS adapters of the ports (feature `aws`). Clients come from the standard AWS configuration chain;
//! `AWS_ENDPOINT_URL` points them at a local AWS-compatible server in tests.

pub mod dynamodb;
pub mod s3;
pub mod secrets_manager;
pub mod sqs;

/// The shared AWS configuration of a process.
pub async fn config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// A variable the template sets: its absence is a deployment error, and the error names it.
pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// The deployment's AWS resources, by the names infra/template.yaml puts in a function's environment.
pub struct Resources {
    aws: aws_config::SdkConfig,
}

impl Resources {
    pub async fn load() -> Resources {
        Resources { aws: config().await }
    }

    /// The deployment's table (`LASTMILE_TABLE`).
    pub fn table(&self, clock: std::sync::Arc<dyn crate::ports::Clock>) -> Result<dynamodb::DynamoTable, String> {
        Ok(dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&self.aws), env("LASTMILE_TABLE")?, clock))
    }

    /// The queue whose URL is in `variable`.
    pub fn queue(&self, variable: &str) -> Result<sqs::SqsQueue, String> {
        Ok(sqs::SqsQueue::new(aws_sdk_sqs::Client::new(&self.aws), env(variable)?))
    }

    /// The bucket whose name is in `variable`.
    pub fn bucket(&self, variable: &str) -> Result<s3::S3Blobs, String> {
        Ok(s3::S3Blobs::new(aws_sdk_s3::Client::new(&self.aws), env(variable)?))
    }

    pub fn secrets(&self) -> secrets_manager::SecretsManager {
        secrets_manager::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&self.aws))
    }

    /// The Shopify app's client secrets: the current one (`LASTMILE_SHOPIFY_SECRET_ARN`) and, during a rotation,
    /// the previous (`LASTMILE_SHOPIFY_SECRET_PREVIOUS_ARN`).
    pub async fn shopify_secrets(&self) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
        use crate::ports::secrets::Secrets;
        let secrets = self.secrets();
        let mut found = vec![secrets.get(&env("LASTMILE_SHOPIFY_SECRET_ARN")?).await?];
        if let Ok(previous) = env("LASTMILE_SHOPIFY_SECRET_PREVIOUS_ARN") {
            found.push(secrets.get(&previous).await?);
        }
        Ok(found)
    }
}
