//! The secrets port on AWS Secrets Manager: a reference is the secret's ARN or name.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

use crate::ports::secrets::{SecretError, Secrets};

pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> SecretsManager {
        SecretsManager { client }
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    async fn get(&self, reference: &str) -> Result<String, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(reference)
            .send()
            .await
            .map_err(|e| SecretError::Backend(e.into_service_error().to_string()))?;
        output.secret_string().map(str::to_owned).ok_or_else(|| SecretError::Missing(reference.to_owned()))
    }
}
