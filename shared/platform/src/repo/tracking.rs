//! Tracking records: one per shipment with its whole journey, the tracking numbers that lead to it, the alerts
//! its stalls raised, and the KPI roll-ups its facts are counted in.
//!
//! The jobs find their work through the indexes, never by scanning: a shipment still moving sits in the
//! `stall-watch` partition of gsi1 ordered by its last scan, so the stall job reads only those scanned before a
//! threshold; a shipment whose KPI facts changed since they were counted sits in the `kpi-pending` partition of
//! gsi2 until the KPI job has moved them in the roll-ups; one whose journey ended or whose stall escalated sits in
//! the `claim-watch` partition of gsi1 until the claims job has reviewed it since its last scan.

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::calendar::CalendarId;
use lastmile_core::tracking::Journey;
use lastmile_core::tracking::kpi::{Facts, Rollup};
use lastmile_core::tracking::pod::{AreaType, PodAssessment};
use lastmile_core::tracking::stall::StallLevel;
use lastmile_core::tracking::status::Status;
use serde::{Deserialize, Serialize};

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// Proof of delivery names and places a person: the recipient's name and the driver's GPS are kept in the
/// shipment's `pod` personal item (never in the journey), the signature and photo files in the blob store under
/// `pod/{tenant}/…` with a [`PodFileRecord`] each; all of them expire after the retention, and a shop/redact or a
/// customer's erasure removes them with the order.
pub const POD_PERSONAL: Declaration = Declaration {
    kind: "pod",
    record: "tracking",
    fields: &["/recipient_name", "/gps", "signature and photo files (blobs under pod/)"],
    purpose: "proving a delivery in a dispute (GET /v1/shipments/{id}/evidence)",
    retention_days: 365,
};

pub const STALL_WATCH: &str = "stall-watch";
pub const KPI_PENDING: &str = "kpi-pending";
pub const ALERTS: &str = "alerts";
pub const ALERT_OUTBOX: &str = "alert-outbox";
pub const CLAIM_WATCH: &str = "claim-watch";

/// A time as a sort key that orders as the time does: unix seconds, zero-padded to 12 digits.
pub fn time_sk(at: Timestamp) -> String {
    format!("{:012}", at.as_second().max(0))
}

/// Where the parcel should arrive, as the POD checks need it. No name or street: the point is a postcode
/// centroid or a geocode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedDestination {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Latitude and longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<(f64, f64)>,
    pub area: AreaType,
    /// IANA zone of the destination, whose days and hours the stall clock and the POD time check count.
    pub time_zone: String,
}

impl TrackedDestination {
    /// The destination's holiday calendar: its country's, with the regional holidays of the subdivision its
    /// postcode lies in (Epiphany in Bavaria, not in Berlin).
    pub fn calendar(&self) -> CalendarId {
        let subdivision =
            self.postcode.as_deref().and_then(|p| lastmile_core::address::postcode_subdivision(&self.country, p));
        CalendarId::new(&self.country, subdivision)
    }
}

/// A proof-of-delivery file kept in the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPod {
    /// The name the carrier gave it.
    pub name: String,
    /// Its key in the blob store.
    pub key: String,
    /// Hex SHA-256 of the bytes, checked on every read.
    pub sha256: String,
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingRecord {
    pub shipment_id: String,
    pub order_id: String,
    pub line: String,
    pub lane: String,
    /// The first leg's carrier and tracking number; later legs are in the journey's hand-overs.
    pub carrier: String,
    pub tracking_number: String,
    pub destination: TrackedDestination,
    pub journey: Journey,
    /// When the shipment got its tracking number: the stall clock's start until the first scan.
    pub tracked_since: Timestamp,
    /// The stall level last raised for the current last scan (a new scan sets it back to moving).
    #[serde(default = "moving")]
    pub stall: StallLevel,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<StoredPod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<PodAssessment>,
    /// The shipment's KPI facts as they are now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// The facts the roll-ups hold for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<Facts>,
    pub updated_at: Timestamp,
    /// The shop's fulfillment that carries this tracking (Shopify's `gid://shopify/Fulfillment/…`), once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_id: Option<String>,
    /// The last activity the claims job reviewed the record at: a review is due again after a new scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_reviewed: Option<Timestamp>,
}

