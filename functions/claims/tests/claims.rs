//! The claims job and API over the embedded store: tracking, shipment and order records written as the other
//! functions write them, the job run on chosen days. Amounts and dates are worked out by hand in the comments;
//! the terms are `shared/data/claims/terms.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use lastmile_core::tracking::kpi::Facts;
use lastmile_core::tracking::pod::AreaType;
use lastmile_core::tracking::stall::StallLevel;
use lastmile_core::tracking::status::Reason;
use lastmile_core::tracking::{Journey, Status, TrackingEvent};
use lastmile_fn_claims::api::{self, ClaimsApi};
use lastmile_fn_claims::{NoInspections, Ports, Report, run};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::table::{Condition, TenantTable};
use lastmile_platform::repo;
use lastmile_platform::repo::claims::{self, ClaimRecord};
use lastmile_platform::repo::decisions::UnitsRecord;
use lastmile_platform::repo::orders::{OrderRecord, OrderStatus};
use lastmile_platform::repo::shipments::ShipmentRecord;
use lastmile_platform::repo::tracking::{self, TrackedDestination, TrackingRecord};
use lastmile_platform::tenants::TenantContext;
use serde_json::{Value, json};
use tower::ServiceExt;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct Setup {
    table: Arc<EmbeddedTable>,
    clock: Arc<ManualClock>,
    tenant: TenantConfig,
}

impl Setup {
    fn ports(&self) -> Ports {
        Ports { table: self.table.clone(), clock: self.clock.clone(), inspections: Arc::new(NoInspections) }
    }

    fn t(&self) -> TenantTable<'_> {
        TenantTable::new(self.table.as_ref(), "acme")
    }

    async fn run(&self, today: Date) -> Report {
        run(&self.ports(), &self.tenant, today).await.unwrap()
    }

    async fn claims(&self) -> Vec<ClaimRecord> {
        claims::list(&self.t(), None, None, 100).await.unwrap()
    }
}

fn set_clock(setup: &Setup, to: Timestamp) {
    use lastmile_platform::ports::Clock;
    setup.clock.advance(to.duration_since(setup.clock.now()));
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-claims-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    let clock = Arc::new(ManualClock::new(at("2026-12-01T00:00:00Z")));
    let table = Arc::new(EmbeddedTable::on(db, clock.clone()).unwrap());
    Setup { table, clock, tenant: TenantConfig::sample("acme") }
}

