//! The routing API: why an order went where it went, the buyer's rating and the outcome of a shipment, an
//! experiment's report, the lines (switched off and on by the seller, with today's load and measured quality),
//! and stock levels.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};

use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use lastmile_core::contract::{self, ApiError};
use lastmile_core::routing::experiment;
use lastmile_core::routing::stats::smoothed_rate;
use lastmile_platform::http::{self, ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::lines::{self, LineRecord, LineStatsRecord};
use lastmile_platform::repo::personal::{self, PersonalRecord};
use lastmile_platform::repo::shipments::{self, Outcome, Rating};
use lastmile_platform::repo::stock::StockRecord;
use lastmile_platform::repo::{self, decisions, orders};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Deserialize;
use serde_json::{Value, json};

/// Largest request body of these routes.
const MAX_BODY: usize = 16 * 1024;

/// Shipments an experiment report reads at most.
const MAX_REPORT_SHIPMENTS: usize = 100_000;

pub struct RoutingApi {
    pub table: Arc<dyn TableStore>,
    pub clock: Arc<dyn Clock>,
}

/// The API on its own (as Lambda runs it), behind API-key resolution.
pub fn app(registry: Arc<TenantRegistry>, api: Arc<RoutingApi>) -> Router {
    router(api)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The routes; expects a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(api: Arc<RoutingApi>) -> Router<S> {
    Router::new()
        .route("/v1/orders/{id}/routing", get(routing))
        .route("/v1/shipments/{id}/rating", post(rating))
        .route("/v1/shipments/{id}/outcome", post(outcome))
        .route("/v1/experiments/{id}", get(experiment_report))
        .route("/v1/lines", get(list_lines))
        .route("/v1/lines/{id}", put(set_line))
        .route("/v1/stock/{warehouse}/{sku}", put(set_stock))
        .with_state(api)
}

type Answer = Result<Json<Value>, ErrorResponse>;

fn store(e: StoreError) -> ErrorResponse {
    tracing::error!(error = %e, "store");
    ErrorResponse(ApiError::new(503, "store_unavailable", "the store did not answer; retry"))
}

/// A 404 for a resource that does not exist, with its own code (the router's fallback says `not_found`).
fn not_found(code: &'static str, what: &str, id: &str) -> ErrorResponse {
    ErrorResponse(ApiError::new(404, code, format!("no {what} {id:?}")))
}

async fn body<T: serde::de::DeserializeOwned>(request: Request) -> Result<T, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY).await?;
    Ok(contract::parse_json_body(&bytes, MAX_BODY)?)
}

