//! The processed invoices over HTTP: `GET /v1/invoices` (files with their totals, newest first),
//! `GET /v1/invoices/{hash}` (one file's discrepancies) and `GET /v1/invoices/{hash}/dispute` (its dispute file as
//! CSV). `{hash}` is the file's content hash, `sha256:<hex>` or the bare hex.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use lastmile_core::contract::ApiError;
use lastmile_core::reconcile::check::{Discrepancy, Kind, Totals};
use lastmile_platform::http::{ErrorResponse, RouteDoc};
use lastmile_platform::ports::blob::BlobStore;
use lastmile_platform::ports::table::{TableStore, TenantTable};
use lastmile_platform::repo::invoices::{self, InvoiceRecord};
use lastmile_platform::tenants::TenantContext;
use serde::Serialize;
use serde_json::json;

/// Most files `GET /v1/invoices` lists.
pub const MAX_LISTED: usize = 100;

pub struct InvoicesApi {
    pub table: Arc<dyn TableStore>,
    pub blobs: Arc<dyn BlobStore>,
}

/// The routes; they expect a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(api: Arc<InvoicesApi>) -> Router<S> {
    Router::new()
        .route("/v1/invoices", get(list))
        .route("/v1/invoices/{hash}", get(one))
        .route("/v1/invoices/{hash}/dispute", get(dispute))
        .with_state(api)
}

/// One processed file, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub content_hash: String,
    pub invoice_number: String,
    pub layout: String,
    pub carrier: String,
    pub currency: String,
    pub source_key: String,
    pub processed_at: jiff::Timestamp,
    pub lines: usize,
    pub totals: Totals,
    pub discrepancies: usize,
    /// Count and amount per kind of discrepancy.
    pub by_kind: Vec<KindTotal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindTotal {
    pub kind: Kind,
    pub count: usize,
    pub amount: i64,
}

