//! Command-line interface: `lastmile dev`, `lastmile address validate`, `lastmile bench address`,
//! `lastmile openapi`, `lastmile job claims`.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use lastmile_core::address::{self, AddressRequest};
use lastmile_core::contract::{self, ApiError, MAX_ADDRESS_BODY_BYTES};

#[derive(Debug, Parser)]
#[command(name = "lastmile", version, about = "Last-mile logistics engine for cross-border sellers")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every function in one local process: API and dashboard over an embedded store.
    Dev {
        /// Address to listen on (default from lastmile.toml: 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Where configuration, tenants, keys and data live.
        #[arg(long, default_value = ".lastmile")]
        data_dir: PathBuf,
    },
    /// Address tools.
    Address {
        #[command(subcommand)]
        command: AddressCommand,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Price a parcel on every line the tenant ships with.
    Quote(QuoteArgs),
    /// Duty, import tax and fees of a shipment under the rules in force on its date.
    Duty(crate::duty::DutyArgs),
    /// Shopify set-up.
    Shopify {
        #[command(subcommand)]
        command: ShopifyCommand,
    },
    /// Tenants and their API keys.
    Tenant(crate::tenant::TenantArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Run a seller's season through the same ingest paths real data takes, over a data directory
    /// `lastmile dev` then serves: orders, carrier events, POD files; the jobs compute alerts and KPIs.
    Simulate(SimulateArgs),
    /// Run a scheduled job once over a data directory, printing what it did as JSON.
    Job {
        #[command(subcommand)]
        command: JobCommand,
    },
}

/// The scheduled jobs `lastmile dev` runs on their schedules, on demand.
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Claims: lost, damaged and late shipments claimed per the lines' terms, once per shipment and type.
    Claims(ClaimsJobArgs),
    /// Carrier invoice reconciliation: the files in the inbox not processed yet, checked against what was quoted;
    /// prints the report as JSON.
    Reconcile(ReconcileArgs),
}

#[derive(Debug, Args)]
pub struct ClaimsJobArgs {
    #[arg(long, default_value = ".lastmile")]
    pub data_dir: PathBuf,
    /// One tenant; every enabled tenant when absent.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The day to judge on (YYYY-MM-DD); today (UTC) when absent.
    #[arg(long)]
    pub date: Option<jiff::civil::Date>,
}

/// `lastmile job claims`: prints the job's reports as JSON.
pub fn job_claims(args: &ClaimsJobArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let done = runtime
        .block_on(crate::claims::run_once(&args.data_dir, args.tenant.as_deref(), args.date))
        .map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&done)?);
    Ok(0)
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[arg(long, default_value = ".lastmile")]
    pub data_dir: PathBuf,
    #[arg(long, default_value = "default")]
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// First day of orders.
    #[arg(long, default_value = "2026-11-15")]
    pub start: jiff::civil::Date,
    /// Days of orders.
    #[arg(long, default_value_t = 45)]
    pub days: u32,
    /// Average orders per day (weekdays and sales move it).
    #[arg(long, default_value_t = 500)]
    pub orders_per_day: u32,
    /// The same seed gives the same season.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value = ".lastmile")]
    pub data_dir: PathBuf,
    #[arg(long, default_value = "default")]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum ShopifyCommand {
    /// Register the tenant's CarrierService callback in a shop (Admin GraphQL `carrierServiceCreate`).
    RegisterCarrierService(RegisterCarrierServiceArgs),
}

#[derive(Debug, Args)]
pub struct RegisterCarrierServiceArgs {
    /// The shop: my-shop.myshopify.com.
    #[arg(long)]
    pub shop: String,
    /// The app's Admin API access token for the shop (scope write_shipping).
    #[arg(long)]
    pub access_token: String,
    /// The callback URL that `lastmile dev` printed (or your deployment's), token included.
    #[arg(long)]
    pub callback_url: String,
    /// The name buyers see on the rates' carrier.
    #[arg(long, default_value = "lastmile")]
    pub name: String,
    /// Admin API base URL instead of https://SHOP (for a proxy or a local stand-in).
    #[arg(long)]
    pub admin_url: Option<String>,
}

/// `lastmile shopify register-carrier-service`: prints the new carrier service's id.
pub fn register_carrier_service(args: &RegisterCarrierServiceArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let mut client = lastmile_platform::shopify_admin::AdminClient::for_shop(&args.shop, &args.access_token);
    if let Some(base) = &args.admin_url {
        client.base = base.clone();
    }
    let id = client.create_carrier_service(&args.name, &args.callback_url)?;
    println!("{id}");
    Ok(0)
}

