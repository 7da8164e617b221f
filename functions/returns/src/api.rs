//! The returns API.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use lastmile_core::contract::{self, ApiError};
use lastmile_core::returns::lifecycle::ReturnStatus;
use lastmile_fn_tracking::labels::LabelFormat;
use lastmile_platform::http::{self, ErrorResponse, RouteDoc, read_body};
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::returns;
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Returns;
use crate::create::{self, Failure, ReturnRequest, answer, store};
use crate::progress::{self, InspectionIn, unknown};

/// Largest request body: a return of many items with their photo references.
const MAX_BODY: usize = 32 * 1024;
/// Most returns one order lists.
const MAX_LISTED: usize = 200;

/// The API on its own (as Lambda runs it), behind API-key resolution.
pub fn app(registry: Arc<TenantRegistry>, returns: Arc<Returns>) -> Router {
    router(returns)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The routes that need an API key; expects a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(returns: Arc<Returns>) -> Router<S> {
    Router::new()
        .route("/v1/returns", post(create_return).get(list))
        .route("/v1/returns/{rma}", get(one))
        .route("/v1/returns/{rma}/label", post(issue_label).get(label_document))
        .route("/v1/returns/{rma}/inspection", post(inspection))
        .with_state(returns)
}

async fn create_return(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    request: Request,
) -> Result<Response, Failure> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY).await?;
    let input: ReturnRequest = contract::parse_json_body(&bytes, MAX_BODY)?;
    let key = http::header(&parts.headers, "idempotency-key");
    let (status, record) = create::create(&returns, &tenant.tenant.id, &input, key).await?;
    Ok((status, Json(answer(&record))).into_response())
}

async fn one(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    Path(rma): Path<String>,
) -> Result<Json<Value>, ErrorResponse> {
    let table = TenantTable::new(&*returns.tracking.table, &tenant.tenant.id);
    let found = returns::get(&table, &rma).await.map_err(store)?.ok_or_else(|| unknown(&rma))?;
    let record = progress::refresh(&table, found).await.map_err(store)?;
    Ok(Json(answer(&record)))
}

async fn list(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ErrorResponse> {
    let table = TenantTable::new(&*returns.tracking.table, &tenant.tenant.id);
    let Some(order) = query.get("order").map(|o| o.trim()).filter(|o| !o.is_empty()) else {
        return Err(ErrorResponse(
            ApiError::new(422, "missing_order", "list the returns of one order: ?order={id}").with_field("order"),
        ));
    };
    let mut listed = Vec::new();
    for record in returns::of_order(&table, order, MAX_LISTED).await.map_err(store)? {
        let found = returns::get(&table, &record.rma).await.map_err(store)?;
        let record = match found {
            Some(found) => progress::refresh(&table, found).await.map_err(store)?,
            None => record,
        };
        listed.push(answer(&record));
    }
    Ok(Json(json!({ "order_id": order, "returns": listed })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LabelIn {
    #[serde(default)]
    format: LabelFormat,
}

async fn issue_label(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    Path(rma): Path<String>,
    request: Request,
) -> Result<Response, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, 1024).await?;
    let input: LabelIn = if bytes.is_empty() { LabelIn::default() } else { contract::parse_json_body(&bytes, 1024)? };
    let table = TenantTable::new(&*returns.tracking.table, &tenant.tenant.id);
    let issued = crate::label::issue(&returns, &table, &tenant.tenant.id, &rma, input.format).await?;
    let status = if issued.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(answer(&issued.record))).into_response())
}

