//! Duties and import taxes over HTTP. `POST /v1/landed-cost` works out duty, import tax and fees under the rules
//! in force on the shipment date; `POST /v1/customs/precheck` lists what would hold the parcel at customs;
//! `POST /v1/customs/invoice` writes the commercial invoice as JSON or printable HTML. All three take the same
//! shipment body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use lastmile_core::contract::{self, ApiError};
use lastmile_core::duty::rules::Rules;
use lastmile_core::duty::{Shipment, invoice, landed_cost, precheck};
use lastmile_platform::http::{ErrorResponse, RouteDoc, read_body};
use lastmile_platform::tenants::TenantContext;
use serde::Deserialize;
use serde_json::json;

/// Largest shipment body: an order with a few hundred lines.
pub const MAX_DUTY_BODY_BYTES: usize = 64 * 1024;

/// Most lines in one shipment.
pub const MAX_LINES: usize = 500;

/// The whole function on its own (as Lambda runs it): the routes behind API-key resolution, JSON 404/405 and
/// correlation ids.
pub fn app(registry: Arc<lastmile_platform::tenants::TenantRegistry>, rules: Arc<Rules>) -> Router {
    use lastmile_platform::http;
    router(rules)
        .route_layer(axum::middleware::from_fn_with_state(registry, http::require_tenant))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The tenant API routes over `rules`. They expect a [`TenantContext`] extension, put there by the caller's
/// auth layer.
pub fn router<S: Clone + Send + Sync + 'static>(rules: Arc<Rules>) -> Router<S> {
    Router::new()
        .route("/v1/landed-cost", post(landed))
        .route("/v1/customs/precheck", post(check))
        .route("/v1/customs/invoice", post(invoice_route))
        .layer(Extension(rules))
}

/// Reads and checks a shipment body.
pub async fn read_shipment(request: Request) -> Result<Shipment, ApiError> {
    let (parts, body): (_, Body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_DUTY_BODY_BYTES).await?;
    let shipment: Shipment = contract::parse_json_body(&bytes, MAX_DUTY_BODY_BYTES)?;
    if shipment.lines.len() > MAX_LINES {
        return Err(ApiError::new(422, "too_many_lines", format!("at most {MAX_LINES} lines")).with_field("lines"));
    }
    Ok(shipment)
}

async fn landed(
    Extension(_tenant): Extension<TenantContext>,
    Extension(rules): Extension<Arc<Rules>>,
    request: Request,
) -> Response {
    let outcome = async { landed_cost(&rules, &read_shipment(request).await?) }.await;
    match outcome {
        Ok(cost) => {
            tracing::info!(territory = %cost.territory, regime = %cost.regime.id, "landed cost");
            Json(cost).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn check(
    Extension(_tenant): Extension<TenantContext>,
    Extension(rules): Extension<Arc<Rules>>,
    request: Request,
) -> Response {
    match read_shipment(request).await {
        Ok(shipment) => {
            let problems = precheck::precheck(&rules, &shipment);
            let blocking = problems.iter().filter(|p| p.severity == precheck::Severity::Blocking).count();
            tracing::info!(problems = problems.len(), blocking, "customs pre-check");
            Json(json!({"ready": blocking == 0, "problems": problems})).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct InvoiceQuery {
    /// `json` (default) or `html`.
    #[serde(default)]
    format: Option<String>,
}

async fn invoice_route(
    Extension(_tenant): Extension<TenantContext>,
    Extension(rules): Extension<Arc<Rules>>,
    query: Result<Query<InvoiceQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Response {
    let outcome = async {
        let Query(query) = query.map_err(|e| ApiError::new(400, "invalid_query", e.body_text()))?;
        let html = match query.format.as_deref() {
            None | Some("json") => false,
            Some("html") => true,
            Some(other) => {
                return Err(ApiError::new(400, "invalid_format", format!("format {other:?}: use json or html"))
                    .with_field("format"));
            }
        };
        let shipment = read_shipment(request).await?;
        let number = shipment.reference.clone().unwrap_or_else(|| "unnumbered".to_owned());
        let invoice = invoice::commercial_invoice(&rules, &shipment, &number)?;
        Ok(if html { Html(invoice::render_html(&invoice)).into_response() } else { Json(invoice).into_response() })
    }
    .await;
    outcome.unwrap_or_else(|e| ErrorResponse(e).into_response())
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let common = |id: &str, summary: &str, description: String, answer: serde_json::Value| {
        json!({
            "operationId": id,
            "summary": summary,
            "description": description,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shipment"}}}},
            "responses": {
                "200": answer,
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                "422": {"$ref": "#/components/responses/Unprocessable"}
            }
        })
    };
    vec![
        RouteDoc {
            method: "post",
            path: "/v1/landed-cost",
            authenticated: true,
            operation: common(
                "landedCost",
                "Duty, import tax and fees of a shipment as of its date",
                format!("Body at most {MAX_DUTY_BODY_BYTES} bytes, at most {MAX_LINES} lines. Every figure is in the destination territory's currency, with the rule and source it comes from, who pays it, and the regime in plain language."),
                json!({"description": "The landed cost", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LandedCost"}}}}),
            ),
        },
        RouteDoc {
            method: "post",
            path: "/v1/customs/precheck",
            authenticated: true,
            operation: common(
                "customsPrecheck",
                "What would hold the parcel at customs",
                "HS code shape, descriptions customs reject, values and currencies, EORI, IOSS and UK VAT numbers, dangerous goods. `ready` is false while any problem is blocking.".to_owned(),
                json!({"description": "Problems found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PrecheckAnswer"}}}}),
            ),
        },
        RouteDoc {
            method: "post",
            path: "/v1/customs/invoice",
            authenticated: true,
            operation: {
                let mut op = common(
                    "commercialInvoice",
                    "The commercial invoice of a shipment",
                    "JSON by default; `?format=html` gives a printable page. The shipment's `reference` is the invoice number.".to_owned(),
                    json!({"description": "The invoice", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CommercialInvoice"}},
                        "text/html": {"schema": {"type": "string"}}
                    }}),
                );
                op["parameters"] = json!([{"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "html"]}}]);
                op
            },
        },
    ]
}
