//! Address validation over HTTP: `POST /v1/address/validate` and `POST /v1/address/validate/batch`. The
//! request and response types, the limits and the engine are `lastmile-core`'s, shared with the edge worker.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};
use lastmile_core::address::{self, AddressRequest, AddressResult, BatchItem, BatchRequest, BatchResponse};
use lastmile_core::contract::{self, ApiError, MAX_ADDRESS_BODY_BYTES, MAX_BATCH_ADDRESSES, MAX_BATCH_BODY_BYTES};
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::tenants::TenantContext;
use serde_json::json;

/// The address routes. They expect a [`TenantContext`] extension, put there by the caller's auth layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/v1/address/validate", post(validate_one))
        .route("/v1/address/validate/batch", post(validate_batch))
}

/// Validates with the tenant's defaults applied to what the request leaves open.
fn validate_for(tenant: &TenantContext, mut request: AddressRequest) -> Result<AddressResult, ApiError> {
    if request.carrier_kind.is_none() {
        request.carrier_kind = tenant.tenant.address.default_carrier_kind;
    }
    let result = address::validate(&request)?;
    // Verdicts and countries only: the address itself is personal data and stays out of the logs.
    tracing::info!(country = %result.country, verdict = ?result.verdict, issues = result.issues.len(), "address validated");
    Ok(result)
}

async fn validate_one(Extension(tenant): Extension<TenantContext>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_ADDRESS_BODY_BYTES).await?;
        let request: AddressRequest = contract::parse_json_body(&bytes, MAX_ADDRESS_BODY_BYTES)?;
        validate_for(&tenant, request)
    }
    .await;
    match outcome {
        Ok(result) => Json(result).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn validate_batch(Extension(tenant): Extension<TenantContext>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_BATCH_BODY_BYTES).await?;
        let batch: BatchRequest = contract::parse_json_body(&bytes, MAX_BATCH_BODY_BYTES)?;
        if batch.addresses.len() > MAX_BATCH_ADDRESSES {
            return Err(ApiError::new(
                422,
                "too_many_addresses",
                format!("{} addresses given: at most {MAX_BATCH_ADDRESSES} per batch", batch.addresses.len()),
            )
            .with_field("addresses"));
        }
        let results = batch
            .addresses
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let item = serde_json::from_value::<AddressRequest>(value)
                    .map_err(|e| ApiError::new(422, "invalid_type", format!("address {i} has a wrong type: {e}")))
                    .and_then(|request| validate_for(&tenant, request));
                match item {
                    Ok(result) => BatchItem::Ok(Box::new(result)),
                    Err(mut e) => {
                        e.field =
                            Some(format!("addresses[{i}]{}", e.field.map(|f| format!(".{f}")).unwrap_or_default()));
                        BatchItem::Err(e.body())
                    }
                }
            })
            .collect();
        Ok(BatchResponse { results })
    }
    .await;
    match outcome {
        Ok(response) => Json(response).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// The documentation of this router's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let errors = json!({
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "413": {"$ref": "#/components/responses/PayloadTooLarge"},
        "422": {"$ref": "#/components/responses/Unprocessable"}
    });
    let with_errors = |ok: serde_json::Value| {
        let mut responses = errors.clone();
        if let (Some(map), Some(ok)) = (responses.as_object_mut(), ok.as_object()) {
            map.extend(ok.clone());
        }
        responses
    };
    vec![
        RouteDoc {
            method: "post",
            path: "/v1/address/validate",
            authenticated: true,
            operation: json!({
                "operationId": "validateAddress",
                "summary": "Validate and standardize one address",
                "description": format!("Body at most {MAX_ADDRESS_BODY_BYTES} bytes."),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AddressRequest"}}}},
                "responses": with_errors(json!({"200": {"description": "The verdict, the standardized address, its components, issues, changes and flags", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AddressResult"}}}}}))
            }),
        },
        RouteDoc {
            method: "post",
            path: "/v1/address/validate/batch",
            authenticated: true,
            operation: json!({
                "operationId": "validateAddressBatch",
                "summary": format!("Validate up to {MAX_BATCH_ADDRESSES} addresses"),
                "description": format!("Body at most {MAX_BATCH_BODY_BYTES} bytes. One result per address, in order; an address that cannot be read gets its own error object without failing the batch."),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}},
                "responses": with_errors(json!({"200": {"description": "One result or error per address", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResponse"}}}}}))
            }),
        },
    ]
}
