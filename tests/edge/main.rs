//! The edge worker in the real Workers runtime (workerd, on loopback), next to `lastmile dev`: the same
//! answers for every address case, CORS for a checkout extension, Shopify session tokens, limits and
//! errors. `scripts/test` builds the worker and runs these with `--ignored`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lastmile::harness::dev::DevProcess;
use lastmile::harness::http::{self, Answer, Connection};
use lastmile::harness::workerd::{CheckoutBindings, Workerd};
use lastmile_core::shopify::session_token;
use serde_json::{Value, json};

const NEEDS: &str = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored";
const SECRET: &str = "test-app-secret-not-a-real-one";
const API_KEY: &str = "test-app-client-id";
const SHOP: &str = "lastmile-test.myshopify.com";
const FLOOD_SHOP: &str = "flood-test.myshopify.com";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A workerd of each test's own (it starts in well under a second), stopped when the test ends.
fn start_worker() -> Workerd {
    let (workerd, dir) = Workerd::default_paths(&root());
    let bindings = CheckoutBindings {
        shopify_api_secret: SECRET.into(),
        shopify_api_key: API_KEY.into(),
        shop_allowlist: format!("{SHOP}, {FLOOD_SHOP}"),
    };
    Workerd::start(&workerd, &dir, &bindings).expect(NEEDS)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn token(shop: &str, aud: &str, exp: i64, secret: &str) -> String {
    let claims = json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": aud,
        "sub": "1", "exp": exp, "nbf": now() - 5, "iat": now() - 5, "jti": "t", "sid": "s"});
    format!("Bearer {}", session_token::sign(&claims, secret.as_bytes()))
}

fn validate_on_checkout(worker: &Workerd, authorization: Option<&str>, body: &str) -> Answer {
    let mut headers = vec![("Content-Type", "application/json"), ("Origin", "null")];
    if let Some(auth) = authorization {
        headers.push(("Authorization", auth));
    }
    http::request(&worker.checkout, "POST", "/v1/address/validate", &headers, body.as_bytes()).unwrap()
}

