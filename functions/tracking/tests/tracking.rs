//! Tracking over the embedded store: numbers assigned to routed shipments (and the shop's fulfillment made
//! once, against a stand-in for Shopify's Admin GraphQL), events that came first applied at assignment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, call, routed_order, setup};
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::tracking;
use serde_json::json;

#[tokio::test]
async fn assigning_a_number_tracks_the_shipment_and_fulfills_the_order_once() {
    let s = setup("assign", true).await;
    let shipment = routed_order(&s, "1001").await;
    let app = api(&s);
    let uri = format!("/v1/shipments/{shipment}/tracking");
    let (status, body) =
        call(&app, "POST", &uri, Some(json!({"carrier": "fedex", "tracking_number": "794612345678"}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["carrier"], "fedex");
    assert_eq!(body["tracking_url"], "https://www.fedex.com/fedextrack/?trknbr=794612345678");
    assert_eq!(body["destination"]["country"], "US");
    assert_eq!(body["destination"]["postcode"], "10001");
    assert_eq!(body["destination"]["time_zone"], "America/New_York");
    assert!(body["destination"]["point"].is_array(), "{body}");
    assert_eq!(body["fulfillment_id"], "gid://shopify/Fulfillment/1");

    let shopify = s.shopify.clone().unwrap();
    {
        let made = shopify.fulfillments.lock().unwrap();
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].1, "gid://shopify/Order/1001");
        assert_eq!(made[0].2["company"], "FedEx");
        assert_eq!(made[0].2["number"], "794612345678");
    }

    // The same number again: 200 with the record, and no second fulfillment.
    let (status, again) =
        call(&app, "POST", &uri, Some(json!({"carrier": "FedEx", "tracking_number": " 794612345678 "}))).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["fulfillment_id"], "gid://shopify/Fulfillment/1");
    assert_eq!(shopify.fulfillments.lock().unwrap().len(), 1);
    assert!(shopify.refused.lock().unwrap().is_empty());

    // Another number for the tracked shipment.
    let (status, body) =
        call(&app, "POST", &uri, Some(json!({"carrier": "fedex", "tracking_number": "794600000000"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_tracked")));

    // The number of another shipment.
    let other = routed_order(&s, "1002").await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/v1/shipments/{other}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": "794612345678"})),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("tracking_number_taken")));

    let table = TenantTable::new(&*s.tracking.table, "acme");
    assert_eq!(tracking::shipment_for(&table, "fedex", "794612345678").await.unwrap(), Some(shipment));
}

#[tokio::test]
async fn bad_requests_name_what_is_wrong() {
    let s = setup("assign-bad", false).await;
    let shipment = routed_order(&s, "2001").await;
    let app = api(&s);
    let uri = format!("/v1/shipments/{shipment}/tracking");
    let (status, body) = call(&app, "POST", &uri, Some(json!({"carrier": "pigeon", "tracking_number": "1"}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("carrier")));
    let (status, body) = call(&app, "POST", &uri, Some(json!({"carrier": "fedex", "tracking_number": "12 34"}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("tracking_number")));
    let (status, body) = call(&app, "POST", &uri, Some(json!({"carrier": "fedex"}))).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) =
        call(&app, "POST", "/v1/shipments/nope/tracking", Some(json!({"carrier": "fedex", "tracking_number": "1"})))
            .await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_shipment")));
}

#[tokio::test]
async fn a_tenant_without_a_shop_is_tracked_without_a_fulfillment() {
    let s = setup("assign-noshop", false).await;
    let shipment = routed_order(&s, "3001").await;
    let (status, body) = call(
        &api(&s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "parcelnet", "tracking_number": "PN123"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["fulfillment_id"].is_null());
    assert!(body["tracking_url"].is_null());
}
