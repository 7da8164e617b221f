//! The stall job over the embedded store: records written as the tracking consumer writes them, the job run at
//! chosen instants. Times in Berlin are UTC+1 in December.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use jiff::civil::date;
use lastmile_core::tracking::alert::{self, Alert, SIGNATURE_HEADER};
use lastmile_core::tracking::kpi::Facts;
use lastmile_core::tracking::pod::AreaType;
use lastmile_core::tracking::stall::{StallClock, StallLevel, StallRule};
use lastmile_core::tracking::{Journey, Status, TrackingEvent};
use lastmile_fn_stalls::{HttpSender, Ports, run};
use lastmile_platform::config::{AlertWebhook, TenantConfig};
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::queue::{Message, Queue, QueueError};
use lastmile_platform::ports::secrets::FileSecrets;
use lastmile_platform::ports::table::{Condition, TenantTable};
use lastmile_platform::repo;
use lastmile_platform::repo::tracking::{self, AlertRecord, Delivery, TrackedDestination, TrackingRecord};

struct Setup {
    ports: Ports,
    queue: EmbeddedQueue,
    tenant: TenantConfig,
    _dir: std::path::PathBuf,
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-stalls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(ManualClock::new(at("2026-12-01T00:00:00Z")));
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let queue = EmbeddedQueue::open(db, "alerts", QueueOptions::default(), clock).unwrap();
    let secrets = FileSecrets::new(dir.join("secrets"));
    secrets.create_if_missing("alert-webhook", "whsec-test").unwrap();
    let ports =
        Ports { table, alerts: Arc::new(queue.clone()), secrets: Arc::new(secrets), webhook: Arc::new(HttpSender) };
    let mut tenant = TenantConfig::sample("acme");
    tenant.tracking.lanes.insert(
        "de-express".into(),
        StallRule { clock: StallClock::Elapsed, stalled_after_hours: 24, escalate_after_hours: 72 },
    );
    Setup { ports, queue, tenant, _dir: dir }
}

/// A parcel to Berlin on DPD (delivers Monday to Friday), last scanned in transit at `last_scan`.
fn parcel(id: &str, lane: &str, last_scan: &str) -> TrackingRecord {
    let scan = at(last_scan);
    let mut journey = Journey::new("dpd", &format!("TN-{id}"));
    journey.apply([TrackingEvent {
        id: format!("{id}-scan"),
        carrier: "dpd".into(),
        tracking_number: format!("TN-{id}"),
        occurred_at: scan,
        status: Status::InTransit,
        reason: None,
        code: "IT".into(),
        description: String::new(),
        location: None,
        handover: None,
        pod: None,
    }]);
    TrackingRecord {
        shipment_id: id.into(),
        order_id: format!("o-{id}"),
        line: "de-dpd".into(),
        lane: lane.into(),
        carrier: "dpd".into(),
        tracking_number: format!("TN-{id}"),
        destination: TrackedDestination {
            country: "DE".into(),
            postcode: Some("10115".into()),
            point: None,
            area: AreaType::Urban,
            time_zone: "Europe/Berlin".into(),
        },
        journey,
        tracked_since: scan,
        stall: StallLevel::Moving,
        pods: Vec::new(),
        assessment: None,
        facts: Some(Facts {
            line: "de-dpd".into(),
            lane: lane.into(),
            day: scan.to_zoned(jiff::tz::TimeZone::UTC).date(),
            delivered: false,
            transit_business_days: None,
            sla_days: 3,
            exception: false,
            pod_required: false,
            pod_present: false,
            suspect_delivery: false,
            stalled: false,
            claimed: false,
            claim_cycle_days: None,
        }),
        counted: None,
        updated_at: scan,
        fulfillment_id: None,
        claims_reviewed: None,
    }
}

async fn store(setup: &Setup, record: &TrackingRecord) {
    let table = TenantTable::new(setup.ports.table.as_ref(), "acme");
    repo::save(&table, record, Condition::NotExists).await.unwrap();
}

async fn stored(setup: &Setup, id: &str) -> TrackingRecord {
    let table = TenantTable::new(setup.ports.table.as_ref(), "acme");
    tracking::get(&table, id).await.unwrap().unwrap().value
}

