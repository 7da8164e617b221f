//! lastmile-core: the pure domain of lastmile. No I/O, no clock, no async runtime: it builds for
//! `wasm32-unknown-unknown` as well as native targets, so the edge worker, the Lambda functions and
//! `lastmile dev` all run the same code.
//!
//! The capabilities, a module each: `address` (validation), `rating` (rate cards and quotes), `routing`,
//! `duty` (landed cost), `tracking` (one status model over every carrier), `claims` (lost, damaged and late
//! shipments claimed per the line's terms), `reconcile` (carrier invoices checked against the quotes) and
//! `returns` (eligibility, destination, disposition, lifecycle and label of a return). Time is always passed
//! in: no function here reads a clock.

pub mod address;
pub mod calendar;
pub mod claims;
pub mod contract;
pub mod duty;
pub mod geo;
pub mod money;
pub mod rating;
pub mod reconcile;
pub mod returns;
pub mod routing;
pub mod shopify;
pub mod text;
pub mod tracking;
pub mod units;
