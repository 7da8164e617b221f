//! `lastmile simulate`: a seller's season run through the same paths real data takes, over the data directory
//! `lastmile dev` serves. Every port reads one simulated clock, which the driver moves an hour at a time:
//!
//! - each order of the model ([`crate::simulate`]) goes in through `POST /v1/orders` when its time comes, and the
//!   orders queue is drained through the router (held orders come back through the sweep, as in `lastmile dev`);
//! - each shipment the router made gets its first leg's number through `POST /v1/shipments/{id}/tracking`, and
//!   the model draws its story;
//! - each event reaches lastmile when its carrier would send it, in the carrier's own format, through the signed
//!   carrier webhook (POD files through the signed POD upload), and the tracking queue is drained through the
//!   tracking consumer;
//! - the stall job runs every hour and the KPI roll-up at the end of every day;
//! - at the end, the carriers' invoices of the season's shipments ([`crate::simulate::invoices`]) are dropped into
//!   the blob store's invoice inbox, with the discrepancies planted in them listed in
//!   `<data dir>/simulation/planted-invoice-discrepancies.json` (`lastmile job reconcile` finds them).
//!
//! The driver writes no status, alert or KPI itself: what the dashboard shows afterwards comes from the jobs.
//! It configures the seller as the model needs (stock, the lines' POD policies), as a seller would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use lastmile_core::tracking::pod::{PodPolicy, PodRequirement};
use lastmile_fn_ingest::carriers::{SIGNATURE_HEADER, sign_carrier_body};
use lastmile_platform::ports::clock::ManualClock;
use lastmile_platform::ports::secrets::FileSecrets;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::{decisions, shipments};
use lastmile_platform::tenants::TenantContext;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::dev::Prepared;
use crate::jobs::{self, BatchHandler};
use crate::simulate::invoices::{self as carrier_invoices, Billable, Planted};
use crate::simulate::returns::ReturnPlan;
use crate::simulate::{
    AFTERSHIP, FEDEX, PARCELNET, Scenario, ScheduledEvent, ShipmentFacts, Story, orders_for_day, parcel_story, render,
    stock_levels,
};

/// How often the run's commits are flushed to disk (simulated time), so that redb can reuse freed pages.
const CHECKPOINT_SECONDS: i64 = 4 * 3600;

/// Hours from an order's routing to the carrier's pickup.
const PICKUP_AFTER_HOURS: i64 = 18;

#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub data_dir: PathBuf,
    pub tenant: String,
    pub start: Date,
    pub days: u32,
    pub orders_per_day: u32,
    pub seed: u64,
}

/// What a run sent and what the jobs made of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub orders: usize,
    pub shipments: usize,
    pub events_sent: usize,
    pub webhooks: usize,
    pub pod_files: usize,
    pub alerts: usize,
    /// Claims the daily claims job raised (lost, damaged, late).
    pub claims: usize,
    /// Returns the buyers asked for and the API opened, those it refused (outside the window, nothing left to
    /// return), and inspections made.
    pub returns: usize,
    pub returns_refused: usize,
    pub inspections: usize,
    pub kpi_records: usize,
    /// Carrier invoice files dropped into the inbox, and the discrepancies planted in them.
    pub invoices: usize,
    pub planted: usize,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// A run: the model, and every story drawn, by shipment id (what a test computes its expectations from).
