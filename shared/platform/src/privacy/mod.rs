//! Personal data: the registry of what is personal and for how long ([`registry`]), where personal blobs live
//! ([`blobs`]), what of an order is not personal ([`order`]), and Shopify's three compliance requests over the
//! table and blob ports: `customers/data_request` (an export of everything stored about a customer, written to
//! the blob store), `customers/redact` (the customer's personal data erased, aggregates kept) and `shop/redact`
//! (everything of the tenant erased). Each runs once per request id and leaves an audit record with counts and
//! no personal data ([`audit`]); running one again erases nothing more and answers the first run's record.

pub mod audit;
pub mod blobs;
pub mod order;
pub mod registry;

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ports::blob::{BlobError, BlobStore};
use crate::ports::clock::Clock;
use crate::ports::table::{Condition, Key, StoreError, TableStore, TenantTable};
use crate::repo::personal::{self, PersonalRecord};
use crate::repo::{self, Versioned, decisions, orders, returns, shipments, tracking};

pub use audit::AuditRecord;

/// Personal items read for one customer at most (a customer with more is exported and erased in several runs).
const MAX_ITEMS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("table: {0}")]
    Store(#[from] StoreError),
    #[error("blobs: {0}")]
    Blob(#[from] BlobError),
    #[error("the request body is not Shopify's {topic} payload: {reason}")]
    Payload { topic: String, reason: String },
    #[error("unknown compliance topic {0:?}")]
    Topic(String),
}

/// The customer in a compliance payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Customer {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

impl Customer {
    /// Every reference the customer's items may be indexed under: by Shopify id and by email.
    pub fn refs(&self) -> Vec<String> {
        let mut refs = Vec::new();
        refs.extend(order::customer_ref(self.id.as_ref(), None));
        refs.extend(self.email.as_deref().filter(|e| !e.trim().is_empty()).map(order::email_ref));
        refs
    }
}

/// `customers/data_request`.
#[derive(Debug, Clone, Deserialize)]
pub struct DataRequest {
    #[serde(default)]
    pub customer: Customer,
    #[serde(default)]
    pub orders_requested: Vec<Value>,
    #[serde(default)]
    pub data_request: Option<Value>,
}

/// `customers/redact`.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerRedact {
    #[serde(default)]
    pub customer: Customer,
    #[serde(default)]
    pub orders_to_redact: Vec<Value>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// What a run did, in counts: what the audit record keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub items_erased: u64,
    pub fields_masked: u64,
    pub blobs_deleted: u64,
    pub items_exported: u64,
    pub export_key: Option<String>,
}

/// Everything stored about one customer, found through the customer index and the listed orders.
struct Found {
    personal: Vec<Versioned<PersonalRecord>>,
    orders: Vec<Versioned<orders::OrderRecord>>,
    decisions: Vec<Versioned<decisions::Decision>>,
    shipments: Vec<Versioned<shipments::ShipmentRecord>>,
    /// The customer's files (proof-of-delivery files included).
    blobs: Vec<String>,
    /// The records of the POD files of the customer's shipments, and their tracking records (which list them).
    pod_records: Vec<crate::ports::table::Key>,
    trackings: Vec<Versioned<tracking::TrackingRecord>>,
    /// Exports written for earlier data requests.
    exports: BTreeSet<String>,
}