async fn label_document(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    Path(rma): Path<String>,
) -> Result<Response, ErrorResponse> {
    let table = TenantTable::new(&*returns.tracking.table, &tenant.tenant.id);
    let (content_type, bytes) = crate::label::document(&returns, &table, &rma).await?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

async fn inspection(
    State(returns): State<Arc<Returns>>,
    Extension(tenant): Extension<TenantContext>,
    Path(rma): Path<String>,
    request: Request,
) -> Result<Json<Value>, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, 4 * 1024).await?;
    let input: InspectionIn = contract::parse_json_body(&bytes, 4 * 1024)?;
    let table = TenantTable::new(&*returns.tracking.table, &tenant.tenant.id);
    let now = returns.tracking.clock.now();
    let record = progress::inspect(&returns, &table, &rma, &input, now).await?;
    Ok(Json(answer(&record)))
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let rma = json!({"name": "rma", "in": "path", "required": true, "schema": {"type": "string"}});
    let the_return = json!({"application/json": {"schema": {"type": "object", "required": ["rma", "order_id", "status", "destination", "label_quote", "disposition"]}}});
    let statuses: Vec<&str> = ReturnStatus::ALL.iter().map(|s| s.as_str()).collect();
    vec![
        RouteDoc {
            method: "post",
            path: "/v1/returns",
            authenticated: true,
            operation: json!({
                "operationId": "createReturn",
                "summary": "An RMA from an order: eligibility, destination, return label quote and disposition, each explained",
                "description": "Idempotent on the client's key (`client_key`, or the Idempotency-Key header): the RMA number is derived from it, and a retry answers 200 with the return it created. Eligibility: the return window counted in calendar days from the delivery, non-returnable categories, and the quantities bought less those already returned (each refusal a 422 naming its field; all of them under `errors`). The destination is the warehouse or return hub that takes the buyer's country with the cheapest, then fastest, reverse-line quote; that quote is the label quote. The disposition (restock, refurbish, liquidate, or returnless refund when shipping and handling exceed the policy's share of what the items recover) comes with its arithmetic. A returnless refund is approved and refunded at once: the buyer keeps the items.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 128}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["order_id", "items"], "additionalProperties": false,
                    "properties": {
                        "order_id": {"type": "string"},
                        "client_key": {"type": "string", "maxLength": 128},
                        "items": {"type": "array", "items": {"type": "object", "required": ["sku", "quantity", "reason"], "additionalProperties": false, "properties": {
                            "sku": {"type": "string"},
                            "quantity": {"type": "integer", "minimum": 1},
                            "reason": {"type": "string", "enum": ["changed_mind", "wrong_size", "not_as_described", "defective", "arrived_damaged", "wrong_item"]},
                            "photos": {"type": "array", "items": {"type": "string", "description": "A blob reference"}}
                        }}},
                        "buyer_address": {"type": "object", "required": ["zip", "country_code"], "properties": {
                            "name": {"type": "string"}, "address1": {"type": "string"}, "address2": {"type": "string"},
                            "city": {"type": "string"}, "province_code": {"type": "string"}, "zip": {"type": "string"},
                            "country_code": {"type": "string"}
                        }}
                    }
                }}}},
                "responses": {
                    "200": {"description": "Created before with this key: the same return", "content": the_return},
                    "201": {"description": "The return", "content": the_return},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such order"),
                    "409": error("The key made a return of another order"),
                    "413": error("Body too large"),
                    "422": error("Not returnable: window closed, category, quantity, SKU not in the order, not delivered, no destination"),
                    "503": error("The store did not answer; retrying with the same key is safe")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/returns",
            authenticated: true,
            operation: json!({
                "operationId": "listReturns",
                "summary": "The returns of an order, oldest first, each brought up to date with its parcel's tracking",
                "parameters": [{"name": "order", "in": "query", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The returns", "content": {"application/json": {"schema": {"type": "object", "required": ["order_id", "returns"]}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "422": error("No order given")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/returns/{rma}",
            authenticated: true,
            operation: json!({
                "operationId": "getReturn",
                "summary": "A return, brought up to date with its parcel's tracking",
                "description": format!("Statuses: {}. The label's parcel scans move it to in_transit and, delivered to the destination, to received.", statuses.join(", ")),
                "parameters": [rma],
                "responses": {
                    "200": {"description": "The return", "content": the_return},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such return")
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/returns/{rma}/label",
            authenticated: true,
            operation: json!({
                "operationId": "issueReturnLabel",
                "summary": "Issues the return label once: bought from the carrier of the quoted line, or lastmile's own 4×6 ZPL",
                "description": "Through the label port, with one idempotency key per return; the parcel is then tracked under the label's number, and its scans move the return. While no carrier account is connected, lastmile's own ZPL label (return address, RMA number, Code 128 barcode) is issued without a carrier's number. The document is kept with its SHA-256 and read with GET. Issued before: 200 with the same label.",
                "parameters": [rma],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": false,
                    "properties": {"format": {"type": "string", "enum": ["zpl", "pdf"], "default": "zpl"}}
                }}}},
                "responses": {
                    "200": {"description": "Issued before: the same label", "content": the_return},
                    "201": {"description": "The label issued", "content": the_return},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such return"),
                    "409": error("The return is not approved (a returnless refund needs no label), or its tracking number is another parcel's"),
                    "422": error("The carrier refused the label"),
                    "503": error("The carrier or the store did not answer; retrying is safe")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/returns/{rma}/label",
            authenticated: true,
            operation: json!({
                "operationId": "getReturnLabel",
                "summary": "The return label's document, checked against the hash kept when it was issued",
                "parameters": [rma],
                "responses": {
                    "200": {"description": "The document", "content": {"application/zpl": {}, "application/pdf": {}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such return or label, or its document is past retention"),
                    "409": error("The stored document does not match its hash")
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/returns/{rma}/inspection",
            authenticated: true,
            operation: json!({
                "operationId": "inspectReturn",
                "summary": "What the inspection found: the return is inspected, then disposed or refunded by the condition found",
                "description": "ok keeps the condition the reasons stated; damaged is damaged; missing_parts is at best defective. The disposition is decided again with that condition, the return shipping being spent: restock, refurbish or liquidate dispose of it; when handling exceeds the policy's share of what it recovers, it is refunded. A return whose label is issued but whose scans have not shown it delivered (or that has lastmile's own label, without a carrier number) is received as it is inspected; one without a label, or inspected already, is a 409.",
                "parameters": [rma],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["finding"], "additionalProperties": false,
                    "properties": {
                        "finding": {"type": "string", "enum": ["ok", "damaged", "missing_parts"]},
                        "note": {"type": "string", "maxLength": progress::MAX_NOTE}
                    }
                }}}},
                "responses": {
                    "200": {"description": "The return, inspected and disposed or refunded", "content": the_return},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such return"),
                    "409": error("No label yet, or inspected already (illegal lifecycle move)"),
                    "422": {"$ref": "#/components/responses/Unprocessable"}
                }
            }),
        },
    ]
}
