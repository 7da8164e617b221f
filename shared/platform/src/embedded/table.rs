//! The table port on redb, for `lastmile dev`: one file, each call one ACID transaction. Items are stored by
//! (partition key, sort key); each secondary-index entry is a key of its own table that points back to the item,
//! so index queries are key-range reads like table queries. Expired items are invisible at once and removed by
//! [`EmbeddedTable::purge_expired`].

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ports::clock::Clock;
use crate::ports::table::{
    Condition, INDEXES, Item, Key, MAX_TRANSACTION_WRITES, Page, Query, StoreError, TableStore, Write,
};

/// (pk, sk) → the item as JSON.
const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");
/// (index, index pk, index sk, pk, sk) → nothing: the entry is the key.
const INDEX_ENTRIES: TableDefinition<(&str, &str, &str, &str, &str), ()> = TableDefinition::new("index_entries");

/// What is stored for an item besides its key.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u64,
    attributes: Map<String, Value>,
    indexes: BTreeMap<String, (String, String)>,
    expires_at: Option<i64>,
}

impl Stored {
    fn into_item(self, key: Key) -> Item {
        Item {
            key,
            version: self.version,
            attributes: self.attributes,
            indexes: self.indexes.into_iter().map(|(name, (pk, sk))| (name, Key { pk, sk })).collect(),
            expires_at: self.expires_at,
        }
    }
}

pub struct EmbeddedTable {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl EmbeddedTable {
    /// Opens (creating if needed) the table in the database file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<EmbeddedTable, StoreError> {
        let db = Database::create(path).map_err(backend)?;
        EmbeddedTable::on(Arc::new(db), clock)
    }

    /// The database the table lives in (with the queues that share it).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The table inside an open database shared with other embedded adapters.
    pub fn on(db: Arc<Database>, clock: Arc<dyn Clock>) -> Result<EmbeddedTable, StoreError> {
        let txn = super::begin_write(&db).map_err(backend)?;
        txn.open_table(ITEMS).map_err(backend)?;
        txn.open_table(INDEX_ENTRIES).map_err(backend)?;
        txn.commit().map_err(backend)?;
        Ok(EmbeddedTable { db, clock })
    }

    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    fn live(&self, stored: &Stored) -> bool {
        stored.expires_at.is_none_or(|at| at > self.now())
    }

    /// Deletes every expired item (DynamoDB's TTL sweep); answers how many.
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        let txn = super::begin_write(&self.db).map_err(backend)?;
        let mut expired = Vec::new();
        {
            let items = txn.open_table(ITEMS).map_err(backend)?;
            for entry in items.iter().map_err(backend)? {
                let (key, value) = entry.map_err(backend)?;
                let stored: Stored = serde_json::from_slice(value.value()).map_err(backend)?;
                if !self.live(&stored) {
                    let (pk, sk) = key.value();
                    expired.push(Key::new(pk, sk));
                }
            }
        }
        for key in &expired {
            remove(&txn, key)?;
        }
        txn.commit().map_err(backend)?;
        Ok(expired.len())
    }
}

fn read(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    key: &Key,
) -> Result<Option<Stored>, StoreError> {
    match table.get((key.pk.as_str(), key.sk.as_str())).map_err(backend)? {
        Some(value) => Ok(Some(serde_json::from_slice(value.value()).map_err(backend)?)),
        None => Ok(None),
    }
}

/// Removes an item and its index entries inside `txn`.
fn remove(txn: &redb::WriteTransaction, key: &Key) -> Result<(), StoreError> {
    let mut items = txn.open_table(ITEMS).map_err(backend)?;
    let old = items.remove((key.pk.as_str(), key.sk.as_str())).map_err(backend)?;
    if let Some(old) = old {
        let stored: Stored = serde_json::from_slice(old.value()).map_err(backend)?;
        let mut entries = txn.open_table(INDEX_ENTRIES).map_err(backend)?;
        for (name, (ipk, isk)) in &stored.indexes {
            entries
                .remove((name.as_str(), ipk.as_str(), isk.as_str(), key.pk.as_str(), key.sk.as_str()))
                .map_err(backend)?;
        }
    }
    Ok(())
}

impl EmbeddedTable {
    /// The live item at `key` inside `txn`.
    fn current(&self, txn: &redb::WriteTransaction, key: &Key) -> Result<Option<Stored>, StoreError> {
        let items = txn.open_table(ITEMS).map_err(backend)?;
        Ok(read(&items, key)?.filter(|s| self.live(s)))
    }

    fn holds(current: Option<&Stored>, condition: Condition) -> bool {
        match condition {
            Condition::Always => true,
            Condition::NotExists => current.is_none(),
            Condition::Version(v) => current.is_some_and(|s| s.version == v),
        }
    }