#[derive(Debug, Args)]
pub struct QuoteArgs {
    /// Warehouse id from the tenant's configuration (its first warehouse when absent).
    #[arg(long)]
    pub from: Option<String>,
    /// Destination country (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub to_country: String,
    /// Destination postcode.
    #[arg(long)]
    pub to_postcode: String,
    /// Destination city, when known (it helps the address engine judge the destination).
    #[arg(long)]
    pub to_city: Option<String>,
    /// Weight with its unit: 2.3kg, 500g, 5lb, 12oz.
    #[arg(long)]
    pub weight: String,
    /// Dimensions with their unit: 40x30x20cm, 16x12x8in.
    #[arg(long)]
    pub dims: Option<String>,
    /// Order time (RFC 3339); now when absent.
    #[arg(long)]
    pub ship_at: Option<String>,
    /// Data directory whose tenant configuration to use; the sample configuration when it has none.
    #[arg(long, default_value = ".lastmile")]
    pub data_dir: PathBuf,
    #[arg(long, default_value = "default")]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum AddressCommand {
    /// Validate and standardize an address given as free text, or a JSON-lines batch on standard input.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Destination country (ISO 3166-1 alpha-2) for free text, and the default for JSON lines without one.
    #[arg(long)]
    pub country: Option<String>,
    /// Read one JSON request (or a plain text line, with --country) per input line; write one JSON result per line.
    #[arg(long)]
    pub jsonl: bool,
    /// The address as free text.
    pub text: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Throughput of validate+standardize over generated US addresses, against usaddress and scourgify.
    Address(crate::bench::BenchArgs),
    /// Component accuracy of the US parser on the labelled corpora in tests/accuracy.
    Accuracy(crate::bench::accuracy::AccuracyArgs),
    /// The edge worker in workerd: bundle size, start-up, validate vs health latency, next to `lastmile dev`.
    Edge(crate::bench::edge::EdgeBenchArgs),
    /// Quoting one parcel on every line, and a load run against the CarrierService callback of `lastmile dev`.
    Quote(crate::bench::quote::QuoteBenchArgs),
    /// Landed cost of a 5-line order in process, against a remote API's round trip.
    Duty(crate::bench::duty::DutyBenchArgs),
}

/// `lastmile quote`: prints the rates as JSON; exit code 2 when the request was bad.
pub fn quote(args: &QuoteArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let registered =
        lastmile_platform::tenants::TenantRegistry::open(&args.data_dir).ok().and_then(|r| r.tenant(&args.tenant));
    let tenant =
        registered.map_or_else(|| lastmile_platform::config::TenantConfig::sample(&args.tenant), |t| (*t).clone());
    let mut request = serde_json::json!({
        "to": {"country": args.to_country, "postcode": args.to_postcode},
        "parcels": [{"weight": args.weight}],
    });
    if let Some(from) = &args.from {
        request["from"] = from.clone().into();
    }
    if let Some(city) = &args.to_city {
        request["to"]["city"] = city.clone().into();
    }
    if let Some(dims) = &args.dims {
        request["parcels"][0]["dims"] = dims.clone().into();
    }
    if let Some(at) = &args.ship_at {
        request["ship_at"] = at.clone().into();
    }
    let outcome = serde_json::from_value::<lastmile_fn_quote::QuoteRequest>(request)
        .map_err(|e| ApiError::new(422, "invalid_request", e.to_string()))
        .and_then(|request| {
            let rules = lastmile_core::duty::rules::Rules::builtin()
                .map_err(|e| ApiError::new(422, "customs_rules", e.to_string()))?;
            lastmile_fn_quote::quote_request(&tenant, rules, request)
        });
    let mut out = std::io::stdout().lock();
    let code = match outcome {
        Ok(answer) => {
            serde_json::to_writer_pretty(&mut out, &answer)?;
            0
        }
        Err(e) => {
            serde_json::to_writer_pretty(&mut out, &e.body())?;
            2
        }
    };
    writeln!(out)?;
    Ok(code)
}

/// Validates one line of a JSON-lines batch: a JSON object, or plain text when a default country is given.
pub fn validate_jsonl_line(line: &str, default_country: Option<&str>) -> serde_json::Value {
    let trimmed = line.trim();
    let request: Result<AddressRequest, ApiError> = if trimmed.starts_with('{') {
        contract::parse_json_body::<AddressRequest>(trimmed.as_bytes(), MAX_ADDRESS_BODY_BYTES).map(|mut r| {
            if r.country.is_none() && r.country_code.is_none() {
                r.country = default_country.map(str::to_owned);
            }
            r
        })
    } else {
        Ok(AddressRequest {
            country: default_country.map(str::to_owned),
            text: Some(trimmed.to_owned()),
            ..AddressRequest::default()
        })
    };
    match request.and_then(|r| address::validate(&r)) {
        Ok(result) => serde_json::to_value(result).unwrap_or_default(),
        Err(e) => serde_json::to_value(e.body()).unwrap_or_default(),
    }
}

/// `lastmile address validate`: exit code 0 when every address could be read, 2 when a request was bad.
pub fn address_validate(args: &ValidateArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.jsonl {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            serde_json::to_writer(&mut out, &validate_jsonl_line(&line, args.country.as_deref()))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(0);
    }
    let Some(text) = &args.text else {
        return Err("give the address as text, or --jsonl to read JSON lines from standard input".into());
    };
    let request =
        AddressRequest { country: args.country.clone(), text: Some(text.clone()), ..AddressRequest::default() };
    match address::validate(&request) {
        Ok(result) => {
            serde_json::to_writer_pretty(&mut out, &result)?;
            out.write_all(b"\n")?;
            out.flush()?;
            Ok(0)
        }
        Err(e) => {
            serde_json::to_writer_pretty(&mut out, &e.body())?;
            out.write_all(b"\n")?;
            out.flush()?;
            Ok(2)
        }
    }
}
