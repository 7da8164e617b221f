//! The tracking consumer: one [`TrackingBatch`] at a time off the tracking queue.
//!
//! The batch's tracking number leads to its shipment (any leg's number does). A number no shipment has yet keeps
//! its events as an orphan item (`tracking#{carrier}#{number}` / `orphan-events`, kept 30 days), which the
//! assignment of the number applies and deletes. Events are applied with [`Journey::apply`]: a redelivered event
//! changes nothing and a late older one never moves the status back. What the batch changes is saved in one
//! transaction over the record's version (retried on a conflict): the journey; the numbers of new legs (and the
//! events that waited for them); the POD files the delivered event names, resolved from what was uploaded (with
//! their SHA-256); the POD assessment; the KPI facts; the stall level set back to moving by a new scan; the
//! router's shipment outcome (and its line's statistics) on a final status; and the recipient's name and the
//! driver's GPS in the shipment's `pod` personal item, never in the journey. Then the shop's fulfillment hears
//! of a new leg or of the delivery (a failure there is logged; the journey is saved).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lastmile_core::calendar::holidays;
use lastmile_core::tracking::kpi::{self, Facts};
use lastmile_core::tracking::pod::{self, Destination, PodRequirement};
use lastmile_core::tracking::stall::{StallLevel, WorkingDays};
use lastmile_core::tracking::{Status, TrackingEvent};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::events::TrackingBatch;
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable, Write};
use lastmile_platform::repo::lines::{self, LineStatsRecord};
use lastmile_platform::repo::personal::{self, PersonalRecord};
use lastmile_platform::repo::shipments::{self, Outcome, ShipmentRecord};
use lastmile_platform::repo::tracking::{
    self, OrphanEventsRecord, POD_PERSONAL, StoredPod, TrackingNumberRecord, TrackingRecord,
};
use lastmile_platform::repo::{self, Versioned, orders};
use serde_json::{Value, json};

use crate::Tracking;
use crate::fulfillment::tracking_info;

/// Attempts at the save when another writer changed the record meanwhile.
const ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// The message can never be handled; the queue's retries end in its dead-letter queue.
    #[error("cannot be handled: {0}")]
    Poison(String),
    /// Something did not answer; a later delivery will do it.
    #[error("try again: {0}")]
    Retry(String),
}

impl From<StoreError> for TrackError {
    fn from(e: StoreError) -> Self {
        TrackError::Retry(e.to_string())
    }
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Applied {
        shipment: String,
        added: usize,
        duplicates: usize,
        status: Option<Status>,
    },
    /// No shipment has the number yet: the events wait for it.
    Orphaned {
        waiting: usize,
    },
    TenantDisabled,
}

impl Tracking {
    /// Handles one message body from the tracking queue.
    pub async fn handle(&self, body: &str) -> Result<Handled, TrackError> {
        let batch: TrackingBatch =
            serde_json::from_str(body).map_err(|e| TrackError::Poison(format!("not a tracking batch: {e}")))?;
        self.registry.refresh().await;
        let tenant = self
            .registry
            .tenant(&batch.tenant)
            .ok_or_else(|| TrackError::Poison(format!("no tenant {:?}", batch.tenant)))?;
        if !tenant.enabled {
            return Ok(Handled::TenantDisabled);
        }
        let table = TenantTable::new(&*self.table, &tenant.id);
        let (events, personal_pods) = strip_personal(batch.events);
        for _ in 0..ATTEMPTS {
            let Some(shipment) = tracking::shipment_for(&table, &batch.carrier, &batch.tracking_number).await? else {
                let waiting = self.keep_orphans(&table, &batch.carrier, &batch.tracking_number, &events).await?;
                // The number may have been assigned between the look-up and the write: then apply after all.
                if tracking::shipment_for(&table, &batch.carrier, &batch.tracking_number).await?.is_none() {
                    return Ok(Handled::Orphaned { waiting });
                }
                continue;
            };
            match self.apply(&table, &tenant, &shipment, &events, &personal_pods).await {
                Ok(handled) => return Ok(handled),
                Err(TrackError::Retry(why)) if why == CONFLICT => continue,
                Err(e) => return Err(e),
            }
        }
        Err(TrackError::Retry("the tracking record kept changing; retry".into()))
    }

