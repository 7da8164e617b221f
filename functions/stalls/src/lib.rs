//! The stall job (an EventBridge schedule, every 15 minutes; `lastmile dev` runs it in-process): parcels without
//! a scan for longer than their lane allows raise an alert.
//!
//! - It reads only the `stall-watch` index, up to the smallest threshold of the tenant's rules in *elapsed* hours:
//!   business hours never run ahead of elapsed ones, so nothing quiet for less can be stalled; everything quiet for
//!   more is assessed by [`stall::assess`] with its lane's rule, its line's delivery weekdays (the rate card's
//!   `transit.delivery_weekdays`) and its destination's holidays and time zone.
//! - A parcel newly stalled or escalated gets, in one transaction, its [`AlertRecord`] (written only if absent:
//!   the id is one per stall and level, so a rerun raises nothing twice) and its record with the new level and
//!   `facts.stalled` (on its version: a record changed meanwhile is assessed again on the next run).
//! - A raised alert is listed on the dashboard ([`tracking::recent_alerts`]) and waits on the `alert-outbox` index
//!   until it is on the alerts queue (the core [`Alert`] as JSON) and, when the tenant has a webhook, delivered
//!   signed to it; this run and the later ones send what is owed ([`webhook`]), so a failed send is tried again.

pub mod webhook;

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lastmile_core::calendar::{CalendarError, Holidays, holidays};
use lastmile_core::tracking::alert::{Alert, alert_id};
use lastmile_core::tracking::stall::{self, StallLevel, WorkingDays};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::queue::{Queue, QueueError};
use lastmile_platform::ports::secrets::Secrets;
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::tracking::{self, AlertRecord, Delivery, TrackingRecord};
use lastmile_platform::repo::{self, Versioned};
use lastmile_platform::tenants::TenantRegistry;

pub use webhook::{HttpSender, WebhookSender};

/// Most records one run assesses per tenant: the index is ordered by last scan, so the longest-quiet come first.
pub const MAX_RECORDS: usize = 10_000;

/// Weekdays assumed for a line the compiled-in rate cards do not know: Monday to Friday.
const DEFAULT_WEEKDAYS: [u8; 5] = [1, 2, 3, 4, 5];

/// What the job stores and sends through.
pub struct Ports {
    pub table: Arc<dyn TableStore>,
    /// The alerts queue: one message per raised alert, the core [`Alert`] as JSON.
    pub alerts: Arc<dyn Queue>,
    /// Where the webhook secrets are read (`TrackingSettings.alert_webhook.secret` is a reference).
    pub secrets: Arc<dyn Secrets>,
    pub webhook: Arc<dyn WebhookSender>,
}

#[derive(Debug, thiserror::Error)]
pub enum StallError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What one run did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records read from the index (quiet for at least the smallest threshold).
    pub assessed: usize,
    /// Alerts raised, one per newly stalled or escalated parcel.
    pub raised: Vec<String>,
    /// Records changed by someone else meanwhile: assessed again next run.
    pub conflicts: usize,
    /// Records that could not be assessed (a date beyond the holiday data, an unknown zone).
    pub skipped: usize,
    /// The sends of raised alerts: to the queue and the webhook.
    pub outbox: webhook::OutboxReport,
}

/// One run for every tenant; a tenant that fails is logged and the others still run.
pub async fn run_all(ports: &Ports, registry: &TenantRegistry, now: Timestamp) -> Vec<(String, Report)> {
    let mut reports = Vec::new();
    for tenant in registry.tenants().iter().filter(|t| t.enabled) {
        match run(ports, tenant, now).await {
            Ok(report) => {
                if !report.raised.is_empty() || report.conflicts > 0 {
                    tracing::info!(tenant = %tenant.id, raised = report.raised.len(), conflicts = report.conflicts, "stall job");
                }
                reports.push((tenant.id.clone(), report));
            }
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "stall job"),
        }
    }
    reports
}

