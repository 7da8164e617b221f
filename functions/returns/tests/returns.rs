//! Returns over the embedded store: an order routed to Manhattan, tracked with the carriers' fixture scans and
//! delivered on 2026-11-20; returns asked for on Friday 2026-12-04.
//!
//! Hand-worked figures used below (rate cards in shared/data/ratecards, policy in shared/data/returns):
//! - one pair of shoes, 450 g = 0.99 lb, billed as 1 lb. From 10001 (New York) to the East Returns Hub at 07102
//!   (Newark, about 9 miles): Postal Ground zone 1 (≤ 50 mi) 6.40 + peak 0.60 = 7.00 USD; National Ground zone 2
//!   (≤ 150 mi) 10.65 + fuel 19 % of 10.65 = 2.02 + peak 0.45 = 13.12; to the West Warehouse at 91761 (Ontario CA,
//!   over 1800 mi) National Ground zone 8 13.90 + fuel 2.64 + peak 0.45 = 16.99. Cheapest: the East hub by
//!   Postal Ground, 7.00 USD, at most 3 business days (zone 1: 2–3).
//! - the socks, 100 g, bill as 1 lb too: 7.00 USD by the same line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use common::{
    FedexLabels, RETURN_NUMBER, api, api_of, call, call_raw, delivered_order, one_pair, return_scans, routed_order,
    setup,
};
use jiff::SignedDuration;
use lastmile_core::returns::policy::{BUILTIN, Policy};
use lastmile_fn_returns::Returns;
use lastmile_fn_tracking::Tracking;
use lastmile_platform::ports::blob::sha256_hex;
use lastmile_platform::ports::table::{Condition, Item, Key, Page, Query, StoreError, TableStore, TenantTable, Write};
use lastmile_platform::repo::{personal, returns};
use serde_json::json;

#[tokio::test]
async fn a_return_is_created_once_per_client_key() {
    let s = setup("create", None).await;
    delivered_order(&s, "1001").await;
    let app = api(&s);
    let (status, created) = call(&app, "POST", "/v1/returns", Some(one_pair("1001", "key-1")), &[]).await;
    assert_eq!(status, 201, "{created}");
    let rma = created["rma"].as_str().unwrap().to_owned();
    assert_eq!(rma, lastmile_core::returns::rma_number("acme", "key-1"));
    assert_eq!(created["status"], "approved");
    let history: Vec<&str> =
        created["history"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["requested", "approved"]);
    // Delivered Nov 20 (New York), window 30 days: open until Dec 20.
    assert_eq!(created["eligibility"]["delivered_on"], "2026-11-20");
    assert_eq!(created["eligibility"]["open_until"], "2026-12-20");
    assert_eq!(created["destination"]["id"], "us-east-returns");
    assert_eq!(created["destination"]["transit_days"], 3);
    assert_eq!(
        created["destination"]["explanation"],
        "cheapest, then fastest, of: us-east-returns via us-postal-ground 700 USD (3 business days); us-east-returns \
         via us-national-ground 1312 USD (1 business days); us-west-warehouse via us-national-ground 1699 USD (7 \
         business days)"
    );
    assert_eq!(created["label_quote"]["line"], "us-postal-ground");
    assert_eq!(created["label_quote"]["total_minor"], 700);
    // New $89.00: restock 100 % = 8900, liquidate 30 % = 2670; 7.00 + 3.00 handling = 10.00 ≤ 50 % of 89.00.
    assert_eq!(created["disposition"]["disposition"], "restock");
    assert_eq!(created["disposition"]["cost_minor"], 1000);
    assert_eq!(
        created["disposition"]["explanation"],
        "new item: restock 100 % of 89.00 USD = 89.00 USD, liquidate 30 % of 89.00 USD = 26.70 USD; return \
         shipping 7.00 USD + handling 3.00 USD = 10.00 USD is not more than 50 % of 89.00 USD: restock"
    );
    // Nothing personal in the answer.
    assert!(!created.to_string().contains("Sam Buyer") && !created.to_string().contains("photo-1"));

    // The same key again, in the body or as the header: the same return, 200.
    let (status, again) = call(&app, "POST", "/v1/returns", Some(one_pair("1001", "key-1")), &[]).await;
    assert_eq!((status, &again), (200, &created));
    let mut headed = one_pair("1001", "unused");
    headed.as_object_mut().unwrap().remove("client_key");
    let (status, again) = call(&app, "POST", "/v1/returns", Some(headed), &[("Idempotency-Key", "key-1")]).await;
    assert_eq!((status, again["rma"].as_str()), (200, Some(rma.as_str())));

    // Four retries of another key at once: one return, the second pair.
    let calls = (0..4).map(|_| {
        let app = app.clone();
        async move { call(&app, "POST", "/v1/returns", Some(one_pair("1001", "key-2")), &[]).await }
    });
    let answers = futures_join_all(calls).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 201], "{answers:?}");
    assert!(answers.iter().all(|(_, b)| b["rma"] == answers[0].1["rma"]));
    let table = TenantTable::new(&*s.tracking.table, "acme");
    assert_eq!(returns::of_order(&table, "1001", 10).await.unwrap().len(), 2);
    let counted = returns::returned(&table, "1001").await.unwrap().unwrap().value;
    assert_eq!(counted.returned.get("SHOE-42"), Some(&2));

    // Both pairs are back: a third is refused, and the list shows the two.
    let (status, refused) = call(&app, "POST", "/v1/returns", Some(one_pair("1001", "key-3")), &[]).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("items[0].quantity")), "{refused}");
    let (status, listed) = call(&app, "GET", "/v1/returns?order=1001", None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(listed["returns"].as_array().unwrap().len(), 2);

    // A key already used for another order.
    delivered_order(&s, "1002").await;
    let (status, reused) = call(&app, "POST", "/v1/returns", Some(one_pair("1002", "key-1")), &[]).await;
    assert_eq!((status, reused["error"]["code"].as_str()), (409, Some("client_key_reused")));
}