pub struct Run {
    pub scenario: Scenario,
    pub summary: Summary,
    pub stories: BTreeMap<String, Story>,
    /// When the run stopped: events due later were not sent.
    pub end: Timestamp,
    /// The local API key this run's first start made, to log in with.
    pub new_key: Option<String>,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the season over the data directory.
pub async fn run(options: &SimulateOptions) -> Result<Run, Error> {
    let scenario = Scenario::default_for(options.start, options.days, options.orders_per_day, options.seed);
    let zone = TimeZone::get(&scenario.shop_zone)?;
    let start = options.start.to_zoned(zone.clone())?.timestamp();
    // The day after the last day of orders: the run ends as it begins.
    let after_last = options.start.checked_add(jiff::Span::new().days(i64::from(options.days)))?;
    let end = after_last.to_zoned(zone.clone())?.timestamp();
    let clock = Arc::new(ManualClock::new(start));
    let prepared = crate::dev::prepare_with_clock(&options.data_dir, clock.clone()).await?;
    // A run can start over if it dies: its commits reach the disk together at the end.
    let batch = lastmile_platform::embedded::batch_commits();
    configure(&prepared, &options.tenant, &scenario).await?;
    let mut driver = Driver::new(&prepared, &options.tenant, scenario.clone())?;
    driver.stock().await?;

    // The claims job runs daily, before the KPI roll-up counts claims.
    let claims = crate::claims::ports(prepared.table.clone(), clock.clone());
    let mut now = start;
    let mut orders: Vec<Value> = Vec::new();
    let mut next_day = options.start;
    let mut summary = Summary::default();
    while now < end {
        now = now.checked_add(SignedDuration::from_hours(1))?;
        clock.advance(SignedDuration::from_hours(1));
        // Each day's orders are drawn when the day begins (in the shop's zone), and sent as their times come.
        while next_day < after_last && next_day.to_zoned(zone.clone())?.timestamp() < now {
            orders.extend(orders_for_day(&scenario, next_day, &mut scenario.order_rng(next_day)));
            next_day = next_day.tomorrow()?;
        }
        let due: Vec<Value> = take_due(&mut orders, now);
        summary.orders += due.len();
        driver.send_orders(&due).await?;
        driver.route(now).await?;
        driver.send_events(now).await?;
        driver.drain_tracking().await?;
        driver.send_returns(now, &mut summary).await?;
        summary.alerts += crate::tracking::run_stalls_once(&prepared.tracking, &prepared.registry, now).await;
        if is_midnight(now, &scenario.shop_zone) {
            summary.claims += run_claims_once(&claims, &prepared.registry, now).await;
            summary.kpi_records += crate::tracking::run_kpi_once(&prepared.tracking, &prepared.registry, now).await;
        }
        if now.as_second() % CHECKPOINT_SECONDS == 0 {
            batch.checkpoint(prepared.table.database())?;
        }
    }
    summary.claims += run_claims_once(&claims, &prepared.registry, now).await;
    summary.kpi_records += crate::tracking::run_kpi_once(&prepared.tracking, &prepared.registry, now).await;
    let planted = drop_invoices(&prepared, &options.tenant, &driver.scenario, &driver.billable, options.seed).await?;
    summary.invoices = planted.len();
    summary.planted = planted.iter().map(|p| p.discrepancies.len()).sum();
    batch.finish(prepared.table.database())?;
    summary.shipments = driver.stories.len();
    summary.events_sent = driver.events_sent;
    summary.webhooks = driver.webhooks;
    summary.pod_files = driver.pod_files;
    summary.from = Some(options.start);
    summary.to = options.start.checked_add(jiff::Span::new().days(i64::from(options.days) - 1)).ok();
    Ok(Run { scenario, summary, stories: driver.stories, end: now, new_key: prepared.new_key.clone() })
}

/// Where the simulator lists the discrepancies it planted in the carriers' invoices.
pub fn planted_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("simulation").join("planted-invoice-discrepancies.json")
}

