//! Scheduled events in the three formats the core adapters read (`lastmile_core::tracking::adapters`): a JSON
//! webhook with `scanEvents` per tracking number, an AfterShip-style webhook per tracking number, and one scan
//! CSV per partner. Codes are the carriers' own, from their status tables: each step of a journey has the code
//! whose mapping says what the step is.

use std::collections::BTreeMap;

use lastmile_core::tracking::mapping;
use lastmile_core::tracking::{Reason, Status};
use serde_json::{Map, Value, json};

use super::story::{ScheduledEvent, Step};
use super::{FEDEX, PARCELNET};

/// A carrier event format, as `lastmile_core::tracking::adapters` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// `scan_events_json`: `{"trackingNumber", "scanEvents": [...]}`.
    ScanEventsJson,
    /// `aftership_webhook`: `{"msg": {"tracking_number", "checkpoints": [...]}}`.
    AfterShip,
    /// `scan_csv`: a partner's scan file.
    ScanCsv,
}

impl Format {
    pub fn of(carrier: &str) -> Format {
        match carrier {
            FEDEX => Format::ScanEventsJson,
            PARCELNET => Format::ScanCsv,
            _ => Format::AfterShip,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::ScanEventsJson | Format::AfterShip => "application/json",
            Format::ScanCsv => "text/csv",
        }
    }
}

/// One message as a carrier would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The carrier table that reads it.
    pub carrier: String,
    pub format: Format,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A carrier's code for a step: the code, the reason code that refines it, and (AfterShip) the tag it falls
/// under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub reason_code: Option<&'static str>,
    pub tag: Option<&'static str>,
}

const fn code(code: &'static str) -> Option<Code> {
    Some(Code { code, reason_code: None, tag: None })
}

const fn refined(code: &'static str, reason: &'static str) -> Option<Code> {
    Some(Code { code, reason_code: Some(reason), tag: None })
}

/// AfterShip subtags are `Tag_NNN`: the tag is the part before the underscore.
const fn subtag(code: &'static str, tag: &'static str) -> Option<Code> {
    Some(Code { code, reason_code: None, tag: Some(tag) })
}

/// The code `carrier` uses for `step`, or `None` when its format has no way to say it (FedEx scan events have
/// no "returned" and no "expired"; a partner's scan file has no delays and no returns under way).
pub fn code_for(carrier: &str, step: Step) -> Option<Code> {
    match carrier {
        FEDEX => match step {
            Step::Label => code("OC"),
            Step::Pickup => code("PU"),
            Step::Arrived | Step::Received => code("AR"),
            Step::Departed => code("DP"),
            Step::InTransit | Step::HandedOver | Step::Resumed => code("IT"),
            Step::CustomsCleared => code("CC"),
            Step::Delay => code("DY"),
            Step::CustomsDelay => code("CD"),
            Step::OutForDelivery => code("OD"),
            Step::Attempt => refined("DE", "08"),
            Step::Delivered => code("DL"),
            Step::Lost => refined("SE", "A13"),
            Step::Damaged => refined("SE", "A12"),
            Step::AddressProblem => refined("SE", "03"),
            Step::Returning => code("RS"),
            Step::Returned | Step::Expired => None,
        },
        PARCELNET => match step {
            Step::Label => code("MAN"),
            Step::Pickup | Step::Received => code("HND"),
            Step::Arrived | Step::Departed | Step::InTransit | Step::Resumed | Step::HandedOver => code("ARR"),
            Step::OutForDelivery => code("OFD"),
            Step::Attempt => refined("ATT", "NOT_HOME"),
            Step::Delivered => code("DLV"),
            Step::Lost => code("LST"),
            Step::Damaged => code("DMG"),
            Step::AddressProblem => code("ADR"),
            Step::Returned => code("RTS"),
            Step::CustomsCleared | Step::Delay | Step::CustomsDelay | Step::Returning | Step::Expired => None,
        },
        _ => match step {
            Step::Label => subtag("InfoReceived_001", "InfoReceived"),
            Step::Pickup => subtag("InTransit_002", "InTransit"),
            Step::Arrived | Step::Received => subtag("InTransit_003", "InTransit"),
            Step::Departed => subtag("InTransit_007", "InTransit"),
            Step::InTransit | Step::HandedOver => subtag("InTransit_001", "InTransit"),
            Step::CustomsCleared => subtag("InTransit_005", "InTransit"),
            Step::Resumed => subtag("InTransit_008", "InTransit"),
            Step::Delay => subtag("Exception_005", "Exception"),
            Step::CustomsDelay => subtag("Exception_004", "Exception"),
            Step::OutForDelivery => subtag("OutForDelivery_001", "OutForDelivery"),
            Step::Attempt => subtag("AttemptFail_002", "AttemptFail"),
            Step::Delivered => subtag("Delivered_001", "Delivered"),
            Step::Lost => subtag("Exception_013", "Exception"),
            Step::Damaged => subtag("Exception_012", "Exception"),
            Step::AddressProblem => subtag("Exception_007", "Exception"),
            Step::Returning => subtag("Exception_010", "Exception"),
            Step::Returned => subtag("Exception_011", "Exception"),
            Step::Expired => subtag("Expired_001", "Expired"),
        },
    }
}