async fn find(
    table: &TenantTable<'_>,
    blob_store: &dyn BlobStore,
    tenant: &str,
    customer: &Customer,
    listed_orders: &[Value],
) -> Result<Found, PrivacyError> {
    let refs = customer.refs();
    let mut personal: Vec<Versioned<PersonalRecord>> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut keep = |found: Vec<Versioned<PersonalRecord>>, personal: &mut Vec<Versioned<PersonalRecord>>| {
        for p in found {
            if seen.insert((p.value.owner.clone(), p.value.kind.clone())) {
                personal.push(p);
            }
        }
    };
    for r in &refs {
        let found = personal::of_customer(table, r, MAX_ITEMS).await?;
        keep(found, &mut personal);
    }
    let mut order_ids: BTreeSet<String> = listed_orders.iter().filter_map(id_text).collect();
    order_ids.extend(personal.iter().filter_map(|p| p.value.owner.strip_prefix("order#").map(str::to_owned)));
    let mut found = Found {
        personal: Vec::new(),
        orders: Vec::new(),
        decisions: Vec::new(),
        shipments: Vec::new(),
        blobs: Vec::new(),
        pod_records: Vec::new(),
        trackings: Vec::new(),
        exports: BTreeSet::new(),
    };
    for id in &order_ids {
        let of_order = personal::of_owner(table, &orders::key(id).pk).await?;
        keep(of_order, &mut personal);
        found.orders.extend(orders::get(table, id).await?);
        let decision = decisions::get(table, id).await?;
        let shipment_ids = decisions::shipment_ids(id, decision.as_ref().map(|d| &d.value));
        found.decisions.extend(decision);
        // Its returns: the buyer's address and photos, and the label that prints the address.
        for r in returns::of_order(table, id, MAX_ITEMS).await? {
            keep(personal::of_owner(table, &returns::key(&r.rma).pk).await?, &mut personal);
            found.blobs.extend(r.label.map(|l| l.blob_key));
        }
        for sid in shipment_ids {
            keep(personal::of_owner(table, &shipments::key(&sid).pk).await?, &mut personal);
            found.shipments.extend(shipments::get(table, &sid).await?);
            // Proof of delivery: the files of every leg, with their records.
            if let Some(record) = tracking::get(table, &sid).await? {
                for leg in record.value.journey.legs() {
                    for file in tracking::pod_files(table, &leg.carrier, &leg.tracking_number).await? {
                        found.pod_records.push(crate::repo::Record::key(&file));
                        found.blobs.push(file.file.key);
                    }
                }
                found.blobs.extend(record.value.pods.iter().map(|p| p.key.clone()));
                found.trackings.push(record);
            }
        }
    }
    found.personal = personal;
    for r in &refs {
        found.blobs.extend(blob_store.list(&blobs::customer_folder(tenant, r)).await?);
    }
    found.blobs.sort();
    found.blobs.dedup();
    // Earlier exports, through the personal items that name them.
    found.exports = found
        .personal
        .iter()
        .filter(|p| p.value.kind == blobs::EXPORT.kind)
        .filter_map(|p| p.value.data.get("blob").and_then(Value::as_str).map(str::to_owned))
        .collect();
    Ok(found)
}

/// The export document: every personal item with its kind and purpose, the customer's orders, decisions and
/// shipments as stored, and the keys of their files. Pure.
pub fn export_document(
    shop_domain: &str,
    request_id: &str,
    generated_at: Timestamp,
    personal: &[PersonalRecord],
    records: Value,
    files: &[String],
) -> Value {
    let items: Vec<Value> = personal
        .iter()
        .map(|p| {
            let declaration = registry::declaration(&p.kind);
            json!({
                "kind": p.kind,
                "of": p.owner,
                "purpose": declaration.map(|d| d.purpose),
                "stored_at": p.stored_at,
                "kept_until": Timestamp::from_second(p.expires_at).ok(),
                "data": p.data,
            })
        })
        .collect();
    json!({
        "shop_domain": shop_domain,
        "data_request_id": request_id,
        "generated_at": generated_at,
        "personal_data": items,
        "records": records,
        "files": files,
    })
}

