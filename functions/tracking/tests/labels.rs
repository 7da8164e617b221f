//! Labels through the port: bought once per shipment whatever the retries, kept with their hash, the shipment
//! tracked under their number; refused plainly while no carrier is connected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use common::{api, call, routed_order, setup};
use http_body_util::BodyExt;
use lastmile_fn_tracking::labels::{
    self, LabelError, LabelPurchase, LabelRecord, LabelRequest, Labels, NoCarrierConnected, PurchasedLabel,
};
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo;
use lastmile_platform::tenants::TenantContext;
use serde_json::json;
use tower::ServiceExt;

/// A carrier account that sells one label per idempotency key, as carriers' label APIs do, and counts sales.
#[derive(Default)]
struct CarrierAccount {
    sold: Mutex<Vec<LabelRequest>>,
}

#[async_trait]
impl LabelPurchase for CarrierAccount {
    async fn buy(&self, _: &str, request: &LabelRequest) -> Result<PurchasedLabel, LabelError> {
        let mut sold = self.sold.lock().unwrap();
        let n = match sold.iter().position(|r| r.idempotency_key == request.idempotency_key) {
            Some(i) => i,
            None => {
                sold.push(request.clone());
                sold.len() - 1
            }
        };
        let number = format!("794600{n:06}");
        let zpl = format!("^XA^FO50,50^A0N,40,40^FD{}^FS^FO50,120^BCN,100,Y,N,N^FD{number}^FS^XZ", request.reference);
        Ok(PurchasedLabel {
            carrier: "FedEx".into(),
            tracking_number: number,
            document: zpl.into_bytes(),
            cost: Some((1234, "USD".into())),
        })
    }
}

fn label_api(s: &common::Setup, carriers: Arc<dyn LabelPurchase>) -> axum::Router {
    let context = TenantContext { tenant: s.registry.tenant("acme").unwrap(), key_id: "test".into() };
    labels::router(Arc::new(Labels { tracking: s.tracking.clone(), carriers })).layer(axum::Extension(context))
}

async fn get_bytes(app: &axum::Router, uri: &str) -> (u16, String, Vec<u8>) {
    let request = axum::http::Request::builder().uri(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn a_label_is_bought_once_kept_with_its_hash_and_tracks_the_shipment() {
    let s = setup("label-buy", false).await;
    let shipment = routed_order(&s, "5001").await;
    let account = Arc::new(CarrierAccount::default());
    let app = label_api(&s, account.clone());
    let uri = format!("/v1/shipments/{shipment}/label");

    let (status, body) = call(&app, "POST", &uri, Some(json!({"format": "zpl"}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["carrier"].as_str(), body["tracking_number"].as_str()), (Some("fedex"), Some("794600000000")));
    assert_eq!(body["tracking"]["tracking_number"], "794600000000");
    assert_eq!(body["tracking"]["destination"]["postcode"], "10001");
    assert_eq!((body["cost_minor"].as_i64(), body["currency"].as_str()), (Some(1234), Some("USD")));
    {
        let sold = account.sold.lock().unwrap();
        assert_eq!(sold.len(), 1);
        assert_eq!(sold[0].idempotency_key, format!("acme/{shipment}"));
        assert_eq!(sold[0].reference, "5001");
        assert_eq!(sold[0].ship_to["postcode"], "10001", "the routed address, standardized: {}", sold[0].ship_to);
        assert_eq!(sold[0].units[0].sku, "MUG-1");
    }

    // The tracking API sees the shipment tracked under the label's number.
    let (status, tracked) = call(
        &api(&s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": body["carrier"], "tracking_number": "794600000000"})),
    )
    .await;
    assert_eq!(status, 200, "{tracked}");

    // A retry answers the same label; nothing bought again.
    let (status, again) = call(&app, "POST", &uri, None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["sha256"], body["sha256"]);
    assert_eq!(account.sold.lock().unwrap().len(), 1);

    let (status, kind, document) = get_bytes(&app, &uri).await;
    assert_eq!((status, kind.as_str()), (200, "application/zpl"));
    let text = String::from_utf8(document).unwrap();
    assert!(text.starts_with("^XA") && text.contains("^BCN") && text.contains("794600000000"), "{text}");
    assert_eq!(lastmile_platform::ports::blob::sha256_hex(text.as_bytes()), body["sha256"].as_str().unwrap());

    // The document is a customer file: under `personal/{tenant}/`, where erasure and the lifecycle rule look.
    let table = TenantTable::new(&*s.tracking.table, "acme");
    let record: LabelRecord = repo::load(&table, &labels::label_key(&shipment)).await.unwrap().unwrap().value;
    assert!(record.blob_key.starts_with("personal/acme/"), "{}", record.blob_key);

    // A changed document is refused, not served.
    s.tracking.blobs.put(&record.blob_key, b"^XA^FDforged^FS^XZ", "application/zpl").await.unwrap();
    let (status, _, body) = get_bytes(&app, &uri).await;
    assert_eq!(status, 409);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["error"]["code"], "label_hash_mismatch");
}

#[tokio::test]
async fn without_a_connected_carrier_the_answer_says_what_to_do_and_nothing_is_stored() {
    let s = setup("label-none", false).await;
    let shipment = routed_order(&s, "5002").await;
    let app = label_api(&s, Arc::new(NoCarrierConnected));
    let uri = format!("/v1/shipments/{shipment}/label");
    let (status, body) = call(&app, "POST", &uri, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("carrier_not_connected")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("/tracking"));
    let table = TenantTable::new(&*s.tracking.table, "acme");
    assert!(lastmile_platform::repo::tracking::get(&table, &shipment).await.unwrap().is_none());
    assert_eq!(get_bytes(&app, &uri).await.0, 404);

    let (status, body) = call(&app, "POST", "/v1/shipments/nope/label", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_shipment")));
    let (status, body) = call(&app, "POST", &uri, Some(json!({"format": "gif"}))).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_shipment_tracked_under_another_number_gets_no_label() {
    let s = setup("label-tracked", false).await;
    let shipment = routed_order(&s, "5003").await;
    let (status, _) = call(
        &api(&s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": "794699999999"})),
    )
    .await;
    assert_eq!(status, 201);
    let account = Arc::new(CarrierAccount::default());
    let (status, body) =
        call(&label_api(&s, account.clone()), "POST", &format!("/v1/shipments/{shipment}/label"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_tracked")), "{body}");
    assert!(account.sold.lock().unwrap().is_empty(), "nothing bought");
}
