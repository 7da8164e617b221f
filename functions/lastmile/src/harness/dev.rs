//! A `lastmile dev` process on an ephemeral loopback port with its own data directory, stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct DevProcess {
    child: Child,
    pub addr: String,
    /// The local API key printed on first start.
    pub key: String,
    /// The Shopify CarrierService callback URL printed on first start.
    pub carrier_service_url: Option<String>,
    data_dir: Option<PathBuf>,
}

impl DevProcess {
    /// Starts `exe dev` over a fresh data directory that is removed when the process is dropped. Its default
    /// tenant has no practical request limit: benchmarks measure the engine, not the tenant's limit.
    pub fn start(exe: &Path) -> Result<DevProcess, Box<dyn std::error::Error>> {
        let data_dir = std::env::temp_dir().join(format!("lastmile-dev-{}-{}", std::process::id(), fastrand::u64(..)));
        let mut tenant = lastmile_platform::config::TenantConfig::sample(crate::dev::DEFAULT_TENANT);
        tenant.limits = lastmile_platform::ratelimit::RateLimit { requests_per_second: 1e9, burst: u32::MAX };
        let file = data_dir.join("tenants").join(format!("{}.toml", tenant.id));
        lastmile_platform::config::save(&file, &tenant)?;
        let mut dev = Self::start_in(exe, &data_dir)?;
        dev.data_dir = Some(data_dir);
        Ok(dev)
    }

    /// Starts `exe dev` over `data_dir`, which must be new (the key is printed on first start only).
    pub fn start_in(exe: &Path, data_dir: &Path) -> Result<DevProcess, Box<dyn std::error::Error>> {
        let mut child = Command::new(exe)
            .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut addr, mut key, mut carrier_service_url) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        // The banner ends with the line that says how to stop the server.
        while Instant::now() < deadline {
            let Some(line) = lines.next() else { break };
            let line = line?;
            if line.contains("Ctrl-C") {
                break;
            }
            if let Some(rest) = line.split("listening on http://").nth(1) {
                addr = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(k) = line.trim().strip_prefix("lmk_") {
                key = Some(format!("lmk_{k}"));
            }
            if line.contains("/shopify/carrier-service/") {
                carrier_service_url = Some(line.trim().to_owned());
            }
        }
        // Keep reading the banner's end in the background so that the pipe never fills.
        std::thread::spawn(move || lines.for_each(drop));
        match (addr, key) {
            (Some(addr), Some(key)) => Ok(DevProcess { child, addr, key, carrier_service_url, data_dir: None }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err("lastmile dev did not print its address and key".into())
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Asks the server to stop as Ctrl-C would, so that it ends its jobs and exits normally (the training run of a
/// profile-guided build needs the counts it writes at exit), and kills it if it has not stopped within 10 s.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    if rustix::process::kill_process(rustix::process::Pid::from_child(child), rustix::process::Signal::TERM).is_ok() {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
