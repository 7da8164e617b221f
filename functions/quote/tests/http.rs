//! The quote routes over HTTP: the rating issue's acceptance shipments through `POST /v1/quote`, and Shopify's
//! documented CarrierService sample request through the callback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::tenants::{KeyScope, TenantContext, TenantRegistry};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn registry(name: &str) -> Arc<TenantRegistry> {
    let dir = std::env::temp_dir().join(format!("lastmile-quote-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let registry = TenantRegistry::open(&dir).unwrap();
    registry.put_tenant(TenantConfig::sample("acme")).await.unwrap();
    Arc::new(registry)
}

fn api() -> Router {
    let context = TenantContext { tenant: Arc::new(TenantConfig::sample("acme")), key_id: "test".into() };
    lastmile_fn_quote::router(Arc::new(lastmile_core::duty::rules::Rules::builtin().unwrap().clone()))
        .layer(axum::Extension(context))
}

async fn post(app: Router, path: &str, body: &str) -> (u16, Value) {
    let request = axum::http::Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn rate<'a>(answer: &'a Value, line: &str) -> &'a Value {
    answer["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"] == line)
        .unwrap_or_else(|| panic!("no rate for {line}: {answer}"))
}

#[tokio::test]
async fn the_anchorage_parcel_shows_billable_weight_remote_surcharge_and_thanksgiving() {
    // 10:00 in New Jersey (15:00 UTC) on Wed 2026-11-25, from the sample tenant's us-nj warehouse (07001).
    let body = json!({"from": "us-nj", "to": {"country": "US", "postcode": "99501"},
        "parcels": [{"weight": "2.3kg", "dims": "40x30x20cm"}], "ship_at": "2026-11-25T15:00:00Z"});
    let (status, answer) = post(api(), "/v1/quote", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    // Hand-worked in shared/core/tests/quote_acceptance.rs: 12 lb billable (volumetric), zone 8, total 102.56.
    let ground = rate(&answer, "us-national-ground");
    assert_eq!(ground["billable"][0]["billable"], 12_000);
    assert_eq!(ground["billable"][0]["basis"], "volumetric");
    assert_eq!(ground["total_minor"], 10_256);
    assert!(ground["breakdown"].as_array().unwrap().iter().any(|c| c["code"] == "remote_area" && c["minor"] == 1650));
    assert_eq!(ground["dates"]["min"], "2026-12-03");
    assert!(ground["dates"]["skipped"].to_string().contains("Thanksgiving"));
    // The regional line does not serve Alaska; the breakdown adds up on every line.
    assert!(answer["excluded"].as_array().unwrap().iter().any(|e| e["line"] == "us-regional-northeast"));
    for r in answer["rates"].as_array().unwrap() {
        let sum: i64 = r["breakdown"].as_array().unwrap().iter().map(|c| c["minor"].as_i64().unwrap()).sum();
        assert_eq!(Some(sum), r["total_minor"].as_i64(), "{}", r["line"]);
    }
}

#[tokio::test]
async fn the_berlin_parcel_skips_christmas() {
    // 10:00 in Hamburg (09:00 UTC) on Wed 2026-12-23, from the de-hh warehouse.
    let body = json!({"from": "de-hh", "to": {"country": "DE", "postcode": "10115", "city": "Berlin"},
        "parcels": [{"weight": "2.3kg", "dims": "40x30x20cm"}], "ship_at": "2026-12-23T09:00:00Z"});
    let (status, answer) = post(api(), "/v1/quote", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let paket = rate(&answer, "de-paket");
    // 6.49 (up to 5 kg) + peak 0.19; day 1 Thu 12-24, Christmas 12-25/26, Sunday, day 2 Mon 12-28.
    assert_eq!(paket["total_minor"], 668);
    assert_eq!(
        (paket["dates"]["min"].as_str(), paket["dates"]["max"].as_str()),
        (Some("2026-12-24"), Some("2026-12-28"))
    );
}

#[tokio::test]
async fn bad_quote_requests_are_4xx_with_the_field() {
    let cases = [
        (json!({"to": {"country": "US", "postcode": "99501"}, "parcels": [{"weight": "heavy"}]}), "parcels[0].weight"),
        (
            json!({"to": {"country": "US", "postcode": "99501"}, "parcels": [{"grams": 100, "dims": "40x30cm"}]}),
            "parcels[0].dims",
        ),
        (json!({"from": "nowhere", "to": {"country": "US", "postcode": "99501"}, "parcels": [{"grams": 100}]}), "from"),
        (json!({"to": {"country": "US"}, "parcels": [{"grams": 100}]}), "to.postcode"),
    ];
    for (body, field) in cases {
        let (status, answer) = post(api(), "/v1/quote", &body.to_string()).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
}

#[tokio::test]
async fn shopify_sample_request_gets_rates_in_shopify_shape() {
    let registry = registry("sample").await;
    let (_, token) = registry.create_scoped_key("acme", "shopify", "t", KeyScope::CarrierService).await.unwrap();
    let app = lastmile_fn_quote::carrier_service_router(registry);
    let body = include_str!("fixtures/shopify_rate_request.json");
    let (status, answer) = post(app.clone(), &format!("/shopify/carrier-service/{token}"), body).await;
    assert_eq!(status, 200, "{answer}");
    let rates = answer["rates"].as_array().unwrap();
    assert!(rates.iter().any(|r| r["service_code"] == "ca-courier-ground"), "{answer}");
    for r in rates {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "currency",
                "description",
                "max_delivery_date",
                "min_delivery_date",
                "service_code",
                "service_name",
                "total_price"
            ]
        );
        assert!(r["total_price"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()), "cents as a string: {r}");
        assert_eq!(r["currency"], "CAD");
        // "2026-11-27 00:00:00 -0500"
        let date = r["min_delivery_date"].as_str().unwrap();
        assert_eq!((date.len(), &date[10..11], &date[19..20]), (25, " ", " "), "{date}");
    }
    // A 1 kg parcel, Ottawa to Ottawa (K → K, zone 1) on the courier line: 11.95 + residential 3.95 = 15.90;
    // fuel 21.50 % of 15.90 = 3.4185 → 3.42. Total 19.32.
    let courier = rates.iter().find(|r| r["service_code"] == "ca-courier-ground").unwrap();
    assert_eq!(courier["total_price"], "1932");

    // A destination with no postal code: still 200, no rates (checkout falls back to backup rates).
    let partial = body.replace("\"K1M1M4\"", "null");
    let (status, answer) = post(app.clone(), &format!("/shopify/carrier-service/{token}"), &partial).await;
    assert_eq!((status, answer), (200, json!({"rates": []})));
    // A wrong token opens nothing.
    let (status, answer) = post(app, "/shopify/carrier-service/lmk_0000", body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("unknown_token")));
}

