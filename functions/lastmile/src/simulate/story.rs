//! A shipment's tracking story: every event its carriers will report, when, and when each report reaches
//! lastmile. Transit is counted in working days of the destination (its weekdays, public holidays, the
//! scenario's closures), slowed in busy weeks; parcels stall, fail, are delivered falsely or without proof, and
//! carriers send some events late or twice.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use lastmile_core::calendar::{CalendarId, holidays, iso_weekday};
use lastmile_core::tracking::event::{Handover, Location};
use lastmile_core::tracking::{Reason, Status};
use rand::Rng;
use serde_json::Value;

use super::orders::{destination, normal, time_zone};
use super::pod::{PodFileOut, photo_png, signature_svg};
use super::render::meaning;
use super::{FEDEX, LineProfile, PARCELNET, Scenario};

/// What the driver knows of a shipment once the router created it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentFacts {
    pub shipment_id: String,
    pub line: String,
    /// The line's carrier as the router records it (the rate card's carrier name).
    pub carrier: String,
    pub lane: String,
    pub country: String,
    /// The state or province, where the destination has one: its holidays and time zone.
    pub region: Option<String>,
    pub postcode: String,
    pub city: Option<String>,
    /// The destination's geocode: the postcode centroid.
    pub lat_lon: Option<(f64, f64)>,
    pub recipient: Option<String>,
    pub shipped_at: Timestamp,
}

impl ShipmentFacts {
    /// The facts of a shipment of a simulated `order`: its destination read from the order's shipping address,
    /// its geocode from the postcode data.
    pub fn from_order(
        order: &Value,
        shipment_id: &str,
        line: &str,
        carrier: &str,
        lane: &str,
        shipped_at: Timestamp,
    ) -> Option<ShipmentFacts> {
        let address = order.get("shipping_address")?;
        let text = |key: &str| address.get(key).and_then(Value::as_str).map(str::to_owned);
        let country = text("country_code")?;
        let postcode = text("zip")?;
        Some(ShipmentFacts {
            shipment_id: shipment_id.to_owned(),
            line: line.to_owned(),
            carrier: carrier.to_owned(),
            lane: lane.to_owned(),
            lat_lon: destination(&country, &postcode).and_then(|d| d.centroid),
            region: text("province_code"),
            city: text("city"),
            recipient: text("name"),
            country,
            postcode,
            shipped_at,
        })
    }
}

/// A step of a journey; each carrier has its code for the steps it can report ([`super::render::code_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Label,
    Pickup,
    Arrived,
    Departed,
    InTransit,
    CustomsCleared,
    /// The last event of a leg: the parcel passes to the next carrier (the event carries the handover).
    HandedOver,
    /// The first event of the next carrier's leg.
    Received,
    Delay,
    CustomsDelay,
    /// Moving again after a delay.
    Resumed,
    OutForDelivery,
    Attempt,
    Delivered,
    Lost,
    Damaged,
    AddressProblem,
    Returning,
    Returned,
    Expired,
}

/// Proof of delivery as the carrier reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduledPod {
    pub recipient: Option<String>,
    /// Rounded to five decimals (about a metre), as carriers send it.
    pub gps: Option<(f64, f64)>,
    pub signature_file: Option<String>,
    pub photo_file: Option<String>,
}

/// One event as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledEvent {
    /// When it happened, to the second.
    pub at: Timestamp,
    /// The zone its local time is written in (the destination's).
    pub time_zone: String,
    /// The carrier table that reads it: `fedex`, `aftership`, `parcelnet`.
    pub carrier: String,
    pub tracking_number: String,
    /// The carrier's event id (`{tracking number}-{n:03}`), where its format sends one.
    pub event_id: String,
    pub step: Step,
    /// What the carrier's table makes of the step's code.
    pub status: Status,
    pub reason: Option<Reason>,
    pub description: String,
    pub location: Option<Location>,
    pub handover: Option<Handover>,
    pub pod: Option<ScheduledPod>,
}

