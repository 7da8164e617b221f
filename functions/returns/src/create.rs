//! `POST /v1/returns`: an RMA from an order.
//!
//! The order's lines come from the order as the shop sent it (its personal item, which has the product type and
//! the gift-card flag) or, once that has expired, from the order record; the delivery date from the tracking of
//! the order's shipments (the delivered scan, in the destination's time zone), else from the shipment's outcome;
//! what was taken back already from the order's counter of returned quantities. The RMA number is derived from
//! the client's key, so a retry finds the return it created: the return, the counter and the personal item are
//! written in one transaction, the return only if absent and the counter at the version read, so neither a
//! retry nor two returns racing for the same units can take back more than was bought.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lastmile_core::contract::ApiError;
use lastmile_core::money::{Currency, Money};
use lastmile_core::rating::card::RateCard;
use lastmile_core::rating::quote::Parcel;
use lastmile_core::returns::destination::{self, Buyer};
use lastmile_core::returns::disposition::{self, Disposition};
use lastmile_core::returns::eligibility::{self, OrderItem, RequestedItem};
use lastmile_core::returns::lifecycle::ReturnStatus;
use lastmile_core::returns::policy::Condition as ItemCondition;
use lastmile_core::returns::rma_number;
use lastmile_platform::http::ErrorResponse;
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable};
use lastmile_platform::privacy;
use lastmile_platform::repo::personal::{self, PersonalRecord};
use lastmile_platform::repo::returns::{
    self, DispositionRecord, Eligibility, Move, ReturnItem, ReturnRecord, ReturnRoute, ReturnedQuantities,
};
use lastmile_platform::repo::{self, decisions, orders, shipments, tracking};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Returns;

/// Longest client key taken.
const MAX_KEY: usize = 128;
/// Attempts when another request changed the order's returned quantities meanwhile.
const ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub order_id: String,
    /// The client's idempotency key; the `Idempotency-Key` header is taken when absent.
    #[serde(default)]
    pub client_key: Option<String>,
    pub items: Vec<RequestedItem>,
    /// Where the parcel comes from, when not the order's shipping address.
    #[serde(default)]
    pub buyer_address: Option<BuyerAddress>,
}

/// An address in Shopify's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub address1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(default)]
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    pub zip: String,
    pub country_code: String,
}

impl BuyerAddress {
    /// The lines the label prints as the sender.
    pub fn lines(&self) -> Vec<String> {
        let locality = [Some(self.city.as_str()), self.province_code.as_deref(), Some(self.zip.as_str())]
            .into_iter()
            .flatten()
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [
            self.name.clone(),
            Some(self.address1.clone()),
            self.address2.clone(),
            Some(locality),
            Some(self.country_code.clone()),
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .collect()
    }
}

/// A refusal: one error, or every eligibility refusal (the first as `error`, all under `errors`).
#[derive(Debug)]
pub enum Failure {
    One(ApiError),
    Refused(Vec<ApiError>),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::One(e)
    }
}

impl From<ErrorResponse> for Failure {
    fn from(e: ErrorResponse) -> Self {
        Failure::One(e.0)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::One(e) => ErrorResponse(e).into_response(),
            Failure::Refused(refusals) => {
                let status = StatusCode::from_u16(refusals.first().map_or(422, |r| r.status))
                    .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                let all: Vec<Value> = refusals.iter().map(|r| json!(r.body().error)).collect();
                let first = all.first().cloned().unwrap_or(Value::Null);
                (status, Json(json!({ "error": first, "errors": all }))).into_response()
            }
        }
    }
}

pub fn store(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store");
    ApiError::new(503, "store_unavailable", "the store did not answer; retry")
}

fn unprocessable(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(422, code, message).with_field(field)
}

