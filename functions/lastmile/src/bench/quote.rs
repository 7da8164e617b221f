//! `lastmile bench quote`: one parcel priced on every line in process (the rating engine alone, and with the
//! address engine reading the destination), then an HTTP load run against `lastmile dev`'s CarrierService
//! callback with Shopify's sample request from 50 concurrent keep-alive connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use jiff::civil::{date, time};
use lastmile_core::calendar::{CalendarId, holidays};
use lastmile_core::rating::card::builtin;
use lastmile_core::rating::engine::quote_all;
use lastmile_core::rating::quote::{Destination, Parcel, Request};
use lastmile_core::rating::transit::Handover;
use lastmile_core::rating::zone::Place;
use lastmile_core::units::Dimensions;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::fastest;
use crate::harness::dev::DevProcess;

#[derive(Debug, Args)]
pub struct QuoteBenchArgs {
    /// Concurrent connections of the load run.
    #[arg(long, default_value_t = 50)]
    pub connections: usize,
    /// Seconds of the load run.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

/// Shopify's documented CarrierService sample request (see functions/quote/tests/fixtures).
const SAMPLE: &str = include_str!("../../../quote/tests/fixtures/shopify_rate_request.json");
/// Shopify gives a CarrierService callback this long before it shows backup rates.
const SHOPIFY_DEADLINE: Duration = Duration::from_secs(3);

pub fn run(args: &QuoteBenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    in_process();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(load(args))
}

fn in_process() {
    let cards: Vec<_> = builtin().iter().filter_map(|c| c.as_ref().ok()).collect();
    let parcels =
        [Parcel { grams: 2300, dimensions: Some(Dimensions { length_mm: 400, width_mm: 300, height_mm: 200 }) }];
    let request = Request {
        origin: Place { country: "US", postcode: "07001" },
        destination: Destination {
            country: "US",
            postcode: "99501",
            region: Some("AK"),
            remote_area: true,
            ..Default::default()
        },
        parcels: &parcels,
        ship_date: date(2026, 11, 25),
        declared_value: None,
        options: &[],
        discount_basis_points: 0,
    };
    let weekdays = [1, 2, 3, 4, 5];
    let handover = Handover {
        local: date(2026, 11, 25).at(10, 0, 0, 0),
        cutoff: time(15, 0, 0, 0),
        working_weekdays: &weekdays,
        calendar: CalendarId::new("US", Some("NJ")),
    };
    let alaska = CalendarId::new("US", Some("AK"));
    let once = || quote_all(cards.iter().copied(), &request, &handover, &alaska, holidays());
    let rates = once();
    let per_quote = fastest(|| {
        std::hint::black_box(once());
    });
    println!(
        "quote one parcel on all {} lines ({} rates, {} excluded), dates included: {:.1} µs (target < 50 µs)",
        cards.len(),
        rates.rates.len(),
        rates.excluded.len(),
        per_quote * 1e6
    );
    let tenant = lastmile_platform::config::TenantConfig::sample("bench");
    let Ok(rules) = lastmile_core::duty::rules::Rules::builtin() else { return };
    let with_address = fastest(|| {
        let request = serde_json::json!({"from": "us-nj", "to": {"country": "US", "postcode": "99501"},
            "parcels": [{"weight": "2.3kg", "dims": "40x30x20cm"}], "ship_at": "2026-11-25T15:00:00Z"});
        let request: lastmile_fn_quote::QuoteRequest =
            serde_json::from_value(request).unwrap_or_else(|_| unreachable!());
        std::hint::black_box(lastmile_fn_quote::quote_request(&tenant, rules, request).is_ok());
    });
    println!(
        "the same through the quote API's request (address engine on the destination, JSON in): {:.1} µs",
        with_address * 1e6
    );
}

async fn load(args: &QuoteBenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let dev = DevProcess::start(&std::env::current_exe()?)?;
    let url = dev.carrier_service_url.clone().ok_or("lastmile dev printed no CarrierService URL")?;
    let path = Arc::new(url.split_once(&dev.addr).map(|(_, p)| p.to_owned()).ok_or("unexpected URL")?);
    let addr = Arc::new(dev.addr.clone());
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (addr, path) = (addr.clone(), path.clone());
        tasks.push(tokio::spawn(async move { connection(&addr, &path, deadline).await }));
    }
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut failures = 0usize;
    for task in tasks {
        match task.await {
            Ok(Ok(mut latencies)) => samples.append(&mut latencies),
            _ => failures += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    samples.sort();
    if samples.is_empty() {
        return Err("no request completed".into());
    }
    let at = |q: f64| super::quantile(&samples, q);
    let p99 = at(0.99);
    println!(
        "CarrierService callback on lastmile dev, {} connections for {:.0} s: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (target < 20 ms){}",
        args.connections,
        args.seconds,
        samples.len(),
        samples.len() as f64 / elapsed,
        at(0.5).as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        if failures > 0 { format!(", {failures} connections failed") } else { String::new() }
    );
    println!(
        "Shopify's callback deadline is {} s: {:.0}× the p99 under this load",
        SHOPIFY_DEADLINE.as_secs(),
        SHOPIFY_DEADLINE.as_secs_f64() / p99.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// One keep-alive connection sending the sample request until the deadline; every answer must be a 200.
async fn connection(
    addr: &str,
    path: &str,
    deadline: Instant,
) -> Result<Vec<Duration>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{SAMPLE}",
        SAMPLE.len()
    );
    let mut latencies = Vec::new();
    let mut line = String::new();
    let mut body = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        stream.get_mut().write_all(request.as_bytes()).await?;
        line.clear();
        stream.read_line(&mut line).await?;
        if !line.starts_with("HTTP/1.1 200") {
            return Err(format!("answer: {}", line.trim()).into());
        }
        let mut length = 0;
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let header = line.trim();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}
