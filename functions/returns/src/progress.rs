//! The lifecycle after the label: the return parcel's scans, then the inspection.
//!
//! How the scans reach the return: the parcel is tracked like any shipment (its label's number leads to a
//! tracking record under the return's parcel id, `return-{rma}`), so the tracking consumer applies the carrier's
//! events to its journey as it does for every parcel. The return then reads that journey — whenever it is asked
//! for (`GET /v1/returns/{rma}`, the list, the inspection) and on a schedule ([`sweep`], reading only the returns
//! whose parcel is on its way, through the status index). The tracking consumer needs no port for returns (it
//! only leaves a return parcel out of the delivery KPIs), there is nothing to keep in step, and a return is never
//! further along than its journey says, since the journey is the one record of what the carrier reported. The cost is that between two sweeps a return shows
//! the status of its last read; every read brings it up to date.

use jiff::Timestamp;
use lastmile_core::contract::ApiError;
use lastmile_core::money::{Currency, Money};
use lastmile_core::returns::disposition::{self, Disposition};
use lastmile_core::returns::lifecycle::{self, ReturnStatus};
use lastmile_core::returns::policy::Condition as ItemCondition;
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable};
use lastmile_platform::repo::returns::{self, DispositionRecord, Finding, Inspection, ReturnRecord};
use lastmile_platform::repo::{self, Versioned, decisions, tracking};
use serde::Deserialize;

use crate::Returns;
use crate::create::{illegal, store};

/// Attempts when another writer changed the return meanwhile.
const ATTEMPTS: usize = 5;
/// Returns read per status by one sweep.
const SWEEP_CAP: usize = 500;