fn moving() -> StallLevel {
    StallLevel::Moving
}

impl TrackingRecord {
    pub fn status(&self) -> Option<Status> {
        self.journey.status()
    }

    /// The last scan, or when tracking began if no scan came yet.
    pub fn last_activity(&self) -> Timestamp {
        self.journey.last_scan_at().unwrap_or(self.tracked_since)
    }

    /// Watched by the stall job: still expected to move (not delivered, returned or expired) and not yet at the
    /// last alert level. An escalated parcel leaves the index, so a backlog of them never crowds newer stalls out
    /// of a run's reads; its next scan sets it moving and brings it back.
    pub fn watching(&self) -> bool {
        !self.status().is_some_and(Status::is_final) && self.stall != StallLevel::Escalated
    }

    /// Waiting for the claims job: its journey ended (delivered, returned, expired: damage and lateness can be
    /// judged) or it stalled past the last alert level (it may be lost), and it was not reviewed since its last
    /// scan. Quiet parcels still watched for stalls are found through `stall-watch`.
    pub fn claim_review_due(&self) -> bool {
        !self.watching() && self.claims_reviewed != Some(self.last_activity())
    }

    pub fn kpi_pending(&self) -> bool {
        self.facts != self.counted
    }
}

pub fn key(shipment_id: &str) -> Key {
    Key::new(format!("shipment#{shipment_id}"), "tracking")
}

impl Record for TrackingRecord {
    fn key(&self) -> Key {
        key(&self.shipment_id)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        let mut indexes = Vec::new();
        if self.watching() {
            let sk = format!("{}#{}", time_sk(self.last_activity()), self.shipment_id);
            indexes.push(("gsi1", Key::new(STALL_WATCH, sk)));
        } else if self.claim_review_due() {
            // gsi1 is free once the stall job stops watching: the claims job's queue takes it.
            let sk = format!("{}#{}", time_sk(self.last_activity()), self.shipment_id);
            indexes.push(("gsi1", Key::new(CLAIM_WATCH, sk)));
        }
        if self.kpi_pending() {
            let sk = format!("{}#{}", time_sk(self.updated_at), self.shipment_id);
            indexes.push(("gsi2", Key::new(KPI_PENDING, sk)));
        }
        indexes
    }
}

pub async fn get(table: &TenantTable<'_>, shipment_id: &str) -> Result<Option<Versioned<TrackingRecord>>, StoreError> {
    super::load(table, &key(shipment_id)).await
}

/// Shipments still moving whose last activity is at or before `before`, oldest first.
pub async fn quiet_since(
    table: &TenantTable<'_>,
    before: Timestamp,
    cap: usize,
) -> Result<Vec<Versioned<TrackingRecord>>, StoreError> {
    let high = format!("{}#\u{10ffff}", time_sk(before));
    let query = Query::index("gsi1", STALL_WATCH).sk(SkRange::Between(String::new(), high));
    query_all(table, query, cap).await
}

/// Shipments waiting for the claims job's review, longest quiet first.
pub async fn claim_review_due(
    table: &TenantTable<'_>,
    cap: usize,
) -> Result<Vec<Versioned<TrackingRecord>>, StoreError> {
    query_all(table, Query::index("gsi1", CLAIM_WATCH).sk(SkRange::All), cap).await
}

/// Shipments whose KPI facts the roll-ups do not hold yet, oldest change first.
pub async fn kpi_pending(table: &TenantTable<'_>, cap: usize) -> Result<Vec<Versioned<TrackingRecord>>, StoreError> {
    query_all(table, Query::index("gsi2", KPI_PENDING).sk(SkRange::All), cap).await
}

