//! The duty function as Lambda runs it: `cargo lambda watch` serves the host build behind the Lambda runtime
//! API, and `cargo lambda invoke` sends it an API Gateway HTTP API event for `POST /v1/landed-cost`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

#[test]
#[ignore = "needs cargo-lambda from scripts/python-env; scripts/test runs it"]
fn the_duty_function_answers_an_api_gateway_event() {
    // A data directory with the default tenant and a key, as `lastmile dev` makes on first start.
    let data_dir = std::env::temp_dir().join(format!("lastmile-lambda-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let key = runtime.block_on(lastmile::dev::prepare(&data_dir)).unwrap().new_key.expect("a new key");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let _watch = Watch(
        Command::new(&cargo)
            .args([
                "lambda",
                "watch",
                "-p",
                "lastmile-fn-duty",
                "--features",
                "lambda",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .arg("--env-var")
            .arg(format!("LASTMILE_DATA_DIR={}", data_dir.display()))
            .env("PATH", path_with_venv())
            .current_dir(root())
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
    let fixture = std::fs::read_to_string(root().join("tests/lambda/fixtures/apigw_v2_landed_cost.json")).unwrap();
    let event = data_dir.join("event.json");
    std::fs::write(&event, fixture.replace("{{API_KEY}}", &key)).unwrap();
    let output = Command::new(&cargo)
        .args(["lambda", "invoke", "lastmile-fn-duty", "-A", "127.0.0.1", "-P", &port.to_string(), "-o", "json"])
        .arg("--data-file")
        .arg(&event)
        .env("PATH", path_with_venv())
        .current_dir(root())
        .output()
        .expect("cargo lambda invoke runs");
    assert!(output.status.success(), "invoke failed: {}", String::from_utf8_lossy(&output.stderr));
    let response: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    // Hand-worked in shared/core/tests/duty_goldens.rs: €3 flat duty, VAT 19 % × 123.00 = 23.37.
    assert_eq!(body["totals"]["duty"]["minor"], 300);
    assert_eq!(body["totals"]["tax"]["minor"], 2337);
    std::fs::remove_dir_all(&data_dir).unwrap();
}
