//! The repositories: orders, stock, shipments, routing decisions, lines and their counters, each a record type
//! with its key and index keys, stored through the table port in one tenant's view ([`TenantTable`]). Jobs read
//! them through secondary indexes, never by scanning.
//!
//! | record | pk | sk | gsi1 | gsi2 |
//! |---|---|---|---|---|
//! | order | `order#{id}` | `order` | `orders-by-status#{status}` / `{received_at}#{id}` | |
//! | decision | `order#{id}` | `decision` | | |
//! | personal data | `{owner pk}` (`order#{id}`, `shipment#{id}`) | `personal#{kind}` | | `customer#{ref}` / `{stored_at}#{owner}#{kind}` |
//! | shipment | `shipment#{id}` | `shipment` | `experiment#{id}` / `{arm}#{shipment}` | `line#{line}` / `{decided_at}#{shipment}` |
//! | stock | `stock#{warehouse}` | `{sku}` | | |
//! | line | `line` | `{line}` | | |
//! | line statistics | `line-stats` | `{line}` | | |
//! | line's orders today | `line-day#{date}` | `{line}` | | |
//! | lane's orders today | `lane-day#{date}` | `{lane}` | | |
//! | tracking | `shipment#{id}` | `tracking` | `stall-watch` / `{last activity}#{shipment}` while moving, else `claim-watch` / the same until reviewed for claims | `kpi-pending` / `{updated_at}#{shipment}` until counted |
//! | claim | `shipment#{id}` | `claim#{type}` | `claims#{status}` / `{deadline}#{claim}` | `claims-by-carrier#{carrier}` / `{status}#{deadline}#{claim}` |
//! | tracking number | `tracking#{carrier}#{number}` | `tracking-number` | | |
//! | events waiting for their number | `tracking#{carrier}#{number}` | `orphan-events` | | |
//! | POD file received | `tracking#{carrier}#{number}` | `pod#{name}` | | |
//! | alert | `alert#{id}` | `alert` | `alerts` / `{raised_at}#{id}` | `alert-outbox` / `{next attempt}#{id}` while pending |
//! | KPI roll-up | `kpi` | `{day}#{line}#{lane}` | | |
//! | processed invoice file | `invoice#{content hash}` | `invoice` | `invoices` / `{processed_at}#{hash}` | |
//! | inbox file read | `invoice-inbox#{blob key}` | `inbox` | | |
//! | line an invoice billed | `invoice-billed#{carrier}` | `{tracking number}\|{total}` | | |
//! | return (RMA) | `return#{rma}` | `return` | `returns-of-order#{order}` / `{created_at}#{rma}` | `returns-by-status#{status}` / `{updated_at}#{rma}` |
//! | quantities returned | `order#{id}` | `returned` | | |
//!
//! (Every pk is prefixed with the tenant id on the way in. Personal data lives only in the personal items, which
//! expire by their kind's retention: see [`crate::privacy`] and docs/privacy.md.)

pub mod claims;
pub mod decisions;
pub mod invoices;
pub mod lines;
pub mod orders;
pub mod personal;
pub mod returns;
pub mod shipments;
pub mod stock;
pub mod tracking;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ports::table::{Condition, Item, Key, Query, StoreError, TenantTable, Write};

/// A stored record: its key, index keys and expiry come from its content.
pub trait Record: Serialize + DeserializeOwned {
    fn key(&self) -> Key;
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        Vec::new()
    }
    fn expires_at(&self) -> Option<i64> {
        None
    }
}

/// A record as read, with the version a conditional write needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

pub fn item<T: Record>(record: &T) -> Result<Item, StoreError> {
    let Value::Object(attributes) =
        serde_json::to_value(record).map_err(|e| StoreError::Invalid(format!("record: {e}")))?
    else {
        return Err(StoreError::Invalid("a record must serialize to an object".into()));
    };
    let mut item = Item::new(record.key(), attributes);
    for (index, key) in record.indexes() {
        item = item.with_index(index, key);
    }
    item.expires_at = record.expires_at();
    Ok(item)
}

pub fn decode<T: Record>(item: Item) -> Result<Versioned<T>, StoreError> {
    let value = serde_json::from_value(Value::Object(item.attributes))
        .map_err(|e| StoreError::Backend(format!("stored record at {}/{}: {e}", item.key.pk, item.key.sk)))?;
    Ok(Versioned { value, version: item.version })
}

pub async fn load<T: Record>(table: &TenantTable<'_>, key: &Key) -> Result<Option<Versioned<T>>, StoreError> {
    table.get(key).await?.map(decode).transpose()
}

/// A conditional put of `record`, for a transaction.
pub fn put<T: Record>(record: &T, condition: Condition) -> Result<Write, StoreError> {
    Ok(Write::Put { item: item(record)?, condition })
}

pub async fn save<T: Record>(table: &TenantTable<'_>, record: &T, condition: Condition) -> Result<u64, StoreError> {
    table.put(item(record)?, condition).await
}

/// Every record a query reads, page after page, up to `cap`.
pub async fn query_all<T: Record>(
    table: &TenantTable<'_>,
    query: Query,
    cap: usize,
) -> Result<Vec<Versioned<T>>, StoreError> {
    let mut query = query;
    let mut out = Vec::new();
    loop {
        let page = table.query(&query).await?;
        for item in page.items {
            out.push(decode(item)?);
        }
        match page.next {
            Some(next) if out.len() < cap => query.after = Some(next),
            _ => return Ok(out),
        }
    }
}
