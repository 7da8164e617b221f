//! A shipment's journey: every event of every leg in one history, ordered by when it happened. Redelivered
//! events are recognised by their identity and change nothing; a late event older than the latest one takes its
//! place in the history and cannot move the current status back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::event::TrackingEvent;
use super::status::Status;

/// One carrier's part of the journey, under its own tracking number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    pub carrier: String,
    pub tracking_number: String,
    /// When the parcel was handed to this carrier (`None` for the first leg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub first_leg: Leg,
    /// Ordered by time, then by how far along each event is (see [`Status::progress`]), then by id.
    pub events: Vec<TrackingEvent>,
}

/// What applying a batch of events did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub added: usize,
    pub duplicates: usize,
    pub status_before: Option<Status>,
    pub status_after: Option<Status>,
}

impl Applied {
    pub fn status_changed(&self) -> bool {
        self.status_before != self.status_after
    }
}

impl Journey {
    /// A journey that starts with `carrier`'s tracking number.
    pub fn new(carrier: &str, tracking_number: &str) -> Journey {
        Journey {
            first_leg: Leg { carrier: carrier.to_owned(), tracking_number: tracking_number.to_owned(), since: None },
            events: Vec::new(),
        }
    }

    /// Adds the events this journey has not seen.
    pub fn apply(&mut self, events: impl IntoIterator<Item = TrackingEvent>) -> Applied {
        let mut applied = Applied { status_before: self.status(), ..Applied::default() };
        for event in events {
            if self.events.iter().any(|e| e.id == event.id) {
                applied.duplicates += 1;
            } else {
                self.events.push(event);
                applied.added += 1;
            }
        }
        self.events.sort_by(|a, b| {
            (a.occurred_at, a.status.progress(), &a.id).cmp(&(b.occurred_at, b.status.progress(), &b.id))
        });
        applied.status_after = self.status();
        applied
    }

    /// The latest event: the parcel's current state.
    pub fn current(&self) -> Option<&TrackingEvent> {
        self.events.last()
    }

    pub fn status(&self) -> Option<Status> {
        self.current().map(|e| e.status)
    }

    /// Every leg in order: the first, then one per handover.
    pub fn legs(&self) -> Vec<Leg> {
        let mut legs = vec![self.first_leg.clone()];
        for event in &self.events {
            if let Some(h) = &event.handover {
                let known = legs.iter().any(|l| l.carrier == h.carrier && l.tracking_number == h.tracking_number);
                if !known {
                    legs.push(Leg {
                        carrier: h.carrier.clone(),
                        tracking_number: h.tracking_number.clone(),
                        since: Some(event.occurred_at),
                    });
                }
            }
        }
        legs
    }

    /// The leg the parcel is on now: its tracking number is the one to show the buyer.
    pub fn active_leg(&self) -> Leg {
        self.legs().pop().unwrap_or_else(|| self.first_leg.clone())
    }

    /// When a carrier last reported the parcel.
    pub fn last_scan_at(&self) -> Option<Timestamp> {
        self.current().map(|e| e.occurred_at)
    }

    /// The first time a carrier had the parcel in hand (information alone does not count).
    pub fn first_scan_at(&self) -> Option<Timestamp> {
        self.events.iter().find(|e| e.status != Status::InfoReceived).map(|e| e.occurred_at)
    }

    pub fn delivered(&self) -> Option<&TrackingEvent> {
        self.events.iter().rev().find(|e| e.status == Status::Delivered)
    }
}
