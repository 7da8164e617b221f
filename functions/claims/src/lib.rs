//! The claims job (an EventBridge schedule, daily; `lastmile dev` runs it in-process and `lastmile job claims` on
//! demand) and the claims API ([`api`]). Rules in `lastmile_core::claims` and docs/claims.md.
//!
//! - It reads two indexes, never the whole table: `claim-watch` (tracking records whose journey ended or whose
//!   stall escalated, not reviewed since their last scan) and `stall-watch` up to the shortest lost-after period of
//!   the terms in *calendar* days, less one for the zones (business days never run ahead of calendar ones, so
//!   nothing quiet for less can be lost). Each index holds a day's finished journeys and the stuck parcels, not
//!   the history: the job's reads grow with the day's traffic, not with the table.
//! - Each record's [`ShipmentFacts`] come from what is stored: the scans from its journey (dated in the
//!   destination's zone), the promised date from its shipment (routed day + promised days), the goods value from
//!   its order's lines for the shipment's units, the shipping charge from the shipment's cost, and a return
//!   inspection's damage finding through [`InspectionFindings`].
//! - New claims (`{shipment}#{type}`, drafts) are written only if absent, in one transaction with the record on
//!   its version: its KPI facts marked `claimed`, and its review done (an escalated parcel stays in `claim-watch`
//!   until it is lost or scanned again). A second run over the same facts writes nothing.
//! - Insurance bought is not recorded on the shipment yet: `insured_value` is none, so the line's cap applies.

pub mod api;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use lastmile_core::calendar::holidays;
use lastmile_core::claims::detect::{self, Scan, ShipmentFacts};
use lastmile_core::claims::pipeline::{Claim, new_claims};
use lastmile_core::claims::terms::{ClaimType, Terms, TermsError};
use lastmile_core::money::{Currency, Money};
use lastmile_core::tracking::status::Status;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::Clock;
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::claims::{self, ClaimRecord, StatusChange};
use lastmile_platform::repo::shipments::{self, ShipmentRecord};
use lastmile_platform::repo::tracking::{self, TrackingRecord};
use lastmile_platform::repo::{self, Versioned, orders};
use lastmile_platform::tenants::TenantRegistry;
use serde::Serialize;
use serde_json::Value;

/// Most records one run reviews per tenant from each index; the rest wait for the next run (longest quiet first).
pub const MAX_RECORDS: usize = 5_000;

/// What the job reads and writes through.
pub struct Ports {
    pub table: Arc<dyn TableStore>,
    pub clock: Arc<dyn Clock>,
    /// A return inspection's damage finding per shipment, from the returns records.
    pub inspections: Arc<dyn InspectionFindings>,
}

/// Where the job learns that a returned parcel was found damaged on inspection.
#[async_trait]
pub trait InspectionFindings: Send + Sync {
    /// The finding in words, when the shipment's return inspection found damage.
    async fn inspection_damage(&self, tenant: &str, shipment_id: &str) -> Result<Option<String>, StoreError>;
}

/// No return inspections are recorded: no damage is found that way.
pub struct NoInspections;

