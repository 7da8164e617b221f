//! Functions as Lambda runs them: `cargo lambda watch` serves the host build behind the Lambda runtime API, and
//! `cargo lambda invoke` sends it an event: an API Gateway HTTP API event for the duty function's
//! `POST /v1/landed-cost`, an SQS batch from the tracking queue for the tracking consumer (over moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// PATH with the project's Python environment first, where `cargo-lambda` is installed.
fn path_with_venv() -> std::ffi::OsString {
    let venv = root().join(".venv/bin");
    let mut paths = vec![venv];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap()
}

struct Watch(std::process::Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cargo lambda watch` of `package` (with its `lambda` feature) on a free loopback port, with `env` set for the
/// function; answers the guard and the port once it listens.
fn watch(package: &str, env: &[(&str, String)]) -> (Watch, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = lastmile_tests::cargo();
    command.args([
        "lambda",
        "watch",
        "-p",
        package,
        "--features",
        "lambda",
        "-A",
        "127.0.0.1",
        "-P",
        &port.to_string(),
    ]);
    for (name, value) in env {
        command.arg("--env-var").arg(format!("{name}={value}"));
    }
    let watch = Watch(
        command
            .env("PATH", path_with_venv())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch starts"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(120), "cargo lambda watch did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (watch, port)
}

/// `cargo lambda invoke` of `function` with the event in `event`; the function's answer.
fn invoke(function: &str, port: u16, event: &Path) -> serde_json::Value {
    let output = lastmile_tests::cargo()
        .args(["lambda", "invoke", function, "-A", "127.0.0.1", "-P", &port.to_string(), "-o", "json"])
        .arg("--data-file")
        .arg(event)
        .env("PATH", path_with_venv())
        .output()
        .expect("cargo lambda invoke runs");
    assert!(output.status.success(), "invoke failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("a JSON response")
}

#[test]
#[ignore = "needs cargo-lambda from scripts/python-env; scripts/test runs it"]
fn the_duty_function_answers_an_api_gateway_event() {
    // A data directory with the default tenant and a key, as `lastmile dev` makes on first start.
    let data_dir = std::env::temp_dir().join(format!("lastmile-lambda-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let key = runtime.block_on(lastmile::dev::prepare(&data_dir)).unwrap().new_key.expect("a new key");
    let (_watch, port) = watch("lastmile-fn-duty", &[("LASTMILE_DATA_DIR", data_dir.display().to_string())]);
    let fixture = std::fs::read_to_string(root().join("tests/lambda/fixtures/apigw_v2_landed_cost.json")).unwrap();
    let event = data_dir.join("event.json");
    std::fs::write(&event, fixture.replace("{{API_KEY}}", &key)).unwrap();
    let response = invoke("lastmile-fn-duty", port, &event);
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    // Hand-worked in shared/core/tests/duty_goldens.rs: €3 flat duty, VAT 19 % × 123.00 = 23.37.
    assert_eq!(body["totals"]["duty"]["minor"], 300);
    assert_eq!(body["totals"]["tax"]["minor"], 2337);
    std::fs::remove_dir_all(&data_dir).unwrap();
}

#[test]
#[ignore = "needs cargo-lambda and moto_server from scripts/python-env; scripts/test runs it"]
fn the_tracking_consumer_reports_only_the_poison_message_of_an_sqs_batch() {
    use std::sync::Arc;

    use lastmile_platform::aws::dynamodb::DynamoTable;
    use lastmile_platform::ports::clock::SystemClock;
    use lastmile_platform::ports::table::TenantTable;
    use lastmile_platform::repo::tracking;

    let moto = lastmile_tests::moto::MotoServer::start();
    let data_dir = std::env::temp_dir().join(format!("lastmile-lambda-tracking-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    // The deployment's table on moto, with the tenant in it, as the function reads it (LASTMILE_TABLE).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let aws = runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load(),
    );
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let table = Arc::new(DynamoTable::new(client.clone(), "lastmile-lambda", Arc::new(SystemClock)));
    runtime.block_on(async {
        DynamoTable::create_if_missing(&client, "lastmile-lambda").await.unwrap();
        let registry =
            lastmile_platform::tenants::TenantRegistry::open_with_table(&data_dir, table.clone()).await.unwrap();
        registry.put_tenant(lastmile_platform::config::TenantConfig::sample("acme")).await.unwrap();
    });
    let env = [
        ("LASTMILE_DATA_DIR", data_dir.display().to_string()),
        ("LASTMILE_TABLE", "lastmile-lambda".to_owned()),
        ("LASTMILE_ARCHIVE_BUCKET", "lastmile-lambda-archive".to_owned()),
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let (_watch, port) = watch("lastmile-fn-tracking", &env);
    // FedEx's first scan of a number no shipment has yet: it is kept until the number is assigned.
    let batch = serde_json::json!({
        "tenant": "acme", "carrier": "fedex", "tracking_number": "794612345678", "delivery": "fedex:lambda",
        "received_at": "2026-11-16T23:00:00Z",
        "events": [{
            "id": "fx-794612345678-0001", "carrier": "fedex", "tracking_number": "794612345678",
            "occurred_at": "2026-11-16T22:05:00Z", "status": "info_received", "code": "OC",
            "description": "Shipment information sent to FedEx"
        }]
    });
    let fixture = std::fs::read_to_string(root().join("tests/lambda/fixtures/sqs_tracking_batch.json")).unwrap();
    let body = serde_json::to_string(&batch.to_string()).unwrap();
    let event = data_dir.join("event.json");
    std::fs::write(&event, fixture.replace("\"{{TRACKING_BATCH}}\"", &body)).unwrap();
    let response = invoke("lastmile-fn-tracking", port, &event);
    assert_eq!(
        response,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]})
    );
    let orphans = runtime.block_on(async {
        tracking::orphans(&TenantTable::new(&*table, "acme"), "fedex", "794612345678").await.unwrap()
    });
    assert_eq!(orphans.expect("the scan waits for its number").value.events.len(), 1);
    std::fs::remove_dir_all(&data_dir).unwrap();
}
