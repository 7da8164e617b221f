//! `lastmile bench address`: single-thread throughput of validate+standardize over generated US addresses,
//! the Python `usaddress` parser and `usaddress-scourgify` normalizer on the same addresses in the same run
//! (as ratios), and the peak RSS of `lastmile dev` with all reference data loaded.

pub mod accuracy;
pub mod duty;
pub mod edge;
mod generator;
pub mod quote;
mod rss;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use clap::Args;
use lastmile_core::address::{self, AddressRequest};

pub use generator::generate;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Number of generated addresses.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// Seed of the address generator: the same seed gives the same addresses.
    #[arg(long, default_value_t = 20_261_125)]
    pub seed: u64,
    /// Python interpreter with usaddress and usaddress-scourgify installed (scripts/python-env makes one).
    #[arg(long, default_value = ".venv/bin/python")]
    pub python: PathBuf,
    /// The peer benchmark script.
    #[arg(long, default_value = "scripts/bench/peer_bench.py")]
    pub peer_script: PathBuf,
    /// Time budget of each contender (lastmile and each Python peer), in seconds: whole passes until it is
    /// spent, the fastest one kept. The same budget gives each the same chances of a quiet pass.
    #[arg(long, alias = "peer-seconds", default_value_t = 10.0)]
    pub seconds: f64,
    /// Skip the peak-RSS measurement of `lastmile dev`.
    #[arg(long)]
    pub no_rss: bool,
}

/// Throughput of one contender.
#[derive(Debug, Clone, Copy)]
struct Figure {
    n: usize,
    seconds: f64,
}

impl Figure {
    fn per_sec(self) -> f64 {
        self.n as f64 / self.seconds.max(1e-9)
    }
}

pub fn run(args: &BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let preload = Instant::now();
    let rows = address::preload();
    println!("reference data: {rows} rows parsed in {:.0} ms", preload.elapsed().as_secs_f64() * 1e3);
    let addresses = generate(args.count, args.seed);
    println!("generated {} US addresses (seed {})", addresses.len(), args.seed);

    let ours = measure_engine(&addresses, args.seconds);
    println!(
        "lastmile   validate+standardize: {:>10.0} addresses/s  ({} in {:.3} s, fastest pass in {:.0} s, 1 thread)",
        ours.per_sec(),
        ours.n,
        ours.seconds,
        args.seconds
    );

    match run_peers(args, &addresses) {
        Ok(peers) => {
            for (name, figure) in peers {
                println!(
                    "{name:<10} {:>31.0} addresses/s  ({} in {:.3} s)   lastmile/{name} = {:.1}x",
                    figure.per_sec(),
                    figure.n,
                    figure.seconds,
                    ours.per_sec() / figure.per_sec()
                );
            }
        }
        Err(e) => println!("peers not measured: {e}"),
    }
    println!("(each: fastest whole pass within --seconds after a warm-up; target lastmile/usaddress >= 50x)");
    if !args.no_rss {
        match rss::peak_rss_of_dev() {
            Ok(kib) => println!(
                "lastmile dev peak RSS with reference data loaded: {:.1} MB (target < 100 MB)",
                kib as f64 / 1024.0
            ),
            Err(e) => println!("peak RSS not measured: {e}"),
        }
    }
    println!("bench took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Times whole passes over the set after one warm-up pass, for at least `seconds` and five passes, and keeps
/// the fastest pass: the figure least disturbed by whatever else the machine is doing.
fn measure_engine(addresses: &[String], seconds: f64) -> Figure {
    let requests: Vec<AddressRequest> = addresses
        .iter()
        .map(|text| AddressRequest {
            country: Some("US".into()),
            text: Some(text.clone()),
            ..AddressRequest::default()
        })
        .collect();
    let pass =
        || requests.iter().map(|r| address::validate(r).map_or(0, |v| v.standardized.lines.len())).sum::<usize>();
    std::hint::black_box(pass());
    let started = Instant::now();
    let mut best = f64::INFINITY;
    let mut passes = 0;
    while passes < 5 || started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        std::hint::black_box(pass());
        best = best.min(t.elapsed().as_secs_f64());
        passes += 1;
    }
    Figure { n: requests.len(), seconds: best }
}

fn run_peers(
    args: &BenchArgs,
    addresses: &[String],
) -> Result<Vec<(&'static str, Figure)>, Box<dyn std::error::Error>> {
    if !args.python.exists() {
        return Err(format!("{} not found: run scripts/python-env first", args.python.display()).into());
    }
    let file = std::env::temp_dir().join(format!("lastmile-bench-{}.txt", std::process::id()));
    std::fs::write(&file, addresses.join("\n") + "\n")?;
    let output = Command::new(&args.python).arg(&args.peer_script).arg(&file).arg(args.seconds.to_string()).output();
    let _ = std::fs::remove_file(&file);
    let output = output?;
    if !output.status.success() {
        return Err(format!("peer script failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let report: serde_json::Value = serde_json::from_slice(output.stdout.trim_ascii())?;
    let figure = |name: &str| -> Result<Figure, Box<dyn std::error::Error>> {
        let n = report[name]["n"].as_u64().ok_or_else(|| format!("peer report has no {name}.n"))?;
        let seconds = report[name]["seconds"].as_f64().ok_or_else(|| format!("peer report has no {name}.seconds"))?;
        Ok(Figure { n: n as usize, seconds })
    };
    Ok(vec![("usaddress", figure("usaddress")?), ("scourgify", figure("scourgify")?)])
}

/// The `q` quantile (0.5 = median) of sorted, non-empty samples: the smallest sample with at least that share
/// of samples at or below it.
fn quantile(sorted: &[std::time::Duration], q: f64) -> std::time::Duration {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Seconds per call of `f`: the best of 20 rounds of 200 calls, after 200 to warm up. The minimum is the
/// figure least disturbed by other work on the machine.
pub(crate) fn fastest(mut f: impl FnMut()) -> f64 {
    for _ in 0..200 {
        f();
    }
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        for _ in 0..200 {
            f();
        }
        best = best.min(started.elapsed().as_secs_f64() / 200.0);
    }
    best
}
