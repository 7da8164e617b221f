//! Quotes over HTTP. `POST /v1/quote` prices a shipment on every line the tenant ships with (JSON, for ERPs and
//! OMSs); `POST /shopify/carrier-service/{token}` answers Shopify's CarrierService callback in its exact shape.

pub mod carrier_service;
use lastmile_platform::quoting;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use lastmile_core::address::AddressRequest;
use lastmile_core::contract::{self, ApiError};
use lastmile_core::duty::Incoterm;
use lastmile_core::duty::rules::Rules;
use lastmile_core::rating::packing::Item;
use lastmile_core::rating::quote::Parcel;
use lastmile_core::units::{parse_dimensions, parse_weight};
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::tenants::TenantContext;
use serde::Deserialize;
use serde_json::json;

pub use carrier_service::carrier_service_router;

/// Largest quote request body: an order with a few hundred lines.
pub const MAX_QUOTE_BODY_BYTES: usize = 64 * 1024;

/// `POST /v1/quote`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// Warehouse id from the tenant's configuration; its first warehouse when absent.
    #[serde(default)]
    pub from: Option<String>,
    /// The destination address, in the address API's shape (`country` and `postcode` at least).
    pub to: AddressRequest,
    /// Parcels as shipped; when absent, `items` are packed by the tenant's packing rule.
    #[serde(default)]
    pub parcels: Vec<ParcelRequest>,
    #[serde(default)]
    pub items: Vec<Item>,
    /// When the order is placed (RFC 3339); now when absent.
    #[serde(default)]
    pub ship_at: Option<jiff::Timestamp>,
    /// Declared value for insurance, in minor units of each line's currency.
    #[serde(default)]
    pub declared_value: Option<i64>,
    /// Options to buy: `signature`, `ddp`, `liftgate`.
    #[serde(default)]
    pub options: Vec<String>,
    /// Only these line ids.
    #[serde(default)]
    pub lines: Vec<String>,
    /// What is in the parcels, for duties and import taxes on cross-border lines. With the `ddp` option the
    /// landed cost is added to each cross-border rate's price; without it, it is shown as what the buyer will
    /// pay on delivery.
    #[serde(default)]
    pub customs: Option<quoting::CustomsRequest>,
}

/// A parcel: weight as `"2.3kg"` / `"5lb"` or in `grams`; dimensions as `"40x30x20cm"` / `"16x12x8in"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParcelRequest {
    #[serde(default)]
    pub weight: Option<String>,
    #[serde(default)]
    pub grams: Option<u64>,
    #[serde(default)]
    pub dims: Option<String>,
}

impl ParcelRequest {
    fn parcel(&self, index: usize) -> Result<Parcel, ApiError> {
        let field = |name: &str| format!("parcels[{index}].{name}");
        let grams = match (&self.weight, self.grams) {
            (Some(text), _) => parse_weight(text)
                .map_err(|e| ApiError::new(422, "invalid_weight", e.to_string()).with_field(field("weight")))?,
            (None, Some(grams)) => grams,
            (None, None) => {
                return Err(ApiError::new(422, "missing_weight", "give weight or grams").with_field(field("weight")));
            }
        };
        let dimensions = self
            .dims
            .as_deref()
            .map(parse_dimensions)
            .transpose()
            .map_err(|e| ApiError::new(422, "invalid_dimensions", e.to_string()).with_field(field("dims")))?;
        Ok(Parcel { grams, dimensions })
    }
}

/// The whole function on its own (as Lambda runs it): the tenant API behind API-key resolution, the
/// CarrierService callback, JSON 404/405 and correlation ids.
pub fn app(registry: std::sync::Arc<lastmile_platform::tenants::TenantRegistry>, rules: Arc<Rules>) -> Router {
    use lastmile_platform::http;
    Router::new()
        .merge(router(rules).route_layer(axum::middleware::from_fn_with_state(registry.clone(), http::require_tenant)))
        .merge(carrier_service_router(registry))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The tenant API routes over the customs rules (for DDP). They expect a [`TenantContext`] extension, put there
/// by the caller's auth layer.
pub fn router<S: Clone + Send + Sync + 'static>(rules: Arc<Rules>) -> Router<S> {
    Router::new().route("/v1/quote", post(quote)).layer(Extension(rules))
}

/// Prices a parsed request for `tenant`.
pub fn quote_request(
    tenant: &lastmile_platform::config::TenantConfig,
    rules: &Rules,
    request: QuoteRequest,
) -> Result<quoting::Answer, ApiError> {
    let warehouse = quoting::warehouse(tenant, request.from.as_deref())?;
    let explicit = request.parcels.iter().enumerate().map(|(i, p)| p.parcel(i)).collect::<Result<Vec<_>, _>>()?;
    let parcels = quoting::parcels(tenant, explicit, &request.items)?;
    let ship_at = request.ship_at.unwrap_or_else(jiff::Timestamp::now);
    let ddp = request.options.iter().any(|o| o == "ddp");
    let mut answer = quoting::quote(
        tenant,
        quoting::Shipment {
            warehouse,
            destination: request.to,
            parcels,
            ship_at,
            declared_value: request.declared_value,
            options: request.options,
            lines: request.lines,
        },
    )?;
    if let Some(customs) = &request.customs {
        let incoterm = if ddp { Incoterm::Ddp } else { Incoterm::Dap };
        quoting::add_landed_costs(&mut answer, rules, customs, warehouse, ship_at, incoterm)?;
    }
    Ok(answer)
}

async fn quote(
    Extension(tenant): Extension<TenantContext>,
    Extension(rules): Extension<Arc<Rules>>,
    request: Request,
) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_QUOTE_BODY_BYTES).await?;
        let request: QuoteRequest = contract::parse_json_body(&bytes, MAX_QUOTE_BODY_BYTES)?;
        quote_request(&tenant.tenant, &rules, request)
    }
    .await;
    match outcome {
        Ok(answer) => {
            tracing::info!(rates = answer.rates.rates.len(), excluded = answer.rates.excluded.len(), "quoted");
            Json(answer).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    vec![
        RouteDoc {
            method: "post",
            path: "/v1/quote",
            authenticated: true,
            operation: json!({
                "operationId": "quote",
                "summary": "Price a shipment on every line the tenant ships with",
                "description": format!("Body at most {MAX_QUOTE_BODY_BYTES} bytes. Lines that can carry the shipment come cheapest first, each with a breakdown that adds up to its total, the billable weight and delivery dates; the others are listed with the reason."),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuoteRequest"}}}},
                "responses": {
                    "200": {"description": "Rates and exclusions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuoteAnswer"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                    "422": {"$ref": "#/components/responses/Unprocessable"}
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/shopify/carrier-service/{token}",
            authenticated: false,
            operation: json!({
                "operationId": "shopifyCarrierService",
                "summary": "Shopify CarrierService callback",
                "description": "Shopify's rate request in, `{\"rates\":[…]}` out. The URL's token is the tenant's carrier-service key (it opens nothing else). A destination that cannot be quoted answers 200 with no rates, so that checkout falls back to backup rates.",
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CarrierServiceRequest"}}}},
                "responses": {
                    "200": {"description": "Rates in Shopify's shape", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CarrierServiceResponse"}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "413": {"$ref": "#/components/responses/PayloadTooLarge"}
                }
            }),
        },
    ]
}
