//! Carrier invoice files the reconciliation job processed, once each: keyed by the content hash of their bytes,
//! with the reconciliation's discrepancies and totals; and the lines every processed file billed, by carrier, so
//! that a line billed again in a later file is a duplicate.
//!
//! The job writes a file's billed lines first and its [`InvoiceRecord`] last, both only if absent: the record is
//! the mark that the file is done, and a run that died in between writes the rest next time (lines it wrote
//! itself carry its hash and are not duplicates of themselves).

use jiff::Timestamp;
use lastmile_core::reconcile::check::{Discrepancy, Kind, Totals};
use serde::{Deserialize, Serialize};

use super::tracking::time_sk;
use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};

pub const INVOICES: &str = "invoices";

/// One processed invoice file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// `sha256:<hex>` of the file's bytes.
    pub content_hash: String,
    /// The inbox key it was first read from.
    pub source_key: String,
    /// Its layout (`shared/data/invoices/layouts.toml`), named by its inbox folder.
    pub layout: String,
    pub carrier: String,
    /// Empty when the file could not be read.
    #[serde(default)]
    pub invoice_number: String,
    pub currency: String,
    pub processed_at: Timestamp,
    /// Parcels billed (lines of the reconciliation, not rows of the file).
    #[serde(default)]
    pub lines: usize,
    #[serde(default)]
    pub totals: Totals,
    #[serde(default)]
    pub discrepancies: Vec<Discrepancy>,
    /// The blob key of the dispute file (disputed lines as CSV); absent when the file could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute_key: Option<String>,
    /// Why the file could not be read (not CSV, a missing column, an unknown layout): kept so that it is not read
    /// again every run; a corrected file has another hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl InvoiceRecord {
    /// Disputed amount and count of discrepancies by kind.
    pub fn by_kind(&self) -> Vec<(Kind, usize, i64)> {
        let mut out: Vec<(Kind, usize, i64)> = Vec::new();
        for d in &self.discrepancies {
            match out.iter_mut().find(|(kind, _, _)| *kind == d.kind) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += d.amount;
                }
                None => out.push((d.kind, 1, d.amount)),
            }
        }
        out.sort_by_key(|(kind, _, _)| *kind);
        out
    }
}

pub fn key(content_hash: &str) -> Key {
    Key::new(format!("invoice#{content_hash}"), "invoice")
}

impl Record for InvoiceRecord {
    fn key(&self) -> Key {
        key(&self.content_hash)
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        vec![("gsi1", Key::new(INVOICES, format!("{}#{}", time_sk(self.processed_at), self.content_hash)))]
    }
}

pub async fn get(table: &TenantTable<'_>, content_hash: &str) -> Result<Option<Versioned<InvoiceRecord>>, StoreError> {
    super::load(table, &key(content_hash)).await
}

/// The processed files, newest first, at most `cap`.
pub async fn recent(table: &TenantTable<'_>, cap: usize) -> Result<Vec<InvoiceRecord>, StoreError> {
    let query = Query { descending: true, ..Query::index("gsi1", INVOICES).sk(SkRange::All).limit(cap.clamp(1, 100)) };
    let mut out: Vec<InvoiceRecord> = query_all(table, query, cap).await?.into_iter().map(|v| v.value).collect();
    out.truncate(cap);
    Ok(out)
}

/// A line a processed file billed: `{tracking number}|{total}` (the core's `billed_key`) of one carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BilledLineRecord {
    pub carrier: String,
    pub billed_key: String,
    /// The file that billed it.
    pub content_hash: String,
    pub invoice_number: String,
}

pub fn billed_key(carrier: &str, billed_key: &str) -> Key {
    Key::new(format!("invoice-billed#{carrier}"), billed_key)
}

impl Record for BilledLineRecord {
    fn key(&self) -> Key {
        billed_key(&self.carrier, &self.billed_key)
    }
}

/// The file that billed `key` for `carrier` before, if any.
pub async fn billed_by(
    table: &TenantTable<'_>,
    carrier: &str,
    key: &str,
) -> Result<Option<BilledLineRecord>, StoreError> {
    Ok(super::load::<BilledLineRecord>(table, &billed_key(carrier, key)).await?.map(|v| v.value))
}

/// An inbox key the job has read, and the content it found there: the next runs skip the key without reading
/// it again. Inbox files are not changed in place; a corrected file comes under a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxKeyRecord {
    pub key: String,
    pub content_hash: String,
    pub read_at: Timestamp,
}

pub fn inbox_key(blob_key: &str) -> Key {
    Key::new(format!("invoice-inbox#{blob_key}"), "inbox")
}

impl Record for InboxKeyRecord {
    fn key(&self) -> Key {
        inbox_key(&self.key)
    }
}

/// Whether the job has read the inbox file under `blob_key`.
pub async fn inbox_key_read(table: &TenantTable<'_>, blob_key: &str) -> Result<bool, StoreError> {
    Ok(table.get(&inbox_key(blob_key)).await?.is_some())
}
