//! The one status model every carrier's events are mapped onto.

use serde::{Deserialize, Serialize};

/// Where a parcel is, in the words a buyer and a seller share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The carrier has the shipment's data but not yet the parcel.
    InfoReceived,
    InTransit,
    OutForDelivery,
    DeliveryAttempted,
    AvailableForPickup,
    Delivered,
    /// Something went wrong; the event's [`Reason`] says what.
    Exception,
    ReturnedToSender,
    /// The carrier stopped reporting: no more events will come.
    Expired,
}

impl Status {
    /// Nothing after these moves the parcel on: the journey has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Delivered | Status::ReturnedToSender | Status::Expired)
    }

    /// Which of two events at the same instant is the later step: a scan file may list "out for delivery" and
    /// "delivered" with one timestamp, and the parcel is delivered, not out for delivery.
    pub fn progress(self) -> u8 {
        match self {
            Status::InfoReceived => 0,
            Status::InTransit => 1,
            Status::Exception => 2,
            Status::OutForDelivery => 3,
            Status::DeliveryAttempted => 4,
            Status::AvailableForPickup => 5,
            Status::Delivered => 6,
            Status::ReturnedToSender => 7,
            Status::Expired => 8,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::InfoReceived => "info_received",
            Status::InTransit => "in_transit",
            Status::OutForDelivery => "out_for_delivery",
            Status::DeliveryAttempted => "delivery_attempted",
            Status::AvailableForPickup => "available_for_pickup",
            Status::Delivered => "delivered",
            Status::Exception => "exception",
            Status::ReturnedToSender => "returned_to_sender",
            Status::Expired => "expired",
        }
    }
}

/// Why an attempt failed or an exception was raised: the claims job files damage and loss claims from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Damaged,
    Lost,
    RecipientRefused,
    RecipientUnavailable,
    AddressProblem,
    CustomsDelay,
    HeldForPayment,
    ExternalDelay,
    RejectedByCarrier,
    PickupNotCollected,
    ReturningToSender,
    Other,
}
