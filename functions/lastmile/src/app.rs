//! The application router of `lastmile dev`: open routes (health, OpenAPI), the dashboard behind its login,
//! and the per-tenant API behind API-key resolution, with correlation ids on everything.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use lastmile_platform::http::{self, RouteDoc};
use serde_json::json;

use lastmile_fn_claims::api::ClaimsApi;
use lastmile_fn_route::api::RoutingApi;
use lastmile_fn_tracking::evidence::PodFiles;

use crate::dev::Prepared;

/// Every documented route of the application: the OpenAPI document is generated from this table.
pub fn route_docs() -> Vec<RouteDoc> {
    let mut routes = vec![
        RouteDoc {
            method: "get",
            path: "/health",
            authenticated: false,
            operation: json!({
                "operationId": "health",
                "summary": "Liveness and loaded reference data",
                "responses": {"200": {"description": "The server is up", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}
            }),
        },
        RouteDoc {
            method: "get",
            path: "/openapi.json",
            authenticated: false,
            operation: json!({
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }),
        },
    ];
    routes.extend(crate::dashboard::routes());
    routes.extend(lastmile_fn_address::routes());
    routes.extend(lastmile_fn_quote::routes());
    routes.extend(lastmile_fn_duty::routes());
    routes.extend(lastmile_fn_ingest::routes());
    routes.extend(lastmile_fn_route::api::routes());
    routes.extend(lastmile_fn_privacy::routes());
    routes.extend(lastmile_fn_shopify::routes());
    routes.extend(lastmile_fn_kpi::api::routes());
    routes.extend(lastmile_fn_tracking::api::routes());
    routes.extend(lastmile_fn_tracking::evidence::pod_files_routes());
    routes.extend(lastmile_fn_returns::api::routes());
    routes.extend(lastmile_fn_ingest::carriers::routes());
    routes.extend(lastmile_fn_claims::api::routes());
    routes.extend(lastmile_fn_reconcile::api::routes());
    routes
}

/// The whole application over what `lastmile dev` prepared: the tenant registry, the customs rules and each
/// function's state.
pub fn router(prepared: &Prepared) -> Router {
    let registry = prepared.registry.clone();
    let rules = prepared.rules.clone();
    let ingest = prepared.ingest.clone();
    let routing = prepared.routing_api.clone();
    let tenant_api = Router::new()
        .merge(lastmile_fn_address::router())
        .merge(lastmile_fn_quote::router(rules.clone()))
        .merge(lastmile_fn_duty::router(rules))
        .merge(lastmile_fn_ingest::orders_api(ingest.clone()))
        .merge(lastmile_fn_route::api::router(routing.clone()))
        .merge(lastmile_fn_kpi::api::router(prepared.tracking.kpi.clone()))
        .merge(lastmile_fn_tracking::api::router(prepared.tracker.clone()))
        .merge(lastmile_fn_returns::api::router(prepared.returns.clone()))
        .merge(lastmile_fn_ingest::carriers::pod_api(prepared.carriers.clone()))
        .merge(lastmile_fn_claims::api::router(Arc::new(ClaimsApi {
            table: prepared.table.clone(),
            clock: prepared.clock.clone(),
        })))
        .merge(lastmile_fn_reconcile::api::router(crate::invoices::api(prepared)))
        .route_layer(middleware::from_fn_with_state(registry.clone(), http::require_tenant));
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .merge(crate::dashboard::router(prepared.dashboard.clone(), dashboard_api(routing)))
        .merge(tenant_api)
        .merge(lastmile_fn_quote::carrier_service_router(registry))
        .merge(lastmile_fn_ingest::webhook_router(ingest))
        .merge(lastmile_fn_ingest::carriers::webhook_router(prepared.carriers.clone()))
        .merge(lastmile_fn_tracking::evidence::pod_files_router(PodFiles {
            blobs: prepared.blobs.clone(),
            signer: prepared.pod_links.clone(),
            clock: prepared.clock.clone(),
        }))
        .merge(lastmile_fn_privacy::router(prepared.compliance.clone()))
        .merge(lastmile_fn_shopify::router(prepared.shopify.clone()))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(middleware::from_fn(http::trace_requests))
}

/// The tenant routes a dashboard session reaches under `/dashboard/api`: the address check, and the routing
/// API's orders, lines, stock and experiments (what the dashboard's panels show and switch).
fn dashboard_api(routing: Arc<RoutingApi>) -> Router {
    Router::new().merge(lastmile_fn_address::router()).merge(lastmile_fn_route::api::router(routing))
}

/// The documentation of [`dashboard_api`]'s routes, as the API documents them (the OpenAPI document puts them
/// under `/dashboard/api` with the session's security scheme).
pub fn dashboard_api_docs() -> Vec<RouteDoc> {
    let mut routes = lastmile_fn_address::routes();
    routes.extend(lastmile_fn_route::api::routes());
    routes
}

async fn health() -> impl IntoResponse {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "reference_rows": lastmile_core::address::preload(),
    }))
}