    async fn keep_orphans(
        &self,
        table: &TenantTable<'_>,
        carrier: &str,
        number: &str,
        events: &[TrackingEvent],
    ) -> Result<usize, TrackError> {
        for _ in 0..ATTEMPTS {
            let found = tracking::orphans(table, carrier, number).await?;
            let condition = found.as_ref().map_or(Condition::NotExists, |f| Condition::Version(f.version));
            let mut record = found.map(|f| f.value).unwrap_or_else(|| OrphanEventsRecord {
                carrier: carrier.to_owned(),
                tracking_number: number.to_owned(),
                events: Vec::new(),
                first_seen: self.clock.now(),
            });
            let before = record.events.len();
            for event in events {
                if !record.events.iter().any(|e| e.id == event.id) {
                    record.events.push(event.clone());
                }
            }
            if record.events.len() == before {
                return Ok(before);
            }
            match repo::save(table, &record, condition).await {
                Ok(_) => return Ok(record.events.len()),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TrackError::Retry("the orphan events kept changing; retry".into()))
    }

    async fn apply(
        &self,
        table: &TenantTable<'_>,
        tenant: &TenantConfig,
        shipment_id: &str,
        events: &[TrackingEvent],
        personal_pods: &BTreeMap<String, Value>,
    ) -> Result<Handled, TrackError> {
        let Some(found) = tracking::get(table, shipment_id).await? else {
            return Err(TrackError::Retry(format!("tracking of shipment {shipment_id} not readable yet")));
        };
        let version = found.version;
        let before = found.value.clone();
        let mut record = found.value;
        let now = self.clock.now();
        let mut writes = Vec::new();

        let applied = record.journey.apply(events.iter().cloned());
        // Legs the parcel passed to: their numbers lead here, and their waiting events join the journey.
        let mut new_legs = Vec::new();
        for leg in record.journey.legs().into_iter().skip(1) {
            if tracking::shipment_for(table, &leg.carrier, &leg.tracking_number).await?.is_some() {
                continue;
            }
            let number = TrackingNumberRecord {
                carrier: leg.carrier.clone(),
                tracking_number: leg.tracking_number.clone(),
                shipment_id: shipment_id.to_owned(),
            };
            writes.push(repo::put(&number, Condition::NotExists)?);
            if let Some(orphans) = tracking::orphans(table, &leg.carrier, &leg.tracking_number).await? {
                record.journey.apply(orphans.value.events);
                let key = tracking::orphan_key(&leg.carrier, &leg.tracking_number);
                writes.push(Write::Delete { key, condition: Condition::Version(orphans.version) });
            }
            new_legs.push(leg);
        }
        if record.journey.last_scan_at() != before.journey.last_scan_at() {
            record.stall = StallLevel::Moving;
        }

        // The recipient and the GPS of the deliveries, in the personal item.
        let owner = tracking::key(shipment_id).pk;
        let kept = personal::get(table, &owner, POD_PERSONAL.kind).await?;
        let mut pod_data = kept.as_ref().map(|k| k.value.data.clone()).unwrap_or_else(|| json!({}));
        let mut personal_changed = false;
        for (event, data) in personal_pods {
            if record.journey.events.iter().any(|e| &e.id == event) && pod_data.get(event) != Some(data) {
                pod_data[event] = data.clone();
                personal_changed = true;
            }
        }

        // The delivered event's files, as uploaded.
        if let Some(delivered) = record.journey.delivered() {
            let names: Vec<String> =
                delivered.pod.iter().flat_map(|p| p.files.iter().map(|f| f.name.clone())).collect();
            for leg in record.journey.legs() {
                for file in tracking::pod_files(table, &leg.carrier, &leg.tracking_number).await? {
                    if names.contains(&file.file.name) && !record.pods.iter().any(|p| p.key == file.file.key) {
                        record.pods.push(file.file);
                    }
                }
            }
        }
        let settings = &tenant.tracking;
        let policy = settings.pod_policy(&record.line);
        let zone = TimeZone::get(&record.destination.time_zone).unwrap_or(TimeZone::UTC);
        record.assessment = record.journey.delivered().map(|delivered| {
            let delivered = with_proof(delivered, pod_data.get(&delivered.id), &record.pods);
            let destination =
                Destination { point: record.destination.point, area: record.destination.area, zone: zone.clone() };
            pod::assess(&delivered, &record.journey.events, &policy, &settings.suspect, &destination)
        });

        let shipment = shipments::get(table, shipment_id).await?;
        // A return on its way back is no delivery: it stays out of the delivery KPIs.
        record.facts = (!lastmile_platform::repo::returns::is_return_parcel(shipment_id))
            .then(|| facts(&record, shipment.as_ref().map(|s| &s.value), tenant, &zone));

        // The router's outcome, once, with its line's statistics.
        let mut delivered_now = None;
        if let (Some(status), Some(shipment)) = (record.status(), shipment)
            && status.is_final()
            && shipment.value.outcome.is_none()
        {
            writes.extend(outcome_writes(table, &record, shipment).await?);
            if status == Status::Delivered {
                delivered_now = record.journey.delivered().map(|e| e.occurred_at);
            }
        }
        if personal_changed {
            let customer = match kept.map(|k| k.value.customer) {
                Some(customer) => customer,
                None => personal::get(table, &orders::key(&record.order_id).pk, orders::PERSONAL.kind)
                    .await?
                    .and_then(|o| o.value.customer),
            };
            let item = PersonalRecord::new(&POD_PERSONAL, owner, customer, pod_data, now);
            writes.push(repo::put(&item, Condition::Always)?);
        }

        let changed = record != before || !writes.is_empty();
        if changed {
            record.updated_at = now;
            writes.insert(0, repo::put(&record, Condition::Version(version))?);
            match table.transact(writes).await {
                Ok(()) => {}
                Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => {
                    return Err(TrackError::Retry(CONFLICT.into()));
                }
                Err(e) => return Err(e.into()),
            }
            self.tell_the_shop(&tenant.id, &record, &new_legs, delivered_now).await;
        }
        Ok(Handled::Applied {
            shipment: shipment_id.to_owned(),
            added: applied.added,
            duplicates: applied.duplicates,
            status: record.status(),
        })
    }

    async fn tell_the_shop(
        &self,
        tenant: &str,
        record: &TrackingRecord,
        new_legs: &[lastmile_core::tracking::journey::Leg],
        delivered: Option<Timestamp>,
    ) {
        let Some(fulfillment) = &record.fulfillment_id else { return };
        if let Some(leg) = new_legs.last() {
            let info = tracking_info(&leg.carrier, &leg.tracking_number);
            if let Err(e) = self.fulfillments.tracking_changed(tenant, fulfillment, &info).await {
                tracing::warn!(error = %e, "fulfillment tracking not updated");
            }
        }
        if let Some(at) = delivered
            && let Err(e) = self.fulfillments.delivered(tenant, fulfillment, at).await
        {
            tracing::warn!(error = %e, "fulfillment not marked delivered");
        }
    }
}

const CONFLICT: &str = "conflict";

/// The events without the recipient's name and the driver's GPS, and those by event id.
pub fn strip_personal(events: Vec<TrackingEvent>) -> (Vec<TrackingEvent>, BTreeMap<String, Value>) {
    let mut personal = BTreeMap::new();
    let events = events
        .into_iter()
        .map(|mut event| {
            if let Some(pod) = event.pod.as_mut() {
                let (name, gps) = (pod.recipient_name.take(), pod.gps.take());
                if name.is_some() || gps.is_some() {
                    personal.insert(event.id.clone(), json!({ "recipient_name": name, "gps": gps }));
                }
            }
            event
        })
        .collect();
    (events, personal)
}

/// The delivered event as the checks see it: its GPS back from the personal item, and only the files that
/// arrived (a file the event names but nobody uploaded is no proof).
fn with_proof(delivered: &TrackingEvent, personal: Option<&Value>, stored: &[StoredPod]) -> TrackingEvent {
    let mut event = delivered.clone();
    if let Some(pod) = event.pod.as_mut() {
        pod.files.retain(|f| stored.iter().any(|s| s.name == f.name));
        for file in &mut pod.files {
            if let Some(s) = stored.iter().find(|s| s.name == file.name) {
                file.key = Some(s.key.clone());
                file.sha256 = Some(s.sha256.clone());
            }
        }
        if let Some(personal) = personal {
            pod.gps = serde_json::from_value(personal["gps"].clone()).ok().flatten();
            pod.recipient_name = personal["recipient_name"].as_str().map(str::to_owned);
        }
    }
    event
}

/// The line's delivery weekdays from its rate card (Monday to Friday for a line without one).
fn delivery_weekdays(line: &str) -> Vec<u8> {
    lastmile_core::rating::card::builtin()
        .iter()
        .flatten()
        .find(|card| card.id == line)
        .and_then(|card| card.transit.as_ref())
        .map(|t| t.delivery_weekdays.clone())
        .unwrap_or_else(|| vec![1, 2, 3, 4, 5])
}

fn local_date(at: Timestamp, zone: &TimeZone) -> Date {
    at.to_zoned(zone.clone()).date()
}

/// The shipment's KPI facts as they are now.
pub fn facts(
    record: &TrackingRecord,
    shipment: Option<&ShipmentRecord>,
    tenant: &TenantConfig,
    zone: &TimeZone,
) -> Facts {
    let settings = &tenant.tracking;
    let handed_over = record.journey.first_scan_at();
    let routed = shipment.map_or(record.tracked_since, |s| s.decided_at);
    let day = local_date(handed_over.unwrap_or(routed), zone);
    let delivered = record.journey.delivered().map(|e| e.occurred_at);
    let days = WorkingDays {
        weekdays: delivery_weekdays(&record.line),
        calendar: record.destination.calendar(),
        zone: zone.clone(),
    };
    let transit_business_days = match (handed_over, delivered) {
        (Some(from), Some(to)) => {
            kpi::business_days(local_date(from, zone), local_date(to, zone), &days, holidays()).ok()
        }
        _ => None,
    };
    let assessment = record.assessment.as_ref();
    let previous = record.facts.as_ref();
    Facts {
        line: record.line.clone(),
        lane: record.lane.clone(),
        day,
        delivered: record.status() == Some(Status::Delivered),
        transit_business_days,
        sla_days: settings.sla(&record.line).days,
        exception: record.journey.events.iter().any(|e| e.status == Status::Exception),
        pod_required: settings.pod_policy(&record.line).required != PodRequirement::None,
        pod_present: assessment.is_some_and(|a| !a.pod_missing),
        suspect_delivery: assessment.is_some_and(|a| a.suspect_delivery),
        stalled: record.stall != StallLevel::Moving || previous.is_some_and(|f| f.stalled),
        claimed: shipment.and_then(|s| s.outcome.as_ref()).is_some_and(|o| o.claim)
            || previous.is_some_and(|f| f.claimed),
        claim_cycle_days: previous.and_then(|f| f.claim_cycle_days),
    }
}

/// The shipment's outcome from its final status, and its line's statistics with it.
async fn outcome_writes(
    table: &TenantTable<'_>,
    record: &TrackingRecord,
    shipment: Versioned<ShipmentRecord>,
) -> Result<Vec<Write>, TrackError> {
    let mut value = shipment.value;
    let delivered = record.status() == Some(Status::Delivered);
    let transit_days = record
        .journey
        .delivered()
        .map(|e| (e.occurred_at.as_second() - value.decided_at.as_second()).max(0) as f64 / 86_400.0)
        .filter(|_| delivered);
    let on_time = transit_days.map(|d| d <= f64::from(value.promised_days));
    let outcome = Outcome { delivered, transit_days, on_time, claim: false };
    let stats = lines::stats(table, &value.line).await?;
    let condition = stats.as_ref().map_or(Condition::NotExists, |s| Condition::Version(s.version));
    let mut line =
        stats.map_or_else(|| LineStatsRecord { line: value.line.clone(), stats: Default::default() }, |s| s.value);
    line.stats.success.record(outcome.delivered);
    if let Some(on_time) = outcome.on_time {
        line.stats.on_time.record(on_time);
    }
    line.stats.claims.record(false);
    if let Some(days) = transit_days {
        line.stats.transit_days.push(days);
    }
    value.outcome = Some(outcome);
    Ok(vec![repo::put(&value, Condition::Version(shipment.version))?, repo::put(&line, condition)?])
}
