//! The Shopify app's lifecycle. `GET /shopify/install?shop=…` sends the merchant to the shop's authorize page
//! with the app's scopes and a one-time `state`; `GET /shopify/callback` checks Shopify's signature, the state
//! and the shop, trades the code for an access token, creates (or re-enables) the shop's tenant, keeps the token
//! sealed, and registers the order webhooks, `app/uninstalled` and the CarrierService callback in the shop.
//! `POST /webhooks/shopify/app` takes `app/uninstalled`: the tenant is disabled at once.

mod install;
pub mod installation;
mod uninstall;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use lastmile_core::contract::ApiError;
use lastmile_platform::http::RouteDoc;
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::{StoreError, TableStore};
use lastmile_platform::sealed::Sealer;
use lastmile_platform::shopify_admin::{AdminClient, TokenExchange};
use lastmile_platform::tenants::TenantRegistry;
use serde_json::json;

/// What the app asks a shop for, and no more: `read_orders` for the order webhooks, `write_shipping` for the
/// CarrierService. (`app/uninstalled` and the compliance topics need no scope.)
pub const SCOPES: [&str; 2] = ["read_orders", "write_shipping"];

/// The topics the app subscribes, with the path (under the app's URL) each is delivered to.
pub const WEBHOOKS: [(&str, &str); 4] = [
    ("ORDERS_CREATE", "/webhooks/shopify"),
    ("ORDERS_UPDATED", "/webhooks/shopify"),
    ("ORDERS_CANCELLED", "/webhooks/shopify"),
    ("APP_UNINSTALLED", "/webhooks/shopify/app"),
];

/// The name of the carrier service the app registers in a shop (checkout shows it as the rates' source).
pub const CARRIER_SERVICE_NAME: &str = "lastmile";

/// The name of the CarrierService keys the app creates, so that a reinstall replaces only its own.
pub const CARRIER_SERVICE_KEY_NAME: &str = "shopify-app";

/// The Shopify app's client id and secrets (two during a rotation: the first signs the state cookie).
#[derive(Clone)]
pub struct Credentials {
    pub api_key: String,
    pub secrets: Vec<String>,
}

/// Makes the Admin API client of a shop from its access token (in tests, one pointing at a stand-in).
pub type AdminFactory = Arc<dyn Fn(&str, &str) -> AdminClient + Send + Sync>;

/// What the app's routes need.
#[derive(Clone)]
pub struct App {
    /// `None` when the app's key and secret are not configured: the install routes answer 503 then.
    pub credentials: Option<Credentials>,
    pub scopes: Vec<String>,
    /// Where Shopify reaches this deployment (`https://…`, no trailing slash): the callback, webhook and
    /// CarrierService URLs are built on it.
    pub app_url: String,
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    pub sealer: Arc<Sealer>,
    pub exchange: Arc<dyn TokenExchange>,
    pub admin: AdminFactory,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// The app against the real Shopify: the token exchange and the Admin API at each shop's own domain, the
    /// minimum [`SCOPES`]. Without credentials or without a public URL the install routes answer 503.
    pub fn new(
        credentials: Option<Credentials>,
        app_url: String,
        registry: Arc<TenantRegistry>,
        table: Arc<dyn TableStore>,
        sealer: Sealer,
        clock: Arc<dyn Clock>,
    ) -> App {
        let credentials = credentials.filter(|_| !app_url.is_empty());
        let exchange = lastmile_platform::shopify_admin::HttpTokenExchange {
            client_id: credentials.as_ref().map(|c| c.api_key.clone()).unwrap_or_default(),
            client_secret: credentials.as_ref().and_then(|c| c.secrets.first().cloned()).unwrap_or_default(),
            base: None,
        };
        App {
            credentials,
            scopes: SCOPES.map(str::to_owned).to_vec(),
            app_url,
            registry,
            table,
            sealer: Arc::new(sealer),
            exchange: Arc::new(exchange),
            admin: App::admin_at(None),
            clock,
        }
    }

    /// The admin client factory of the real Shopify, or of a stand-in at `base`.
    pub fn admin_at(base: Option<String>) -> AdminFactory {
        Arc::new(move |shop: &str, token: &str| AdminClient::at(base.as_deref(), shop, token))
    }

