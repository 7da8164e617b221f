//! The lastmile address validator as a Cloudflare Worker. Shopify checkout calls it while the buyer types,
//! so it answers from the edge with the same engine, the same JSON contract and the same limits as
//! `lastmile dev` (all of them `lastmile-core`'s).
//!
//! [`service`] decides every answer from plain values (method, path, headers, body, settings, time) and is
//! tested on the host; the `runtime` module only moves those values between the Workers runtime and it.

pub mod service;

#[cfg(target_arch = "wasm32")]
mod runtime;
