use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use lastmile_core::address::{self, AddressRequest, Verdict, refdata};
use lastmile_core::geo::distance_km;
use lastmile_core::rating::packing;
use lastmile_core::routing::decide::lane_id;
use lastmile_core::tracking::adapters::{aftership_webhook, scan_csv, scan_events_json};
use lastmile_core::tracking::{Status, TrackingEvent, mapping};
use lastmile_platform::config::TenantConfig;
use rand::Rng;
use serde_json::Value;

use super::story::{Outcome, Step, Suspicion};
use super::*;

fn season(seed: u64, orders_per_day: u32) -> Scenario {
    Scenario::default_for(date(2026, 11, 15), 45, orders_per_day, seed)
}

/// The lines the sample warehouses have for a destination, as the router would weigh them.
fn candidate_lines(country: &str, region: Option<&str>) -> Vec<(&'static str, &'static str)> {
    const NORTHEAST: [&str; 13] = ["CT", "DC", "DE", "MA", "MD", "ME", "NH", "NJ", "NY", "PA", "RI", "VA", "VT"];
    match country {
        "US" if region == Some("AK") => vec![("us-nj", "us-alaska-regional"), ("us-nj", "us-postal-ground")],
        "US" if region.is_some_and(|r| NORTHEAST.contains(&r)) => {
            vec![("us-nj", "us-regional-northeast"), ("us-nj", "us-national-ground"), ("us-nj", "us-postal-ground")]
        }
        "US" => vec![("us-nj", "us-national-ground"), ("us-nj", "us-postal-ground")],
        "CA" => vec![("ca-on", "ca-courier-ground"), ("ca-on", "ca-postal-expedited"), ("us-nj", "us-ca-crossborder")],
        "DE" => vec![("de-hh", "de-dpd"), ("de-hh", "de-hermes"), ("de-hh", "de-paket")],
        "AT" => vec![("de-hh", "de-dpd")],
        "GB" => vec![("de-hh", "de-gb-crossborder")],
        _ => Vec::new(),
    }
}

/// The facts the driver would have for an order's one shipment: a line the sample warehouses have for it,
/// shipped the next morning.
fn facts_for(order: &Value, rng: &mut impl Rng) -> ShipmentFacts {
    let address = &order["shipping_address"];
    let country = address["country_code"].as_str().expect("country");
    let region = address["province_code"].as_str();
    let lines = candidate_lines(country, region);
    let (warehouse, line) = lines[rng.random_range(0..lines.len())];
    let created: Timestamp = order["created_at"].as_str().expect("created_at").parse().expect("a time");
    let shipped = created + Span::new().hours(rng.random_range(14..30));
    let lane = lane_id(warehouse, country, region);
    let id = order["id"].as_str().expect("id");
    ShipmentFacts::from_order(order, id, line, "Example", &lane, shipped).expect("facts")
}

struct Run {
    scenario: Scenario,
    orders: Vec<Value>,
    facts: Vec<ShipmentFacts>,
    stories: Vec<Story>,
}

fn run(scenario: Scenario) -> Run {
    let mut orders = Vec::new();
    for day in scenario.dates() {
        orders.extend(orders_for_day(&scenario, day, &mut scenario.order_rng(day)));
    }
    let mut pick = scenario.story_rng("line choice");
    let facts: Vec<ShipmentFacts> = orders.iter().map(|o| facts_for(o, &mut pick)).collect();
    let stories = facts.iter().map(|f| parcel_story(&scenario, f, &mut scenario.story_rng(&f.shipment_id))).collect();
    Run { scenario, orders, facts, stories }
}

/// The 45-day season, with troubles common enough to be measured.
fn the_season() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut scenario = season(7, 45);
        scenario.shares.stall = 0.10;
        scenario.shares.suspect = 0.06;
        scenario.shares.missing_pod = 0.08;
        run(scenario)
    })
}

fn local_date(event: &ScheduledEvent) -> Date {
    event.at.to_zoned(TimeZone::get(&event.time_zone).expect("zone")).date()
}

#[test]
fn simulate_same_seed_same_bytes_other_seed_other_bytes() {
    let bytes = |seed: u64| {
        let mut scenario = season(seed, 30);
        scenario.days = 3;
        let run = run(scenario);
        let mut out = serde_json::to_vec(&run.orders).expect("json");
        for story in &run.stories {
            for payload in render(&story.events) {
                out.extend(payload.body);
            }
            for file in &story.pod_files {
                out.extend(&file.bytes);
            }
        }
        out
    };
    let first = bytes(7);
    assert!(first.len() > 10_000, "a run has content");
    assert_eq!(first, bytes(7), "the same seed gives the same bytes");
    assert_ne!(first, bytes(8), "another seed gives others");
}

