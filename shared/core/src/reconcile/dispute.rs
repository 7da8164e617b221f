//! The dispute file of one invoice: every disputed discrepancy as a CSV row for the carrier's billing team.

use serde::Serialize;

use super::check::Reconciliation;
use crate::money::{Currency, Money};

#[derive(Serialize)]
struct Row<'a> {
    invoice: &'a str,
    tracking_number: &'a str,
    file_line: u64,
    kind: &'a str,
    charge: &'a str,
    billed: String,
    expected: String,
    disputed: String,
    currency: &'a str,
    reason: &'a str,
}

/// The disputed lines of `reconciliation`, in file order, amounts as decimals of `currency`.
pub fn dispute_csv(reconciliation: &Reconciliation, currency: Currency) -> Result<String, csv::Error> {
    let decimal = |minor: i64| Money::new(minor, currency).to_decimal().to_string();
    let mut writer = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    let mut rows: Vec<_> = reconciliation.discrepancies.iter().filter(|d| d.disputed).collect();
    rows.sort_by_key(|d| (d.file_line, d.charge.clone()));
    if rows.is_empty() {
        writer.write_record([
            "invoice",
            "tracking_number",
            "file_line",
            "kind",
            "charge",
            "billed",
            "expected",
            "disputed",
            "currency",
            "reason",
        ])?;
    }
    for d in rows {
        let kind = serde_json::to_value(d.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        writer.serialize(Row {
            invoice: &reconciliation.invoice_number,
            tracking_number: &d.tracking_number,
            file_line: d.file_line,
            kind: &kind,
            charge: &d.charge,
            billed: decimal(d.billed),
            expected: decimal(d.expected),
            disputed: decimal(d.amount),
            currency: currency.as_str(),
            reason: &d.reason,
        })?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every field came from a `&str`.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