    /// Writes `item` inside `txn` over `current`; answers the new version.
    fn write(&self, txn: &redb::WriteTransaction, item: Item, current: Option<&Stored>) -> Result<u64, StoreError> {
        item.check()?;
        remove(txn, &item.key)?;
        let version = current.map_or(1, |s| s.version + 1);
        let stored = Stored {
            version,
            attributes: item.attributes,
            indexes: item.indexes.into_iter().map(|(name, k)| (name, (k.pk, k.sk))).collect(),
            expires_at: item.expires_at,
        };
        let bytes = serde_json::to_vec(&stored).map_err(backend)?;
        let mut items = txn.open_table(ITEMS).map_err(backend)?;
        items.insert((item.key.pk.as_str(), item.key.sk.as_str()), bytes.as_slice()).map_err(backend)?;
        let mut entries = txn.open_table(INDEX_ENTRIES).map_err(backend)?;
        for (name, (ipk, isk)) in &stored.indexes {
            entries
                .insert((name.as_str(), ipk.as_str(), isk.as_str(), item.key.pk.as_str(), item.key.sk.as_str()), ())
                .map_err(backend)?;
        }
        Ok(version)
    }
}

#[async_trait]
impl TableStore for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        Ok(read(&items, key)?.filter(|s| self.live(s)).map(|s| s.into_item(key.clone())))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        let txn = super::begin_write(&self.db).map_err(backend)?;
        let current = self.current(&txn, &item.key)?;
        if !Self::holds(current.as_ref(), condition) {
            return Err(StoreError::ConditionFailed);
        }
        let version = self.write(&txn, item, current.as_ref())?;
        txn.commit().map_err(backend)?;
        Ok(version)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let txn = super::begin_write(&self.db).map_err(backend)?;
        let current = self.current(&txn, key)?;
        if !Self::holds(current.as_ref(), condition) {
            return Err(StoreError::ConditionFailed);
        }
        remove(&txn, key)?;
        txn.commit().map_err(backend)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        if query.limit == 0 {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        let txn = self.db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        // Candidates in sort order: (sort key in the queried key space, table key).
        let candidates: Vec<(String, Key)> = match &query.index {
            None => {
                let range = items.range((query.pk.as_str(), "")..).map_err(backend)?;
                let mut out = Vec::new();
                for entry in range {
                    let (key, _) = entry.map_err(backend)?;
                    let (pk, sk) = key.value();
                    if pk != query.pk {
                        break;
                    }
                    out.push((sk.to_owned(), Key::new(pk, sk)));
                }
                out
            }
            Some(index) => {
                if !INDEXES.contains(&index.as_str()) {
                    return Err(StoreError::Invalid(format!("no index {index:?}")));
                }
                let entries = txn.open_table(INDEX_ENTRIES).map_err(backend)?;
                let range = entries.range((index.as_str(), query.pk.as_str(), "", "", "")..).map_err(backend)?;
                let mut out = Vec::new();
                for entry in range {
                    let (key, _) = entry.map_err(backend)?;
                    let (name, ipk, isk, pk, sk) = key.value();
                    if name != index || ipk != query.pk {
                        break;
                    }
                    out.push((isk.to_owned(), Key::new(pk, sk)));
                }
                out
            }
        };
        let mut ordered: Vec<(String, Key)> = candidates.into_iter().filter(|(sk, _)| query.sk.contains(sk)).collect();
        if query.descending {
            ordered.reverse();
        }
        if let Some(after) = &query.after {
            match ordered.iter().position(|(_, key)| key == after) {
                Some(at) => {
                    ordered.drain(..=at);
                }
                None => return Err(StoreError::Invalid("the continuation key is not in this query".into())),
            }
        }
        let mut page = Vec::new();
        let mut next = None;
        for (_, key) in ordered {
            if page.len() == query.limit {
                next = page.last().map(|item: &Item| item.key.clone());
                break;
            }
            if let Some(stored) = read(&items, &key)?.filter(|s| self.live(s)) {
                page.push(stored.into_item(key));
            }
        }
        Ok(Page { items: page, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
            return Err(StoreError::Invalid(format!("a transaction has 1 to {MAX_TRANSACTION_WRITES} writes")));
        }
        let keys: HashSet<&Key> = writes
            .iter()
            .map(|w| match w {
                Write::Put { item, .. } => &item.key,
                Write::Delete { key, .. } => key,
            })
            .collect();
        if keys.len() != writes.len() {
            return Err(StoreError::Invalid("a transaction writes each key once".into()));
        }
        let txn = super::begin_write(&self.db).map_err(backend)?;
        let mut current = Vec::with_capacity(writes.len());
        for (i, w) in writes.iter().enumerate() {
            let (key, condition) = match w {
                Write::Put { item, condition } => (&item.key, *condition),
                Write::Delete { key, condition } => (key, *condition),
            };
            let stored = self.current(&txn, key)?;
            if !Self::holds(stored.as_ref(), condition) {
                // Dropping the transaction aborts it: nothing was written.
                return Err(StoreError::TransactionCancelled(i));
            }
            current.push(stored);
        }
        for (w, stored) in writes.into_iter().zip(current) {
            match w {
                Write::Put { item, .. } => {
                    self.write(&txn, item, stored.as_ref())?;
                }
                Write::Delete { key, .. } => remove(&txn, &key)?,
            }
        }
        txn.commit().map_err(backend)
    }

    /// A key-range read of the ordered items table from `(pk_prefix, "")`, stopping at the first key past the
    /// prefix.
    async fn scan_prefix(&self, pk_prefix: &str, after: Option<&Key>, limit: usize) -> Result<Page, StoreError> {
        if limit == 0 || pk_prefix.is_empty() {
            return Err(StoreError::Invalid("a scan needs a partition-key prefix and a limit of at least 1".into()));
        }
        let txn = self.db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        let range = match after {
            Some(after) => items.range::<(&str, &str)>((after.pk.as_str(), after.sk.as_str())..).map_err(backend)?,
            None => items.range::<(&str, &str)>((pk_prefix, "")..).map_err(backend)?,
        };
        let mut page = Vec::new();
        let mut next = None;
        for entry in range {
            let (key, value) = entry.map_err(backend)?;
            let (pk, sk) = key.value();
            if !pk.starts_with(pk_prefix) {
                break;
            }
            if after.is_some_and(|a| a.pk == pk && a.sk == sk) {
                continue;
            }
            if page.len() == limit {
                next = page.last().map(|item: &Item| item.key.clone());
                break;
            }
            let stored: Stored = serde_json::from_slice(value.value()).map_err(backend)?;
            if self.live(&stored) {
                page.push(stored.into_item(Key::new(pk, sk)));
            }
        }
        Ok(Page { items: page, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::clock::ManualClock;
    use crate::ports::table::Query;

    #[tokio::test]
    async fn expired_items_vanish_at_once_and_are_purged() {
        let path = std::env::temp_dir().join(format!("lastmile-table-ttl-{}.redb", std::process::id()));
        let clock = Arc::new(ManualClock::new("2026-12-04T10:00:00Z".parse().unwrap()));
        let table = EmbeddedTable::open(&path, clock.clone()).unwrap();
        let now = clock.now().as_second();
        let item = Item::new(Key::new("acme#dedup", "evt-1"), Map::new())
            .with_index("gsi1", Key::new("acme#dedup-by-day", "2026-12-04"))
            .expiring_at(now + 60);
        table.put(item, Condition::NotExists).await.unwrap();
        assert!(table.get(&Key::new("acme#dedup", "evt-1")).await.unwrap().is_some());
        clock.advance(jiff::SignedDuration::from_secs(61));
        assert!(table.get(&Key::new("acme#dedup", "evt-1")).await.unwrap().is_none());
        let page = table.query(&Query::index("gsi1", "acme#dedup-by-day")).await.unwrap();
        assert!(page.items.is_empty());
        // Expired counts as absent for a conditional create.
        let again = Item::new(Key::new("acme#dedup", "evt-1"), Map::new());
        assert_eq!(table.put(again, Condition::NotExists).await.unwrap(), 1);
        // The sweep deletes what has expired and nothing else.
        let short = Item::new(Key::new("acme#dedup", "evt-2"), Map::new()).expiring_at(clock.now().as_second() + 5);
        table.put(short, Condition::NotExists).await.unwrap();
        clock.advance(jiff::SignedDuration::from_secs(6));
        assert_eq!(table.purge_expired().unwrap(), 1);
        assert!(table.get(&Key::new("acme#dedup", "evt-1")).await.unwrap().is_some());
        // Deleted from the file, not only hidden: the row and its index entries are gone.
        let txn = table.db.begin_read().unwrap();
        assert!(txn.open_table(ITEMS).unwrap().get(("acme#dedup", "evt-2")).unwrap().is_none());
        let entries = txn.open_table(INDEX_ENTRIES).unwrap();
        assert_eq!(entries.iter().unwrap().count(), 0, "the expired item's index entry went with it");
        std::fs::remove_file(&path).unwrap();
    }
}