/// What `carrier`'s table says `step` is: its status and reason, as the adapter will read them. `None` when the
/// carrier cannot say it or has no table.
pub fn meaning(carrier: &str, step: Step) -> Option<(Status, Option<Reason>)> {
    let code = code_for(carrier, step)?;
    let table = mapping::builtin().carrier(carrier)?;
    let mapped = table.map(code.code, code.tag, code.reason_code)?;
    Some((mapped.status, mapped.reason))
}

fn iso3(country: &str) -> &str {
    match country {
        "US" => "USA",
        "CA" => "CAN",
        "DE" => "DEU",
        "AT" => "AUT",
        "GB" => "GBR",
        "FR" => "FRA",
        "AU" => "AUS",
        other => other,
    }
}

fn local_time(event: &ScheduledEvent, format: &str) -> String {
    let zone = jiff::tz::TimeZone::get(&event.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    event.at.to_zoned(zone).strftime(format).to_string()
}

fn with_offset(event: &ScheduledEvent) -> String {
    local_time(event, "%Y-%m-%dT%H:%M:%S%:z")
}

/// The batch in its carriers' formats: one JSON message per tracking number for the webhook formats, one CSV
/// per partner, in the order each first appears in the batch. An event its carrier has no code for (the story
/// never makes one) is left out.
pub fn render(batch: &[ScheduledEvent]) -> Vec<Payload> {
    // Groups in first-appearance order: (carrier, tracking number or "" for a whole CSV file) → events.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&ScheduledEvent>> = BTreeMap::new();
    for event in batch {
        if code_for(&event.carrier, event.step).is_none() {
            continue;
        }
        let key = match Format::of(&event.carrier) {
            Format::ScanCsv => (event.carrier.clone(), String::new()),
            _ => (event.carrier.clone(), event.tracking_number.clone()),
        };
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(event);
    }
    order
        .into_iter()
        .filter_map(|key| {
            let events = groups.remove(&key)?;
            let format = Format::of(&key.0);
            let body = match format {
                Format::ScanEventsJson => scan_events_json(&key.1, &events),
                Format::AfterShip => aftership(&key.1, &events),
                Format::ScanCsv => scan_csv(&events),
            };
            Some(Payload { carrier: key.0, format, content_type: format.content_type(), body })
        })
        .collect()
}

/// Sets `key` when there is a value; an object loses its null fields, as carriers leave absent fields out.
fn insert_some(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(Value::Object(mut inner)) => {
            inner.retain(|_, v| !v.is_null());
            object.insert(key.to_owned(), Value::Object(inner));
        }
        Some(value) => {
            object.insert(key.to_owned(), value);
        }
        None => {}
    }
}