/// `customers/data_request`: writes the export to the blob store; answers where.
pub async fn export_customer(
    table_store: &dyn TableStore,
    blob_store: &dyn BlobStore,
    clock: &dyn Clock,
    tenant: &str,
    shop_domain: &str,
    request_id: &str,
    request: &DataRequest,
) -> Result<Counts, PrivacyError> {
    let table = TenantTable::new(table_store, tenant);
    let found = find(&table, blob_store, tenant, &request.customer, &request.orders_requested).await?;
    let now = clock.now();
    let records = json!({
        "orders": found.orders.iter().map(|o| &o.value).collect::<Vec<_>>(),
        "decisions": found.decisions.iter().map(|d| &d.value).collect::<Vec<_>>(),
        "shipments": found.shipments.iter().map(|s| &s.value).collect::<Vec<_>>(),
    });
    // Earlier exports are copies, not data of their own.
    let personal: Vec<PersonalRecord> =
        found.personal.iter().filter(|p| p.value.kind != blobs::EXPORT.kind).map(|p| p.value.clone()).collect();
    let document = export_document(shop_domain, request_id, now, &personal, records, &found.blobs);
    let key = blobs::export_key(tenant, now, request_id);
    let bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| PrivacyError::Payload { topic: "customers/data_request".into(), reason: e.to_string() })?;
    blob_store.put(&key, &bytes, "application/json").await?;
    // The export is personal data about the customer too: a personal item per reference names it, so that
    // customers/redact finds it through the customer index, and it expires with the export.
    for customer in request.customer.refs() {
        let owner = format!("privacy-export#{}#{customer}", blobs::safe_segment(request_id));
        let pointer = PersonalRecord::new(&blobs::EXPORT, owner, Some(customer), json!({ "blob": key }), now);
        repo::save(&table, &pointer, Condition::Always).await?;
    }
    Ok(Counts { items_exported: personal.len() as u64, export_key: Some(key), ..Counts::default() })
}

/// `customers/redact`: deletes the customer's personal items and files (exports included), and masks what is
/// personal inside the records that stay (orders stored before personal data was kept apart, a buyer's comment
/// on a shipment, an address quoted in a note). Statuses, lines, costs and outcomes stay for the aggregates.
pub async fn redact_customer(
    table_store: &dyn TableStore,
    blob_store: &dyn BlobStore,
    tenant: &str,
    request: &CustomerRedact,
) -> Result<Counts, PrivacyError> {
    let table = TenantTable::new(table_store, tenant);
    let found = find(&table, blob_store, tenant, &request.customer, &request.orders_to_redact).await?;
    let mut counts = Counts::default();
    for p in &found.personal {
        let key = personal::key(&p.value.owner, &p.value.kind);
        table.delete(&key, Condition::Always).await?;
        counts.items_erased += 1;
    }
    for o in found.orders {
        let mut record = o.value;
        let mut masked = 0;
        let kept = order::non_personal(&record.order);
        if kept != record.order {
            record.order = kept;
            masked += 1;
        }
        if record.status == orders::OrderStatus::NeedsAddress && record.note.is_some() {
            record.note = Some("[redacted]".into());
            masked += 1;
        }
        if masked > 0 {
            repo::save(&table, &record, Condition::Version(o.version)).await?;
            counts.fields_masked += masked;
        }
    }
    for d in found.decisions {
        let mut decision = d.value;
        let before = decision.address.clone();
        decisions::strip_personal(&mut decision.address);
        if decision.address != before {
            repo::save(&table, &decision, Condition::Version(d.version)).await?;
            counts.fields_masked += 1;
        }
    }
    for s in found.shipments {
        let mut shipment = s.value;
        if let Some(rating) = shipment.rating.as_mut().filter(|r| r.comment.is_some()) {
            rating.comment = None;
            repo::save(&table, &shipment, Condition::Version(s.version)).await?;
            counts.fields_masked += 1;
        }
    }
    for key in &found.pod_records {
        table.delete(key, Condition::Always).await?;
        counts.items_erased += 1;
    }
    // The journey keeps its scans for the aggregates; the list of erased POD files goes with them.
    for t in found.trackings {
        let mut record = t.value;
        if !record.pods.is_empty() {
            record.pods.clear();
            repo::save(&table, &record, Condition::Version(t.version)).await?;
            counts.fields_masked += 1;
        }
    }
    for key in found.blobs.into_iter().chain(found.exports) {
        blob_store.delete(&key).await?;
        counts.blobs_deleted += 1;
    }
    Ok(counts)
}

/// Items deleted per page of a tenant's scan.
const SCAN_PAGE: usize = 100;

