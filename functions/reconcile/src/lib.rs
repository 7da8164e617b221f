//! The invoice reconciliation job (an EventBridge schedule, hourly; `lastmile dev` runs it in-process, and
//! `lastmile job reconcile` on demand): carrier invoice files dropped into the blob store's inbox are checked
//! against what was quoted, once each.
//!
//! - The inbox is `invoices/inbox/{tenant}/{layout}/{file}`: the folder names the file's layout in
//!   `shared/data/invoices/layouts.toml` (`example-parcel-us/INV-US-0001.csv`), the file name is free.
//! - A file is known by the `sha256:` of its bytes ([`content_hash`]): one already processed is skipped, so a
//!   second run changes nothing and a file dropped twice under two names is processed once. A key once read is
//!   not read again (inbox files are not changed in place: a corrected file comes under a new name). Inbox
//!   files stay where they are; everything the job writes can be derived from them again.
//! - Each line's shipment is found through its tracking number (the layout's `tracking_carriers`, then the
//!   [`TrackingNumberRecord`](lastmile_platform::repo::tracking::TrackingNumberRecord) of each), and checked
//!   against the facts its quote priced ([`QuotedFacts`]) by [`check::reconcile`].
//! - The lines the file billed are stored first (only if absent), then the dispute file
//!   `invoices/disputes/{tenant}/{invoice}-{hash8}.csv`, then the [`InvoiceRecord`] (only if absent) that marks
//!   the file done: a run that dies in between finishes the file next time.

pub mod api;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use lastmile_core::rating::card::{RateCard, builtin};
use lastmile_core::reconcile::check::{self, Kind, QuotedShipment, Totals};
use lastmile_core::reconcile::dispute::dispute_csv;
use lastmile_core::reconcile::layout::{self, Invoice, Layout, Layouts, content_hash};
use lastmile_core::units::Dimensions;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::blob::{BlobError, BlobStore};
use lastmile_platform::ports::table::{Condition, StoreError, TableStore, TenantTable};
use lastmile_platform::repo::invoices::{self, BilledLineRecord, InboxKeyRecord, InvoiceRecord};
use lastmile_platform::repo::shipments::{self, QuotedFacts};
use lastmile_platform::repo::{self, tracking};
use lastmile_platform::tenants::TenantRegistry;
use serde::Serialize;

/// Most new inbox files one run reads per tenant; the rest wait for the next run.
pub const MAX_FILES: usize = 200;

/// What the job reads and writes through.
pub struct Ports {
    pub table: Arc<dyn TableStore>,
    /// The inbox (`invoices/inbox/…`) and the dispute files (`invoices/disputes/…`).
    pub blobs: Arc<dyn BlobStore>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the invoice layouts do not parse: {0}")]
    Layouts(String),
}

/// Where a tenant's invoice files are dropped: one folder per layout below it.
pub fn inbox_prefix(tenant: &str) -> String {
    format!("invoices/inbox/{tenant}/")
}

/// The dispute file of an invoice: its number (made a key segment) and the first 8 hex digits of its hash.
pub fn dispute_key(tenant: &str, invoice_number: &str, content_hash: &str) -> String {
    let number: String = invoice_number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    let number = if number.trim_matches('.').is_empty() { "invoice".to_owned() } else { number };
    let hex = content_hash.strip_prefix("sha256:").unwrap_or(content_hash);
    format!("invoices/disputes/{tenant}/{number}-{}.csv", &hex[..hex.len().min(8)])
}

/// One file this run processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Processed {
    pub key: String,
    pub content_hash: String,
    pub invoice_number: String,
    pub currency: String,
    pub lines: usize,
    pub totals: Totals,
    /// Discrepancies by kind: count and amount.
    pub by_kind: BTreeMap<Kind, KindTotal>,
    pub dispute_key: Option<String>,
    /// Why the file could not be read (it is recorded, and not read again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How many discrepancies of a kind, and their amount (minor units of the invoice's currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindTotal {
    pub count: usize,
    pub amount: i64,
}

/// What one run did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Files read and reconciled (or recorded as unreadable) by this run.
    pub processed: Vec<Processed>,
    /// Inbox files whose content was processed before (by an earlier run, or under another name).
    pub already_processed: usize,
    /// Inbox files in a folder that names no layout: left where they are.
    pub unknown_layout: Vec<String>,
    /// Inbox files that could not be read (an invalid key, bytes that do not match their hash): tried again
    /// next run.
    pub unreadable: Vec<String>,
    /// New files left for the next run (over [`MAX_FILES`]).
    pub deferred: usize,
}

