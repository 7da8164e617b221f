//! `lastmile bench duty`: the landed cost of a 5-line order in process, next to the round trip of a remote
//! landed-cost API (no local peer exists, so the comparison is with a 100 ms call).

use clap::Args;
use lastmile_core::duty::rules::Rules;
use lastmile_core::duty::{Shipment, landed_cost, precheck};
use serde_json::json;

use super::fastest;

#[derive(Debug, Args)]
pub struct DutyBenchArgs {
    /// The remote API's round trip to compare with, in milliseconds.
    #[arg(long, default_value_t = 100.0)]
    pub remote_ms: f64,
}

/// A 5-line order of the sample categories: furniture, apparel, a power tool, a laptop and brake parts.
fn order(to: &str) -> Result<Shipment, serde_json::Error> {
    let line = |hs: &str, origin: &str, value: &str, quantity: u32| json!({"description": "bench goods", "hs_code": hs, "origin": origin, "unit_value": value, "quantity": quantity});
    serde_json::from_value(json!({
        "to": to, "from": "DE", "date": "2026-11-25", "incoterm": "DDP", "shipping": "35.00 EUR",
        "lines": [
            line("94016100", "CN", "120.00 EUR", 1),
            line("61091000", "VN", "15.00 EUR", 3),
            line("84672100", "CN", "89.00 EUR", 1),
            line("84713000", "CN", "650.00 EUR", 1),
            line("87083000", "JP", "40.00 EUR", 2),
        ]
    }))
}

pub fn run(args: &DutyBenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let rules = Rules::builtin()?;
    for (to, what) in [("DE", "EU tariff, CIF, VAT"), ("US", "EUR → USD, whole-dollar rounding, Section 301/232, MPF")]
    {
        let shipment = order(to)?;
        let cost = landed_cost(rules, &shipment)?;
        let seconds = fastest(|| {
            let _ = std::hint::black_box(landed_cost(rules, std::hint::black_box(&shipment)));
        });
        println!(
            "landed cost, 5-line order to {to} ({what}): {:.2} µs (target < 20 µs); duty {}, tax {}, landed {}; \
             {:.0}× faster than a {} ms remote landed-cost call",
            seconds * 1e6,
            cost.totals.duty,
            cost.totals.tax,
            cost.totals.landed_cost,
            args.remote_ms / 1e3 / seconds,
            args.remote_ms,
        );
    }
    let shipment = order("DE")?;
    let seconds = fastest(|| {
        std::hint::black_box(precheck::precheck(rules, std::hint::black_box(&shipment)));
    });
    println!("customs pre-check, same order: {:.2} µs", seconds * 1e6);
    Ok(())
}