#[tokio::test]
async fn the_function_on_its_own_resolves_keys_and_answers_json_errors() {
    let registry = registry("app").await;
    let (_, key) = registry.create_key("acme", "k", "t").await.unwrap();
    let app = lastmile_fn_quote::app(registry, Arc::new(lastmile_core::duty::rules::Rules::builtin().unwrap().clone()));
    let body = json!({"to": {"country": "DE", "postcode": "10115"}, "parcels": [{"grams": 1000}]}).to_string();
    let send = |auth: Option<String>, path: &'static str| {
        let mut request = axum::http::Request::post(path).header("content-type", "application/json");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        app.clone().oneshot(request.body(Body::from(body.clone())).unwrap())
    };
    assert_eq!(send(None, "/v1/quote").await.unwrap().status(), 401);
    assert_eq!(send(Some(format!("Bearer {key}")), "/v1/quote").await.unwrap().status(), 200);
    let unknown = send(Some(format!("Bearer {key}")), "/v1/nothing").await.unwrap();
    assert_eq!(unknown.status(), 404);
    let bytes = unknown.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap()["error"]["code"], "not_found");
}

#[tokio::test]
async fn ddp_adds_the_landed_cost_to_cross_border_rates() {
    // From the sample tenant's New Jersey warehouse to Toronto, 1 kg, a USD 100.00 T-shirt of Chinese origin,
    // on Wed 2026-11-25.
    let body = |options: Value| {
        json!({"from": "us-nj", "to": {"country": "CA", "postcode": "M5V 3L9", "city": "Toronto"},
            "parcels": [{"weight": "1kg"}], "ship_at": "2026-11-25T15:00:00Z", "options": options,
            "customs": {"lines": [{"description": "cotton T-shirt", "hs_code": "610910", "origin": "CN",
                "unit_value": "100.00 USD", "quantity": 1}]}})
        .to_string()
    };
    let (status, answer) = post(api(), "/v1/quote", &body(json!(["ddp"]))).await;
    assert_eq!(status, 200, "{answer}");
    let line = rate(&answer, "us-ca-crossborder");
    // Card: zone 1 (M), 1 kg bracket 15.95 + DDP handling 5.00 = 20.95 USD.
    // Customs (sample FX 1 USD = 1.38 CAD from 2026-06-01): goods CAD 138.00, FOB, shipped by courier from the
    // US → ≤ CAD 150 duty-free (Courier Imports Remission Order), > CAD 40 taxed: GST 5 % = 6.90, HST (ON) 8 %
    // = 11.04; 17.94 CAD = 13.00 USD. Total 20.95 + 13.00 = 33.95 USD.
    assert_eq!(line["total_minor"], 3395, "{line}");
    let breakdown: i64 = line["breakdown"].as_array().unwrap().iter().map(|c| c["minor"].as_i64().unwrap()).sum();
    assert_eq!(breakdown, 3395);
    assert!(line["breakdown"].as_array().unwrap().iter().any(|c| c["code"] == "import_tax" && c["minor"] == 1300));
    assert_eq!(line["landed_cost"]["totals"]["tax"]["minor"], 1794);
    assert_eq!(line["landed_cost"]["regime"]["id"], "duty_relief");
    // Without DDP the price is the carriage alone and the landed cost is what the buyer pays on delivery.
    let (_, answer) = post(api(), "/v1/quote", &body(json!([]))).await;
    let line = rate(&answer, "us-ca-crossborder");
    assert_eq!(line["total_minor"], 1595);
    assert_eq!(line["landed_cost"]["totals"]["buyer_pays_on_delivery"]["minor"], 1794);
    // Domestic lines carry no landed cost.
    let (_, answer) = post(
        api(),
        "/v1/quote",
        &json!({"from": "us-nj", "to": {"country": "US", "postcode": "10001"},
        "parcels": [{"weight": "1kg"}], "options": ["ddp"], "customs": {"lines": []}})
        .to_string(),
    )
    .await;
    assert!(answer["rates"].as_array().unwrap().iter().all(|r| r.get("landed_cost").is_none()), "{answer}");
}