#[test]
fn simulate_a_story_does_not_depend_on_what_was_drawn_before() {
    let run = the_season();
    let f = &run.facts[17];
    let again = parcel_story(&run.scenario, f, &mut run.scenario.story_rng(&f.shipment_id));
    assert_eq!(again, run.stories[17]);
}

#[test]
fn simulate_orders_carry_what_the_router_reads_with_real_postcodes() {
    let run = the_season();
    let skus: BTreeSet<&str> = run.scenario.catalog.iter().map(|s| s.sku.as_str()).collect();
    let mut ids = BTreeSet::new();
    let mut countries = BTreeMap::<String, usize>::new();
    for order in &run.orders {
        let id = order["id"].as_str().expect("a string id");
        assert!(id.starts_with("sim-2026") || id.starts_with("sim-2027"), "{id}");
        assert!(ids.insert(id.to_owned()), "{id} is unique");
        assert!(order["created_at"].as_str().expect("created_at").parse::<Timestamp>().is_ok());
        assert!(order["currency"].as_str().is_some_and(|c| c.len() == 3));
        let items = order["line_items"].as_array().expect("line items");
        assert!(!items.is_empty());
        for item in items {
            assert!(skus.contains(item["sku"].as_str().expect("sku")), "{item}");
            assert!(item["quantity"].as_u64().is_some_and(|q| q >= 1));
            assert!(item["grams"].as_u64().is_some_and(|g| g > 0));
            assert!(item["price"].as_str().is_some_and(|p| p.parse::<f64>().is_ok_and(|p| p > 0.0)));
        }
        let a = &order["shipping_address"];
        for key in ["address1", "city", "zip", "country_code", "name", "phone"] {
            assert!(a[key].as_str().is_some_and(|v| !v.is_empty()), "{key} of {a}");
        }
        let country = a["country_code"].as_str().expect("country");
        let zip = a["zip"].as_str().expect("zip");
        // GB and Canadian data hold the outward code / district only.
        let key = if matches!(country, "GB" | "CA") { zip.split(' ').next().expect("district") } else { zip };
        let info = refdata::postcodes(country).and_then(|t| t.get(key));
        assert!(info.is_some(), "{country} {zip} is in the postcode data");
        if country == "US" {
            assert_eq!(a["province_code"].as_str(), info.map(|i| i.admin), "{zip}'s state");
        }
        *countries.entry(country.to_owned()).or_default() += 1;
    }
    assert_eq!(countries.keys().map(String::as_str).collect::<Vec<_>>(), ["AT", "CA", "DE", "GB", "US"]);
}

#[test]
fn simulate_orders_are_routable_by_the_sample_configuration() {
    let run = the_season();
    let tenant = TenantConfig::sample("default");
    let now: Timestamp = "2026-11-20T15:00:00Z".parse().expect("time");
    for order in run.orders.iter().step_by(29).take(60) {
        let destination: AddressRequest =
            serde_json::from_value(order["shipping_address"].clone()).expect("an address request");
        let checked = address::validate(&destination).expect("validates");
        assert_ne!(checked.verdict, Verdict::Invalid, "{destination:?}: {:?}", checked.issues);
        let items: Vec<packing::Item> = order["line_items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| packing::Item {
                grams: i["grams"].as_u64().expect("grams"),
                dimensions: None,
                quantity: i["quantity"].as_u64().expect("quantity") as u32,
            })
            .collect();
        let rates: usize = tenant
            .warehouses
            .iter()
            .filter_map(|w| lastmile_platform::quoting::quote_items(&tenant, w, destination.clone(), &items, now).ok())
            .map(|answer| answer.rates.rates.len())
            .sum();
        assert!(rates > 0, "no sample line quotes {}", order["shipping_address"]);
    }
}

#[test]
fn simulate_order_volume_follows_the_week_and_the_sales() {
    let scenario = season(3, 400);
    let count = |day: Date| orders_for_day(&scenario, day, &mut scenario.order_rng(day)).len() as f64;
    let wednesday = count(date(2026, 11, 18));
    assert!((340.0..460.0).contains(&wednesday), "{wednesday}");
    assert!(count(date(2026, 11, 27)) > 2.5 * wednesday, "Black Friday");
    assert!(count(date(2026, 11, 30)) > 2.2 * wednesday, "Cyber Monday");
    assert!(count(date(2026, 11, 21)) < wednesday, "a Saturday is quieter");
}

