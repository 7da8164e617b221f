//! Shipments the router created: the line, the experiment arm, and, as they arrive, the outcome and the
//! buyer's rating. Indexed by experiment (for its report) and by line (for its statistics).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::routing::experiment::{ArmOutcomes, Assignment};
use lastmile_core::routing::policy::Experiment;
use serde::{Deserialize, Serialize};

use super::decisions::UnitsRecord;
use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// A buyer's comment is free text that may name them or their address: kept in the shipment's personal item,
/// while the stars stay on the shipment for the line's and the experiment's statistics.
pub const PERSONAL: Declaration = Declaration {
    kind: "rating-comment",
    record: "shipments",
    fields: &["rating comment (free text)"],
    purpose: "the seller reading what the buyer said about the delivery",
    retention_days: 365,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentRecord {
    pub id: String,
    pub order_id: String,
    pub warehouse: String,
    pub line: String,
    pub carrier: String,
    pub lane: String,
    pub units: Vec<UnitsRecord>,
    pub cost_minor: Option<i64>,
    pub currency: String,
    /// Calendar days the quote promised, order to latest delivery date.
    pub quoted_transit_days: Option<u32>,
    pub promised_days: u32,
    pub decided_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Assignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// What the winning line's quote priced: the carrier's invoice is checked against it. Absent on shipments
    /// routed before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted: Option<QuotedFacts>,
}

/// The facts the rating engine priced a shipment on, and its charges, as the invoice reconciliation needs them
/// (`lastmile_core::reconcile::check::QuotedShipment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedFacts {
    pub zone: String,
    /// The day the quote priced shipping on (the warehouse's local date): dated surcharges depend on it.
    pub ship_date: Date,
    /// Actual weight of the parcel as quoted (all parcels' on a multi-parcel shipment).
    pub grams: u64,
    /// Billable weight in thousandths of the card's unit (grams for kg cards, thousandths of a pound for lb).
    #[serde(default)]
    pub billable: u64,
    /// Sides of the (first) parcel, millimetres, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions_mm: Option<[u32; 3]>,
    #[serde(default)]
    pub residential: Option<bool>,
    #[serde(default)]
    pub remote_area: bool,
    pub postcode: String,
    #[serde(default)]
    pub options: Vec<String>,
    /// Charges by rate card charge code (`base`, `residential`, `fuel` …), in the card's currency.
    pub charges: BTreeMap<String, i64>,
    /// The card's currency (the shipment's `cost_minor` is in the order's).
    pub currency: String,
}

/// How the shipment ended, as tracking (or the seller) reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Delivered to the buyer (false: lost, returned to sender, refused).
    pub delivered: bool,
    /// Calendar days from order to delivery.
    #[serde(default)]
    pub transit_days: Option<f64>,
    /// Delivered by the promised date; when absent, worked out from `transit_days` and the promise.
    #[serde(default)]
    pub on_time: Option<bool>,
    /// A claim was filed (lost, damaged, late).
    #[serde(default)]
    pub claim: bool,
}

/// The buyer's rating of the delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// 1–5.
    pub stars: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who sent it: a review app, the seller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub rated_at: Timestamp,
}

pub fn key(id: &str) -> Key {
    Key::new(format!("shipment#{id}"), "shipment")
}

impl Record for ShipmentRecord {
    fn key(&self) -> Key {
        key(&self.id)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        let mut indexes =
            vec![("gsi2", Key::new(format!("line#{}", self.line), format!("{}#{}", self.decided_at, self.id)))];
        if let Some(a) = &self.experiment {
            indexes.push(("gsi1", Key::new(format!("experiment#{}", a.experiment), format!("{}#{}", a.line, self.id))));
        }
        indexes
    }
}

pub async fn get(table: &TenantTable<'_>, id: &str) -> Result<Option<Versioned<ShipmentRecord>>, StoreError> {
    super::load(table, &key(id)).await
}

/// Every shipment in an experiment, by arm.
pub async fn in_experiment(
    table: &TenantTable<'_>,
    experiment: &str,
    cap: usize,
) -> Result<Vec<ShipmentRecord>, StoreError> {
    let query = Query::index("gsi1", format!("experiment#{experiment}")).sk(SkRange::All);
    Ok(query_all(table, query, cap).await?.into_iter().map(|v| v.value).collect())
}

/// What each arm of `experiment` has shown so far, from its shipments (at most `cap` read), in the experiment's
/// arm order (the first is the control): what its report and the dashboard's panel are computed from.
pub async fn arm_outcomes(
    table: &TenantTable<'_>,
    experiment: &Experiment,
    cap: usize,
) -> Result<Vec<ArmOutcomes>, StoreError> {
    let mut arms: Vec<ArmOutcomes> =
        experiment.arms.iter().map(|a| ArmOutcomes { line: a.line.clone(), ..ArmOutcomes::default() }).collect();
    for s in in_experiment(table, &experiment.id, cap).await? {
        let Some(arm) = arms.iter_mut().find(|a| Some(&a.line) == s.experiment.as_ref().map(|e| &e.line)) else {
            continue;
        };
        arm.shipments += 1;
        if let Some(o) = &s.outcome {
            arm.delivered.record(o.delivered);
            if let Some(on_time) = o.on_time {
                arm.on_time.record(on_time);
            }
            if let (true, Some(days)) = (o.delivered, o.transit_days) {
                arm.transit_days.push(days);
            }
            arm.claims.record(o.claim);
        }
        if let Some(r) = &s.rating {
            arm.rating.push(f64::from(r.stars));
        }
    }
    Ok(arms)
}
