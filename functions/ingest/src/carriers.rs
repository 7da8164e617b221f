//! Carrier events in. `POST /webhooks/carriers/{tenant}/{carrier}` takes a carrier's events in its own format —
//! scan-events JSON, an AfterShip-style webhook, or a CSV scan file — as the carrier's status table names it
//! (`format` in `shared/data/tracking/carriers/*.toml`). The body is signed with the tenant's secret for that
//! carrier: HMAC-SHA256 of the raw body, base64, in `X-Lastmile-Hmac-Sha256` (an AfterShip-style sender may use
//! its own `aftership-hmac-sha256`); two secrets are accepted during a rotation, compared in constant time.
//! The body is mapped by the core adapter (an unknown code or a malformed body is a 422 naming it), and one
//! [`TrackingBatch`] per tracking number goes on the tracking queue, split to stay under the queue's body limit.
//! A delivery is recognised by its content hash with the same pending/queued marks the order webhook uses.
//!
//! POD files: `PUT /v1/tracking/pod/{carrier}/{tracking_number}/{name}` (API key) or
//! `PUT /webhooks/carriers/{tenant}/{carrier}/pod/{tracking_number}/{name}` (signed like the events) stores the
//! bytes under `pod/{tenant}/{carrier}/{tracking_number}/{sha256}-{name}` and records them by name, so the
//! delivered event's `signature_file`/`photo_file` resolve whichever arrives first.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Extension, Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use lastmile_core::contract::ApiError;
use lastmile_core::tracking::adapters::{self, AdapterError};
use lastmile_core::tracking::{TrackingEvent, mapping};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::events::TrackingBatch;
use lastmile_platform::http::{ErrorResponse, RouteDoc, header, read_body};
use lastmile_platform::ports::blob::{BlobStore, sha256_hex};
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::queue::{MAX_BODY_BYTES, Queue};
use lastmile_platform::ports::secrets::Secrets;
use lastmile_platform::ports::table::{Condition, Item, Key, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::tracking::{POD_PERSONAL, PodFileRecord, StoredPod};
use lastmile_platform::repo::{self};
use lastmile_platform::tenants::{TenantContext, TenantRegistry};
use serde::Serialize;
use serde_json::{Map, json};
use sha2::Sha256;

/// Largest event body (a day's scan file of a busy depot fits).
pub const MAX_EVENTS_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Largest POD file.
pub const MAX_POD_BYTES: usize = 5 * 1024 * 1024;

/// How long a delivery's content hash is remembered.
const DEDUP_SECONDS: i64 = 7 * 24 * 60 * 60;

/// Room left in a queue message for the batch's envelope.
const MESSAGE_BUDGET: usize = MAX_BODY_BYTES - 8 * 1024;

pub const SIGNATURE_HEADER: &str = "x-lastmile-hmac-sha256";
pub const AFTERSHIP_SIGNATURE_HEADER: &str = "aftership-hmac-sha256";

/// What the carrier routes need.
pub struct CarrierIngest {
    pub registry: Arc<TenantRegistry>,
    pub table: Arc<dyn TableStore>,
    pub tracking: Arc<dyn Queue>,
    pub secrets: Arc<dyn Secrets>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
}

/// The signature a sender puts in `X-Lastmile-Hmac-Sha256`: base64 of HMAC-SHA256 of the raw body.
pub fn sign_carrier_body(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is the body's HMAC under one of `secrets`, compared in constant time.
pub fn verify_carrier_body(secrets: &[String], body: &[u8], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    secrets.iter().filter(|s| !s.is_empty()).any(|secret| {
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).is_ok_and(|mut mac| {
            mac.update(body);
            mac.verify_slice(&given).is_ok()
        })
    })
}

/// The signed routes (no API key): events and POD files.
pub fn webhook_router<S: Clone + Send + Sync + 'static>(ingest: Arc<CarrierIngest>) -> Router<S> {
    Router::new()
        .route("/webhooks/carriers/{tenant}/{carrier}", post(events_webhook))
        .route("/webhooks/carriers/{tenant}/{carrier}/pod/{tracking_number}/{name}", put(signed_pod))
        .with_state(ingest)
}

