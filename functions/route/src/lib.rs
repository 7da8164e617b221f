//! The order router. Each order event from the queue is routed once: the address checked by the engine, the
//! warehouses chosen by stock (`lastmile-core::routing::split`), every line from each quoted by the rating engine
//! (with duties when the seller ships DDP), one line chosen per shipment by the seller's policy
//! (`lastmile-core::routing::decide`), and the decision, the shipments, the stock taken and today's counters
//! written in one transaction whose first write exists only once per order: a redelivered message finds the
//! decision and changes nothing.
//!
//! Orders that cannot be routed now wait with their reason: `needs_address`, `held` (every line full, or no
//! stock; the sweep job tries them again), `unroutable` (no line serves them). A message that can never be
//! routed (not an order event, an unknown tenant, an order without items) is an error every time it is received,
//! so the queue moves it to its dead-letter queue after its retries, and it never holds up the rest of its batch.

pub mod api;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod order;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::address::{self, Verdict};
use lastmile_core::duty::{self, rules::Rules};
use lastmile_core::money::{Currency, Money};
use lastmile_core::rating::packing;
use lastmile_core::routing;
use lastmile_core::routing::decide::{Candidate, LineState, Situation};
use lastmile_core::routing::split::{self, Allocation, Group, Stock};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::events::OrderEvent;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::queue::Queue;
use lastmile_platform::ports::table::{Condition, MAX_TRANSACTION_WRITES, StoreError, TableStore, TenantTable, Write};
use lastmile_platform::privacy;
use lastmile_platform::quoting::{self, CustomsRequest};
use lastmile_platform::repo::decisions::{self, Decision, ShipmentDecision, UnitsRecord};
use lastmile_platform::repo::lines::{self, LaneDay, LineDay};
use lastmile_platform::repo::orders::{self, OrderRecord, OrderStatus};
use lastmile_platform::repo::personal::{self, PersonalRecord};
use lastmile_platform::repo::shipments::{QuotedFacts, ShipmentRecord};
use lastmile_platform::repo::stock::{self, StockRecord};
use lastmile_platform::repo::{self, Versioned};
use lastmile_platform::tenants::TenantRegistry;

/// Attempts at the routing transaction when another writer got to the same stock or counters first; between
/// attempts a short random pause, so that consumers racing for the same counter fall out of step.
const ATTEMPTS: u64 = 8;

/// Held orders the sweep sends back per tenant per run.
const SWEEP_BATCH: usize = 500;

/// What the router needs.
pub struct Router {
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    /// The orders queue, where the sweep puts held orders back.
    pub orders: Arc<dyn Queue>,
    pub rules: Arc<Rules>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The message can never be routed; the queue's retries end in its dead-letter queue.
    #[error("cannot be routed: {0}")]
    Poison(String),
    /// Something did not answer; a later delivery will do it.
    #[error("try again: {0}")]
    Retry(String),
}

impl From<StoreError> for RouteError {
    fn from(e: StoreError) -> Self {
        RouteError::Retry(e.to_string())
    }
}

/// What became of an order event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Routed {
        shipments: usize,
    },
    /// A decision was already stored: a redelivery, or an update after routing.
    AlreadyRouted,
    NeedsAddress,
    Held,
    Unroutable,
    Cancelled,
    /// The tenant is disabled (its shop uninstalled the app): the event is dropped.
    TenantDisabled,
}