/// The season's carrier invoices into the tenant's inbox (`invoices/inbox/{tenant}/{layout}/{invoice}.csv`), and
/// the list of what they plant next to the run's data.
async fn drop_invoices(
    prepared: &Prepared,
    tenant: &str,
    scenario: &Scenario,
    billable: &[Billable],
    seed: u64,
) -> Result<Vec<Planted>, Error> {
    use lastmile_platform::ports::blob::BlobStore;
    let layouts = lastmile_core::reconcile::layout::Layouts::builtin()?;
    let card = |id: &str| lastmile_core::rating::card::builtin().iter().flatten().find(|c| c.id == id);
    let mut planted = Vec::new();
    for (file, plants) in carrier_invoices::invoices(scenario, layouts, card, billable) {
        let key = format!("invoices/inbox/{tenant}/{}/{}.csv", file.layout, file.invoice_number);
        prepared.blobs.put(&key, file.csv.as_bytes(), "text/csv").await?;
        planted.push(plants);
    }
    let path = planted_path(&prepared.data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let list = json!({
        "seed": seed,
        "tenant": tenant,
        "about": "Discrepancies planted in the simulated carrier invoices (docs/claims.md): `lastmile job reconcile` should find exactly these, per invoice, with these amounts (minor units of the invoice's currency).",
        "invoices": planted,
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&list)?)?;
    Ok(planted)
}

fn take_due(orders: &mut Vec<Value>, now: Timestamp) -> Vec<Value> {
    let (due, later): (Vec<Value>, Vec<Value>) = std::mem::take(orders)
        .into_iter()
        .partition(|o| o["created_at"].as_str().and_then(|t| t.parse::<Timestamp>().ok()).is_some_and(|t| t <= now));
    *orders = later;
    due
}

fn is_midnight(now: Timestamp, zone: &str) -> bool {
    TimeZone::get(zone).is_ok_and(|z| now.to_zoned(z).hour() == 0)
}

/// The seller's set-up the season needs: the model's carriers with their signing secrets, and each line's POD
/// policy as its carrier proves deliveries (a signature file from FedEx and the local partner; the recipient and
/// GPS from AfterShip-style feeds).
async fn configure(prepared: &Prepared, tenant: &str, scenario: &Scenario) -> Result<(), Error> {
    let mut config =
        prepared.registry.tenant(tenant).map(|t| (*t).clone()).ok_or_else(|| format!("no tenant {tenant:?}"))?;
    for carrier in [FEDEX, AFTERSHIP, PARCELNET] {
        if config.tracking.carrier(carrier).is_none() {
            let secrets = vec![format!("carrier-{carrier}")];
            config.tracking.carriers.push(lastmile_platform::config::CarrierFeed { carrier: carrier.into(), secrets });
        }
    }
    for (line, profile) in &scenario.lines {
        let signed =
            matches!(profile.carrier.as_str(), FEDEX | PARCELNET) || profile.last_mile.as_deref() == Some(PARCELNET);
        let required = if profile.pod_required && signed { PodRequirement::Signature } else { PodRequirement::None };
        config.tracking.pod.insert(line.clone(), PodPolicy { required, gps: profile.pod_required });
    }
    prepared.registry.put_tenant(config).await?;
    crate::dev::create_carrier_secrets(&prepared.data_dir, &prepared.registry)?;
    Ok(())
}

/// The driver's state between hours.
struct Driver<'p> {
    prepared: &'p Prepared,
    tenant: String,
    scenario: Scenario,
    /// The tenant's API routes, called as the tenant (what an API key resolves to).
    api: Router,
    /// The signed carrier webhooks, as carriers call them.
    webhooks_router: Router,
    orders_handler: BatchHandler,
    tracking_handler: BatchHandler,
    /// Orders sent and not yet routed, with what was sent.
    waiting: BTreeMap<String, Value>,
    stories: BTreeMap<String, Story>,
    /// Sends not yet made: (when, shipment id, index into the story's sends).
    pending: BTreeSet<(Timestamp, String, usize)>,
    /// Every tracked shipment with what it was quoted, for the carriers' invoices.
    billable: Vec<Billable>,
    /// Returns buyers will ask for, by when, and inspections of opened returns (their RMA) by when.
    return_requests: BTreeMap<(Timestamp, String), ReturnPlan>,
    inspections: BTreeMap<(Timestamp, String), Value>,
    secrets: FileSecrets,
    events_sent: usize,
    webhooks: usize,
    pod_files: usize,
}

