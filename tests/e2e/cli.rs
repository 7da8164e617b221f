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
