//! Carrier event formats in, [`TrackingEvent`]s out. Each adapter reads its format's fields and asks the
//! carrier's [`StatusTable`] what a code means; an unknown code is an error naming it, never a guess.
//!
//! - [`scan_events_json`]: a carrier's JSON webhook with `scanEvents` (FedEx's Track API shape).
//! - [`aftership_webhook`]: an AfterShip-style webhook, a tracking with its checkpoints (`tag`, `subtag`).
//! - [`scan_csv`]: a local partner's scan file, one row per scan.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::event::{Handover, Location, Pod, PodFile, PodKind, TrackingEvent, content_id};
use super::mapping::StatusTable;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    #[error("not a {format} message: {message}")]
    Malformed { format: &'static str, message: String },
    #[error("{carrier} code {code:?} is not in its status table")]
    UnknownCode { carrier: String, code: String },
    #[error("time {0:?} has no UTC offset and no time zone was given for it")]
    AmbiguousTime(String),
    #[error("row {row}: {message}")]
    Row { row: usize, message: String },
}

/// A time with an offset, or a local time in `zone`.
fn parse_time(text: &str, zone: Option<&TimeZone>) -> Result<Timestamp, AdapterError> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let local: DateTime = text.parse().map_err(|_| AdapterError::AmbiguousTime(text.to_owned()))?;
    let zone = zone.ok_or_else(|| AdapterError::AmbiguousTime(text.to_owned()))?;
    local.to_zoned(zone.clone()).map(|z| z.timestamp()).map_err(|_| AdapterError::AmbiguousTime(text.to_owned()))
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn country(value: Option<&str>) -> Option<String> {
    let value = non_empty(value)?;
    Some(crate::address::refdata::country_code(&value).map_or(value, str::to_owned))
}

fn place(location: &Option<Location>) -> String {
    location.as_ref().map_or_else(String::new, |l| {
        [&l.country, &l.postcode, &l.city].iter().map(|p| p.as_deref().unwrap_or("")).collect::<Vec<_>>().join("/")
    })
}

fn location(country_code: Option<&str>, postcode: Option<&str>, city: Option<&str>) -> Option<Location> {
    let location = Location { country: country(country_code), postcode: non_empty(postcode), city: non_empty(city) };
    (location != Location::default()).then_some(location)
}

/// The event for one carrier record: its mapping looked up, its identity the carrier's id or its content hash.
struct Raw<'a> {
    id: Option<&'a str>,
    tracking_number: &'a str,
    code: &'a str,
    fallback: Option<&'a str>,
    reason_code: Option<&'a str>,
    occurred_at: Timestamp,
    description: &'a str,
    location: Option<Location>,
    handover: Option<Handover>,
    pod: Option<Pod>,
}

fn event(table: &StatusTable, raw: Raw<'_>) -> Result<TrackingEvent, AdapterError> {
    let mapping = table
        .map(raw.code, raw.fallback, raw.reason_code)
        .ok_or_else(|| AdapterError::UnknownCode { carrier: table.carrier.clone(), code: raw.code.to_owned() })?;
    let id = non_empty(raw.id).unwrap_or_else(|| {
        content_id(&table.carrier, raw.tracking_number, raw.code, raw.occurred_at, &place(&raw.location))
    });
    Ok(TrackingEvent {
        id,
        carrier: table.carrier.clone(),
        tracking_number: raw.tracking_number.trim().to_owned(),
        occurred_at: raw.occurred_at,
        status: mapping.status,
        reason: mapping.reason,
        code: raw.code.trim().to_owned(),
        description: raw.description.trim().to_owned(),
        location: raw.location,
        handover: raw.handover,
        pod: raw.pod,
    })
}

fn pod(name: Option<&str>, gps: Option<(f64, f64)>, files: Vec<PodFile>) -> Option<Pod> {
    let pod = Pod { recipient_name: non_empty(name), gps, taken_at: None, files };
    (pod != Pod::default()).then_some(pod)
}