fn error_code(answer: &Answer) -> String {
    answer.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

const GOOD: &str = r#"{"country":"US","text":"123 main st, near the school, springfield il 62701"}"#;

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn every_address_case_gets_the_same_answer_from_the_worker_and_lastmile_dev() {
    let worker = start_worker();
    let dev = DevProcess::start(&lastmile_tests::lastmile_bin()).expect(NEEDS);
    let auth = format!("Bearer {}", dev.key);
    let mut to_dev = Connection::open(&dev.addr).unwrap();
    let mut to_edge = Connection::open(&worker.open).unwrap();
    let dev_headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let edge_headers = [("Content-Type", "application/json")];
    let mut compared = 0;
    let mut inputs = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases/address"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    for file in &files {
        for line in std::fs::read_to_string(file).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).unwrap();
            let body = case["input"].to_string();
            let ours = to_dev.send("POST", "/v1/address/validate", &dev_headers, body.as_bytes()).unwrap();
            let edge = to_edge.send("POST", "/v1/address/validate", &edge_headers, body.as_bytes()).unwrap();
            assert_eq!(
                (edge.status, &edge.body),
                (ours.status, &ours.body),
                "case {} in {}: the worker and lastmile dev disagree",
                case["id"],
                file.display()
            );
            compared += 1;
            inputs.push(case["input"].clone());
        }
    }
    assert!(compared >= 400, "only {compared} cases compared");
    // The same cases as batches of at most 100.
    for chunk in inputs.chunks(100) {
        let body = json!({ "addresses": chunk }).to_string();
        let ours = to_dev.send("POST", "/v1/address/validate/batch", &dev_headers, body.as_bytes()).unwrap();
        let edge = to_edge.send("POST", "/v1/address/validate/batch", &edge_headers, body.as_bytes()).unwrap();
        assert_eq!(ours.status, 200);
        assert_eq!(edge.body, ours.body, "a batch answer differs");
    }
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn bad_requests_get_the_same_errors_as_lastmile_dev() {
    let worker = start_worker();
    let dev = DevProcess::start(&lastmile_tests::lastmile_bin()).expect(NEEDS);
    let auth = format!("Bearer {}", dev.key);
    let oversize = format!(r#"{{"country":"US","text":"{}"}}"#, "a".repeat(20_000));
    let many = json!({"addresses": vec![json!({"country": "US", "text": "1 Main St"}); 101]}).to_string();
    let cases: [(&str, &str, &[u8], u16, &str); 7] = [
        ("POST", "/v1/address/validate", b"{not json", 400, "invalid_json"),
        ("POST", "/v1/address/validate", b"", 400, "empty_body"),
        ("POST", "/v1/address/validate", br#"{"country":"US","lines":"x"}"#, 422, "invalid_type"),
        ("POST", "/v1/address/validate", br#"{"country":"ZZ","text":"x"}"#, 422, ""),
        ("POST", "/v1/address/validate", oversize.as_bytes(), 413, "payload_too_large"),
        ("POST", "/v1/address/validate/batch", many.as_bytes(), 422, "too_many_addresses"),
        ("POST", "/v1/address/validate", b"\xff\xfe", 400, "invalid_utf8"),
    ];
    for (method, path, body, status, code) in cases {
        let dev_answer = http::request(&dev.addr, method, path, &[("Authorization", &auth)], body).unwrap();
        let edge = http::request(&worker.open, method, path, &[], body).unwrap();
        assert_eq!(edge.status, status, "{path} with {:?}", String::from_utf8_lossy(&body[..body.len().min(40)]));
        if !code.is_empty() {
            assert_eq!(error_code(&edge), code);
        }
        assert_eq!((edge.status, edge.json()), (dev_answer.status, dev_answer.json()), "same error as lastmile dev");
        assert_eq!(edge.header("access-control-allow-origin"), Some("*"), "errors carry CORS headers too");
    }
    let wrong_method = http::request(&worker.open, "GET", "/v1/address/validate", &[], b"").unwrap();
    assert_eq!((wrong_method.status, error_code(&wrong_method).as_str()), (405, "method_not_allowed"));
    let unknown = http::request(&worker.open, "GET", "/v1/nothing", &[], b"").unwrap();
    assert_eq!((unknown.status, error_code(&unknown).as_str()), (404, "not_found"));
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn a_checkout_extension_passes_the_cors_preflight() {
    let worker = start_worker();
    let answer = http::request(
        &worker.checkout,
        "OPTIONS",
        "/v1/address/validate",
        &[
            ("Origin", "null"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization, content-type"),
        ],
        b"",
    )
    .unwrap();
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let methods = answer.header("access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = answer.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
    // No token is needed for the preflight: browsers never send one with it.
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn session_tokens_are_checked_when_the_secret_is_bound() {
    let worker = start_worker();
    let valid = validate_on_checkout(&worker, Some(&token(SHOP, API_KEY, now() + 60, SECRET)), GOOD);
    assert_eq!(valid.status, 200, "{}", valid.body);
    assert_eq!(valid.json()["verdict"], "fixable");
    assert_eq!(valid.json()["delivery_instructions"], "near the school");
    assert_eq!(valid.header("access-control-allow-origin"), Some("*"));

    let refused = [
        ("missing", None, 401, "missing_session_token"),
        ("expired", Some(token(SHOP, API_KEY, now() - 60, SECRET)), 401, "invalid_session_token"),
        ("wrong audience", Some(token(SHOP, "another-app", now() + 60, SECRET)), 401, "invalid_session_token"),
        ("bad signature", Some(token(SHOP, API_KEY, now() + 60, "not-the-secret")), 401, "invalid_session_token"),
        ("not a JWT", Some("Bearer abc.def".to_owned()), 401, "invalid_session_token"),
        ("shop not allowed", Some(token("other.myshopify.com", API_KEY, now() + 60, SECRET)), 401, "shop_not_allowed"),
    ];
    for (what, authorization, status, code) in refused {
        let answer = validate_on_checkout(&worker, authorization.as_deref(), GOOD);
        assert_eq!((answer.status, error_code(&answer).as_str()), (status, code), "{what}: {}", answer.body);
        assert_eq!(answer.json()["error"]["field"], "Authorization", "{what}");
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"), "{what}");
    }
    // Expiry allows ten seconds of clock skew.
    let just_expired = validate_on_checkout(&worker, Some(&token(SHOP, API_KEY, now() - 5, SECRET)), GOOD);
    assert_eq!(just_expired.status, 200);
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn the_rate_limiter_answers_429_with_retry_after_per_shop() {
    let worker = start_worker();
    // workerd.capnp's stand-in limiter allows 20 calls per 60 s per key.
    let flood = token(FLOOD_SHOP, API_KEY, now() + 60, SECRET);
    let statuses: Vec<u16> = (0..25).map(|_| validate_on_checkout(&worker, Some(&flood), GOOD).status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
    let limited = validate_on_checkout(&worker, Some(&flood), GOOD);
    assert_eq!((limited.status, error_code(&limited).as_str()), (429, "rate_limited"));
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Another shop has its own budget.
    assert_eq!(validate_on_checkout(&worker, Some(&token(SHOP, API_KEY, now() + 60, SECRET)), GOOD).status, 200);
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn oversize_bodies_are_refused_with_413_on_the_checkout_service() {
    let worker = start_worker();
    let auth = token(SHOP, API_KEY, now() + 60, SECRET);
    let batch = format!(r#"{{"addresses":[{}]}}"#, vec![format!(r#"{{"text":"{}"}}"#, "x".repeat(500)); 300].join(","));
    let answer = http::request(
        &worker.checkout,
        "POST",
        "/v1/address/validate/batch",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        batch.as_bytes(),
    )
    .unwrap();
    assert_eq!((answer.status, error_code(&answer).as_str()), (413, "payload_too_large"));
    let health = http::request(&worker.checkout, "GET", "/health", &[], b"").unwrap();
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")), "health is open");
}

/// Copies what `workerd.capnp` embeds, with the postcode assets of `countries` only.
fn worker_copy(name: &str, countries: &[&str]) -> PathBuf {
    let (_, dir) = Workerd::default_paths(&root());
    let copy = std::env::temp_dir().join(format!("lastmile-edge-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    for folder in ["build", "testing", "assets/postcodes"] {
        std::fs::create_dir_all(copy.join(folder)).unwrap();
    }
    std::fs::copy(dir.join("workerd.capnp"), copy.join("workerd.capnp")).unwrap();
    for folder in ["build", "testing"] {
        for entry in std::fs::read_dir(dir.join(folder)).expect(NEEDS) {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, copy.join(folder).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    for country in countries {
        let file = format!("assets/postcodes/{country}.txt");
        std::fs::copy(dir.join(&file), copy.join(&file)).expect(NEEDS);
    }
    copy
}

#[test]
#[ignore = "needs the built edge worker and workerd: scripts/test builds them and runs this with --ignored"]
fn postcode_tables_load_from_the_assets_and_a_missing_one_is_a_503_not_a_partial_answer() {
    let copy = worker_copy("assets", &["US"]);
    let (workerd, _) = Workerd::default_paths(&root());
    let worker = Workerd::start(&workerd, &copy, &CheckoutBindings::default()).expect(NEEDS);
    let json = [("Content-Type", "application/json")];
    let us = r#"{"country":"US","text":"1600 pennsylvania avenue northwest, washington dc 20500"}"#;
    let answer = http::request(&worker.open, "POST", "/v1/address/validate", &json, us.as_bytes()).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["verdict"], "valid", "{}", answer.body);
    let fr = r#"{"country":"FR","text":"10 rue de rivoli, 75001 paris"}"#;
    let answer = http::request(&worker.open, "POST", "/v1/address/validate", &json, fr.as_bytes()).unwrap();
    assert_eq!((answer.status, error_code(&answer).as_str()), (503, "reference_data_unavailable"), "{}", answer.body);
    // Once the table is there, the same isolate loads it on the next request.
    std::fs::copy(
        Workerd::default_paths(&root()).1.join("assets/postcodes/FR.txt"),
        copy.join("assets/postcodes/FR.txt"),
    )
    .unwrap();
    let answer = http::request(&worker.open, "POST", "/v1/address/validate", &json, fr.as_bytes()).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("PARIS"), "{}", answer.body);
    drop(worker);
    let _ = std::fs::remove_dir_all(&copy);
}
