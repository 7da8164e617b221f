//! Shipping labels bought from the carrier, as a port. `POST /v1/shipments/{id}/label` asks the port for a label
//! on the shipment's line, keeps the document in the blob store with its SHA-256, and tracks the shipment under
//! the label's number exactly as `POST /v1/shipments/{id}/tracking` would (the shop's fulfillment included).
//! `GET /v1/shipments/{id}/label` answers the document, checked against its hash.
//!
//! Buying costs money, so a retry must never buy twice: the port gets an idempotency key per shipment (carriers'
//! label APIs answer a repeated key with the label they already sold), and once a label is stored its record
//! answers every later call. No carrier account is connected yet: [`NoCarrierConnected`] answers every purchase
//! with `carrier_not_connected`, and a seller assigns the number their own label tool printed instead.
//!
//! The document shows the buyer's name and address, so it is a customer file
//! ([`blobs::customer_file`](lastmile_platform::privacy::blobs::customer_file)): erased with the customer and
//! expired with the kind's retention.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use lastmile_core::contract::{self, ApiError};
use lastmile_platform::http::{ErrorResponse, read_body};
use lastmile_platform::ports::blob::sha256_hex;
use lastmile_platform::ports::table::{Condition, Key, StoreError, TenantTable};
use lastmile_platform::privacy::blobs::{self, CUSTOMER_FILES};
use lastmile_platform::repo::decisions::UnitsRecord;
use lastmile_platform::repo::{self, Record, decisions, personal, shipments};
use lastmile_platform::tenants::TenantContext;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Tracking;
use crate::api::{store, track, valid_number};

/// Largest request body.
const MAX_BODY: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelFormat {
    Pdf,
    /// ZPL for 4×6 thermal printers, what warehouses print on.
    #[default]
    Zpl,
}

impl LabelFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "application/pdf",
            LabelFormat::Zpl => "application/zpl",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "pdf",
            LabelFormat::Zpl => "zpl",
        }
    }
}

/// What the carrier needs to sell a label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRequest {
    /// The same key buys at most one label: `{tenant}/{shipment}`.
    pub idempotency_key: String,
    pub carrier: String,
    /// The seller's line (carrier and service) the router chose.
    pub line: String,
    pub warehouse: String,
    /// The buyer's address as the address engine standardized it when the order was routed.
    pub ship_to: Value,
    /// What the parcel holds, for the carrier integration to weigh and declare.
    pub units: Vec<UnitsRecord>,
    /// The order, printed as the reference.
    pub reference: String,
    pub format: LabelFormat,
}

/// A label the carrier sold.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchasedLabel {
    /// The carrier whose events will report the parcel: the id of its status table (`fedex` …).
    pub carrier: String,
    pub tracking_number: String,
    pub document: Vec<u8>,
    /// What the carrier charged, in minor units, when it says.
    pub cost: Option<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    #[error("no carrier account is connected to buy {0} labels")]
    NotConnected(String),
    /// The carrier refused the request (an address it cannot serve, a parcel over its limits).
    #[error("the carrier refused the label: {0}")]
    Refused(String),
    /// The carrier did not answer; the same key may be tried again.
    #[error("the carrier did not answer: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait LabelPurchase: Send + Sync {
    async fn buy(&self, tenant: &str, request: &LabelRequest) -> Result<PurchasedLabel, LabelError>;
}

/// No carrier account connected: every purchase is refused with [`LabelError::NotConnected`].
pub struct NoCarrierConnected;

#[async_trait]
impl LabelPurchase for NoCarrierConnected {
    async fn buy(&self, _: &str, request: &LabelRequest) -> Result<PurchasedLabel, LabelError> {
        Err(LabelError::NotConnected(request.carrier.clone()))
    }
}

/// A bought label: where its document is and what it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRecord {
    pub shipment_id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub format: LabelFormat,
    pub blob_key: String,
    pub sha256: String,
    pub bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub bought_at: Timestamp,
}

pub fn label_key(shipment_id: &str) -> Key {
    Key::new(format!("shipment#{shipment_id}"), "label")
}

impl Record for LabelRecord {
    fn key(&self) -> Key {
        label_key(&self.shipment_id)
    }
    /// Kept as long as the document it points to.
    fn expires_at(&self) -> Option<i64> {
        Some(CUSTOMER_FILES.expiry(self.bought_at))
    }
}

/// The label routes' state: tracking and the port.
pub struct Labels {
    pub tracking: Arc<Tracking>,
    pub carriers: Arc<dyn LabelPurchase>,
}

