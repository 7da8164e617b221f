//! The built edge worker in bare workerd (the open-source Workers runtime), configured by
//! `edge-worker/workerd.capnp`: an `open` service (no bindings) and a `checkout` service (Shopify secret, key,
//! allow-list and a rate limiter), each on its own loopback port. Killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, http};

/// How the `checkout` service is configured: its bindings come from these environment variables.
#[derive(Debug, Clone, Default)]
pub struct CheckoutBindings {
    pub shopify_api_secret: String,
    pub shopify_api_key: String,
    pub shop_allowlist: String,
}

pub struct Workerd {
    child: Child,
    /// `host:port` of the `open` service.
    pub open: String,
    /// `host:port` of the `checkout` service.
    pub checkout: String,
    /// From spawning the process to the first 200 from `GET /health` on the open service.
    pub start_to_first_answer: Duration,
}

impl Workerd {
    /// The workerd binary that `npm ci` installs, and the worker folder, both under the project root.
    pub fn default_paths(root: &Path) -> (PathBuf, PathBuf) {
        (root.join("node_modules/.bin/workerd"), root.join("edge-worker"))
    }

    pub fn start(
        workerd: &Path,
        worker_dir: &Path,
        bindings: &CheckoutBindings,
    ) -> Result<Workerd, Box<dyn std::error::Error>> {
        for built in ["build/worker.mjs", "build/index_bg.wasm", "assets/postcodes/US.txt"] {
            if !worker_dir.join(built).exists() {
                return Err(format!(
                    "{} is missing: build the worker with scripts/edge build",
                    worker_dir.join(built).display()
                )
                .into());
            }
        }
        let open = format!("127.0.0.1:{}", free_port()?);
        let checkout = format!("127.0.0.1:{}", free_port()?);
        let started = Instant::now();
        let mut child = Command::new(workerd)
            .arg("serve")
            .arg(worker_dir.join("workerd.capnp"))
            .args(["--socket-addr", &format!("open={open}"), "--socket-addr", &format!("checkout={checkout}")])
            .arg("--directory-path")
            .arg(format!("assets={}", worker_dir.join("assets").display()))
            .env("LASTMILE_EDGE_SHOPIFY_API_SECRET", &bindings.shopify_api_secret)
            .env("LASTMILE_EDGE_SHOPIFY_API_KEY", &bindings.shopify_api_key)
            .env("LASTMILE_EDGE_SHOPIFY_SHOP_ALLOWLIST", &bindings.shop_allowlist)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let deadline = started + Duration::from_secs(20);
        loop {
            if http::request(&open, "GET", "/health", &[], b"").is_ok_and(|answer| answer.status == 200) {
                break;
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("workerd exited during start-up: {status}").into());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("workerd did not answer /health within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Workerd { child, open, checkout, start_to_first_answer: started.elapsed() })
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
