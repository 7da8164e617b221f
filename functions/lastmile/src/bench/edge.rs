//! `lastmile bench edge`: the edge worker's bundle size, its start-up, and the latency of validate next to the
//! health route (the runtime's own floor) in bare workerd, with `lastmile dev` measured the same way in the
//! same run.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use crate::harness::dev::DevProcess;
use crate::harness::http::Connection;
use crate::harness::workerd::{CheckoutBindings, Workerd};

#[derive(Debug, Args)]
pub struct EdgeBenchArgs {
    /// The workerd binary (installed by npm from the project's package.json).
    #[arg(long, default_value = "node_modules/.bin/workerd")]
    pub workerd: PathBuf,
    /// The edge worker folder, with `build/` made by `scripts/edge build`.
    #[arg(long, default_value = "edge-worker")]
    pub worker_dir: PathBuf,
    /// Sequential requests per route.
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// Seed of the address generator.
    #[arg(long, default_value_t = 20_261_125)]
    pub seed: u64,
}

/// Latency percentiles of one route, in milliseconds.
struct Latency {
    p50: f64,
    p99: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let ms = |q: f64| super::quantile(&samples, q).as_secs_f64() * 1e3;
        Latency { p50: ms(0.50), p99: ms(0.99) }
    }
}

pub fn run(args: &EdgeBenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let wasm = std::fs::read(args.worker_dir.join("build/index_bg.wasm"))
        .map_err(|e| format!("{}: {e} (build the worker with scripts/edge build)", args.worker_dir.display()))?;
    let glue = std::fs::read(args.worker_dir.join("build/worker.mjs"))?;
    let (wasm_gzip, glue_gzip) = (gzip_len(&wasm)?, gzip_len(&glue)?);
    println!(
        "bundle: index_bg.wasm {:.0} KB (gzip {:.0} KB), worker.mjs {:.1} KB (gzip {:.1} KB); script {:.0} KB gzip, target <= 1024 KB gzip, Workers free-plan limit 3 MB",
        kb(wasm.len()),
        kb(wasm_gzip),
        kb(glue.len()),
        kb(glue_gzip),
        kb(wasm_gzip + glue_gzip)
    );
    let (mut assets, mut assets_gzip, mut files) = (0, 0, 0);
    let folder = args.worker_dir.join("assets/postcodes");
    for entry in std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))? {
        let bytes = std::fs::read(entry?.path())?;
        (assets, assets_gzip, files) = (assets + bytes.len(), assets_gzip + gzip_len(&bytes)?, files + 1);
    }
    println!(
        "static assets (postcode tables, loaded per isolate on first use of a country; outside the script limit): {files} files, {:.0} KB (gzip {:.0} KB)",
        kb(assets),
        kb(assets_gzip)
    );

    let bodies: Vec<Vec<u8>> = super::generate(args.requests, args.seed)
        .into_iter()
        .map(|text| serde_json::json!({"country": "US", "text": text}).to_string().into_bytes())
        .collect();

    let worker = Workerd::start(&args.workerd, &args.worker_dir, &CheckoutBindings::default())?;
    println!("workerd: start to first answer (GET /health) {:.1} ms", worker.start_to_first_answer.as_secs_f64() * 1e3);
    let json = [("Content-Type", "application/json")];
    let mut conn = Connection::open(&worker.open)?;
    let cold = Instant::now();
    let first = conn.send("POST", "/v1/address/validate", &json, &bodies[0])?;
    if first.status != 200 {
        return Err(format!("worker answered {} to validate: {}", first.status, first.body).into());
    }
    println!("workerd: first validate (loads reference data) {:.1} ms", cold.elapsed().as_secs_f64() * 1e3);
    let edge_health = time_route(&mut conn, "GET", "/health", &[], &[Vec::new()], args.requests)?;
    let edge_validate = time_route(&mut conn, "POST", "/v1/address/validate", &json, &bodies, args.requests)?;
    drop(worker);

    let dev = DevProcess::start(&std::env::current_exe()?)?;
    let auth = format!("Bearer {}", dev.key);
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let mut conn = Connection::open(&dev.addr)?;
    let dev_health = time_route(&mut conn, "GET", "/health", &[], &[Vec::new()], args.requests)?;
    let dev_validate = time_route(&mut conn, "POST", "/v1/address/validate", &headers, &bodies, args.requests)?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "{} sequential requests per route over one keep-alive loopback connection:", args.requests)?;
    writeln!(out, "  {:<40} {:>9} {:>9}", "", "p50 ms", "p99 ms")?;
    for (name, l) in [
        ("workerd  GET /health", &edge_health),
        ("workerd  POST /v1/address/validate", &edge_validate),
        ("lastmile dev  GET /health", &dev_health),
        ("lastmile dev  POST /v1/address/validate", &dev_validate),
    ] {
        writeln!(out, "  {name:<40} {:>9.3} {:>9.3}", l.p50, l.p99)?;
    }
    writeln!(
        out,
        "workerd validate - health: p50 {:+.3} ms (target <= 0.5), p99 {:+.3} ms (target <= 2)",
        edge_validate.p50 - edge_health.p50,
        edge_validate.p99 - edge_health.p99
    )?;
    Ok(())
}

/// Sends `n` requests one after another, cycling through `bodies`, after a short warm-up; every answer must
/// be a 200.
fn time_route(
    conn: &mut Connection,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    bodies: &[Vec<u8>],
    n: usize,
) -> Result<Latency, Box<dyn std::error::Error>> {
    for body in bodies.iter().cycle().take(20) {
        conn.send(method, path, headers, body)?;
    }
    let mut samples = Vec::with_capacity(n);
    for body in bodies.iter().cycle().take(n) {
        let started = Instant::now();
        let answer = conn.send(method, path, headers, body)?;
        samples.push(started.elapsed());
        if answer.status != 200 {
            return Err(format!("{method} {path} answered {}: {}", answer.status, answer.body).into());
        }
    }
    Ok(Latency::of(samples))
}

fn gzip_len(bytes: &[u8]) -> std::io::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}