/// Every story's events in one batch, read back by the adapter of each payload's format.
#[test]
fn simulate_rendered_payloads_read_back_through_the_core_adapters() {
    let run = the_season();
    let tables = mapping::builtin();
    let mut formats = BTreeSet::new();
    let mut checked = 0;
    for story in run.stories.iter().take(400) {
        let payloads = render(&story.events);
        let mut read: Vec<TrackingEvent> = Vec::new();
        for payload in &payloads {
            let table = tables.carrier(&payload.carrier).expect("a table");
            formats.insert(payload.format);
            let events = match payload.format {
                Format::ScanEventsJson => scan_events_json(table, &payload.body, None),
                Format::AfterShip => aftership_webhook(table, &payload.body, None),
                Format::ScanCsv => scan_csv(table, std::str::from_utf8(&payload.body).expect("utf-8")),
            };
            read.extend(events.unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&payload.body))));
        }
        let mut want: Vec<&ScheduledEvent> = story.events.iter().collect();
        // Payloads group by tracking number: compare in the same grouping, each group in time order.
        want.sort_by_key(|e| (story.tracking_numbers.iter().position(|t| *t == e.tracking_number), e.at));
        read.sort_by_key(|e| (story.tracking_numbers.iter().position(|t| *t == e.tracking_number), e.occurred_at));
        assert_eq!(read.len(), want.len(), "{}", story.shipment_id);
        for (got, want) in read.iter().zip(want) {
            assert_eq!(got.carrier, want.carrier);
            assert_eq!(got.tracking_number, want.tracking_number);
            assert_eq!(got.occurred_at, want.at, "{} {:?}", want.tracking_number, want.step);
            assert_eq!((got.status, got.reason), (want.status, want.reason), "{:?}", want.step);
            assert_eq!(got.handover, want.handover);
            assert_eq!(
                got.location.as_ref().and_then(|l| l.postcode.clone()),
                want.location.as_ref().and_then(|l| l.postcode.clone())
            );
            let pod = |p: Option<&ScheduledPod>| p.cloned().unwrap_or_default();
            let got_pod = got.pod.as_ref().map(|p| ScheduledPod {
                recipient: p.recipient_name.clone(),
                gps: p.gps,
                signature_file: p
                    .files
                    .iter()
                    .find(|f| f.kind == lastmile_core::tracking::event::PodKind::Signature)
                    .map(|f| f.name.clone()),
                photo_file: p
                    .files
                    .iter()
                    .find(|f| f.kind == lastmile_core::tracking::event::PodKind::Photo)
                    .map(|f| f.name.clone()),
            });
            assert_eq!(pod(got_pod.as_ref()), pod(want.pod.as_ref()), "{}", want.tracking_number);
            checked += 1;
        }
    }
    assert!(checked > 2000, "{checked}");
    assert_eq!(formats.len(), 3, "{formats:?}");
}

#[test]
fn simulate_no_scans_on_thanksgiving_in_the_us_nor_at_christmas_in_germany() {
    let run = the_season();
    let mut us_backlog = 0;
    let mut counted = 0;
    for (story, facts) in run.stories.iter().zip(&run.facts) {
        for event in story.events.iter().filter(|e| e.step != Step::Label) {
            let day = local_date(event);
            counted += 1;
            if facts.country == "US" {
                assert_ne!(day, date(2026, 11, 26), "{} scanned on Thanksgiving", event.tracking_number);
                assert_ne!(day, date(2026, 11, 27), "{} scanned the day after", event.tracking_number);
                if day == date(2026, 11, 30) {
                    us_backlog += 1;
                }
            }
            if facts.country == "DE" {
                for closed in [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)] {
                    assert_ne!(day, closed, "{} scanned at Christmas", event.tracking_number);
                }
            }
        }
    }
    assert!(counted > 10_000, "{counted}");
    assert!(us_backlog > 0, "the US backlog moves again on Monday");
}

