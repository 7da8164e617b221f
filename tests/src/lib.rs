//! Helpers for the end-to-end tests: locating the `lastmile` binary and talking HTTP/1.1 to a server on
//! loopback without an HTTP client dependency.

// Test support: a failure here is a failed test, so panicking with a message is the right behaviour.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod moto;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A `cargo` command for a test to run, in the workspace root, without the variables that `cargo test` set for
/// this test's own package. Build scripts such as ring's rerun when `CARGO_PKG_NAME` and its kin change, so an
/// inherited set would rebuild them here, and the next outer `cargo` would rebuild them back.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let of_this_package = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || matches!(&*name, "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "CARGO_RUSTC_CURRENT_DIR");
        if of_this_package {
            command.env_remove(&*name);
        }
    }
    command.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    command
}

/// The workspace's `lastmile` binary. `cargo test --workspace` builds it before any test runs; run alone, a
/// missing binary is built here. (Building it here every time would resolve features for one package and
/// rebuild dependencies that the workspace build has just compiled.)
pub fn lastmile_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        // Built every time (a no-op when it is current), so a test never runs a binary older than the source.
        let status = cargo().args(["build", "--quiet", "-p", "lastmile"]).status();
        assert!(status.is_ok_and(|s| s.success()), "cargo build -p lastmile failed");
        target.join("debug").join("lastmile")
    })
    .clone()
}

/// A `lastmile dev` process on an ephemeral loopback port, killed on drop.
pub struct DevServer {
    pub child: Child,
    pub addr: String,
    /// The key printed on first start, if this start printed one.
    pub key: Option<String>,
    pub stdout_lines: Vec<String>,
    _stdout: BufReader<ChildStdout>,
}

impl DevServer {
    pub fn start(data_dir: &Path) -> DevServer {
        DevServer::start_with(data_dir, &[])
    }

    /// Starts it with extra environment variables (secrets).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> DevServer {
        let mut child = Command::new(lastmile_bin())
            .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lastmile dev starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines = Vec::new();
        let mut addr = None;
        let mut key = None;
        // The banner ends with the line that says how to stop the server.
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(rest) = line.split("listening on http://").nth(1) {
                addr = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(k) = line.trim().strip_prefix("lmk_") {
                key = Some(format!("lmk_{k}"));
            }
            let done = line.contains("Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        DevServer { child, addr: addr.expect("dev printed its address"), key, stdout_lines: lines, _stdout: stdout }
    }

    /// Sends one request and returns the status code and the body.
    pub fn request(&self, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| ("Authorization", a)).into_iter().collect();
        self.request_with(method, path, &headers, body)
    }

    /// Sends one request with extra headers and returns the status code and the body.
    pub fn request_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("writes");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("reads");
        let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }

    /// Asks the server to stop as an operator would (SIGTERM) and waits for it.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().expect("waits")
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
