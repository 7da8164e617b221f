//! The KPI job and `GET /v1/kpis` over the embedded store, on a small data set whose numbers are worked out by hand
//! below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use lastmile_core::tracking::Journey;
use lastmile_core::tracking::kpi::{Facts, Rollup};
use lastmile_core::tracking::pod::AreaType;
use lastmile_core::tracking::stall::StallLevel;
use lastmile_fn_kpi::api::{self, KpiApi};
use lastmile_platform::config::{SlaTarget, TenantConfig};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::table::{Condition, TableStore, TenantTable};
use lastmile_platform::repo;
use lastmile_platform::repo::tracking::{self, TrackedDestination, TrackingRecord};
use lastmile_platform::tenants::TenantContext;
use serde_json::Value;
use tower::ServiceExt;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn setup(name: &str) -> (Arc<EmbeddedTable>, TenantConfig) {
    let dir = std::env::temp_dir().join(format!("lastmile-kpi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(ManualClock::new(at("2026-12-10T00:00:00Z")));
    let table = Arc::new(EmbeddedTable::on(db, clock).unwrap());
    let mut tenant = TenantConfig::sample("acme");
    // DPD promises 80 % within 2 business days; Paket has the default, 95 % within 5.
    tenant.tracking.sla.insert("de-dpd".into(), SlaTarget { days: 2, share_percent: 80 });
    (table, tenant)
}

/// Facts of a shipment on `line` × `lane` taken on `day`; the test sets what happened.
fn facts(line: &str, lane: &str, day: Date) -> Facts {
    Facts {
        line: line.into(),
        lane: lane.into(),
        day,
        delivered: false,
        transit_business_days: None,
        sla_days: 2,
        exception: false,
        pod_required: false,
        pod_present: false,
        suspect_delivery: false,
        stalled: false,
        claimed: false,
        claim_cycle_days: None,
    }
}

fn delivered(mut f: Facts, days: u32) -> Facts {
    f.delivered = true;
    f.transit_business_days = Some(days);
    f
}

fn record(id: &str, facts: Facts) -> TrackingRecord {
    TrackingRecord {
        shipment_id: id.into(),
        order_id: format!("o-{id}"),
        line: facts.line.clone(),
        lane: facts.lane.clone(),
        carrier: "dpd".into(),
        tracking_number: format!("TN-{id}"),
        destination: TrackedDestination {
            country: "DE".into(),
            postcode: None,
            point: None,
            area: AreaType::Urban,
            time_zone: "Europe/Berlin".into(),
        },
        journey: Journey::new("dpd", &format!("TN-{id}")),
        tracked_since: at("2026-12-01T08:00:00Z"),
        stall: StallLevel::Moving,
        pods: Vec::new(),
        assessment: None,
        facts: Some(facts),
        counted: None,
        updated_at: at("2026-12-05T08:00:00Z"),
        fulfillment_id: None,
        claims_reviewed: None,
    }
}

const DEC_1: Date = date(2026, 12, 1);
const DEC_2: Date = date(2026, 12, 2);
const DEC_3: Date = date(2026, 12, 3);

/// The data set:
///
/// | id | line / lane | day | what happened |
/// |---|---|---|---|
/// | k1 | dpd / standard | 1 Dec | delivered in 1 day, POD required and present |
/// | k2 | dpd / standard | 1 Dec | delivered in 2 days, POD required and missing |
/// | k3 | dpd / standard | 1 Dec | delivered in 4 days, an exception on the way, suspect delivery |
/// | k4 | dpd / standard | 1 Dec | not delivered, stalled, claimed, claim closed after 6 days |
/// | k5 | dpd / express | 2 Dec | delivered in 1 day |
/// | k6 | paket / standard | 2 Dec | delivered in 3 days, claimed, closed after 10 days |
/// | k7 | paket / standard | 2 Dec | not delivered, an exception |
/// | k8 | dpd / standard | 20 Nov | delivered in 9 days: outside the range asked for |
async fn seed(table: &dyn TableStore) {
    let t = TenantTable::new(table, "acme");
    let std = |day| facts("de-dpd", "de-standard", day);
    let mut k1 = delivered(std(DEC_1), 1);
    (k1.pod_required, k1.pod_present) = (true, true);
    let mut k2 = delivered(std(DEC_1), 2);
    k2.pod_required = true;
    let mut k3 = delivered(std(DEC_1), 4);
    (k3.exception, k3.suspect_delivery) = (true, true);
    let mut k4 = std(DEC_1);
    (k4.stalled, k4.claimed, k4.claim_cycle_days) = (true, true, Some(6));
    let k5 = delivered(facts("de-dpd", "de-express", DEC_2), 1);
    let mut k6 = delivered(facts("de-paket", "de-standard", DEC_2), 3);
    (k6.claimed, k6.claim_cycle_days) = (true, Some(10));
    let mut k7 = facts("de-paket", "de-standard", DEC_2);
    k7.exception = true;
    let k8 = delivered(std(date(2026, 11, 20)), 9);
    for (id, f) in [("k1", k1), ("k2", k2), ("k3", k3), ("k4", k4), ("k5", k5), ("k6", k6), ("k7", k7), ("k8", k8)] {
        repo::save(&t, &record(id, f), Condition::NotExists).await.unwrap();
    }
}

async fn rollups(table: &dyn TableStore) -> Vec<(Date, String, String, Rollup)> {
    let t = TenantTable::new(table, "acme");
    let all = tracking::kpis(&t, date(2026, 1, 1), date(2026, 12, 31), 1000).await.unwrap();
    all.into_iter().map(|r| (r.value.day, r.value.line, r.value.lane, r.value.rollup)).collect()
}

fn rollup_of<'a>(all: &'a [(Date, String, String, Rollup)], day: Date, line: &str, lane: &str) -> &'a Rollup {
    &all.iter().find(|(d, l, n, _)| *d == day && l == line && n == lane).expect("the roll-up").3
}