/// `PUT /v1/tracking/pod/…`; expects a [`TenantContext`] extension.
pub fn pod_api<S: Clone + Send + Sync + 'static>(ingest: Arc<CarrierIngest>) -> Router<S> {
    Router::new().route("/v1/tracking/pod/{carrier}/{tracking_number}/{name}", put(api_pod)).with_state(ingest)
}

fn backend(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store");
    ApiError::new(503, "store_unavailable", "the store did not answer; retry")
}

fn queue_down(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "tracking queue");
    ApiError::new(503, "queue_unavailable", "the tracking queue did not answer; retry")
}

#[derive(Debug, Serialize)]
struct EventsAccepted {
    /// `queued`, or `duplicate` for a delivery already queued.
    status: &'static str,
    delivery: String,
    events: usize,
    tracking_numbers: usize,
}

/// The tenant and its secrets for `carrier`, after checking the body's signature.
async fn signed_tenant(
    ingest: &CarrierIngest,
    tenant: &str,
    carrier: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Arc<TenantConfig>, ApiError> {
    ingest.registry.refresh().await;
    let unknown = || ApiError::new(404, "unknown_feed", format!("tenant {tenant:?} takes no events from {carrier:?}"));
    let config = ingest.registry.tenant(tenant).ok_or_else(unknown)?;
    let feed = config.tracking.carrier(carrier).ok_or_else(unknown)?;
    let table = mapping::builtin().carrier(carrier).ok_or_else(unknown)?;
    let signature = header(headers, SIGNATURE_HEADER)
        .or_else(|| {
            (table.format == "aftership-webhook").then(|| header(headers, AFTERSHIP_SIGNATURE_HEADER)).flatten()
        })
        .ok_or_else(|| ApiError::new(401, "missing_signature", "X-Lastmile-Hmac-Sha256 is required"))?;
    let mut secrets = Vec::new();
    for reference in &feed.secrets {
        match ingest.secrets.get(reference).await {
            Ok(secret) => secrets.push(secret),
            // One secret of a rotation may be gone already; the other still checks.
            Err(e) => tracing::warn!(error = %e, carrier, "carrier secret not found"),
        }
    }
    if secrets.is_empty() {
        return Err(ApiError::new(503, "secret_unavailable", "the carrier's signing secret cannot be read; retry"));
    }
    if !verify_carrier_body(&secrets, body, signature) {
        return Err(ApiError::new(401, "bad_signature", "the signature does not match the body"));
    }
    if !config.enabled {
        return Err(ApiError::new(403, "tenant_disabled", "this tenant is disabled"));
    }
    Ok(config)
}

async fn events_webhook(
    State(ingest): State<Arc<CarrierIngest>>,
    Path((tenant, carrier)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_EVENTS_BODY_BYTES).await?;
        let config = signed_tenant(&ingest, &tenant, &carrier, &parts.headers, &bytes).await?;
        let events = parse(&carrier, &parts.headers, &bytes)?;
        accept(&ingest, &config.id, &carrier, &bytes, events).await
    }
    .await;
    match outcome {
        Ok(accepted) => {
            tracing::info!(status = accepted.status, events = accepted.events, "carrier events");
            Json(accepted).into_response()
        }
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// The body through the adapter of the carrier's format.
fn parse(carrier: &str, headers: &HeaderMap, body: &[u8]) -> Result<Vec<TrackingEvent>, ApiError> {
    let table = mapping::builtin()
        .carrier(carrier)
        .ok_or_else(|| ApiError::new(404, "unknown_carrier", format!("no status table for {carrier:?}")))?;
    let csv = header(headers, "content-type").is_some_and(|c| c.starts_with("text/csv"));
    let parsed = match table.format.as_str() {
        "scan-csv" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::new(422, "malformed_events", "the scan file is not UTF-8"))?;
            adapters::scan_csv(table, text)
        }
        _ if csv => return Err(ApiError::new(415, "unsupported_media_type", format!("{carrier} sends JSON, not CSV"))),
        "aftership-webhook" => adapters::aftership_webhook(table, body, None),
        _ => adapters::scan_events_json(table, body, None),
    };
    parsed.map_err(|e| {
        let code = match e {
            AdapterError::UnknownCode { .. } => "unknown_code",
            AdapterError::AmbiguousTime(_) => "ambiguous_time",
            _ => "malformed_events",
        };
        ApiError::new(422, code, e.to_string())
    })
}

