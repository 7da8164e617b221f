//! The application router over HTTP without sockets (`Router::oneshot`): authentication, limits, bad input,
//! batches, the OpenAPI document and log redaction.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lastmile::dev::prepare;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: Router,
    key: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app(name: &str) -> App {
    let dir = std::env::temp_dir().join(format!("lastmile-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = prepare(&dir).await.expect("data dir");
    let key = prepared.new_key.clone().expect("first start creates a key");
    App { router: lastmile::app::router(&prepared), key, _dir: TempDir(dir) }
}

async fn send(app: &App, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.router.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn post(app: &App, path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {}", app.key))
        .header("content-type", "application/json")
        .body(body.into())
        .expect("request")
}

fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[tokio::test]
async fn health_is_open_and_reports_loaded_data() {
    let app = app("health").await;
    let (status, headers, body) = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    // Distinct postcodes of seven countries plus the format and Pub 28 tables.
    assert!(body["reference_rows"].as_u64().unwrap() > 60_000, "{body}");
    assert!(headers.contains_key("x-correlation-id"));
}

#[tokio::test]
async fn validate_needs_a_known_key() {
    let app = app("auth").await;
    let body = r#"{"country":"US","text":"1 main st, springfield il 62701"}"#;
    let no_key = Request::post("/v1/address/validate").body(Body::from(body)).unwrap();
    let (status, headers, json) = send(&app, no_key).await;
    assert_error(status, &json, 401, "missing_api_key");
    assert_eq!(headers["www-authenticate"], "Bearer");
    let wrong = Request::post("/v1/address/validate")
        .header("authorization", "Bearer lmk_0000000000000000000000000000000000000000000000000000000000000000")
        .body(Body::from(body))
        .unwrap();
    let (status, _, json) = send(&app, wrong).await;
    assert_error(status, &json, 401, "invalid_api_key");
    let via_header =
        Request::post("/v1/address/validate").header("x-api-key", &app.key).body(Body::from(body)).unwrap();
    assert_eq!(send(&app, via_header).await.0, StatusCode::OK);
}

#[tokio::test]
async fn validate_answers_the_acceptance_address_and_echoes_the_correlation_id() {
    let app = app("validate").await;
    let mut request = post(
        &app,
        "/v1/address/validate",
        r#"{"country":"US","text":"1600 pennsylvania avenue northwest, washington dc 20500"}"#,
    );
    request.headers_mut().insert("x-correlation-id", "order-4711".parse().unwrap());
    let (status, headers, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-correlation-id"], "order-4711");
    assert_eq!(body["verdict"], "valid");
    assert_eq!(body["standardized"]["lines"], json!(["1600 PENNSYLVANIA AVE NW"]));
    assert_eq!(body["standardized"]["locality"], "WASHINGTON");
    assert_eq!(body["standardized"]["region"], "DC");
    assert_eq!(body["standardized"]["postcode"], "20500");
    assert!(body["changes"].as_array().unwrap().iter().any(|c| c["kind"] == "standardize"));
}

#[tokio::test]
async fn shopify_address_objects_are_accepted_as_they_are() {
    let app = app("shopify").await;
    let shopify = json!({
        "id": 207119551, "first_name": "Bob", "last_name": "Norman", "name": "Bob Norman", "phone": "555-625-1199",
        "company": null, "address1": "1 Infinite Loop", "address2": "Suite 100", "city": "Cupertino",
        "province": "California", "province_code": "CA", "country": "United States", "country_code": "US",
        "zip": "95014", "default": true
    });
    let (status, _, body) = send(&app, post(&app, "/v1/address/validate", shopify.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["standardized"]["lines"], json!(["1 INFINITE LOOP STE 100"]));
    assert_eq!(body["standardized"]["region"], "CA");
    assert_eq!(body["flags"]["residential"]["value"], "no");
}

#[tokio::test]
async fn bodies_over_the_contract_limits_get_413_with_the_json_error() {
    let app = app("limits").await;
    let big_text = "a".repeat(17 * 1024);
    let one = json!({"country": "US", "text": big_text}).to_string();
    let (status, _, body) = send(&app, post(&app, "/v1/address/validate", one)).await;
    assert_error(status, &body, 413, "payload_too_large");

    let addresses: Vec<Value> = (0..90).map(|_| json!({"country": "US", "text": "x".repeat(1500)})).collect();
    let batch = json!({ "addresses": addresses }).to_string();
    assert!(batch.len() > 128 * 1024);
    let (status, _, body) = send(&app, post(&app, "/v1/address/validate/batch", batch)).await;
    assert_error(status, &body, 413, "payload_too_large");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_500() {
    let app = app("bad-input").await;
    let cases: Vec<(Body, u16, &str, Option<&str>)> = vec![
        (Body::empty(), 400, "empty_body", None),
        (Body::from("{not json"), 400, "invalid_json", None),
        (Body::from(vec![b'{', 0xff, 0xfe, b'}']), 400, "invalid_utf8", None),
        (Body::from(r#"{"country": 5}"#), 422, "invalid_type", Some("country")),
        (Body::from(r#"{"country":"US","lines":"1 main st"}"#), 422, "invalid_type", Some("lines")),
        (Body::from(r#"{"country":"XX","text":"1 main st"}"#), 422, "unknown_country", Some("country")),
        (Body::from(r#"{"text":"1 main st"}"#), 422, "missing_country", Some("country")),
        (Body::from(r#"[1,2]"#), 422, "invalid_type", None),
        (
            Body::from(json!({"country": "US", "lines": vec!["1 main st"; 1000]}).to_string()),
            422,
            "too_many_lines",
            Some("lines"),
        ),
    ];
    for (body, status_code, code, field) in cases {
        let (status, _, json) = send(&app, post(&app, "/v1/address/validate", body)).await;
        assert_error(status, &json, status_code, code);
        if let Some(field) = field {
            assert_eq!(json["error"]["field"], field, "{json}");
        }
    }
}

#[tokio::test]
async fn a_batch_answers_each_address_and_isolates_bad_ones() {
    let app = app("batch").await;
    let batch = json!({"addresses": [
        {"country": "US", "text": "123 main st, near the school, springfield il 62701"},
        {"country": "ZZ9"},
        {"country": "GB", "lines": ["10 Downing Street"], "locality": "London", "postcode": "sw1a2aa"}
    ]});
    let (status, _, body) = send(&app, post(&app, "/v1/address/validate/batch", batch.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["verdict"], "fixable");
    assert_eq!(results[0]["delivery_instructions"], "near the school");
    assert_eq!(results[1]["error"]["code"], "unknown_country");
    assert_eq!(results[1]["error"]["field"], "addresses[1].country");
    assert_eq!(results[2]["standardized"]["postcode"], "SW1A 2AA");

    let too_many = json!({"addresses": vec![json!({"country": "US"}); 101]});
    let (status, _, body) = send(&app, post(&app, "/v1/address/validate/batch", too_many.to_string())).await;
    assert_error(status, &body, 422, "too_many_addresses");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = app("routes").await;
    let (status, _, body) = send(&app, Request::get("/v1/nope").body(Body::empty()).unwrap()).await;
    assert_error(status, &body, 404, "not_found");
    let (status, _, body) = send(&app, Request::get("/v1/address/validate").body(Body::empty()).unwrap()).await;
    assert_error(status, &body, 405, "method_not_allowed");
}

#[tokio::test]
async fn every_documented_route_is_served_and_every_served_route_documented() {
    let app = app("openapi").await;
    let (status, _, doc) = send(&app, Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(path)
                .header("authorization", format!("Bearer {}", app.key))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"country":"US","text":"1 main st, springfield il 62701","addresses":[]}"#))
                .unwrap();
            let (status, _, body) = send(&app, request).await;
            // A resource that does not exist is a 404 too, with its own code; the router's fallback says `not_found`.
            let unrouted = status == StatusCode::NOT_FOUND && body["error"]["code"] == "not_found";
            assert!(!unrouted && status != StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {status} {body}");
        }
    }
    // The served routes this build knows of: each must be in the document.
    for route in [
        "GET /health",
        "GET /openapi.json",
        "GET /",
        "GET /dashboard/login",
        "POST /dashboard/login",
        "POST /dashboard/logout",
        "GET /dashboard/app.js",
        "GET /dashboard/app.css",
        "POST /v1/address/validate",
        "POST /v1/address/validate/batch",
        "POST /dashboard/api/v1/address/validate",
        "GET /dashboard/api/v1/lines",
        "GET /v1/claims",
        "GET /v1/claims/export",
        "GET /v1/claims/{id}",
        "POST /v1/claims/{id}/status",
        "GET /v1/invoices",
        "GET /v1/invoices/{hash}",
        "GET /v1/invoices/{hash}/dispute",
        "POST /v1/returns",
        "GET /v1/returns/{rma}",
        "POST /v1/returns/{rma}/inspection",
    ] {
        assert!(documented.iter().any(|d| d == route), "{route} is served but not documented");
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(schema.is_object(), "{name}");
    }
}

#[tokio::test]
async fn a_tenant_over_its_rate_limit_gets_429_with_retry_after_and_others_do_not() {
    let dir = std::env::temp_dir().join(format!("lastmile-http-limits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = prepare(&dir).await.expect("data dir");
    let registry = prepared.registry.clone();
    let mut tight = lastmile_platform::config::TenantConfig::sample("tight");
    // Three at once, then one every 10 s: the fourth request within the test is over the limit.
    tight.limits = lastmile_platform::ratelimit::RateLimit { requests_per_second: 0.1, burst: 3 };
    registry.put_tenant(tight).await.unwrap();
    let (_, tight_key) = registry.create_key("tight", "test", "2026-12-04T00:00:00Z").await.unwrap();
    let default_key = prepared.new_key.clone().unwrap();
    let app = App { router: lastmile::app::router(&prepared), key: tight_key, _dir: TempDir(dir) };
    let validate = |key: &str| {
        Request::post("/v1/address/validate")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"country":"US","text":"1 main st, springfield il 62701"}"#))
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(send(&app, validate(&app.key)).await.0, StatusCode::OK);
    }
    let (status, headers, body) = send(&app, validate(&app.key)).await;
    assert_error(status, &body, 429, "rate_limited");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    // The default tenant has its own bucket.
    assert_eq!(send(&app, validate(&default_key)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_shopify_app_is_served_by_lastmile_dev_and_starts_an_install() {
    let dir = std::env::temp_dir().join(format!("lastmile-http-shopify-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut prepared = prepare(&dir).await.expect("data dir");
    let credentials =
        lastmile_fn_shopify::Credentials { api_key: "dev-client-id".into(), secrets: vec!["dev-secret".into()] };
    prepared.shopify = std::sync::Arc::new(lastmile_fn_shopify::App {
        credentials: Some(credentials),
        app_url: "https://tunnel.example".into(),
        ..(*prepared.shopify).clone()
    });
    let app = App { router: lastmile::app::router(&prepared), key: String::new(), _dir: TempDir(dir) };
    let request = Request::get("/shopify/install?shop=dev-store.myshopify.com").body(Body::empty()).unwrap();
    let (status, headers, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::FOUND);
    let location = headers["location"].to_str().unwrap();
    assert!(location.starts_with("https://dev-store.myshopify.com/admin/oauth/authorize?client_id=dev-client-id&"));
    assert!(location.contains("redirect_uri=https%3A%2F%2Ftunnel.example%2Fshopify%2Fcallback"), "{location}");
    assert!(headers.contains_key("x-correlation-id"), "the routes sit behind the request tracing");
    let request = Request::get("/shopify/install?shop=evil.com").body(Body::empty()).unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_error(status, &body, 400, "invalid_shop");
    let request = Request::post("/webhooks/shopify/app").body(Body::from("{}")).unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_error(status, &body, 401, "missing_signature");
}

#[tokio::test]
async fn the_claims_api_is_served_with_the_tenant_key() {
    let app = app("claims").await;
    let get = |path: &str| {
        Request::get(path).header("authorization", format!("Bearer {}", app.key)).body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(&app, get("/v1/claims")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"claims": []})));
    let (status, _, body) = send(&app, get("/v1/claims/export")).await;
    assert_error(status, &body, 400, "missing_parameter");
    let (status, _, body) = send(&app, post(&app, "/v1/claims/shp-1%23lost/status", r#"{"status":"filed"}"#)).await;
    assert_error(status, &body, 404, "unknown_claim");
    let (status, _, body) = send(&app, Request::get("/v1/claims").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn an_invoice_dropped_in_the_data_directory_is_reconciled_once_and_served() {
    let dir = std::env::temp_dir().join(format!("lastmile-http-invoices-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = prepare(&dir).await.expect("data dir");
    let folder = lastmile::invoices::drop_folder(&dir).join("default").join("example-courier-uk");
    std::fs::create_dir_all(&folder).unwrap();
    let fixture = include_str!("../../../shared/data/invoices/example-courier-uk.csv");
    std::fs::write(folder.join("UK 7781.csv"), fixture).unwrap();
    let now = jiff::Timestamp::now();
    let reports = lastmile::invoices::run_once(&prepared, now).await;
    let (_, report) = reports.iter().find(|(t, _)| t == "default").unwrap();
    assert_eq!(report.processed.len(), 1);
    // Taken into the blob store's inbox (the space made a key segment) and out of the folder.
    assert_eq!(report.processed[0].key, "invoices/inbox/default/example-courier-uk/UK-7781.csv");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    // No shipment of this data directory has the fixture's numbers: each line is disputed in full, 5.49 + 4.09 +
    // 8.84 = 18.42.
    assert_eq!(report.processed[0].totals.disputed, 1842);
    // The same bytes dropped again are not processed again.
    std::fs::write(folder.join("again.csv"), fixture).unwrap();
    let again = lastmile::invoices::run_once(&prepared, now).await;
    assert_eq!(again[0].1.processed.len(), 0);
    assert_eq!(again[0].1.already_processed, 2);
    // A corrected file under the name taken comes in under a new one, and is processed.
    std::fs::write(folder.join("UK 7781.csv"), fixture.replace("4.09", "3.89")).unwrap();
    let corrected = lastmile::invoices::run_once(&prepared, now).await;
    assert_eq!(corrected[0].1.processed.len(), 1);
    let key = &corrected[0].1.processed[0].key;
    assert!(key.starts_with("invoices/inbox/default/example-courier-uk/") && key.ends_with("-UK-7781.csv"), "{key}");

    let app =
        App { router: lastmile::app::router(&prepared), key: prepared.new_key.clone().unwrap(), _dir: TempDir(dir) };
    let get = |path: &str| {
        Request::get(path).header("authorization", format!("Bearer {}", app.key)).body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(&app, get("/v1/invoices")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["invoices"].as_array().unwrap().len(), 2);
    assert_eq!(body["invoices"][0]["invoice_number"], "UK-7781");
    let (status, _, body) = send(&app, get(&format!("/v1/invoices/{}", "f".repeat(64)))).await;
    assert_error(status, &body, 404, "invoice_not_found");
}