async fn get(table: Arc<EmbeddedTable>, tenant: &TenantConfig, query: &str) -> (StatusCode, Value) {
    let context = TenantContext { tenant: Arc::new(tenant.clone()), key_id: "k".into() };
    let app = api::router(Arc::new(KpiApi { table })).layer(axum::Extension(context));
    let request = Request::get(format!("/v1/kpis{query}")).body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn the_job_counts_each_shipment_once_and_the_report_adds_up() {
    let (table, tenant) = setup("numbers");
    seed(table.as_ref()).await;
    let now = at("2026-12-10T00:00:00Z");

    let report = lastmile_fn_kpi::run(table.as_ref(), &tenant, now).await.unwrap();
    assert_eq!(report.moved, 8);
    assert_eq!(report.conflicts, 0);
    let t = TenantTable::new(table.as_ref(), "acme");
    assert!(tracking::kpi_pending(&t, 100).await.unwrap().is_empty(), "every record counted");

    let (status, body) = get(table.clone(), &tenant, "?from=2026-12-01&to=2026-12-07").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // DPD standard (k1–k4): 4 shipments, 3 delivered = 0.75; transit {1, 2, 4}: average 7 / 3 = 2.3333, p50 the
    // 2nd of 3 = 2, p90 the 3rd (ceil 2.7) = 4; within DPD's 2 days: 2 of 3 = 0.6667; 1 exception of 4 = 0.25;
    // POD 1 present of 2 required = 0.5; 1 suspect, 1 stalled, 1 claim of 4 = 0.25 closed in 6 days.
    let lanes = body["lanes"].as_array().unwrap();
    let standard = lanes.iter().find(|l| l["line"] == "de-dpd" && l["lane"] == "de-standard").unwrap();
    assert_eq!(standard["shipments"], 4);
    assert_eq!(standard["delivered"], 3);
    assert_eq!(standard["delivery_rate"], 0.75);
    assert_eq!(standard["average_transit_days"], 2.3333);
    assert_eq!(standard["p50_transit_days"], 2);
    assert_eq!(standard["p90_transit_days"], 4);
    assert_eq!(standard["within_sla"], 2);
    assert_eq!(standard["within_sla_rate"], 0.6667);
    assert_eq!(standard["exception_rate"], 0.25);
    assert_eq!(standard["pod_compliance"], 0.5);
    assert_eq!(standard["suspect_deliveries"], 1);
    assert_eq!(standard["stalled"], 1);
    assert_eq!(standard["claim_rate"], 0.25);
    assert_eq!(standard["average_claim_cycle_days"], 6.0);
    assert_eq!(lanes.len(), 3, "dpd standard, dpd express, paket standard");

    // DPD as a line (k1–k5): 5 shipments, 4 delivered = 0.8; transit {1, 1, 2, 4}: average 8 / 4 = 2.0, p50 the
    // 2nd of 4 = 1, p90 the 4th (ceil 3.6) = 4; within 2 days: 3 of 4 = 0.75, under its 80 % target.
    let lines = body["lines"].as_array().unwrap();
    let dpd = lines.iter().find(|l| l["line"] == "de-dpd").unwrap();
    assert_eq!(dpd["shipments"], 5);
    assert_eq!(dpd["delivery_rate"], 0.8);
    assert_eq!(dpd["average_transit_days"], 2.0);
    assert_eq!(dpd["p50_transit_days"], 1);
    assert_eq!(dpd["p90_transit_days"], 4);
    assert_eq!(dpd["within_sla_rate"], 0.75);
    assert_eq!(dpd["sla"]["days"], 2);
    assert_eq!(dpd["meets_sla"], false);
    // Paket (k6, k7): 1 of 2 delivered = 0.5, in 3 days, within its default 5 days: 1.0 ≥ 95 %.
    let paket = lines.iter().find(|l| l["line"] == "de-paket").unwrap();
    assert_eq!(paket["delivery_rate"], 0.5);
    assert_eq!(paket["within_sla_rate"], 1.0);
    assert_eq!(paket["meets_sla"], true);
    assert_eq!(paket["average_claim_cycle_days"], 10.0);

    // In total (k1–k7; k8 is on 20 November): 7 shipments, 5 delivered = 0.7143; transit {1, 1, 2, 3, 4}: average
    // 11 / 5 = 2.2, p50 the 3rd (ceil 2.5) = 2, p90 the 5th (ceil 4.5) = 4; within each line's target: DPD 3 +
    // Paket 1 = 4 of 5 = 0.8; exceptions k3, k7: 2 / 7 = 0.2857; POD 1 / 2 = 0.5; claims k4, k6: 2 / 7 = 0.2857,
    // closed in (6 + 10) / 2 = 8 days.
    let total = &body["total"];
    assert_eq!(total["shipments"], 7);
    assert_eq!(total["delivered"], 5);
    assert_eq!(total["delivery_rate"], 0.7143);
    assert_eq!(total["average_transit_days"], 2.2);
    assert_eq!(total["p50_transit_days"], 2);
    assert_eq!(total["p90_transit_days"], 4);
    assert_eq!(total["within_sla"], 4);
    assert_eq!(total["within_sla_rate"], 0.8);
    assert_eq!(total["exception_rate"], 0.2857);
    assert_eq!(total["pod_compliance"], 0.5);
    assert_eq!(total["suspect_deliveries"], 1);
    assert_eq!(total["stalled"], 1);
    assert_eq!(total["claims"], 2);
    assert_eq!(total["claim_rate"], 0.2857);
    assert_eq!(total["average_claim_cycle_days"], 8.0);
    assert_eq!(total["transit_days"], serde_json::json!({"1": 2, "2": 1, "3": 1, "4": 1}));

    // Filters: the express lane alone is k5.
    let (_, express) = get(table.clone(), &tenant, "?from=2026-12-01&to=2026-12-07&lane=de-express").await;
    assert_eq!(express["total"]["shipments"], 1);
    // November alone is k8: 9 days is over DPD's 2.
    let (_, november) = get(table.clone(), &tenant, "?from=2026-11-01&to=2026-11-30&line=de-dpd").await;
    assert_eq!(november["total"]["shipments"], 1);
    assert_eq!(november["total"]["within_sla_rate"], 0.0);
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_changed_facts_move_between_days_and_buckets() {
    let (table, tenant) = setup("idempotent");
    seed(table.as_ref()).await;
    let now = at("2026-12-10T00:00:00Z");
    lastmile_fn_kpi::run(table.as_ref(), &tenant, now).await.unwrap();
    let first = rollups(table.as_ref()).await;
    let again = lastmile_fn_kpi::run(table.as_ref(), &tenant, now).await.unwrap();
    assert_eq!(again.moved, 0);
    assert_eq!(rollups(table.as_ref()).await, first, "a rerun counts nothing twice");

    // k2 turns out to have taken 3 days, not 2; k7 was taken on 3 December, not the 2nd.
    let t = TenantTable::new(table.as_ref(), "acme");
    for (id, change) in [
        ("k2", Box::new(|f: &mut Facts| f.transit_business_days = Some(3)) as Box<dyn Fn(&mut Facts)>),
        ("k7", Box::new(|f: &mut Facts| f.day = DEC_3)),
    ] {
        let stored = tracking::get(&t, id).await.unwrap().unwrap();
        let mut record = stored.value;
        change(record.facts.as_mut().unwrap());
        record.updated_at = at("2026-12-09T00:00:00Z");
        repo::save(&t, &record, Condition::Version(stored.version)).await.unwrap();
    }
    let report = lastmile_fn_kpi::run(table.as_ref(), &tenant, now).await.unwrap();
    assert_eq!(report.moved, 2);
    let after = rollups(table.as_ref()).await;
    // DPD standard on 1 Dec: transit {1, 2, 4} became {1, 3, 4}; within 2 days, 2 became 1 (k1 only).
    let dpd = rollup_of(&after, DEC_1, "de-dpd", "de-standard");
    assert_eq!(dpd.transit_days.iter().map(|(d, n)| (*d, *n)).collect::<Vec<_>>(), vec![(1, 1), (3, 1), (4, 1)]);
    assert_eq!(dpd.within_sla, 1);
    assert_eq!(dpd.shipments, 4, "k2 is still one shipment");
    // Paket: k7 left 2 December for the 3rd, with its exception.
    let dec_2 = rollup_of(&after, DEC_2, "de-paket", "de-standard");
    assert_eq!((dec_2.shipments, dec_2.exceptions, dec_2.delivered), (1, 0, 1));
    let dec_3 = rollup_of(&after, DEC_3, "de-paket", "de-standard");
    assert_eq!((dec_3.shipments, dec_3.exceptions, dec_3.delivered), (1, 1, 0));
    // Everything else as it was.
    assert_eq!(rollup_of(&after, DEC_2, "de-dpd", "de-express"), rollup_of(&first, DEC_2, "de-dpd", "de-express"));
}

#[tokio::test]
async fn two_runs_at_once_count_each_shipment_once() {
    let (table, tenant) = setup("concurrent");
    seed(table.as_ref()).await;
    let now = at("2026-12-10T00:00:00Z");
    let (a, b) = tokio::join!(
        lastmile_fn_kpi::run(table.as_ref(), &tenant, now),
        lastmile_fn_kpi::run(table.as_ref(), &tenant, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.moved + b.moved, 8, "{a:?} {b:?}");
    let all = rollups(table.as_ref()).await;
    let shipments: u64 = all.iter().map(|(_, _, _, r)| r.shipments).sum();
    assert_eq!(shipments, 8);
}

#[tokio::test]
async fn bad_dates_and_ranges_are_refused_with_json_errors() {
    let (table, tenant) = setup("errors");
    for (query, code, field) in [
        ("", "missing_parameter", "from"),
        ("?from=2026-12-01", "missing_parameter", "to"),
        ("?from=2026-13-01&to=2026-12-02", "invalid_date", "from"),
        ("?from=2026-12-01&to=yesterday", "invalid_date", "to"),
        ("?from=2026-12-02&to=2026-12-01", "invalid_range", "to"),
        // 1 January 2026 to 2 January 2027: 367 days counting both.
        ("?from=2026-01-01&to=2027-01-02", "range_too_long", "to"),
        ("?from=2026-12-01&to=2026-12-02&carrier=dpd", "unknown_parameter", "carrier"),
    ] {
        let (status, body) = get(table.clone(), &tenant, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], code, "{query}");
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    // A whole year (366 days counting both ends, the most allowed) with nothing in it.
    let (status, body) = get(table, &tenant, "?from=2026-01-01&to=2027-01-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"]["shipments"], 0);
    assert_eq!(body["total"]["delivery_rate"], Value::Null);
}
