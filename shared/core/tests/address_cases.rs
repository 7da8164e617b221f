//! Table-driven address cases from `tests/cases/address/*.jsonl`. Each case gives a request, the subset of
//! the response it must contain, and issue codes that must or must not be present. The expected values are
//! written from the postal rules and the reference data, each case citing its rule.

#![allow(clippy::expect_used)] // a case file that cannot be read is a failed test

use std::path::PathBuf;

use lastmile_core::address::{AddressRequest, validate};
use serde_json::Value;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/address")
}

/// Whether `actual` contains `expected`: objects by subset, arrays element-wise with equal length,
/// coordinates within 0.01 degrees, everything else equal. Returns the path of the first difference.
fn contains(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            for (key, exp_value) in exp {
                let act_value = act.get(key).unwrap_or(&Value::Null);
                contains(act_value, exp_value, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(exp), Value::Array(act)) => {
            if exp.len() != act.len() {
                return Err(format!("{path}: expected {} items {expected}, got {actual}", exp.len()));
            }
            exp.iter().zip(act).enumerate().try_for_each(|(i, (e, a))| contains(a, e, &format!("{path}[{i}]")))
        }
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap_or(f64::NAN), a.as_f64().unwrap_or(f64::NAN));
            if (e - a).abs() <= 0.01 { Ok(()) } else { Err(format!("{path}: expected {e}, got {a}")) }
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn check_case(case: &Value) -> Result<(), String> {
    let request: AddressRequest =
        serde_json::from_value(case["input"].clone()).map_err(|e| format!("bad input: {e}"))?;
    let result = validate(&request).map_err(|e| format!("request rejected: {} {}", e.code, e.message))?;
    let actual = serde_json::to_value(&result).map_err(|e| e.to_string())?;
    contains(&actual, &case["expect"], "")?;
    let codes: Vec<&str> = result_codes(&actual);
    for code in case["issue_codes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !codes.contains(&code) {
            return Err(format!("issue {code} missing; issues: {codes:?}"));
        }
    }
    for code in case["absent_issue_codes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if codes.contains(&code) {
            return Err(format!("issue {code} present but must not be"));
        }
    }
    Ok(())
}

fn result_codes(actual: &Value) -> Vec<&str> {
    actual["issues"].as_array().into_iter().flatten().filter_map(|i| i["code"].as_str()).collect()
}

#[test]
fn every_address_case_holds() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases/address exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case file");
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            total += 1;
            let case: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 1));
            if let Err(why) = check_case(&case) {
                failures.push(format!("{} ({}): {why}", case["id"].as_str().unwrap_or("?"), case["input"]));
            }
        }
    }
    assert!(total >= 400, "only {total} cases");
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}
