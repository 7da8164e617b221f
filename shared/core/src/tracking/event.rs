//! One carrier event, mapped: what every adapter produces and every job reads.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::status::{Reason, Status};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// The event's identity: the carrier's event id when it sends one, else a hash of its content
    /// ([`content_id`]), so a redelivered event is recognised either way.
    pub id: String,
    /// Which carrier's table mapped it (`fedex`, `aftership`, `parcelnet` …).
    pub carrier: String,
    pub tracking_number: String,
    pub occurred_at: Timestamp,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The carrier's own code, kept as evidence.
    pub code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The parcel passes to another carrier under a new tracking number (a local last-mile partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<Handover>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Pod>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub carrier: String,
    pub tracking_number: String,
}

/// Proof of delivery as the carrier reports it; the files themselves go to the blob store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    /// Where the driver was at delivery: (latitude, longitude).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<(f64, f64)>,
    /// When the proof was taken (a device clock; may differ from the event's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PodFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodKind {
    Signature,
    Photo,
}

/// A POD file the carrier sent or linked: its kind and name in the carrier's message; once archived, its blob
/// key and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodFile {
    pub kind: PodKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// An identity for an event that carries none: SHA-256 over what makes it that event — carrier, tracking
/// number, carrier code, time and place — so the same scan sent twice has one id and two scans differ.
pub fn content_id(carrier: &str, tracking_number: &str, code: &str, occurred_at: Timestamp, place: &str) -> String {
    let mut hash = Sha256::new();
    for part in [carrier, tracking_number, code, &occurred_at.to_string(), place] {
        hash.update(part.as_bytes());
        // A separator no field holds, so ("ab","c") and ("a","bc") differ.
        hash.update([0x1f]);
    }
    format!("h:{}", &hex::encode(hash.finalize())[..32])
}
