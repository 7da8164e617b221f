//! The router over the embedded store: an Anchorage order to the regional line, failover when a line is switched
//! off, redeliveries that change nothing, held orders the sweep brings back, stock taken once, poison refused,
//! and the API that explains and measures it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use lastmile_core::duty::rules::Rules;
use lastmile_core::routing::policy::{Arm, Experiment, Lane, LinePolicy};
use lastmile_fn_route::api::RoutingApi;
use lastmile_fn_route::{Outcome, RouteError, Router};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::embedded::queue::{EmbeddedQueue, QueueOptions};
use lastmile_platform::embedded::table::EmbeddedTable;
use lastmile_platform::events::OrderEvent;
use lastmile_platform::ports::clock::{Clock, ManualClock};
use lastmile_platform::ports::queue::Queue;
use lastmile_platform::ports::table::{Condition, TenantTable};
use lastmile_platform::repo::{self, decisions, lines, orders, shipments, stock};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Setup {
    router: Router,
    queue: EmbeddedQueue,
    clock: Arc<ManualClock>,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A seller shipping from New Jersey (and Ontario and Hamburg) with the national, postal and Alaska lines.
fn tenant(id: &str) -> TenantConfig {
    let mut tenant = TenantConfig::sample(id);
    tenant.rating.lines = ["us-national-ground", "us-alaska-regional", "us-postal-ground"].map(str::to_owned).to_vec();
    tenant
}

async fn setup(name: &str, configure: impl FnOnce(&mut TenantConfig)) -> Setup {
    let dir = std::env::temp_dir().join(format!("lastmile-route-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let registry = Arc::new(TenantRegistry::open(&dir).unwrap());
    let mut acme = tenant("acme");
    configure(&mut acme);
    registry.put_tenant(acme).await.unwrap();
    registry.put_tenant(tenant("globex")).await.unwrap();
    let db = Arc::new(redb::Database::create(dir.join("state.redb")).unwrap());
    // Friday 2026-12-04, 10:00 in New Jersey: before the warehouse's 15:00 cut-off.
    let clock = Arc::new(ManualClock::new("2026-12-04T15:00:00Z".parse().unwrap()));
    let table = Arc::new(EmbeddedTable::on(db.clone(), clock.clone()).unwrap());
    let queue = EmbeddedQueue::open(db, "orders", QueueOptions::default(), clock.clone()).unwrap();
    let rules = Arc::new(Rules::builtin().unwrap().clone());
    let router = Router { registry, table, orders: Arc::new(queue.clone()), rules, clock: clock.clone() };
    Setup { router, queue, clock, dir }
}

fn anchorage_order(id: &str) -> Value {
    json!({
        "id": id, "currency": "USD",
        "line_items": [{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}],
        "shipping_address": {"name": "Sam Buyer", "address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"}
    })
}

fn event(tenant: &str, topic: &str, order: Value) -> String {
    let order_id = order["id"].as_str().unwrap().to_owned();
    let needs_address = order.get("shipping_address").is_none_or(Value::is_null);
    serde_json::to_string(&OrderEvent {
        tenant: tenant.into(),
        topic: topic.into(),
        event_id: format!("evt-{order_id}-{topic}"),
        order_id,
        needs_address,
        received_at: "2026-12-04T15:00:00Z".parse::<Timestamp>().unwrap(),
        order,
    })
    .unwrap()
}

async fn decision(s: &Setup, order: &str) -> decisions::Decision {
    let table = TenantTable::new(&*s.router.table, "acme");
    decisions::get(&table, order).await.unwrap().expect("a decision").value
}

async fn handle(s: &Setup, topic: &str, order: Value) -> Outcome {
    s.router.handle(&event("acme", topic, order)).await.unwrap()
}

#[tokio::test]
async fn an_anchorage_order_goes_to_the_regional_line_and_a_disabled_line_fails_over() {
    // A seller who ships national ground and the Alaska line (no postal account).
    let s = setup("anchorage", |t| t.rating.lines.retain(|l| l != "us-postal-ground")).await;
    assert_eq!(handle(&s, "orders/create", anchorage_order("A-1")).await, Outcome::Routed { shipments: 1 });
    let d = decision(&s, "A-1").await;
    let choice = &d.shipments[0].choice;
    let winner = choice.winner().unwrap();
    assert_eq!(winner.line, "us-alaska-regional", "{}", choice.why);
    let national = choice.candidates.iter().find(|c| c.line == "us-national-ground").expect("national ground quoted");
    assert!(winner.cost_minor < national.cost_minor, "{:?} vs {:?}", winner.cost_minor, national.cost_minor);
    assert!(
        winner.transit_days < national.transit_days,
        "{:?} vs {:?} days",
        winner.transit_days,
        national.transit_days
    );
    assert!(choice.why.starts_with("us-alaska-regional from us-nj"), "{}", choice.why);
    assert!(choice.candidates.iter().all(|c| c.score > 0.0 && c.components.cost > 0.0));

    // The seller switches the regional line off: the next order fails over, and says so.
    let table = TenantTable::new(&*s.router.table, "acme");
    let off = lines::LineRecord {
        line: "us-alaska-regional".into(),
        enabled: false,
        reason: Some("hub closed by weather".into()),
        updated_at: s.clock.now(),
    };
    repo::save(&table, &off, Condition::Always).await.unwrap();
    handle(&s, "orders/create", anchorage_order("A-2")).await;
    let d2 = decision(&s, "A-2").await;
    let choice = &d2.shipments[0].choice;
    assert_ne!(choice.winner().unwrap().line, "us-alaska-regional");
    assert!(
        choice.why.contains("us-alaska-regional scores higher but is disabled: hub closed by weather; failover to"),
        "{}",
        choice.why
    );
}

#[tokio::test]
async fn a_redelivered_order_changes_nothing() {
    let s = setup("redelivery", |_| {}).await;
    assert_eq!(handle(&s, "orders/create", anchorage_order("R-1")).await, Outcome::Routed { shipments: 1 });
    let first = decision(&s, "R-1").await;
    let line = first.shipments[0].choice.winner().unwrap().line.clone();
    let table = TenantTable::new(&*s.router.table, "acme");
    let today = "2026-12-04".parse().unwrap();
    let counted = lines::line_day(&table, today, &line).await.unwrap().unwrap().value.orders;
    s.clock.advance(SignedDuration::from_mins(5));
    for topic in ["orders/create", "orders/updated"] {
        assert_eq!(handle(&s, topic, anchorage_order("R-1")).await, Outcome::AlreadyRouted);
    }
    assert_eq!(decision(&s, "R-1").await, first, "the stored decision is the first one");
    let again = lines::line_day(&table, today, &line).await.unwrap().unwrap().value.orders;
    assert_eq!((counted, again), (1, 1), "counted once");
}

#[tokio::test]
async fn poison_is_refused_and_waiting_orders_say_why() {
    let s = setup("poison", |_| {}).await;
    for body in ["{not json", r#"{"tenant":"acme"}"#] {
        assert!(matches!(s.router.handle(body).await, Err(RouteError::Poison(_))), "{body}");
    }
    let unknown = event("initech", "orders/create", anchorage_order("P-1"));
    assert!(matches!(s.router.handle(&unknown).await, Err(RouteError::Poison(m)) if m.contains("initech")));
    let mut bad = anchorage_order("P-2");
    bad["line_items"] = json!("three mugs");
    let got = s.router.handle(&event("acme", "orders/create", bad)).await;
    assert!(matches!(got, Err(RouteError::Poison(m)) if m.contains("line_items must be a list")));

    let mut no_address = anchorage_order("N-1");
    no_address["shipping_address"] = Value::Null;
    assert_eq!(handle(&s, "orders/create", no_address).await, Outcome::NeedsAddress);
    let table = TenantTable::new(&*s.router.table, "acme");
    let parked = orders::get(&table, "N-1").await.unwrap().unwrap().value;
    assert_eq!(
        (parked.status, parked.note.as_deref()),
        (orders::OrderStatus::NeedsAddress, Some("the order has no shipping address"))
    );
    // The address arrives in an update: routed.
    assert_eq!(handle(&s, "orders/updated", anchorage_order("N-1")).await, Outcome::Routed { shipments: 1 });
    // Cancelled before it was routed: never routed, even when the create arrives late.
    assert_eq!(handle(&s, "orders/cancelled", anchorage_order("C-1")).await, Outcome::Cancelled);
    assert_eq!(handle(&s, "orders/create", anchorage_order("C-1")).await, Outcome::Cancelled);
    assert!(decisions::get(&table, "C-1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_full_lane_holds_orders_until_the_sweep_finds_capacity() {
    let s = setup("held", |t| {
        for line in ["us-national-ground", "us-alaska-regional", "us-postal-ground"] {
            t.routing.lines.insert(line.into(), LinePolicy { daily_capacity: Some(1), ..LinePolicy::default() });
        }
    })
    .await;
    let mut used = BTreeSet::new();
    for id in ["H-1", "H-2", "H-3"] {
        assert_eq!(handle(&s, "orders/create", anchorage_order(id)).await, Outcome::Routed { shipments: 1 });
        used.insert(decision(&s, id).await.shipments[0].choice.winner().unwrap().line.clone());
    }
    assert_eq!(used.len(), 3, "one order per line a day: {used:?}");
    assert_eq!(handle(&s, "orders/create", anchorage_order("H-4")).await, Outcome::Held);
    // The sweep puts held orders back on the queue; tomorrow there is room.
    assert_eq!(s.router.sweep().await.unwrap(), 1);
    s.clock.advance(SignedDuration::from_hours(24));
    let messages = s.queue.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(messages.len(), 1);
    let batch: Vec<(&str, &str)> = messages.iter().map(|m| (m.id.as_str(), m.body.as_str())).collect();
    assert!(lastmile_fn_route::handle_batch(&s.router, &batch).await.is_empty());
    assert_eq!(decision(&s, "H-4").await.shipments.len(), 1);
    let table = TenantTable::new(&*s.router.table, "acme");
    assert_eq!(orders::get(&table, "H-4").await.unwrap().unwrap().value.status, orders::OrderStatus::Routed);
}

#[tokio::test]
async fn a_held_order_whose_personal_data_expired_is_marked_unroutable_by_the_sweep() {
    let s = setup("held-expired", |t| {
        for line in ["us-national-ground", "us-alaska-regional", "us-postal-ground"] {
            t.routing.lines.insert(line.into(), LinePolicy { daily_capacity: Some(0), ..LinePolicy::default() });
        }
    })
    .await;
    assert_eq!(handle(&s, "orders/create", anchorage_order("E-1")).await, Outcome::Held);
    let table = TenantTable::new(&*s.router.table, "acme");
    // The order record keeps no name or street; the personal item does, until its retention ends.
    let stored = orders::get(&table, "E-1").await.unwrap().unwrap().value;
    assert!(!stored.order.to_string().contains("Sam Buyer") && !stored.order.to_string().contains("6th Ave"));
    let kept = lastmile_platform::repo::personal::get(&table, "order#E-1", "order").await.unwrap().unwrap();
    assert_eq!(kept.value.data["shipping_address"]["name"], "Sam Buyer");
    s.clock.advance(SignedDuration::from_hours(24 * i64::from(orders::PERSONAL.retention_days) + 1));
    assert_eq!(s.router.sweep().await.unwrap(), 0, "nothing to send back without the order as sent");
    let marked = orders::get(&table, "E-1").await.unwrap().unwrap().value;
    assert_eq!(marked.status, orders::OrderStatus::Unroutable);
    assert!(marked.note.unwrap().contains("expired"));
}

#[tokio::test]
async fn stock_decides_the_warehouse_and_is_taken_once() {
    // Every compiled-in line, so both warehouses can ship to Toronto.
    let s = setup("stock", |t| t.rating.lines.clear()).await;
    let table = TenantTable::new(&*s.router.table, "acme");
    let now = s.clock.now();
    for (warehouse, sku, available) in
        [("us-nj", "MUG-1", 1), ("us-nj", "TEE-2", 0), ("ca-on", "TEE-2", 5), ("ca-on", "MUG-1", 0)]
    {
        let record = stock::StockRecord { warehouse: warehouse.into(), sku: sku.into(), available, updated_at: now };
        repo::save(&table, &record, Condition::Always).await.unwrap();
    }
    let mut order = anchorage_order("S-1");
    order["shipping_address"] = json!({"address1": "100 Queen St W", "city": "Toronto", "province_code": "ON", "zip": "M5H 2N2", "country_code": "CA"});
    order["line_items"] = json!([
        {"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"},
        {"sku": "TEE-2", "quantity": 2, "grams": 200, "price": "20.00"}
    ]);
    // No warehouse has both: Ontario fills 2 units (the tees), New Jersey the mug.
    assert_eq!(handle(&s, "orders/create", order.clone()).await, Outcome::Routed { shipments: 2 });
    let d = decision(&s, "S-1").await;
    let warehouses: Vec<&str> = d.shipments.iter().map(|x| x.warehouse.as_str()).collect();
    assert_eq!(warehouses, ["ca-on", "us-nj"]);
    assert_eq!(d.shipments[0].shipment_id, "S-1-1");
    let level = async |w: &str, sku: &str| stock::get(&table, w, sku).await.unwrap().unwrap().value.available;
    assert_eq!(level("us-nj", "MUG-1").await, 0);
    assert_eq!(level("ca-on", "TEE-2").await, 3);
    // Redelivered: stock is not taken twice.
    assert_eq!(handle(&s, "orders/create", order.clone()).await, Outcome::AlreadyRouted);
    assert_eq!(level("ca-on", "TEE-2").await, 3);
    // No mug left anywhere: the next order waits.
    let mut next = order.clone();
    next["id"] = json!("S-2");
    next["line_items"] = json!([{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}]);
    assert_eq!(handle(&s, "orders/create", next).await, Outcome::Held);
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn api(s: &Setup, tenant: &str) -> axum::Router {
    let context = TenantContext { tenant: s.router.registry.tenant(tenant).unwrap(), key_id: "test".into() };
    let api = Arc::new(RoutingApi { table: s.router.table.clone(), clock: s.clock.clone() });
    lastmile_fn_route::api::router(api).layer(axum::Extension(context))
}

#[tokio::test]
async fn the_api_explains_rates_measures_and_reports_an_experiment() {
    let s = setup("api", |t| {
        t.routing.experiments.push(Experiment {
            id: "ak-lines".into(),
            lane: Lane { from: Some("us-nj".into()), to: "US".into(), regions: vec!["AK".into()] },
            arms: vec![
                Arm { line: "us-alaska-regional".into(), percent: 50 },
                Arm { line: "us-national-ground".into(), percent: 50 },
            ],
            from: None,
            until: None,
        });
    })
    .await;
    let ids: Vec<String> = (0..80).map(|i| format!("E-{i}")).collect();
    for id in &ids {
        handle(&s, "orders/create", anchorage_order(id)).await;
    }
    let app = api(&s, "acme");
    let (status, routing) = call(&app, "GET", "/v1/orders/E-0/routing", None).await;
    assert_eq!(status, 200);
    assert_eq!(routing["status"], "routed");
    let shipment = &routing["decision"]["shipments"][0];
    assert!(shipment["choice"]["why"].as_str().unwrap().starts_with("experiment ak-lines: order in arm"), "{shipment}");
    assert!(shipment["choice"]["candidates"].as_array().unwrap().len() >= 2);
    // The standardized address comes from the decision's personal item, the verdict from the decision.
    assert_eq!(routing["decision"]["address"]["verdict"], "valid", "{routing}");
    assert!(routing["decision"]["address"]["standardized"]["lines"][0].as_str().unwrap().contains("6TH"), "{routing}");
    let table = TenantTable::new(&*s.router.table, "acme");
    let stored = decisions::get(&table, "E-0").await.unwrap().unwrap().value;
    assert!(stored.address.get("standardized").is_none(), "{}", stored.address);
    lastmile_platform::repo::personal::get(&table, "order#E-0", "routing-address").await.unwrap().unwrap();
    // A buyer's comment is kept apart from the stars.
    let rated = json!({"stars": 4, "comment": "Sam Buyer says: left at the door"});
    let (status, answer) = call(&app, "POST", "/v1/shipments/E-0/rating", Some(rated.clone())).await;
    assert_eq!((status, answer["rating"]["comment"].as_str()), (200, Some("Sam Buyer says: left at the door")));
    let version = shipments::get(&table, "E-0").await.unwrap().unwrap();
    assert!(version.value.rating.as_ref().unwrap().comment.is_none());
    let comment = lastmile_platform::repo::personal::get(&table, "shipment#E-0", "rating-comment").await.unwrap();
    assert_eq!(comment.unwrap().value.data, json!("Sam Buyer says: left at the door"));
    assert_eq!(call(&app, "POST", "/v1/shipments/E-0/rating", Some(rated)).await.0, 200);
    assert_eq!(
        shipments::get(&table, "E-0").await.unwrap().unwrap().version,
        version.version,
        "the same rating again changes nothing"
    );
    // Another tenant cannot see it.
    assert_eq!(call(&api(&s, "globex"), "GET", "/v1/orders/E-0/routing", None).await.0, 404);

    // Outcomes: the regional arm delivers every parcel in 4 days; national ground loses every fourth and takes 8–10.
    let mut arms = BTreeMap::<String, u32>::new();
    for id in &ids {
        let record = shipments::get(&table, id).await.unwrap().unwrap().value;
        let arm = record.experiment.as_ref().unwrap().line.clone();
        let n = arms.entry(arm.clone()).or_default();
        *n += 1;
        let outcome = if arm == "us-alaska-regional" {
            json!({"delivered": true, "transit_days": 4.0})
        } else if n.is_multiple_of(4) {
            json!({"delivered": false, "claim": true})
        } else {
            json!({"delivered": true, "transit_days": 8.0 + f64::from(*n % 3)})
        };
        let uri = format!("/v1/shipments/{id}/outcome");
        assert_eq!(call(&app, "POST", &uri, Some(outcome.clone())).await.0, 200);
        // Sent twice: recorded once.
        assert_eq!(call(&app, "POST", &uri, Some(outcome)).await.0, 200);
        let stars = if arm == "us-alaska-regional" { 5 } else { 3 };
        let uri = format!("/v1/shipments/{id}/rating");
        assert_eq!(call(&app, "POST", &uri, Some(json!({"stars": stars}))).await.0, 200);
    }
    let (status, report) = call(&app, "GET", "/v1/experiments/ak-lines", None).await;
    assert_eq!(status, 200, "{report}");
    let arm =
        |line: &str| report["report"]["arms"].as_array().unwrap().iter().find(|a| a["line"] == line).unwrap().clone();
    let (regional, national) = (arm("us-alaska-regional"), arm("us-national-ground"));
    assert_eq!(regional["shipments"].as_u64().unwrap() + national["shipments"].as_u64().unwrap(), 80);
    assert_eq!(regional["shipments"].as_u64(), Some(u64::from(arms["us-alaska-regional"])));
    assert_eq!((regional["delivery_rate"].as_f64(), regional["average_rating"].as_f64()), (Some(1.0), Some(5.0)));
    assert_eq!(regional["average_transit_days"].as_f64(), Some(4.0));
    let n = national["shipments"].as_u64().unwrap();
    let expected = (n - n / 4) as f64 / n as f64;
    assert!((national["delivery_rate"].as_f64().unwrap() - expected).abs() < 1e-9);
    let comparison = &report["report"]["comparisons"][0];
    assert_eq!(comparison["line"], "us-national-ground");
    assert!(comparison["transit_days"]["p_value"].as_f64().unwrap() < 0.001, "{comparison}");
    assert!(report["report"]["recommendation"].as_str().unwrap().starts_with("Stop us-national-ground"), "{report}");

    // Bad input is a clear 4xx.
    let (status, error) = call(&app, "POST", "/v1/shipments/E-0/rating", Some(json!({"stars": 9}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("stars")));
    assert_eq!(call(&app, "POST", "/v1/shipments/nope/rating", Some(json!({"stars": 4}))).await.0, 404);
    assert_eq!(call(&app, "POST", "/v1/shipments/E-0/outcome", Some(json!({"delivered": false}))).await.0, 409);
    assert_eq!(call(&app, "GET", "/v1/experiments/unknown", None).await.0, 404);
    assert_eq!(call(&app, "POST", "/v1/shipments/E-0/rating", Some(json!("five"))).await.0, 422);

    // Lines: switched off through the API; the measured statistics are there.
    let off = json!({"enabled": false, "reason": "strike"});
    assert_eq!(call(&app, "PUT", "/v1/lines/us-alaska-regional", Some(off)).await.0, 200);
    let (_, listed) = call(&app, "GET", "/v1/lines", None).await;
    let regional =
        listed["lines"].as_array().unwrap().iter().find(|l| l["line"] == "us-alaska-regional").unwrap().clone();
    assert_eq!(regional["enabled"], false);
    assert_eq!(regional["measured"]["success"]["trials"].as_u64(), Some(u64::from(arms["us-alaska-regional"])));
    assert_eq!(call(&app, "PUT", "/v1/lines/no-such-line", Some(json!({"enabled": true}))).await.0, 404);
    assert_eq!(call(&app, "PUT", "/v1/stock/us-nj/MUG-1", Some(json!({"available": 12}))).await.0, 200);
    assert_eq!(call(&app, "PUT", "/v1/stock/nowhere/MUG-1", Some(json!({"available": 12}))).await.0, 404);
}

/// Tees from New Jersey to Toronto on the cross-border line, with or without the seller's customs settings.
async fn toronto_cost(name: &str, incoterm: Option<lastmile_core::duty::Incoterm>) -> i64 {
    let s = setup(name, |t| {
        t.warehouses.retain(|w| w.id == "us-nj");
        t.rating.lines = vec!["us-ca-crossborder".into()];
        t.customs.incoterm = incoterm;
        t.customs.products.push(lastmile_platform::config::Product {
            sku: "TEE-2".into(),
            hs_code: "610910".into(),
            origin_country: "CN".into(),
            description: "T-shirts, knitted, of cotton".into(),
        });
    })
    .await;
    let mut order = anchorage_order("T-1");
    order["shipping_address"] = json!({"address1": "100 Queen St W", "city": "Toronto", "province_code": "ON", "zip": "M5H 2N2", "country_code": "CA"});
    order["line_items"] = json!([{"sku": "TEE-2", "quantity": 3, "grams": 200, "price": "40.00"}]);
    assert_eq!(handle(&s, "orders/create", order).await, Outcome::Routed { shipments: 1 });
    let d = decision(&s, "T-1").await;
    let winner = d.shipments[0].choice.winner().unwrap().clone();
    assert_eq!(winner.line, "us-ca-crossborder");
    winner.cost_minor.unwrap()
}

#[tokio::test]
async fn under_ddp_the_router_compares_lines_with_duties_and_taxes_in() {
    let freight = toronto_cost("ddp-none", None).await;
    let dap = toronto_cost("ddp-dap", Some(lastmile_core::duty::Incoterm::Dap)).await;
    let ddp = toronto_cost("ddp-ddp", Some(lastmile_core::duty::Incoterm::Ddp)).await;
    assert_eq!(dap, freight, "under DAP the buyer pays duties: the seller's cost is the freight");
    // 3 × US$40 = US$120 of Chinese cotton tees, over Canada's courier thresholds: at least the 18 % duty
    // (US$21.60 = 2160 cents) comes on top of the freight under DDP, and GST/HST on top of that.
    assert!(ddp >= freight + 2160, "DDP {ddp} against freight {freight}");
}

#[tokio::test]
async fn an_order_of_a_disabled_tenant_is_dropped_without_a_record_or_a_decision() {
    let s = setup("disabled", |t| t.enabled = false).await;
    assert_eq!(handle(&s, "orders/create", anchorage_order("D-1")).await, Outcome::TenantDisabled);
    let table = TenantTable::new(&*s.router.table, "acme");
    assert!(decisions::get(&table, "D-1").await.unwrap().is_none());
    assert!(lastmile_platform::repo::orders::get(&table, "D-1").await.unwrap().is_none());
    // The other tenant is not affected.
    assert_eq!(
        s.router.handle(&event("globex", "orders/create", anchorage_order("D-1"))).await.unwrap(),
        Outcome::Routed { shipments: 1 }
    );
}

#[tokio::test]
async fn the_shipment_keeps_what_its_line_was_quoted_on() {
    let s = setup("quoted", |t| t.rating.lines.retain(|l| l != "us-postal-ground")).await;
    handle(&s, "orders/create", anchorage_order("Q-1")).await;
    let table = TenantTable::new(&*s.router.table, "acme");
    let shipment = shipments::get(&table, "Q-1").await.unwrap().unwrap().value;
    let quoted = shipment.quoted.expect("the quote's facts are kept");
    // One 450 g mug to Anchorage, priced on Friday 2026-12-04 in New Jersey.
    assert_eq!((quoted.grams, quoted.postcode.as_str()), (450, "99501"));
    assert_eq!(quoted.ship_date, jiff::civil::date(2026, 12, 4));
    assert!(!quoted.zone.is_empty());
    // The charges by code add up to what the winner cost (the order is in the card's currency, USD).
    assert_eq!(Some(quoted.charges.values().sum::<i64>()), shipment.cost_minor);
    assert!(quoted.charges.contains_key("base"), "{:?}", quoted.charges);
    // A record stored before the facts were kept still reads.
    let mut old = serde_json::to_value(
        repo::item(&shipments::get(&table, "Q-1").await.unwrap().unwrap().value).unwrap().attributes,
    )
    .unwrap();
    old.as_object_mut().unwrap().remove("quoted");
    let read: shipments::ShipmentRecord = serde_json::from_value(old).unwrap();
    assert!(read.quoted.is_none());
}