async fn alerts(setup: &Setup) -> Vec<AlertRecord> {
    let table = TenantTable::new(setup.ports.table.as_ref(), "acme");
    tracking::recent_alerts(&table, 50).await.unwrap()
}

async fn queued(setup: &Setup) -> Vec<Alert> {
    let messages = setup.queue.receive(10, Duration::from_secs(30)).await.unwrap();
    messages.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect()
}

#[tokio::test]
async fn a_parcel_scanned_on_friday_evening_is_not_stalled_on_sunday_but_is_on_tuesday_evening() {
    let setup = setup("weekend");
    // Friday 4 December 2026, 18:00 in Berlin.
    store(&setup, &parcel("s-1", "de-standard", "2026-12-04T17:00:00Z")).await;

    // Sunday noon: 6 business hours (Friday 18:00–24:00); the weekend does not count. 67 elapsed hours.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-06T11:00:00Z")).await.unwrap();
    assert_eq!(report.assessed, 1, "quiet for more than 48 elapsed hours: read from the index");
    assert!(report.raised.is_empty());
    assert_eq!(stored(&setup, "s-1").await.stall, StallLevel::Moving);

    // Tuesday 17:59 in Berlin: 6 + 24 (Monday) + 17:59 = 47.98 business hours.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T16:59:00Z")).await.unwrap();
    assert!(report.raised.is_empty());

    // Tuesday 18:00: 6 + 24 + 18 = 48 business hours, the default threshold.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:00:00Z")).await.unwrap();
    let scan = at("2026-12-04T17:00:00Z");
    assert_eq!(report.raised, vec![alert::alert_id("s-1", StallLevel::Stalled, scan)]);
    let record = stored(&setup, "s-1").await;
    assert_eq!(record.stall, StallLevel::Stalled);
    assert!(record.facts.as_ref().unwrap().stalled, "the KPI facts count the stall");
    assert!(record.kpi_pending());

    let raised = alerts(&setup).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].alert.hours_waiting, 48.0);
    assert_eq!(raised[0].alert.last_scan_at, scan);
    assert_eq!(raised[0].delivery, Delivery::NotConfigured, "no webhook: queue and dashboard only");
    let messages = queued(&setup).await;
    assert_eq!(messages, vec![raised[0].alert.clone()]);
}

#[tokio::test]
async fn christmas_days_do_not_count_towards_a_stall_in_germany() {
    let setup = setup("christmas");
    // Wednesday 23 December 2026, 18:00 in Berlin.
    store(&setup, &parcel("s-2", "de-standard", "2026-12-23T17:00:00Z")).await;

    // Sunday 27th, noon: Wednesday 6 + Thursday 24th 24 = 30 business hours; Christmas Day and Boxing Day are
    // public holidays, Sunday a weekend day. 90 elapsed hours.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-27T11:00:00Z")).await.unwrap();
    assert!(report.raised.is_empty());

    // Monday 28th, 18:00: 30 + 18 = 48.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-28T17:00:00Z")).await.unwrap();
    assert_eq!(report.raised.len(), 1);
    assert_eq!(stored(&setup, "s-2").await.stall, StallLevel::Stalled);
}

#[tokio::test]
async fn a_regional_holiday_counts_only_where_the_parcel_goes() {
    let setup = setup("regional");
    // Monday 5 January 2026, 18:00 in Berlin, both parcels. Tuesday 6 January is Epiphany in Bavaria
    // (shared/data/holidays: DE,BY,2026-01-06), a working day in Berlin.
    store(&setup, &parcel("s-berlin", "de-standard", "2026-01-05T17:00:00Z")).await;
    let mut munich = parcel("s-munich", "de-standard", "2026-01-05T17:00:00Z");
    munich.destination.postcode = Some("80331".into());
    store(&setup, &munich).await;

    // Wednesday 7 January, 20:00: Berlin has waited 6 (Mon) + 24 (Tue) + 20 (Wed) = 50 business hours, over 48;
    // Munich 6 + 20 = 26, Tuesday not counted.
    let report = run(&setup.ports, &setup.tenant, at("2026-01-07T19:00:00Z")).await.unwrap();
    assert_eq!(report.raised, vec![alert::alert_id("s-berlin", StallLevel::Stalled, at("2026-01-05T17:00:00Z"))]);
    // Thursday 8 January, 20:00: Munich 6 + 24 + 20 = 50.
    let report = run(&setup.ports, &setup.tenant, at("2026-01-08T19:00:00Z")).await.unwrap();
    assert_eq!(report.raised, vec![alert::alert_id("s-munich", StallLevel::Stalled, at("2026-01-05T17:00:00Z"))]);
}