/// Creates the return (201), or answers the one this key created (200).
pub async fn create(
    returns: &Returns,
    tenant: &str,
    request: &ReturnRequest,
    header_key: Option<&str>,
) -> Result<(StatusCode, ReturnRecord), Failure> {
    let client_key = request.client_key.as_deref().or(header_key).map(str::trim).unwrap_or_default();
    if client_key.is_empty() || client_key.len() > MAX_KEY {
        let message = format!("a return needs a client key of 1–{MAX_KEY} characters (or an Idempotency-Key header)");
        return Err(unprocessable("missing_client_key", "client_key", message).into());
    }
    let rma = rma_number(tenant, client_key);
    let table = TenantTable::new(&*returns.tracking.table, tenant);
    for _ in 0..ATTEMPTS {
        if let Some(answer) = created_before(&table, &rma, request).await? {
            return Ok(answer);
        }
        let (record, counter, personal_item) = match prepare(returns, &table, &rma, request).await {
            Ok(prepared) => prepared,
            // The refusal may stem from the counter that a concurrent request with this very key raised after the
            // read above: the record is written in the same transaction, so its return is the answer then.
            Err(refusal) => return created_before(&table, &rma, request).await?.ok_or(refusal),
        };
        let writes = vec![
            repo::put(&record, Condition::NotExists).map_err(store)?,
            repo::put(&counter.0, counter.1).map_err(store)?,
            repo::put(&personal_item, Condition::Always).map_err(store)?,
        ];
        match table.transact(writes).await {
            Ok(()) => return Ok((StatusCode::CREATED, record)),
            // The same key at the same time, or another return of the order: read again and decide again.
            Err(StoreError::TransactionCancelled(_) | StoreError::ConditionFailed) => continue,
            Err(e) => return Err(store(e).into()),
        }
    }
    Err(ApiError::new(409, "conflict", "the order's returns kept changing; retry").into())
}

/// The return this key created already (200), if any.
async fn created_before(
    table: &TenantTable<'_>,
    rma: &str,
    request: &ReturnRequest,
) -> Result<Option<(StatusCode, ReturnRecord)>, Failure> {
    match returns::get(table, rma).await.map_err(store)? {
        Some(existing) => same_order(existing.value, request).map(|r| Some((StatusCode::OK, r))),
        None => Ok(None),
    }
}

fn same_order(existing: ReturnRecord, request: &ReturnRequest) -> Result<ReturnRecord, Failure> {
    if existing.order_id == request.order_id {
        return Ok(existing);
    }
    let message = format!("this client key made {} for order {}", existing.rma, existing.order_id);
    Err(ApiError::new(409, "client_key_reused", message).with_field("client_key").into())
}

