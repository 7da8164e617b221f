//! End-to-end: the real `lastmile dev` process on loopback.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod cli;
mod dev_server;
mod routing;
