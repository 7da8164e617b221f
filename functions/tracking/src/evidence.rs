//! The dispute pack and the signed POD links it hands out.
//!
//! `GET /v1/shipments/{id}/evidence` gathers what a carrier or a marketplace dispute asks for: the shipment and
//! where it should have arrived, every scan of every leg in time order, the proof of delivery (recipient, GPS,
//! files) and the checks run on it with the rules they used. Each POD file is read and hashed as the pack is
//! built (`verified`), and reached only through a short-lived signed link.
//!
//! `GET /pod-files/{*key}` serves the filesystem store's signed links (S3 serves its own presigned URLs). It is
//! unauthenticated: the signature over key and expiry is the authority, and a file whose bytes no longer match
//! their SHA-256 is refused, never sent.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use lastmile_core::contract::ApiError;
use lastmile_platform::embedded::links::{LinkError, LinkSigner};
use lastmile_platform::http::{ErrorResponse, RouteDoc};
use lastmile_platform::ports::blob::{BlobError, BlobStore, sha256_hex};
use lastmile_platform::ports::clock::Clock;
use lastmile_platform::ports::table::TenantTable;
use lastmile_platform::repo::personal;
use lastmile_platform::repo::tracking::{self, POD_PERSONAL, StoredPod};
use lastmile_platform::tenants::TenantContext;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Tracking;
use crate::api::store;

/// How long a POD link in a pack stays valid: long enough to open the pack's files, short enough that a
/// forwarded pack stops exposing them the same day.
pub const LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The dispute pack of a shipment of the caller's tenant.
pub(crate) async fn evidence(
    State(tracking): State<Arc<Tracking>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
) -> Result<Response, ErrorResponse> {
    let table = TenantTable::new(&*tracking.table, &tenant.tenant.id);
    // Another tenant's shipment is not in this tenant's partition: the same 404 as none at all.
    let Some(record) = tracking::get(&table, &id).await.map_err(store)? else {
        let message = format!("no tracked shipment {id:?}; assign its tracking number first");
        return Err(ErrorResponse(ApiError::new(404, "unknown_shipment", message)));
    };
    let record = record.value;
    let mut events = record.journey.events.clone();
    events.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at).then_with(|| a.id.cmp(&b.id)));

    let kept = personal::get(&table, &tracking::key(&id).pk, POD_PERSONAL.kind).await.map_err(store)?;
    let delivered = record.journey.delivered();
    let proof = delivered.and_then(|d| kept.as_ref().map(|k| k.value.data[&d.id].clone())).unwrap_or(Value::Null);
    let mut files = Vec::new();
    for pod in &record.pods {
        files.push(file_entry(&*tracking.blobs, pod).await);
    }
    let pod = delivered.map(|d| {
        json!({
            "event_id": d.id,
            "delivered_at": d.occurred_at,
            "taken_at": d.pod.as_ref().and_then(|p| p.taken_at),
            "recipient_name": proof.get("recipient_name").cloned().unwrap_or(Value::Null),
            "gps": proof.get("gps").cloned().unwrap_or(Value::Null),
            "files": files,
        })
    });
    let settings = &tenant.tenant.tracking;
    let assessment = record.assessment.as_ref();
    let body = json!({
        "shipment": {
            "id": record.shipment_id,
            "order_id": record.order_id,
            "line": record.line,
            "lane": record.lane,
            "carrier": record.carrier,
            "tracking_number": record.tracking_number,
            "tracked_since": record.tracked_since,
        },
        "destination": record.destination,
        "status": record.status(),
        "legs": record.journey.legs(),
        "events": events,
        "pod": pod,
        "assessment": {
            "pod_missing": assessment.map(|a| a.pod_missing),
            "suspect_delivery": assessment.map(|a| a.suspect_delivery),
            "checks": assessment.map(|a| a.checks.clone()).unwrap_or_default(),
        },
        "rules": {
            "pod_policy": settings.pod_policy(&record.line),
            "max_distance_m": settings.suspect.max_distance_m.get(&record.destination.area),
            "area": record.destination.area,
            "suspect": settings.suspect,
        },
        "generated_at": tracking.clock.now(),
        "links_expire_in_seconds": LINK_LIFETIME.as_secs(),
    });
    Ok(([(header::CACHE_CONTROL, "private, no-store")], Json(body)).into_response())
}

/// A POD file as the pack lists it: read and hashed now, with a signed link.
async fn file_entry(blobs: &dyn BlobStore, pod: &StoredPod) -> Value {
    let verified = match blobs.get(&pod.key).await {
        Ok(Some(bytes)) => sha256_hex(&bytes) == pod.sha256,
        Ok(None) | Err(BlobError::Corrupt { .. }) => false,
        Err(e) => {
            tracing::warn!(error = %e, "POD file not read");
            false
        }
    };
    let link = match blobs.presign_get(&pod.key, LINK_LIFETIME).await {
        Ok(link) => Some(link),
        Err(e) => {
            tracing::warn!(error = %e, "no signed link for a POD file");
            None
        }
    };
    json!({
        "name": pod.name,
        "sha256": pod.sha256,
        "bytes": pod.bytes,
        "content_type": pod.content_type,
        "verified": verified,
        "link": link,
    })
}

