//! The return label. `POST /v1/returns/{rma}/label` buys it through the tracking function's label port
//! ([`LabelPurchase`], one idempotency key per return so a retry never buys twice) on the line the return was
//! quoted on, to its destination, and tracks the parcel under the label's number (a tracking record under the
//! return's parcel id, with no shop fulfillment). While no carrier account is connected, lastmile's own 4×6 ZPL
//! (the buyer's and the return address, the RMA number and its Code 128 barcode) is the label, without a
//! carrier's number. Either document is kept in the blob store as a customer file (it prints the buyer's address:
//! erased with the customer, expired with the kind's retention) with its SHA-256, checked on every read.

use lastmile_core::contract::ApiError;
use lastmile_core::returns::destination::ReturnDestination;
use lastmile_core::returns::lifecycle::ReturnStatus;
use lastmile_fn_tracking::labels::{LabelError, LabelFormat, LabelRequest};
use lastmile_platform::http::ErrorResponse;
use lastmile_platform::ports::blob::sha256_hex;
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable};
use lastmile_platform::privacy::blobs;
use lastmile_platform::repo::decisions::UnitsRecord;
use lastmile_platform::repo::returns::{self, LabelSource, ReturnLabel, ReturnRecord};
use lastmile_platform::repo::shipments::ShipmentRecord;
use lastmile_platform::repo::tracking::TrackedDestination;
use lastmile_platform::repo::{self, personal};
use serde_json::json;

use crate::Returns;
use crate::create::{BuyerAddress, illegal, store};
use crate::progress::unknown;

/// Whether the label was issued now (201) or before (200).
pub struct Issued {
    pub created: bool,
    pub record: ReturnRecord,
}

fn label_error(e: LabelError) -> ApiError {
    match e {
        LabelError::NotConnected(_) => ApiError::new(409, "carrier_not_connected", e.to_string()),
        LabelError::Refused(_) => ApiError::new(422, "label_refused", e.to_string()),
        LabelError::Unavailable(_) => ApiError::new(503, "carrier_unavailable", e.to_string()),
    }
}

/// Issues the return's label once.
pub async fn issue(
    returns: &Returns,
    table: &TenantTable<'_>,
    tenant: &str,
    rma: &str,
    format: LabelFormat,
) -> Result<Issued, ApiError> {
    let found = returns::get(table, rma).await.map_err(store)?.ok_or_else(|| unknown(rma))?;
    if found.value.label.is_some() {
        // Issued before: the tracking it gave is made now if a crash came between the two.
        track(returns, table, &found.value).await?;
        return Ok(Issued { created: false, record: found.value });
    }
    let mut record = found.value;
    let now = returns.tracking.clock.now();
    record.advance(ReturnStatus::LabelIssued, now, "label issued").map_err(illegal)?;
    let kept = personal::get(table, &returns::key(rma).pk, returns::PERSONAL.kind).await.map_err(store)?;
    let buyer: Option<BuyerAddress> =
        kept.as_ref().and_then(|k| serde_json::from_value(k.value.data["buyer_address"].clone()).ok());
    let destination = ReturnDestination {
        id: record.route.destination.clone(),
        kind: record.route.kind.clone(),
        name: record.route.name.clone(),
        address: record.route.address.clone(),
        country: record.route.country.clone(),
        postcode: record.route.postcode.clone(),
        accepts: Vec::new(),
        reverse_lines: vec![record.route.line.clone()],
    };
    let request = LabelRequest {
        idempotency_key: format!("{tenant}/{rma}"),
        carrier: record.route.carrier.clone(),
        line: record.route.line.clone(),
        warehouse: record.route.destination.clone(),
        ship_to: json!({ "name": destination.name, "lines": destination.address, "country_code": destination.country, "zip": destination.postcode }),
        units: record.items.iter().map(|i| UnitsRecord { sku: i.sku.clone(), quantity: i.quantity }).collect(),
        reference: rma.to_owned(),
        format,
    };
    let (source, carrier, number, document, format, cost) = match returns.carriers.buy(tenant, &request).await {
        Ok(label) => {
            let carrier = label.carrier.trim().to_ascii_lowercase();
            let number = label.tracking_number.trim().to_ascii_uppercase();
            let known = lastmile_core::tracking::mapping::builtin().carrier(&carrier).is_some();
            if !known || !lastmile_fn_tracking::api::valid_number(&number) || label.document.is_empty() {
                tracing::error!(%rma, %carrier, "the carrier's label has no known carrier, usable number or document");
                return Err(ApiError::new(503, "carrier_unavailable", "the carrier's answer was unusable; retry"));
            }
            (LabelSource::Carrier, Some(carrier), Some(number), label.document, format, label.cost.map(|c| c.0))
        }
        Err(LabelError::NotConnected(_)) => {
            let from = buyer.as_ref().map(BuyerAddress::lines).unwrap_or_default();
            let zpl = lastmile_core::returns::label::zpl(rma, &from, &destination);
            (LabelSource::Own, None, None, zpl.into_bytes(), LabelFormat::Zpl, None)
        }
        Err(e) => return Err(label_error(e)),
    };
    let customer = kept
        .and_then(|k| k.value.customer)
        .unwrap_or_else(|| format!("order-{}", blobs::safe_segment(&record.order_id)));
    let extension = if format == LabelFormat::Pdf { "pdf" } else { "zpl" };
    let blob_key =
        blobs::customer_file(tenant, &customer, now, &format!("return-label-{}.{extension}", blobs::safe_segment(rma)));
    returns.tracking.blobs.put(&blob_key, &document, format.content_type()).await.map_err(|e| {
        tracing::error!(error = %e, "return label document");
        ApiError::new(503, "store_unavailable", "the label could not be stored; retry")
    })?;
    record.label = Some(ReturnLabel {
        source,
        carrier,
        tracking_number: number,
        content_type: format.content_type().to_owned(),
        blob_key,
        sha256: sha256_hex(&document),
        bytes: document.len(),
        cost_minor: cost,
        issued_at: now,
    });
    match repo::save(table, &record, Condition::Version(found.version)).await {
        Ok(_) => {}
        // A concurrent call issued it first (a carrier answers the same key with the same label).
        Err(StoreError::ConditionFailed) => {
            let again = returns::get(table, rma).await.map_err(store)?.ok_or_else(|| unknown(rma))?;
            if again.value.label.is_none() {
                return Err(ApiError::new(409, "conflict", "the return changed meanwhile; retry"));
            }
            track(returns, table, &again.value).await?;
            return Ok(Issued { created: false, record: again.value });
        }
        Err(e) => return Err(store(e)),
    }
    track(returns, table, &record).await?;
    Ok(Issued { created: true, record })
}

