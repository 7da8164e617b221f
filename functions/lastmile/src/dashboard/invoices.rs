//! The reconciliation panel of the dashboard: the carrier invoice files the job processed, each with its billed,
//! quoted and disputed totals and a link to its dispute file, and the discrepancies of all of them by kind.
//! Amounts carry `data-minor` (minor units) and `data-currency`, so a test reads them without parsing their
//! display.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lastmile_core::money::{Currency, Money};
use lastmile_core::reconcile::check::Kind;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::table::{TableStore, TenantTable};
use lastmile_platform::repo::invoices::{self, InvoiceRecord};

use super::page::escape;

/// Files listed.
const FILES_SHOWN: usize = 20;

/// The panel, read from the store; a store that does not answer is said in the panel.
pub async fn section(table: &dyn TableStore, tenant: &TenantConfig) -> String {
    match invoices::recent(&TenantTable::new(table, &tenant.id), FILES_SHOWN).await {
        Ok(records) => render(&records),
        Err(e) => {
            tracing::error!(error = %e, "dashboard invoices");
            r#"<section class="wide" id="invoices"><h2>Invoice reconciliation</h2><p class="problem" role="alert">The store did not answer: reload to try again.</p></section>"#.to_owned()
        }
    }
}

fn amount(minor: i64, currency: &str) -> String {
    let shown =
        Currency::new(currency).map_or_else(|| format!("{minor} {currency}"), |c| Money::new(minor, c).to_string());
    format!(r#"<span data-minor="{minor}" data-currency="{c}">{s}</span>"#, c = escape(currency), s = escape(&shown))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Overcharge => "overcharge",
        Kind::SurchargeNotQuoted => "surcharge not quoted",
        Kind::Duplicate => "duplicate",
        Kind::UnknownTrackingNumber => "unknown tracking number",
        Kind::WeightAdjustment => "weight adjustment (accepted)",
        Kind::NotRerated => "not re-rated",
    }
}

pub fn render(records: &[InvoiceRecord]) -> String {
    if records.is_empty() {
        return r#"<section class="wide" id="invoices"><h2>Invoice reconciliation</h2><p class="empty">No carrier invoice processed yet: drop the files in the inbox (see docs/claims.md).</p></section>"#.to_owned();
    }
    let mut files = String::from(
        "<table><thead><tr><th>Invoice</th><th>Carrier</th><th>Lines</th><th>Billed</th><th>Quoted</th><th>Disputed</th><th>Accepted</th><th>Dispute file</th></tr></thead><tbody>",
    );
    // By kind and currency: amounts in different currencies are never added.
    let mut kinds: BTreeMap<(Kind, String), (usize, i64)> = BTreeMap::new();
    for r in records {
        for (kind, count, sum) in r.by_kind() {
            let entry = kinds.entry((kind, r.currency.clone())).or_default();
            entry.0 += count;
            entry.1 += sum;
        }
        let hex = r.content_hash.trim_start_matches("sha256:");
        let dispute = match (&r.error, &r.dispute_key) {
            (Some(error), _) => format!(r#"<span class="problem">unreadable: {}</span>"#, escape(error)),
            (None, Some(_)) => format!(r#"<a href="/v1/invoices/{hex}/dispute">CSV</a>"#),
            (None, None) => "—".to_owned(),
        };
        let t = r.totals;
        let _ = write!(
            files,
            r#"<tr data-invoice="{hash}"><td>{number}</td><td>{carrier}</td><td>{lines}</td><td>{billed}</td><td>{quoted}</td><td>{disputed}</td><td>{accepted}</td><td>{dispute}</td></tr>"#,
            hash = escape(&r.content_hash),
            number = escape(&r.invoice_number),
            carrier = escape(&r.carrier),
            lines = r.lines,
            billed = amount(t.billed, &r.currency),
            quoted = amount(t.quoted, &r.currency),
            disputed = amount(t.disputed, &r.currency),
            accepted = amount(t.accepted_adjustments, &r.currency),
        );
    }
    files.push_str("</tbody></table>");
    let by_kind = if kinds.is_empty() {
        r#"<p class="empty">No discrepancies.</p>"#.to_owned()
    } else {
        let mut out = String::from("<table><thead><tr><th>Kind</th><th>Count</th><th>Amount</th></tr></thead><tbody>");
        for ((kind, currency), (count, sum)) in &kinds {
            let _ = write!(
                out,
                r#"<tr data-kind="{name}"><td>{name}</td><td>{count}</td><td>{sum}</td></tr>"#,
                name = kind_name(*kind),
                sum = amount(*sum, currency),
            );
        }
        out.push_str("</tbody></table>");
        out
    };
    format!(
        r#"<section class="wide" id="invoices">
    <h2>Invoice reconciliation</h2>
    {files}
    <h3>Discrepancies by kind</h3>
    {by_kind}
  </section>
  "#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lastmile_core::reconcile::check::{Discrepancy, Totals};

    fn discrepancy(kind: Kind, amount: i64) -> Discrepancy {
        Discrepancy {
            tracking_number: "1Z".into(),
            file_line: 2,
            kind,
            charge: "base".into(),
            billed: 0,
            expected: 0,
            amount,
            disputed: kind != Kind::WeightAdjustment,
            reason: "<why>".into(),
        }
    }

    #[test]
    fn files_show_their_totals_and_kinds_add_up_across_files() {
        let record = |hash: &str, number: &str| InvoiceRecord {
            content_hash: format!("sha256:{hash}"),
            source_key: "invoices/inbox/acme/example-parcel-us/a.csv".into(),
            layout: "example-parcel-us".into(),
            carrier: "Example Parcel".into(),
            invoice_number: number.into(),
            currency: "USD".into(),
            processed_at: "2026-12-01T00:00:00Z".parse().unwrap(),
            lines: 2,
            totals: Totals { billed: 4000, quoted: 3500, disputed: 300, accepted_adjustments: 200 },
            discrepancies: vec![discrepancy(Kind::Overcharge, 300), discrepancy(Kind::WeightAdjustment, 200)],
            dispute_key: Some("invoices/disputes/acme/x.csv".into()),
            error: None,
        };
        let html = render(&[record("aa", "INV<1>"), record("bb", "INV-2")]);
        assert!(html.contains(r#"<a href="/v1/invoices/aa/dispute">CSV</a>"#));
        assert!(html.contains("INV&lt;1&gt;"), "escaped");
        assert!(html.contains(r#"<span data-minor="4000" data-currency="USD">"#));
        // Two files' overcharges: 300 + 300.
        assert!(
            html.contains(r#"<tr data-kind="overcharge"><td>overcharge</td><td>2</td><td><span data-minor="600""#),
            "{html}"
        );
        assert!(render(&[]).contains("No carrier invoice processed yet"));
    }
}
