//! Personal data, kept apart from the records that need it: one item per owning record and kind (the order as
//! the shop sent it, the address the router read, a buyer's comment), each with the customer it is about and an
//! expiry from its kind's retention ([`crate::privacy::registry`]). So the records aggregates read (orders,
//! decisions, shipments) hold nothing personal, the store's TTL removes personal data on time, and a customer's
//! items are found through the customer index, never by a scan.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};
use crate::privacy::registry::Declaration;

/// Sort keys of personal items start with this, under their owner's partition.
pub const SK_PREFIX: &str = "personal#";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalRecord {
    /// The owning record's partition key (`order#1001`, `shipment#1001-2`).
    pub owner: String,
    /// The registry's kind (`order`, `routing-address`, `rating-comment` …).
    pub kind: String,
    /// Who it is about ([`crate::privacy::customer_ref`]): never a raw email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    pub data: Value,
    pub stored_at: Timestamp,
    /// Unix seconds: `stored_at` plus the kind's retention, the item's TTL.
    pub expires_at: i64,
}

impl PersonalRecord {
    /// Personal data of `declaration`'s kind, kept for its retention from `now`.
    pub fn new(
        declaration: &Declaration,
        owner: impl Into<String>,
        customer: Option<String>,
        data: Value,
        now: Timestamp,
    ) -> PersonalRecord {
        PersonalRecord {
            owner: owner.into(),
            kind: declaration.kind.to_owned(),
            customer,
            data,
            stored_at: now,
            expires_at: declaration.expiry(now),
        }
    }
}

pub fn key(owner: &str, kind: &str) -> Key {
    Key::new(owner, format!("{SK_PREFIX}{kind}"))
}

impl Record for PersonalRecord {
    fn key(&self) -> Key {
        key(&self.owner, &self.kind)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        self.customer
            .iter()
            .map(|c| {
                ("gsi2", Key::new(format!("customer#{c}"), format!("{}#{}#{}", self.stored_at, self.owner, self.kind)))
            })
            .collect()
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

pub async fn get(
    table: &TenantTable<'_>,
    owner: &str,
    kind: &str,
) -> Result<Option<Versioned<PersonalRecord>>, StoreError> {
    super::load(table, &key(owner, kind)).await
}

/// Every personal item of one owning record.
pub async fn of_owner(table: &TenantTable<'_>, owner: &str) -> Result<Vec<Versioned<PersonalRecord>>, StoreError> {
    query_all(table, Query::partition(owner).sk(SkRange::Prefix(SK_PREFIX.into())), 1000).await
}

/// Every personal item about a customer, through the customer index.
pub async fn of_customer(
    table: &TenantTable<'_>,
    customer: &str,
    cap: usize,
) -> Result<Vec<Versioned<PersonalRecord>>, StoreError> {
    query_all(table, Query::index("gsi2", format!("customer#{customer}")), cap).await
}