    fn credentials(&self) -> Result<&Credentials, ApiError> {
        self.credentials.as_ref().filter(|c| !c.api_key.is_empty() && c.secrets.iter().any(|s| !s.is_empty())).ok_or_else(
            || {
                ApiError::new(
                    503,
                    "shopify_app_not_configured",
                    "the Shopify app's API key and secret are not set (LASTMILE_SHOPIFY_API_KEY, LASTMILE_SHOPIFY_API_SECRET)",
                )
            },
        )
    }

    fn secrets(&self) -> Vec<&[u8]> {
        self.credentials.iter().flat_map(|c| c.secrets.iter()).map(|s| s.as_bytes()).collect()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app_url.trim_end_matches('/'))
    }
}

fn store(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store");
    ApiError::new(503, "store_unavailable", "the store did not answer; retry")
}

/// The app's routes: install and callback (opened by the merchant's browser) and the `app/uninstalled` webhook
/// (signed by Shopify). None takes an API key.
pub fn router<S: Clone + Send + Sync + 'static>(app: Arc<App>) -> Router<S> {
    Router::new()
        .route("/shopify/install", get(install::install))
        .route("/shopify/callback", get(install::callback))
        .route("/webhooks/shopify/app", post(uninstall::app_uninstalled))
        .with_state(app)
}

/// The whole function on its own (as Lambda runs it): JSON 404/405 and correlation ids.
pub fn app(app: Arc<App>) -> Router {
    use lastmile_platform::http;
    router(app)
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn(http::trace_requests))
}

/// The documentation of this crate's routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    vec![
        RouteDoc {
            method: "get",
            path: "/shopify/install",
            authenticated: false,
            operation: json!({
                "operationId": "shopifyInstall",
                "summary": "Start installing the Shopify app on a shop",
                "description": "Redirects to the shop's authorize page with the app's scopes and a one-time `state` (also bound to the browser by a signed cookie). Opened from Shopify with a signed query for a shop that has the app, it shows the installed page instead.",
                "parameters": [
                    {"name": "shop", "in": "query", "required": true, "schema": {"type": "string", "example": "my-shop.myshopify.com"}},
                    {"name": "hmac", "in": "query", "required": false, "schema": {"type": "string"}}
                ],
                "responses": {
                    "302": {"description": "To the shop's authorize page"},
                    "200": {"description": "The app is installed on this shop", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "400": error("Not a shop domain (`*.myshopify.com`)"),
                    "401": error("A signed query whose signature does not match"),
                    "503": error("The app's key and secret are not configured")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/shopify/callback",
            authenticated: false,
            operation: json!({
                "operationId": "shopifyCallback",
                "summary": "Shopify's OAuth callback: finish the install",
                "description": "Checks the query's HMAC (hex HMAC-SHA256 with the app's secret), the one-time `state` and its cookie, and the shop domain; exchanges the code for an access token (kept sealed), creates or re-enables the shop's tenant, and registers the order webhooks, `app/uninstalled` and the CarrierService callback.",
                "parameters": [
                    {"name": "shop", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "code", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "state", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "hmac", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "timestamp", "in": "query", "required": true, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "Installed", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "400": error("Bad shop domain; unknown, used or expired `state`; state cookie missing or different; code refused by Shopify"),
                    "401": error("The query's signature does not match"),
                    "503": error("Not configured, or Shopify or the store did not answer; retry the install")
                }
            }),
        },
        RouteDoc {
            method: "post",
            path: "/webhooks/shopify/app",
            authenticated: false,
            operation: json!({
                "operationId": "shopifyAppWebhook",
                "summary": "Shopify's app/uninstalled webhook: disable the shop's tenant",
                "description": "Signed with the app's secret in X-Shopify-Hmac-Sha256 (401 otherwise); once per X-Shopify-Event-Id (or X-Shopify-Webhook-Id). The tenant's API keys then answer 403, checkout gets no rates, orders are not taken in; reinstalling enables it again.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "Uninstalled, a duplicate, or a shop without a tenant", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string", "enum": ["uninstalled", "duplicate", "stale", "ignored"]}, "tenant": {"type": "string"}}}}}},
                    "400": error("A header is missing"),
                    "401": error("Signature missing or wrong"),
                    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                    "422": error("Another topic"),
                    "503": error("Not configured, or the store did not answer; Shopify retries")
                }
            }),
        },
    ]
}