/// Tracks the return parcel under its label's number, once (nothing to track for lastmile's own label).
async fn track(returns: &Returns, table: &TenantTable<'_>, record: &ReturnRecord) -> Result<(), ApiError> {
    let Some(label) = &record.label else { return Ok(()) };
    let (Some(carrier), Some(number)) = (&label.carrier, &label.tracking_number) else { return Ok(()) };
    let route = &record.route;
    // Not a stored shipment: the id and what the tracking record copies from one.
    let parcel = ShipmentRecord {
        id: record.parcel_id(),
        order_id: record.order_id.clone(),
        warehouse: route.destination.clone(),
        line: route.line.clone(),
        carrier: carrier.clone(),
        // Return parcels are their own lane (and the consumer counts no KPI facts for them).
        lane: format!("return>{}", route.destination),
        units: Vec::new(),
        cost_minor: Some(route.cost_minor),
        currency: route.currency.clone(),
        quoted_transit_days: route.transit_days.map(u32::from),
        promised_days: route.transit_days.map_or(0, u32::from),
        decided_at: record.created_at,
        experiment: None,
        outcome: None,
        rating: None,
        quoted: None,
    };
    let point = lastmile_core::address::postcode_centroid(&route.country, &route.postcode);
    let destination = TrackedDestination {
        country: route.country.clone(),
        postcode: Some(route.postcode.clone()),
        point,
        area: lastmile_core::tracking::pod::AreaType::Urban,
        time_zone: lastmile_fn_tracking::destination::time_zone(&route.country, None).to_owned(),
    };
    lastmile_fn_tracking::api::track_parcel(&returns.tracking, table, &parcel, destination, carrier, number)
        .await
        .map_err(|ErrorResponse(e)| e)?;
    Ok(())
}

/// The label's document, after checking its hash.
pub async fn document(returns: &Returns, table: &TenantTable<'_>, rma: &str) -> Result<(String, Vec<u8>), ApiError> {
    let record = returns::get(table, rma).await.map_err(store)?.ok_or_else(|| unknown(rma))?.value;
    let Some(label) = record.label else {
        return Err(ApiError::new(404, "unknown_label", format!("return {rma} has no label yet")));
    };
    let gone = || ApiError::new(404, "label_expired", "the label's document is no longer kept");
    let bytes = returns.tracking.blobs.get(&label.blob_key).await.map_err(|_| gone())?.ok_or_else(gone)?;
    if sha256_hex(&bytes) != label.sha256 {
        tracing::error!(%rma, "return label document does not match its hash");
        return Err(ApiError::new(409, "label_hash_mismatch", "the stored label was changed since it was issued"));
    }
    Ok((label.content_type, bytes))
}
