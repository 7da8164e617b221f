//! The duty routes over HTTP: the landed cost of the acceptance parcel on both sides of the EU change, the
//! pre-check's acceptance problems, the invoice in both formats, and bad input answered with 4xx JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_core::duty::rules::Rules;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::tenants::TenantContext;
use serde_json::{Value, json};
use tower::ServiceExt;

fn api() -> Router {
    let context = TenantContext { tenant: Arc::new(TenantConfig::sample("acme")), key_id: "test".into() };
    lastmile_fn_duty::router(Arc::new(Rules::builtin().unwrap().clone())).layer(axum::Extension(context))
}

async fn post(path: &str, body: &str) -> (u16, String, String) {
    let request = axum::http::Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = api().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post_json(path: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = post(path, &body.to_string()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn chair(date: &str) -> Value {
    json!({"to": "DE", "from": "CN", "date": date, "incoterm": "DDP", "reference": "INV-1001",
        "seller": {"name": "Acme Furniture", "country": "CN", "eori": "DE123456789012345"},
        "buyer": {"name": "Erika Mustermann", "address": ["Musterstraße 1", "20095 Hamburg"], "country": "DE"},
        "lines": [{"description": "Upholstered armchair, beech frame", "hs_code": "9401.61.00", "origin": "CN",
            "unit_value": "120.00 EUR", "quantity": 1, "unit_weight_g": 12000}]})
}

#[tokio::test]
async fn landed_cost_differs_across_the_eu_change_of_2026_07_01() {
    // Hand-worked in shared/core/tests/duty_goldens.rs: relief → VAT 22.80; flat €3 → VAT 23.37.
    let (status, before) = post_json("/v1/landed-cost", &chair("2026-06-30")).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        (before["totals"]["duty"]["minor"].as_i64(), before["totals"]["tax"]["minor"].as_i64()),
        (Some(0), Some(2280))
    );
    let (_, after) = post_json("/v1/landed-cost", &chair("2026-11-25")).await;
    assert_eq!(
        (after["totals"]["duty"]["minor"].as_i64(), after["totals"]["tax"]["minor"].as_i64()),
        (Some(300), Some(2337))
    );
    assert!(after["regime"]["sources"][0]["source"].as_str().unwrap().contains("2026/382"));
}

#[tokio::test]
async fn bad_shipments_are_4xx_json_with_the_field() {
    let (status, body) = post_json("/v1/landed-cost", &json!({"to": "DE"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["code"].is_string());
    let mut wrong_date = chair("2026-11-25");
    wrong_date["date"] = "25/11/2026".into();
    let (status, body) = post_json("/v1/landed-cost", &wrong_date).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("date")), "{body}");
    let mut unknown = chair("2026-11-25");
    unknown["to"] = "BR".into();
    let (status, body) = post_json("/v1/landed-cost", &unknown).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("unsupported_destination")));
    let (status, _, text) = post("/v1/landed-cost", "{not json").await;
    assert_eq!(status, 400, "{text}");
    let huge = format!("{{\"to\":\"{}\"}}", "x".repeat(lastmile_fn_duty::MAX_DUTY_BODY_BYTES));
    let (status, _, _) = post("/v1/landed-cost", &huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn precheck_flags_a_missing_ioss_number_and_a_gift_description() {
    // EU, DDP, intrinsic value €40 ≤ €150 and no IOSS number; "Gift" alone as the description.
    let body = json!({"to": "FR", "from": "CN", "date": "2026-11-25", "incoterm": "DDP",
        "seller": {"eori": "FR12345678901234"},
        "lines": [{"description": "Gift", "hs_code": "61091000", "origin": "CN", "unit_value": "40.00 EUR", "quantity": 1}]});
    let (status, answer) = post_json("/v1/customs/precheck", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ready"], false);
    let problems = answer["problems"].as_array().unwrap();
    let find =
        |code: &str| problems.iter().find(|p| p["code"] == code).unwrap_or_else(|| panic!("no {code}: {answer}"));
    assert_eq!(find("missing_ioss_number")["severity"], "blocking");
    assert_eq!(find("missing_ioss_number")["field"], "seller.ioss_number");
    assert_eq!(find("vague_description")["field"], "lines[0].description");
    // Fixed, the same shipment is ready.
    let mut fixed = body.clone();
    fixed["seller"]["ioss_number"] = "IM2500000001".into();
    fixed["lines"][0]["description"] = "Men's cotton T-shirt, knitted".into();
    let (_, answer) = post_json("/v1/customs/precheck", &fixed).await;
    assert_eq!(answer["ready"], true, "{answer}");
}

#[tokio::test]
async fn the_invoice_comes_as_json_or_printable_html() {
    let (status, invoice) = post_json("/v1/customs/invoice", &chair("2026-11-25")).await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["number"], "INV-1001");
    assert_eq!(invoice["lines"][0]["hs_code"], "94016100");
    assert_eq!(invoice["totals"]["invoice_total"]["minor"], 12000);
    let (status, content_type, html) = post("/v1/customs/invoice?format=html", &chair("2026-11-25").to_string()).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("INV-1001") && html.contains("94016100") && html.contains("Musterstraße 1"));
    let (status, _, text) = post("/v1/customs/invoice?format=pdf", &chair("2026-11-25").to_string()).await;
    assert_eq!(status, 400, "{text}");
}
