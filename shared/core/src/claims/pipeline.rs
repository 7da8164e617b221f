//! A claim's life: draft → filed → approved | denied, approved → paid. Illegal moves are refused, so a retried
//! move to the status a claim already has is recognised rather than applied twice.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::detect::Candidate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Draft,
    Filed,
    Approved,
    Denied,
    Paid,
}

impl ClaimStatus {
    pub const ALL: [ClaimStatus; 5] =
        [ClaimStatus::Draft, ClaimStatus::Filed, ClaimStatus::Approved, ClaimStatus::Denied, ClaimStatus::Paid];

    pub fn parse(name: &str) -> Option<ClaimStatus> {
        ClaimStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Draft => "draft",
            ClaimStatus::Filed => "filed",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Denied => "denied",
            ClaimStatus::Paid => "paid",
        }
    }

    fn can_move_to(self, next: ClaimStatus) -> bool {
        use ClaimStatus::*;
        matches!((self, next), (Draft, Filed) | (Filed, Approved) | (Filed, Denied) | (Approved, Paid))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    #[serde(flatten)]
    pub candidate: Candidate,
    pub status: ClaimStatus,
    pub filed_on: Option<Date>,
    /// The day it was paid or denied.
    pub closed_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("claim {id} cannot move from {from} to {to}")]
    Illegal { id: String, from: &'static str, to: &'static str },
    #[error("claim {id} is already {status}")]
    AlreadyThere { id: String, status: &'static str },
}

impl Claim {
    pub fn draft(candidate: Candidate) -> Claim {
        Claim { candidate, status: ClaimStatus::Draft, filed_on: None, closed_on: None }
    }

    pub fn id(&self) -> &str {
        &self.candidate.id
    }

    /// Moves the claim to `next` on `on`.
    pub fn advance(&mut self, next: ClaimStatus, on: Date) -> Result<(), PipelineError> {
        if self.status == next {
            return Err(PipelineError::AlreadyThere { id: self.id().to_owned(), status: next.as_str() });
        }
        if !self.status.can_move_to(next) {
            return Err(PipelineError::Illegal {
                id: self.id().to_owned(),
                from: self.status.as_str(),
                to: next.as_str(),
            });
        }
        match next {
            ClaimStatus::Filed => self.filed_on = Some(on),
            ClaimStatus::Paid | ClaimStatus::Denied => self.closed_on = Some(on),
            ClaimStatus::Draft | ClaimStatus::Approved => {}
        }
        self.status = next;
        Ok(())
    }

    /// Calendar days from filing to payment or denial: the KPI's cycle time. None while open.
    pub fn cycle_time_days(&self) -> Option<i32> {
        let (filed, closed) = (self.filed_on?, self.closed_on?);
        Some((closed - filed).get_days())
    }
}

/// The claims to create from `candidates`: those whose id neither `existing` nor an earlier candidate has.
/// Running the job again over the same facts therefore creates nothing.
pub fn new_claims<'a>(existing: impl IntoIterator<Item = &'a Claim>, candidates: Vec<Candidate>) -> Vec<Claim> {
    let mut seen: std::collections::BTreeSet<String> = existing.into_iter().map(|c| c.id().to_owned()).collect();
    candidates.into_iter().filter(|c| seen.insert(c.id.clone())).map(Claim::draft).collect()
}
