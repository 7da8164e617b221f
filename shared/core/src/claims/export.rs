//! The claims to file with one carrier, as a CSV file (RFC 4180 quoting by the `csv` crate).

use serde::Serialize;

use super::pipeline::Claim;

#[derive(Serialize)]
struct Row<'a> {
    claim_id: &'a str,
    tracking_number: &'a str,
    shipment_id: &'a str,
    line: &'a str,
    claim_type: &'a str,
    amount: String,
    currency: &'a str,
    deadline: String,
    status: &'a str,
    evidence: &'a str,
    arithmetic: &'a str,
}

/// `claims` of `carrier`, one row each, sorted by claim id so the same claims always give the same file.
pub fn carrier_csv(claims: &[Claim], carrier: &str) -> Result<String, csv::Error> {
    let mut rows: Vec<&Claim> = claims.iter().filter(|c| c.candidate.carrier == carrier).collect();
    rows.sort_by(|a, b| a.id().cmp(b.id()));
    let mut writer = csv::Writer::from_writer(Vec::new());
    for claim in rows {
        let c = &claim.candidate;
        let amount = c.amount.to_string();
        // "123.45 USD" → "123.45": the currency has its own column.
        let amount = amount.split(' ').next().unwrap_or_default().to_owned();
        let row = Row {
            claim_id: &c.id,
            tracking_number: &c.tracking_number,
            shipment_id: &c.shipment_id,
            line: &c.line,
            claim_type: c.claim_type.as_str(),
            amount,
            currency: c.amount.currency.as_str(),
            deadline: c.deadline.to_string(),
            status: claim.status.as_str(),
            evidence: &c.evidence,
            arithmetic: &c.arithmetic,
        };
        writer.serialize(row)?;
    }
    if claims.iter().all(|c| c.candidate.carrier != carrier) {
        // An empty export still has its header, so the carrier's import sees a well-formed file.
        writer.write_record(HEADER)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every field came from a `&str`.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

const HEADER: [&str; 11] = [
    "claim_id",
    "tracking_number",
    "shipment_id",
    "line",
    "claim_type",
    "amount",
    "currency",
    "deadline",
    "status",
    "evidence",
    "arithmetic",
];
