//! `GET /v1/kpis?from=YYYY-MM-DD&to=YYYY-MM-DD[&line=…][&lane=…]`: the roll-ups of the days `from..=to` (the days
//! the carriers took the parcels) merged per line × lane, per line and in total, with the rates computed from the
//! merged counts (never averaged averages). "Within SLA" is counted from the transit histogram against each line's
//! current target ([`TrackingSettings::sla`](lastmile_platform::config::TrackingSettings::sla)), so a changed target
//! applies to the past days too.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use jiff::civil::Date;
use lastmile_core::contract::ApiError;
use lastmile_core::tracking::kpi::Rollup;
use lastmile_platform::config::{SlaTarget, TenantConfig};
use lastmile_platform::http::{self, ErrorResponse, RouteDoc};
use lastmile_platform::ports::table::{StoreError, TableStore, TenantTable};
use lastmile_platform::repo::tracking;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Serialize;
use serde_json::json;

pub const PATH: &str = "/v1/kpis";

/// Longest range one request reads: a year, leap day included.
pub const MAX_DAYS: i64 = 366;

/// Most roll-ups one answer merges (days × lines × lanes).
const MAX_ROLLUPS: usize = 200_000;

pub struct KpiApi {
    pub table: Arc<dyn TableStore>,
}

/// The API on its own (as Lambda runs it), behind API-key resolution.
pub fn app(registry: Arc<TenantRegistry>, api: Arc<KpiApi>) -> Router {
    router(api)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The route; expects a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(api: Arc<KpiApi>) -> Router<S> {
    Router::new().route(PATH, get(kpis)).with_state(api)
}

fn bad(code: &'static str, message: String, field: &str) -> ErrorResponse {
    ErrorResponse(ApiError::new(400, code, message).with_field(field))
}

/// The days asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    pub from: Date,
    pub to: Date,
    pub line: Option<String>,
    pub lane: Option<String>,
}

impl KpiQuery {
    pub fn parse(params: &BTreeMap<String, String>) -> Result<KpiQuery, ErrorResponse> {
        if let Some(unknown) = params.keys().find(|k| !["from", "to", "line", "lane"].contains(&k.as_str())) {
            return Err(bad(
                "unknown_parameter",
                format!("unknown parameter {unknown:?}: expected from, to, line, lane"),
                unknown,
            ));
        }
        let date = |name: &str| -> Result<Date, ErrorResponse> {
            let value =
                params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).ok_or_else(|| {
                    bad("missing_parameter", format!("{name} is required, a date as YYYY-MM-DD"), name)
                })?;
            value
                .parse::<Date>()
                .map_err(|_| bad("invalid_date", format!("{name} {value:?} is not a date: expected YYYY-MM-DD"), name))
        };
        let (from, to) = (date("from")?, date("to")?);
        if to < from {
            return Err(bad("invalid_range", format!("to ({to}) is before from ({from})"), "to"));
        }
        let days = (to - from).get_days() as i64 + 1;
        if days > MAX_DAYS {
            return Err(bad(
                "range_too_long",
                format!("{days} days asked for: at most {MAX_DAYS} days per request"),
                "to",
            ));
        }
        let filter = |name: &str| params.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(KpiQuery { from, to, line: filter("line"), lane: filter("lane") })
    }
}

/// One group's KPIs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub shipments: u64,
    pub delivered: u64,
    pub delivery_rate: Option<f64>,
    pub average_transit_days: Option<f64>,
    pub p50_transit_days: Option<u32>,
    pub p90_transit_days: Option<u32>,
    /// Delivered shipments by transit time in business days.
    pub transit_days: BTreeMap<u32, u64>,
    /// Deliveries with a transit time within their line's target days.
    pub within_sla: u64,
    pub within_sla_rate: Option<f64>,
    pub exceptions: u64,
    pub exception_rate: Option<f64>,
    pub pod_required: u64,
    pub pod_present: u64,
    pub pod_compliance: Option<f64>,
    pub suspect_deliveries: u64,
    pub stalled: u64,
    pub claims: u64,
    pub claim_rate: Option<f64>,
    pub average_claim_cycle_days: Option<f64>,
}

/// Deliveries of `rollup` that took at most `days`.
fn within(rollup: &Rollup, days: u32) -> u64 {
    rollup.transit_days.range(..=days).map(|(_, n)| n).sum()
}

fn round(value: Option<f64>) -> Option<f64> {
    value.map(|v| (v * 10_000.0).round() / 10_000.0)
}

