//! The returns panel of the dashboard, rendered on the server: the tenant's returns by status (read through the
//! status index, never a scan), each with its order, what comes back, its destination, its disposition and the
//! value at stake. Every count carries `data-returns="<status>"` and every row `data-rma`, so a test reads them
//! without parsing their display. Nothing personal is shown: the buyer's address stays in the personal item.

use std::fmt::Write as _;

use lastmile_core::money::{Currency, Money};
use lastmile_core::returns::lifecycle::ReturnStatus;
use lastmile_platform::ports::table::{StoreError, TableStore, TenantTable};
use lastmile_platform::repo::returns::{self, ReturnRecord};

use super::page::escape;

/// Returns read per status.
const PER_STATUS: usize = 50;

/// The returns shown, by status in lifecycle order.
pub struct Panel {
    pub by_status: Vec<(ReturnStatus, Vec<ReturnRecord>)>,
}

pub async fn load(table: &dyn TableStore, tenant: &str) -> Result<Panel, StoreError> {
    let table = TenantTable::new(table, tenant);
    let mut by_status = Vec::new();
    for status in ReturnStatus::ALL {
        let found = returns::with_status(&table, status, PER_STATUS).await?;
        // Newest change first.
        let mut records: Vec<ReturnRecord> = found.into_iter().map(|v| v.value).collect();
        records.reverse();
        by_status.push((status, records));
    }
    Ok(Panel { by_status })
}

fn money(minor: i64, currency: &str) -> String {
    Currency::new(currency).map_or_else(|| format!("{minor} {currency}"), |c| Money::new(minor, c).to_string())
}

pub fn render(panel: &Panel) -> String {
    let total: usize = panel.by_status.iter().map(|(_, r)| r.len()).sum();
    let mut counts = String::from(r#"<ul class="tiles">"#);
    for (status, records) in &panel.by_status {
        let _ = write!(
            counts,
            r#"<li><span class="label">{label}</span> <b data-returns="{label}">{n}</b></li>"#,
            label = status.as_str(),
            n = records.len()
        );
    }
    counts.push_str("</ul>");
    let rows = if total == 0 {
        r#"<p class="empty">No returns.</p>"#.to_owned()
    } else {
        let mut out = String::from(
            "<table><thead><tr><th>RMA</th><th>Order</th><th>Status</th><th>Items</th><th>Destination</th><th>Disposition</th><th>Value</th><th>Label quote</th></tr></thead><tbody>",
        );
        for (status, records) in &panel.by_status {
            for r in records {
                let items: Vec<String> = r.items.iter().map(|i| format!("{} × {}", i.quantity, i.sku)).collect();
                let decided = r.final_disposition.as_ref().unwrap_or(&r.disposition);
                let _ = write!(
                    out,
                    r#"<tr data-rma="{rma}"><td>{rma}</td><td>{order}</td><td>{status}</td><td>{items}</td><td>{destination}</td><td title="{why}">{disposition}</td><td>{value}</td><td>{quote}</td></tr>"#,
                    rma = escape(&r.rma),
                    order = escape(&r.order_id),
                    status = status.as_str(),
                    items = escape(&items.join(", ")),
                    destination = escape(&r.route.name),
                    why = escape(&decided.explanation),
                    disposition = escape(decided.disposition.as_str()),
                    value = escape(&money(r.disposition.value_minor, &r.currency)),
                    quote = escape(&money(r.route.cost_minor, &r.route.currency)),
                );
            }
        }
        out.push_str("</tbody></table>");
        out
    };
    format!(
        r#"<section class="wide" id="returns">
    <h2>Returns</h2>
    {counts}
    {rows}
  </section>
  "#
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use lastmile_core::returns::disposition::Disposition;

    use super::*;

    fn a_return(rma: &str, status: ReturnStatus, disposition: Disposition) -> ReturnRecord {
        let mut record = ReturnRecord::sample(rma, "<1001>", status, "2026-12-04T15:00:00Z".parse().unwrap());
        record.disposition.disposition = disposition;
        record
    }

    #[test]
    fn returns_are_listed_by_status_with_disposition_and_value_escaped() {
        let panel = Panel {
            by_status: ReturnStatus::ALL
                .iter()
                .map(|&s| {
                    let records = match s {
                        ReturnStatus::Approved => vec![a_return("RMA-1", s, Disposition::Restock)],
                        ReturnStatus::Refunded => vec![a_return("RMA-2", s, Disposition::ReturnlessRefund)],
                        _ => Vec::new(),
                    };
                    (s, records)
                })
                .collect(),
        };
        let html = render(&panel);
        assert!(html.contains(r#"data-returns="approved">1<"#) && html.contains(r#"data-returns="in_transit">0<"#));
        assert!(
            html.contains(r#"<tr data-rma="RMA-1"><td>RMA-1</td><td>&lt;1001&gt;</td><td>approved</td>"#),
            "{html}"
        );
        assert!(html.contains(">returnless refund</td><td>89.00 USD</td><td>7.00 USD</td>"), "{html}");
        let empty = Panel { by_status: ReturnStatus::ALL.iter().map(|&s| (s, Vec::new())).collect() };
        assert!(render(&empty).contains("No returns."));
    }
}