#[test]
fn simulate_the_failing_line_delivers_far_less_than_the_others() {
    let run = the_season();
    let mut by_line: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for story in &run.stories {
        let delivered = story.events.iter().any(|e| e.status == Status::Delivered);
        let entry = by_line.entry(story.line.as_str()).or_default();
        entry.0 += usize::from(delivered);
        entry.1 += 1;
    }
    let rate = |line: &str| by_line.get(line).map_or(0.0, |(d, n)| *d as f64 / *n as f64);
    let failing = rate(&run.scenario.failing_line);
    assert!(by_line[run.scenario.failing_line.as_str()].1 > 100, "{by_line:?}");
    for line in by_line.keys().filter(|l| **l != run.scenario.failing_line) {
        assert!(rate(line) > failing + 0.2, "{line} {} vs {failing}: {by_line:?}", rate(line));
    }
    assert!(failing < 0.75, "{failing}");
}

#[test]
fn simulate_stalls_suspect_deliveries_and_missing_pod_come_at_their_shares() {
    let run = the_season();
    let shares = &run.scenario.shares;
    let n = run.stories.len() as f64;
    let stalled: Vec<&Story> = run.stories.iter().filter(|s| s.stalled).collect();
    for story in &stalled {
        let scans: Vec<&ScheduledEvent> = story.events.iter().filter(|e| e.step != Step::Label).collect();
        let longest =
            scans.windows(2).map(|w| (w[1].at - w[0].at).total(jiff::Unit::Hour).unwrap_or(0.0)).fold(0.0, f64::max);
        assert!(longest >= 72.0, "{} stalled for only {longest} h", story.shipment_id);
    }
    let stall_share = stalled.len() as f64 / n;
    assert!((stall_share - shares.stall).abs() < 0.03, "stalls {stall_share}");
    let never = stalled.iter().filter(|s| s.outcome == Outcome::Expired).count() as f64 / stalled.len() as f64;
    assert!((never - shares.stall_never_resumes).abs() < 0.12, "never resumed {never}");

    let (mut delivered, mut suspect, mut required, mut missing) = (0, 0, 0, 0);
    for (story, facts) in run.stories.iter().zip(&run.facts) {
        let Some(event) = story.events.iter().find(|e| e.status == Status::Delivered) else { continue };
        delivered += 1;
        let hour = event.at.to_zoned(TimeZone::get(&event.time_zone).expect("zone")).hour();
        let far = event.pod.as_ref().and_then(|p| p.gps).zip(facts.lat_lon).map(|(a, b)| distance_km(a, b));
        let looks_false = hour < 5 || far.is_some_and(|km| km > 2.0);
        assert_eq!(looks_false, story.suspect.is_some(), "{} at {hour} h, {far:?} km", story.shipment_id);
        if let Some(Suspicion::FarFromAddress { km }) = story.suspect {
            assert!((far.expect("gps") - km).abs() < 0.01);
        }
        suspect += usize::from(looks_false);
        if run.scenario.profile(&story.line).pod_required {
            required += 1;
            missing += usize::from(event.pod.is_none());
        }
    }
    let suspect_share = suspect as f64 / delivered as f64;
    assert!((suspect_share - shares.suspect).abs() < 0.02, "suspect {suspect_share}");
    let missing_share = missing as f64 / required as f64;
    assert!((missing_share - shares.missing_pod).abs() < 0.025, "missing POD {missing_share}");
}

/// Where a status sits on the way: a parcel moves forward through these, never back, in the order events
/// happen; attempts and exceptions sit with the steps around them.
fn rank(status: Status) -> u8 {
    match status {
        Status::InfoReceived => 0,
        Status::InTransit | Status::Exception => 1,
        Status::OutForDelivery | Status::DeliveryAttempted | Status::AvailableForPickup => 2,
        Status::Delivered | Status::ReturnedToSender | Status::Expired => 3,
    }
}

#[test]
fn simulate_a_parcel_never_goes_backwards_except_by_late_or_repeated_sends() {
    let run = the_season();
    let (mut late, mut repeated, mut attempts) = (0, 0, 0);
    for story in &run.stories {
        for pair in story.events.windows(2) {
            assert!(pair[0].at < pair[1].at, "{}: events in time order", story.shipment_id);
            assert!(!pair[0].status.is_final(), "{}: nothing after the end", story.shipment_id);
            // Returning to the sender is an exception after the delivery round, the one step back allowed.
            let back_to_sender = pair[1].step == Step::Returning || pair[1].step == Step::Damaged;
            assert!(
                rank(pair[1].status) >= rank(pair[0].status) || back_to_sender || pair[1].step == Step::AddressProblem,
                "{}: {:?} after {:?}",
                story.shipment_id,
                pair[1].step,
                pair[0].step
            );
        }
        attempts += story.events.iter().filter(|e| e.status == Status::DeliveryAttempted).count();
        let mut newest: Option<Timestamp> = None;
        for send in &story.sends {
            let at = story.events[send.event].at;
            if newest.is_some_and(|n| at < n) {
                assert!(send.late || send.duplicate, "{}: an unmodelled out-of-order send", story.shipment_id);
            }
            late += usize::from(send.late);
            repeated += usize::from(send.duplicate);
            newest = newest.max(Some(at));
        }
        assert!(story.sends.windows(2).all(|w| w[0].at <= w[1].at), "sends in time order");
    }
    assert!(late > 0 && repeated > 0 && attempts > 0, "{late} {repeated} {attempts}");
}