/// When a carrier sends one event to lastmile: in the order events happen, a few minutes after each, but some
/// a day or more late (after later events) and some twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Send {
    pub at: Timestamp,
    /// Index into [`Story::events`].
    pub event: usize,
    pub late: bool,
    pub duplicate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Delivered,
    Lost,
    Damaged,
    Returned,
    /// Stalled for good: the carrier stopped reporting.
    Expired,
}

/// Why a delivery looks false.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Suspicion {
    /// The POD GPS is this far from the destination's geocode.
    FarFromAddress { km: f64 },
    /// Delivered in the middle of the night, local time.
    NightTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub shipment_id: String,
    pub line: String,
    /// Every leg's tracking number, first leg first.
    pub tracking_numbers: Vec<String>,
    /// In the order they happened.
    pub events: Vec<ScheduledEvent>,
    /// In the order they reach lastmile.
    pub sends: Vec<Send>,
    pub pod_files: Vec<PodFileOut>,
    pub outcome: Outcome,
    /// Scans stopped for three working days or more somewhere on the way.
    pub stalled: bool,
    pub suspect: Option<Suspicion>,
    /// A delivery on a line that requires POD came without any.
    pub pod_missing: bool,
}

/// The destination's working days for a line.
struct Days<'a> {
    scenario: &'a Scenario,
    calendar: CalendarId,
    weekdays: &'a [u8],
}

impl Days<'_> {
    /// How much of a normal day's progress the network makes on `date`: 0 on days without scans.
    fn capacity(&self, date: Date) -> f64 {
        if !self.weekdays.contains(&iso_weekday(date)) {
            return 0.0;
        }
        // Beyond the holiday data's years, only weekdays count.
        if let Ok(Some(_)) = holidays().holiday(&self.calendar, date) {
            return 0.0;
        }
        let country = self.calendar.country.as_str();
        if self.scenario.closures.iter().any(|c| c.country == country && (c.from..=c.to).contains(&date)) {
            return 0.0;
        }
        self.scenario
            .slowdowns
            .iter()
            .find(|s| s.country == country && (s.from..=s.to).contains(&date))
            .map_or(1.0, |s| s.capacity)
    }

    fn works(&self, date: Date) -> bool {
        self.capacity(date) > 0.0
    }

    /// The first working day after `date`.
    fn next(&self, date: Date) -> Date {
        let mut d = date;
        for _ in 0..60 {
            d = d.tomorrow().unwrap_or(d);
            if self.works(d) {
                break;
            }
        }
        d
    }

    /// The `n`-th working day after `date`.
    fn after(&self, date: Date, n: u32) -> Date {
        (0..n).fold(date, |d, _| self.next(d))
    }
}

/// Hubs parcels pass through, by destination country.
fn hubs(country: &str) -> &'static [&'static str] {
    match country {
        "US" => &["Memphis", "Louisville", "Indianapolis", "Newark", "Chicago", "Dallas", "Ontario"],
        "CA" => &["Mississauga", "Montreal", "Calgary", "Vancouver"],
        "DE" => &["Leipzig", "Kassel", "Hannover", "Nürnberg", "Köln"],
        "AT" => &["Wien", "Linz", "Graz"],
        "GB" => &["Birmingham", "Coventry", "Warrington", "Hounslow"],
        _ => &["Hub"],
    }
}