/// A store that holds the first read of one key until the test lets it go, so that two requests interleave
/// there every time rather than when the scheduler happens to.
struct HeldRead {
    inner: Arc<dyn TableStore>,
    key: Key,
    /// Told when the read arrives; the read goes on when the other end is told.
    hold: std::sync::Mutex<Option<(tokio::sync::oneshot::Sender<()>, tokio::sync::oneshot::Receiver<()>)>>,
}

#[async_trait]
impl TableStore for HeldRead {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let hold = if *key == self.key { self.hold.lock().unwrap().take() } else { None };
        if let Some((arrived, release)) = hold {
            arrived.send(()).unwrap();
            release.await.unwrap();
        }
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.inner.transact(writes).await
    }
    async fn scan_prefix(&self, pk_prefix: &str, after: Option<&Key>, limit: usize) -> Result<Page, StoreError> {
        self.inner.scan_prefix(pk_prefix, after, limit).await
    }
}

/// Request A finds no return under its key, then reads the order's returned quantities only after request B,
/// with the same key, has taken back both pairs: A's own key made that return, so A answers it (200) rather than
/// refusing the pairs as returned already (422).
#[tokio::test]
async fn a_request_overtaken_by_its_own_key_answers_the_return_that_key_made() {
    let s = setup("overtaken", None).await;
    delivered_order(&s, "1001").await;
    let (arrived, arrival) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel();
    let returned = returns::returned_key("1001");
    let table = Arc::new(HeldRead {
        inner: s.tracking.table.clone(),
        key: Key::new(format!("acme#{}", returned.pk), returned.sk),
        hold: std::sync::Mutex::new(Some((arrived, released))),
    });
    let tracking = Arc::new(Tracking {
        registry: s.tracking.registry.clone(),
        table,
        blobs: s.tracking.blobs.clone(),
        fulfillments: s.tracking.fulfillments.clone(),
        clock: s.tracking.clock.clone(),
    });
    let returns = Returns {
        tracking,
        carriers: s.returns.carriers.clone(),
        policy: s.returns.policy.clone(),
        destinations: s.returns.destinations.clone(),
    };
    let app = api_of(&s, Arc::new(returns));
    let both_pairs = json!({"order_id": "1001", "client_key": "key-both", "items": [
        {"sku": "SHOE-42", "quantity": 2, "reason": "wrong_size", "photos": ["blobs/acme/photo-1.jpg"]}
    ]});

    let first = tokio::spawn({
        let (app, body) = (app.clone(), both_pairs.clone());
        async move { call(&app, "POST", "/v1/returns", Some(body), &[]).await }
    });
    arrival.await.unwrap();
    let (status, made) = call(&app, "POST", "/v1/returns", Some(both_pairs), &[]).await;
    assert_eq!(status, 201, "{made}");
    release.send(()).unwrap();
    let (status, answered) = first.await.unwrap();
    assert_eq!((status, &answered), (200, &made));

    let table = TenantTable::new(&*s.tracking.table, "acme");
    assert_eq!(returns::of_order(&table, "1001", 10).await.unwrap().len(), 1);
    let counted = returns::returned(&table, "1001").await.unwrap().unwrap().value;
    assert_eq!(counted.returned.get("SHOE-42"), Some(&2));
}

