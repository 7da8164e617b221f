//! `lastmile bench address`: single-thread throughput of validate+standardize over generated US addresses,
//! the Python `usaddress` parser and `usaddress-scourgify` normalizer on the same addresses in the same run
//! (as ratios), and the peak RSS of `lastmile dev` with all reference data loaded.

pub mod accuracy;
pub mod duty;
pub mod edge;
mod generator;
pub mod quote;
mod rss;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
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
    /// How long each Python peer runs, in seconds, in rounds: a peer makes one whole pass, then lastmile makes
    /// passes for as long as that took. The fastest pass of each side is kept.
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
    let engine = Engine::new(&addresses);
    engine.pass(); // warm-up

    match Peers::start(args, &addresses).and_then(|mut peers| race(&engine, &mut peers, args.seconds)) {
        Ok(rounds) => report(&engine, &rounds),
        Err(e) => {
            println!("peers not measured: {e}");
            let (ours, passes) = engine.fastest_within(args.seconds);
            println!("{}", engine_line(engine.figure(ours), passes));
        }
    }
    println!(
        "(each: fastest whole pass; the contenders take turns in rounds of equal time; target lastmile/usaddress >= 50x)"
    );
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

/// The peers, in the order each round runs them.
const PEERS: [&str; 2] = ["usaddress", "scourgify"];

/// One turn of a peer and of lastmile right after it, for the same wall time.
#[derive(Debug, Clone, Copy)]
struct Round {
    peer: &'static str,
    theirs: Figure,
    /// lastmile's fastest pass within the time the peer's pass took.
    ours: Figure,
    our_passes: usize,
}

/// Rounds in which each peer makes one whole pass and lastmile then makes passes for as long as that took,
/// until each peer has run for `seconds` (and at least three rounds). Taking turns, both sides meet the same
/// moments of the machine's load; timed one after the other, a slow minute for one side could decide the ratio.
fn race(engine: &Engine, peers: &mut Peers, seconds: f64) -> Result<Vec<Round>, Box<dyn std::error::Error>> {
    let mut rounds = Vec::new();
    let mut spent = [0.0; PEERS.len()];
    while rounds.len() < 3 * PEERS.len() || spent.iter().any(|s| *s < seconds) {
        for (peer, spent) in PEERS.into_iter().zip(&mut spent) {
            let theirs = peers.pass(peer)?;
            *spent += theirs.seconds;
            let (ours, our_passes) = engine.fastest_within(theirs.seconds);
            rounds.push(Round { peer, theirs, ours: engine.figure(ours), our_passes });
        }
    }
    Ok(rounds)
}

fn report(engine: &Engine, rounds: &[Round]) {
    let fastest = |figures: &mut dyn Iterator<Item = Figure>| {
        figures.min_by(|a, b| a.seconds.total_cmp(&b.seconds)).unwrap_or(engine.figure(f64::INFINITY))
    };
    let ours = fastest(&mut rounds.iter().map(|r| r.ours));
    println!("{}", engine_line(ours, rounds.iter().map(|r| r.our_passes).sum()));
    for peer in PEERS {
        let turns: Vec<&Round> = rounds.iter().filter(|r| r.peer == peer).collect();
        let theirs = fastest(&mut turns.iter().map(|r| r.theirs));
        println!(
            "{peer:<10} {:>31.0} addresses/s  ({} in {:.3} s, fastest of {} passes)   lastmile/{peer} = {:.1}x",
            theirs.per_sec(),
            theirs.n,
            theirs.seconds,
            turns.len(),
            ours.per_sec() / theirs.per_sec()
        );
        let mut ratios: Vec<f64> = turns.iter().map(|r| r.ours.per_sec() / r.theirs.per_sec()).collect();
        ratios.sort_by(f64::total_cmp);
        if let (Some(min), Some(max)) = (ratios.first(), ratios.last()) {
            println!(
                "{:<10} per round: {min:.1}x to {max:.1}x, median {:.1}x ({} rounds)",
                "",
                ratios[ratios.len() / 2],
                ratios.len()
            );
        }
    }
}

fn engine_line(ours: Figure, passes: usize) -> String {
    format!(
        "lastmile   validate+standardize: {:>10.0} addresses/s  ({} in {:.4} s, fastest of {passes} passes, 1 thread)",
        ours.per_sec(),
        ours.n,
        ours.seconds,
    )
}

/// lastmile's contender: validate+standardize of every address, on this thread.
struct Engine {
    requests: Vec<AddressRequest>,
}

impl Engine {
    fn new(addresses: &[String]) -> Self {
        let requests = addresses
            .iter()
            .map(|text| AddressRequest {
                country: Some("US".into()),
                text: Some(text.clone()),
                ..AddressRequest::default()
            })
            .collect();
        Engine { requests }
    }

    fn figure(&self, seconds: f64) -> Figure {
        Figure { n: self.requests.len(), seconds }
    }

    /// Seconds of one whole pass.
    fn pass(&self) -> f64 {
        let started = Instant::now();
        let lines: usize =
            self.requests.iter().map(|r| address::validate(r).map_or(0, |v| v.standardized.lines.len())).sum();
        std::hint::black_box(lines);
        started.elapsed().as_secs_f64()
    }

    /// The fastest of the whole passes made within `seconds` (at least one), and how many were made.
    fn fastest_within(&self, seconds: f64) -> (f64, usize) {
        let started = Instant::now();
        let (mut best, mut passes) = (f64::INFINITY, 0);
        while passes == 0 || started.elapsed().as_secs_f64() < seconds {
            best = best.min(self.pass());
            passes += 1;
        }
        (best, passes)
    }
}

