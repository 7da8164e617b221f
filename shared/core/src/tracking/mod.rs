//! Tracking: every carrier's events in one status model, over journeys of several legs (warehouse → carrier →
//! local last-mile partner), with proof of delivery checked and stalls measured in the lane's business hours.
//!
//! - [`status`]: the status model and failure reasons.
//! - [`event`]: a mapped carrier event, its identity, its proof of delivery.
//! - [`mapping`]: carrier status tables (data files) and [`adapters`] for three carrier formats.
//! - [`journey`]: history, current status, legs; duplicates and late events.
//! - [`stall`]: when a parcel counts as stalled.
//! - [`pod`]: the proof-of-delivery checks of a dispute pack.
//! - [`kpi`]: roll-ups per line × lane × day.
//! - [`alert`]: stalled-parcel alerts, signed for the seller's endpoint.

pub mod adapters;
pub mod alert;
pub mod event;
pub mod journey;
pub mod kpi;
pub mod mapping;
pub mod pod;
pub mod stall;
pub mod status;

pub use event::TrackingEvent;
pub use journey::Journey;
pub use status::{Reason, Status};