/// The return as it would be created now, the counter of returned quantities with its write condition, and the
/// personal item.
async fn prepare(
    returns: &Returns,
    table: &TenantTable<'_>,
    rma: &str,
    request: &ReturnRequest,
) -> Result<(ReturnRecord, (ReturnedQuantities, Condition), PersonalRecord), Failure> {
    let order_id = request.order_id.trim();
    let Some(order) = orders::get(table, order_id).await.map_err(store)? else {
        return Err(ApiError::new(404, "unknown_order", format!("no order {order_id:?}"))
            .with_field("order_id")
            .into());
    };
    let as_sent = personal::get(table, &orders::key(order_id).pk, orders::PERSONAL.kind).await.map_err(store)?;
    let full = as_sent.as_ref().map_or(&order.value.order, |p| &p.value.data);
    let currency_code = full["currency"].as_str().unwrap_or_default().to_uppercase();
    let currency = Currency::parse_known(&currency_code).ok_or_else(|| {
        unprocessable("unknown_currency", "order_id", format!("the order's currency {currency_code:?} is unknown"))
    })?;
    let lines = order_lines(full, currency);
    let now = returns.tracking.clock.now();
    let (delivered_on, zone) = delivered_on(table, order_id).await?.ok_or_else(|| {
        unprocessable(
            "not_delivered",
            "order_id",
            format!("order {order_id} has no delivery yet to count the return window from"),
        )
    })?;
    let today = now.to_zoned(zone).date();
    let counted = returns::returned(table, order_id).await.map_err(store)?;
    let already = counted.as_ref().map(|c| c.value.returned.clone()).unwrap_or_default();
    let policy = &*returns.policy;
    let sold: Vec<OrderItem> = lines.iter().map(|l| l.line.clone()).collect();
    eligibility::check(policy, &sold, delivered_on, &already, &request.items, today).map_err(Failure::Refused)?;

    let buyer = match &request.buyer_address {
        Some(given) => given.clone(),
        None => order_address(&full["shipping_address"]).ok_or_else(|| {
            unprocessable(
                "missing_buyer_address",
                "buyer_address",
                "the order has no shipping address: give buyer_address",
            )
        })?,
    };
    let country = buyer.country_code.trim().to_uppercase();
    let grams: u32 = request
        .items
        .iter()
        .map(|i| lines.iter().find(|l| l.line.sku == i.sku).map_or(0, |l| l.grams).saturating_mul(i.quantity))
        .sum();
    let parcel = Parcel { grams: u64::from(grams.max(1)), dimensions: None };
    let cards = |id: &str| -> Option<&'static RateCard> {
        lastmile_core::rating::card::builtin().iter().flatten().find(|c| c.id == id)
    };
    let buyer_at = Buyer { country: &country, postcode: buyer.zip.trim() };
    let choice = destination::choose(&returns.destinations, cards, buyer_at, parcel, today).ok_or_else(|| {
        unprocessable(
            "no_return_destination",
            "buyer_address.country_code",
            format!("no warehouse or return hub takes returns from {country}"),
        )
    })?;
    if choice.quote.currency != currency {
        let message = format!("the return label is quoted in {}, the order is in {currency}", choice.quote.currency);
        return Err(unprocessable("currency_mismatch", "order_id", message).into());
    }

    let items: Vec<ReturnItem> = request
        .items
        .iter()
        .map(|i| ReturnItem {
            sku: i.sku.clone(),
            quantity: i.quantity,
            reason: i.reason,
            unit_price: lines.iter().find(|l| l.line.sku == i.sku).map_or(0, |l| l.line.unit_price),
            photos: i.photos.len(),
        })
        .collect();
    let value: i64 = items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
    // One parcel, one decision: the items come back together, so the worst condition stated decides for all.
    let condition = request.items.iter().map(|i| i.reason.expected_condition()).max().unwrap_or(ItemCondition::New);
    let decision = disposition::decide(policy, Money::new(value, currency), condition, choice.quote.total_minor)
        .map_err(|e| unprocessable("no_policy_costs", "order_id", e.to_string()))?;

    let open_until =
        delivered_on.checked_add(jiff::Span::new().days(i64::from(policy.window_days))).unwrap_or(delivered_on);
    let mut record = ReturnRecord {
        rma: rma.to_owned(),
        order_id: order_id.to_owned(),
        created_at: now,
        updated_at: now,
        status: ReturnStatus::Requested,
        history: vec![Move { status: ReturnStatus::Requested, at: now, cause: "requested".into() }],
        items,
        currency: currency.as_str().to_owned(),
        eligibility: Eligibility { delivered_on, window_days: policy.window_days, open_until },
        route: ReturnRoute {
            destination: choice.destination.id.clone(),
            kind: choice.destination.kind.clone(),
            name: choice.destination.name.clone(),
            address: choice.destination.address.clone(),
            country: choice.destination.country.clone(),
            postcode: choice.destination.postcode.clone(),
            line: choice.quote.line.clone(),
            carrier: choice.quote.carrier.clone(),
            transit_days: choice.transit_days,
            quote: serde_json::to_value(&choice.quote).unwrap_or(Value::Null),
            cost_minor: choice.quote.total_minor,
            currency: choice.quote.currency.as_str().to_owned(),
            explanation: choice.explanation.clone(),
        },
        disposition: DispositionRecord {
            disposition: decision.disposition,
            condition,
            value_minor: value,
            recoverable_minor: decision.recoverable,
            cost_minor: decision.cost,
            currency: currency.as_str().to_owned(),
            explanation: decision.explanation.clone(),
        },
        label: None,
        inspection: None,
        final_disposition: None,
    };
    let approved = format!("eligible: delivered {delivered_on}, returns open until {open_until}");
    record.advance(ReturnStatus::Approved, now, approved).map_err(illegal)?;
    if decision.disposition == Disposition::ReturnlessRefund {
        record.advance(ReturnStatus::Refunded, now, "returnless refund: the buyer keeps the items").map_err(illegal)?;
    }

    let mut returned = already;
    for (sku, quantity) in record.quantities() {
        *returned.entry(sku).or_insert(0) += quantity;
    }
    let condition = counted.as_ref().map_or(Condition::NotExists, |c| Condition::Version(c.version));
    let counter = ReturnedQuantities { order_id: order_id.to_owned(), returned };

    let customer =
        as_sent.as_ref().and_then(|p| p.value.customer.clone()).or_else(|| privacy::order::order_customer(full));
    let photos: BTreeMap<&str, &Vec<String>> =
        request.items.iter().filter(|i| !i.photos.is_empty()).map(|i| (i.sku.as_str(), &i.photos)).collect();
    let data = json!({ "buyer_address": buyer, "photos": photos });
    let personal_item = PersonalRecord::new(&returns::PERSONAL, returns::key(rma).pk, customer, data, now);
    Ok((record, (counter, condition), personal_item))
}

pub fn illegal(e: lastmile_core::returns::lifecycle::IllegalMove) -> ApiError {
    ApiError::new(409, "illegal_move", e.to_string()).with_field("status")
}

/// An order line with its weight, for the return parcel.
struct Line {
    line: OrderItem,
    grams: u32,
}

