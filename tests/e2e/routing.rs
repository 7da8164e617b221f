//! `lastmile dev` routes orders in-process: signed Shopify webhooks in, the embedded queue, the router, the
//! decision out of the API. An Anchorage order goes to the Alaska line rather than national ground, and when the
//! seller switches that line off the next order fails over.

use std::time::{Duration, Instant};

use lastmile_core::shopify::webhook::sign_webhook;
use lastmile_platform::config::{self, TenantConfig};
use lastmile_tests::DevServer;
use serde_json::{Value, json};

const SECRET: &str = "shpss_dev_routing_secret";

fn webhook(server: &DevServer, event_id: &str, order: &Value) -> (u16, Value) {
    let body = order.to_string();
    let signature = sign_webhook(body.as_bytes(), SECRET.as_bytes());
    let headers = [
        ("X-Shopify-Hmac-Sha256", signature.as_str()),
        ("X-Shopify-Topic", "orders/create"),
        ("X-Shopify-Event-Id", event_id),
        ("X-Shopify-Shop-Domain", "default-demo.myshopify.com"),
    ];
    let (status, body) = server.request_with("POST", "/webhooks/shopify", &headers, &body);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Polls the order's routing until the in-process consumer has decided it.
fn routed(server: &DevServer, key: &str, order: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = server.request("GET", &format!("/v1/orders/{order}/routing"), Some(key), "");
        let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if status == 200 && body["status"] == "routed" {
            return body;
        }
        assert!(Instant::now() < deadline, "order {order} not routed in time: {status} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn anchorage(id: u64) -> Value {
    json!({
        "id": id, "currency": "USD",
        "line_items": [{"sku": "PARKA-M", "quantity": 1, "grams": 1200, "price": "89.00"}],
        "shipping_address": {"name": "Sam Buyer", "address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"}
    })
}

#[test]
fn dev_routes_an_anchorage_order_to_the_alaska_line_and_fails_over_when_it_is_switched_off() {
    let dir = crate::dev_server::temp_data_dir("routing");
    // The seller ships national ground and the Alaska line from New Jersey.
    let mut tenant = TenantConfig::sample("default");
    tenant.rating.lines = vec!["us-national-ground".into(), "us-alaska-regional".into()];
    config::save(&dir.join("tenants").join("default.toml"), &tenant).unwrap();
    let server = DevServer::start_with(&dir, &[("LASTMILE_SHOPIFY_API_SECRET", SECRET)]);
    let key = server.key.clone().expect("a key on first start");

    let (status, first) = webhook(&server, "evt-7001", &anchorage(7001));
    assert_eq!((status, first["status"].as_str()), (200, Some("queued")), "{first}");
    // Shopify delivers it again: a duplicate, nothing queued.
    let (status, again) = webhook(&server, "evt-7001", &anchorage(7001));
    assert_eq!((status, again["status"].as_str()), (200, Some("duplicate")));

    let routing = routed(&server, &key, "7001");
    let choice = &routing["decision"]["shipments"][0]["choice"];
    let winner = &choice["candidates"][choice["winner"].as_u64().unwrap() as usize];
    assert_eq!(winner["line"], "us-alaska-regional", "{choice}");
    let national = choice["candidates"].as_array().unwrap().iter().find(|c| c["line"] == "us-national-ground").unwrap();
    assert!(winner["cost_minor"].as_i64() < national["cost_minor"].as_i64());
    assert!(winner["transit_days"].as_u64() < national["transit_days"].as_u64());
    assert!(choice["why"].as_str().unwrap().contains("cheaper and faster"), "{choice}");

    let (status, _) = server.request(
        "PUT",
        "/v1/lines/us-alaska-regional",
        Some(&key),
        r#"{"enabled":false,"reason":"Anchorage hub closed"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(webhook(&server, "evt-7002", &anchorage(7002)).0, 200);
    let routing = routed(&server, &key, "7002");
    let choice = &routing["decision"]["shipments"][0]["choice"];
    let winner = &choice["candidates"][choice["winner"].as_u64().unwrap() as usize];
    assert_eq!(winner["line"], "us-national-ground");
    assert!(
        choice["why"].as_str().unwrap().contains("disabled: Anchorage hub closed; failover to us-national-ground"),
        "{choice}"
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