/// A carrier's tracking number, leading to its shipment: one per leg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingNumberRecord {
    pub carrier: String,
    pub tracking_number: String,
    pub shipment_id: String,
}

pub fn number_key(carrier: &str, tracking_number: &str) -> Key {
    Key::new(format!("tracking#{carrier}#{tracking_number}"), "tracking-number")
}

impl Record for TrackingNumberRecord {
    fn key(&self) -> Key {
        number_key(&self.carrier, &self.tracking_number)
    }
}

pub async fn shipment_for(
    table: &TenantTable<'_>,
    carrier: &str,
    tracking_number: &str,
) -> Result<Option<String>, StoreError> {
    let found: Option<Versioned<TrackingNumberRecord>> =
        super::load(table, &number_key(carrier, tracking_number)).await?;
    Ok(found.map(|v| v.value.shipment_id))
}

/// How far the alert's delivery to the seller's webhook got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Delivery {
    /// No webhook is configured: the alert is on the queue and the dashboard only.
    NotConfigured,
    Pending {
        attempts: u32,
        next_attempt_at: Timestamp,
    },
    Delivered {
        attempts: u32,
        at: Timestamp,
    },
    GaveUp {
        attempts: u32,
        last_error: String,
    },
}

/// A raised alert (the core [`Alert`](lastmile_core::tracking::alert::Alert)) and its delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub alert: lastmile_core::tracking::alert::Alert,
    pub delivery: Delivery,
    /// Whether the alert is on the alerts queue. Until it is, the outbox index keeps it and each run of the stall
    /// job sends it again, so a queue that failed once loses nothing.
    #[serde(default = "on_the_queue")]
    pub queued: bool,
}

/// Alerts stored before the queue had an outbox were sent when raised.
fn on_the_queue() -> bool {
    true
}

impl AlertRecord {
    /// When the outbox next has work for this alert: now for a queue send still owed, else the webhook's next
    /// attempt; `None` when nothing is left to send.
    pub fn outbox_due(&self) -> Option<Timestamp> {
        let webhook = match &self.delivery {
            Delivery::Pending { next_attempt_at, .. } => Some(*next_attempt_at),
            _ => None,
        };
        let queue = (!self.queued).then_some(self.alert.raised_at);
        webhook.into_iter().chain(queue).min()
    }
}

pub fn alert_key(id: &str) -> Key {
    Key::new(format!("alert#{id}"), "alert")
}

impl Record for AlertRecord {
    fn key(&self) -> Key {
        alert_key(&self.alert.id)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        let mut indexes =
            vec![("gsi1", Key::new(ALERTS, format!("{}#{}", time_sk(self.alert.raised_at), self.alert.id)))];
        if let Some(due) = self.outbox_due() {
            indexes.push(("gsi2", Key::new(ALERT_OUTBOX, format!("{}#{}", time_sk(due), self.alert.id))));
        }
        indexes
    }
}

/// The latest alerts, newest first.
pub async fn recent_alerts(table: &TenantTable<'_>, cap: usize) -> Result<Vec<AlertRecord>, StoreError> {
    let query = Query { descending: true, ..Query::index("gsi1", ALERTS).sk(SkRange::All).limit(cap.min(100)) };
    let mut alerts: Vec<AlertRecord> = query_all(table, query, cap).await?.into_iter().map(|v| v.value).collect();
    alerts.truncate(cap);
    Ok(alerts)
}

/// Alerts with a send due at `now`: to the alerts queue, or the webhook's next attempt.
pub async fn alerts_due(
    table: &TenantTable<'_>,
    now: Timestamp,
    cap: usize,
) -> Result<Vec<Versioned<AlertRecord>>, StoreError> {
    let high = format!("{}#\u{10ffff}", time_sk(now));
    query_all(table, Query::index("gsi2", ALERT_OUTBOX).sk(SkRange::Between(String::new(), high)), cap).await
}