impl InvoiceSummary {
    pub fn of(record: &InvoiceRecord) -> InvoiceSummary {
        InvoiceSummary {
            content_hash: record.content_hash.clone(),
            invoice_number: record.invoice_number.clone(),
            layout: record.layout.clone(),
            carrier: record.carrier.clone(),
            currency: record.currency.clone(),
            source_key: record.source_key.clone(),
            processed_at: record.processed_at,
            lines: record.lines,
            totals: record.totals,
            discrepancies: record.discrepancies.len(),
            by_kind: record
                .by_kind()
                .into_iter()
                .map(|(kind, count, amount)| KindTotal { kind, count, amount })
                .collect(),
            error: record.error.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Listing {
    invoices: Vec<InvoiceSummary>,
}

#[derive(Debug, Serialize)]
struct Detail {
    #[serde(flatten)]
    summary: InvoiceSummary,
    discrepancies: Vec<Discrepancy>,
    dispute_url: Option<String>,
}

fn unavailable(e: impl std::fmt::Display) -> ErrorResponse {
    tracing::error!(error = %e, "store");
    ErrorResponse(ApiError::new(503, "store_unavailable", "the store did not answer; retry"))
}

/// `sha256:<64 hex>` from either spelling, or a 400.
fn content_hash(raw: &str) -> Result<String, ErrorResponse> {
    let hex = raw.strip_prefix("sha256:").unwrap_or(raw).to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("sha256:{hex}"))
    } else {
        Err(ErrorResponse(
            ApiError::new(
                400,
                "invalid_content_hash",
                format!("{raw:?} is not a content hash: expected sha256:<64 hex digits> or the 64 hex digits"),
            )
            .with_field("hash"),
        ))
    }
}

async fn found(api: &InvoicesApi, tenant: &str, raw: &str) -> Result<InvoiceRecord, ErrorResponse> {
    let hash = content_hash(raw)?;
    let table = TenantTable::new(api.table.as_ref(), tenant);
    invoices::get(&table, &hash).await.map_err(unavailable)?.map(|v| v.value).ok_or_else(|| {
        ErrorResponse(
            ApiError::new(404, "invoice_not_found", format!("no processed invoice file has content hash {hash}"))
                .with_field("hash"),
        )
    })
}

async fn list(
    State(api): State<Arc<InvoicesApi>>,
    Extension(tenant): Extension<TenantContext>,
) -> Result<Json<Listing>, ErrorResponse> {
    let table = TenantTable::new(api.table.as_ref(), &tenant.tenant.id);
    let records = invoices::recent(&table, MAX_LISTED).await.map_err(unavailable)?;
    Ok(Json(Listing { invoices: records.iter().map(InvoiceSummary::of).collect() }))
}

async fn one(
    State(api): State<Arc<InvoicesApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(hash): Path<String>,
) -> Result<Json<Detail>, ErrorResponse> {
    let record = found(&api, &tenant.tenant.id, &hash).await?;
    let hex = record.content_hash.trim_start_matches("sha256:").to_owned();
    Ok(Json(Detail {
        summary: InvoiceSummary::of(&record),
        dispute_url: record.dispute_key.as_ref().map(|_| format!("/v1/invoices/{hex}/dispute")),
        discrepancies: record.discrepancies,
    }))
}

async fn dispute(
    State(api): State<Arc<InvoicesApi>>,
    Extension(tenant): Extension<TenantContext>,
    Path(hash): Path<String>,
) -> Result<Response, ErrorResponse> {
    let record = found(&api, &tenant.tenant.id, &hash).await?;
    let no_file = || {
        ErrorResponse(ApiError::new(
            404,
            "dispute_file_not_found",
            format!("invoice file {} has no dispute file (it could not be read)", record.content_hash),
        ))
    };
    let Some(key) = record.dispute_key.as_deref() else { return Err(no_file()) };
    let bytes = api.blobs.get(key).await.map_err(unavailable)?.ok_or_else(no_file)?;
    let name = key.rsplit('/').next().unwrap_or("dispute.csv").to_owned();
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The documentation of these routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let hash = json!({"name": "hash", "in": "path", "required": true, "description": "the file's content hash: sha256:<hex> or the 64 hex digits", "schema": {"type": "string"}});
    let totals = json!({"type": "object", "description": "minor units of the invoice's currency", "properties": {
        "billed": {"type": "integer"}, "quoted": {"type": "integer"}, "disputed": {"type": "integer"}, "accepted_adjustments": {"type": "integer"}
    }});
    let kind = json!({"type": "string", "enum": ["overcharge", "surcharge_not_quoted", "duplicate", "unknown_tracking_number", "weight_adjustment", "not_rerated"]});
    let summary = json!({"type": "object", "properties": {
        "content_hash": {"type": "string"}, "invoice_number": {"type": "string"}, "layout": {"type": "string"},
        "carrier": {"type": "string"}, "currency": {"type": "string"}, "source_key": {"type": "string"},
        "processed_at": {"type": "string", "format": "date-time"}, "lines": {"type": "integer"}, "totals": totals,
        "discrepancies": {"type": "integer"},
        "by_kind": {"type": "array", "items": {"type": "object", "properties": {"kind": kind, "count": {"type": "integer"}, "amount": {"type": "integer"}}}},
        "error": {"type": "string", "description": "why the file could not be read"}
    }});
    let discrepancy = json!({"type": "object", "properties": {
        "tracking_number": {"type": "string"}, "file_line": {"type": "integer"}, "kind": kind, "charge": {"type": "string"},
        "billed": {"type": "integer"}, "expected": {"type": "integer"}, "amount": {"type": "integer"},
        "disputed": {"type": "boolean"}, "reason": {"type": "string"}
    }});
    vec![
        RouteDoc {
            method: "get",
            path: "/v1/invoices",
            authenticated: true,
            operation: json!({
                "operationId": "listInvoices",
                "summary": "Carrier invoice files the reconciliation job processed, newest first, with their totals",
                "responses": {
                    "200": {"description": "The processed files", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"invoices": {"type": "array", "items": summary.clone()}}
                    }}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"}
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/invoices/{hash}",
            authenticated: true,
            operation: json!({
                "operationId": "getInvoice",
                "summary": "One processed invoice file: its totals and discrepancies with amounts and reasons",
                "parameters": [hash.clone()],
                "responses": {
                    "200": {"description": "The file's reconciliation", "content": {"application/json": {"schema": {
                        "allOf": [summary, {"type": "object", "properties": {
                            "discrepancies": {"type": "array", "items": discrepancy},
                            "dispute_url": {"type": ["string", "null"]}
                        }}]
                    }}}},
                    "400": error("Not a content hash"),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No processed file has this hash")
                }
            }),
        },
        RouteDoc {
            method: "get",
            path: "/v1/invoices/{hash}/dispute",
            authenticated: true,
            operation: json!({
                "operationId": "getInvoiceDispute",
                "summary": "The dispute file of a processed invoice: its disputed lines as CSV for the carrier",
                "parameters": [hash],
                "responses": {
                    "200": {"description": "The dispute file", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    "400": error("Not a content hash"),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No processed file has this hash, or it has no dispute file")
                }
            }),
        },
    ]
}
