//! Peak resident memory of a real `lastmile dev` process after it has loaded every reference table and
//! answered a request, read from `/proc/<pid>/status` (Linux).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn peak_rss_of_dev() -> Result<u64, Box<dyn std::error::Error>> {
    let data_dir = std::env::temp_dir().join(format!("lastmile-bench-rss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut child = Command::new(std::env::current_exe()?)
        .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let result = (|| -> Result<u64, Box<dyn std::error::Error>> {
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut addr = None;
        let mut key = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while (addr.is_none() || key.is_none()) && Instant::now() < deadline {
            let Some(line) = lines.next() else { break };
            let line = line?;
            if let Some(rest) = line.split("listening on http://").nth(1) {
                addr = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(k) = line.trim().strip_prefix("lmk_") {
                key = Some(format!("lmk_{k}"));
            }
        }
        let (addr, key) = (addr.ok_or("dev did not report its address")?, key.ok_or("dev did not print a key")?);
        let body = r#"{"country":"US","text":"1600 pennsylvania ave nw, washington dc 20500"}"#;
        let mut stream = TcpStream::connect(&addr)?;
        write!(
            stream,
            "POST /v1/address/validate HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if !response.starts_with("HTTP/1.1 200") {
            return Err(format!("validate request failed: {}", response.lines().next().unwrap_or("")).into());
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc status".into())
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}