impl Kpis {
    /// The KPIs of `rollup`, of which `within_sla` deliveries met their line's target.
    pub fn of(rollup: &Rollup, within_sla: u64) -> Kpis {
        let timed: u64 = rollup.transit_days.values().sum();
        Kpis {
            shipments: rollup.shipments,
            delivered: rollup.delivered,
            delivery_rate: round(rollup.delivery_rate()),
            average_transit_days: round(rollup.average_transit_days()),
            p50_transit_days: rollup.transit_percentile(0.5),
            p90_transit_days: rollup.transit_percentile(0.9),
            transit_days: rollup.transit_days.clone(),
            within_sla,
            within_sla_rate: round((timed > 0).then(|| within_sla as f64 / timed as f64)),
            exceptions: rollup.exceptions,
            exception_rate: round(rollup.exception_rate()),
            pod_required: rollup.pod_required,
            pod_present: rollup.pod_present,
            pod_compliance: round(rollup.pod_compliance()),
            suspect_deliveries: rollup.suspect_deliveries,
            stalled: rollup.stalled,
            claims: rollup.claims,
            claim_rate: round(rollup.claim_rate()),
            average_claim_cycle_days: round(rollup.average_claim_cycle_days()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaneKpis {
    pub line: String,
    pub lane: String,
    #[serde(flatten)]
    pub kpis: Kpis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineKpis {
    pub line: String,
    pub sla: SlaTarget,
    /// Whether the share within the target days reaches the target share (`None` without timed deliveries).
    pub meets_sla: Option<bool>,
    #[serde(flatten)]
    pub kpis: Kpis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: Date,
    pub to: Date,
    pub lanes: Vec<LaneKpis>,
    pub lines: Vec<LineKpis>,
    pub total: Kpis,
}

/// The report of `query` for `tenant`: shared by the route and the dashboard.
pub async fn report(table: &dyn TableStore, tenant: &TenantConfig, query: &KpiQuery) -> Result<Report, StoreError> {
    let table = TenantTable::new(table, &tenant.id);
    let stored = tracking::kpis(&table, query.from, query.to, MAX_ROLLUPS).await?;
    let mut lanes: BTreeMap<(String, String), Rollup> = BTreeMap::new();
    for record in stored.into_iter().map(|r| r.value) {
        if query.line.as_ref().is_some_and(|l| *l != record.line)
            || query.lane.as_ref().is_some_and(|l| *l != record.lane)
        {
            continue;
        }
        lanes.entry((record.line, record.lane)).or_default().merge(&record.rollup);
    }
    let mut lines: BTreeMap<String, Rollup> = BTreeMap::new();
    for ((line, _), rollup) in &lanes {
        lines.entry(line.clone()).or_default().merge(rollup);
    }
    let sla = |line: &str| tenant.tracking.sla(line);
    let (mut total, mut total_within) = (Rollup::default(), 0);
    let lines: Vec<LineKpis> = lines
        .into_iter()
        .map(|(line, rollup)| {
            let target = sla(&line);
            let met = within(&rollup, target.days);
            total.merge(&rollup);
            total_within += met;
            let kpis = Kpis::of(&rollup, met);
            let meets_sla = kpis.within_sla_rate.map(|rate| rate * 100.0 >= f64::from(target.share_percent));
            LineKpis { line, sla: target, meets_sla, kpis }
        })
        .collect();
    let lanes = lanes
        .into_iter()
        .map(|((line, lane), rollup)| {
            let met = within(&rollup, sla(&line).days);
            LaneKpis { line, lane, kpis: Kpis::of(&rollup, met) }
        })
        .collect();
    Ok(Report { from: query.from, to: query.to, lanes, lines, total: Kpis::of(&total, total_within) })
}

async fn kpis(
    State(api): State<Arc<KpiApi>>,
    Extension(tenant): Extension<TenantContext>,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Report>, ErrorResponse> {
    let Query(params) =
        params.map_err(|e| bad("invalid_query", format!("the query string does not parse: {e}"), "query"))?;
    let query = KpiQuery::parse(&params)?;
    let report = report(api.table.as_ref(), &tenant.tenant, &query).await.map_err(|e| {
        tracing::error!(error = %e, "store");
        ErrorResponse(ApiError::new(503, "store_unavailable", "the store did not answer; retry"))
    })?;
    Ok(Json(report))
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let date = |name: &str, description: &str| json!({"name": name, "in": "query", "required": true, "description": description, "schema": {"type": "string", "format": "date"}});
    let filter = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}});
    let rate = json!({"type": ["number", "null"], "minimum": 0, "maximum": 1});
    let kpis = json!({
        "type": "object",
        "properties": {
            "shipments": {"type": "integer"}, "delivered": {"type": "integer"}, "delivery_rate": rate,
            "average_transit_days": {"type": ["number", "null"]},
            "p50_transit_days": {"type": ["integer", "null"]}, "p90_transit_days": {"type": ["integer", "null"]},
            "transit_days": {"type": "object", "description": "delivered shipments by business days in transit", "additionalProperties": {"type": "integer"}},
            "within_sla": {"type": "integer"}, "within_sla_rate": rate,
            "exceptions": {"type": "integer"}, "exception_rate": rate,
            "pod_required": {"type": "integer"}, "pod_present": {"type": "integer"}, "pod_compliance": rate,
            "suspect_deliveries": {"type": "integer"}, "stalled": {"type": "integer"},
            "claims": {"type": "integer"}, "claim_rate": rate, "average_claim_cycle_days": {"type": ["number", "null"]}
        }
    });
    vec![RouteDoc {
        method: "get",
        path: PATH,
        authenticated: true,
        operation: json!({
            "operationId": "kpis",
            "summary": "Delivery KPIs of the days from..to (the days the carriers took the parcels) per line × lane, per line against its SLA target, and in total",
            "parameters": [
                date("from", "first day, YYYY-MM-DD"),
                date("to", "last day, YYYY-MM-DD; at most 366 days after from, counting both"),
                filter("line", "only this line"),
                filter("lane", "only this lane")
            ],
            "responses": {
                "200": {"description": "The merged roll-ups", "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["from", "to", "lanes", "lines", "total"],
                    "properties": {
                        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                        "lanes": {"type": "array", "items": {"allOf": [kpis.clone(), {"type": "object", "properties": {"line": {"type": "string"}, "lane": {"type": "string"}}}]}},
                        "lines": {"type": "array", "items": {"allOf": [kpis.clone(), {"type": "object", "properties": {"line": {"type": "string"}, "sla": {"type": "object", "properties": {"days": {"type": "integer"}, "share_percent": {"type": "integer"}}}, "meets_sla": {"type": ["boolean", "null"]}}}]}},
                        "total": kpis
                    }
                }}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"}
            }
        }),
    }]
}