/// The return brought up to date with its parcel's journey (saved when it moved).
pub async fn refresh(table: &TenantTable<'_>, found: Versioned<ReturnRecord>) -> Result<ReturnRecord, StoreError> {
    let mut found = found;
    for _ in 0..ATTEMPTS {
        let Some(moved) = with_journey(table, &found.value).await? else { return Ok(found.value) };
        match repo::save(table, &moved, Condition::Version(found.version)).await {
            Ok(_) => return Ok(moved),
            Err(StoreError::ConditionFailed) => match returns::get(table, &found.value.rma).await? {
                Some(again) => found = again,
                None => return Ok(moved),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(found.value)
}

/// The return moved along its parcel's scans, in the order they happened; None when nothing moves it.
async fn with_journey(table: &TenantTable<'_>, record: &ReturnRecord) -> Result<Option<ReturnRecord>, StoreError> {
    if !matches!(record.status, ReturnStatus::LabelIssued | ReturnStatus::InTransit) {
        return Ok(None);
    }
    let Some(tracked) = tracking::get(table, &record.parcel_id()).await? else { return Ok(None) };
    let mut events = tracked.value.journey.events.clone();
    events.sort_by_key(|e| e.occurred_at);
    let mut moved = record.clone();
    for event in events {
        let next = lifecycle::on_tracking(moved.status, event.status);
        if next != moved.status {
            let cause = format!("{} {}: {}", event.carrier, event.tracking_number, event.description);
            moved.advance(next, event.occurred_at, cause).map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
    }
    Ok((moved.status != record.status).then_some(moved))
}

/// Brings every return whose parcel is on its way up to date; answers how many moved.
pub async fn sweep(returns: &Returns, tenant: &str) -> Result<usize, StoreError> {
    let table = TenantTable::new(&*returns.tracking.table, tenant);
    let mut moved = 0;
    for status in [ReturnStatus::LabelIssued, ReturnStatus::InTransit] {
        for found in returns::with_status(&table, status, SWEEP_CAP).await? {
            let before = found.value.status;
            if refresh(&table, found).await?.status != before {
                moved += 1;
            }
        }
    }
    Ok(moved)
}

/// [`sweep`] for every enabled tenant; answers how many returns moved.
pub async fn sweep_all(returns: &Returns) -> usize {
    let mut moved = 0;
    for tenant in returns.tracking.registry.tenants().iter().filter(|t| t.enabled) {
        match sweep(returns, &tenant.id).await {
            Ok(n) => moved += n,
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "returns sweep"),
        }
    }
    moved
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionIn {
    pub finding: Finding,
    #[serde(default)]
    pub note: Option<String>,
}

/// Longest inspection note.
pub const MAX_NOTE: usize = 2000;

/// Records what the inspection found and decides again with the condition found: the return is (received if
/// no scan said so,) inspected, then disposed (restocked, refurbished or liquidated) or refunded when nothing is
/// worth recovering. A return with no label yet, or past its inspection, cannot be inspected (409).
pub async fn inspect(
    returns: &Returns,
    table: &TenantTable<'_>,
    rma: &str,
    input: &InspectionIn,
    now: Timestamp,
) -> Result<ReturnRecord, ApiError> {
    if input.note.as_ref().is_some_and(|n| n.len() > MAX_NOTE) {
        return Err(
            ApiError::new(422, "note_too_long", format!("a note is at most {MAX_NOTE} bytes")).with_field("note")
        );
    }
    for _ in 0..ATTEMPTS {
        let found = returns::get(table, rma).await.map_err(store)?.ok_or_else(|| unknown(rma))?;
        let version = found.version;
        let mut record = match with_journey(table, &found.value).await.map_err(store)? {
            Some(moved) => moved,
            None => found.value,
        };
        let condition = match input.finding {
            Finding::Ok => record.disposition.condition,
            Finding::Damaged => ItemCondition::Damaged,
            // Something missing: sold on as incomplete, like a defective item.
            Finding::MissingParts => record.disposition.condition.max(ItemCondition::Defective),
        };
        // The destination inspects only what it holds: a parcel whose last scan is not yet the delivery (or that
        // has no carrier number, on lastmile's own label) is received as it is inspected.
        if matches!(record.status, ReturnStatus::LabelIssued | ReturnStatus::InTransit) {
            let received = format!("received at {} for inspection", record.route.name);
            record.advance(ReturnStatus::Received, now, received).map_err(illegal)?;
        }
        let finding = format!("inspected: {:?} ({})", input.finding, condition.as_str()).to_lowercase();
        record.advance(ReturnStatus::Inspected, now, finding).map_err(illegal)?;
        record.inspection =
            Some(Inspection { finding: input.finding, condition, note: input.note.clone(), inspected_at: now });
        let currency = Currency::new(&record.currency)
            .ok_or_else(|| ApiError::new(422, "unknown_currency", "the return's currency is unknown"))?;
        // The parcel is here: its shipping is spent and no longer weighs against recovering it, handling still does.
        let decision =
            disposition::decide(&returns.policy, Money::new(record.disposition.value_minor, currency), condition, 0)
                .map_err(|e| ApiError::new(422, "no_policy_costs", e.to_string()))?;
        let (next, cause) = match decision.disposition {
            Disposition::ReturnlessRefund => (ReturnStatus::Refunded, "nothing worth recovering: refunded".to_owned()),
            kept => (ReturnStatus::Disposed, format!("disposed: {}", kept.as_str())),
        };
        record.advance(next, now, cause).map_err(illegal)?;
        record.final_disposition = Some(DispositionRecord {
            disposition: decision.disposition,
            condition,
            value_minor: record.disposition.value_minor,
            recoverable_minor: decision.recoverable,
            cost_minor: decision.cost,
            currency: record.currency.clone(),
            explanation: decision.explanation,
        });
        match repo::save(table, &record, Condition::Version(version)).await {
            Ok(_) => {
                if input.finding == Finding::Damaged {
                    review_claims_again(table, &record.order_id).await.map_err(store)?;
                }
                return Ok(record);
            }
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(store(e)),
        }
    }
    Err(ApiError::new(409, "conflict", "the return kept changing; retry"))
}

/// Damage found on inspection is a claim on the order's outbound shipments: their tracking records go back on the
/// claims job's `claim-watch` queue, even when it reviewed them already. A retried inspection does it again, which
/// changes nothing (the claims job raises a claim once per shipment and type).
async fn review_claims_again(table: &TenantTable<'_>, order_id: &str) -> Result<(), StoreError> {
    let decision = decisions::get(table, order_id).await?;
    for id in decisions::shipment_ids(order_id, decision.as_ref().map(|d| &d.value)) {
        for _ in 0..3 {
            let Some(found) = tracking::get(table, &id).await? else { break };
            if found.value.claims_reviewed.is_none() {
                break;
            }
            let mut tracked = found.value;
            tracked.claims_reviewed = None;
            match repo::save(table, &tracked, Condition::Version(found.version)).await {
                Err(StoreError::ConditionFailed) => continue,
                other => {
                    other?;
                    break;
                }
            }
        }
    }
    Ok(())
}

pub fn unknown(rma: &str) -> ApiError {
    ApiError::new(404, "unknown_return", format!("no return {rma:?}"))
}
