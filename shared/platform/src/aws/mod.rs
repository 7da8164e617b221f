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
