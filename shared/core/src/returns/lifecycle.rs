//! A return's life: requested → approved → label issued → in transit → received → inspected → disposed or
//! refunded; a returnless refund goes from approved straight to refunded; a request may be rejected. Tracking
//! events of the return label move it on; a stale or repeated event changes nothing.

use serde::{Deserialize, Serialize};

use crate::tracking::status::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Rejected,
    Approved,
    LabelIssued,
    InTransit,
    Received,
    Inspected,
    Disposed,
    Refunded,
}

impl ReturnStatus {
    /// Every status, in the order a return goes through them.
    pub const ALL: [ReturnStatus; 9] = [
        ReturnStatus::Requested,
        ReturnStatus::Rejected,
        ReturnStatus::Approved,
        ReturnStatus::LabelIssued,
        ReturnStatus::InTransit,
        ReturnStatus::Received,
        ReturnStatus::Inspected,
        ReturnStatus::Disposed,
        ReturnStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Approved => "approved",
            ReturnStatus::LabelIssued => "label_issued",
            ReturnStatus::InTransit => "in_transit",
            ReturnStatus::Received => "received",
            ReturnStatus::Inspected => "inspected",
            ReturnStatus::Disposed => "disposed",
            ReturnStatus::Refunded => "refunded",
        }
    }

    pub fn can_move_to(self, next: ReturnStatus) -> bool {
        use ReturnStatus::*;
        matches!(
            (self, next),
            (Requested, Approved)
                | (Requested, Rejected)
                | (Approved, LabelIssued)
                | (Approved, Refunded)
                | (LabelIssued, InTransit)
                | (LabelIssued, Received)
                | (InTransit, Received)
                | (Received, Inspected)
                | (Inspected, Disposed)
                | (Inspected, Refunded)
                | (Disposed, Refunded)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a return cannot move from {from:?} to {to:?}")]
pub struct IllegalMove {
    pub from: ReturnStatus,
    pub to: ReturnStatus,
}

/// `current` moved to `next`, or why not.
pub fn advance(current: ReturnStatus, next: ReturnStatus) -> Result<ReturnStatus, IllegalMove> {
    if current.can_move_to(next) { Ok(next) } else { Err(IllegalMove { from: current, to: next }) }
}

/// The status a tracking event of the return label leaves the return in: moved on when the event is the next
/// step, unchanged when it is stale, repeated or not a step of a return.
pub fn on_tracking(current: ReturnStatus, event: Status) -> ReturnStatus {
    let next = match event {
        Status::InTransit | Status::OutForDelivery | Status::DeliveryAttempted => ReturnStatus::InTransit,
        Status::Delivered => ReturnStatus::Received,
        _ => return current,
    };
    advance(current, next).unwrap_or(current)
}

#[cfg(test)]
mod tests {
    use super::ReturnStatus::*;
    use super::*;

    #[test]
    fn the_whole_way_and_its_shortcut() {
        let mut status = Requested;
        for next in [Approved, LabelIssued, InTransit, Received, Inspected, Disposed, Refunded] {
            status = advance(status, next).unwrap();
        }
        assert_eq!(status, Refunded);
        assert_eq!(advance(Approved, Refunded), Ok(Refunded), "a returnless refund");
        assert_eq!(advance(Requested, Received), Err(IllegalMove { from: Requested, to: Received }));
        assert!(advance(Refunded, Requested).is_err());
        assert!(advance(Rejected, Approved).is_err());
    }

    #[test]
    fn tracking_events_move_it_and_repeats_or_stale_ones_do_not() {
        let status = on_tracking(LabelIssued, Status::InTransit);
        assert_eq!(status, InTransit);
        assert_eq!(on_tracking(status, Status::InTransit), InTransit);
        let status = on_tracking(status, Status::Delivered);
        assert_eq!(status, Received);
        // A late-arriving transit scan after delivery, and an exception, change nothing.
        assert_eq!(on_tracking(status, Status::InTransit), Received);
        assert_eq!(on_tracking(LabelIssued, Status::Exception), LabelIssued);
        // A delivery scan without any transit scan still receives the return.
        assert_eq!(on_tracking(LabelIssued, Status::Delivered), Received);
        // Before a label exists, tracking cannot move it.
        assert_eq!(on_tracking(Approved, Status::Delivered), Approved);
    }
}
