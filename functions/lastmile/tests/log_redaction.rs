//! Logs carry correlation ids but never personal data. A test binary of its own: tracing caches which
//! callsites are enabled per process, and other tests running in parallel threads without a subscriber would
//! race with the one this test installs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

/// A writer for tracing that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_carry_the_correlation_id_but_no_personal_data() {
    let dir = std::env::temp_dir().join(format!("lastmile-redaction-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prepared = lastmile::dev::prepare(&dir).await.expect("data dir");
    let key = prepared.new_key.clone().expect("first start creates a key");
    let order_router = prepared.router.clone();
    let router = lastmile::app::router(&prepared);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let body = json!({"country": "US", "name": "Jane Roe", "phone": "555-0100", "address1": "742 Evergreen Terrace", "city": "Springfield", "province_code": "IL", "zip": "62701"});
    let request = Request::post("/v1/address/validate")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("x-correlation-id", "corr-redaction-1")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.expect("router answers");
    assert_eq!(response.status(), StatusCode::OK);

    // An order with the same buyer through the orders API, the queue and the router, and its decision read back.
    let order = json!({
        "id": "R-1001", "currency": "USD",
        "line_items": [{"sku": "MUG-1", "quantity": 1, "grams": 450, "price": "18.00"}],
        "shipping_address": {"name": "Jane Roe", "phone": "555-0100", "address1": "1029 W 6th Ave", "city": "Anchorage", "province_code": "AK", "zip": "99501", "country_code": "US"}
    });
    let request = Request::post("/v1/orders")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(order.to_string()))
        .unwrap();
    assert_eq!(router.clone().oneshot(request).await.unwrap().status(), StatusCode::OK);
    let messages = order_router.orders.receive(10, std::time::Duration::from_secs(30)).await.unwrap();
    let batch: Vec<(&str, &str)> = messages.iter().map(|m| (m.id.as_str(), m.body.as_str())).collect();
    assert!(lastmile_fn_route::handle_batch(&order_router, &batch).await.is_empty());
    let request =
        Request::get("/v1/orders/R-1001/routing").header("authorization", format!("Bearer {key}")).body(Body::empty());
    assert_eq!(router.oneshot(request.unwrap()).await.unwrap().status(), StatusCode::OK);
    let _ = std::fs::remove_dir_all(&dir);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("corr-redaction-1"), "{logs}");
    assert!(logs.contains("address validated"), "{logs}");
    // The house number as the logs would carry it (in a street line, or as a value of its own); bare digits
    // would also match inside timestamps and durations.
    assert!(logs.contains("order event"), "the router logged: {logs}");
    for personal in ["Jane", "Roe", "555-0100", "Evergreen", "EVERGREEN", "742 ", "\"742\"", "6th", "6TH", "1029 "] {
        assert!(!logs.contains(personal), "log leaks {personal}: {logs}");
    }
}
