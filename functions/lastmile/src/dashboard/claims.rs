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