/// One run for every enabled tenant; a tenant that fails is logged and the others still run.
pub async fn run_all(ports: &Ports, registry: &TenantRegistry, now: Timestamp) -> Vec<(String, Report)> {
    let mut reports = Vec::new();
    for tenant in registry.tenants().iter().filter(|t| t.enabled) {
        match run(ports, tenant, now).await {
            Ok(report) => {
                if !report.processed.is_empty() {
                    tracing::info!(tenant = %tenant.id, files = report.processed.len(), "reconciliation job");
                }
                reports.push((tenant.id.clone(), report));
            }
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "reconciliation job"),
        }
    }
    reports
}

/// One run for one tenant at `now`, on the compiled-in layouts and rate cards.
pub async fn run(ports: &Ports, tenant: &TenantConfig, now: Timestamp) -> Result<Report, ReconcileError> {
    let layouts = Layouts::builtin().map_err(|e| ReconcileError::Layouts(e.to_string()))?;
    run_with(ports, tenant, now, layouts).await
}

/// One run over `layouts`.
pub async fn run_with(
    ports: &Ports,
    tenant: &TenantConfig,
    now: Timestamp,
    layouts: &Layouts,
) -> Result<Report, ReconcileError> {
    let table = TenantTable::new(ports.table.as_ref(), &tenant.id);
    let prefix = inbox_prefix(&tenant.id);
    let mut report = Report::default();
    let keys = ports.blobs.list(&prefix).await?;
    let mut read = 0;
    for key in keys {
        let layout_id = key.strip_prefix(&prefix).and_then(|rest| rest.split_once('/')).map(|(l, _)| l.to_owned());
        let Some((layout_id, layout)) = layout_id.and_then(|id| layouts.layouts.get(&id).map(|l| (id, l))) else {
            report.unknown_layout.push(key);
            continue;
        };
        // A key read before is not read again: its content is recorded under its hash.
        if invoices::inbox_key_read(&table, &key).await? {
            report.already_processed += 1;
            continue;
        }
        if read == MAX_FILES {
            report.deferred += 1;
            continue;
        }
        read += 1;
        let bytes = match ports.blobs.get(&key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(tenant = %tenant.id, key = %key, error = %e, "invoice file not readable");
                report.unreadable.push(key);
                continue;
            }
        };
        let hash = content_hash(&bytes);
        if invoices::get(&table, &hash).await?.is_some() {
            report.already_processed += 1;
            mark_read(&table, &key, &hash, now).await?;
            continue;
        }
        let record = match std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| layout::parse(layout, text).map_err(|e| e.to_string()))
        {
            Ok(invoice) => {
                reconcile_file(ports, &table, tenant, layouts, layout, &layout_id, &key, invoice, now).await?
            }
            Err(error) => InvoiceRecord {
                content_hash: hash.clone(),
                source_key: key.clone(),
                layout: layout_id.clone(),
                carrier: layout.carrier.clone(),
                invoice_number: String::new(),
                currency: layout.currency.to_string(),
                processed_at: now,
                lines: 0,
                totals: Totals::default(),
                discrepancies: Vec::new(),
                dispute_key: None,
                error: Some(error),
            },
        };
        match repo::save(&table, &record, Condition::NotExists).await {
            Ok(_) => report.processed.push(processed(&record)),
            // Another run finished the same file meanwhile.
            Err(StoreError::ConditionFailed) => report.already_processed += 1,
            Err(e) => return Err(e.into()),
        }
        mark_read(&table, &key, &hash, now).await?;
    }
    Ok(report)
}

