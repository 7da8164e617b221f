//! The claims panel of the dashboard, rendered on the server: the claims by carrier and status with their count and
//! amount (per currency: amounts in different currencies are never added), and the open ones (draft, filed,
//! approved) by filing deadline, a passed deadline marked. Counts carry `data-claims="<carrier>|<status>"` and
//! their raw number in `data-value`, for tests and scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use lastmile_core::claims::pipeline::ClaimStatus;
use lastmile_core::money::Money;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::table::{StoreError, TableStore, TenantTable};
use lastmile_platform::repo::claims::{self, ClaimRecord};

use super::page::escape;

/// Claims read for the panel at most.
const MAX_CLAIMS: usize = 2_000;
/// Open claims listed.
const OPEN_SHOWN: usize = 50;

pub async fn load(table: &dyn TableStore, tenant: &TenantConfig) -> Result<Vec<ClaimRecord>, StoreError> {
    claims::list(&TenantTable::new(table, &tenant.id), None, None, MAX_CLAIMS).await
}

/// Count and amounts per currency of a group of claims.
#[derive(Default)]
struct Sum {
    count: u64,
    amounts: BTreeMap<String, Money>,
}

impl Sum {
    fn add(&mut self, amount: Money) {
        self.count += 1;
        let total = self.amounts.entry(amount.currency.as_str().to_owned()).or_insert(Money::new(0, amount.currency));
        total.minor += amount.minor;
    }

    fn shown(&self) -> String {
        let amounts: Vec<String> = self.amounts.values().map(Money::to_string).collect();
        format!("{} · {}", self.count, amounts.join(" + "))
    }
}

/// The panel's section, for the dashboard's `<main>`.
pub fn render(claims: &[ClaimRecord], today: Date) -> String {
    format!(
        r#"<section class="wide" id="claims">
    <h2>Claims</h2>
    {by_carrier}
    <h3>Open claims by filing deadline</h3>
    {open}
  </section>
  "#,
        by_carrier = by_carrier(claims),
        open = open(claims, today),
    )
}