async fn futures_join_all<F: std::future::Future<Output = (u16, serde_json::Value)> + Send + 'static>(
    calls: impl Iterator<Item = F>,
) -> Vec<(u16, serde_json::Value)> {
    let handles: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn each_refusal_is_a_422_naming_its_field() {
    let s = setup("refusals", None).await;
    delivered_order(&s, "2001").await;
    let app = api(&s);
    let ask = |items: serde_json::Value| json!({"order_id": "2001", "client_key": "k", "items": items});
    let cases = [
        (
            json!([{"sku": "SHOE-42", "quantity": 3, "reason": "wrong_size"}]),
            "quantity_not_returnable",
            "items[0].quantity",
        ),
        (json!([{"sku": "GIFT-25", "quantity": 1, "reason": "changed_mind"}]), "not_returnable", "items[0].sku"),
        (json!([{"sku": "HAT-1", "quantity": 1, "reason": "changed_mind"}]), "not_in_order", "items[0].sku"),
        (json!([]), "no_items", "items"),
    ];
    for (items, code, field) in cases {
        let (status, body) = call(&app, "POST", "/v1/returns", Some(ask(items)), &[]).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!((body["error"]["code"].as_str(), body["error"]["field"].as_str()), (Some(code), Some(field)));
    }
    // Every refusal of a request is listed.
    let both = ask(
        json!([{"sku": "GIFT-25", "quantity": 1, "reason": "changed_mind"}, {"sku": "SHOE-42", "quantity": 9, "reason": "defective"}]),
    );
    let (_, body) = call(&app, "POST", "/v1/returns", Some(both), &[]).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["items[0].sku", "items[1].quantity"]);

    let (status, body) = call(&app, "POST", "/v1/returns", Some(json!({"order_id": "2001", "items": []})), &[]).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("client_key")));
    let (status, body) = call(&app, "POST", "/v1/returns", Some(one_pair("nope", "k")), &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_order")));
    routed_order(&s, "2002").await;
    let (status, body) = call(&app, "POST", "/v1/returns", Some(one_pair("2002", "k")), &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (422, Some("not_delivered"), Some("order_id"))
    );
    let (status, _) = call(
        &app,
        "POST",
        "/v1/returns",
        Some(json!({"order_id": "2001", "client_key": "k", "items": [], "extra": 1})),
        &[],
    )
    .await;
    assert_eq!(status, 422);

    // Delivered Nov 20 with 30 days: Dec 20 (New York) is still open, Dec 21 is closed.
    s.clock.advance(SignedDuration::from_hours(16 * 24)); // 2026-12-20 15:00 UTC, 10:00 in New York
    let (status, body) = call(&app, "POST", "/v1/returns", Some(one_pair("2001", "on-day-30")), &[]).await;
    assert_eq!(status, 201, "{body}");
    s.clock.advance(SignedDuration::from_hours(24));
    let (status, body) = call(&app, "POST", "/v1/returns", Some(one_pair("2001", "on-day-31")), &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (422, Some("return_window_closed"), Some("delivered_on"))
    );
}