async fn routing(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
) -> Answer {
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let order = orders::get(&table, &id).await.map_err(store)?;
    let decision = decisions::get(&table, &id).await.map_err(store)?;
    let Some(order) = order else { return Err(not_found("unknown_order", "order", &id)) };
    let order = order.value;
    let mut decision = decision.map(|d| d.value);
    // The standardized address is personal and kept apart: shown while it is kept, absent once expired or erased.
    if let Some(d) = decision.as_mut() {
        let owner = decisions::key(&id).pk;
        let personal = personal::get(&table, &owner, decisions::PERSONAL.kind).await.map_err(store)?;
        if let (Some(fields), Some(Value::Object(extra))) = (d.address.as_object_mut(), personal.map(|p| p.value.data))
        {
            fields.extend(extra);
        }
    }
    Ok(Json(json!({
        "order_id": order.id,
        "status": order.status,
        "note": order.note,
        "received_at": order.received_at,
        "updated_at": order.updated_at,
        "decision": decision,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingIn {
    stars: u8,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// The latest rating counts: sending the same rating again changes nothing, a new one replaces it.
async fn rating(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Answer {
    let input: RatingIn = body(request).await?;
    if !(1..=5).contains(&input.stars) {
        return Err(ErrorResponse(ApiError::new(422, "invalid_rating", "stars must be 1 to 5").with_field("stars")));
    }
    if input.comment.as_ref().is_some_and(|c| c.len() > 2000) {
        return Err(ErrorResponse(ApiError::new(422, "comment_too_long", "at most 2000 bytes").with_field("comment")));
    }
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let Some(found) = shipments::get(&table, &id).await.map_err(store)? else {
        return Err(not_found("unknown_shipment", "shipment", &id));
    };
    let mut shipment = found.value;
    // The comment is free text about a person: it lives in the shipment's personal item, the stars on the shipment.
    let owner = shipments::key(&id).pk;
    let kept = personal::get(&table, &owner, shipments::PERSONAL.kind).await.map_err(store)?;
    let kept_comment = kept.as_ref().and_then(|p| p.value.data.as_str().map(str::to_owned));
    let same = shipment.rating.as_ref().is_some_and(|r| {
        r.stars == input.stars && r.comment.is_none() && kept_comment == input.comment && r.source == input.source
    });
    if !same {
        let now = api.clock.now();
        shipment.rating = Some(Rating { stars: input.stars, comment: None, source: input.source, rated_at: now });
        let mut writes = vec![repo::put(&shipment, Condition::Version(found.version)).map_err(store)?];
        match &input.comment {
            Some(comment) => {
                let order = personal::get(&table, &orders::key(&shipment.order_id).pk, orders::PERSONAL.kind)
                    .await
                    .map_err(store)?;
                let customer = order.and_then(|o| o.value.customer);
                let record = PersonalRecord::new(&shipments::PERSONAL, owner, customer, json!(comment), now);
                writes.push(repo::put(&record, Condition::Always).map_err(store)?);
            }
            None if kept.is_some() => writes.push(lastmile_platform::ports::table::Write::Delete {
                key: personal::key(&owner, shipments::PERSONAL.kind),
                condition: Condition::Always,
            }),
            None => {}
        }
        table.transact(writes).await.map_err(conflict)?;
    }
    let mut rating = serde_json::to_value(&shipment.rating).unwrap_or(Value::Null);
    if let (Some(fields), Some(comment)) = (rating.as_object_mut(), input.comment) {
        fields.insert("comment".into(), json!(comment));
    }
    Ok(Json(json!({ "shipment_id": id, "rating": rating })))
}

fn conflict(e: StoreError) -> ErrorResponse {
    match e {
        StoreError::ConditionFailed | StoreError::TransactionCancelled(_) => {
            ErrorResponse(ApiError::new(409, "conflict", "changed meanwhile; retry"))
        }
        e => store(e),
    }
}

/// Records how a shipment ended, once, and adds it to its line's statistics in the same transaction.
async fn outcome(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Answer {
    let input: Outcome = body(request).await?;
    if input.transit_days.is_some_and(|d| !(0.0..=365.0).contains(&d)) {
        return Err(ErrorResponse(
            ApiError::new(422, "invalid_transit_days", "transit_days must be 0–365").with_field("transit_days"),
        ));
    }
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let Some(found) = shipments::get(&table, &id).await.map_err(store)? else {
        return Err(not_found("unknown_shipment", "shipment", &id));
    };
    let mut shipment = found.value;
    let mut input = input;
    if input.on_time.is_none() {
        input.on_time = input.transit_days.map(|d| input.delivered && d <= f64::from(shipment.promised_days));
    }
    match &shipment.outcome {
        Some(existing) if *existing == input => return Ok(Json(json!({ "shipment_id": id, "outcome": existing }))),
        Some(_) => {
            return Err(ErrorResponse(ApiError::new(
                409,
                "outcome_recorded",
                "this shipment's outcome is already recorded with other values",
            )));
        }
        None => {}
    }
    let stats = lines::stats(&table, &shipment.line).await.map_err(store)?;
    let condition = stats.as_ref().map_or(Condition::NotExists, |s| Condition::Version(s.version));
    let mut record =
        stats.map_or_else(|| LineStatsRecord { line: shipment.line.clone(), stats: Default::default() }, |s| s.value);
    record.stats.success.record(input.delivered);
    if let Some(on_time) = input.on_time {
        record.stats.on_time.record(on_time);
    }
    record.stats.claims.record(input.claim);
    if let (true, Some(days)) = (input.delivered, input.transit_days) {
        record.stats.transit_days.push(days);
    }
    shipment.outcome = Some(input.clone());
    let writes = vec![
        repo::put(&shipment, Condition::Version(found.version)).map_err(store)?,
        repo::put(&record, condition).map_err(store)?,
    ];
    table.transact(writes).await.map_err(conflict)?;
    Ok(Json(json!({ "shipment_id": id, "outcome": input })))
}

async fn experiment_report(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
) -> Answer {
    let Some(config) = tenant.tenant.routing.experiments.iter().find(|e| e.id == id) else {
        return Err(not_found("unknown_experiment", "experiment", &id));
    };
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let arms = shipments::arm_outcomes(&table, config, MAX_REPORT_SHIPMENTS).await.map_err(store)?;
    let report = experiment::report(&arms);
    Ok(Json(json!({ "experiment": config, "report": report })))
}

async fn list_lines(State(api): State<Arc<RoutingApi>>, Extension(tenant): Extension<TenantContext>) -> Answer {
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let today = api.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let states: BTreeMap<String, LineRecord> =
        lines::all(&table).await.map_err(store)?.into_iter().map(|l| (l.line.clone(), l)).collect();
    let ids: Vec<String> = lastmile_core::rating::card::builtin()
        .iter()
        .flatten()
        .map(|c| c.id.clone())
        .filter(|id| tenant.tenant.rating.lines.is_empty() || tenant.tenant.rating.lines.contains(id))
        .collect();
    let all_stats = lines::all_stats(&table).await.map_err(store)?;
    let line_days = lines::line_days(&table, today).await.map_err(store)?;
    let mut out = Vec::new();
    for id in ids {
        let policy = tenant.tenant.routing.line(&id);
        let stats = all_stats.get(&id).copied().unwrap_or_default();
        let today_orders = line_days.get(&id).map_or(0, |d| d.value.orders);
        let state = states.get(&id);
        out.push(json!({
            "line": id,
            "enabled": state.is_none_or(|s| s.enabled),
            "reason": state.and_then(|s| s.reason.clone()),
            "orders_today": today_orders,
            "daily_capacity": policy.daily_capacity,
            "on_time_rate": smoothed_rate(policy.on_time, stats.on_time.successes, stats.on_time.trials),
            "success_rate": smoothed_rate(policy.success, stats.success.successes, stats.success.trials),
            "claim_rate": smoothed_rate(policy.claims, stats.claims.successes, stats.claims.trials),
            "measured": stats,
        }));
    }
    Ok(Json(json!({ "lines": out })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn {
    enabled: bool,
    #[serde(default)]
    reason: Option<String>,
}

async fn set_line(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Answer {
    let input: LineIn = body(request).await?;
    if !lastmile_core::rating::card::builtin().iter().flatten().any(|c| c.id == id) {
        return Err(not_found("unknown_line", "line", &id));
    }
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let record = LineRecord { line: id, enabled: input.enabled, reason: input.reason, updated_at: api.clock.now() };
    repo::save(&table, &record, Condition::Always).await.map_err(store)?;
    tracing::info!(line = %record.line, enabled = record.enabled, "line switched");
    Ok(Json(serde_json::to_value(&record).unwrap_or(Value::Null)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockIn {
    available: i64,
}

async fn set_stock(
    State(api): State<Arc<RoutingApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path((warehouse, sku)): Path<(String, String)>,
    request: Request,
) -> Answer {
    let input: StockIn = body(request).await?;
    if !tenant.tenant.warehouses.iter().any(|w| w.id == warehouse) {
        return Err(not_found("unknown_warehouse", "warehouse", &warehouse));
    }
    if sku.is_empty() || sku.len() > 128 {
        return Err(ErrorResponse(ApiError::new(422, "invalid_sku", "a SKU is 1–128 bytes").with_field("sku")));
    }
    let table = TenantTable::new(&*api.table, &tenant.tenant.id);
    let record = StockRecord { warehouse, sku, available: input.available, updated_at: api.clock.now() };
    repo::save(&table, &record, Condition::Always).await.map_err(store)?;
    Ok(Json(serde_json::to_value(&record).unwrap_or(Value::Null)))
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let errors = json!({
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    });
    let with = |ok: &str, extra: Value| {
        let mut r =
            json!({ "200": {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}} });
        if let (Some(r), Value::Object(e), Value::Object(x)) = (r.as_object_mut(), errors.clone(), extra) {
            r.extend(e);
            r.extend(x);
        }
        r
    };
    let bad = json!({"400": {"$ref": "#/components/responses/BadRequest"}, "413": {"$ref": "#/components/responses/PayloadTooLarge"}, "422": {"$ref": "#/components/responses/Unprocessable"}});
    let object = |required: &[&str], properties: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": required, "properties": properties}}}});
    vec![
        RouteDoc {
            method: "get",
            path: "/v1/orders/{id}/routing",
            authenticated: true,
            operation: json!({
                "operationId": "orderRouting",
                "summary": "An order's status and routing decision: every candidate line, its score components and why the winner won",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": with("The order and its decision (null until routed)", json!({}))
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/shipments/{id}/rating",
            authenticated: true,
            operation: json!({
                "operationId": "rateShipment",
                "summary": "The buyer's rating of a delivery (from a review app or the seller); the latest counts",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": object(&["stars"], json!({"stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string"}, "source": {"type": "string"}})),
                "responses": with("The rating stored", bad.clone())
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/shipments/{id}/outcome",
            authenticated: true,
            operation: json!({
                "operationId": "shipmentOutcome",
                "summary": "How a shipment ended; recorded once and added to its line's measured statistics",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": object(&["delivered"], json!({"delivered": {"type": "boolean"}, "transit_days": {"type": "number"}, "on_time": {"type": "boolean"}, "claim": {"type": "boolean"}})),
                "responses": with("The outcome stored", {
                    let mut b = bad.clone();
                    if let Some(b) = b.as_object_mut() {
                        b.insert("409".into(), json!({"description": "Another outcome is already recorded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
                    }
                    b
                })
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/experiments/{id}",
            authenticated: true,
            operation: json!({
                "operationId": "experimentReport",
                "summary": "An experiment's arms: delivery rate, transit, on-time, rating, claims, significance tests and a recommendation",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": with("The report", json!({}))
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/lines",
            authenticated: true,
            operation: json!({
                "operationId": "listLines",
                "summary": "The tenant's lines: enabled or not, today's orders against capacity, smoothed and measured quality",
                "responses": with("The lines", json!({}))
            }),
        },
        RouteDoc {
            method: "put",
            path: "/v1/lines/{id}",
            authenticated: true,
            operation: json!({
                "operationId": "setLine",
                "summary": "Switches a line off (the router fails over to the next best) or on",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": object(&["enabled"], json!({"enabled": {"type": "boolean"}, "reason": {"type": "string"}})),
                "responses": with("The line's state", bad.clone())
            }),
        },
        RouteDoc {
            method: "put",
            path: "/v1/stock/{warehouse}/{sku}",
            authenticated: true,
            operation: json!({
                "operationId": "setStock",
                "summary": "Units available of a SKU in a warehouse; the router allocates from it",
                "parameters": [
                    {"name": "warehouse", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "sku", "in": "path", "required": true, "schema": {"type": "string"}}
                ],
                "requestBody": object(&["available"], json!({"available": {"type": "integer"}})),
                "responses": with("The stock level", bad)
            }),
        },
    ]
}
