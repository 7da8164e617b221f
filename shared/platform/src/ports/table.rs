//! A table in DynamoDB's model: items under a partition key and a sort key, attributes as JSON, a version for
//! optimistic concurrency, secondary indexes on their own keys, small all-or-nothing transactions, and an
//! expiry time after which an item is gone.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value};

/// Where an item lives: partition key and sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// The secondary indexes a table has (`gsi1`, `gsi2`): the infrastructure template declares the same.
pub const INDEXES: [&str; 2] = ["gsi1", "gsi2"];

/// Most writes in one transaction (DynamoDB allows 100; lastmile's repositories need a handful).
pub const MAX_TRANSACTION_WRITES: usize = 25;

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    /// Set by the store on every write: 1 when created, then one more each time.
    pub version: u64,
    pub attributes: Map<String, Value>,
    /// Keys of the item in the secondary indexes it belongs to, by index name.
    pub indexes: BTreeMap<String, Key>,
    /// Unix seconds after which the item no longer exists (DynamoDB's TTL attribute).
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(key: Key, attributes: Map<String, Value>) -> Item {
        Item { key, version: 0, attributes, indexes: BTreeMap::new(), expires_at: None }
    }

    pub fn with_index(mut self, index: &str, key: Key) -> Item {
        self.indexes.insert(index.to_owned(), key);
        self
    }

    pub fn expiring_at(mut self, unix_seconds: i64) -> Item {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// What DynamoDB refuses, refused alike by every adapter: empty keys, unknown indexes.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.key.pk.is_empty() || self.key.sk.is_empty() {
            return Err(StoreError::Invalid("partition and sort keys must not be empty".into()));
        }
        if let Some(name) = self.indexes.keys().find(|name| !INDEXES.contains(&name.as_str())) {
            return Err(StoreError::Invalid(format!("no index {name:?}")));
        }
        if self.indexes.values().any(|k| k.pk.is_empty() || k.sk.is_empty()) {
            return Err(StoreError::Invalid("index keys must not be empty".into()));
        }
        Ok(())
    }
}

/// What must hold for a write to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// No item at the key (an expired one counts as none).
    NotExists,
    /// The item exists with this version.
    Version(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put { item: Item, condition: Condition },
    Delete { key: Key, condition: Condition },
}

/// Which sort keys a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
}

impl SkRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SkRange::All => true,
            SkRange::Prefix(prefix) => sk.starts_with(prefix.as_str()),
            SkRange::Between(low, high) => low.as_str() <= sk && sk <= high.as_str(),
        }
    }
}

/// A key-range read of one partition, of the table or of a secondary index, in sort-key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Option<String>,
    pub pk: String,
    pub sk: SkRange,
    pub limit: usize,
    /// Continue after this item's table key (from [`Page::next`]).
    pub after: Option<Key>,
    pub descending: bool,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Query {
        Query { index: None, pk: pk.into(), sk: SkRange::All, limit: 100, after: None, descending: false }
    }

    pub fn index(index: &str, pk: impl Into<String>) -> Query {
        Query { index: Some(index.to_owned()), ..Query::partition(pk) }
    }

    pub fn sk(mut self, range: SkRange) -> Query {
        self.sk = range;
        self
    }

    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = limit;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// The table key to continue after, when there may be more.
    pub next: Option<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the condition of the write does not hold")]
    ConditionFailed,
    /// A transaction wrote nothing because one of its conditions did not hold (its index).
    #[error("transaction cancelled: the condition of write {0} does not hold")]
    TransactionCancelled(usize),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("store: {0}")]
    Backend(String),
}

#[async_trait]
pub trait TableStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Writes `item` if `condition` holds; answers the version it now has.
    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError>;

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Every write or none (at most [`MAX_TRANSACTION_WRITES`], each key once).
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Up to `limit` live items whose partition key starts with `pk_prefix` (a tenant's `{tenant}#`), continuing
    /// after `after` (a [`Page::next`] of the same read); pages may be short, or empty with a `next`. In no
    /// promised order. For erasing a whole tenant (Shopify's `shop/redact`) only: on DynamoDB it is a Scan of
    /// the whole table, acceptable for a request that comes once per uninstalled shop, never for a job.
    async fn scan_prefix(&self, pk_prefix: &str, after: Option<&Key>, limit: usize) -> Result<Page, StoreError>;
}

/// One tenant's view of a table: every partition key (of the table and of its indexes) starts with the tenant
/// id, added on the way in and removed on the way out, so no call through it can name another tenant's items.
pub struct TenantTable<'t> {
    store: &'t dyn TableStore,
    prefix: String,
}

impl<'t> TenantTable<'t> {
    pub fn new(store: &'t dyn TableStore, tenant: &str) -> TenantTable<'t> {
        TenantTable { store, prefix: format!("{tenant}#") }
    }

    fn inward(&self, key: &Key) -> Key {
        Key { pk: format!("{}{}", self.prefix, key.pk), sk: key.sk.clone() }
    }

    fn outward(&self, key: Key) -> Key {
        Key { pk: key.pk.strip_prefix(&self.prefix).map(str::to_owned).unwrap_or(key.pk), sk: key.sk }
    }

    fn item_in(&self, mut item: Item) -> Item {
        item.key = self.inward(&item.key);
        item.indexes = item.indexes.into_iter().map(|(name, key)| (name, self.inward(&key))).collect();
        item
    }

    fn item_out(&self, mut item: Item) -> Item {
        item.key = self.outward(item.key);
        item.indexes = item.indexes.into_iter().map(|(name, key)| (name, self.outward(key))).collect();
        item
    }

    pub async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.store.get(&self.inward(key)).await?.map(|item| self.item_out(item)))
    }

    pub async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        self.store.put(self.item_in(item), condition).await
    }

    pub async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.store.delete(&self.inward(key), condition).await
    }

    pub async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let mut inner = query.clone();
        inner.pk = format!("{}{}", self.prefix, query.pk);
        inner.after = query.after.as_ref().map(|k| self.inward(k));
        let page = self.store.query(&inner).await?;
        Ok(Page {
            items: page.items.into_iter().map(|item| self.item_out(item)).collect(),
            next: page.next.map(|k| self.outward(k)),
        })
    }

    pub async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let writes = writes
            .into_iter()
            .map(|w| match w {
                Write::Put { item, condition } => Write::Put { item: self.item_in(item), condition },
                Write::Delete { key, condition } => Write::Delete { key: self.inward(&key), condition },
            })
            .collect();
        self.store.transact(writes).await
    }
}