impl Router {
    /// Handles one message body from the orders queue.
    pub async fn handle(&self, body: &str) -> Result<Outcome, RouteError> {
        let event: OrderEvent =
            serde_json::from_str(body).map_err(|e| RouteError::Poison(format!("not an order event: {e}")))?;
        self.registry.refresh().await;
        let tenant = self
            .registry
            .tenant(&event.tenant)
            .ok_or_else(|| RouteError::Poison(format!("no tenant {:?}", event.tenant)))?;
        if !tenant.enabled {
            // The shop uninstalled the app after the order was queued: nothing is stored or decided for it.
            return Ok(Outcome::TenantDisabled);
        }
        let table = TenantTable::new(&*self.table, &tenant.id);
        let order =
            order::parse(&event.order).map_err(|e| RouteError::Poison(format!("order {}: {e}", event.order_id)))?;
        let now = self.clock.now();
        let existing = orders::get(&table, &event.order_id).await?;
        let decided = decisions::get(&table, &event.order_id).await?.is_some();
        let cancel = event.topic == "orders/cancelled";
        if decided && !cancel {
            return Ok(Outcome::AlreadyRouted);
        }
        if existing.as_ref().is_some_and(|o| o.value.status == OrderStatus::Cancelled) {
            return Ok(Outcome::Cancelled);
        }
        let record = |status: OrderStatus, note: Option<String>| OrderRecord {
            id: event.order_id.clone(),
            status,
            topic: event.topic.clone(),
            event_id: event.event_id.clone(),
            received_at: existing.as_ref().map_or(event.received_at, |o| o.value.received_at),
            updated_at: now,
            order: privacy::order::non_personal(&event.order),
            note,
        };
        // The order as sent is personal: kept in its own item, which expires by the registry's retention.
        let customer = privacy::order::order_customer(&event.order);
        let personal_order = PersonalRecord::new(
            &orders::PERSONAL,
            orders::key(&event.order_id).pk,
            customer.clone(),
            event.order.clone(),
            now,
        );
        let condition = existing.as_ref().map_or(Condition::NotExists, |o| Condition::Version(o.version));
        if cancel {
            let note = decided.then(|| "cancelled after routing: its shipments were already decided".to_owned());
            save_order(&table, &personal_order, &record(OrderStatus::Cancelled, note), condition).await?;
            return Ok(Outcome::Cancelled);
        }
        let address = match &order.address {
            Some(address) if !event.needs_address => address,
            _ => {
                let note = Some("the order has no shipping address".to_owned());
                save_order(&table, &personal_order, &record(OrderStatus::NeedsAddress, note), condition).await?;
                return Ok(Outcome::NeedsAddress);
            }
        };
        let checked = match address::validate(address) {
            Ok(checked) if checked.verdict != Verdict::Invalid => checked,
            Ok(checked) => {
                let issues: Vec<String> = checked.issues.iter().map(|i| i.message.to_string()).collect();
                let note = Some(format!("the address cannot be delivered to: {}", issues.join("; ")));
                save_order(&table, &personal_order, &record(OrderStatus::NeedsAddress, note), condition).await?;
                return Ok(Outcome::NeedsAddress);
            }
            Err(e) => {
                let note = Some(format!("the address cannot be read: {}", e.message));
                save_order(&table, &personal_order, &record(OrderStatus::NeedsAddress, note), condition).await?;
                return Ok(Outcome::NeedsAddress);
            }
        };
        for attempt in 1..=ATTEMPTS {
            let existing = orders::get(&table, &event.order_id).await?;
            let condition = existing.as_ref().map_or(Condition::NotExists, |o| Condition::Version(o.version));
            let plan = self.plan(&tenant, &table, &event, &order, &checked, now).await?;
            let (writes, outcome) = match plan {
                Plan::Wait(status, note) => {
                    save_order(&table, &personal_order, &record(status, Some(note)), condition).await?;
                    return Ok(match status {
                        OrderStatus::Held => Outcome::Held,
                        _ => Outcome::Unroutable,
                    });
                }
                Plan::Route(mut writes, shipments) => {
                    // The standardized lines and corrections are personal: the decision's personal item.
                    let personal_address = decisions::strip_personal(&mut writes.decision.address);
                    let mut all = vec![repo::put(&writes.decision, Condition::NotExists)?];
                    all.push(repo::put(&record(OrderStatus::Routed, None), condition)?);
                    all.push(repo::put(&personal_order, Condition::Always)?);
                    if let Some(data) = personal_address {
                        let owner = decisions::key(&event.order_id).pk;
                        let address = PersonalRecord::new(&decisions::PERSONAL, owner, customer.clone(), data, now);
                        all.push(repo::put(&address, Condition::Always)?);
                    }
                    all.extend(writes.others);
                    (all, Outcome::Routed { shipments })
                }
            };
            if writes.len() > MAX_TRANSACTION_WRITES {
                let note = format!(
                    "routing this order writes {} items, more than one transaction's {MAX_TRANSACTION_WRITES}: split it",
                    writes.len()
                );
                save_order(&table, &personal_order, &record(OrderStatus::Unroutable, Some(note)), condition).await?;
                return Ok(Outcome::Unroutable);
            }
            match table.transact(writes).await {
                Ok(()) => return Ok(outcome),
                // The decision is there: another delivery of this order routed it.
                Err(StoreError::TransactionCancelled(0)) => return Ok(Outcome::AlreadyRouted),
                Err(StoreError::TransactionCancelled(i)) => {
                    tracing::debug!(attempt, write = i, "routing raced another writer; again");
                    let pause = attempt * 5 + fastrand::u64(0..=20);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RouteError::Retry(format!("order {}: stock or counters kept changing", event.order_id)))
    }

    /// Works out the decision and everything it writes, or why the order must wait.
    async fn plan(
        &self,
        tenant: &TenantConfig,
        table: &TenantTable<'_>,
        event: &OrderEvent,
        order: &order::RoutingOrder,
        checked: &address::AddressResult,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let units = order.units();
        let warehouse_ids: Vec<&str> = tenant.warehouses.iter().map(|w| w.id.as_str()).collect();
        let mut stock = Stock::new();
        let mut stock_versions: BTreeMap<(String, String), Versioned<StockRecord>> = BTreeMap::new();
        for w in &warehouse_ids {
            for u in &units {
                if let Some(found) = stock::get(table, w, &u.sku).await? {
                    stock.entry((*w).to_owned()).or_default().insert(u.sku.clone(), found.value.available);
                    stock_versions.insert(((*w).to_owned(), u.sku.clone()), found);
                }
            }
        }
        let allocation = split::allocate(&units, &warehouse_ids, &stock);
        // Each shipment: the warehouses that may ship it, and its units.
        type Shipments = Vec<(Vec<String>, Vec<split::Units>)>;
        let (groups, backordered): (Shipments, Vec<split::Units>) = match &allocation {
            Allocation::Whole { warehouses } => (vec![(warehouses.clone(), units.clone())], Vec::new()),
            Allocation::Split { groups, backordered } => (
                groups.iter().map(|Group { warehouse, units }| (vec![warehouse.clone()], units.clone())).collect(),
                backordered.clone(),
            ),
        };
        if groups.is_empty() {
            return Ok(Plan::Wait(OrderStatus::Held, "no warehouse has stock for any of it".into()));
        }
        // Today's counters and the measured statistics: three queries, whatever the number of lines.
        let known_lines = lines::all(table).await?;
        let stats = lines::all_stats(table).await?;
        let line_days = lines::line_days(table, today).await?;
        let lane_days = lines::lane_days(table, today).await?;
        let mut line_states: BTreeMap<String, LineState> = BTreeMap::new();
        let mut lanes: routing::LaneCounts =
            lane_days.iter().map(|(lane, day)| (lane.clone(), day.value.orders.clone())).collect();
        let mut currency = order.currency;
        let mut decided = Vec::new();
        for (n, (warehouses, group_units)) in groups.iter().enumerate() {
            let mut candidates = Vec::new();
            // What each candidate was priced on, kept with the winner for the invoice reconciliation.
            let mut quoted: BTreeMap<(String, String), QuotedFacts> = BTreeMap::new();
            for warehouse_id in warehouses {
                let Some(warehouse) = tenant.warehouses.iter().find(|w| &w.id == warehouse_id) else { continue };
                let rates = self.quote(tenant, warehouse, order, group_units, now)?;
                let region =
                    checked.standardized.region_code.as_deref().map(|c| c.rsplit('-').next().unwrap_or(c).to_owned());
                for (rate, facts) in rates {
                    quoted.insert((warehouse.id.clone(), rate.quote.line.clone()), facts);
                    let cost_currency = *currency.get_or_insert(rate.quote.currency);
                    let cost_minor =
                        self.in_currency(Money::new(rate.quote.total_minor, rate.quote.currency), cost_currency, today);
                    let transit_days = rate
                        .dates
                        .as_ref()
                        .map(|d| u32::try_from((d.max - today).get_days().max(0)).unwrap_or(u32::MAX));
                    candidates.push(Candidate {
                        warehouse: warehouse.id.clone(),
                        line: rate.quote.line.clone(),
                        carrier: rate.quote.carrier.clone(),
                        cost_minor,
                        transit_days,
                        country: checked.country.to_string(),
                        region: region.clone(),
                    });
                }
            }
            for c in &candidates {
                line_states.entry(c.line.clone()).or_insert_with(|| LineState {
                    disabled: known_lines
                        .iter()
                        .find(|l| l.line == c.line && !l.enabled)
                        .map(|l| l.reason.clone().unwrap_or_else(|| "switched off by the seller".into())),
                    used_today: line_days.get(&c.line).map_or(0, |d| d.value.orders),
                });
            }
            let situation =
                Situation { order_id: &event.order_id, date: today, stats: &stats, lines: &line_states, lanes: &lanes };
            let choice = routing::decide(&tenant.routing, &situation, &candidates);
            let Some(winner) = choice.winner().cloned() else {
                let status = if choice.held_for_capacity { OrderStatus::Held } else { OrderStatus::Unroutable };
                return Ok(Plan::Wait(status, choice.why));
            };
            // The next shipment of this order sees this one in today's counts.
            if let Some(state) = line_states.get_mut(&winner.line) {
                state.used_today += 1;
            }
            *lanes.entry(winner.lane.clone()).or_default().entry(winner.line.clone()).or_default() += 1;
            let id = if groups.len() == 1 { event.order_id.clone() } else { format!("{}-{}", event.order_id, n + 1) };
            let facts = quoted.remove(&(winner.warehouse.clone(), winner.line.clone()));
            decided.push((id, winner.warehouse.clone(), group_units.clone(), choice, facts));
        }
        let currency = currency.map_or_else(|| "XXX".to_owned(), |c| c.to_string());
        let mut others = Vec::new();
        let mut shipments = Vec::new();
        for (id, warehouse, group_units, choice, facts) in &decided {
            let Some(winner) = choice.winner() else { continue };
            let record = ShipmentRecord {
                id: id.clone(),
                order_id: event.order_id.clone(),
                warehouse: warehouse.clone(),
                line: winner.line.clone(),
                carrier: winner.carrier.clone(),
                lane: winner.lane.clone(),
                units: group_units.iter().map(UnitsRecord::from).collect(),
                cost_minor: winner.cost_minor,
                currency: currency.clone(),
                quoted_transit_days: winner.transit_days,
                promised_days: tenant.routing.promised_days(&checked.country),
                decided_at: now,
                experiment: choice.experiment.clone(),
                outcome: None,
                rating: None,
                quoted: facts.clone(),
            };
            others.push(repo::put(&record, Condition::NotExists)?);
            for u in group_units {
                if let Some(found) = stock_versions.get(&(warehouse.clone(), u.sku.clone())) {
                    let mut taken = found.value.clone();
                    taken.available -= i64::from(u.quantity);
                    taken.updated_at = now;
                    others.push(repo::put(&taken, Condition::Version(found.version))?);
                }
            }
            shipments.push(ShipmentDecision {
                shipment_id: id.clone(),
                warehouse: warehouse.clone(),
                units: group_units.iter().map(UnitsRecord::from).collect(),
                choice: choice.clone(),
            });
        }
        let mut line_taken: BTreeMap<&str, u64> = BTreeMap::new();
        let mut lane_taken: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        for (_, _, _, choice, _) in &decided {
            if let Some(w) = choice.winner() {
                *line_taken.entry(w.line.as_str()).or_default() += 1;
                *lane_taken.entry(w.lane.as_str()).or_default().entry(w.line.clone()).or_default() += 1;
            }
        }
        for (line, n) in line_taken {
            let existing = line_days.get(line).cloned();
            let condition = existing.as_ref().map_or(Condition::NotExists, |d| Condition::Version(d.version));
            let orders = existing.map_or(0, |d| d.value.orders) + n;
            others.push(repo::put(&LineDay { date: today, line: line.to_owned(), orders }, condition)?);
        }
        for (lane, taken) in lane_taken {
            let existing = lane_days.get(lane).cloned();
            let condition = existing.as_ref().map_or(Condition::NotExists, |d| Condition::Version(d.version));
            let mut orders = existing.map(|d| d.value.orders).unwrap_or_default();
            for (line, n) in taken {
                *orders.entry(line).or_default() += n;
            }
            others.push(repo::put(&LaneDay { date: today, lane: lane.to_owned(), orders }, condition)?);
        }
        let address = serde_json::json!({
            "verdict": checked.verdict,
            "country": checked.country,
            "region_code": checked.standardized.region_code,
            "standardized": checked.standardized,
            "changes": checked.changes,
            "flags": checked.flags,
        });
        let decision = Decision {
            order_id: event.order_id.clone(),
            decided_at: now,
            currency,
            address,
            allocation,
            backordered: backordered.iter().map(UnitsRecord::from).collect(),
            shipments,
        };
        let count = decided.len();
        Ok(Plan::Route(Writes { decision, others }, count))
    }

    /// Every line's rate for a group of units from one warehouse, with landed costs when the seller has customs
    /// settings for every SKU in it.
    fn quote(
        &self,
        tenant: &TenantConfig,
        warehouse: &lastmile_platform::config::Warehouse,
        order: &order::RoutingOrder,
        units: &[split::Units],
        now: Timestamp,
    ) -> Result<Vec<(lastmile_core::rating::engine::Rate, QuotedFacts)>, RouteError> {
        let items: Vec<packing::Item> = units
            .iter()
            .map(|u| packing::Item {
                grams: order.line(&u.sku).map_or(0, |l| l.grams),
                dimensions: None,
                quantity: u.quantity,
            })
            .collect();
        let Some(destination) = order.address.clone() else { return Ok(Vec::new()) };
        let mut answer = match quoting::quote_items(tenant, warehouse, destination, &items, now) {
            Ok(answer) => answer,
            // Too many units to pack, no postcode to zone by, a misconfigured warehouse: no line quotes it.
            Err(e) => {
                tracing::info!(warehouse = %warehouse.id, reason = %e.message, "no quote");
                return Ok(Vec::new());
            }
        };
        if let (Some(incoterm), Some(customs)) = (tenant.customs.incoterm, customs_lines(tenant, order, units))
            && let Err(e) = quoting::add_landed_costs(&mut answer, &self.rules, &customs, warehouse, now, incoterm)
        {
            tracing::info!(reason = %e.message, "no landed cost");
        }
        let facts: Vec<QuotedFacts> = answer.rates.rates.iter().map(quoted_facts(&answer, warehouse, now)).collect();
        Ok(answer.rates.rates.into_iter().zip(facts).collect())
    }

    fn in_currency(&self, money: Money, currency: Currency, date: Date) -> Option<i64> {
        if money.currency == currency {
            return Some(money.minor);
        }
        let (value, _) = self.rules.fx.convert(money.to_decimal(), money.currency, currency, date)?;
        Some(Money::from_decimal(value, currency).minor)
    }

    /// Sends every held order back through the queue; the run after a new day (fresh capacity) or new stock
    /// routes them. Reads the held orders through the status index, tenant by tenant.
    pub async fn sweep(&self) -> Result<usize, RouteError> {
        let mut sent = 0;
        self.registry.refresh().await;
        for tenant in self.registry.tenants() {
            let table = TenantTable::new(&*self.table, &tenant.id);
            for held in orders::with_status(&table, OrderStatus::Held, SWEEP_BATCH).await? {
                let order = held.value;
                // The order as sent is in its personal item; past its retention (or erased) the order cannot be
                // routed any more, and says so instead of waiting for ever.
                let Some(as_sent) = personal::get(&table, &orders::key(&order.id).pk, orders::PERSONAL.kind).await?
                else {
                    let note = "its personal data (address, customer) expired or was erased before it could be routed";
                    let gone = OrderRecord {
                        status: OrderStatus::Unroutable,
                        note: Some(note.to_owned()),
                        updated_at: self.clock.now(),
                        ..order
                    };
                    match repo::save(&table, &gone, Condition::Version(held.version)).await {
                        Ok(_) | Err(StoreError::ConditionFailed) => {}
                        Err(e) => return Err(e.into()),
                    }
                    continue;
                };
                let event = OrderEvent {
                    tenant: tenant.id.clone(),
                    topic: "sweep/held".into(),
                    event_id: format!("sweep:{}:{}", order.id, self.clock.now().as_second()),
                    order_id: order.id.clone(),
                    needs_address: false,
                    received_at: order.received_at,
                    order: as_sent.value.data,
                };
                let body = serde_json::to_string(&event).map_err(|e| RouteError::Retry(e.to_string()))?;
                self.orders.send(&body).await.map_err(|e| RouteError::Retry(e.to_string()))?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}

enum Plan {
    /// Writes: the decision (first, so a cancelled transaction at 0 means already routed), then the rest.
    Route(Writes, usize),
    Wait(OrderStatus, String),
}

struct Writes {
    decision: Decision,
    others: Vec<Write>,
}

/// Saves an order that waits, with its personal item, in one transaction.
async fn save_order(
    table: &TenantTable<'_>,
    personal: &PersonalRecord,
    record: &OrderRecord,
    condition: Condition,
) -> Result<(), RouteError> {
    let writes = vec![repo::put(record, condition)?, repo::put(personal, Condition::Always)?];
    match table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCancelled(_)) => {
            Err(RouteError::Retry(format!("order {} changed meanwhile", record.id)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The customs lines of a group of units, when the seller's catalog has every SKU in it.
fn customs_lines(tenant: &TenantConfig, order: &order::RoutingOrder, units: &[split::Units]) -> Option<CustomsRequest> {
    let mut lines = Vec::new();
    for u in units {
        let product = tenant.customs.products.iter().find(|p| p.sku == u.sku)?;
        let line = order.line(&u.sku)?;
        lines.push(duty::Line {
            description: product.description.clone(),
            hs_code: product.hs_code.clone(),
            origin: product.origin_country.clone(),
            unit_value: duty::Amount(line.unit_price?),
            quantity: u.quantity,
            unit_weight_g: Some(line.grams),
            tax_class: None,
            dangerous_goods: None,
        });
    }
    Some(CustomsRequest { lines, insurance: None, seller: tenant.customs.seller.clone() })
}

/// Handles a batch of messages, each on its own: the ids of those that failed, for the queue to deliver again.
pub async fn handle_batch(router: &Router, messages: &[(&str, &str)]) -> Vec<String> {
    let mut failed = Vec::new();
    for &(id, body) in messages {
        match router.handle(body).await {
            Ok(outcome) => tracing::info!(message = id, ?outcome, "order event"),
            Err(e) => {
                match &e {
                    RouteError::Poison(_) => tracing::error!(message = id, error = %e, "poison message"),
                    RouteError::Retry(_) => tracing::warn!(message = id, error = %e, "will retry"),
                }
                failed.push(id.to_owned());
            }
        }
    }
    failed
}

/// What `answer` priced, for one of its rates: the zone, the parcel as quoted, the address facts and the charges
/// by code, as the carrier's invoice is later checked against them.
fn quoted_facts<'a>(
    answer: &'a quoting::Answer,
    warehouse: &lastmile_platform::config::Warehouse,
    now: Timestamp,
) -> impl Fn(&lastmile_core::rating::engine::Rate) -> QuotedFacts + 'a {
    // The quote's ship date is the warehouse's local date (see `quoting::quote`).
    let zone = jiff::tz::TimeZone::get(&warehouse.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let ship_date = now.to_zoned(zone).date();
    let flags = &answer.destination.flags;
    let residential = match flags.residential.value {
        lastmile_core::address::model::Tristate::Yes => Some(true),
        lastmile_core::address::model::Tristate::No => Some(false),
        lastmile_core::address::model::Tristate::Unknown => None,
    };
    move |rate| {
        let mut charges: BTreeMap<String, i64> = BTreeMap::new();
        for charge in &rate.quote.breakdown {
            *charges.entry(charge.code.clone()).or_default() += charge.minor;
        }
        QuotedFacts {
            zone: rate.quote.zone.clone(),
            ship_date,
            grams: answer.parcels.iter().map(|p| p.grams).sum(),
            billable: rate.quote.billable.iter().map(|b| b.billable).sum(),
            dimensions_mm: answer.parcels.first().and_then(|p| p.dimensions_mm),
            residential,
            remote_area: flags.remote_area.is_some(),
            postcode: answer.destination.standardized.postcode.clone().unwrap_or_default(),
            options: Vec::new(),
            charges,
            currency: rate.quote.currency.to_string(),
        }
    }
}
