//! The registry in the table, for deployed functions: one partition, `_registry` (no tenant id starts with
//! `_`, and tenant partitions are `{tenant}#…`), with an item per tenant (`tenant#{id}`, its configuration as
//! the same TOML a tenant file holds) and per key (`key#{id}`, the key record; never the secret).

use serde_json::{Map, Value, json};

use super::{KeyRecord, TenantError};
use crate::config::TenantConfig;
use crate::ports::table::{Condition, Item, Key, Query, SkRange, StoreError, TableStore};

const PARTITION: &str = "_registry";

pub struct Stored {
    pub tenants: Vec<TenantConfig>,
    /// Each key with its stored version.
    pub keys: Vec<(KeyRecord, u64)>,
}

/// Every tenant and key the table holds.
pub async fn read(table: &dyn TableStore) -> Result<Stored, TenantError> {
    let mut stored = Stored { tenants: Vec::new(), keys: Vec::new() };
    let mut query = Query::partition(PARTITION).sk(SkRange::All);
    loop {
        let page = table.query(&query).await?;
        for item in page.items {
            let invalid = |e: String| StoreError::Backend(format!("registry item {}: {e}", item.key.sk));
            if item.key.sk.starts_with("tenant#") {
                let text = item.attributes.get("config").and_then(Value::as_str).unwrap_or_default();
                let tenant: TenantConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
                stored.tenants.push(tenant);
            } else if item.key.sk.starts_with("key#") {
                let key: KeyRecord = serde_json::from_value(Value::Object(item.attributes.clone()))
                    .map_err(|e| invalid(e.to_string()))?;
                stored.keys.push((key, item.version));
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(stored),
        }
    }
}

pub async fn put_tenant(table: &dyn TableStore, tenant: &TenantConfig) -> Result<(), TenantError> {
    let text = toml::to_string_pretty(tenant).map_err(|e| StoreError::Invalid(format!("tenant {}: {e}", tenant.id)))?;
    let mut attributes = Map::new();
    attributes.insert("id".into(), json!(tenant.id));
    attributes.insert("config".into(), json!(text));
    let item = Item::new(Key::new(PARTITION, format!("tenant#{}", tenant.id)), attributes);
    table.put(item, Condition::Always).await?;
    Ok(())
}

/// Writes a key: a new one when `version` is `None` (refused if the id exists), else over that version.
pub async fn put_key(table: &dyn TableStore, key: &KeyRecord, version: Option<u64>) -> Result<u64, StoreError> {
    let attributes: Map<String, Value> = match serde_json::to_value(key) {
        Ok(Value::Object(map)) => map,
        _ => return Err(StoreError::Invalid(format!("key {}", key.id))),
    };
    let item = Item::new(Key::new(PARTITION, format!("key#{}", key.id)), attributes);
    table.put(item, version.map_or(Condition::NotExists, Condition::Version)).await
}

/// Deletes a tenant's item and its keys' items (deleting what is not there changes nothing).
pub async fn delete_tenant(table: &dyn TableStore, id: &str, key_ids: &[String]) -> Result<(), StoreError> {
    table.delete(&Key::new(PARTITION, format!("tenant#{id}")), Condition::Always).await?;
    for key_id in key_ids {
        table.delete(&Key::new(PARTITION, format!("key#{key_id}")), Condition::Always).await?;
    }
    Ok(())
}
