//! What the app keeps per installed shop, in the tenant's part of the table (`installation` / `shopify`): the
//! shop, the granted scopes, the access token sealed at rest, whether the app is installed, and what it
//! registered in the shop. The install's one-time `state` nonces live in a partition of their own
//! (`_shopify-install` / `state#{nonce}`): they are written before any tenant exists.

use std::collections::BTreeMap;

use jiff::Timestamp;
use lastmile_platform::ports::table::{Condition, Item, Key, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::{self, Record, Versioned};
use lastmile_platform::sealed::Sealed;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Uninstalled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Installation {
    pub shop: String,
    /// The scopes the shop granted, as Shopify lists them.
    pub scopes: String,
    /// The offline Admin API token, sealed for `{tenant}/installation/shopify`; dropped at uninstall (Shopify
    /// revokes it then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Sealed>,
    pub status: Status,
    pub installed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstalled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_service_id: Option<String>,
    /// Webhook subscription ids by topic (`ORDERS_CREATE` …).
    #[serde(default)]
    pub webhooks: BTreeMap<String, String>,
}

pub fn key() -> Key {
    Key::new("installation", "shopify")
}

/// The associated data the token is sealed with: the tenant and the record, so it opens nowhere else.
pub fn token_owner(tenant: &str) -> String {
    format!("{tenant}/installation/shopify")
}

impl Record for Installation {
    fn key(&self) -> Key {
        key()
    }
}

pub async fn get(table: &TenantTable<'_>) -> Result<Option<Versioned<Installation>>, StoreError> {
    repo::load(table, &key()).await
}

/// Writes the installation over `version` (or as new when `None`).
pub async fn put(
    table: &TenantTable<'_>,
    installation: &Installation,
    version: Option<u64>,
) -> Result<u64, StoreError> {
    repo::save(table, installation, version.map_or(Condition::NotExists, Condition::Version)).await
}

/// How long an install may take between the redirect to Shopify and the callback.
pub const STATE_SECONDS: i64 = 10 * 60;

const STATE_PARTITION: &str = "_shopify-install";

fn state_key(nonce: &str) -> Key {
    Key::new(STATE_PARTITION, format!("state#{nonce}"))
}

/// Stores a new install `state` for `shop`.
pub async fn put_state(table: &dyn TableStore, nonce: &str, shop: &str, now: Timestamp) -> Result<(), StoreError> {
    let mut attributes = Map::new();
    attributes.insert("shop".into(), json!(shop));
    attributes.insert("created_at".into(), json!(now.as_second()));
    let item = Item::new(state_key(nonce), attributes).expiring_at(now.as_second() + STATE_SECONDS);
    table.put(item, Condition::NotExists).await.map(|_| ())
}

/// Why a callback's `state` is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StateRefused {
    /// Never issued, already used, or issued for another shop.
    Unknown,
    Expired,
}

/// Takes the install `state` issued for `shop`: it works once, and only within [`STATE_SECONDS`]. The delete is
/// conditional on the version read, so of two callbacks racing with one state only one gets it.
pub async fn take_state(
    table: &dyn TableStore,
    nonce: &str,
    shop: &str,
    now: Timestamp,
) -> Result<Result<(), StateRefused>, StoreError> {
    let plain = !nonce.is_empty() && nonce.len() <= 64 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
    if !plain {
        return Ok(Err(StateRefused::Unknown));
    }
    let key = state_key(nonce);
    let Some(item) = table.get(&key).await? else {
        return Ok(Err(StateRefused::Unknown));
    };
    if item.attributes.get("shop").and_then(Value::as_str) != Some(shop) {
        return Ok(Err(StateRefused::Unknown));
    }
    match table.delete(&key, Condition::Version(item.version)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(Err(StateRefused::Unknown)),
        Err(e) => return Err(e),
    }
    // The embedded store hides expired items, DynamoDB keeps them until its sweep: the time is checked here.
    let created = item.attributes.get("created_at").and_then(Value::as_i64).unwrap_or(0);
    if now.as_second() - created > STATE_SECONDS {
        return Ok(Err(StateRefused::Expired));
    }
    Ok(Ok(()))
}