fn tracking_number(carrier: &str, country: &str, rng: &mut impl Rng) -> String {
    match carrier {
        FEDEX => format!("7946{:08}", rng.random_range(0..100_000_000u32)),
        PARCELNET => format!("PN{:08}{country}", rng.random_range(0..100_000_000u32)),
        _ => format!("003404342{:011}", rng.random_range(0..100_000_000_000u64)),
    }
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// A point `km` away from `from` on `bearing` (degrees), on a spherical Earth.
fn offset((lat, lon): (f64, f64), km: f64, bearing: f64) -> (f64, f64) {
    let d = km / 6371.0;
    let (p1, l1, b) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    (p2.to_degrees(), l2.to_degrees())
}

/// Whether the parcel crosses a border: the lane's warehouse (`us-nj>CA-ON`) is named after its country, as
/// the sample warehouses are.
fn crosses_border(facts: &ShipmentFacts) -> bool {
    let origin = facts.lane.split('-').next().unwrap_or_default();
    !origin.is_empty() && !origin.eq_ignore_ascii_case(&facts.country)
}

/// What becomes of a parcel that is not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Lost,
    Damaged,
    /// The address cannot be delivered to: back to the sender.
    Refused,
}

struct Builder<'a> {
    facts: &'a ShipmentFacts,
    zone: TimeZone,
    zone_name: String,
    /// The current leg: its carrier and tracking number.
    carrier: String,
    tracking_number: String,
    counter: u32,
    events: Vec<ScheduledEvent>,
}

impl Builder<'_> {
    /// An instant on `date` between `from` and `to` hours local time, after the last event.
    fn time(&self, date: Date, from: i8, to: i8, rng: &mut impl Rng) -> Timestamp {
        let secs = rng.random_range(i32::from(from) * 3600..i32::from(to) * 3600);
        let time = Time::new((secs / 3600) as i8, ((secs / 60) % 60) as i8, (secs % 60) as i8, 0).unwrap_or_default();
        let at = date.to_datetime(time).to_zoned(self.zone.clone()).map(|z| z.timestamp()).unwrap_or_default();
        match self.events.last() {
            Some(last) if at <= last.at => last.at + Span::new().minutes(rng.random_range(7..50)),
            _ => at,
        }
    }

    fn can(&self, step: Step) -> bool {
        meaning(&self.carrier, step).is_some()
    }

    fn push(&mut self, at: Timestamp, step: Step, location: Option<Location>) -> Option<&mut ScheduledEvent> {
        let (status, reason) = meaning(&self.carrier, step)?;
        self.counter += 1;
        self.events.push(ScheduledEvent {
            at,
            time_zone: self.zone_name.clone(),
            carrier: self.carrier.clone(),
            tracking_number: self.tracking_number.clone(),
            event_id: format!("{}-{:03}", self.tracking_number, self.counter),
            step,
            status,
            reason,
            description: describe(step).to_owned(),
            location,
            handover: None,
            pod: None,
        });
        self.events.last_mut()
    }

    fn hub(&self, rng: &mut impl Rng) -> Option<Location> {
        let hubs = hubs(&self.facts.country);
        Some(Location {
            country: Some(self.facts.country.clone()),
            postcode: None,
            city: Some(hubs[rng.random_range(0..hubs.len())].to_owned()),
        })
    }

    fn home(&self) -> Option<Location> {
        Some(Location {
            country: Some(self.facts.country.clone()),
            postcode: Some(self.facts.postcode.clone()),
            city: self.facts.city.clone(),
        })
    }
}

fn describe(step: Step) -> &'static str {
    match step {
        Step::Label => "Shipment information received",
        Step::Pickup => "Picked up",
        Step::Arrived => "Arrived at sort facility",
        Step::Departed => "Departed sort facility",
        Step::InTransit => "In transit",
        Step::CustomsCleared => "Customs clearance completed",
        Step::HandedOver => "Tendered to delivery partner",
        Step::Received => "Received from line-haul carrier",
        Step::Delay => "Delayed: operational issue",
        Step::CustomsDelay => "Held in customs clearance",
        Step::Resumed => "Back in transit",
        Step::OutForDelivery => "Out for delivery",
        Step::Attempt => "Delivery attempted: recipient not at home",
        Step::Delivered => "Delivered",
        Step::Lost => "Package not found",
        Step::Damaged => "Package damaged",
        Step::AddressProblem => "Incorrect address",
        Step::Returning => "Returning to sender",
        Step::Returned => "Returned to sender",
        Step::Expired => "No further information",
    }
}