fn pod_files(signature: Option<&str>, photo: Option<&str>) -> Vec<PodFile> {
    [(PodKind::Signature, signature), (PodKind::Photo, photo)]
        .into_iter()
        .filter_map(|(kind, name)| non_empty(name).map(|name| PodFile { kind, name, key: None, sha256: None }))
        .collect()
}

// --- JSON scan events -------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanMessage {
    tracking_number: String,
    #[serde(default)]
    scan_events: Vec<ScanEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanEvent {
    #[serde(default)]
    event_id: Option<String>,
    date: String,
    event_type: String,
    #[serde(default)]
    event_description: String,
    #[serde(default)]
    exception_code: Option<String>,
    #[serde(default)]
    scan_location: Option<ScanLocation>,
    #[serde(default)]
    delivery: Option<ScanDelivery>,
    #[serde(default)]
    handoff: Option<ScanHandoff>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanLocation {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanDelivery {
    #[serde(default)]
    received_by_name: Option<String>,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    signature_image: Option<String>,
    #[serde(default)]
    photo_image: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanHandoff {
    carrier: String,
    tracking_number: String,
}

/// A JSON webhook with `trackingNumber` and `scanEvents`; times carry their offset (or are local to `zone`).
pub fn scan_events_json(
    table: &StatusTable,
    body: &[u8],
    zone: Option<&TimeZone>,
) -> Result<Vec<TrackingEvent>, AdapterError> {
    let message: ScanMessage = serde_json::from_slice(body)
        .map_err(|e| AdapterError::Malformed { format: "scan events JSON", message: e.to_string() })?;
    message
        .scan_events
        .iter()
        .map(|scan| {
            let at = scan.scan_location.as_ref();
            let delivery = scan.delivery.as_ref();
            let gps = delivery.and_then(|d| d.latitude.zip(d.longitude));
            event(
                table,
                Raw {
                    id: scan.event_id.as_deref(),
                    tracking_number: &message.tracking_number,
                    code: &scan.event_type,
                    fallback: None,
                    reason_code: scan.exception_code.as_deref(),
                    occurred_at: parse_time(&scan.date, zone)?,
                    description: &scan.event_description,
                    location: location(
                        at.and_then(|l| l.country_code.as_deref()),
                        at.and_then(|l| l.postal_code.as_deref()),
                        at.and_then(|l| l.city.as_deref()),
                    ),
                    handover: scan
                        .handoff
                        .as_ref()
                        .map(|h| Handover { carrier: h.carrier.clone(), tracking_number: h.tracking_number.clone() }),
                    pod: delivery.and_then(|d| {
                        let files = pod_files(d.signature_image.as_deref(), d.photo_image.as_deref());
                        pod(d.received_by_name.as_deref(), gps, files)
                    }),
                },
            )
        })
        .collect()
}

// --- AfterShip-style webhook ------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct AfterShipWebhook {
    msg: AfterShipTracking,
}

#[derive(Deserialize)]
struct AfterShipTracking {
    tracking_number: String,
    #[serde(default)]
    signed_by: Option<String>,
    #[serde(default)]
    checkpoints: Vec<AfterShipCheckpoint>,
}

#[derive(Deserialize)]
struct AfterShipCheckpoint {
    checkpoint_time: String,
    tag: String,
    #[serde(default)]
    subtag: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    zip: Option<String>,
    #[serde(default)]
    country_iso3: Option<String>,
    #[serde(default)]
    coordinates: Option<(f64, f64)>,
}

/// An AfterShip-style webhook (`msg` is the tracking): every checkpoint becomes an event; the subtag is the
/// code, its tag the fallback. The tracking's `signed_by` and a checkpoint's coordinates are the POD of a
/// delivered checkpoint. Checkpoints carry no id: their content is their identity.
pub fn aftership_webhook(
    table: &StatusTable,
    body: &[u8],
    zone: Option<&TimeZone>,
) -> Result<Vec<TrackingEvent>, AdapterError> {
    let webhook: AfterShipWebhook = serde_json::from_slice(body)
        .map_err(|e| AdapterError::Malformed { format: "AfterShip webhook", message: e.to_string() })?;
    let tracking = webhook.msg;
    tracking
        .checkpoints
        .iter()
        .map(|c| {
            let code = c.subtag.as_deref().filter(|s| !s.is_empty()).unwrap_or(&c.tag);
            let mut event = event(
                table,
                Raw {
                    id: None,
                    tracking_number: &tracking.tracking_number,
                    code,
                    fallback: Some(&c.tag),
                    reason_code: None,
                    occurred_at: parse_time(&c.checkpoint_time, zone)?,
                    description: &c.message,
                    location: location(c.country_iso3.as_deref(), c.zip.as_deref(), c.city.as_deref()),
                    handover: None,
                    pod: None,
                },
            )?;
            if event.status == super::status::Status::Delivered {
                event.pod = pod(tracking.signed_by.as_deref(), c.coordinates, Vec::new());
            }
            Ok(event)
        })
        .collect()
}

// --- CSV scan file ----------------------------------------------------------------------------------------------

/// The columns of a partner scan file, by header name (their order may vary).
const SCAN_COLUMNS: [&str; 14] = [
    "scan_id",
    "tracking_number",
    "scan_code",
    "reason",
    "scan_time",
    "timezone",
    "postcode",
    "city",
    "country",
    "latitude",
    "longitude",
    "recipient",
    "signature_file",
    "photo_file",
];

/// A partner's scan file: a header row naming [`SCAN_COLUMNS`] (`handover_carrier` and
/// `handover_tracking_number` optional), then one scan per row. `scan_time` is local to the row's IANA
/// `timezone` unless it carries an offset. Any bad row fails the file, naming the row, so a file is taken
/// whole or not at all.
pub fn scan_csv(table: &StatusTable, text: &str) -> Result<Vec<TrackingEvent>, AdapterError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| AdapterError::Malformed { format: "scan CSV", message: e.to_string() })?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> = SCAN_COLUMNS.iter().copied().filter(|c| column(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(AdapterError::Malformed {
            format: "scan CSV",
            message: format!("no column {}", missing.join(", ")),
        });
    }
    let index: Vec<usize> = SCAN_COLUMNS.iter().filter_map(|c| column(c)).collect();
    let (handover_carrier, handover_number) = (column("handover_carrier"), column("handover_tracking_number"));
    let mut events = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let row = n + 2;
        let record = record.map_err(|e| AdapterError::Row { row, message: e.to_string() })?;
        let field = |i: usize| record.get(index[i]).filter(|v| !v.is_empty());
        let at_row = |e: AdapterError| AdapterError::Row { row, message: e.to_string() };
        let zone = match field(5) {
            Some(name) => Some(TimeZone::get(name).map_err(|_| {
                at_row(AdapterError::Malformed { format: "scan CSV", message: format!("unknown time zone {name:?}") })
            })?),
            None => None,
        };
        let number = |i: usize| -> Result<Option<f64>, AdapterError> {
            field(i)
                .map(|v| {
                    v.parse::<f64>().map_err(|_| {
                        at_row(AdapterError::Malformed {
                            format: "scan CSV",
                            message: format!("{v:?} is not a number"),
                        })
                    })
                })
                .transpose()
        };
        let gps = number(9)?.zip(number(10)?);
        let handover = handover_carrier
            .and_then(|c| record.get(c))
            .filter(|c| !c.is_empty())
            .zip(handover_number.and_then(|c| record.get(c)).filter(|t| !t.is_empty()))
            .map(|(carrier, number)| Handover { carrier: carrier.to_owned(), tracking_number: number.to_owned() });
        let tracking_number = field(1).unwrap_or_default();
        let code = field(2).unwrap_or_default();
        let time = field(4).unwrap_or_default();
        events.push(
            event(
                table,
                Raw {
                    id: field(0),
                    tracking_number,
                    code,
                    fallback: None,
                    reason_code: field(3),
                    occurred_at: parse_time(time, zone.as_ref()).map_err(at_row)?,
                    description: "",
                    location: location(field(8), field(6), field(7)),
                    handover,
                    pod: pod(field(11), gps, pod_files(field(12), field(13))),
                },
            )
            .map_err(at_row)?,
        );
    }
    Ok(events)
}