/// The batches of one delivery: per tracking number in order of first appearance, split where one would not fit
/// a queue message.
pub fn batches(tenant: &str, carrier: &str, delivery: &str, now: Timestamp, events: Vec<TrackingEvent>) -> Vec<String> {
    let mut numbers: Vec<(String, Vec<TrackingEvent>)> = Vec::new();
    for event in events {
        match numbers.iter_mut().find(|(n, _)| *n == event.tracking_number) {
            Some((_, list)) => list.push(event),
            None => numbers.push((event.tracking_number.clone(), vec![event])),
        }
    }
    let mut out = Vec::new();
    for (number, events) in numbers {
        let batch = TrackingBatch {
            tenant: tenant.to_owned(),
            carrier: carrier.to_owned(),
            tracking_number: number,
            delivery: delivery.to_owned(),
            received_at: now,
            events,
        };
        split(batch, &mut out);
    }
    out
}

fn split(batch: TrackingBatch, out: &mut Vec<String>) {
    let Ok(body) = serde_json::to_string(&batch) else { return };
    if body.len() <= MESSAGE_BUDGET || batch.events.len() <= 1 {
        out.push(body);
        return;
    }
    let mut first = batch;
    let rest = first.events.split_off(first.events.len() / 2);
    let second = TrackingBatch { events: rest, ..first.clone() };
    split(first, out);
    split(second, out);
}

