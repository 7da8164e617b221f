//! lastmile-platform: everything with I/O that the functions share. Configuration files, tenants and their
//! API keys, tracing with redaction, and the HTTP plumbing (error bodies, body limits, correlation ids,
//! tenant resolution) that every router uses.

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod conformance;
pub mod customs;
pub mod embedded;
pub mod events;
pub mod function;
pub mod http;
pub mod ports;
pub mod privacy;
pub mod quoting;
pub mod ratelimit;
pub mod repo;
pub mod sealed;
pub mod shopify_admin;
pub mod shopify_webhook;
pub mod telemetry;
pub mod tenants;
