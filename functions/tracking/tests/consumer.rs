//! The tracking consumer over the embedded store: a journey through a hand-over to a delivery with its POD,
//! events that came before their number, and (proptest) any order or repetition of deliveries giving the same
//! stored journey.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, batch, call, fixture_events, routed_anchorage_order, setup_at, upload_pod};
use lastmile_core::tracking::Status;
use lastmile_fn_tracking::consumer::Handled;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::{personal, shipments, tracking};
use proptest::prelude::*;
use serde_json::json;

/// Monday 2026-11-16, 09:00 in Anchorage: the order is routed before FedEx's first scan.
const START: &str = "2026-11-16T18:00:00Z";

#[tokio::test]
async fn a_journey_through_a_hand_over_to_delivery_is_stored_with_its_proof() {
    let s = setup_at("journey", true, START).await;
    let shipment = routed_anchorage_order(&s, "5001").await;
    let (status, body) = call(
        &api(&s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": "794612345678"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // The signature arrives before the delivered event, the photo after it.
    let signature_key = upload_pod(&s, "parcelnet", "PN00998812AK", "PN00998812AK-sig.png", b"sig").await;
    let (fedex, parcelnet) = fixture_events();
    let handled = s.tracking.handle(&batch("fedex", "794612345678", fedex.clone())).await.unwrap();
    assert!(matches!(handled, Handled::Applied { added: 6, .. }), "{handled:?}");
    let handled = s.tracking.handle(&batch("parcelnet", "PN00998812AK", parcelnet)).await.unwrap();
    assert!(matches!(handled, Handled::Applied { added: 4, status: Some(Status::Delivered), .. }), "{handled:?}");
    upload_pod(&s, "parcelnet", "PN00998812AK", "PN00998812AK-door.jpg", b"door").await;
    s.tracking.handle(&batch("parcelnet", "PN00998812AK", Vec::new())).await.unwrap();
    // FedEx's webhook again: nothing changes.
    let handled = s.tracking.handle(&batch("fedex", "794612345678", fedex)).await.unwrap();
    assert!(matches!(handled, Handled::Applied { added: 0, duplicates: 6, .. }), "{handled:?}");

    let table = TenantTable::new(&*s.tracking.table, "acme");
    let record = tracking::get(&table, &shipment).await.unwrap().unwrap().value;
    assert_eq!(record.status(), Some(Status::Delivered));
    assert_eq!(record.journey.events.len(), 10);
    assert_eq!(record.journey.legs().len(), 2);
    assert_eq!(tracking::shipment_for(&table, "parcelnet", "PN00998812AK").await.unwrap(), Some(shipment.clone()));
    let keys: Vec<&str> = record.pods.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&signature_key.as_str()));
    // The recipient's name and the GPS are personal: in the pod item, not in the journey.
    let stored = serde_json::to_string(&record.journey).unwrap();
    assert!(!stored.contains("J. SAMPLE") && !stored.contains("61.21705"), "{stored}");
    let pod = personal::get(&table, &tracking::key(&shipment).pk, "pod").await.unwrap().unwrap().value;
    assert!(pod.data.to_string().contains("J. SAMPLE"));
    // Delivered at 61.21705,-149.89021 in downtown Anchorage, within 2 km of ZIP 99501's centroid (the ZIP is
    // downtown): not suspect.
    let point = record.destination.point.expect("the centroid of 99501");
    assert!(lastmile_core::tracking::pod::distance_m(point, (61.21705, -149.89021)) < 2_000.0, "{point:?}");
    let assessment = record.assessment.clone().unwrap();
    assert!(!assessment.suspect_delivery, "{assessment:?}");
    // Facts: FedEx picked it up Monday 2026-11-16 (17:42 Reno = 16:42 Anchorage), parcelnet delivered Friday
    // 2026-11-20 in Anchorage: Tuesday to Friday, four working days, no holiday.
    let facts = record.facts.clone().unwrap();
    assert!(facts.delivered);
    assert_eq!(facts.transit_business_days, Some(4));
    assert_eq!(facts.day.to_string(), "2026-11-16");
    let outcome = shipments::get(&table, &shipment).await.unwrap().unwrap().value.outcome.unwrap();
    assert!(outcome.delivered);

    let shopify = s.shopify.clone().unwrap();
    assert_eq!(shopify.updates.lock().unwrap().len(), 1, "the hand-over's number");
    assert_eq!(shopify.updates.lock().unwrap()[0].1["number"], "PN00998812AK");
    assert_eq!(*shopify.events.lock().unwrap(), [("gid://shopify/Fulfillment/1".to_owned(), "DELIVERED".to_owned())]);
}

#[tokio::test]
async fn events_before_their_number_wait_and_join_the_journey_when_it_is_assigned() {
    let s = setup_at("orphans", false, START).await;
    let shipment = routed_anchorage_order(&s, "5002").await;
    let (fedex, _) = fixture_events();
    let handled = s.tracking.handle(&batch("fedex", "794612345678", fedex[..3].to_vec())).await.unwrap();
    assert_eq!(handled, Handled::Orphaned { waiting: 3 });
    let (status, body) = call(
        &api(&s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": "794612345678"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["events"].as_array().unwrap().len(), 3);
    let table = TenantTable::new(&*s.tracking.table, "acme");
    assert!(tracking::orphans(&table, "fedex", "794612345678").await.unwrap().is_none());
}

#[test]
fn poison_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = setup_at("poison", false, START).await;
        assert!(s.tracking.handle("not json").await.is_err());
        let other = batch("fedex", "1", Vec::new()).replace("\"acme\"", "\"nobody\"");
        assert!(s.tracking.handle(&other).await.is_err());
    });
}

/// The stored history and status after delivering `order` (indexes into the deliveries).
fn journey_after(case: usize, order: &[usize]) -> (Vec<String>, Option<Status>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = setup_at(&format!("prop-{case}"), false, START).await;
        let shipment = routed_anchorage_order(&s, "6001").await;
        let (status, _) = call(
            &api(&s),
            "POST",
            &format!("/v1/shipments/{shipment}/tracking"),
            Some(json!({"carrier": "fedex", "tracking_number": "794612345678"})),
        )
        .await;
        assert_eq!(status, 201);
        let (fedex, parcelnet) = fixture_events();
        let deliveries: Vec<String> = fedex
            .iter()
            .map(|e| batch("fedex", "794612345678", vec![e.clone()]))
            .chain(parcelnet.iter().map(|e| batch("parcelnet", "PN00998812AK", vec![e.clone()])))
            .collect();
        for &i in order {
            s.tracking.handle(&deliveries[i % deliveries.len()]).await.unwrap();
        }
        let table = TenantTable::new(&*s.tracking.table, "acme");
        let record = tracking::get(&table, &shipment).await.unwrap().unwrap().value;
        (record.journey.events.iter().map(|e| e.id.clone()).collect(), record.status())
    })
}

static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any permutation of the ten deliveries, some delivered twice, stores the journey they store in order.
    #[test]
    fn any_order_or_repetition_of_deliveries_stores_the_same_journey(
        order in Just((0..10).collect::<Vec<usize>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0usize..10, 0..4),
    ) {
        let case = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let in_order = journey_after(1000 + case, &(0..10).collect::<Vec<_>>());
        let mut shuffled = order.clone();
        for (n, r) in repeats.iter().enumerate() {
            shuffled.insert((n * 3) % (shuffled.len() + 1), *r);
        }
        let got = journey_after(case, &shuffled);
        prop_assert_eq!(got.1, Some(Status::Delivered));
        prop_assert_eq!(got, in_order);
    }
}
