//! Carrier claims: the core [`Claim`] (one per shipment and type, `{shipment}#{type}`) with its tenant and the
//! history of its status moves. Stored under the shipment's partition, so the claims job reads a shipment's claims
//! with one key-range query; listed through two indexes, never by scanning: by status (gsi1, ordered by filing
//! deadline) and by carrier (gsi2, ordered by status, then deadline).

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::claims::pipeline::{Claim, ClaimStatus};
use serde::{Deserialize, Serialize};

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, SkRange, StoreError, TenantTable};

/// One move of the pipeline, as it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: ClaimStatus,
    /// The business day it counts from (filing and closing dates give the cycle time).
    pub on: Date,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub tenant: String,
    /// The claim: its candidate (carrier, tracking number, amount, deadline, evidence) and status.
    pub claim: Claim,
    /// Every status the claim has had, the draft first.
    pub history: Vec<StatusChange>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ClaimRecord {
    pub fn id(&self) -> &str {
        self.claim.id()
    }

    pub fn carrier(&self) -> &str {
        &self.claim.candidate.carrier
    }
}

pub const BY_STATUS: &str = "claims";
pub const BY_CARRIER: &str = "claims-by-carrier";

/// `{shipment}#{type}` → the shipment's partition and the type's sort key.
pub fn key(claim_id: &str) -> Key {
    let (shipment, claim_type) = claim_id.rsplit_once('#').unwrap_or((claim_id, ""));
    Key::new(format!("shipment#{shipment}"), format!("claim#{claim_type}"))
}

impl Record for ClaimRecord {
    fn key(&self) -> Key {
        key(self.id())
    }
    fn indexes(&self) -> Vec<(&'static str, Key)> {
        let (status, deadline, id) = (self.claim.status.as_str(), self.claim.candidate.deadline, self.id());
        vec![
            ("gsi1", Key::new(format!("{BY_STATUS}#{status}"), format!("{deadline}#{id}"))),
            ("gsi2", Key::new(format!("{BY_CARRIER}#{}", self.carrier()), format!("{status}#{deadline}#{id}"))),
        ]
    }
}

pub async fn get(table: &TenantTable<'_>, claim_id: &str) -> Result<Option<Versioned<ClaimRecord>>, StoreError> {
    if !claim_id.contains('#') {
        return Ok(None);
    }
    super::load(table, &key(claim_id)).await
}

/// Every claim of one shipment.
pub async fn of_shipment(table: &TenantTable<'_>, shipment_id: &str) -> Result<Vec<ClaimRecord>, StoreError> {
    let query = Query::partition(format!("shipment#{shipment_id}")).sk(SkRange::Prefix("claim#".into()));
    Ok(query_all(table, query, 10).await?.into_iter().map(|v| v.value).collect())
}

/// Claims by status and carrier, earliest deadline first (by carrier: by status, then deadline), at most `cap`.
pub async fn list(
    table: &TenantTable<'_>,
    status: Option<ClaimStatus>,
    carrier: Option<&str>,
    cap: usize,
) -> Result<Vec<ClaimRecord>, StoreError> {
    let mut out: Vec<ClaimRecord> = Vec::new();
    match (carrier, status) {
        (Some(carrier), status) => {
            let range = status.map_or(SkRange::All, |s| SkRange::Prefix(format!("{}#", s.as_str())));
            let query = Query::index("gsi2", format!("{BY_CARRIER}#{carrier}")).sk(range);
            out.extend(query_all::<ClaimRecord>(table, query, cap).await?.into_iter().map(|v| v.value));
        }
        (None, status) => {
            let statuses = status.map_or_else(|| ClaimStatus::ALL.to_vec(), |s| vec![s]);
            for status in statuses {
                let query = Query::index("gsi1", format!("{BY_STATUS}#{}", status.as_str())).sk(SkRange::All);
                out.extend(query_all::<ClaimRecord>(table, query, cap).await?.into_iter().map(|v| v.value));
            }
        }
    }
    out.truncate(cap);
    Ok(out)
}