/// What serves the filesystem store's signed POD links.
#[derive(Clone)]
pub struct PodFiles {
    pub blobs: Arc<dyn BlobStore>,
    pub signer: LinkSigner,
    pub clock: Arc<dyn Clock>,
}

/// `GET /pod-files/{*key}`, unauthenticated: the link's signature is the authority. Mount it beside the
/// authenticated routes, never behind the API-key layer.
pub fn pod_files_router<S: Clone + Send + Sync + 'static>(files: PodFiles) -> Router<S> {
    Router::new().route("/pod-files/{*key}", get(pod_file)).with_state(Arc::new(files))
}

/// The documentation of [`pod_files_router`]'s route, for the OpenAPI document of the server that mounts it.
pub fn pod_files_routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    vec![RouteDoc {
        method: "get",
        path: "/pod-files/{key}",
        authenticated: false,
        operation: json!({
            "operationId": "podFile",
            "summary": "A POD file through a signed link from an evidence pack",
            "description": "Unauthenticated: the HMAC signature over the key and the expiry is the authority. The file is served only when its bytes still match their SHA-256.",
            "parameters": [
                {"name": "key", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "expires", "in": "query", "required": true, "schema": {"type": "integer", "description": "Unix seconds"}},
                {"name": "signature", "in": "query", "required": true, "schema": {"type": "string", "description": "base64url HMAC-SHA256"}}
            ],
            "responses": {
                "200": {"description": "The file, with its content type", "content": {"application/octet-stream": {}}},
                "403": error("A bad signature (invalid_link) or an expired link (link_expired)"),
                "404": error("The file is gone (erased or expired)"),
                "409": error("The stored bytes do not match their SHA-256 (pod_hash_mismatch)")
            }
        }),
    }]
}

#[derive(Deserialize)]
struct LinkQuery {
    expires: Option<i64>,
    signature: Option<String>,
}

fn refused(code: &'static str, message: impl Into<String>) -> ErrorResponse {
    ErrorResponse(ApiError::new(403, code, message))
}

async fn pod_file(
    State(files): State<Arc<PodFiles>>,
    Path(key): Path<String>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ErrorResponse> {
    let (Some(expires), Some(signature)) = (query.expires, query.signature) else {
        return Err(refused("invalid_link", "a POD link carries expires and signature; ask for a new evidence pack"));
    };
    match files.signer.verify(&key, expires, &signature, files.clock.now().as_second()) {
        Ok(()) => {}
        Err(LinkError::BadSignature) => {
            return Err(refused("invalid_link", "the link's signature does not match its file and expiry"));
        }
        Err(LinkError::Expired(_)) => {
            return Err(refused("link_expired", "the link has expired; ask for a new evidence pack"));
        }
    }
    let mismatch = || {
        ErrorResponse(ApiError::new(
            409,
            "pod_hash_mismatch",
            "the stored file does not match its SHA-256; it is withheld",
        ))
    };
    let bytes = match files.blobs.get(&key).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(ErrorResponse(ApiError::new(
                404,
                "pod_file_not_found",
                "no such POD file (erased or expired)",
            )));
        }
        Err(BlobError::Corrupt { .. }) => return Err(mismatch()),
        Err(BlobError::InvalidKey(_)) => return Err(refused("invalid_link", "the link names no POD file")),
        Err(e) => {
            tracing::error!(error = %e, "POD file not read");
            return Err(ErrorResponse(ApiError::new(503, "store_unavailable", "the blob store did not answer; retry")));
        }
    };
    // POD keys name their bytes' hash (`…/{sha256}-{name}`): check that too, so a file swapped together with
    // the store's own record of its hash is still caught.
    if let Some(expected) = key_hash(&key)
        && expected != sha256_hex(&bytes)
    {
        return Err(mismatch());
    }
    let headers = [
        (header::CONTENT_TYPE, content_type(&key)),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, bytes).into_response())
}

/// The SHA-256 a POD key names in its last segment, `{sha256}-{name}`.
fn key_hash(key: &str) -> Option<&str> {
    let last = key.rsplit('/').next()?;
    let (hash, _) = last.split_once('-')?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

/// The content type by the file's extension: the kinds carriers send as POD, anything else as bytes.
fn content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_key_names_its_hash_and_its_type() {
        let hash = "a".repeat(64);
        assert_eq!(key_hash(&format!("pod/acme/fedex/1Z/{hash}-door.jpg")), Some(hash.as_str()));
        assert_eq!(key_hash("pod/acme/fedex/1Z/door.jpg"), None);
        assert_eq!(content_type("pod/x/door.JPG"), "image/jpeg");
        assert_eq!(content_type("pod/x/sig.png"), "image/png");
        assert_eq!(content_type("pod/x/blob"), "application/octet-stream");
    }
}
