//! Address validation over HTTP: `POST /v1/address/validate` and `POST /v1/address/validate/batch`. The
//! request and response types, the limits and the engine are `lastmile-core`'s, shared with the edge worker.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};
use lastmile_core::address::api::{self, Defaults};
use lastmile_core::address::{AddressResult, BatchItem};
use lastmile_core::contract::{MAX_ADDRESS_BODY_BYTES, MAX_BATCH_ADDRESSES, MAX_BATCH_BODY_BYTES};
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::tenants::TenantContext;
use serde_json::json;

/// The address routes. They expect a [`TenantContext`] extension, put there by the caller's auth layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/v1/address/validate", post(validate_one))
        .route("/v1/address/validate/batch", post(validate_batch))
}

/// What the tenant's configuration fills in where a request leaves it open.
fn defaults(tenant: &TenantContext) -> Defaults {
    Defaults { carrier_kind: tenant.tenant.address.default_carrier_kind }
}

fn log_result(result: &AddressResult) {
    // Verdicts and countries only: the address itself is personal data and stays out of the logs.
    tracing::info!(country = %result.country, verdict = ?result.verdict, issues = result.issues.len(), "address validated");
}

async fn validate_one(Extension(tenant): Extension<TenantContext>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_ADDRESS_BODY_BYTES).await?;
        api::validate_body(&bytes, defaults(&tenant))
    }
    .await;
    match outcome {
        Ok(result) => {
            log_result(&result);
            Json(result).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn validate_batch(Extension(tenant): Extension<TenantContext>, request: Request) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_BATCH_BODY_BYTES).await?;
        api::validate_batch_body(&bytes, defaults(&tenant))
    }
    .await;
    match outcome {
        Ok(response) => {
            for item in &response.results {
                if let BatchItem::Ok(result) = item {
                    log_result(result);
                }
            }
            Json(response).into_response()
        }
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
