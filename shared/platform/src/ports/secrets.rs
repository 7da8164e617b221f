//! Secrets by reference: code names a secret, the deployment decides where it lives (Secrets Manager on AWS,
//! the environment for `lastmile dev`), and no secret value is ever written into configuration.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} is not set")]
    Missing(String),
    #[error("secrets: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Secrets: Send + Sync {
    /// The value of the secret `reference` names (an environment variable, a Secrets Manager ARN …).
    async fn get(&self, reference: &str) -> Result<String, SecretError>;
}

/// Secrets from environment variables, for `lastmile dev` and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

#[async_trait]
impl Secrets for EnvSecrets {
    async fn get(&self, reference: &str) -> Result<String, SecretError> {
        std::env::var(reference)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SecretError::Missing(reference.to_owned()))
    }
}