/// The roll-up of one line × lane × day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiRecord {
    pub day: Date,
    pub line: String,
    pub lane: String,
    pub rollup: Rollup,
}

pub fn kpi_key(day: Date, line: &str, lane: &str) -> Key {
    Key::new("kpi", format!("{day}#{line}#{lane}"))
}

impl Record for KpiRecord {
    fn key(&self) -> Key {
        kpi_key(self.day, &self.line, &self.lane)
    }
}

/// Every roll-up of the days `from..=to`.
pub async fn kpis(
    table: &TenantTable<'_>,
    from: Date,
    to: Date,
    cap: usize,
) -> Result<Vec<Versioned<KpiRecord>>, StoreError> {
    let query = Query::partition("kpi").sk(SkRange::Between(format!("{from}#"), format!("{to}#\u{10ffff}")));
    query_all(table, query, cap).await
}

/// The newest day with a roll-up, if any.
pub async fn latest_kpi_day(table: &TenantTable<'_>) -> Result<Option<Date>, StoreError> {
    let query = Query { descending: true, ..Query::partition("kpi").sk(SkRange::All).limit(1) };
    let newest = query_all::<KpiRecord>(table, query, 1).await?;
    Ok(newest.first().map(|v| v.value.day))
}

/// Events of a tracking number no shipment has yet (the carrier scanned before the seller assigned the number):
/// kept until the number is assigned, then applied to its journey and deleted in the same transaction. They expire
/// after [`ORPHAN_DAYS`] if the number is never assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrphanEventsRecord {
    pub carrier: String,
    pub tracking_number: String,
    pub events: Vec<lastmile_core::tracking::TrackingEvent>,
    pub first_seen: Timestamp,
}

/// How long events wait for their tracking number to be assigned.
pub const ORPHAN_DAYS: i64 = 30;

pub fn orphan_key(carrier: &str, tracking_number: &str) -> Key {
    Key::new(format!("tracking#{carrier}#{tracking_number}"), "orphan-events")
}

impl Record for OrphanEventsRecord {
    fn key(&self) -> Key {
        orphan_key(&self.carrier, &self.tracking_number)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.first_seen.as_second() + ORPHAN_DAYS * 24 * 60 * 60)
    }
}

pub async fn orphans(
    table: &TenantTable<'_>,
    carrier: &str,
    tracking_number: &str,
) -> Result<Option<Versioned<OrphanEventsRecord>>, StoreError> {
    super::load(table, &orphan_key(carrier, tracking_number)).await
}

/// A POD file received for a tracking number (`PUT /v1/tracking/pod/…`), by the name the carrier's delivered
/// event gives it: the file may come before or after the event, and the consumer resolves the event's names
/// through these. Personal (a signature, a photo of a door): expires with the `pod` kind's retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodFileRecord {
    pub carrier: String,
    pub tracking_number: String,
    pub file: StoredPod,
    pub stored_at: Timestamp,
    /// Unix seconds after which the file and this record are erased.
    pub expires_at: i64,
}

pub fn pod_file_key(carrier: &str, tracking_number: &str, name: &str) -> Key {
    Key::new(format!("tracking#{carrier}#{tracking_number}"), format!("pod#{name}"))
}

impl Record for PodFileRecord {
    fn key(&self) -> Key {
        pod_file_key(&self.carrier, &self.tracking_number, &self.file.name)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Every POD file received for a tracking number.
pub async fn pod_files(
    table: &TenantTable<'_>,
    carrier: &str,
    tracking_number: &str,
) -> Result<Vec<PodFileRecord>, StoreError> {
    let query = Query::partition(format!("tracking#{carrier}#{tracking_number}")).sk(SkRange::Prefix("pod#".into()));
    Ok(query_all(table, query, 100).await?.into_iter().map(|v| v.value).collect())
}