impl<'p> Driver<'p> {
    fn new(prepared: &'p Prepared, tenant: &str, scenario: Scenario) -> Result<Driver<'p>, Error> {
        let config =
            prepared.registry.tenant(tenant).ok_or_else(|| format!("no tenant {tenant:?} in the data directory"))?;
        let context = TenantContext { tenant: config, key_id: "simulate".into() };
        let api = Router::new()
            .merge(lastmile_fn_ingest::orders_api(prepared.ingest.clone()))
            .merge(lastmile_fn_route::api::router(prepared.routing_api.clone()))
            .merge(lastmile_fn_tracking::api::router(prepared.tracker.clone()))
            .merge(lastmile_fn_returns::api::router(prepared.returns.clone()))
            .layer(axum::Extension(context));
        Ok(Driver {
            prepared,
            tenant: tenant.to_owned(),
            scenario,
            api,
            webhooks_router: lastmile_fn_ingest::carriers::webhook_router(prepared.carriers.clone()),
            orders_handler: jobs::orders_handler(prepared.router.clone()),
            tracking_handler: jobs::tracking_handler(prepared.tracker.clone()),
            waiting: BTreeMap::new(),
            stories: BTreeMap::new(),
            pending: BTreeSet::new(),
            billable: Vec::new(),
            return_requests: BTreeMap::new(),
            inspections: BTreeMap::new(),
            secrets: FileSecrets::new(prepared.data_dir.join(crate::tracking::SECRETS_DIR)),
            events_sent: 0,
            webhooks: 0,
            pod_files: 0,
        })
    }

    /// Stock for every order of the season, through the stock API.
    async fn stock(&self) -> Result<(), Error> {
        for (warehouse, sku, available) in stock_levels(&self.scenario) {
            let uri = format!("/v1/stock/{warehouse}/{sku}");
            let body = json!({ "available": available }).to_string().into_bytes();
            let (status, answer) = call(&self.api, "PUT", &uri, "application/json", body).await;
            if status != 200 {
                return Err(format!("PUT {uri}: {status} {answer}").into());
            }
        }
        Ok(())
    }

    async fn send_orders(&mut self, orders: &[Value]) -> Result<(), Error> {
        for order in orders {
            let (status, body) =
                call(&self.api, "POST", "/v1/orders", "application/json", order.to_string().into_bytes()).await;
            if status != 200 {
                return Err(format!("POST /v1/orders: {status} {body}").into());
            }
            let id = order["id"].as_str().unwrap_or_default().to_owned();
            self.waiting.insert(id, order.clone());
        }
        Ok(())
    }

    /// Drains the orders queue through the router, brings held orders back (the sweep), and tracks every new
    /// shipment.
    async fn route(&mut self, now: Timestamp) -> Result<(), Error> {
        jobs::drain(self.prepared.router.orders.as_ref(), &self.orders_handler).await?;
        if !self.waiting.is_empty() && is_midnight(now, &self.scenario.shop_zone) {
            self.prepared.router.sweep().await?;
            jobs::drain(self.prepared.router.orders.as_ref(), &self.orders_handler).await?;
        }
        let table = TenantTable::new(&*self.prepared.table, &self.tenant);
        let mut routed = Vec::new();
        for (order_id, order) in &self.waiting {
            let Some(decision) = decisions::get(&table, order_id).await? else { continue };
            routed.push(order_id.clone());
            for planned in &decision.value.shipments {
                let Some(shipment) = shipments::get(&table, &planned.shipment_id).await? else { continue };
                let shipment = shipment.value;
                let shipped_at = shipment.decided_at.checked_add(SignedDuration::from_hours(PICKUP_AFTER_HOURS))?;
                let Some(facts) = ShipmentFacts::from_order(
                    order,
                    &shipment.id,
                    &shipment.line,
                    &shipment.carrier,
                    &shipment.lane,
                    shipped_at,
                ) else {
                    continue;
                };
                let story = parcel_story(&self.scenario, &facts, &mut self.scenario.story_rng(&shipment.id));
                let Some(first) = story.tracking_numbers.first() else { continue };
                let carrier = self.scenario.profile(&shipment.line).carrier.clone();
                let uri = format!("/v1/shipments/{}/tracking", shipment.id);
                let body = json!({ "carrier": carrier, "tracking_number": first }).to_string().into_bytes();
                let (status, answer) = call(&self.api, "POST", &uri, "application/json", body).await;
                if !matches!(status, 200 | 201) {
                    return Err(format!("POST {uri}: {status} {answer}").into());
                }
                for (i, send) in story.sends.iter().enumerate() {
                    self.pending.insert((send.at, shipment.id.clone(), i));
                }
                if let Some(quoted) = shipment.quoted.clone() {
                    self.billable.push(Billable {
                        shipment_id: shipment.id.clone(),
                        tracking_number: first.clone(),
                        line: shipment.line.clone(),
                        carrier: shipment.carrier.clone(),
                        shipped: shipped_at.to_zoned(TimeZone::UTC).date(),
                        quoted,
                    });
                }
                if let Some(plan) = crate::simulate::returns::plan(&self.scenario, &story, order) {
                    self.return_requests.insert((plan.requested_at, shipment.id.clone()), plan);
                }
                self.stories.insert(shipment.id.clone(), story);
            }
        }
        for order_id in routed {
            self.waiting.remove(&order_id);
        }
        Ok(())
    }

    /// Asks for the returns due by `now` as a return portal does, with a label for each, and inspects the returns
    /// that reached the warehouse.
    async fn send_returns(&mut self, now: Timestamp, summary: &mut Summary) -> Result<(), Error> {
        while let Some(entry) = self.return_requests.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let plan = entry.remove();
            let body = plan.request.to_string().into_bytes();
            let (status, answer) = call(&self.api, "POST", "/v1/returns", "application/json", body).await;
            match status {
                200 | 201 => {}
                // A request the returns policy refuses (the window closed, the item already on its way back).
                409 | 422 => {
                    summary.returns_refused += 1;
                    continue;
                }
                _ => return Err(format!("POST /v1/returns: {status} {answer}").into()),
            }
            let rma = answer["rma"].as_str().unwrap_or_default().to_owned();
            summary.returns += 1;
            if answer["status"] == "refunded" {
                continue; // kept by the buyer: nothing comes back
            }
            let uri = format!("/v1/returns/{rma}/label");
            let (status, answer) = call(&self.api, "POST", &uri, "application/json", Vec::new()).await;
            if !matches!(status, 200 | 201) {
                return Err(format!("POST {uri}: {status} {answer}").into());
            }
            self.inspections.insert((plan.inspected_at, rma), plan.inspection);
        }
        while let Some(entry) = self.inspections.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, rma), inspection) = entry.remove_entry();
            let uri = format!("/v1/returns/{rma}/inspection");
            let (status, answer) =
                call(&self.api, "POST", &uri, "application/json", inspection.to_string().into_bytes()).await;
            if !matches!(status, 200 | 201) {
                return Err(format!("POST {uri}: {status} {answer}").into());
            }
            summary.inspections += 1;
        }
        Ok(())
    }

    /// Sends every event due by `now` as its carrier would: grouped into the carrier's payloads, signed; the POD
    /// files of a delivery before it.
    async fn send_events(&mut self, now: Timestamp) -> Result<(), Error> {
        let mut due: Vec<&ScheduledEvent> = Vec::new();
        let mut files = Vec::new();
        while let Some(first) = self.pending.first().cloned() {
            if first.0 > now {
                break;
            }
            self.pending.pop_first();
            let (_, shipment, i) = first;
            let Some(story) = self.stories.get(&shipment) else { continue };
            let send = story.sends[i];
            let event = &story.events[send.event];
            if let Some(pod) = event.pod.as_ref().filter(|_| !send.duplicate) {
                for name in pod.signature_file.iter().chain(pod.photo_file.iter()) {
                    if let Some(file) = story.pod_files.iter().find(|f| &f.name == name) {
                        files.push((event.carrier.clone(), event.tracking_number.clone(), file.clone()));
                    }
                }
            }
            due.push(event);
        }
        if due.is_empty() {
            return Ok(());
        }
        self.events_sent += due.len();
        let batch: Vec<ScheduledEvent> = due.into_iter().cloned().collect();
        for (carrier, number, file) in files {
            let uri = format!("/webhooks/carriers/{}/{carrier}/pod/{number}/{}", self.tenant, file.name);
            let status = self.signed(&uri, &carrier, file.content_type, file.bytes).await?;
            if !matches!(status, 200 | 201) {
                return Err(format!("PUT {uri}: {status}").into());
            }
            self.pod_files += 1;
        }
        for payload in render(&batch) {
            let uri = format!("/webhooks/carriers/{}/{}", self.tenant, payload.carrier);
            let status = self.signed(&uri, &payload.carrier, payload.content_type, payload.body).await?;
            if !matches!(status, 200 | 202) {
                return Err(format!("POST {uri}: {status}").into());
            }
            self.webhooks += 1;
        }
        Ok(())
    }

    /// A carrier's signed request: events are POSTed, POD files PUT.
    async fn signed(&self, uri: &str, carrier: &str, content_type: &str, body: Vec<u8>) -> Result<u16, Error> {
        let secret = self.secrets.read(&format!("carrier-{carrier}"))?;
        let signature = sign_carrier_body(secret.trim().as_bytes(), &body);
        let method = if uri.contains("/pod/") { "PUT" } else { "POST" };
        let request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .header(SIGNATURE_HEADER, signature)
            .body(Body::from(body))?;
        let response = self.webhooks_router.clone().oneshot(request).await?;
        Ok(response.status().as_u16())
    }

    async fn drain_tracking(&self) -> Result<(), Error> {
        jobs::drain(self.prepared.tracking_queue.as_ref(), &self.tracking_handler).await?;
        Ok(())
    }
}

