//! HTTP plumbing shared by every router: the JSON error body, body limits, correlation ids, tenant
//! resolution by API key, and the route table the OpenAPI document is generated from.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use lastmile_core::contract::ApiError;
use tracing::Instrument;

use crate::tenants::{TenantContext, TenantRegistry};

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// An [`ApiError`] as an HTTP response with the JSON error body.
pub struct ErrorResponse(pub ApiError);

impl From<ApiError> for ErrorResponse {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, axum::Json(self.0.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Reads a request body of at most `limit` bytes; a declared or actual larger body is a 413 with the JSON
/// error body (axum's own limit answers in plain text).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::payload_too_large(limit)),
        Err(e) => Err(ApiError::new(400, "unreadable_body", format!("request body could not be read: {e}"))),
    }
}

/// A correlation id from the caller (`x-correlation-id` or `x-request-id`, visible ASCII, at most 128 bytes)
/// or a new random one.
fn correlation_id(headers: &HeaderMap) -> String {
    [CORRELATION_HEADER, "x-request-id"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .find(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(new_correlation_id)
}

/// A header's value, trimmed; `None` when absent, not text, or blank.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

pub fn new_correlation_id() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // Correlation ids only need to be distinct enough to follow a request in the logs.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes[..12].copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    hex::encode(bytes)
}

/// Middleware: one span per request carrying its correlation id, echoed in the response header. Logs the
/// method, the matched route (not the raw URI, which may carry tokens), the status and the latency.
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let id = correlation_id(request.headers());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span =
        tracing::info_span!("request", correlation_id = %id, %method, route = %route, tenant = tracing::field::Empty);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, elapsed_us = started.elapsed().as_micros() as u64, "request done"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    response
}

/// Middleware: resolves the tenant from `Authorization: Bearer <key>` or `X-Api-Key: <key>`, or answers 401;
/// then takes the request from the tenant's rate limit, or answers 429 with `Retry-After`.
pub async fn require_tenant(State(registry): State<Arc<TenantRegistry>>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim);
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return ErrorResponse(ApiError::new(
            401,
            "missing_api_key",
            "this route needs an API key: send 'Authorization: Bearer <key>'",
        ))
        .into_response();
    };
    let Some(context) = registry.resolve_current(key, crate::tenants::KeyScope::Api).await else {
        return ErrorResponse(ApiError::new(401, "invalid_api_key", "the API key is unknown or revoked"))
            .into_response();
    };
    tracing::Span::current().record("tenant", context.tenant.id.as_str());
    if !context.tenant.enabled {
        let message = "this tenant is disabled: its Shopify shop uninstalled the app; reinstalling enables it";
        return ErrorResponse(ApiError::new(403, "tenant_disabled", message)).into_response();
    }
    if let Err(wait) = registry.admit(&context.tenant) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = ErrorResponse(ApiError::new(
            429,
            "rate_limited",
            format!("this tenant's request limit is reached: retry in {seconds} s"),
        ))
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return response;
    }
    request.extensions_mut().insert::<TenantContext>(context);
    next.run(request).await
}

/// Fallback for unknown routes: a 404 with the JSON error body.
pub async fn not_found() -> ErrorResponse {
    ErrorResponse(ApiError::new(404, "not_found", "no such route: see /openapi.json"))
}

/// Fallback for a known route called with the wrong method.
pub async fn method_not_allowed() -> ErrorResponse {
    ErrorResponse(ApiError::new(405, "method_not_allowed", "this route does not accept that method: see /openapi.json"))
}

/// One documented route. Routers publish their routes as a table; the OpenAPI document is built from it, so
/// a route cannot be served without being documented.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    /// Whether the route needs an API key.
    pub authenticated: bool,
    /// The OpenAPI operation object (summary, requestBody, responses).
    pub operation: serde_json::Value,
}
