//! Returns on the platform, around the pure rules in `lastmile_core::returns` (docs/returns.md): an RMA from an
//! order, its label, its inspection, and its lifecycle moved by the tracking of its parcel.
//!
//! - [`create`]: `POST /v1/returns`, idempotent on the client's key; eligibility, destination, label quote and
//!   disposition, stored with the quantities taken back in one transaction.
//! - [`label`]: `POST`/`GET /v1/returns/{rma}/label`, bought through the tracking function's label port, or
//!   lastmile's own 4×6 ZPL while no carrier is connected.
//! - [`progress`]: the lifecycle — moved by the return parcel's tracking record and by the inspection.
//! - [`api`]: the routes, and their OpenAPI documentation.

pub mod api;
pub mod create;
pub mod label;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod progress;

use std::sync::Arc;

use lastmile_core::returns::destination::Destinations;
use lastmile_core::returns::policy::Policy;
use lastmile_fn_tracking::Tracking;
use lastmile_fn_tracking::labels::LabelPurchase;

/// What returns need: the tracking function's ports (table, blobs, clock; its consumer moves the return
/// parcel's journey), the label port, and the policy and destinations as data.
pub struct Returns {
    pub tracking: Arc<Tracking>,
    pub carriers: Arc<dyn LabelPurchase>,
    pub policy: Arc<Policy>,
    pub destinations: Arc<Destinations>,
}

impl Returns {
    /// Over the built-in policy and destinations (`shared/data/returns`).
    pub fn builtin(tracking: Arc<Tracking>, carriers: Arc<dyn LabelPurchase>) -> Result<Returns, toml::de::Error> {
        Ok(Returns {
            tracking,
            carriers,
            policy: Arc::new(Policy::builtin()?.clone()),
            destinations: Arc::new(Destinations::builtin()?.clone()),
        })
    }
}