/// The routes that need an API key; expects a [`TenantContext`] extension.
pub fn router<S: Clone + Send + Sync + 'static>(labels: Arc<Labels>) -> Router<S> {
    Router::new().route("/v1/shipments/{id}/label", post(buy).get(document)).with_state(labels)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LabelIn {
    #[serde(default)]
    format: LabelFormat,
}

fn label_error(e: LabelError) -> ErrorResponse {
    let (status, code) = match &e {
        LabelError::NotConnected(_) => (409, "carrier_not_connected"),
        LabelError::Refused(_) => (422, "label_refused"),
        LabelError::Unavailable(_) => (503, "carrier_unavailable"),
    };
    let mut message = e.to_string();
    if let LabelError::NotConnected(_) = e {
        message.push_str(
            "; print the label with your own tool and assign its number with POST /v1/shipments/{id}/tracking",
        );
    }
    ErrorResponse(ApiError::new(status, code, message))
}

/// Buys the shipment's label once and tracks the shipment under its number.
async fn buy(
    State(labels): State<Arc<Labels>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ErrorResponse> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_BODY).await?;
    let input: LabelIn =
        if bytes.is_empty() { LabelIn::default() } else { contract::parse_json_body(&bytes, MAX_BODY)? };
    let tracking = &labels.tracking;
    let tenant_id = tenant.tenant.id.as_str();
    let table = TenantTable::new(&*tracking.table, tenant_id);
    let Some(shipment) = shipments::get(&table, &id).await.map_err(store)? else {
        return Err(ErrorResponse(ApiError::new(404, "unknown_shipment", format!("no shipment {id:?}"))));
    };
    let shipment = shipment.value;
    // Bought before: the same label, and the tracking it gave (made now if a crash came between the two).
    if let Some(bought) = repo::load::<LabelRecord>(&table, &label_key(&id)).await.map_err(store)? {
        let (_, record) =
            track(tracking, &table, tenant_id, &shipment, &bought.value.carrier, &bought.value.tracking_number).await?;
        return Ok((StatusCode::OK, Json(answer(&bought.value, &record))).into_response());
    }
    if let Some(tracked) = lastmile_platform::repo::tracking::get(&table, &id).await.map_err(store)? {
        let message = format!(
            "shipment {id} is tracked as {} {} already; a label would give it a second number",
            tracked.value.carrier, tracked.value.tracking_number
        );
        return Err(ErrorResponse(ApiError::new(409, "already_tracked", message)));
    }
    let owner = decisions::key(&shipment.order_id).pk;
    let kept = personal::get(&table, &owner, decisions::PERSONAL.kind).await.map_err(store)?;
    let request = LabelRequest {
        idempotency_key: format!("{tenant_id}/{id}"),
        carrier: shipment.carrier.clone(),
        line: shipment.line.clone(),
        warehouse: shipment.warehouse.clone(),
        ship_to: kept.as_ref().map_or(Value::Null, |k| k.value.data["standardized"].clone()),
        units: shipment.units.clone(),
        reference: shipment.order_id.clone(),
        format: input.format,
    };
    let label = labels.carriers.buy(tenant_id, &request).await.map_err(label_error)?;
    let carrier = label.carrier.trim().to_ascii_lowercase();
    let number = label.tracking_number.trim().to_ascii_uppercase();
    let known = lastmile_core::tracking::mapping::builtin().carrier(&carrier).is_some();
    if !known || !valid_number(&number) || label.document.is_empty() {
        tracing::error!(shipment = %id, %carrier, "the carrier's label has no known carrier, usable number or document");
        return Err(ErrorResponse(ApiError::new(
            503,
            "carrier_unavailable",
            "the carrier's answer was unusable; retry",
        )));
    }
    let now = tracking.clock.now();
    let customer = kept.as_ref().and_then(|k| k.value.customer.clone());
    let folder = customer.unwrap_or_else(|| format!("order-{}", blobs::safe_segment(&shipment.order_id)));
    let name = format!("label-{}-{number}.{}", blobs::safe_segment(&id), input.format.extension());
    let blob_key = blobs::customer_file(tenant_id, &folder, now, &name);
    tracking.blobs.put(&blob_key, &label.document, input.format.content_type()).await.map_err(|e| {
        tracing::error!(error = %e, "label document");
        ErrorResponse(ApiError::new(503, "store_unavailable", "the label could not be stored; retry"))
    })?;
    let bought = LabelRecord {
        shipment_id: id.clone(),
        carrier,
        tracking_number: number,
        format: input.format,
        blob_key,
        sha256: sha256_hex(&label.document),
        bytes: label.document.len(),
        cost_minor: label.cost.as_ref().map(|c| c.0),
        currency: label.cost.map(|c| c.1),
        bought_at: now,
    };
    let bought = match repo::save(&table, &bought, Condition::NotExists).await {
        Ok(_) => bought,
        // A concurrent call stored it first (the carrier answered both with the same label).
        Err(StoreError::ConditionFailed) => {
            repo::load::<LabelRecord>(&table, &label_key(&id)).await.map_err(store)?.map_or(bought, |v| v.value)
        }
        Err(e) => return Err(store(e)),
    };
    let (_, record) = track(tracking, &table, tenant_id, &shipment, &bought.carrier, &bought.tracking_number).await?;
    Ok((StatusCode::CREATED, Json(answer(&bought, &record))).into_response())
}

