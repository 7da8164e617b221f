//! The tracking API: a shipment's carrier and tracking number, and its dispute pack.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use lastmile_core::contract::{self, ApiError};
use lastmile_core::tracking::{Journey, mapping};
use lastmile_platform::http::{self, ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable, Write};
use lastmile_platform::repo::tracking::{self, TrackingNumberRecord, TrackingRecord};
use lastmile_platform::repo::{self, decisions, personal, shipments};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Tracking;
use crate::fulfillment::tracking_info;
use crate::labels::{self, Labels, NoCarrierConnected};

/// Largest request body of the JSON routes.
const MAX_BODY: usize = 4 * 1024;

/// Longest tracking number taken (carriers' run to 34 characters; S10 and UPU ones to 13).
const MAX_NUMBER: usize = 64;

/// The API on its own (as Lambda runs it), behind API-key resolution.
pub fn app(registry: Arc<TenantRegistry>, tracking: Arc<Tracking>) -> Router {
    router(tracking)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The routes that need an API key; expects a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(tracking: Arc<Tracking>) -> Router<S> {
    let labels = Arc::new(Labels { tracking: tracking.clone(), carriers: Arc::new(NoCarrierConnected) });
    Router::new()
        .route("/v1/shipments/{id}/tracking", post(assign))
        .route("/v1/shipments/{id}/evidence", get(crate::evidence::evidence))
        .with_state(tracking)
        .merge(labels::router(labels))
}

pub fn store(e: StoreError) -> ErrorResponse {
    tracing::error!(error = %e, "store");
    ErrorResponse(ApiError::new(503, "store_unavailable", "the store did not answer; retry"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignIn {
    carrier: String,
    tracking_number: String,
}

/// A tracking number as carriers print them: letters, digits and dashes.
pub fn valid_number(number: &str) -> bool {
    !number.is_empty() && number.len() <= MAX_NUMBER && number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Gives a shipment its carrier and tracking number: the journey record and the number's record in one
/// transaction, with the events the carrier sent for the number before it was assigned. Idempotent: the same
/// number again answers 200 with the record; another number for a tracked shipment is a 409.
async fn assign(
    State(tracking): State<Arc<Tracking>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY).await?;
    let input: AssignIn = contract::parse_json_body(&bytes, MAX_BODY)?;
    let carrier = input.carrier.trim().to_ascii_lowercase();
    let tables = mapping::builtin();
    if tables.carrier(&carrier).is_none() {
        let known: Vec<&str> = tables.carriers().collect();
        let message = format!("carrier {carrier:?} has no status table; known: {}", known.join(", "));
        return Err(ErrorResponse(ApiError::new(422, "unknown_carrier", message).with_field("carrier")));
    }
    let number = input.tracking_number.trim().to_ascii_uppercase();
    if !valid_number(&number) {
        let message = format!("a tracking number is 1–{MAX_NUMBER} letters, digits or dashes");
        return Err(ErrorResponse(
            ApiError::new(422, "invalid_tracking_number", message).with_field("tracking_number"),
        ));
    }
    let table = TenantTable::new(&*tracking.table, &tenant.tenant.id);
    let Some(shipment) = shipments::get(&table, &id).await.map_err(store)? else {
        return Err(ErrorResponse(ApiError::new(404, "unknown_shipment", format!("no shipment {id:?}"))));
    };
    let (status, record) = track(&tracking, &table, &tenant.tenant.id, &shipment.value, &carrier, &number).await?;
    Ok((status, Json(answer(&record))).into_response())
}

/// Tracks the shipment as `carrier` `number` and makes the shop's fulfillment: 201 when new, 200 when it was
/// tracked so already, 409 when it is tracked otherwise or the number is another shipment's.
pub(crate) async fn track(
    tracking: &Tracking,
    table: &TenantTable<'_>,
    tenant: &str,
    shipment: &shipments::ShipmentRecord,
    carrier: &str,
    number: &str,
) -> Result<(StatusCode, TrackingRecord), ErrorResponse> {
    let (status, record) = match tracking::get(table, &shipment.id).await.map_err(store)? {
        Some(existing) => (StatusCode::OK, same_or_conflict(existing.value, carrier, number)?),
        None => {
            let decision = decisions::get(table, &shipment.order_id).await.map_err(store)?;
            let owner = decisions::key(&shipment.order_id).pk;
            let kept = personal::get(table, &owner, decisions::PERSONAL.kind).await.map_err(store)?;
            let address = decision.map(|d| d.value.address).unwrap_or(Value::Null);
            let destination = crate::destination::from_decision(&address, kept.as_ref().map(|k| &k.value.data));
            create(tracking, table, shipment, destination, carrier, number).await?
        }
    };
    Ok((status, sync_fulfillment(tracking, table, tenant, record).await))
}

/// Tracks a parcel that is none of the router's shipments (a return on its way back) as `carrier` `number`, to
/// `destination`: the same records, checks and answers as [`track`], and no fulfillment, since the shop's order
/// was fulfilled by the outbound shipment. `parcel` is not stored; its id is the tracking record's.
pub async fn track_parcel(
    tracking: &Tracking,
    table: &TenantTable<'_>,
    parcel: &shipments::ShipmentRecord,
    destination: tracking::TrackedDestination,
    carrier: &str,
    number: &str,
) -> Result<(StatusCode, TrackingRecord), ErrorResponse> {
    match tracking::get(table, &parcel.id).await.map_err(store)? {
        Some(existing) => Ok((StatusCode::OK, same_or_conflict(existing.value, carrier, number)?)),
        None => create(tracking, table, parcel, destination, carrier, number).await,
    }
}

fn same_or_conflict(existing: TrackingRecord, carrier: &str, number: &str) -> Result<TrackingRecord, ErrorResponse> {
    if existing.carrier == carrier && existing.tracking_number == number {
        return Ok(existing);
    }
    let message = format!(
        "shipment {} is tracked as {} {} already",
        existing.shipment_id, existing.carrier, existing.tracking_number
    );
    Err(ErrorResponse(ApiError::new(409, "already_tracked", message)))
}

async fn create(
    tracking: &Tracking,
    table: &TenantTable<'_>,
    shipment: &shipments::ShipmentRecord,
    destination: tracking::TrackedDestination,
    carrier: &str,
    number: &str,
) -> Result<(StatusCode, TrackingRecord), ErrorResponse> {
    if let Some(other) = tracking::shipment_for(table, carrier, number).await.map_err(store)? {
        let message = format!("{carrier} {number} is the tracking number of shipment {other}");
        return Err(ErrorResponse(ApiError::new(409, "tracking_number_taken", message).with_field("tracking_number")));
    }
    let now = tracking.clock.now();
    let mut journey = Journey::new(carrier, number);
    let orphans = tracking::orphans(table, carrier, number).await.map_err(store)?;
    if let Some(orphans) = &orphans {
        journey.apply(orphans.value.events.iter().cloned());
    }
    let record = TrackingRecord {
        shipment_id: shipment.id.clone(),
        order_id: shipment.order_id.clone(),
        line: shipment.line.clone(),
        lane: shipment.lane.clone(),
        carrier: carrier.to_owned(),
        tracking_number: number.to_owned(),
        destination,
        journey,
        tracked_since: now,
        stall: lastmile_core::tracking::stall::StallLevel::Moving,
        pods: Vec::new(),
        assessment: None,
        facts: None,
        counted: None,
        updated_at: now,
        fulfillment_id: None,
        claims_reviewed: None,
    };
    let number_record = TrackingNumberRecord {
        carrier: carrier.to_owned(),
        tracking_number: number.to_owned(),
        shipment_id: shipment.id.clone(),
    };
    let mut writes = vec![
        repo::put(&record, Condition::NotExists).map_err(store)?,
        repo::put(&number_record, Condition::NotExists).map_err(store)?,
    ];
    if let Some(orphans) = &orphans {
        let key = tracking::orphan_key(carrier, number);
        writes.push(Write::Delete { key, condition: Condition::Version(orphans.version) });
    }
    match table.transact(writes).await {
        Ok(()) => Ok((StatusCode::CREATED, record)),
        // A concurrent request got there first: answer as the repeat would, or as the conflict it is.
        Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => {
            match tracking::get(table, &shipment.id).await.map_err(store)? {
                Some(existing) => Ok((StatusCode::OK, same_or_conflict(existing.value, carrier, number)?)),
                None => Err(ErrorResponse(ApiError::new(409, "conflict", "changed meanwhile; retry"))),
            }
        }
        Err(e) => Err(store(e)),
    }
}

/// Makes the shop's fulfillment once (a record without its id tries again on the next call or event); the
/// tracking is stored either way, and a failure is logged, not answered.
async fn sync_fulfillment(
    tracking: &Tracking,
    table: &TenantTable<'_>,
    tenant: &str,
    record: TrackingRecord,
) -> TrackingRecord {
    if record.fulfillment_id.is_some() {
        return record;
    }
    let info = tracking_info(&record.carrier, &record.tracking_number);
    let id = match tracking.fulfillments.tracking_assigned(tenant, &record.order_id, &info).await {
        Ok(Some(id)) => id,
        Ok(None) => return record,
        Err(e) => {
            tracing::warn!(error = %e, "fulfillment not made");
            return record;
        }
    };
    // The consumer may be saving events meanwhile: read, set, write with the version, a few times.
    for _ in 0..5 {
        let Ok(Some(current)) = tracking::get(table, &record.shipment_id).await else { break };
        let mut updated = current.value;
        updated.fulfillment_id = Some(id.clone());
        match repo::save(table, &updated, Condition::Version(current.version)).await {
            Ok(_) => return updated,
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "fulfillment id not stored");
                break;
            }
        }
    }
    TrackingRecord { fulfillment_id: Some(id), ..record }
}

/// The record as the API shows it.
pub fn answer(record: &TrackingRecord) -> Value {
    let legs = record.journey.legs();
    json!({
        "shipment_id": record.shipment_id,
        "order_id": record.order_id,
        "line": record.line,
        "lane": record.lane,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        "tracking_url": tracking_info(&record.carrier, &record.tracking_number).url,
        "status": record.status(),
        "destination": record.destination,
        "legs": legs,
        "events": record.journey.events,
        "tracked_since": record.tracked_since,
        "fulfillment_id": record.fulfillment_id,
    })
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let mut docs = tracking_routes();
    docs.extend(labels::routes());
    docs
}

fn tracking_routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    vec![
        RouteDoc {
            method: "post",
            path: "/v1/shipments/{id}/tracking",
            authenticated: true,
            operation: json!({
                "operationId": "assignTracking",
                "summary": "A shipment's carrier and tracking number; the shop's fulfillment is made with them",
                "description": "Creates the shipment's tracking (its journey, fed by the carrier's events) with the events the carrier sent for the number before it was assigned. The same number again answers 200 with the tracking; another number for a tracked shipment, or a number another shipment has, is a 409. When the tenant's Shopify shop has the app installed, the order's open fulfillment orders are fulfilled with carrier, number and tracking link (once).",
                "parameters": [id],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["carrier", "tracking_number"], "additionalProperties": false,
                    "properties": {
                        "carrier": {"type": "string", "description": "A carrier with a status table (fedex, aftership, parcelnet)"},
                        "tracking_number": {"type": "string", "maxLength": MAX_NUMBER}
                    }
                }}}},
                "responses": {
                    "200": {"description": "Tracked with this number already", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "201": {"description": "The tracking made", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such shipment"),
                    "409": error("The shipment has another number, or the number another shipment"),
                    "422": {"$ref": "#/components/responses/Unprocessable"}
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/shipments/{id}/evidence",
            authenticated: true,
            operation: json!({
                "operationId": "shipmentEvidence",
                "summary": "The dispute pack: the shipment, its scans, its proof of delivery and the checks on it",
                "description": "The shipment and its destination (postcode centroid or geocode, area, time zone), every scan of every leg in time order, the current status, the proof of delivery (recipient, GPS, time, files) and the checks run on it (pod_present, gps_near_address, delivery_time_plausible, scan_sequence) with the tenant's rules and thresholds. Each POD file is read and hashed as the pack is built (`verified`), and given a signed link valid for 15 minutes: the only way a POD file is served.",
                "parameters": [id],
                "responses": {
                    "200": {"description": "The dispute pack", "content": {"application/json": {"schema": {"type": "object", "required": ["shipment", "events", "assessment", "rules"]}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No tracked shipment with this id for the tenant")
                }
            }),
        },
    ]
}