#[tokio::test]
async fn a_cheap_item_is_refunded_without_coming_back_and_the_share_is_data() {
    let s = setup("returnless", None).await;
    delivered_order(&s, "3001").await;
    let app = api(&s);
    let socks = |order: &str, key: &str| json!({"order_id": order, "client_key": key, "items": [{"sku": "SOCK-1", "quantity": 1, "reason": "changed_mind"}]});
    let (status, body) = call(&app, "POST", "/v1/returns", Some(socks("3001", "s1")), &[]).await;
    assert_eq!(status, 201, "{body}");
    // New $5.00: restock 500; 7.00 + 3.00 = 10.00 is more than 50 % of 5.00 = 2.50: the buyer keeps them.
    assert_eq!(body["disposition"]["disposition"], "returnless_refund");
    assert_eq!(
        body["disposition"]["explanation"],
        "new item: restock 100 % of 5.00 USD = 5.00 USD, liquidate 30 % of 5.00 USD = 1.50 USD; return shipping \
         7.00 USD + handling 3.00 USD = 10.00 USD is more than 50 % of 5.00 USD: the buyer keeps it"
    );
    assert_eq!(body["status"], "refunded");
    // No label for what stays with the buyer: refunded → label issued is no move of the lifecycle.
    let rma = body["rma"].as_str().unwrap();
    let (status, body) = call(&app, "POST", &format!("/v1/returns/{rma}/label"), None, &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("illegal_move")), "{body}");

    // With a share of 250 %, 10.00 is not more than 2.5 × 5.00 = 12.50: the socks come back to be restocked.
    let lenient =
        Policy::from_toml(&BUILTIN.replace("returnless_share_bp = 5000", "returnless_share_bp = 25000")).unwrap();
    let returns = Arc::new(Returns {
        policy: Arc::new(lenient),
        ..Returns::builtin(s.tracking.clone(), Arc::new(lastmile_fn_tracking::labels::NoCarrierConnected)).unwrap()
    });
    let context =
        lastmile_platform::tenants::TenantContext { tenant: s.registry.tenant("acme").unwrap(), key_id: "test".into() };
    let lenient_app = lastmile_fn_returns::api::router(returns).layer(axum::Extension(context));
    delivered_order(&s, "3002").await;
    let (status, body) = call(&lenient_app, "POST", "/v1/returns", Some(socks("3002", "s2")), &[]).await;
    assert_eq!(
        (status, body["disposition"]["disposition"].as_str(), body["status"].as_str()),
        (201, Some("restock"), Some("approved")),
        "{body}"
    );
}

#[tokio::test]
async fn without_a_carrier_the_own_zpl_label_is_stored_and_checked_on_read() {
    let s = setup("own-label", None).await;
    delivered_order(&s, "4001").await;
    let app = api(&s);
    let (_, created) = call(&app, "POST", "/v1/returns", Some(one_pair("4001", "k")), &[]).await;
    let rma = created["rma"].as_str().unwrap().to_owned();
    let uri = format!("/v1/returns/{rma}/label");
    let (status, issued) = call(&app, "POST", &uri, None, &[]).await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["status"], "label_issued");
    assert_eq!(issued["label"]["source"], "own");
    assert!(issued["label"]["tracking_number"].is_null());
    let (status, document) = call_raw(&app, "GET", &uri, None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(issued["label"]["sha256"], sha256_hex(&document));
    let zpl = String::from_utf8(document).unwrap();
    assert!(zpl.starts_with("^XA\n") && zpl.ends_with("^XZ\n"));
    assert!(zpl.contains(&format!("^BCN,180,Y,N,N^FH^FD>:{rma}^FS")), "the RMA as a Code 128 barcode");
    assert!(
        zpl.contains("^FDSam Buyer^FS")
            && zpl.contains("^FDEast Returns Hub^FS")
            && zpl.contains("^FDNewark NJ 07102^FS")
    );

    // Issued once: the same label again.
    let (status, again) = call(&app, "POST", &uri, None, &[]).await;
    assert_eq!((status, &again["label"]), (200, &issued["label"]));

    // No carrier number to follow: the hub receives the parcel as it inspects it. Found as stated (new $89.00):
    // restock 8900; the label is spent, handling 3.00 ≤ 50 % of 89.00.
    let inspect = format!("/v1/returns/{rma}/inspection");
    let (status, inspected) = call(&app, "POST", &inspect, Some(json!({"finding": "ok"})), &[]).await;
    assert_eq!(status, 200, "{inspected}");
    let history: Vec<&str> =
        inspected["history"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["requested", "approved", "label_issued", "received", "inspected", "disposed"]);
    assert_eq!(inspected["final_disposition"]["disposition"], "restock");

    // A document changed in the store is refused.
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let key = returns::get(&table, &rma).await.unwrap().unwrap().value.label.unwrap().blob_key;
    s.tracking.blobs.put(&key, b"^XA^FDforged^FS^XZ", "application/zpl").await.unwrap();
    let (status, body) = call(&app, "GET", &uri, None, &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("label_hash_mismatch")));
}