#[tokio::test]
async fn a_lane_on_elapsed_hours_stalls_over_the_weekend() {
    let setup = setup("elapsed");
    store(&setup, &parcel("s-3", "de-express", "2026-12-04T17:00:00Z")).await;
    store(&setup, &parcel("s-4", "de-standard", "2026-12-04T17:00:00Z")).await;

    // Saturday 16:59 UTC: 23 h 59 min elapsed since Friday 17:00 UTC, under the express lane's 24 hours.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-05T16:59:00Z")).await.unwrap();
    assert_eq!(report.assessed, 0, "quiet for less than the smallest threshold (24 h): not even read");
    // Saturday 17:00 UTC: 24 elapsed hours on the express lane; the standard lane has 6 business hours.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-05T17:00:00Z")).await.unwrap();
    assert_eq!(report.assessed, 2);
    assert_eq!(report.raised, vec![alert::alert_id("s-3", StallLevel::Stalled, at("2026-12-04T17:00:00Z"))]);
    assert_eq!(stored(&setup, "s-4").await.stall, StallLevel::Moving);
}

#[tokio::test]
async fn a_stall_escalates_once_and_a_rerun_raises_nothing_new() {
    let setup = setup("escalate");
    let scan = at("2026-12-04T17:00:00Z");
    store(&setup, &parcel("s-5", "de-standard", "2026-12-04T17:00:00Z")).await;

    let tuesday = at("2026-12-08T17:00:00Z");
    assert_eq!(run(&setup.ports, &setup.tenant, tuesday).await.unwrap().raised.len(), 1);
    let again = run(&setup.ports, &setup.tenant, tuesday).await.unwrap();
    assert!(again.raised.is_empty(), "same stall, same level: nothing new");
    assert_eq!(again.conflicts, 0);

    // Thursday 10 December, 18:00 in Berlin: 6 + 24 × 3 (Mon–Wed) + 18 = 96 business hours, the default
    // escalation threshold.
    let thursday = at("2026-12-10T17:00:00Z");
    let report = run(&setup.ports, &setup.tenant, thursday).await.unwrap();
    assert_eq!(report.raised, vec![alert::alert_id("s-5", StallLevel::Escalated, scan)]);
    assert!(run(&setup.ports, &setup.tenant, thursday).await.unwrap().raised.is_empty());
    let later = at("2026-12-14T17:00:00Z");
    assert!(run(&setup.ports, &setup.tenant, later).await.unwrap().raised.is_empty(), "escalated is the last level");

    let raised = alerts(&setup).await;
    assert_eq!(raised.len(), 2);
    assert_eq!(raised[0].alert.level, StallLevel::Escalated, "newest first");
    assert_eq!(raised[1].alert.level, StallLevel::Stalled);
    assert_eq!(queued(&setup).await.len(), 2, "one message per alert");
    assert_eq!(stored(&setup, "s-5").await.stall, StallLevel::Escalated);
    let table = TenantTable::new(setup.ports.table.as_ref(), "acme");
    let watched = tracking::quiet_since(&table, later, 100).await.unwrap();
    assert!(watched.is_empty(), "an escalated parcel leaves the stall-watch index");

    // A new scan sets it moving again: back on the index, and a new stall later raises a new alert.
    let mut record = stored(&setup, "s-5").await;
    let scan = at("2026-12-15T09:00:00Z");
    record.journey.apply([TrackingEvent {
        id: "s-5-rescan".into(),
        occurred_at: scan,
        ..record.journey.events[0].clone()
    }]);
    record.stall = StallLevel::Moving;
    let version = tracking::get(&table, "s-5").await.unwrap().unwrap().version;
    repo::save(&table, &record, Condition::Version(version)).await.unwrap();
    assert_eq!(tracking::quiet_since(&table, at("2026-12-20T00:00:00Z"), 100).await.unwrap().len(), 1);
    let report = run(&setup.ports, &setup.tenant, at("2026-12-17T10:00:00Z")).await.unwrap();
    assert_eq!(report.raised, vec![alert::alert_id("s-5", StallLevel::Stalled, scan)]);
}

