//! Peak resident memory of a real `lastmile dev` process after it has loaded every reference table and
//! answered a request, read from `/proc/<pid>/status` (Linux).

use crate::harness::dev::DevProcess;
use crate::harness::http;

pub fn peak_rss_of_dev() -> Result<u64, Box<dyn std::error::Error>> {
    let dev = DevProcess::start(&std::env::current_exe()?)?;
    let body = r#"{"country":"US","text":"1600 pennsylvania ave nw, washington dc 20500"}"#;
    let auth = format!("Bearer {}", dev.key);
    let answer = http::request(
        &dev.addr,
        "POST",
        "/v1/address/validate",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        body.as_bytes(),
    )?;
    if answer.status != 200 {
        return Err(format!("validate request failed with {}", answer.status).into());
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", dev.pid()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc status".into())
}
