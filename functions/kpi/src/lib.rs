//! KPIs: the roll-up job (an EventBridge schedule every 5 minutes; `lastmile dev` runs it in-process) and
//! `GET /v1/kpis` ([`api`]).
//!
//! The job reads the `kpi-pending` index (records whose `facts` differ from what the roll-ups hold, `counted`),
//! takes each record's `counted` facts out of their roll-up, puts its `facts` into theirs, and sets
//! `counted = facts`, which drops it from the index. The roll-ups and the records are written in one
//! transaction, each on its version (or absent for a new roll-up): a retry, or a run racing this one, finds the
//! versions moved and writes nothing, so no shipment is ever counted twice. Records that share roll-ups go in the
//! same transaction, up to DynamoDB's 25 writes; a transaction that loses a race is retried record by record.

pub mod api;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::tracking::kpi::{Facts, Rollup};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable, Write};
use lastmile_platform::repo::tracking::{self, KpiRecord, TrackingRecord};
use lastmile_platform::repo::{self, Versioned};
use lastmile_platform::tenants::TenantRegistry;

/// Most records one run moves per tenant; the rest wait for the next run (oldest change first).
pub const MAX_RECORDS: usize = 5_000;

/// DynamoDB's limit on the writes of one transaction.
const MAX_WRITES: usize = 25;

/// Which roll-up: day, line, lane.
type RollupId = (Date, String, String);

fn rollup_id(facts: &Facts) -> RollupId {
    (facts.day, facts.line.clone(), facts.lane.clone())
}

/// The roll-ups a record's move touches: its counted one and its new one (the same one when only counts moved).
fn touches(record: &TrackingRecord) -> BTreeSet<RollupId> {
    record.counted.iter().chain(record.facts.iter()).map(rollup_id).collect()
}

/// What one run did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records whose facts are now counted.
    pub moved: usize,
    /// Records another writer changed meanwhile: moved by the next run.
    pub conflicts: usize,
    pub transactions: usize,
}

/// One run for every tenant; a tenant that fails is logged and the others still run.
pub async fn run_all(table: &dyn TableStore, registry: &TenantRegistry, now: Timestamp) -> Vec<(String, Report)> {
    let mut reports = Vec::new();
    for tenant in registry.tenants() {
        match run(table, &tenant, now).await {
            Ok(report) => {
                if report.moved > 0 || report.conflicts > 0 {
                    tracing::info!(tenant = %tenant.id, moved = report.moved, conflicts = report.conflicts, "KPI roll-up");
                }
                reports.push((tenant.id.clone(), report));
            }
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "KPI roll-up"),
        }
    }
    reports
}

/// One run for one tenant. `now` is not needed by the arithmetic; it is taken so every job has the same shape.
pub async fn run(table: &dyn TableStore, tenant: &TenantConfig, _now: Timestamp) -> Result<Report, StoreError> {
    let table = TenantTable::new(table, &tenant.id);
    let mut pending = tracking::kpi_pending(&table, MAX_RECORDS).await?;
    // Records sharing roll-ups next to each other, so that batches share them.
    pending.sort_by_cached_key(|r| touches(&r.value).into_iter().collect::<Vec<_>>());
    let mut report = Report::default();
    for batch in batches(pending) {
        match apply(&table, &batch).await? {
            true => {
                report.transactions += 1;
                report.moved += batch.len();
            }
            false if batch.len() == 1 => report.conflicts += 1,
            false => {
                // Someone else moved one of them or one of the roll-ups: each again on its own, freshly read.
                for record in batch {
                    let fresh = tracking::get(&table, &record.value.shipment_id).await?;
                    let Some(fresh) = fresh.filter(|f| f.value.kpi_pending()) else { continue };
                    if apply(&table, std::slice::from_ref(&fresh)).await? {
                        report.transactions += 1;
                        report.moved += 1;
                    } else {
                        report.conflicts += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Groups records so each group's writes (its records and the roll-ups they touch) fit one transaction.
fn batches(records: Vec<Versioned<TrackingRecord>>) -> Vec<Vec<Versioned<TrackingRecord>>> {
    let mut out: Vec<Vec<Versioned<TrackingRecord>>> = Vec::new();
    let mut ids: BTreeSet<RollupId> = BTreeSet::new();
    for record in records {
        let touched = touches(&record.value);
        let current = out.last().map_or(0, Vec::len);
        let joined = ids.union(&touched).count();
        if out.is_empty() || current + 1 + joined > MAX_WRITES {
            out.push(Vec::new());
            ids = BTreeSet::new();
        }
        ids.extend(touched);
        if let Some(last) = out.last_mut() {
            last.push(record);
        }
    }
    out
}

/// Moves the records' facts in one transaction; false when a condition failed (nothing was written).
async fn apply(table: &TenantTable<'_>, records: &[Versioned<TrackingRecord>]) -> Result<bool, StoreError> {
    let ids: BTreeSet<RollupId> = records.iter().flat_map(|r| touches(&r.value)).collect();
    let mut rollups: BTreeMap<RollupId, (KpiRecord, Condition)> = BTreeMap::new();
    for (day, line, lane) in ids {
        let key = tracking::kpi_key(day, &line, &lane);
        let (record, condition) = match repo::load::<KpiRecord>(table, &key).await? {
            Some(Versioned { value, version }) => (value, Condition::Version(version)),
            None => (
                KpiRecord { day, line: line.clone(), lane: lane.clone(), rollup: Rollup::default() },
                Condition::NotExists,
            ),
        };
        rollups.insert((day, line, lane), (record, condition));
    }
    let mut writes: Vec<Write> = Vec::new();
    for Versioned { value, version } in records {
        if let Some(counted) = &value.counted
            && let Some((kpi, _)) = rollups.get_mut(&rollup_id(counted))
        {
            kpi.rollup.remove(counted);
        }
        if let Some(facts) = &value.facts
            && let Some((kpi, _)) = rollups.get_mut(&rollup_id(facts))
        {
            kpi.rollup.add(facts);
        }
        let moved = TrackingRecord { counted: value.facts.clone(), ..value.clone() };
        writes.push(repo::put(&moved, Condition::Version(*version))?);
    }
    for (kpi, condition) in rollups.values() {
        writes.push(repo::put(kpi, *condition)?);
    }
    if writes.is_empty() {
        return Ok(true);
    }
    match table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}
