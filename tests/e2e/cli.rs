use std::io::Write;
use std::process::{Command, Stdio};

use lastmile_tests::lastmile_bin;
use serde_json::Value;

#[test]
fn address_validate_prints_the_result_as_json() {
    let output = Command::new(lastmile_bin())
        .args(["address", "validate", "--country", "US", "1600 pennsylvania avenue northwest, washington dc 20500"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(result["verdict"], "valid");
    assert_eq!(result["standardized"]["lines"][0], "1600 PENNSYLVANIA AVE NW");
    assert_eq!(result["standardized"]["locality"], "WASHINGTON");
    assert!(result["changes"].as_array().unwrap().iter().any(|c| c["kind"] == "standardize"));
}

#[test]
fn an_unknown_country_is_an_error_body_and_exit_code_2() {
    let output = Command::new(lastmile_bin())
        .args(["address", "validate", "--country", "XX", "1 main st"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(body["error"]["code"], "unknown_country");
}

#[test]
fn jsonl_streams_one_answer_per_line_in_order() {
    let mut child = Command::new(lastmile_bin())
        .args(["address", "validate", "--jsonl", "--country", "US"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    let input = concat!(
        "{\"country\":\"GB\",\"lines\":[\"10 Downing Street\"],\"locality\":\"London\",\"postcode\":\"sw1a2aa\"}\n",
        "123 main st, near the school, springfield il 62701\n",
        "{\"country\": 7}\n",
        "\n",
        "{\"country\":\"DE\",\"text\":\"Unter den Linden 77, 10117 Berlin\"}\n",
    );
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("writes");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "blank input lines are skipped, every other line answered");
    assert_eq!(lines[0]["standardized"]["postcode"], "SW1A 2AA");
    assert_eq!(lines[1]["verdict"], "fixable");
    assert_eq!(lines[1]["delivery_instructions"], "near the school");
    assert_eq!(lines[2]["error"]["code"], "invalid_type");
    assert_eq!(lines[3]["country"], "DE");
}

#[test]
fn quote_prices_the_parcel_on_every_line() {
    let data_dir = std::env::temp_dir().join(format!("lastmile-cli-quote-{}", std::process::id()));
    let output = Command::new(lastmile_bin())
        .args(["quote", "--from", "us-nj", "--to-country", "US", "--to-postcode", "99501", "--weight", "2.3kg"])
        .args(["--dims", "40x30x20cm", "--ship-at", "2026-11-25T15:00:00Z", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let ground = answer["rates"].as_array().unwrap().iter().find(|r| r["line"] == "us-national-ground").unwrap();
    // Hand-worked in shared/core/tests/quote_acceptance.rs.
    assert_eq!(ground["total_minor"], 10_256);
    let bad = Command::new(lastmile_bin())
        .args(["quote", "--to-country", "US", "--to-postcode", "99501", "--weight", "heavy", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn duty_prints_duty_vat_and_the_regime_as_of_the_date() {
    let run = |date: &str| {
        let output = Command::new(lastmile_bin())
            .args(["duty", "--to", "DE", "--date", date, "--incoterm", "DDP"])
            .args(["--line", "hs=94016100,origin=CN,value=120.00 EUR,qty=1"])
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON")
    };
    // Hand-worked in shared/core/tests/duty_goldens.rs: €3 flat duty and VAT 23.37 from 2026-07-01; no duty and
    // VAT 22.80 on 2026-06-30.
    let after = run("2026-11-25");
    assert_eq!(
        (after["totals"]["duty"]["minor"].as_i64(), after["taxes"][0]["amount"]["minor"].as_i64()),
        (Some(300), Some(2337))
    );
    assert_eq!(after["regime"]["id"], "flat_duty");
    assert!(after["regime"]["sources"][0]["source"].as_str().unwrap().contains("2026/1022"));
    let before = run("2026-06-30");
    assert_eq!(
        (before["totals"]["duty"]["minor"].as_i64(), before["taxes"][0]["amount"]["minor"].as_i64()),
        (Some(0), Some(2280))
    );
    assert_eq!(before["regime"]["id"], "duty_relief");
    let bad = Command::new(lastmile_bin())
        .args(["duty", "--to", "DE", "--date", "2026-11-25", "--line", "hs=94016100,origin=CN,value=120 euros"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

/// A stand-in for a shop's Admin API on loopback: answers one request with `answer` and hands back what it got.
fn admin_stand_in(answer: serde_json::Value) -> (String, std::thread::JoinHandle<(String, String)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let payload = answer.to_string();
        let mut stream = reader.into_inner();
        write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}", payload.len()).unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    (addr, handle)
}

fn register(admin: &str, callback_url: &str) -> std::process::Output {
    Command::new(lastmile_bin())
        .args([
            "shopify",
            "register-carrier-service",
            "--shop",
            "my-shop.myshopify.com",
            "--access-token",
            "shpat_test",
        ])
        .args(["--callback-url", callback_url, "--admin-url", admin])
        .output()
        .expect("runs")
}

#[test]
fn register_carrier_service_sends_carrier_service_create_to_the_shop() {
    let created = serde_json::json!({"data": {"carrierServiceCreate": {"carrierService": {"id": "gid://shopify/DeliveryCarrierService/42",
        "name": "lastmile", "callbackUrl": "https://example.test/cb", "active": true, "supportsServiceDiscovery": true}, "userErrors": []}}});
    let (admin, stand_in) = admin_stand_in(created);
    let output = register(&admin, "https://example.test/shopify/carrier-service/lmk_abc");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "gid://shopify/DeliveryCarrierService/42");
    let (head, body) = stand_in.join().unwrap();
    assert!(head.starts_with("POST /admin/api/2026-07/graphql.json HTTP/1.1"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-shopify-access-token: shpat_test"), "{head}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body["query"].as_str().unwrap().contains("carrierServiceCreate(input: $input)"));
    assert_eq!(body["variables"]["input"]["callbackUrl"], "https://example.test/shopify/carrier-service/lmk_abc");
    assert_eq!(body["variables"]["input"]["supportsServiceDiscovery"], true);

    let refused = serde_json::json!({"data": {"carrierServiceCreate": {"carrierService": null,
        "userErrors": [{"field": ["callbackUrl"], "message": "Callback url is not a valid URL"}]}}});
    let (admin, stand_in) = admin_stand_in(refused);
    let output = register(&admin, "not a url");
    stand_in.join().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Callback url is not a valid URL"));
}
