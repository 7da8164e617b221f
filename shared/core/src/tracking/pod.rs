//! Proof of delivery, checked: is the proof the line requires there, was the driver near the address, and is the
//! delivery time believable. The answers are a dispute pack's "checks": each says what was compared with what.

use std::collections::BTreeMap;

use geo::{Distance, Haversine, Point};
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::event::{PodKind, TrackingEvent};
use super::status::Status;

/// What proof a line's deliveries must carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodRequirement {
    #[default]
    None,
    Signature,
    Photo,
    SignatureOrPhoto,
    SignatureAndPhoto,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodPolicy {
    #[serde(default)]
    pub required: PodRequirement,
    /// Whether the delivery must carry the driver's GPS position.
    #[serde(default)]
    pub gps: bool,
}

/// How built-up the delivery address's area is: a driver's GPS strays further from a rural address's
/// postcode centroid than from a city one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaType {
    Urban,
    Suburban,
    Rural,
    Remote,
}

/// When a delivery looks wrong. Configurable per tenant; the defaults are deliberately loose, since the
/// address point is often a postcode centroid rather than the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspectRules {
    /// Largest believable distance in metres between the delivery GPS and the address point, by area type.
    #[serde(default = "default_distances")]
    pub max_distance_m: BTreeMap<AreaType, u32>,
    /// Deliveries outside these local hours are implausible.
    #[serde(default = "default_earliest")]
    pub earliest_local: Time,
    #[serde(default = "default_latest")]
    pub latest_local: Time,
}

fn default_distances() -> BTreeMap<AreaType, u32> {
    BTreeMap::from([
        (AreaType::Urban, 1_000),
        (AreaType::Suburban, 2_500),
        (AreaType::Rural, 8_000),
        (AreaType::Remote, 25_000),
    ])
}

fn default_earliest() -> Time {
    Time::constant(6, 0, 0, 0)
}

fn default_latest() -> Time {
    Time::constant(22, 0, 0, 0)
}

impl Default for SuspectRules {
    fn default() -> Self {
        SuspectRules {
            max_distance_m: default_distances(),
            earliest_local: default_earliest(),
            latest_local: default_latest(),
        }
    }
}

/// One check of a delivery and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodAssessment {
    pub checks: Vec<Check>,
    pub pod_missing: bool,
    pub suspect_delivery: bool,
}

/// What is known about where the parcel should have gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// The address's point (a geocode or the postcode's centroid), latitude and longitude.
    pub point: Option<(f64, f64)>,
    pub area: AreaType,
    pub zone: TimeZone,
}

/// Great-circle distance in metres, by the `geo` crate's haversine.
pub fn distance_m((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    Haversine.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// Checks the delivered event against the policy and the rules; `history` is the journey's events in time
/// order (scans after the delivery make it doubtful).
pub fn assess(
    delivered: &TrackingEvent,
    history: &[TrackingEvent],
    policy: &PodPolicy,
    rules: &SuspectRules,
    destination: &Destination,
) -> PodAssessment {
    let pod = delivered.pod.as_ref();
    let has = |kind: PodKind| pod.is_some_and(|p| p.files.iter().any(|f| f.kind == kind));
    let (signature, photo) = (has(PodKind::Signature), has(PodKind::Photo));
    let mut checks = Vec::new();
    let present = match policy.required {
        PodRequirement::None => true,
        PodRequirement::Signature => signature,
        PodRequirement::Photo => photo,
        PodRequirement::SignatureOrPhoto => signature || photo,
        PodRequirement::SignatureAndPhoto => signature && photo,
    };
    let gps = pod.and_then(|p| p.gps);
    let gps_ok = !policy.gps || gps.is_some();
    checks.push(Check {
        name: "pod_present".into(),
        passed: present && gps_ok,
        detail: format!(
            "required {:?}{}; received signature {signature}, photo {photo}, GPS {}",
            policy.required,
            if policy.gps { " with GPS" } else { "" },
            gps.is_some()
        ),
    });
    let pod_missing = !(present && gps_ok);

    let mut suspect = false;
    match (gps, destination.point) {
        (Some(at), Some(address)) => {
            let metres = distance_m(at, address);
            let limit = rules.max_distance_m.get(&destination.area).copied().unwrap_or(u32::MAX);
            let passed = metres <= f64::from(limit);
            suspect |= !passed;
            checks.push(Check {
                name: "gps_near_address".into(),
                passed,
                detail: format!(
                    "delivery GPS {:.0} m from the address point; at most {limit} m for a {:?} area",
                    metres, destination.area
                ),
            });
        }
        (Some(_), None) => checks.push(Check {
            name: "gps_near_address".into(),
            passed: true,
            detail: "no address point to compare the delivery GPS with".into(),
        }),
        (None, _) => {}
    }

    let local = delivered.occurred_at.to_zoned(destination.zone.clone()).time();
    let in_hours = rules.earliest_local <= local && local <= rules.latest_local;
    suspect |= !in_hours;
    checks.push(Check {
        name: "delivery_time_plausible".into(),
        passed: in_hours,
        detail: format!(
            "delivered at {} local time; believable between {} and {}",
            local.strftime("%H:%M"),
            rules.earliest_local.strftime("%H:%M"),
            rules.latest_local.strftime("%H:%M")
        ),
    });

    let moving_after: Vec<&TrackingEvent> = history
        .iter()
        .filter(|e| e.occurred_at > delivered.occurred_at)
        .filter(|e| matches!(e.status, Status::InTransit | Status::OutForDelivery))
        .collect();
    let before_pickup = history
        .iter()
        .find(|e| e.status != Status::InfoReceived)
        .is_some_and(|first| first.id != delivered.id && first.occurred_at > delivered.occurred_at);
    let sequence_ok = moving_after.is_empty() && !before_pickup;
    suspect |= !sequence_ok;
    checks.push(Check {
        name: "scan_sequence".into(),
        passed: sequence_ok,
        detail: if let Some(later) = moving_after.first() {
            format!("a {} scan at {} came after the delivery", later.status.as_str(), later.occurred_at)
        } else if before_pickup {
            "delivered before the carrier first scanned the parcel".into()
        } else {
            "no scan moves the parcel after its delivery".into()
        },
    });
    PodAssessment { checks, pod_missing, suspect_delivery: suspect }
}

/// A time the POD device reports that is far from the delivery event's own time is itself a warning sign.
pub fn taken_near_event(delivered: &TrackingEvent, tolerance_minutes: i64) -> Option<bool> {
    let taken: Timestamp = delivered.pod.as_ref()?.taken_at?;
    Some((taken.as_second() - delivered.occurred_at.as_second()).abs() <= tolerance_minutes * 60)
}