#[tokio::test]
async fn a_record_changed_meanwhile_is_left_for_the_next_run() {
    let setup = setup("conflict");
    store(&setup, &parcel("s-6", "de-standard", "2026-12-04T17:00:00Z")).await;
    let table = TenantTable::new(setup.ports.table.as_ref(), "acme");
    // A competing writer: the alert for this stall is already there (another run got it).
    let scan = at("2026-12-04T17:00:00Z");
    let alert = Alert {
        id: alert::alert_id("s-6", StallLevel::Stalled, scan),
        shipment_id: "s-6".into(),
        level: StallLevel::Stalled,
        last_scan_at: scan,
        hours_waiting: 48.0,
        tracking_number: "TN-s-6".into(),
        carrier: "dpd".into(),
        raised_at: scan,
    };
    let record = AlertRecord { alert, delivery: Delivery::NotConfigured, queued: true };
    repo::save(&table, &record, Condition::NotExists).await.unwrap();
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:00:00Z")).await.unwrap();
    assert!(report.raised.is_empty());
    assert_eq!(report.conflicts, 1);
    assert!(queued(&setup).await.is_empty(), "nothing sent for an alert this run did not raise");
}

/// The alerts queue down until `up` is set.
struct QueueDown {
    queue: EmbeddedQueue,
    up: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Queue for QueueDown {
    async fn send(&self, body: &str) -> Result<String, QueueError> {
        if !self.up.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Backend("unavailable".into()));
        }
        self.queue.send(body).await
    }
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        self.queue.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.queue.delete(receipt).await
    }
    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        self.queue.change_visibility(receipt, visibility).await
    }
}

#[tokio::test]
async fn an_alert_the_queue_refused_is_sent_by_the_next_run_and_only_once() {
    let mut setup = setup("queue-down");
    let down = Arc::new(QueueDown { queue: setup.queue.clone(), up: false.into() });
    setup.ports.alerts = down.clone();
    store(&setup, &parcel("s-9", "de-standard", "2026-12-04T17:00:00Z")).await;

    let tuesday = at("2026-12-08T17:00:00Z");
    let report = run(&setup.ports, &setup.tenant, tuesday).await.unwrap();
    assert_eq!(report.raised.len(), 1, "the alert is stored though the queue is down");
    assert_eq!((report.outbox.queued, report.outbox.queue_failed), (0, 1));
    assert!(!alerts(&setup).await[0].queued);
    assert!(queued(&setup).await.is_empty());

    // Still down a run later: still owed, nothing raised twice.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:15:00Z")).await.unwrap();
    assert!(report.raised.is_empty());
    assert_eq!(report.outbox.queue_failed, 1);

    down.up.store(true, std::sync::atomic::Ordering::SeqCst);
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:30:00Z")).await.unwrap();
    assert_eq!(report.outbox.queued, 1);
    let sent = queued(&setup).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, report_id(&setup).await);
    assert!(alerts(&setup).await[0].queued);

    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:45:00Z")).await.unwrap();
    assert_eq!(report.outbox, Default::default(), "nothing owed any more");
}

async fn report_id(setup: &Setup) -> String {
    alerts(setup).await[0].alert.id.clone()
}