/// The story of one shipment, drawn from `rng` (the scenario's [`Scenario::story_rng`] of the shipment, so that
/// a story does not depend on which others were drawn before it).
pub fn parcel_story(scenario: &Scenario, shipment: &ShipmentFacts, rng: &mut impl Rng) -> Story {
    let profile: &LineProfile = scenario.profile(&shipment.line);
    let shares = &scenario.shares;
    let zone_name = time_zone(&shipment.country, shipment.region.as_deref()).to_owned();
    let zone = TimeZone::get(&zone_name).unwrap_or(TimeZone::UTC);
    let days = Days {
        scenario,
        calendar: CalendarId::new(&shipment.country, shipment.region.as_deref()),
        weekdays: &profile.scan_weekdays,
    };
    let first = tracking_number(&profile.carrier, &shipment.country, rng);
    let mut tracking_numbers = vec![first.clone()];
    let mut b = Builder {
        facts: shipment,
        zone: zone.clone(),
        zone_name,
        carrier: profile.carrier.clone(),
        tracking_number: first,
        counter: 0,
        events: Vec::new(),
    };

    // What will happen, drawn up front so that the draws do not depend on the calendar.
    let target = (profile.median_days + profile.spread_days * normal(rng)).round().clamp(1.0, 30.0);
    let failure = (rng.random::<f64>() >= profile.delivery_rate).then(|| match rng.random_range(0..10) {
        0..=3 => Failure::Lost,
        4..=6 => Failure::Damaged,
        _ => Failure::Refused,
    });
    let exception = (rng.random::<f64>() < profile.exception_share)
        .then(|| (target * rng.random_range(0.2..0.8), rng.random_range(1..=2) as f64));
    let stall = (rng.random::<f64>() < shares.stall).then(|| {
        (
            target * rng.random_range(0.2..0.7),
            rng.random_range(3..=6u32),
            rng.random::<f64>() >= shares.stall_never_resumes,
        )
    });
    let handover_at = profile.last_mile.as_ref().map(|_| target * rng.random_range(0.5..0.75));
    let attempt = rng.random::<f64>() < shares.attempt;
    let suspect_draw = rng.random::<f64>() < shares.suspect;
    let pod_missing = profile.pod_required && rng.random::<f64>() < shares.missing_pod;
    let far_km = rng.random_range(3.0..15.0);
    let bearing = rng.random_range(0.0..360.0);
    let recipient = shipment.recipient.clone();

    // The label, then the pickup on the first working day the parcel can make.
    b.push(shipment.shipped_at, Step::Label, None);
    let shipped_day = shipment.shipped_at.to_zoned(zone.clone()).date();
    let mut day = if days.works(shipped_day) { shipped_day } else { days.next(shipped_day) };
    let mut pickup = b.time(day, 17, 21, rng);
    if pickup <= shipment.shipped_at {
        day = days.next(day);
        pickup = b.time(day, 17, 21, rng);
    }
    b.push(pickup, Step::Pickup, None);

    let mut progress = 0.0;
    let mut target = target;
    let mut exception = exception;
    let mut handover_at = handover_at;
    let mut stall = stall;
    let mut stalled = false;
    let fail_midway = matches!(failure, Some(Failure::Lost | Failure::Damaged)).then(|| target * 0.5);
    let mut outcome = Outcome::Delivered;
    let mut ended = false;
    for _ in 0..120 {
        day = days.next(day);
        // A stall: the parcel sits, unscanned, for its working days; some never move again.
        if let Some((at, gap, resumes)) = stall
            && progress >= at
        {
            stall = None;
            stalled = true;
            if !resumes {
                let when = days.after(day, gap + 10);
                let step = if b.can(Step::Expired) { Step::Expired } else { Step::Lost };
                let at = b.time(when, 6, 20, rng);
                b.push(at, step, None);
                outcome = Outcome::Expired;
                ended = true;
                break;
            }
            day = days.after(day, gap);
            let at = b.time(day, 5, 22, rng);
            let step = if b.can(Step::Resumed) { Step::Resumed } else { Step::InTransit };
            let hub = b.hub(rng);
            b.push(at, step, hub);
        }
        progress += days.capacity(day);
        if let Some(point) = fail_midway
            && progress >= point
        {
            let at = b.time(day, 6, 20, rng);
            let hub = b.hub(rng);
            match failure {
                Some(Failure::Lost) => {
                    b.push(at, Step::Lost, hub);
                    outcome = Outcome::Lost;
                }
                _ => {
                    b.push(at, Step::Damaged, hub);
                    outcome = Outcome::Damaged;
                    return_to_sender(&mut b, &days, day, rng);
                }
            }
            ended = true;
            break;
        }
        if let Some((point, extra)) = exception
            && progress >= point
        {
            exception = None;
            let step =
                if crosses_border(shipment) && b.can(Step::CustomsDelay) { Step::CustomsDelay } else { Step::Delay };
            if b.can(step) {
                let at = b.time(day, 6, 20, rng);
                let hub = b.hub(rng);
                b.push(at, step, hub);
                target += extra;
                continue;
            }
        }
        if let Some(point) = handover_at
            && progress >= point
        {
            handover_at = None;
            if let Some(partner) = &profile.last_mile {
                if b.can(Step::CustomsCleared) && crosses_border(shipment) {
                    let at = b.time(day, 4, 8, rng);
                    let hub = b.hub(rng);
                    b.push(at, Step::CustomsCleared, hub);
                }
                let next = tracking_number(partner, &shipment.country, rng);
                let at = b.time(day, 8, 14, rng);
                let hub = b.hub(rng);
                if let Some(event) = b.push(at, Step::HandedOver, hub.clone()) {
                    event.handover = Some(Handover { carrier: partner.clone(), tracking_number: next.clone() });
                }
                b.carrier = partner.clone();
                b.tracking_number = next.clone();
                b.counter = 0;
                tracking_numbers.push(next);
                let at = b.time(day, 15, 20, rng);
                b.push(at, Step::Received, hub);
                continue;
            }
        }
        if progress >= target {
            break;
        }
        // A moving parcel is scanned at a hub every working day: a quiet working day is what the stall rule
        // watches for, so the model leaves the quiet to the planted stalls.
        let step = [Step::Arrived, Step::Departed, Step::InTransit][rng.random_range(0..3)];
        let step = if b.can(step) { step } else { Step::InTransit };
        let at = b.time(day, 2, 23, rng);
        let hub = b.hub(rng);
        b.push(at, step, hub);
    }

    let mut suspect = None;
    let mut missing = false;
    if !ended {
        // The delivery round starts on a day of its own, so that its times are the round's, not after a scan's.
        if b.events.last().is_some_and(|e| e.at.to_zoned(zone.clone()).date() >= day) {
            day = days.next(day);
        }
        if attempt {
            let at = b.time(day, 7, 10, rng);
            b.push(at, Step::OutForDelivery, b.home());
            let at = b.time(day, 11, 18, rng);
            b.push(at, Step::Attempt, b.home());
            day = days.next(day);
        }
        if failure == Some(Failure::Refused) {
            let at = b.time(day, 7, 10, rng);
            b.push(at, Step::OutForDelivery, b.home());
            let at = b.time(day, 11, 18, rng);
            b.push(at, Step::AddressProblem, b.home());
            outcome = Outcome::Returned;
            return_to_sender(&mut b, &days, day, rng);
        } else {
            let with_pod = profile.pod_required && !pod_missing;
            let far = suspect_draw && with_pod && shipment.lat_lon.is_some() && rng.random::<bool>();
            let night = suspect_draw && !far;
            let ofd = if night { b.time(day, 2, 3, rng) } else { b.time(day, 7, 10, rng) };
            b.push(ofd, Step::OutForDelivery, b.home());
            let delivered = if night { b.time(day, 3, 4, rng) } else { b.time(day, 10, 20, rng) };
            let delivered =
                if night { delivered } else { delivered.max(ofd + Span::new().minutes(rng.random_range(20..90))) };
            let pod = with_pod.then(|| {
                let gps = shipment.lat_lon.map(|home| {
                    let (km, bearing) = if far { (far_km, bearing) } else { (rng.random_range(0.0..0.25), bearing) };
                    let (lat, lon) = offset(home, km, bearing);
                    (round5(lat), round5(lon))
                });
                let number = b.tracking_number.clone();
                let (signature, photo) = match b.carrier.as_str() {
                    FEDEX => (Some(format!("{number}-sig.svg")), None),
                    PARCELNET => (Some(format!("{number}-sig.svg")), Some(format!("{number}-door.png"))),
                    _ => (None, None),
                };
                ScheduledPod { recipient: recipient.clone(), gps, signature_file: signature, photo_file: photo }
            });
            if let Some(event) = b.push(delivered, Step::Delivered, b.home()) {
                event.pod = pod;
            }
            missing = pod_missing;
            suspect = if far {
                Some(Suspicion::FarFromAddress { km: far_km })
            } else if night {
                Some(Suspicion::NightTime)
            } else {
                None
            };
        }
    }

    // POD files, drawn after the events so that they do not shift the journey's draws.
    let mut pod_files = Vec::new();
    for pod in b.events.iter().filter_map(|e| e.pod.as_ref()) {
        if let Some(name) = &pod.signature_file {
            pod_files.push(signature_svg(name, rng));
        }
        if let Some(name) = &pod.photo_file {
            pod_files.push(photo_png(name, rng));
        }
    }
    let sends = sends(&b.events, scenario, rng);
    Story {
        shipment_id: shipment.shipment_id.clone(),
        line: shipment.line.clone(),
        tracking_numbers,
        events: b.events,
        sends,
        pod_files,
        outcome,
        stalled,
        suspect,
        pod_missing: missing,
    }
}