#[async_trait]
impl InspectionFindings for NoInspections {
    async fn inspection_damage(&self, _tenant: &str, _shipment_id: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}

/// The findings of the returns' inspections: a shipment's goods were found damaged when a return of its order
/// brought one of its SKUs back and the warehouse found it damaged.
pub struct ReturnInspections {
    pub table: Arc<dyn TableStore>,
}

#[async_trait]
impl InspectionFindings for ReturnInspections {
    async fn inspection_damage(&self, tenant: &str, shipment_id: &str) -> Result<Option<String>, StoreError> {
        let table = TenantTable::new(self.table.as_ref(), tenant);
        let Some(shipment) = lastmile_platform::repo::shipments::get(&table, shipment_id).await? else {
            return Ok(None);
        };
        let shipped: Vec<&str> = shipment.value.units.iter().map(|u| u.sku.as_str()).collect();
        let of_order = lastmile_platform::repo::returns::of_order(&table, &shipment.value.order_id, 100).await?;
        Ok(of_order.iter().find_map(|r| {
            let inspection = r.inspection.as_ref()?;
            let ours = r.items.iter().any(|i| shipped.contains(&i.sku.as_str()));
            (ours && inspection.finding == lastmile_platform::repo::returns::Finding::Damaged)
                .then(|| format!("return {} found damaged on inspection ({})", r.rma, inspection.inspected_at))
        }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Terms(#[from] TermsError),
}

/// What one run did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Records read from the two indexes.
    pub reviewed: usize,
    /// Claims created, by id.
    pub created: Vec<String>,
    /// Records whose review is done (their journey ended, or they were found lost).
    pub settled: usize,
    /// Records changed by someone else meanwhile: reviewed again next run.
    pub conflicts: usize,
    /// Records that could not be judged (a line without terms, a date beyond the holiday data), by shipment id.
    pub skipped: Vec<String>,
}

/// One run for every enabled tenant, on the UTC day of `now`; a tenant that fails is logged and the others run.
pub async fn run_all(ports: &Ports, registry: &TenantRegistry, now: Timestamp) -> Vec<(String, Report)> {
    let today = now.to_zoned(TimeZone::UTC).date();
    let mut reports = Vec::new();
    for tenant in registry.tenants().iter().filter(|t| t.enabled) {
        match run(ports, tenant, today).await {
            Ok(report) => {
                if !report.created.is_empty() || report.conflicts > 0 {
                    tracing::info!(tenant = %tenant.id, created = report.created.len(), conflicts = report.conflicts, "claims job");
                }
                reports.push((tenant.id.clone(), report));
            }
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "claims job"),
        }
    }
    reports
}

/// One run for one tenant on `today`.
pub async fn run(ports: &Ports, tenant: &TenantConfig, today: Date) -> Result<Report, ClaimsError> {
    let terms = Terms::builtin()?;
    let table = TenantTable::new(ports.table.as_ref(), &tenant.id);
    // Lost needs more than N business days, so at least N + 1 calendar days, since a scan on a local day
    // ≤ today − N − 1; that day ends by noon UTC of today − N in every zone, before midnight UTC of today − N + 1.
    let shortest = terms.lines.values().map(|l| l.lost_after_business_days).min().unwrap_or(0);
    let quiet_before = today
        .checked_sub(Span::new().days(i64::from(shortest) - 1))
        .ok()
        .and_then(|day| day.to_zoned(TimeZone::UTC).ok())
        .map_or(Timestamp::MIN, |day| day.timestamp());
    let mut records = tracking::claim_review_due(&table, MAX_RECORDS).await?;
    records.extend(tracking::quiet_since(&table, quiet_before, MAX_RECORDS).await?);
    let mut seen = BTreeSet::new();
    records.retain(|r| seen.insert(r.value.shipment_id.clone()));
    let mut report = Report { reviewed: records.len(), ..Report::default() };
    for record in records {
        let id = record.value.shipment_id.clone();
        match review(ports, &table, tenant, terms, record, today).await {
            Ok(Reviewed::Written { created, settled }) => {
                report.created.extend(created);
                report.settled += usize::from(settled);
            }
            Ok(Reviewed::Unchanged) => {}
            Ok(Reviewed::Conflict) => report.conflicts += 1,
            Ok(Reviewed::Skipped(why)) => {
                tracing::warn!(tenant = %tenant.id, shipment = %id, why, "not reviewed for claims");
                report.skipped.push(id);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

enum Reviewed {
    Written { created: Vec<String>, settled: bool },
    Unchanged,
    Conflict,
    Skipped(String),
}

async fn review(
    ports: &Ports,
    table: &TenantTable<'_>,
    tenant: &TenantConfig,
    terms: &Terms,
    record: Versioned<TrackingRecord>,
    today: Date,
) -> Result<Reviewed, StoreError> {
    let Versioned { value: mut record, version } = record;
    let Some(line) = terms.line(&record.line) else {
        // Nothing on this line can be claimed: out of the index, so such records never pile up in it.
        if record.claim_review_due() {
            record.claims_reviewed = Some(record.last_activity());
            record.updated_at = ports.clock.now();
            match repo::save(table, &record, Condition::Version(version)).await {
                Ok(_) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(Reviewed::Skipped(format!("no claim terms for line {}", record.line)));
    };
    let shipment = shipments::get(table, &record.shipment_id).await?.map(|s| s.value);
    let order = orders::get(table, &record.order_id).await?.map(|o| o.value.order);
    let inspection = ports.inspections.inspection_damage(&tenant.id, &record.shipment_id).await?;
    let zone = TimeZone::get(&record.destination.time_zone).unwrap_or(TimeZone::UTC);
    let scans = scans(&record, &zone);
    let facts = ShipmentFacts {
        shipment_id: &record.shipment_id,
        line: &record.line,
        tracking_number: &record.tracking_number,
        scans: &scans,
        promised: shipment.as_ref().and_then(|s| promised(s, &zone)),
        goods_value: match (&shipment, &order) {
            (Some(s), Some(o)) => goods_value(o, s, line.currency).unwrap_or(0),
            _ => 0,
        },
        insured_value: None,
        shipping_charge: shipment.as_ref().map_or(0, |s| shipping_charge(s, line.currency)),
        inspection_damage: inspection.as_deref(),
    };
    let candidates = match detect::detect(terms, holidays(), &facts, today) {
        Ok(candidates) => candidates,
        Err(e) => return Ok(Reviewed::Skipped(e.to_string())),
    };
    let existing: Vec<Claim> =
        claims::of_shipment(table, &record.shipment_id).await?.into_iter().map(|c| c.claim).collect();
    let created = new_claims(&existing, candidates);
    let lost = existing.iter().chain(&created).any(|c| c.candidate.claim_type == ClaimType::Lost);
    // A finished journey is judged once per last scan; an escalated one until it is found lost (one never scanned
    // cannot be: it waits for its first scan outside the index).
    let ended = record.status().is_some_and(Status::is_final);
    let settled = record.claim_review_due() && (ended || lost || scans.is_empty());
    if created.is_empty() && !settled {
        return Ok(Reviewed::Unchanged);
    }
    let now = ports.clock.now();
    let mut writes = Vec::new();
    for claim in &created {
        let stored = ClaimRecord {
            tenant: tenant.id.clone(),
            claim: claim.clone(),
            history: vec![StatusChange { status: claim.status, on: today, at: now }],
            created_at: now,
            updated_at: now,
        };
        writes.push(repo::put(&stored, Condition::NotExists)?);
    }
    if settled {
        record.claims_reviewed = Some(record.last_activity());
    }
    if let (false, Some(facts)) = (created.is_empty(), record.facts.as_mut()) {
        facts.claimed = true;
    }
    record.updated_at = now;
    writes.push(repo::put(&record, Condition::Version(version))?);
    match table.transact(writes).await {
        Ok(()) => Ok(Reviewed::Written { created: created.iter().map(|c| c.id().to_owned()).collect(), settled }),
        Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => Ok(Reviewed::Conflict),
        Err(e) => Err(e),
    }
}

/// The journey's events as the claims rules read them, dated in the destination's zone.
fn scans(record: &TrackingRecord, zone: &TimeZone) -> Vec<Scan> {
    record
        .journey
        .events
        .iter()
        .map(|e| Scan { date: e.occurred_at.to_zoned(zone.clone()).date(), status: e.status, reason: e.reason })
        .collect()
}

/// The latest delivery day promised: the day it was routed, in the destination's zone, plus the promised days.
pub fn promised(shipment: &ShipmentRecord, zone: &TimeZone) -> Option<Date> {
    let routed = shipment.decided_at.to_zoned(zone.clone()).date();
    routed.checked_add(Span::new().days(i64::from(shipment.promised_days))).ok()
}

/// What the shipment cost, when in the line's currency (a refund is claimed in it); else nothing to refund.
fn shipping_charge(shipment: &ShipmentRecord, currency: Currency) -> i64 {
    match (shipment.cost_minor, Currency::new(&shipment.currency)) {
        (Some(cost), Some(c)) if c == currency => cost,
        _ => 0,
    }
}

/// The value of the shipment's units at the order's unit prices, when the order is priced in the line's currency.
/// `None` when it is not (no conversion is made here: a claim for an amount in another currency would be wrong).
pub fn goods_value(order: &Value, shipment: &ShipmentRecord, currency: Currency) -> Option<i64> {
    let order_currency = order.get("currency").and_then(Value::as_str).and_then(Currency::new)?;
    if order_currency != currency {
        return None;
    }
    let items = order.get("line_items").and_then(Value::as_array)?;
    let mut total: i64 = 0;
    for units in &shipment.units {
        let price = items
            .iter()
            .find(|item| sku(item).as_deref() == Some(units.sku.as_str()))
            .and_then(|item| item.get("price").and_then(Value::as_str))
            .and_then(|price| Money::parse_decimal(price, currency).ok())?;
        total = total.checked_add(price.minor.checked_mul(i64::from(units.quantity))?)?;
    }
    Some(total)
}

/// A line item's SKU as the router names it: its `sku`, else `variant:{variant_id}`.
fn sku(item: &Value) -> Option<String> {
    match (item.get("sku"), item.get("variant_id")) {
        (Some(Value::String(sku)), _) if !sku.trim().is_empty() => Some(sku.trim().to_owned()),
        (_, Some(Value::Number(variant))) => Some(format!("variant:{variant}")),
        _ => None,
    }
}
