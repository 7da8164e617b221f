//! The dispute pack over the embedded store: a delivered shipment with its POD files verified and reachable
//! through signed links, a tampered file caught in the pack and refused by the link, and tenant isolation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use common::{
    LINK_BASE, Setup, api, batch, call, fixture_events, link_signer, routed_anchorage_order, setup_at, upload_pod,
};
use http_body_util::BodyExt;
use lastmile_fn_tracking::evidence::{PodFiles, pod_files_router};
use lastmile_platform::embedded::blob::FsBlobStore;
use lastmile_platform::ports::clock::SystemClock;
use lastmile_platform::tenants::TenantContext;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Monday 2026-11-16, 09:00 in Anchorage: the order is routed before FedEx's first scan.
const START: &str = "2026-11-16T18:00:00Z";

/// A shipment to Anchorage tracked through FedEx's hand-over to parcelnet and delivered with a signature and a
/// door photo; answers its id and the two files' keys.
async fn delivered(s: &Setup) -> (String, String, String) {
    let shipment = routed_anchorage_order(s, "7001").await;
    let (status, body) = call(
        &api(s),
        "POST",
        &format!("/v1/shipments/{shipment}/tracking"),
        Some(json!({"carrier": "fedex", "tracking_number": "794612345678"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let signature = upload_pod(s, "parcelnet", "PN00998812AK", "PN00998812AK-sig.png", b"sig").await;
    let photo = upload_pod(s, "parcelnet", "PN00998812AK", "PN00998812AK-door.jpg", b"door").await;
    let (fedex, parcelnet) = fixture_events();
    s.tracking.handle(&batch("fedex", "794612345678", fedex)).await.unwrap();
    s.tracking.handle(&batch("parcelnet", "PN00998812AK", parcelnet)).await.unwrap();
    (shipment, signature, photo)
}

fn pod_files(s: &Setup) -> Router {
    pod_files_router(PodFiles { blobs: s.tracking.blobs.clone(), signer: link_signer(), clock: Arc::new(SystemClock) })
}

/// GETs a link (absolute, as the pack gives it) from the POD file route: status, content type, body.
async fn open(files: &Router, link: &str) -> (u16, String, Vec<u8>) {
    let path = link.strip_prefix(LINK_BASE).unwrap_or(link);
    let request = axum::http::Request::builder().uri(path).body(Body::empty()).unwrap();
    let response = files.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn file<'a>(pack: &'a Value, name: &str) -> &'a Value {
    pack["pod"]["files"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()
}

#[tokio::test]
async fn a_delivered_shipment_has_a_pack_with_verified_files_behind_working_links() {
    let s = setup_at("evidence-pack", false, START).await;
    let (shipment, signature_key, _) = delivered(&s).await;
    let (status, pack) = call(&api(&s), "GET", &format!("/v1/shipments/{shipment}/evidence"), None).await;
    assert_eq!(status, 200, "{pack}");
    assert_eq!(pack["shipment"]["id"], shipment);
    assert_eq!(pack["status"], "delivered");
    assert_eq!(pack["destination"]["postcode"], "99501");
    // Six FedEx scans and four parcelnet ones, over two legs, oldest first.
    let events = pack["events"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    assert_eq!(pack["legs"].as_array().unwrap().len(), 2);
    let times: Vec<jiff::Timestamp> =
        events.iter().map(|e| e["occurred_at"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(events.last().unwrap()["status"], "delivered");
    // The recipient and the GPS come from the personal item, for the pack only.
    assert_eq!(pack["pod"]["recipient_name"], "J. SAMPLE");
    assert_eq!(pack["pod"]["gps"], json!([61.21705, -149.89021]));
    let checks: Vec<&str> =
        pack["assessment"]["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(checks.contains(&"gps_near_address") && checks.contains(&"delivery_time_plausible"), "{checks:?}");
    assert_eq!(pack["assessment"]["suspect_delivery"], false);
    assert_eq!(pack["rules"]["area"], pack["destination"]["area"]);
    assert!(pack["rules"]["max_distance_m"].is_u64(), "{}", pack["rules"]);

    // The SHA-256 of the three bytes "sig", as `printf sig | sha256sum` prints it.
    let sig = file(&pack, "PN00998812AK-sig.png");
    assert_eq!(sig["sha256"], "a543997d84f12798350c09bdef2cdb171bf41ed3e4a5f808af2feb0c56263009");
    assert_eq!(sig["bytes"], 3);
    assert_eq!(sig["verified"], true);
    assert_eq!(file(&pack, "PN00998812AK-door.jpg")["verified"], true);
    let link = sig["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{LINK_BASE}/pod-files/{signature_key}?expires=")), "{link}");
    let (status, content_type, bytes) = open(&pod_files(&s), link).await;
    assert_eq!((status, content_type.as_str(), bytes.as_slice()), (200, "image/png", b"sig".as_slice()));
}

#[tokio::test]
async fn a_tampered_file_is_unverified_in_the_pack_and_its_link_refuses_it() {
    let s = setup_at("evidence-tampered", false, START).await;
    let (shipment, _, photo_key) = delivered(&s).await;
    let path = FsBlobStore::new(s.dir.join("blobs")).bytes_path(&photo_key).unwrap().unwrap();
    std::fs::write(path, b"another door").unwrap();

    let (status, pack) = call(&api(&s), "GET", &format!("/v1/shipments/{shipment}/evidence"), None).await;
    assert_eq!(status, 200, "{pack}");
    let photo = file(&pack, "PN00998812AK-door.jpg");
    assert_eq!(photo["verified"], false);
    assert_eq!(file(&pack, "PN00998812AK-sig.png")["verified"], true);
    let (status, _, body) = open(&pod_files(&s), photo["link"].as_str().unwrap()).await;
    assert_eq!(status, 409);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "pod_hash_mismatch");
    assert!(!String::from_utf8_lossy(&body).contains("another door"), "the bytes are withheld");
}

#[tokio::test]
async fn links_with_a_bad_signature_or_past_their_expiry_are_refused() {
    let s = setup_at("evidence-links", false, START).await;
    let (_, signature_key, _) = delivered(&s).await;
    let files = pod_files(&s);
    let signer = link_signer();
    let past = jiff::Timestamp::now().as_second() - 1;
    let (status, _, body) = open(&files, &signer.path(&signature_key, past).unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], "link_expired");
    let later = jiff::Timestamp::now().as_second() + 600;
    let forged = lastmile_platform::embedded::links::LinkSigner::new([1; 32]).path(&signature_key, later).unwrap();
    let (status, _, body) = open(&files, &forged).await;
    assert_eq!(status, 403);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], "invalid_link");
    let (status, _, _) = open(&files, &format!("/pod-files/{signature_key}")).await;
    assert_eq!(status, 403, "no signature at all");
    let (status, _, bytes) = open(&files, &signer.path(&signature_key, later).unwrap()).await;
    assert_eq!((status, bytes.as_slice()), (200, b"sig".as_slice()));
}

#[tokio::test]
async fn another_tenants_shipment_and_an_unknown_one_are_not_found() {
    let s = setup_at("evidence-tenants", false, START).await;
    let (shipment, _, _) = delivered(&s).await;
    s.registry.put_tenant(lastmile_platform::config::TenantConfig::sample("globex")).await.unwrap();
    let globex = TenantContext { tenant: s.registry.tenant("globex").unwrap(), key_id: "test".into() };
    let as_globex = lastmile_fn_tracking::api::router(s.tracking.clone()).layer(axum::Extension(globex));
    let (status, body) = call(&as_globex, "GET", &format!("/v1/shipments/{shipment}/evidence"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_shipment")), "{body}");
    assert!(!body.to_string().contains("J. SAMPLE"));
    let (status, body) = call(&api(&s), "GET", "/v1/shipments/nope/evidence", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_shipment")), "{body}");
}