async fn call(app: &Router, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let request = match axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
    {
        Ok(request) => request,
        Err(e) => return (0, json!(e.to_string())),
    };
    let Ok(response) = app.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn run_claims_once(
    ports: &lastmile_fn_claims::Ports,
    registry: &lastmile_platform::tenants::TenantRegistry,
    now: Timestamp,
) -> usize {
    lastmile_fn_claims::run_all(ports, registry, now).await.iter().map(|(_, r)| r.created.len()).sum()
}

/// Prints what a run did and where to look.
pub fn print_summary(run: &Run, options: &SimulateOptions, seconds: f64) {
    let s = &run.summary;
    println!(
        "simulated {} days from {} (seed {}): {} orders, {} shipments tracked, {} events in {} signed webhooks, {} POD files; {} returns opened ({} refused, {} inspected); the jobs raised {} alerts and {} claims and rolled up {} KPI records; {} carrier invoices in the inbox with {} planted discrepancies ({:.1} s, {:.0} orders/s)",
        options.days,
        options.start,
        options.seed,
        s.orders,
        s.shipments,
        s.events_sent,
        s.webhooks,
        s.pod_files,
        s.returns,
        s.returns_refused,
        s.inspections,
        s.alerts,
        s.claims,
        s.kpi_records,
        s.invoices,
        s.planted,
        seconds,
        s.orders as f64 / seconds.max(1e-9),
    );
    if let Some(key) = &run.new_key {
        println!("created tenant '{}' with a local API key (shown once, stored hashed):\n  {key}", options.tenant);
    }
    if let (Some(from), Some(to)) = (s.from, s.to) {
        println!(
            "now run: lastmile dev --data-dir {}\n  and open http://127.0.0.1:8080/?from={from}&to={to} (log in with an API key of the tenant)",
            options.data_dir.display()
        );
        println!(
            "the planted invoice discrepancies are listed in {}; find them with: lastmile job reconcile --data-dir {}",
            planted_path(&options.data_dir).display(),
            options.data_dir.display()
        );
    }
}

/// `lastmile simulate …`: runs and prints the summary.
pub fn main(options: &SimulateOptions) -> Result<i32, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new()?;
    let run = runtime.block_on(run(options)).map_err(|e| e.to_string())?;
    print_summary(&run, options, started.elapsed().as_secs_f64());
    Ok(0)
}