async fn mark_read(table: &TenantTable<'_>, key: &str, hash: &str, now: Timestamp) -> Result<(), StoreError> {
    let record = InboxKeyRecord { key: key.to_owned(), content_hash: hash.to_owned(), read_at: now };
    match repo::save(table, &record, Condition::NotExists).await {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

fn processed(record: &InvoiceRecord) -> Processed {
    Processed {
        key: record.source_key.clone(),
        content_hash: record.content_hash.clone(),
        invoice_number: record.invoice_number.clone(),
        currency: record.currency.clone(),
        lines: record.lines,
        totals: record.totals,
        by_kind: record
            .by_kind()
            .into_iter()
            .map(|(kind, count, amount)| (kind, KindTotal { count, amount }))
            .collect(),
        dispute_key: record.dispute_key.clone(),
        error: record.error.clone(),
    }
}

/// Reconciles one parsed file: finds its shipments and what was billed before, stores the lines it bills and
/// its dispute file, and answers the record that marks it done (not yet stored).
#[allow(clippy::too_many_arguments)]
async fn reconcile_file(
    ports: &Ports,
    table: &TenantTable<'_>,
    tenant: &TenantConfig,
    layouts: &Layouts,
    layout: &Layout,
    layout_id: &str,
    key: &str,
    invoice: Invoice,
    now: Timestamp,
) -> Result<InvoiceRecord, ReconcileError> {
    let mut quoted = BTreeMap::new();
    let mut seen_before = BTreeSet::new();
    for line in &invoice.lines {
        if !quoted.contains_key(&line.tracking_number)
            && let Some(quote) = quoted_shipment(table, layout, &line.tracking_number).await?
        {
            quoted.insert(line.tracking_number.clone(), quote);
        }
        let billed = check::billed_key(line);
        // A line this same file stored on an earlier, interrupted run is not a duplicate of itself.
        if let Some(earlier) = invoices::billed_by(table, &invoice.carrier, &billed).await?
            && earlier.content_hash != invoice.content_hash
        {
            seen_before.insert(billed);
        }
    }
    let result = check::reconcile(&invoice, &quoted, card, layouts, &seen_before);
    for billed in &result.billed_keys {
        let record = BilledLineRecord {
            carrier: invoice.carrier.clone(),
            billed_key: billed.clone(),
            content_hash: invoice.content_hash.clone(),
            invoice_number: invoice.invoice_number.clone(),
        };
        match repo::save(table, &record, Condition::NotExists).await {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let dispute_key = dispute_key(&tenant.id, &invoice.invoice_number, &invoice.content_hash);
    let csv = dispute_csv(&result, invoice.currency).map_err(|e| BlobError::Backend(format!("dispute file: {e}")))?;
    ports.blobs.put(&dispute_key, csv.as_bytes(), "text/csv").await?;
    Ok(InvoiceRecord {
        content_hash: invoice.content_hash.clone(),
        source_key: key.to_owned(),
        layout: layout_id.to_owned(),
        carrier: invoice.carrier.clone(),
        invoice_number: invoice.invoice_number.clone(),
        currency: invoice.currency.to_string(),
        processed_at: now,
        lines: invoice.lines.len(),
        totals: result.totals,
        discrepancies: result.discrepancies,
        dispute_key: Some(dispute_key),
        error: None,
    })
}

fn card(id: &str) -> Option<&'static RateCard> {
    builtin().iter().flatten().find(|c| c.id == id)
}

/// The shipment a tracking number of `layout`'s carrier leads to, with what it was quoted on; `None` when no
/// shipment has the number, or its shipment was routed before quotes were kept.
async fn quoted_shipment(
    table: &TenantTable<'_>,
    layout: &Layout,
    tracking_number: &str,
) -> Result<Option<QuotedShipment>, StoreError> {
    for carrier in &layout.tracking_carriers {
        let Some(shipment_id) = tracking::shipment_for(table, carrier, tracking_number).await? else { continue };
        let Some(shipment) = shipments::get(table, &shipment_id).await? else { continue };
        let shipment = shipment.value;
        return Ok(shipment.quoted.map(|facts| quoted_from(&shipment.id, tracking_number, &shipment.line, facts)));
    }
    Ok(None)
}

/// The core's view of a stored quote.
pub fn quoted_from(shipment_id: &str, tracking_number: &str, line: &str, facts: QuotedFacts) -> QuotedShipment {
    QuotedShipment {
        shipment_id: shipment_id.to_owned(),
        tracking_number: tracking_number.to_owned(),
        line: line.to_owned(),
        zone: facts.zone,
        ship_date: facts.ship_date,
        grams: facts.grams,
        dimensions: facts.dimensions_mm.map(|[length_mm, width_mm, height_mm]| Dimensions {
            length_mm,
            width_mm,
            height_mm,
        }),
        residential: facts.residential,
        remote_area: facts.remote_area,
        postcode: facts.postcode,
        options: facts.options,
        charges: facts.charges,
    }
}
