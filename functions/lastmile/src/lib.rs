//! The `lastmile` binary's library: the merged application router that `lastmile dev` serves, the data
//! directory set-up, the OpenAPI document, and the CLI commands.

pub mod app;
pub mod bench;
pub mod claims;
pub mod cli;
pub mod dashboard;
pub mod dev;
pub mod duty;
pub mod harness;
pub mod invoices;
pub mod jobs;
pub mod openapi;
pub mod simulate;
pub mod simulation;
pub mod tenant;
pub mod tracking;
