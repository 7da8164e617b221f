//! `lastmile duty`: the landed cost (and, with `--precheck`, the customs pre-check) of a shipment given on the
//! command line, as the API would answer it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use lastmile_core::contract::ApiError;
use lastmile_core::duty::{Shipment, landed_cost, precheck};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct DutyArgs {
    /// Destination country (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub to: String,
    /// Destination subdivision where taxes differ by it (Canadian province).
    #[arg(long)]
    pub subdivision: Option<String>,
    /// Country shipped from (the warehouse); the first line's origin when absent.
    #[arg(long)]
    pub from: Option<String>,
    /// Shipment date (YYYY-MM-DD): the rules in force on it apply.
    #[arg(long)]
    pub date: String,
    /// DDP (the seller pays duty and import tax) or DAP (the buyer does).
    #[arg(long, default_value = "DDP")]
    pub incoterm: String,
    /// courier or postal.
    #[arg(long, default_value = "courier")]
    pub channel: String,
    /// Carrier name, for carrier-specific fees.
    #[arg(long)]
    pub carrier: Option<String>,
    /// A line: `hs=94016100,origin=CN,value=120.00 EUR,qty=1` plus optional `weight=2.5kg`, `desc=…`,
    /// `class=reduced`, `dg=lithium_ion_in_equipment`. Repeat for more lines.
    #[arg(long = "line", required = true)]
    pub lines: Vec<String>,
    /// International transport charged: `12.50 EUR`.
    #[arg(long)]
    pub shipping: Option<String>,
    #[arg(long)]
    pub insurance: Option<String>,
    /// Seller identifiers.
    #[arg(long)]
    pub ioss: Option<String>,
    #[arg(long)]
    pub uk_vat: Option<String>,
    #[arg(long)]
    pub eori: Option<String>,
    /// A customs folder over the shipped rules (files replace or add to `shared/data/customs`).
    #[arg(long)]
    pub customs_dir: Option<PathBuf>,
    /// Also run the customs pre-check.
    #[arg(long)]
    pub precheck: bool,
    /// Print the explanation as text instead of JSON.
    #[arg(long)]
    pub explain: bool,
}

/// `hs=…,origin=…,value=120.00 EUR,qty=1` → a line object of the API.
fn parse_line(text: &str, index: usize) -> Result<Value, ApiError> {
    let field = |name: &str| format!("lines[{index}].{name}");
    let mut line = json!({"description": "goods", "quantity": 1});
    for pair in text.split(',') {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            ApiError::new(400, "invalid_line", format!("{pair:?} is not key=value (line {text:?})"))
                .with_field(field(""))
        })?;
        let value = value.trim();
        match key.trim() {
            "hs" => line["hs_code"] = value.into(),
            "origin" => line["origin"] = value.to_ascii_uppercase().into(),
            "value" => line["unit_value"] = value.into(),
            "qty" => {
                let quantity: u32 = value.parse().map_err(|_| {
                    ApiError::new(400, "invalid_line", format!("qty {value:?}")).with_field(field("quantity"))
                })?;
                line["quantity"] = quantity.into();
            }
            "weight" => {
                let grams = lastmile_core::units::parse_weight(value).map_err(|e| {
                    ApiError::new(400, "invalid_line", e.to_string()).with_field(field("unit_weight_g"))
                })?;
                line["unit_weight_g"] = grams.into();
            }
            "desc" => line["description"] = value.into(),
            "class" => line["tax_class"] = value.into(),
            "dg" => line["dangerous_goods"] = value.into(),
            other => {
                return Err(ApiError::new(400, "invalid_line", format!("unknown key {other:?} in {text:?}"))
                    .with_field(field(other)));
            }
        }
    }
    Ok(line)
}

fn shipment(args: &DutyArgs) -> Result<Shipment, ApiError> {
    let lines = args.lines.iter().enumerate().map(|(i, l)| parse_line(l, i)).collect::<Result<Vec<_>, _>>()?;
    let from = args.from.clone().or_else(|| lines.first().and_then(|l| l["origin"].as_str()).map(str::to_owned));
    let mut value = json!({
        "to": args.to.to_ascii_uppercase(),
        "from": from.unwrap_or_default(),
        "date": args.date,
        "incoterm": args.incoterm.to_ascii_uppercase(),
        "channel": args.channel,
        "lines": lines,
        "seller": {},
    });
    let optional = [
        ("subdivision", &args.subdivision),
        ("carrier", &args.carrier),
        ("shipping", &args.shipping),
        ("insurance", &args.insurance),
    ];
    for (key, option) in optional {
        if let Some(v) = option {
            value[key] = v.clone().into();
        }
    }
    for (key, option) in [("ioss_number", &args.ioss), ("uk_vat_number", &args.uk_vat), ("eori", &args.eori)] {
        if let Some(v) = option {
            value["seller"][key] = v.clone().into();
        }
    }
    serde_json::from_value(value).map_err(|e| ApiError::new(422, "invalid_shipment", e.to_string()))
}

/// Prints the landed cost as JSON (or its explanation); exit code 2 when the shipment was bad.
pub fn run(args: &DutyArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let rules = match &args.customs_dir {
        Some(dir) => lastmile_platform::customs::load_rules(dir)?,
        None => lastmile_core::duty::rules::Rules::builtin()?.clone(),
    };
    let mut out = std::io::stdout().lock();
    let outcome = shipment(args).and_then(|s| Ok((landed_cost(&rules, &s)?, s)));
    let (cost, shipment) = match outcome {
        Ok(answer) => answer,
        Err(e) => {
            serde_json::to_writer_pretty(&mut out, &e.body())?;
            writeln!(out)?;
            return Ok(2);
        }
    };
    let problems = args.precheck.then(|| precheck::precheck(&rules, &shipment));
    if args.explain {
        writeln!(out, "{}", cost.regime.summary)?;
        for line in &cost.explanation {
            writeln!(out, "  {line}")?;
        }
        for warning in &cost.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
        for p in problems.iter().flatten() {
            writeln!(out, "  {:?} {} ({}): {}", p.severity, p.code, p.field, p.message)?;
        }
    } else if let Some(problems) = problems {
        serde_json::to_writer_pretty(&mut out, &json!({"landed_cost": cost, "precheck": problems}))?;
        writeln!(out)?;
    } else {
        serde_json::to_writer_pretty(&mut out, &cost)?;
        writeln!(out)?;
    }
    Ok(0)
}
