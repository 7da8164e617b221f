//! The claims API: `GET /v1/claims?status=&carrier=`, `GET /v1/claims/{id}`, `POST /v1/claims/{id}/status`
//! (a move of the pipeline) and `GET /v1/claims/export?carrier=` (the carrier's claims as CSV). A claim id is
//! `{shipment}#{type}`: in a path its `#` is written `%23`.
//!
//! A move is written on the claim's version, with the tracking record's KPI facts when it closes the claim (paid
//! or denied: the cycle time), so the KPI roll-up counts it. A retried move the claim has already made answers the
//! stored claim; a move the pipeline does not allow is a 409.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use lastmile_core::claims::export::carrier_csv;
use lastmile_core::claims::pipeline::{Claim, ClaimStatus, PipelineError};
use lastmile_core::contract::{self, ApiError};
use lastmile_platform::http::{self, ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::Clock;
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::claims::{self, ClaimRecord, StatusChange};
use lastmile_platform::repo::{self, Versioned, tracking};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const PATH: &str = "/v1/claims";

/// Most claims one answer lists or exports.
pub const MAX_CLAIMS: usize = 1_000;

const MAX_BODY: usize = 1_024;

/// Attempts at a move when another writer changed the claim or its tracking record meanwhile.
const ATTEMPTS: usize = 3;

pub struct ClaimsApi {
    pub table: Arc<dyn TableStore>,
    pub clock: Arc<dyn Clock>,
}

/// The API on its own (as Lambda runs it), behind API-key resolution.
pub fn app(registry: Arc<TenantRegistry>, api: Arc<ClaimsApi>) -> Router {
    router(api)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The routes; expect a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(api: Arc<ClaimsApi>) -> Router<S> {
    Router::new()
        .route(PATH, get(list))
        .route("/v1/claims/export", get(export))
        .route("/v1/claims/{id}", get(one))
        .route("/v1/claims/{id}/status", post(move_status))
        .with_state(api)
}

/// A claim as the API answers it.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    /// Calendar days from filing to payment or denial, once closed.
    pub cycle_time_days: Option<i32>,
    pub history: Vec<StatusChange>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<ClaimRecord> for ClaimView {
    fn from(record: ClaimRecord) -> Self {
        ClaimView {
            cycle_time_days: record.claim.cycle_time_days(),
            claim: record.claim,
            history: record.history,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

fn bad(code: &'static str, message: String, field: &str) -> ErrorResponse {
    ErrorResponse(ApiError::new(400, code, message).with_field(field))
}

fn store(e: StoreError) -> ErrorResponse {
    tracing::error!(error = %e, "store");
    ErrorResponse(ApiError::new(503, "store_unavailable", "the store did not answer; retry"))
}

fn params(
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    known: &[&str],
) -> Result<BTreeMap<String, String>, ErrorResponse> {
    let Query(params) =
        params.map_err(|e| bad("invalid_query", format!("the query string does not parse: {e}"), "query"))?;
    if let Some(unknown) = params.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad(
            "unknown_parameter",
            format!("unknown parameter {unknown:?}: expected {}", known.join(", ")),
            unknown,
        ));
    }
    Ok(params.into_iter().map(|(k, v)| (k, v.trim().to_owned())).filter(|(_, v)| !v.is_empty()).collect())
}

fn status_named(name: &str, field: &str) -> Result<ClaimStatus, ErrorResponse> {
    ClaimStatus::parse(name).ok_or_else(|| {
        let known: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
        ErrorResponse(
            ApiError::new(422, "unknown_status", format!("status {name:?} is not one of {}", known.join(", ")))
                .with_field(field),
        )
    })
}

async fn list(
    State(api): State<Arc<ClaimsApi>>,
    Extension(tenant): Extension<TenantContext>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ErrorResponse> {
    let params = params(query, &["status", "carrier"])?;
    let status = params.get("status").map(|s| status_named(s, "status")).transpose()?;
    let table = TenantTable::new(api.table.as_ref(), &tenant.tenant.id);
    let found =
        claims::list(&table, status, params.get("carrier").map(String::as_str), MAX_CLAIMS).await.map_err(store)?;
    let views: Vec<ClaimView> = found.into_iter().map(ClaimView::from).collect();
    Ok(Json(json!({ "claims": views })))
}

async fn load(table: &TenantTable<'_>, id: &str) -> Result<Versioned<ClaimRecord>, ErrorResponse> {
    claims::get(table, id).await.map_err(store)?.ok_or_else(|| {
        ErrorResponse(ApiError::new(
            404,
            "unknown_claim",
            format!("no claim {id:?}: a claim id is {{shipment}}#{{type}}, with # written %23 in a path"),
        ))
    })
}

async fn one(
    State(api): State<Arc<ClaimsApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
) -> Result<Json<ClaimView>, ErrorResponse> {
    let table = TenantTable::new(api.table.as_ref(), &tenant.tenant.id);
    Ok(Json(load(&table, &id).await?.value.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveIn {
    status: String,
}

async fn move_status(
    State(api): State<Arc<ClaimsApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<ClaimView>, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY).await?;
    let input: MoveIn = contract::parse_json_body(&bytes, MAX_BODY)?;
    let next = status_named(input.status.trim(), "status")?;
    let table = TenantTable::new(api.table.as_ref(), &tenant.tenant.id);
    for _ in 0..ATTEMPTS {
        let Versioned { value: mut record, version } = load(&table, &id).await?;
        // A retry of a move already made (even if the claim moved on since) answers what is stored.
        if next != ClaimStatus::Draft && record.history.iter().any(|h| h.status == next) {
            return Ok(Json(record.into()));
        }
        let now = api.clock.now();
        let today = now.to_zoned(TimeZone::UTC).date();
        match record.claim.advance(next, today) {
            Ok(()) => {}
            Err(PipelineError::AlreadyThere { .. }) => return Ok(Json(record.into())),
            Err(e @ PipelineError::Illegal { .. }) => {
                return Err(ErrorResponse(
                    ApiError::new(
                        409,
                        "illegal_move",
                        format!("{e}: draft → filed → approved or denied, approved → paid"),
                    )
                    .with_field("status"),
                ));
            }
        }
        record.history.push(StatusChange { status: next, on: today, at: now });
        record.updated_at = now;
        let mut writes = vec![repo::put(&record, Condition::Version(version)).map_err(store)?];
        if let Some(days) = record.claim.cycle_time_days() {
            let shipment = &record.claim.candidate.shipment_id;
            if let Some(Versioned { value: mut tracked, version }) =
                tracking::get(&table, shipment).await.map_err(store)?
                && let Some(facts) = tracked.facts.as_mut()
            {
                // A shipment with two claims counts the longer cycle.
                let days = u32::try_from(days).unwrap_or(0);
                facts.claimed = true;
                facts.claim_cycle_days = Some(facts.claim_cycle_days.map_or(days, |d| d.max(days)));
                tracked.updated_at = now;
                writes.push(repo::put(&tracked, Condition::Version(version)).map_err(store)?);
            }
        }
        match table.transact(writes).await {
            Ok(()) => return Ok(Json(record.into())),
            Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => continue,
            Err(e) => return Err(store(e)),
        }
    }
    Err(ErrorResponse(ApiError::new(409, "conflict", format!("claim {id:?} kept changing meanwhile; retry"))))
}

async fn export(
    State(api): State<Arc<ClaimsApi>>,
    Extension(tenant): Extension<TenantContext>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ErrorResponse> {
    let params = params(query, &["carrier", "status"])?;
    let carrier = params
        .get("carrier")
        .ok_or_else(|| bad("missing_parameter", "carrier is required: the carrier to file with".into(), "carrier"))?;
    let status = params.get("status").map(|s| status_named(s, "status")).transpose()?;
    let table = TenantTable::new(api.table.as_ref(), &tenant.tenant.id);
    let found = claims::list(&table, status, Some(carrier), MAX_CLAIMS).await.map_err(store)?;
    let found: Vec<Claim> = found.into_iter().map(|r| r.claim).collect();
    let csv = carrier_csv(&found, carrier).map_err(|e| {
        tracing::error!(error = %e, "claims CSV");
        ErrorResponse(ApiError::new(500, "export_failed", "the CSV could not be written"))
    })?;
    let name: String =
        carrier.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"claims-{name}.csv\"")),
        ],
        csv,
    )
        .into_response())
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let s = || json!({"type": "string"});
    let id = json!({"name": "id", "in": "path", "required": true, "description": "the claim id, {shipment}#{type} (# written %23)", "schema": {"type": "string"}});
    let status = json!({"type": "string", "enum": ["draft", "filed", "approved", "denied", "paid"]});
    let claim = json!({
        "type": "object",
        "required": ["id", "shipment_id", "carrier", "claim_type", "amount", "deadline", "status"],
        "properties": {
            "id": s(), "shipment_id": s(), "line": s(), "carrier": s(), "tracking_number": s(),
            "claim_type": {"type": "string", "enum": ["lost", "damaged", "late"]},
            "amount": {"type": "object", "properties": {"minor": {"type": "integer"}, "currency": s()}},
            "arithmetic": s(), "evidence": s(),
            "deadline": {"type": "string", "format": "date"}, "deadline_passed": {"type": "boolean"},
            "status": status,
            "filed_on": {"type": ["string", "null"], "format": "date"},
            "closed_on": {"type": ["string", "null"], "format": "date"},
            "cycle_time_days": {"type": ["integer", "null"]},
            "history": {"type": "array", "items": {"type": "object", "properties": {"status": status, "on": {"type": "string", "format": "date"}, "at": {"type": "string", "format": "date-time"}}}},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
        }
    });
    let one = |description: &str| json!({"description": description, "content": {"application/json": {"schema": claim.clone()}}});
    let filter = |name: &str, description: &str, required: bool| json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    vec![
        RouteDoc {
            method: "get",
            path: PATH,
            authenticated: true,
            operation: json!({
                "operationId": "claims",
                "summary": "The claims the claims job raised, by status (earliest filing deadline first) and carrier",
                "parameters": [filter("status", "only claims in this status", false), filter("carrier", "only this carrier's claims", false)],
                "responses": {
                    "200": {"description": "The claims", "content": {"application/json": {"schema": {"type": "object", "properties": {"claims": {"type": "array", "items": claim.clone()}}}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "422": error("An unknown status")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/claims/export",
            authenticated: true,
            operation: json!({
                "operationId": "exportClaims",
                "summary": "One carrier's claims as a CSV file to file with it (RFC 4180, sorted by claim id, amounts as decimals with a currency column)",
                "parameters": [filter("carrier", "the carrier", true), filter("status", "only claims in this status", false)],
                "responses": {
                    "200": {"description": "The CSV file (its header only when the carrier has no claims)", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "422": error("An unknown status")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/claims/{id}",
            authenticated: true,
            operation: json!({
                "operationId": "claim",
                "summary": "One claim with its amount's arithmetic, evidence, filing deadline and status history",
                "parameters": [id.clone()],
                "responses": {
                    "200": one("The claim"),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such claim")
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/claims/{id}/status",
            authenticated: true,
            operation: json!({
                "operationId": "moveClaim",
                "summary": "Moves a claim along its pipeline: draft → filed → approved | denied, approved → paid. A retry of a move already made answers the stored claim",
                "parameters": [id],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "additionalProperties": false, "properties": {"status": status}}}}},
                "responses": {
                    "200": one("The claim after the move"),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such claim"),
                    "409": error("The pipeline does not allow the move from the claim's status"),
                    "422": error("An unknown status")
                }
            }),
        },
    ]
}