/// A loopback receiver answering `status` and keeping what it was sent.
async fn receiver(status: StatusCode) -> (String, Arc<Mutex<Vec<(String, Bytes)>>>) {
    let seen: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                kept.lock().unwrap().push((signature, body));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn the_webhook_gets_the_alert_signed_and_the_signature_verifies() {
    let mut setup = setup("webhook");
    let (url, seen) = receiver(StatusCode::NO_CONTENT).await;
    setup.tenant.tracking.alert_webhook = Some(AlertWebhook { url, secret: "alert-webhook".into() });
    store(&setup, &parcel("s-7", "de-standard", "2026-12-04T17:00:00Z")).await;

    let now = at("2026-12-08T17:00:00Z");
    let report = run(&setup.ports, &setup.tenant, now).await.unwrap();
    assert_eq!(report.raised.len(), 1);
    assert_eq!(report.outbox.delivered, 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (signature, body) = &seen[0];
    assert!(alert::verify(&[b"whsec-test"], signature, body, now, 300), "signed with the tenant's secret");
    assert!(!alert::verify(&[b"another"], signature, body, now, 300));
    let sent: Alert = serde_json::from_slice(body).unwrap();
    assert_eq!(sent.id, report.raised[0]);
    assert_eq!(alerts(&setup).await[0].delivery, Delivery::Delivered { attempts: 1, at: now });

    // Nothing left in the outbox: a rerun sends nothing.
    let report = run(&setup.ports, &setup.tenant, at("2026-12-08T17:15:00Z")).await.unwrap();
    assert_eq!(report.outbox, Default::default());
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_growing_pauses_then_given_up() {
    let mut setup = setup("retries");
    let (url, seen) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    setup.tenant.tracking.alert_webhook = Some(AlertWebhook { url, secret: "alert-webhook".into() });
    store(&setup, &parcel("s-8", "de-standard", "2026-12-04T17:00:00Z")).await;

    let mut now = at("2026-12-08T17:00:00Z");
    run(&setup.ports, &setup.tenant, now).await.unwrap();
    let mut pauses = Vec::new();
    loop {
        let record = alerts(&setup).await.remove(0);
        match record.delivery {
            Delivery::Pending { attempts, next_attempt_at } => {
                let pause = next_attempt_at.as_second() - now.as_second();
                pauses.push(pause);
                assert_eq!(attempts as usize, pauses.len());
                // A second before it is due, nothing is sent.
                let early = Timestamp::from_second(next_attempt_at.as_second() - 1).unwrap();
                assert_eq!(run(&setup.ports, &setup.tenant, early).await.unwrap().outbox, Default::default());
                now = next_attempt_at;
                run(&setup.ports, &setup.tenant, now).await.unwrap();
            }
            Delivery::GaveUp { attempts, last_error } => {
                assert_eq!(attempts, lastmile_fn_stalls::webhook::MAX_ATTEMPTS);
                assert!(last_error.contains("500"), "{last_error}");
                break;
            }
            other => panic!("unexpected delivery {other:?}"),
        }
    }
    // Pauses of 30 s doubling (each with up to a quarter more): 30, 60, 120, 240, 480, 960, 1920.
    assert_eq!(pauses.len(), 7);
    for (i, pause) in pauses.iter().enumerate() {
        let base = 30 * (1 << i);
        assert!((base..=base + base / 4).contains(pause), "pause {i}: {pause} s, expected {base}..{}", base + base / 4);
    }
    assert_eq!(seen.lock().unwrap().len(), 8, "eight attempts in all");
    assert_eq!(queued(&setup).await.len(), 1, "the queue had the alert once, whatever the webhook did");
}

#[test]
fn days_are_from_the_data() {
    // The holiday data this test relies on: 24 December is a working day in Germany, 25 and 26 are not.
    let calendar = lastmile_core::calendar::CalendarId::new("DE", None);
    let holidays = lastmile_core::calendar::holidays();
    assert!(holidays.holiday(&calendar, date(2026, 12, 24)).unwrap().is_none());
    assert!(holidays.holiday(&calendar, date(2026, 12, 25)).unwrap().is_some());
    assert!(holidays.holiday(&calendar, date(2026, 12, 26)).unwrap().is_some());
    assert!(holidays.holiday(&calendar, date(2026, 12, 8)).unwrap().is_none());
}
