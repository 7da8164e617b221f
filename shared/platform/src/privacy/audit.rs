//! The audit trail of compliance requests: one record per request id, written with `NotExists` so a
//! redelivery finds it and does nothing twice. Records live under `_audit#{tenant}`, outside every tenant's
//! `{tenant}#` prefix, so `shop/redact` does not erase the proof that it ran. They hold who asked (shop domain,
//! webhook id), when, the topic and counts: never the customer's id, email or phone.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Counts, Request};
use crate::ports::table::{Condition, Item, Key, StoreError, TableStore};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The tenant, or empty for a shop lastmile does not know.
    pub tenant: String,
    pub shop_domain: String,
    pub webhook_id: String,
    pub topic: String,
    pub received_at: Timestamp,
    pub completed_at: Timestamp,
    pub items_erased: u64,
    pub fields_masked: u64,
    pub blobs_deleted: u64,
    pub items_exported: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl AuditRecord {
    pub fn new(
        request: &Request<'_>,
        received_at: Timestamp,
        completed_at: Timestamp,
        counts: &Counts,
        note: Option<String>,
    ) -> AuditRecord {
        AuditRecord {
            tenant: request.tenant.unwrap_or_default().to_owned(),
            shop_domain: request.shop_domain.to_owned(),
            webhook_id: request.webhook_id.to_owned(),
            topic: request.topic.to_owned(),
            received_at,
            completed_at,
            items_erased: counts.items_erased,
            fields_masked: counts.fields_masked,
            blobs_deleted: counts.blobs_deleted,
            items_exported: counts.items_exported,
            export_key: counts.export_key.clone(),
            note,
        }
    }
}

/// The partition of a tenant's audit records (of an unknown shop's, by its domain).
pub fn partition(tenant: Option<&str>, shop_domain: &str) -> String {
    match tenant {
        Some(tenant) => format!("_audit#{tenant}"),
        None => format!("_audit#shop:{shop_domain}"),
    }
}

pub fn key(tenant: Option<&str>, shop_domain: &str, topic: &str, webhook_id: &str) -> Key {
    Key::new(partition(tenant, shop_domain), format!("{topic}#{webhook_id}"))
}

pub async fn get(table: &dyn TableStore, key: &Key) -> Result<Option<AuditRecord>, StoreError> {
    let Some(item) = table.get(key).await? else { return Ok(None) };
    serde_json::from_value(Value::Object(item.attributes))
        .map(Some)
        .map_err(|e| StoreError::Backend(format!("audit record {}/{}: {e}", key.pk, key.sk)))
}

/// Appends `record`; `ConditionFailed` when the request id is already audited.
pub async fn append(table: &dyn TableStore, key: &Key, record: &AuditRecord) -> Result<(), StoreError> {
    let Ok(Value::Object(attributes)) = serde_json::to_value(record) else {
        return Err(StoreError::Invalid("an audit record serializes to an object".into()));
    };
    let attributes: Map<String, Value> = attributes;
    table.put(Item::new(key.clone(), attributes), Condition::NotExists).await.map(|_| ())
}

/// Every audit record of a tenant, oldest request id first.
pub async fn of_tenant(table: &dyn TableStore, tenant: &str) -> Result<Vec<AuditRecord>, StoreError> {
    let mut query = crate::ports::table::Query::partition(partition(Some(tenant), ""));
    let mut out = Vec::new();
    loop {
        let page = table.query(&query).await?;
        for item in page.items {
            if let Ok(record) = serde_json::from_value(Value::Object(item.attributes)) {
                out.push(record);
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(out),
        }
    }
}