/// `shop/redact`: every item of the tenant (every partition key starting `{tenant}#`) and every blob in its
/// folders ([`blobs::tenant_folders`]: its own, its customers' files, its exports and its POD files). The audit records are under `_audit#…`, outside the tenant's prefix, and stay.
pub async fn redact_shop(
    table_store: &dyn TableStore,
    blob_store: &dyn BlobStore,
    tenant: &str,
) -> Result<Counts, PrivacyError> {
    let mut counts = Counts::default();
    let prefix = format!("{tenant}#");
    let mut after: Option<Key> = None;
    loop {
        let page = table_store.scan_prefix(&prefix, after.as_ref(), SCAN_PAGE).await?;
        for item in &page.items {
            table_store.delete(&item.key, Condition::Always).await?;
            counts.items_erased += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    for folder in blobs::tenant_folders(tenant) {
        for key in blob_store.list(&folder).await? {
            blob_store.delete(&key).await?;
            counts.blobs_deleted += 1;
        }
    }
    Ok(counts)
}

/// One compliance request as it arrives: who sent it, its id and topic, and its body.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The tenant the shop resolved to; `None` for a shop lastmile does not know (already gone).
    pub tenant: Option<&'a str>,
    pub shop_domain: &'a str,
    /// Shopify's webhook id: a redelivery carries the same.
    pub webhook_id: &'a str,
    pub topic: &'a str,
    pub body: &'a Value,
}

/// Erases everything of a shop, 48 hours after it uninstalled the app.
pub const SHOP_REDACT: &str = "shop/redact";

pub const TOPICS: [&str; 3] = ["customers/data_request", "customers/redact", SHOP_REDACT];

/// Runs a compliance request once: a request id already audited answers its first record and does nothing.
/// Answers the audit record and whether this run did the work.
pub async fn handle(
    table_store: &dyn TableStore,
    blob_store: &dyn BlobStore,
    clock: &dyn Clock,
    request: &Request<'_>,
) -> Result<(AuditRecord, bool), PrivacyError> {
    if !TOPICS.contains(&request.topic) {
        return Err(PrivacyError::Topic(request.topic.to_owned()));
    }
    let audit_key = audit::key(request.tenant, request.shop_domain, request.topic, request.webhook_id);
    if let Some(existing) = audit::get(table_store, &audit_key).await? {
        return Ok((existing, false));
    }
    let payload = |reason: String| PrivacyError::Payload { topic: request.topic.to_owned(), reason };
    let received_at = clock.now();
    let (counts, note) = match request.tenant {
        None => (Counts::default(), Some("no tenant for this shop: nothing stored".to_owned())),
        Some(tenant) => {
            let counts = match request.topic {
                "customers/data_request" => {
                    let input: DataRequest =
                        serde_json::from_value(request.body.clone()).map_err(|e| payload(e.to_string()))?;
                    let id = input.data_request.as_ref().and_then(|d| d.get("id")).and_then(id_text);
                    let id = id.unwrap_or_else(|| request.webhook_id.to_owned());
                    export_customer(table_store, blob_store, clock, tenant, request.shop_domain, &id, &input).await?
                }
                "customers/redact" => {
                    let input: CustomerRedact =
                        serde_json::from_value(request.body.clone()).map_err(|e| payload(e.to_string()))?;
                    redact_customer(table_store, blob_store, tenant, &input).await?
                }
                _ => redact_shop(table_store, blob_store, tenant).await?,
            };
            (counts, None)
        }
    };
    let record = AuditRecord::new(request, received_at, clock.now(), &counts, note);
    match audit::append(table_store, &audit_key, &record).await {
        Ok(()) => Ok((record, true)),
        // Another delivery finished first; both did the same (idempotent) work, one record counts.
        Err(StoreError::ConditionFailed) => match audit::get(table_store, &audit_key).await? {
            Some(first) => Ok((first, false)),
            None => Err(StoreError::ConditionFailed.into()),
        },
        Err(e) => Err(e.into()),
    }
}