/// Marks the delivery as seen, queues its batches, marks it queued; a redelivery of a queued one is a duplicate.
async fn accept(
    ingest: &CarrierIngest,
    tenant: &str,
    carrier: &str,
    body: &[u8],
    events: Vec<TrackingEvent>,
) -> Result<EventsAccepted, ApiError> {
    let delivery = format!("{carrier}:{}", &sha256_hex(body)[..32]);
    let table = TenantTable::new(&*ingest.table, tenant);
    let key = Key::new("carrier-delivery", delivery.clone());
    let now = ingest.clock.now();
    let count = events.len();
    let mut numbers: Vec<&str> = events.iter().map(|e| e.tracking_number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let tracking_numbers = numbers.len();
    let mark = |status: &str| {
        let mut attributes = Map::new();
        attributes.insert("status".into(), json!(status));
        Item::new(key.clone(), attributes).expiring_at(now.as_second() + DEDUP_SECONDS)
    };
    let answer = |status| EventsAccepted { status, delivery: delivery.clone(), events: count, tracking_numbers };
    let version = match table.put(mark("pending"), Condition::NotExists).await {
        Ok(version) => version,
        Err(StoreError::ConditionFailed) => match table.get(&key).await.map_err(backend)? {
            Some(item) if item.attributes.get("status") == Some(&json!("queued")) => return Ok(answer("duplicate")),
            // Pending: the first delivery stopped between the mark and the sends. Send again; the consumer
            // recognises events it has.
            Some(item) => item.version,
            None => return Err(ApiError::new(409, "retry", "the delivery is being taken in; retry")),
        },
        Err(e) => return Err(backend(e)),
    };
    for message in batches(tenant, carrier, &delivery, now, events) {
        ingest.tracking.send(&message).await.map_err(queue_down)?;
    }
    if let Err(e) = table.put(mark("queued"), Condition::Version(version)).await {
        tracing::warn!(error = %e, "delivery queued but not marked");
    }
    Ok(answer("queued"))
}

/// A POD file's name as carriers give it: letters, digits, dots, dashes and underscores, not starting with a dot.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn valid_number(number: &str) -> bool {
    !number.is_empty() && number.len() <= 64 && number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The blob key of a POD file.
pub fn pod_key(tenant: &str, carrier: &str, tracking_number: &str, sha256: &str, name: &str) -> String {
    format!("pod/{tenant}/{carrier}/{tracking_number}/{sha256}-{name}")
}

#[derive(Debug, Serialize)]
struct PodStored {
    name: String,
    key: String,
    sha256: String,
    bytes: u64,
}

async fn api_pod(
    State(ingest): State<Arc<CarrierIngest>>,
    Extension(tenant): Extension<TenantContext>,
    Path((carrier, number, name)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_POD_BYTES).await?;
        store_pod(&ingest, &tenant.tenant.id, &carrier, &number, &name, &parts.headers, &bytes).await
    }
    .await;
    match outcome {
        Ok(stored) => Json(stored).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

async fn signed_pod(
    State(ingest): State<Arc<CarrierIngest>>,
    Path((tenant, carrier, number, name)): Path<(String, String, String, String)>,
    request: Request,
) -> Response {
    let (parts, body): (_, Body) = request.into_parts();
    let outcome = async {
        let bytes = read_body(&parts.headers, body, MAX_POD_BYTES).await?;
        let config = signed_tenant(&ingest, &tenant, &carrier, &parts.headers, &bytes).await?;
        store_pod(&ingest, &config.id, &carrier, &number, &name, &parts.headers, &bytes).await
    }
    .await;
    match outcome {
        Ok(stored) => Json(stored).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// Stores the file under its content hash and records it by name; a file already stored is stored again at the
/// same key (the same bytes), so a retried upload is harmless. The tracking consumer is told, so a delivered
/// event that named the file before it came gets it.
async fn store_pod(
    ingest: &CarrierIngest,
    tenant: &str,
    carrier: &str,
    number: &str,
    name: &str,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<PodStored, ApiError> {
    let carrier = carrier.to_ascii_lowercase();
    if mapping::builtin().carrier(&carrier).is_none() {
        return Err(
            ApiError::new(422, "unknown_carrier", format!("no status table for {carrier:?}")).with_field("carrier")
        );
    }
    let number = number.to_ascii_uppercase();
    if !valid_number(&number) {
        return Err(ApiError::new(422, "invalid_tracking_number", "letters, digits or dashes, at most 64")
            .with_field("tracking_number"));
    }
    if !valid_name(name) {
        return Err(ApiError::new(422, "invalid_name", "a file name is letters, digits, '.', '-' or '_', at most 100")
            .with_field("name"));
    }
    let content_type = header(headers, "content-type").unwrap_or_default().to_ascii_lowercase();
    let content_type = content_type.split(';').next().unwrap_or_default().trim().to_owned();
    if !(content_type.starts_with("image/") || content_type == "application/pdf") {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            format!("a POD file is an image (image/*, image/svg+xml) or application/pdf, not {content_type:?}"),
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::new(422, "empty_file", "the file has no bytes"));
    }
    let sha256 = sha256_hex(bytes);
    let key = pod_key(tenant, &carrier, &number, &sha256, name);
    let now = ingest.clock.now();
    let file = StoredPod {
        name: name.to_owned(),
        key: key.clone(),
        sha256: sha256.clone(),
        content_type,
        bytes: bytes.len() as u64,
    };
    let record = PodFileRecord {
        carrier: carrier.clone(),
        tracking_number: number.clone(),
        file,
        stored_at: now,
        expires_at: POD_PERSONAL.expiry(now),
    };
    // The record first: the expiry job deletes a file it finds without a live record, so a file stored before its
    // record could be taken for an orphan in between. A record whose put failed names a file the retry stores.
    let table = TenantTable::new(&*ingest.table, tenant);
    repo::save(&table, &record, Condition::Always).await.map_err(backend)?;
    ingest.blobs.put(&key, bytes, &record.file.content_type).await.map_err(|e| {
        tracing::error!(error = %e, "blob store");
        ApiError::new(503, "blob_store_unavailable", "the file store did not answer; retry")
    })?;
    let delivery = format!("pod:{}", &sha256[..32]);
    if let Some(message) = no_events_batch(tenant, &carrier, &number, &delivery, now) {
        ingest.tracking.send(&message).await.map_err(queue_down)?;
    }
    Ok(PodStored { name: name.to_owned(), key, sha256, bytes: bytes.len() as u64 })
}

fn no_events_batch(tenant: &str, carrier: &str, number: &str, delivery: &str, now: Timestamp) -> Option<String> {
    let batch = TrackingBatch {
        tenant: tenant.to_owned(),
        carrier: carrier.to_owned(),
        tracking_number: number.to_owned(),
        delivery: delivery.to_owned(),
        received_at: now,
        events: Vec::new(),
    };
    serde_json::to_string(&batch).ok()
}

/// The documentation of the carrier routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let path = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let pod_body = json!({"required": true, "content": {
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }});
    let pod_responses = json!({
        "200": {"description": "Stored: its key and SHA-256", "content": {"application/json": {"schema": {"type": "object"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "413": {"$ref": "#/components/responses/PayloadTooLarge"},
        "415": error("Not an image or a PDF"),
        "422": {"$ref": "#/components/responses/Unprocessable"}
    });
    let pod_description = format!(
        "Stores the file (at most {MAX_POD_BYTES} bytes) under `pod/{{tenant}}/{{carrier}}/{{tracking_number}}/{{sha256}}-{{name}}` and records it by name, so the delivered event's `signature_file`/`photo_file` resolve whichever comes first. Personal data: kept {} days.",
        POD_PERSONAL.retention_days
    );
    vec![
        RouteDoc {
            method: "post",
            path: "/webhooks/carriers/{tenant}/{carrier}",
            authenticated: false,
            operation: json!({
                "operationId": "carrierEvents",
                "summary": "A carrier's tracking events, in its own format",
                "description": format!("Scan-events JSON, an AfterShip-style webhook or a CSV scan file (`text/csv`), as the carrier's status table says. Signed with the tenant's secret for the carrier: base64 HMAC-SHA256 of the raw body in X-Lastmile-Hmac-Sha256 (AfterShip-style senders may use aftership-hmac-sha256). Deduplicated by content; at most {MAX_EVENTS_BODY_BYTES} bytes. An unknown code or a malformed body is a 422 naming it."),
                "parameters": [path("tenant"), path("carrier")],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}},
                "responses": {
                    "200": {"description": "Queued, or a duplicate of a delivery already queued", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "401": error("Missing or wrong signature"),
                    "404": error("The tenant takes no events from this carrier"),
                    "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                    "422": {"$ref": "#/components/responses/Unprocessable"}
                }
            }),
        },
        RouteDoc {
            method: "put",
            path: "/webhooks/carriers/{tenant}/{carrier}/pod/{tracking_number}/{name}",
            authenticated: false,
            operation: json!({
                "operationId": "carrierPodFile",
                "summary": "A proof-of-delivery file from the carrier, signed like its events",
                "description": pod_description,
                "parameters": [path("tenant"), path("carrier"), path("tracking_number"), path("name")],
                "requestBody": pod_body,
                "responses": pod_responses
            }),
        },
        RouteDoc {
            method: "put",
            path: "/v1/tracking/pod/{carrier}/{tracking_number}/{name}",
            authenticated: true,
            operation: json!({
                "operationId": "putPodFile",
                "summary": "A proof-of-delivery file (signature, photo) of a tracking number",
                "description": pod_description,
                "parameters": [path("carrier"), path("tracking_number"), path("name")],
                "requestBody": pod_body,
                "responses": pod_responses
            }),
        },
    ]
}