/// One run for one tenant at `now`.
pub async fn run(ports: &Ports, tenant: &TenantConfig, now: Timestamp) -> Result<Report, StallError> {
    let table = TenantTable::new(ports.table.as_ref(), &tenant.id);
    let settings = &tenant.tracking;
    let smallest = std::iter::once(&settings.stall)
        .chain(settings.lanes.values())
        .map(|rule| rule.stalled_after_hours)
        .min()
        .unwrap_or(48);
    let before = Timestamp::from_second(now.as_second() - i64::from(smallest) * 3_600).unwrap_or(Timestamp::MIN);
    let quiet = tracking::quiet_since(&table, before, MAX_RECORDS).await?;
    let mut report = Report { assessed: quiet.len(), ..Report::default() };
    for record in quiet {
        let level = match assess(&record.value, tenant, now, holidays()) {
            Ok(level) => level,
            Err(e) => {
                tracing::warn!(tenant = %tenant.id, shipment = %record.value.shipment_id, error = %e, "stall not assessed");
                report.skipped += 1;
                continue;
            }
        };
        if level.0 <= record.value.stall {
            continue;
        }
        match raise(&table, tenant, record, level, now).await? {
            // Stored and owed to the queue (and the webhook): the outbox below sends it.
            Some(alert) => report.raised.push(alert.id),
            None => report.conflicts += 1,
        }
    }
    report.outbox = webhook::deliver_due(ports, &table, tenant, now).await?;
    Ok(report)
}

/// The record's level at `now` and the hours it has waited, as its lane counts them.
pub fn assess(
    record: &TrackingRecord,
    tenant: &TenantConfig,
    now: Timestamp,
    holidays: &Holidays,
) -> Result<(StallLevel, f64), AssessError> {
    let rule = tenant.tracking.stall_rule(&record.lane);
    let days = working_days(record)?;
    let last = record.last_activity();
    let level = stall::assess(last, now, rule, &days, holidays)?;
    let hours = stall::hours_waiting(last, now, rule, &days, holidays)?;
    Ok((level, hours))
}

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("unknown time zone {0:?} of the destination")]
    Zone(String),
}

/// The days the record's line delivers (its rate card's delivery weekdays, Monday to Friday for a line no card
/// describes) in its destination's calendar and zone.
pub fn working_days(record: &TrackingRecord) -> Result<WorkingDays, AssessError> {
    let weekdays = lastmile_core::rating::card::builtin()
        .iter()
        .flatten()
        .find(|card| card.id == record.line)
        .and_then(|card| card.transit.as_ref())
        .map_or_else(|| DEFAULT_WEEKDAYS.to_vec(), |transit| transit.delivery_weekdays.clone());
    let zone = TimeZone::get(&record.destination.time_zone)
        .map_err(|_| AssessError::Zone(record.destination.time_zone.clone()))?;
    Ok(WorkingDays { weekdays, calendar: record.destination.calendar(), zone })
}

/// Writes the alert and the record's new level together; `None` when the record changed meanwhile or the alert
/// already exists (a run that raced this one).
async fn raise(
    table: &TenantTable<'_>,
    tenant: &TenantConfig,
    record: Versioned<TrackingRecord>,
    (level, hours): (StallLevel, f64),
    now: Timestamp,
) -> Result<Option<Alert>, StoreError> {
    let Versioned { value: mut record, version } = record;
    let last_scan_at = record.last_activity();
    let alert = Alert {
        id: alert_id(&record.shipment_id, level, last_scan_at),
        shipment_id: record.shipment_id.clone(),
        level,
        last_scan_at,
        hours_waiting: (hours * 10.0).round() / 10.0,
        tracking_number: record
            .journey
            .legs()
            .last()
            .map_or_else(|| record.tracking_number.clone(), |l| l.tracking_number.clone()),
        carrier: record.journey.legs().last().map_or_else(|| record.carrier.clone(), |l| l.carrier.clone()),
        raised_at: now,
    };
    let delivery = match &tenant.tracking.alert_webhook {
        Some(_) => Delivery::Pending { attempts: 0, next_attempt_at: now },
        None => Delivery::NotConfigured,
    };
    record.stall = level;
    if let Some(facts) = record.facts.as_mut() {
        facts.stalled = true;
    }
    record.updated_at = now;
    let writes = vec![
        repo::put(&AlertRecord { alert: alert.clone(), delivery, queued: false }, Condition::NotExists)?,
        repo::put(&record, Condition::Version(version))?,
    ];
    match table.transact(writes).await {
        Ok(()) => Ok(Some(alert)),
        Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(e),
    }
}