#[tokio::test]
async fn the_return_parcels_scans_move_it_and_inspection_disposes_of_it() {
    let carrier = Arc::new(FedexLabels::default());
    let s = setup("lifecycle", Some(carrier.clone())).await;
    delivered_order(&s, "5001").await;
    let app = api(&s);
    let (_, created) = call(&app, "POST", "/v1/returns", Some(one_pair("5001", "k")), &[]).await;
    let rma = created["rma"].as_str().unwrap().to_owned();
    // No label yet, so nothing can have arrived: approved → inspected is no move of the lifecycle.
    let inspect = format!("/v1/returns/{rma}/inspection");
    let (status, body) = call(&app, "POST", &inspect, Some(json!({"finding": "ok"})), &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("illegal_move")), "{body}");
    let (status, issued) =
        call(&app, "POST", &format!("/v1/returns/{rma}/label"), Some(json!({"format": "zpl"})), &[]).await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(
        (issued["label"]["carrier"].as_str(), issued["label"]["tracking_number"].as_str()),
        (Some("fedex"), Some(RETURN_NUMBER))
    );
    let (status, _) = call(&app, "POST", &format!("/v1/returns/{rma}/label"), None, &[]).await;
    assert_eq!((status, carrier.sold.load(Ordering::SeqCst)), (200, 1), "bought once");
    {
        let requests = carrier.requests.lock().unwrap();
        assert_eq!(requests[0].idempotency_key, format!("acme/{rma}"));
        assert_eq!(
            (requests[0].line.as_str(), requests[0].warehouse.as_str()),
            ("us-postal-ground", "us-east-returns")
        );
    }
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let parcel = returns::parcel_id(&rma);
    assert_eq!(
        lastmile_platform::repo::tracking::shipment_for(&table, "fedex", RETURN_NUMBER).await.unwrap(),
        Some(parcel)
    );

    // FedEx picks it up: in transit, read when asked.
    let picked_up = return_scans(&[("2026-12-04T16:30:00-05:00", "PU", "Picked up")]);
    s.tracking.handle(&common::batch("fedex", RETURN_NUMBER, picked_up)).await.unwrap();
    let (_, body) = call(&app, "GET", &format!("/v1/returns/{rma}"), None, &[]).await;
    assert_eq!(body["status"], "in_transit", "{body}");

    // Delivered to the hub; the scheduled sweep moves it without anyone asking. A repeated scan changes nothing.
    let scans = return_scans(&[
        ("2026-12-04T16:30:00-05:00", "PU", "Picked up"),
        ("2026-12-07T10:15:00-05:00", "DL", "Delivered"),
    ]);
    s.tracking.handle(&common::batch("fedex", RETURN_NUMBER, scans.clone())).await.unwrap();
    assert_eq!(lastmile_fn_returns::progress::sweep(&s.returns, "acme").await.unwrap(), 1);
    s.tracking.handle(&common::batch("fedex", RETURN_NUMBER, scans)).await.unwrap();
    assert_eq!(lastmile_fn_returns::progress::sweep(&s.returns, "acme").await.unwrap(), 0);
    let stored = returns::get(&table, &rma).await.unwrap().unwrap().value;
    let history: Vec<&str> = stored.history.iter().map(|m| m.status.as_str()).collect();
    assert_eq!(history, ["requested", "approved", "label_issued", "in_transit", "received"]);
    assert_eq!(stored.history[4].at, "2026-12-07T15:15:00Z".parse().unwrap());
    // The return parcel's scans are no delivery: nothing for the KPI roll-up.
    let tracked = lastmile_platform::repo::tracking::get(&table, &returns::parcel_id(&rma)).await.unwrap().unwrap();
    assert_eq!((tracked.value.kpi_pending(), tracked.value.facts), (false, None));

    // Found damaged: liquidate 10 % of 89.00 = 8.90; the label is spent, handling 3.00 ≤ 50 % of 8.90 = 4.45.
    let (status, body) =
        call(&app, "POST", &inspect, Some(json!({"finding": "damaged", "note": "crushed box"})), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "disposed");
    assert_eq!(body["final_disposition"]["disposition"], "liquidate");
    assert_eq!(
        body["final_disposition"]["explanation"],
        "damaged item: liquidate 10 % of 89.00 USD = 8.90 USD; return shipping 0.00 USD + handling 3.00 USD = 3.00 \
         USD is not more than 50 % of 8.90 USD: liquidate"
    );
    let (status, body) = call(&app, "POST", &inspect, Some(json!({"finding": "ok"})), &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("illegal_move")));
}