/// Back to the sender: "returning" the next working day where the carrier says it, "returned" a week later
/// where it can.
fn return_to_sender(b: &mut Builder<'_>, days: &Days<'_>, day: Date, rng: &mut impl Rng) {
    let next = days.next(day);
    if b.can(Step::Returning) {
        let at = b.time(next, 6, 20, rng);
        let hub = b.hub(rng);
        b.push(at, Step::Returning, hub);
    }
    if b.can(Step::Returned) {
        let at = b.time(days.after(next, rng.random_range(4..=8)), 9, 17, rng);
        b.push(at, Step::Returned, None);
    }
}

/// When each event reaches lastmile: minutes after it happened and after the one before, except the late ones
/// (a day to three late) and the second copies of duplicated ones (hours after the first).
fn sends(events: &[ScheduledEvent], scenario: &Scenario, rng: &mut impl Rng) -> Vec<Send> {
    let shares = &scenario.shares;
    let mut sends = Vec::new();
    let mut last: Option<Timestamp> = None;
    for (i, event) in events.iter().enumerate() {
        let late = rng.random::<f64>() < shares.late_send;
        let duplicate = rng.random::<f64>() < shares.duplicate_send;
        let at = if late {
            event.at + Span::new().seconds(rng.random_range(26 * 3600..72 * 3600))
        } else {
            let at = event.at + Span::new().seconds(rng.random_range(120..2400));
            let at = last.map_or(at, |l| at.max(l + Span::new().seconds(1)));
            last = Some(at);
            at
        };
        sends.push(Send { at, event: i, late, duplicate: false });
        if duplicate {
            let again = at + Span::new().seconds(rng.random_range(3600..6 * 3600));
            sends.push(Send { at: again, event: i, late: false, duplicate: true });
        }
    }
    sends.sort_by_key(|s| (s.at, s.event, s.duplicate));
    sends
}