fn scan_events_json(tracking_number: &str, events: &[&ScheduledEvent]) -> Vec<u8> {
    let scans: Vec<Value> = events
        .iter()
        .filter_map(|e| {
            let code = code_for(&e.carrier, e.step)?;
            let mut scan = Map::new();
            scan.insert("eventId".into(), json!(e.event_id));
            scan.insert("date".into(), json!(with_offset(e)));
            scan.insert("eventType".into(), json!(code.code));
            scan.insert("eventDescription".into(), json!(e.description));
            insert_some(&mut scan, "exceptionCode", code.reason_code.map(|r| json!(r)));
            insert_some(
                &mut scan,
                "scanLocation",
                e.location
                    .as_ref()
                    .map(|l| json!({"city": l.city, "postalCode": l.postcode, "countryCode": l.country})),
            );
            insert_some(
                &mut scan,
                "delivery",
                e.pod.as_ref().map(|p| {
                    json!({
                        "receivedByName": p.recipient,
                        "latitude": p.gps.map(|g| g.0),
                        "longitude": p.gps.map(|g| g.1),
                        "signatureImage": p.signature_file,
                        "photoImage": p.photo_file,
                    })
                }),
            );
            insert_some(
                &mut scan,
                "handoff",
                e.handover.as_ref().map(|h| json!({"carrier": h.carrier, "trackingNumber": h.tracking_number})),
            );
            Some(Value::Object(scan))
        })
        .collect();
    let message = json!({"trackingNumber": tracking_number, "carrierCode": "FDXG", "scanEvents": scans});
    serde_json::to_vec_pretty(&message).unwrap_or_default()
}

fn aftership(tracking_number: &str, events: &[&ScheduledEvent]) -> Vec<u8> {
    let checkpoints: Vec<(Code, Value)> = events
        .iter()
        .filter_map(|e| {
            let code = code_for(&e.carrier, e.step)?;
            let mut checkpoint = Map::new();
            checkpoint.insert("checkpoint_time".into(), json!(with_offset(e)));
            checkpoint.insert("tag".into(), json!(code.tag.unwrap_or(code.code)));
            checkpoint.insert("subtag".into(), json!(code.code));
            checkpoint.insert("message".into(), json!(e.description));
            if let Some(l) = &e.location {
                insert_some(&mut checkpoint, "city", l.city.as_ref().map(|c| json!(c)));
                insert_some(&mut checkpoint, "zip", l.postcode.as_ref().map(|c| json!(c)));
                insert_some(&mut checkpoint, "country_iso3", l.country.as_deref().map(|c| json!(iso3(c))));
            }
            let gps = e.pod.as_ref().and_then(|p| p.gps);
            insert_some(&mut checkpoint, "coordinates", gps.map(|(lat, lon)| json!([lat, lon])));
            Some((code, Value::Object(checkpoint)))
        })
        .collect();
    let signed_by = events.iter().filter_map(|e| e.pod.as_ref()).find_map(|p| p.recipient.clone());
    let last = checkpoints.last().map(|(c, _)| *c);
    let mut msg = Map::new();
    msg.insert("tracking_number".into(), json!(tracking_number));
    insert_some(&mut msg, "tag", last.map(|c| json!(c.tag.unwrap_or(c.code))));
    insert_some(&mut msg, "subtag", last.map(|c| json!(c.code)));
    insert_some(&mut msg, "signed_by", signed_by.map(|s| json!(s)));
    msg.insert("checkpoints".into(), Value::Array(checkpoints.into_iter().map(|(_, v)| v).collect()));
    serde_json::to_vec_pretty(&json!({"event": "tracking_update", "msg": msg})).unwrap_or_default()
}

const CSV_HEADER: &str = "scan_id,tracking_number,scan_code,reason,scan_time,timezone,postcode,city,country,latitude,\
longitude,recipient,signature_file,photo_file,handover_carrier,handover_tracking_number";

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn scan_csv(events: &[&ScheduledEvent]) -> Vec<u8> {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for e in events {
        let Some(code) = code_for(&e.carrier, e.step) else { continue };
        let location = e.location.clone().unwrap_or_default();
        let pod = e.pod.clone().unwrap_or_default();
        let handover = e.handover.as_ref();
        let row = [
            e.event_id.clone(),
            e.tracking_number.clone(),
            code.code.to_owned(),
            code.reason_code.unwrap_or_default().to_owned(),
            local_time(e, "%Y-%m-%d %H:%M:%S"),
            e.time_zone.clone(),
            location.postcode.unwrap_or_default(),
            location.city.unwrap_or_default(),
            location.country.unwrap_or_default(),
            pod.gps.map(|g| format!("{:.5}", g.0)).unwrap_or_default(),
            pod.gps.map(|g| format!("{:.5}", g.1)).unwrap_or_default(),
            pod.recipient.unwrap_or_default(),
            pod.signature_file.unwrap_or_default(),
            pod.photo_file.unwrap_or_default(),
            handover.map(|h| h.carrier.clone()).unwrap_or_default(),
            handover.map(|h| h.tracking_number.clone()).unwrap_or_default(),
        ];
        text.push_str(&row.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text.into_bytes()
}
