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
    let prepared = lastmile::dev::prepare(&dir).expect("data dir");
    let key = prepared.new_key.expect("first start creates a key");
    let router = lastmile::app::router(prepared.registry, prepared.rules, prepared.ingest, prepared.routing_api);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
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
    let response = router.oneshot(request).await.expect("router answers");
    assert_eq!(response.status(), StatusCode::OK);
    let _ = std::fs::remove_dir_all(&dir);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("corr-redaction-1"), "{logs}");
    assert!(logs.contains("address validated"), "{logs}");
    // The house number as the logs would carry it (in a street line, or as a value of its own); bare digits
    // would also match inside timestamps and durations.
    for personal in ["Jane", "Roe", "555-0100", "Evergreen", "EVERGREEN", "742 ", "\"742\""] {
        assert!(!logs.contains(personal), "log leaks {personal}: {logs}");
    }
}