/// The order's lines as the eligibility rules read them. The category is the product type in snake case
/// ("Gift Card" → `gift_card`), or `gift_card` for Shopify's gift-card flag; `general` when neither is given.
fn order_lines(order: &Value, currency: Currency) -> Vec<Line> {
    let Some(items) = order["line_items"].as_array() else { return Vec::new() };
    items
        .iter()
        .filter_map(|l| {
            let sku = l["sku"].as_str().filter(|s| !s.is_empty())?.to_owned();
            let category = if l["gift_card"].as_bool() == Some(true) {
                "gift_card".to_owned()
            } else {
                l["product_type"]
                    .as_str()
                    .map(|t| t.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("_"))
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "general".to_owned())
            };
            let price = match &l["price"] {
                Value::String(s) => Money::parse_decimal(s, currency).map(|m| m.minor).unwrap_or(0),
                Value::Number(n) => Money::parse_decimal(&n.to_string(), currency).map(|m| m.minor).unwrap_or(0),
                _ => 0,
            };
            let quantity = l["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(0);
            let grams = l["grams"].as_u64().and_then(|g| u32::try_from(g).ok()).unwrap_or(0);
            Some(Line { line: OrderItem { sku, category, quantity, unit_price: price }, grams })
        })
        .collect()
}

fn order_address(address: &Value) -> Option<BuyerAddress> {
    let text = |field: &str| address[field].as_str().map(str::to_owned).filter(|s| !s.trim().is_empty());
    let name = text("name").or_else(|| {
        let parts: Vec<String> = [text("first_name"), text("last_name")].into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Some(BuyerAddress {
        name,
        address1: text("address1").unwrap_or_default(),
        address2: text("address2"),
        city: text("city").unwrap_or_default(),
        province_code: text("province_code"),
        zip: text("zip")?,
        country_code: text("country_code")?,
    })
}

/// The latest delivery of the order's shipments, as a date where it was delivered, with that place's zone.
async fn delivered_on(table: &TenantTable<'_>, order_id: &str) -> Result<Option<(Date, TimeZone)>, ApiError> {
    let Some(decision) = decisions::get(table, order_id).await.map_err(store)? else { return Ok(None) };
    let mut latest: Option<(Timestamp, TimeZone)> = None;
    for planned in &decision.value.shipments {
        let id = &planned.shipment_id;
        let delivered = match tracking::get(table, id).await.map_err(store)? {
            Some(t) => t
                .value
                .journey
                .delivered()
                .map(|e| (e.occurred_at, TimeZone::get(&t.value.destination.time_zone).unwrap_or(TimeZone::UTC))),
            None => None,
        };
        // Without a delivered scan, the outcome the seller reported: routed plus its days in transit.
        let delivered = match delivered {
            Some(d) => Some(d),
            None => shipments::get(table, id).await.map_err(store)?.and_then(|s| {
                let outcome = s.value.outcome.filter(|o| o.delivered)?;
                let seconds = (outcome.transit_days? * 86_400.0) as i64;
                let at = s.value.decided_at.checked_add(jiff::SignedDuration::from_secs(seconds)).ok()?;
                Some((at, TimeZone::UTC))
            }),
        };
        if let Some((at, zone)) = delivered
            && latest.as_ref().is_none_or(|(l, _)| at > *l)
        {
            latest = Some((at, zone));
        }
    }
    Ok(latest.map(|(at, zone)| (at.to_zoned(zone.clone()).date(), zone)))
}

/// The return as the API shows it: nothing personal (the buyer's address and photos stay in the personal item).
pub fn answer(record: &ReturnRecord) -> Value {
    let route = &record.route;
    json!({
        "rma": record.rma,
        "order_id": record.order_id,
        "status": record.status,
        "history": record.history,
        "items": record.items,
        "currency": record.currency,
        "eligibility": record.eligibility,
        "destination": {
            "id": route.destination,
            "kind": route.kind,
            "name": route.name,
            "address": route.address,
            "country": route.country,
            "postcode": route.postcode,
            "transit_days": route.transit_days,
            "explanation": route.explanation,
        },
        "label_quote": {
            "line": route.line,
            "carrier": route.carrier,
            "total_minor": route.cost_minor,
            "currency": route.currency,
            "quote": route.quote,
        },
        "disposition": record.disposition,
        "inspection": record.inspection,
        "final_disposition": record.final_disposition,
        "label": record.label.as_ref().map(|l| json!({
            "source": l.source,
            "carrier": l.carrier,
            "tracking_number": l.tracking_number,
            "content_type": l.content_type,
            "sha256": l.sha256,
            "bytes": l.bytes,
            "cost_minor": l.cost_minor,
            "issued_at": l.issued_at,
            "document": format!("/v1/returns/{}/label", record.rma),
        })),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    })
}