#[test]
fn simulate_multi_leg_lines_hand_over_to_a_partner_with_a_new_number() {
    let run = the_season();
    let legs: Vec<&Story> = run.stories.iter().filter(|s| s.tracking_numbers.len() == 2).collect();
    assert!(!legs.is_empty());
    for story in legs {
        let handover = story.events.iter().find_map(|e| e.handover.as_ref()).expect("a handover event");
        assert_eq!(handover.tracking_number, story.tracking_numbers[1]);
        let partner: Vec<&ScheduledEvent> =
            story.events.iter().filter(|e| e.tracking_number == story.tracking_numbers[1]).collect();
        assert!(partner.iter().all(|e| e.carrier == handover.carrier));
    }
}

#[test]
fn simulate_pod_files_are_valid_svg_and_png_named_as_the_events_name_them() {
    let run = the_season();
    let mut kinds = BTreeSet::new();
    for story in run.stories.iter().take(400) {
        let named: BTreeSet<&str> = story
            .events
            .iter()
            .filter_map(|e| e.pod.as_ref())
            .flat_map(|p| [p.signature_file.as_deref(), p.photo_file.as_deref()])
            .flatten()
            .collect();
        let files: BTreeSet<&str> = story.pod_files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(named, files);
        for file in &story.pod_files {
            kinds.insert(file.content_type);
            match file.content_type {
                "image/svg+xml" => assert!(file.bytes.starts_with(b"<svg xmlns=\"http://www.w3.org/2000/svg\"")),
                "image/png" => {
                    assert!(file.bytes.starts_with(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"));
                    assert!(file.bytes.ends_with(b"IEND\xae\x42\x60\x82"), "the IEND chunk and its CRC");
                }
                other => panic!("{other}"),
            }
        }
    }
    assert_eq!(kinds.len(), 2);
}

#[test]
fn simulate_returns_come_from_delivered_parcels_after_delivery_at_their_share() {
    let run = the_season();
    let mut delivered = 0;
    let mut plans = Vec::new();
    for (story, order) in run.stories.iter().zip(&run.orders) {
        let plan = returns::plan(&run.scenario, story, order);
        if story.outcome != Outcome::Delivered {
            assert!(plan.is_none(), "only a delivered parcel comes back");
            continue;
        }
        delivered += 1;
        let Some(plan) = plan else { continue };
        let delivered_at = story.events.iter().rev().find(|e| e.status == Status::Delivered).expect("delivered").at;
        assert!(
            plan.requested_at >= delivered_at + jiff::SignedDuration::from_hours(48),
            "asked for days after delivery"
        );
        assert!(plan.inspected_at > plan.requested_at, "inspected after it was asked for");
        let sku = plan.request["items"][0]["sku"].as_str().expect("sku");
        let skus: Vec<&str> =
            order["line_items"].as_array().expect("items").iter().filter_map(|i| i["sku"].as_str()).collect();
        assert!(skus.contains(&sku), "{sku} is an item of the order");
        assert_eq!(plan.request["order_id"], order["id"]);
        plans.push(plan);
    }
    // The share of returns among delivered parcels, within three standard deviations of 6 %.
    let share = plans.len() as f64 / f64::from(delivered);
    let sigma = (returns::RETURN_SHARE * (1.0 - returns::RETURN_SHARE) / f64::from(delivered)).sqrt();
    assert!((share - returns::RETURN_SHARE).abs() < 3.0 * sigma, "{} of {delivered}", plans.len());
    // The same parcel's return is the same whatever else was drawn.
    let (story, order) = run
        .stories
        .iter()
        .zip(&run.orders)
        .find(|(s, o)| returns::plan(&run.scenario, s, o).is_some())
        .expect("a return");
    assert_eq!(returns::plan(&run.scenario, story, order), returns::plan(&run.scenario, story, order));
}