fn by_carrier(claims: &[ClaimRecord]) -> String {
    if claims.is_empty() {
        return r#"<p class="empty">No claims: the claims job raises them daily.</p>"#.to_owned();
    }
    let mut sums: BTreeMap<&str, BTreeMap<ClaimStatus, Sum>> = BTreeMap::new();
    for record in claims {
        sums.entry(record.carrier())
            .or_default()
            .entry(record.claim.status)
            .or_default()
            .add(record.claim.candidate.amount);
    }
    let mut out = String::from("<table><thead><tr><th>Carrier</th>");
    for status in ClaimStatus::ALL {
        let _ = write!(out, "<th>{}</th>", status.as_str());
    }
    out.push_str("</tr></thead><tbody>");
    for (carrier, statuses) in &sums {
        let _ = write!(out, r#"<tr data-carrier="{c}"><td>{c}</td>"#, c = escape(carrier));
        for status in ClaimStatus::ALL {
            match statuses.get(&status) {
                Some(sum) => {
                    let _ = write!(
                        out,
                        r#"<td data-claims="{c}|{s}" data-value="{n}">{shown}</td>"#,
                        c = escape(carrier),
                        s = status.as_str(),
                        n = sum.count,
                        shown = escape(&sum.shown()),
                    );
                }
                None => out.push_str("<td>—</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn open(claims: &[ClaimRecord], today: Date) -> String {
    let mut open: Vec<&ClaimRecord> = claims
        .iter()
        .filter(|c| matches!(c.claim.status, ClaimStatus::Draft | ClaimStatus::Filed | ClaimStatus::Approved))
        .collect();
    if open.is_empty() {
        return r#"<p class="empty">No open claims.</p>"#.to_owned();
    }
    open.sort_by(|a, b| (a.claim.candidate.deadline, a.id()).cmp(&(b.claim.candidate.deadline, b.id())));
    let mut out = String::from(
        "<table><thead><tr><th>Deadline</th><th>Claim</th><th>Type</th><th>Carrier</th><th>Tracking</th><th>Amount</th><th>Status</th></tr></thead><tbody>",
    );
    for record in open.into_iter().take(OPEN_SHOWN) {
        let c = &record.claim.candidate;
        // A draft past its deadline can no longer be filed; a filed one waits on the carrier.
        let passed = record.claim.status == ClaimStatus::Draft && c.deadline < today;
        let _ = write!(
            out,
            r#"<tr data-claim="{id}"><td class="{class}">{deadline}</td><td>{id}</td><td>{kind}</td><td>{carrier}</td><td>{number}</td><td title="{arithmetic}">{amount}</td><td>{status}</td></tr>"#,
            id = escape(&c.id),
            class = if passed { "late" } else { "" },
            deadline = c.deadline,
            kind = c.claim_type.as_str(),
            carrier = escape(&c.carrier),
            number = escape(&c.tracking_number),
            arithmetic = escape(&c.arithmetic),
            amount = escape(&c.amount.to_string()),
            status = record.claim.status.as_str(),
        );
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jiff::civil::date;
    use lastmile_core::claims::detect::Candidate;
    use lastmile_core::claims::pipeline::Claim;
    use lastmile_core::claims::terms::ClaimType;
    use lastmile_core::money::Currency;

    use super::*;

    fn record(id: &str, carrier: &str, minor: i64, currency: &str, deadline: Date, status: ClaimStatus) -> ClaimRecord {
        let candidate = Candidate {
            id: id.into(),
            shipment_id: id.split('#').next().unwrap().into(),
            line: "line".into(),
            carrier: carrier.into(),
            tracking_number: "TN<1>".into(),
            claim_type: ClaimType::Lost,
            amount: Money::new(minor, Currency::new(currency).unwrap()),
            arithmetic: "a".into(),
            evidence: "e".into(),
            deadline,
            deadline_passed: false,
        };
        let at = "2026-12-01T00:00:00Z".parse().unwrap();
        ClaimRecord {
            tenant: "acme".into(),
            claim: Claim { status, ..Claim::draft(candidate) },
            history: Vec::new(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn claims_are_summed_per_carrier_and_status_in_their_currencies_and_open_ones_listed_by_deadline() {
        let claims = [
            record("b#lost", "Parcel & Co", 6_000, "USD", date(2027, 1, 15), ClaimStatus::Draft),
            record("a#lost", "Parcel & Co", 1_390, "USD", date(2026, 11, 30), ClaimStatus::Draft),
            record("c#lost", "Parcel & Co", 1_750, "GBP", date(2026, 12, 30), ClaimStatus::Draft),
            record("d#lost", "Courier", 500, "EUR", date(2026, 12, 20), ClaimStatus::Paid),
        ];
        let html = render(&claims, date(2026, 12, 1));
        // Drafts of Parcel & Co: 3 claims, 60.00 + 13.90 = 73.90 USD, and 17.50 GBP apart.
        assert!(
            html.contains(r#"data-claims="Parcel &amp; Co|draft" data-value="3">3 · 17.50 GBP + 73.90 USD</td>"#),
            "{html}"
        );
        assert!(html.contains(r#"data-claims="Courier|paid" data-value="1">1 · 5.00 EUR</td>"#), "{html}");
        // Open ones by deadline; the paid one is not open; the draft past its deadline is marked.
        let a = html.find(r#"data-claim="a#lost""#).unwrap();
        let c = html.find(r#"data-claim="c#lost""#).unwrap();
        let b = html.find(r#"data-claim="b#lost""#).unwrap();
        assert!(a < c && c < b);
        assert!(!html.contains(r#"data-claim="d#lost""#));
        assert!(html.contains(r#"<td class="late">2026-11-30</td>"#));
        assert!(html.contains("TN&lt;1&gt;"), "escaped");
        assert!(render(&[], date(2026, 12, 1)).contains("No claims"));
    }
}