fn answer(label: &LabelRecord, record: &lastmile_platform::repo::tracking::TrackingRecord) -> Value {
    json!({
        "shipment_id": label.shipment_id,
        "carrier": label.carrier,
        "tracking_number": label.tracking_number,
        "format": label.format,
        "sha256": label.sha256,
        "bytes": label.bytes,
        "cost_minor": label.cost_minor,
        "currency": label.currency,
        "bought_at": label.bought_at,
        "document": format!("/v1/shipments/{}/label", label.shipment_id),
        "tracking": crate::api::answer(record),
    })
}

/// The label's document, as stored, after checking its hash.
async fn document(
    State(labels): State<Arc<Labels>>,
    Extension(tenant): Extension<TenantContext>,
    Path(id): Path<String>,
) -> Result<Response, ErrorResponse> {
    let tracking = &labels.tracking;
    let table = TenantTable::new(&*tracking.table, &tenant.tenant.id);
    let Some(bought) = repo::load::<LabelRecord>(&table, &label_key(&id)).await.map_err(store)? else {
        return Err(ErrorResponse(ApiError::new(404, "unknown_label", format!("no label for shipment {id:?}"))));
    };
    let bought = bought.value;
    let gone = || ErrorResponse(ApiError::new(404, "label_expired", "the label's document is no longer kept"));
    let bytes = tracking.blobs.get(&bought.blob_key).await.map_err(|_| gone())?.ok_or_else(gone)?;
    if sha256_hex(&bytes) != bought.sha256 {
        tracing::error!(shipment = %id, "label document does not match its hash");
        return Err(ErrorResponse(ApiError::new(
            409,
            "label_hash_mismatch",
            "the stored label was changed since it was bought",
        )));
    }
    Ok(([(header::CONTENT_TYPE, bought.format.content_type())], bytes).into_response())
}

/// The documentation of the label routes, for the OpenAPI document.
pub fn routes() -> Vec<lastmile_platform::http::RouteDoc> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    vec![
        lastmile_platform::http::RouteDoc {
            method: "post",
            path: "/v1/shipments/{id}/label",
            authenticated: true,
            operation: json!({
                "operationId": "buyLabel",
                "summary": "Buys the shipment's shipping label from its line's carrier and tracks the shipment under its number",
                "description": "Once per shipment: the carrier gets an idempotency key per shipment, and a label bought before is answered again (200) with the tracking it gave. The document (ZPL 4×6 or PDF) is kept with its SHA-256 and read with GET. While no carrier account is connected the answer is 409 carrier_not_connected: assign the number of a label printed elsewhere with POST /v1/shipments/{id}/tracking.",
                "parameters": [id],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": false,
                    "properties": {"format": {"type": "string", "enum": ["zpl", "pdf"], "default": "zpl"}}
                }}}},
                "responses": {
                    "200": {"description": "Bought before: the same label", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "201": {"description": "The label bought and the tracking made", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No such shipment"),
                    "409": error("No carrier account connected, or the shipment is tracked under another number"),
                    "422": error("The carrier refused the label"),
                    "503": error("The carrier or the store did not answer; retrying is safe")
                }
            }),
        },
        lastmile_platform::http::RouteDoc {
            method: "get",
            path: "/v1/shipments/{id}/label",
            authenticated: true,
            operation: json!({
                "operationId": "getLabel",
                "summary": "The shipment's label document, checked against the hash kept when it was bought",
                "parameters": [id],
                "responses": {
                    "200": {"description": "The document", "content": {"application/zpl": {}, "application/pdf": {}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": error("No label, or its document is past retention"),
                    "409": error("The stored document does not match its hash")
                }
            }),
        },
    ]
}