/// The Python peers (`scripts/bench/peer_bench.py`), loaded once and asked for one pass at a time.
struct Peers {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Peers {
    fn start(args: &BenchArgs, addresses: &[String]) -> Result<Self, Box<dyn std::error::Error>> {
        let file =
            std::env::temp_dir().join(format!("lastmile-bench-{}-{}.txt", std::process::id(), fastrand::u64(..)));
        std::fs::write(&file, addresses.join("\n") + "\n")?;
        // The script reads the whole file before it answers that it is ready.
        let started = Self::spawn(args, &file);
        let _ = std::fs::remove_file(&file);
        let (peers, ready) = started?;
        if ready["ready"] != true {
            return Err(format!("peer script did not start: {ready}").into());
        }
        println!(
            "peers: Python {}, usaddress {}, usaddress-scourgify {}",
            ready["python"].as_str().unwrap_or("?"),
            ready["usaddress_version"].as_str().unwrap_or("?"),
            ready["scourgify_version"].as_str().unwrap_or("?")
        );
        Ok(peers)
    }

    fn spawn(
        args: &BenchArgs,
        file: &std::path::Path,
    ) -> Result<(Self, serde_json::Value), Box<dyn std::error::Error>> {
        let mut child = Command::new(&args.python)
            .arg(&args.peer_script)
            .arg(file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("{} not found: run scripts/python-env first", args.python.display())
                }
                _ => format!("cannot start {}: {e}", args.python.display()),
            })?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("peer script has no stdout")?);
        let mut peers = Peers { child, stdin, stdout };
        let ready = peers.reply()?;
        Ok((peers, ready))
    }

    /// One whole pass of `peer` over the addresses.
    fn pass(&mut self, peer: &str) -> Result<Figure, Box<dyn std::error::Error>> {
        let stdin = self.stdin.as_mut().ok_or("peer script closed")?;
        writeln!(stdin, "{peer}")?;
        stdin.flush()?;
        let reply = self.reply()?;
        if let Some(error) = reply["error"].as_str() {
            return Err(format!("peer script: {error}").into());
        }
        let n = reply["n"].as_u64().ok_or_else(|| format!("peer reply has no n: {reply}"))?;
        let seconds = reply["seconds"].as_f64().ok_or_else(|| format!("peer reply has no seconds: {reply}"))?;
        Ok(Figure { n: n as usize, seconds })
    }

    fn reply(&mut self) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            // The script ended; what it wrote to stderr says why (a missing package, say).
            let mut why = String::new();
            if let Some(mut stderr) = self.child.stderr.take() {
                let _ = stderr.read_to_string(&mut why);
            }
            return Err(format!("peer script ended: {}", why.trim()).into());
        }
        Ok(serde_json::from_str(&line)?)
    }
}

impl Drop for Peers {
    /// Closing its input ends the script after the pass it is making.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for the peer script that speaks its protocol: every pass "takes" 10 ms.
    const FAKE_PEERS: &str = r#"
import json, sys
n = sum(1 for line in open(sys.argv[1], encoding="utf-8") if line.strip())
print(json.dumps({"ready": True, "n": n, "python": "3", "usaddress_version": "0", "scourgify_version": "0"}), flush=True)
for request in sys.stdin:
    print(json.dumps({"peer": request.strip(), "n": n, "seconds": 0.01, "errors": 0}), flush=True)
"#;

    fn args_with_script(name: &str, script: &str) -> BenchArgs {
        let peer_script = std::env::temp_dir().join(format!("lastmile-bench-{name}-{}.py", std::process::id()));
        std::fs::write(&peer_script, script).expect("write the script");
        BenchArgs { count: 20, seed: 1, python: "python3".into(), peer_script, seconds: 0.05, no_rss: true }
    }

    #[test]
    fn the_contenders_take_turns_until_each_peer_has_run_its_time() {
        let args = args_with_script("fake-peers", FAKE_PEERS);
        let addresses = generate(args.count, args.seed);
        let engine = Engine::new(&addresses);
        let mut peers = Peers::start(&args, &addresses).expect("the fake peers start");
        let rounds = race(&engine, &mut peers, args.seconds).expect("the race runs");

        // 0.05 s for each peer at 0.01 s a pass: five rounds, each peer once a round, usaddress first.
        let order: Vec<&str> = rounds.iter().map(|r| r.peer).collect();
        assert_eq!(order, PEERS.repeat(5));
        for round in &rounds {
            assert_eq!(round.theirs.n, 20, "the script read every address from the file");
            assert_eq!(round.ours.n, 20);
            assert!(round.our_passes >= 1 && round.ours.seconds.is_finite());
        }
        let _ = std::fs::remove_file(&args.peer_script);
    }

    #[test]
    fn a_peer_script_that_fails_to_start_says_why() {
        let args = args_with_script("failing-peers", "import sys\nsys.exit('No module named usaddress')\n");
        let error = Peers::start(&args, &generate(3, 1)).err().expect("no peers").to_string();
        assert!(error.contains("No module named usaddress"), "{error}");

        let _ = std::fs::remove_file(&args.peer_script);
        let args = BenchArgs { python: std::env::temp_dir().join("lastmile-bench-no-python"), ..args };
        let error = Peers::start(&args, &generate(3, 1)).err().expect("no peers").to_string();
        assert!(error.contains("run scripts/python-env first"), "{error}");
    }
}