#[tokio::test]
async fn erasing_the_customer_erases_the_returns_personal_data_and_label() {
    let s = setup("erasure", None).await;
    delivered_order(&s, "6001").await;
    let app = api(&s);
    let (_, created) = call(&app, "POST", "/v1/returns", Some(one_pair("6001", "k")), &[]).await;
    let rma = created["rma"].as_str().unwrap().to_owned();
    let (status, _) = call(&app, "POST", &format!("/v1/returns/{rma}/label"), None, &[]).await;
    assert_eq!(status, 201);
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let owner = returns::key(&rma).pk;
    let kept = personal::get(&table, &owner, returns::PERSONAL.kind).await.unwrap().unwrap().value;
    assert_eq!(kept.data["buyer_address"]["name"], "Sam Buyer");
    assert_eq!(kept.data["photos"]["SHOE-42"][0], "blobs/acme/photo-1.jpg");
    assert_eq!(kept.customer.as_deref(), Some("shopify-7001"));

    let request: lastmile_platform::privacy::CustomerRedact =
        serde_json::from_value(json!({"customer": {"id": 7001}, "orders_to_redact": []})).unwrap();
    lastmile_platform::privacy::redact_customer(&*s.tracking.table, &*s.tracking.blobs, "acme", &request)
        .await
        .unwrap();
    assert!(personal::get(&table, &owner, returns::PERSONAL.kind).await.unwrap().is_none());
    let (status, body) = call(&app, "GET", &format!("/v1/returns/{rma}/label"), None, &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("label_expired")));
    // The return itself stays, with nothing personal in it.
    let (status, body) = call(&app, "GET", &format!("/v1/returns/{rma}"), None, &[]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("label_issued")));
}

/// Damage found when the warehouse opens a return is a claim on the outbound shipment, raised by the claims job
/// even after it reviewed the delivered shipment and found nothing.
#[tokio::test]
async fn a_return_found_damaged_raises_a_damage_claim_on_its_shipment() {
    use lastmile_fn_claims::{Ports, ReturnInspections};
    let s = setup("damage-claim", None).await;
    // On the courier line, whose terms cover $100 a parcel (the postal one covers nothing uninsured).
    let mut config = (*s.registry.tenant("acme").unwrap()).clone();
    config.rating.lines = vec!["us-national-ground".into()];
    s.registry.put_tenant(config).await.unwrap();
    let shipment = delivered_order(&s, "4101").await;
    let table_store = s.tracking.table.clone();
    let ports = Ports {
        table: table_store.clone(),
        clock: s.clock.clone(),
        inspections: Arc::new(ReturnInspections { table: table_store.clone() }),
    };
    let acme = s.registry.tenant("acme").unwrap();
    let today = jiff::civil::date(2026, 12, 4);
    let before = lastmile_fn_claims::run(&ports, &acme, today).await.unwrap();
    assert!(before.created.is_empty(), "delivered on time and whole: {before:?}");

    let app = api(&s);
    let (_, created) = call(&app, "POST", "/v1/returns", Some(one_pair("4101", "k-damage")), &[]).await;
    let rma = created["rma"].as_str().unwrap().to_owned();
    let (status, _) = call(&app, "POST", &format!("/v1/returns/{rma}/label"), None, &[]).await;
    assert_eq!(status, 201);
    let inspect = format!("/v1/returns/{rma}/inspection");
    let (status, inspected) = call(&app, "POST", &inspect, Some(json!({"finding": "damaged"})), &[]).await;
    assert_eq!(status, 200, "{inspected}");

    let after = lastmile_fn_claims::run(&ports, &acme, today).await.unwrap();
    assert_eq!(after.created, [format!("{shipment}#damaged")]);
    // Goods shipped: 2 × 89.00 + 25.00 + 5.00 = 208.00; capped at the line's 100.00, no deductible: 10000.
    let table = TenantTable::new(&*table_store, "acme");
    let claim = lastmile_platform::repo::claims::get(&table, &format!("{shipment}#damaged")).await.unwrap().unwrap();
    assert_eq!(claim.value.claim.candidate.amount.minor, 10_000);
    assert!(claim.value.claim.candidate.evidence.contains(&rma), "{:?}", claim.value.claim);
    // The job again, and the inspection posted again: nothing new.
    call(&app, "POST", &inspect, Some(json!({"finding": "damaged"})), &[]).await;
    assert!(lastmile_fn_claims::run(&ports, &acme, today).await.unwrap().created.is_empty());
}