/// One stored shipment: its tracking record, shipment and order.
#[derive(Clone)]
struct Parcel {
    id: &'static str,
    line: &'static str,
    country: &'static str,
    zone: &'static str,
    currency: &'static str,
    /// SKU, quantity, unit price as the order gives it.
    units: (&'static str, u32, &'static str),
    cost_minor: i64,
    decided_at: &'static str,
    promised_days: u32,
    /// When, what status, which reason.
    events: Vec<(&'static str, Status, Option<Reason>)>,
    stall: StallLevel,
}

fn parcel(id: &'static str, line: &'static str) -> Parcel {
    Parcel {
        id,
        line,
        country: "US",
        zone: "America/New_York",
        currency: "USD",
        units: ("MUG", 2, "30.00"),
        cost_minor: 1_390,
        decided_at: "2026-11-13T15:00:00Z",
        promised_days: 7,
        events: Vec::new(),
        stall: StallLevel::Moving,
    }
}

async fn store(setup: &Setup, p: &Parcel) {
    let t = setup.t();
    let number = format!("TN-{}", p.id);
    let mut journey = Journey::new("ups", &number);
    journey.apply(p.events.iter().enumerate().map(|(i, (when, status, reason))| TrackingEvent {
        id: format!("{}-{i}", p.id),
        carrier: "ups".into(),
        tracking_number: number.clone(),
        occurred_at: at(when),
        status: *status,
        reason: *reason,
        code: "X".into(),
        description: String::new(),
        location: None,
        handover: None,
        pod: None,
    }));
    let first = at(p.events.first().map_or(p.decided_at, |e| e.0));
    let record = TrackingRecord {
        shipment_id: p.id.into(),
        order_id: format!("o-{}", p.id),
        line: p.line.into(),
        lane: "standard".into(),
        carrier: "ups".into(),
        tracking_number: number,
        destination: TrackedDestination {
            country: p.country.into(),
            postcode: None,
            point: None,
            area: AreaType::Urban,
            time_zone: p.zone.into(),
        },
        journey,
        tracked_since: first,
        stall: p.stall,
        pods: Vec::new(),
        assessment: None,
        facts: Some(Facts {
            line: p.line.into(),
            lane: "standard".into(),
            day: date(2026, 11, 16),
            delivered: p.events.iter().any(|e| e.1 == Status::Delivered),
            transit_business_days: None,
            sla_days: 5,
            exception: false,
            pod_required: false,
            pod_present: false,
            suspect_delivery: false,
            stalled: false,
            claimed: false,
            claim_cycle_days: None,
        }),
        counted: None,
        updated_at: first,
        fulfillment_id: None,
        claims_reviewed: None,
    };
    repo::save(&t, &record, Condition::NotExists).await.unwrap();
    let (sku, quantity, price) = p.units;
    let shipment = ShipmentRecord {
        id: p.id.into(),
        order_id: format!("o-{}", p.id),
        warehouse: "wh".into(),
        line: p.line.into(),
        carrier: "ups".into(),
        lane: "standard".into(),
        units: vec![UnitsRecord { sku: sku.into(), quantity }],
        cost_minor: Some(p.cost_minor),
        currency: p.currency.into(),
        quoted_transit_days: None,
        promised_days: p.promised_days,
        decided_at: at(p.decided_at),
        experiment: None,
        outcome: None,
        rating: None,
        quoted: None,
    };
    repo::save(&t, &shipment, Condition::NotExists).await.unwrap();
    let order = OrderRecord {
        id: format!("o-{}", p.id),
        status: OrderStatus::Routed,
        topic: "orders/create".into(),
        event_id: "e".into(),
        received_at: at(p.decided_at),
        updated_at: at(p.decided_at),
        order: json!({"currency": p.currency, "line_items": [
            {"sku": "OTHER", "quantity": 1, "price": "999.00"},
            {"sku": sku, "quantity": quantity, "price": price}
        ]}),
        note: None,
    };
    repo::save(&t, &order, Condition::NotExists).await.unwrap();
}

fn summary(claims: &[ClaimRecord]) -> Vec<(String, i64, String)> {
    claims
        .iter()
        .map(|c| (c.id().to_owned(), c.claim.candidate.amount.minor, c.claim.candidate.deadline.to_string()))
        .collect()
}

#[tokio::test]
async fn a_quiet_parcel_is_lost_on_day_nine_not_day_eight_whether_watched_for_stalls_or_escalated() {
    let setup = setup("lost");
    // us-national-ground: lost after 8 business days. Last scan Mon 2026-11-16 (10:00 in New York); business
    // days after it: 17–20 (4), 23–25 (7), Thu 26 Thanksgiving, Fri 27 (8), the weekend, Mon 30 (9).
    let moving = Parcel {
        events: vec![("2026-11-16T15:00:00Z", Status::InTransit, None)],
        ..parcel("shp-moving", "us-national-ground")
    };
    let escalated = Parcel { id: "shp-escalated", stall: StallLevel::Escalated, ..moving.clone() };
    store(&setup, &moving).await;
    store(&setup, &escalated).await;
    let t = setup.t();
    assert_eq!(tracking::claim_review_due(&t, 10).await.unwrap().len(), 1, "only the escalated one waits there");

    let day8 = setup.run(date(2026, 11, 27)).await;
    assert_eq!(day8.reviewed, 2);
    assert!(day8.created.is_empty(), "day 8 is not lost yet: {day8:?}");
    assert!(setup.claims().await.is_empty());

    let day9 = setup.run(date(2026, 11, 30)).await;
    assert_eq!(day9.created, ["shp-escalated#lost", "shp-moving#lost"]);
    // Goods: 2 mugs × $30.00 = 6000 (the order's other line is not in this shipment); cap $100.00, no
    // deductible: min(6000, 10000) − 0 = 6000. Deadline: 60 calendar days from the last scan, Nov 16 + 14 =
    // Nov 30, + 31 = Dec 31, + 15 = Fri 2027-01-15.
    let stored = setup.claims().await;
    assert_eq!(
        summary(&stored),
        [
            ("shp-escalated#lost".to_owned(), 6_000, "2027-01-15".to_owned()),
            ("shp-moving#lost".to_owned(), 6_000, "2027-01-15".to_owned())
        ]
    );
    assert_eq!(stored[0].claim.status.as_str(), "draft");
    assert_eq!(stored[0].claim.candidate.carrier, "Example Parcel");
    assert!(stored[0].claim.candidate.evidence.contains("no scan for 9 business days"), "{stored:?}");
    // Found lost, the escalated one leaves the claims job's index; both are marked claimed for the KPIs.
    assert!(tracking::claim_review_due(&t, 10).await.unwrap().is_empty());
    for id in ["shp-moving", "shp-escalated"] {
        assert!(tracking::get(&t, id).await.unwrap().unwrap().value.facts.unwrap().claimed);
    }
}

#[tokio::test]
async fn a_damage_exception_is_claimed_with_the_cap_and_deductible_and_a_second_run_creates_nothing() {
    let setup = setup("damaged");
    // gb-courier-economy: £20.00 cap, £2.50 deductible, no money-back guarantee. One T-shirt at £50.00.
    let damaged = Parcel {
        country: "GB",
        zone: "Europe/London",
        currency: "GBP",
        units: ("TEE", 1, "50.00"),
        decided_at: "2026-11-20T10:00:00Z",
        promised_days: 3,
        events: vec![
            ("2026-11-30T10:00:00Z", Status::InTransit, None),
            ("2026-12-01T10:00:00Z", Status::Exception, Some(Reason::Damaged)),
            ("2026-12-02T10:00:00Z", Status::Delivered, None),
        ],
        ..parcel("shp-gb", "gb-courier-economy")
    };
    store(&setup, &damaged).await;

    let first = setup.run(date(2026, 12, 3)).await;
    // Damaged only: delivered Dec 2 after the promised Nov 23, but the line has no money-back guarantee.
    assert_eq!(first.created, ["shp-gb#damaged"]);
    assert_eq!(first.settled, 1);
    // min(5000, 2000) − 250 = 1750. Deadline 28 calendar days from delivery: Dec 2 + 28 = Wed Dec 30, a
    // business day in England (Christmas Fri 25, Boxing Day's substitute Mon 28).
    let stored = setup.claims().await;
    assert_eq!(summary(&stored), [("shp-gb#damaged".to_owned(), 1_750, "2026-12-30".to_owned())]);
    assert_eq!(stored[0].claim.candidate.amount.currency.as_str(), "GBP");
    assert!(stored[0].claim.candidate.arithmetic.ends_with("less deductible 2.50 GBP = 17.50 GBP"));

    // The record left the index: the second run reads nothing and writes nothing.
    let second = setup.run(date(2026, 12, 3)).await;
    assert_eq!(second, Report::default());
    assert_eq!(setup.claims().await, stored, "one set of claims");
    // Even a record put back in the index (a new review) finds its claim already there.
    let t = setup.t();
    let mut record = tracking::get(&t, "shp-gb").await.unwrap().unwrap();
    record.value.claims_reviewed = None;
    repo::save(&t, &record.value, Condition::Version(record.version)).await.unwrap();
    let third = setup.run(date(2026, 12, 4)).await;
    assert_eq!((third.reviewed, third.created.len(), third.settled), (1, 0, 1));
    assert_eq!(setup.claims().await, stored);
}

#[tokio::test]
async fn late_delivery_is_claimed_on_the_money_back_line_only() {
    let setup = setup("late");
    // Routed Thu Dec 10 (10:00 in New York), promised 7 days: Thu Dec 17. Delivered Fri Dec 18.
    let events =
        vec![("2026-12-14T15:00:00Z", Status::InTransit, None), ("2026-12-18T20:00:00Z", Status::Delivered, None)];
    let guaranteed = Parcel {
        decided_at: "2026-12-10T15:00:00Z",
        events: events.clone(),
        ..parcel("shp-guaranteed", "us-national-ground")
    };
    let postal = Parcel { decided_at: "2026-12-10T15:00:00Z", events, ..parcel("shp-postal", "us-postal-ground") };
    store(&setup, &guaranteed).await;
    store(&setup, &postal).await;

    let report = setup.run(date(2026, 12, 21)).await;
    assert_eq!(report.created, ["shp-guaranteed#late"]);
    assert_eq!(report.settled, 2, "both journeys ended and were judged");
    // The refund is the shipping charge, $13.90. Deadline: 15 business days after Fri Dec 18: 21–24 (4),
    // Christmas, 28–31 (8), New Year's Day, Jan 4–8 (13), 11 (14), Tue Jan 12 (15).
    assert_eq!(summary(&setup.claims().await), [("shp-guaranteed#late".to_owned(), 1_390, "2027-01-12".to_owned())]);
    // Delivered on the promised day: nothing.
    let on_time = Parcel {
        decided_at: "2026-12-11T15:00:00Z",
        events: vec![("2026-12-18T20:00:00Z", Status::Delivered, None)],
        ..parcel("shp-on-time", "us-national-ground")
    };
    store(&setup, &on_time).await;
    assert!(setup.run(date(2026, 12, 21)).await.created.is_empty());
}

#[tokio::test]
async fn the_stall_watch_read_is_bounded_by_the_shortest_lost_after_period() {
    // us-national-ground's 8 business days are the terms' shortest: lost needs 9 business days, so at least 9
    // calendar days. Quiet since Mon Nov 23 (New York): on Nov 30 (7 days) it is not even read; on Dec 1 (8 days,
    // a day's margin for the zones) it is read and is not lost (24, 25, 27, 30, 1: 5 business days).
    let setup = setup("bound");
    let quiet = Parcel {
        events: vec![("2026-11-23T15:00:00Z", Status::InTransit, None)],
        ..parcel("shp-q", "us-national-ground")
    };
    store(&setup, &quiet).await;
    assert_eq!(setup.run(date(2026, 11, 30)).await.reviewed, 0);
    let read = setup.run(date(2026, 12, 1)).await;
    assert_eq!((read.reviewed, read.created.len()), (1, 0));
}

async fn call(setup: &Setup, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, String, Vec<u8>) {
    let context = TenantContext { tenant: Arc::new(setup.tenant.clone()), key_id: "k".into() };
    let api = Arc::new(ClaimsApi { table: setup.table.clone(), clock: setup.clock.clone() });
    let app = api::router(api).layer(axum::Extension(context));
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn call_json(setup: &Setup, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let (status, _, bytes) = call(setup, method, uri, body).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// A lost parcel (us-national-ground, Example Parcel) and a damaged one (gb-courier-economy, Example Courier UK).
async fn two_claims(setup: &Setup) {
    let lost = Parcel {
        events: vec![("2026-11-16T15:00:00Z", Status::InTransit, None)],
        ..parcel("shp-lost", "us-national-ground")
    };
    let damaged = Parcel {
        country: "GB",
        zone: "Europe/London",
        currency: "GBP",
        units: ("TEE", 1, "50.00"),
        events: vec![
            ("2026-11-20T10:00:00Z", Status::Exception, Some(Reason::Damaged)),
            ("2026-11-23T10:00:00Z", Status::Delivered, None),
        ],
        ..parcel("shp-uk", "gb-courier-economy")
    };
    store(setup, &lost).await;
    store(setup, &damaged).await;
    let report = setup.run(date(2026, 11, 30)).await;
    assert_eq!(report.created, ["shp-uk#damaged", "shp-lost#lost"]);
}

#[tokio::test]
async fn the_pipeline_moves_through_the_api_refuses_illegal_moves_and_answers_retries() {
    let setup = setup("api");
    two_claims(&setup).await;

    let (status, body) = call_json(&setup, "GET", "/v1/claims?status=draft", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claims"].as_array().unwrap().len(), 2);
    let (_, body) = call_json(&setup, "GET", "/v1/claims?carrier=Example%20Courier%20UK", None).await;
    assert_eq!(body["claims"][0]["id"], "shp-uk#damaged");
    assert_eq!(body["claims"].as_array().unwrap().len(), 1);
    let (status, body) = call_json(&setup, "GET", "/v1/claims?status=lost", None).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("unknown_status")));
    let (status, body) = call_json(&setup, "GET", "/v1/claims?sort=amount", None).await;
    assert_eq!((status, &body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("sort")));

    let (status, body) = call_json(&setup, "GET", "/v1/claims/shp-lost%23lost", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["amount"]["minor"].clone(), body["status"].clone()), (json!(6_000), json!("draft")));
    let (status, body) = call_json(&setup, "GET", "/v1/claims/shp-lost%23late", None).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("unknown_claim")));

    let uri = "/v1/claims/shp-lost%23lost/status";
    // Paid straight from draft: refused, and the claim is unchanged.
    let (status, body) = call_json(&setup, "POST", uri, Some(json!({"status": "paid"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!((&body["error"]["code"], &body["error"]["field"]), (&json!("illegal_move"), &json!("status")));
    set_clock(&setup, at("2026-12-01T12:00:00Z"));
    let (status, filed) = call_json(&setup, "POST", uri, Some(json!({"status": "filed"}))).await;
    assert_eq!(status, StatusCode::OK, "{filed}");
    assert_eq!((&filed["status"], &filed["filed_on"]), (&json!("filed"), &json!("2026-12-01")));
    // The same move retried a day later: the stored claim, filed on the first day.
    set_clock(&setup, at("2026-12-02T12:00:00Z"));
    let (status, again) = call_json(&setup, "POST", uri, Some(json!({"status": "filed"}))).await;
    assert_eq!((status, again), (StatusCode::OK, filed));
    let (status, _) = call_json(&setup, "POST", uri, Some(json!({"status": "draft"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = call_json(&setup, "POST", uri, Some(json!({"status": "lost"}))).await;
    assert_eq!((status, &body["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("status")));
    let (status, body) = call_json(&setup, "POST", uri, Some(json!({"state": "filed"}))).await;
    assert!(status.is_client_error(), "{body}");
    set_clock(&setup, at("2026-12-08T12:00:00Z"));
    let (status, denied) = call_json(&setup, "POST", uri, Some(json!({"status": "denied"}))).await;
    assert_eq!(status, StatusCode::OK, "{denied}");
    // Filed Dec 1, denied Dec 8: 7 days.
    assert_eq!(denied["cycle_time_days"], 7);
    let statuses: Vec<&Value> = denied["history"].as_array().unwrap().iter().map(|h| &h["status"]).collect();
    assert_eq!(statuses, [&json!("draft"), &json!("filed"), &json!("denied")]);
    let (status, _) = call_json(&setup, "POST", uri, Some(json!({"status": "approved"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a denied claim is not approved");
    let (_, body) = call_json(&setup, "GET", "/v1/claims?status=denied", None).await;
    assert_eq!(body["claims"][0]["id"], "shp-lost#lost");
}

#[tokio::test]
async fn each_carrier_gets_its_own_csv() {
    let setup = setup("csv");
    two_claims(&setup).await;
    let (status, content_type, bytes) = call(&setup, "GET", "/v1/claims/export?carrier=Example%20Parcel", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let csv = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(
        lines[0],
        "claim_id,tracking_number,shipment_id,line,claim_type,amount,currency,deadline,status,evidence,arithmetic"
    );
    // 6000 minor = 60.00 USD.
    assert!(
        lines[1].starts_with("shp-lost#lost,TN-shp-lost,shp-lost,us-national-ground,lost,60.00,USD,2027-01-15,draft,"),
        "{}",
        lines[1]
    );
    let (_, _, bytes) = call(&setup, "GET", "/v1/claims/export?carrier=Example%20Courier%20UK", None).await;
    let csv = String::from_utf8(bytes).unwrap();
    // min(5000, 2000) − 250 = 1750 = 17.50 GBP; delivered Mon Nov 23 + 28 = Mon Dec 21.
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("shp-uk#damaged,TN-shp-uk,shp-uk,gb-courier-economy,damaged,17.50,GBP,2026-12-21,")
    );
    let (_, _, bytes) = call(&setup, "GET", "/v1/claims/export?carrier=Example%20Post", None).await;
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 1, "the header only");
    let (status, content_type, _) = call(&setup, "GET", "/v1/claims/export", None).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::BAD_REQUEST, "application/json"));
}

#[tokio::test]
async fn claims_count_in_the_kpis_with_their_cycle_time() {
    let setup = setup("kpi");
    two_claims(&setup).await;
    lastmile_fn_kpi::run(setup.table.as_ref(), &setup.tenant, at("2026-11-30T12:00:00Z")).await.unwrap();
    let kpis = || async {
        let context = TenantContext { tenant: Arc::new(setup.tenant.clone()), key_id: "k".into() };
        let api = Arc::new(lastmile_fn_kpi::api::KpiApi { table: setup.table.clone() });
        let app = lastmile_fn_kpi::api::router(api).layer(axum::Extension(context));
        let request = Request::get("/v1/kpis?from=2026-11-16&to=2026-11-16").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
        body["total"].clone()
    };
    // Two shipments, both claimed: rate 2 / 2 = 1; none closed yet.
    let total = kpis().await;
    assert_eq!((&total["shipments"], &total["claims"], &total["claim_rate"]), (&json!(2), &json!(2), &json!(1.0)));
    assert_eq!(total["average_claim_cycle_days"], Value::Null);

    // The UK claim: filed Dec 1, approved Dec 10, paid Dec 15: 14 days. The US one: filed Dec 1, denied Dec 5: 4.
    let uk = "/v1/claims/shp-uk%23damaged/status";
    let us = "/v1/claims/shp-lost%23lost/status";
    for (day, uri, status) in [
        ("2026-12-01T09:00:00Z", uk, "filed"),
        ("2026-12-01T09:00:00Z", us, "filed"),
        ("2026-12-05T09:00:00Z", us, "denied"),
        ("2026-12-10T09:00:00Z", uk, "approved"),
        ("2026-12-15T09:00:00Z", uk, "paid"),
    ] {
        set_clock(&setup, at(day));
        let (code, body) = call_json(&setup, "POST", uri, Some(json!({"status": status}))).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    lastmile_fn_kpi::run(setup.table.as_ref(), &setup.tenant, at("2026-12-15T12:00:00Z")).await.unwrap();
    // Average cycle (14 + 4) / 2 = 9.
    let total = kpis().await;
    assert_eq!((&total["claims"], &total["average_claim_cycle_days"]), (&json!(2), &json!(9.0)));
}

#[tokio::test]
async fn a_record_that_can_never_be_claimed_leaves_the_index_once_reviewed() {
    let setup = setup("never");
    // A line without claim terms, delivered; and an escalated parcel that was never scanned.
    let unknown = Parcel {
        events: vec![("2026-11-16T15:00:00Z", Status::Delivered, None)],
        ..parcel("shp-unknown-line", "xx-nowhere")
    };
    let unscanned = Parcel { stall: StallLevel::Escalated, ..parcel("shp-unscanned", "us-national-ground") };
    store(&setup, &unknown).await;
    store(&setup, &unscanned).await;
    let first = setup.run(date(2026, 12, 1)).await;
    assert_eq!(
        (first.reviewed, first.created.len(), first.skipped.clone()),
        (2, 0, vec!["shp-unknown-line".to_owned()])
    );
    assert!(tracking::claim_review_due(&setup.t(), 10).await.unwrap().is_empty());
    assert_eq!(setup.run(date(2026, 12, 2)).await.reviewed, 0);
}

/// Return inspections as the returns records will give them: one finding for one shipment.
struct CrackedOnReturn;

#[async_trait::async_trait]
impl lastmile_fn_claims::InspectionFindings for CrackedOnReturn {
    async fn inspection_damage(
        &self,
        tenant: &str,
        shipment_id: &str,
    ) -> Result<Option<String>, lastmile_platform::ports::table::StoreError> {
        Ok((tenant == "acme" && shipment_id == "shp-returned").then(|| "cracked housing".to_owned()))
    }
}

#[tokio::test]
async fn a_return_inspections_damage_finding_raises_a_damage_claim() {
    let setup = setup("inspection");
    let returned = Parcel {
        events: vec![("2026-11-02T15:00:00Z", Status::Delivered, None)],
        ..parcel("shp-returned", "us-national-ground")
    };
    let other = Parcel { id: "shp-fine", ..returned.clone() };
    store(&setup, &returned).await;
    store(&setup, &other).await;
    let ports = Ports { inspections: Arc::new(CrackedOnReturn), ..setup.ports() };
    let report = run(&ports, &setup.tenant, date(2026, 11, 3)).await.unwrap();
    assert_eq!(report.created, ["shp-returned#damaged"]);
    // min(2 × 3000, 10000) − 0 = 6000; 60 days from delivery: Nov 2 + 60 = Fri 2027-01-01, New Year's Day →
    // Mon 2027-01-04.
    let stored = setup.claims().await;
    assert_eq!(summary(&stored), [("shp-returned#damaged".to_owned(), 6_000, "2027-01-04".to_owned())]);
    assert_eq!(stored[0].claim.candidate.evidence, "return inspection: cracked housing");
}
