//! The order router's decisions, pure: which warehouses can ship an order ([`split`]), which line carries each
//! shipment and why ([`decide`]), the A/B split of a lane's orders and its report ([`experiment`]), on the
//! policy a seller configures ([`policy`]) and the line statistics measured so far ([`stats`]).
//!
//! The functions around it read the order, stock, counters and statistics from the store, quote every line
//! with the rating engine, and write what this module decides.

pub mod decide;
pub mod experiment;
pub mod policy;
pub mod split;
pub mod stats;

pub use decide::{Candidate, Choice, LaneCounts, LineState, LineStats, Scored, decide};
pub use policy::{Lane, Policy};
