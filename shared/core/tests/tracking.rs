//! Tracking: the three carrier formats read from their fixtures, journeys over several legs with duplicate and
//! late events, stalls counted in business hours across a weekend and a holiday, and the delivery checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lastmile_core::calendar::{CalendarId, holidays};
use lastmile_core::tracking::adapters::{self, AdapterError};
use lastmile_core::tracking::event::PodKind;
use lastmile_core::tracking::mapping::{Tables, builtin};
use lastmile_core::tracking::pod::{self, AreaType, Destination, PodPolicy, PodRequirement, SuspectRules};
use lastmile_core::tracking::stall::{self, StallClock, StallLevel, StallRule, WorkingDays};
use lastmile_core::tracking::{Journey, Reason, Status, TrackingEvent};
use proptest::prelude::*;

const FEDEX: &str = include_str!("fixtures/tracking/fedex-webhook.json");
const AFTERSHIP: &str = include_str!("fixtures/tracking/aftership-webhook.json");
const PARCELNET: &str = include_str!("fixtures/tracking/parcelnet-scans.csv");

fn t(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn fedex() -> Vec<TrackingEvent> {
    adapters::scan_events_json(builtin().carrier("fedex").unwrap(), FEDEX.as_bytes(), None).unwrap()
}

fn parcelnet() -> Vec<TrackingEvent> {
    adapters::scan_csv(builtin().carrier("parcelnet").unwrap(), PARCELNET).unwrap()
}

fn aftership() -> Vec<TrackingEvent> {
    adapters::aftership_webhook(builtin().carrier("aftership").unwrap(), AFTERSHIP.as_bytes(), None).unwrap()
}

#[test]
fn a_json_webhook_maps_each_scan_and_its_exception_code() {
    let events = fedex();
    let statuses: Vec<Status> = events.iter().map(|e| e.status).collect();
    use Status::*;
    assert_eq!(statuses, [InfoReceived, InTransit, InTransit, InTransit, DeliveryAttempted, InTransit]);
    // DE with exceptionCode 03: the table's default reason (recipient unavailable) refined to the address.
    assert_eq!(events[4].reason, Some(Reason::AddressProblem));
    assert_eq!(events[4].code, "DE");
    assert_eq!(events[0].id, "fx-794612345678-0001", "the carrier's own event id is the identity");
    // -08:00 on 16 November is 22:05 UTC.
    assert_eq!(events[0].occurred_at, t("2026-11-16T22:05:00Z"));
    assert_eq!(events[3].location.as_ref().and_then(|l| l.postcode.as_deref()), Some("99502"));
    let handover = events[5].handover.as_ref().expect("a handover");
    assert_eq!((handover.carrier.as_str(), handover.tracking_number.as_str()), ("parcelnet", "PN00998812AK"));
}

#[test]
fn an_aftership_webhook_maps_subtags_falls_back_to_tags_and_carries_the_signature() {
    let events = aftership();
    use Status::*;
    let statuses: Vec<Status> = events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [InfoReceived, InTransit, InTransit, OutForDelivery, DeliveryAttempted, OutForDelivery, Delivered]
    );
    // InTransit_011 is not in the table: its tag decides.
    assert_eq!((events[2].code.as_str(), events[2].status), ("InTransit_011", InTransit));
    assert_eq!(events[4].reason, Some(Reason::RecipientUnavailable));
    assert_eq!(events[1].location.as_ref().and_then(|l| l.country.as_deref()), Some("DE"), "ISO alpha-3 → alpha-2");
    let pod = events[6].pod.as_ref().expect("delivered carries the POD");
    assert_eq!(pod.recipient_name.as_deref(), Some("M. Weber"));
    assert_eq!(pod.gps, Some((52.51718, 13.38886)));
    // Checkpoints have no id: the same webhook delivered again gives the same ids, and each checkpoint its own.
    let again = aftership();
    assert_eq!(events.iter().map(|e| &e.id).collect::<Vec<_>>(), again.iter().map(|e| &e.id).collect::<Vec<_>>());
    let mut ids: Vec<&String> = events.iter().map(|e| &e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    assert!(events.iter().all(|e| e.id.starts_with("h:")));
}

#[test]
fn a_scan_file_reads_local_times_reasons_gps_and_pod_files() {
    let events = parcelnet();
    assert_eq!(events.len(), 6);
    // 13:07 in Anchorage (AKST, -09:00) is 22:07 UTC.
    let delivered = &events[3];
    assert_eq!((delivered.status, delivered.occurred_at), (Status::Delivered, t("2026-11-20T22:07:00Z")));
    let pod = delivered.pod.as_ref().unwrap();
    assert_eq!(pod.gps, Some((61.21705, -149.89021)));
    let kinds: Vec<PodKind> = pod.files.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [PodKind::Signature, PodKind::Photo]);
    let attempt = &events[5];
    assert_eq!((attempt.status, attempt.reason), (Status::DeliveryAttempted, Some(Reason::RecipientUnavailable)));
}

#[test]
fn bad_carrier_input_is_refused_with_what_was_wrong() {
    let table = builtin().carrier("parcelnet").unwrap();
    let unknown = PARCELNET
        .replace(",OFD,,2026-11-20 08:45,America/Anchorage,99504", ",XYZ,,2026-11-20 08:45,America/Anchorage,99504");
    match adapters::scan_csv(table, &unknown) {
        Err(AdapterError::Row { row, message }) => assert!(row == 6 && message.contains("XYZ"), "{row} {message}"),
        other => panic!("{other:?}"),
    }
    let bad_zone = PARCELNET.replace("America/Anchorage,99504,Anchorage,US,61", "Mars/Olympus,99504,Anchorage,US,61");
    assert!(matches!(adapters::scan_csv(table, &bad_zone), Err(AdapterError::Row { row: 7, .. })));
    assert!(adapters::scan_csv(table, "tracking_number,scan_code\nX,DLV\n").is_err(), "columns missing");
    let fedex = builtin().carrier("fedex").unwrap();
    assert!(matches!(adapters::scan_events_json(fedex, b"{", None), Err(AdapterError::Malformed { .. })));
    let naive = FEDEX.replace("2026-11-16T14:05:00-08:00", "2026-11-16T14:05:00");
    assert!(matches!(adapters::scan_events_json(fedex, naive.as_bytes(), None), Err(AdapterError::AmbiguousTime(_))));
    let zone = TimeZone::get("America/Los_Angeles").unwrap();
    let read = adapters::scan_events_json(fedex, naive.as_bytes(), Some(&zone)).unwrap();
    assert_eq!(read[0].occurred_at, t("2026-11-16T22:05:00Z"), "a local time in the given zone");
}

#[test]
fn a_carrier_table_edit_changes_how_events_read() {
    let shipped = include_str!("../../data/tracking/carriers/parcelnet.toml");
    let edited = shipped.replace(r#"NOT_HOME = "recipient_unavailable""#, r#"NOT_HOME = "address_problem""#);
    let tables = Tables::from_files(&[("parcelnet.toml", &edited)]).unwrap();
    let events = adapters::scan_csv(tables.carrier("parcelnet").unwrap(), PARCELNET).unwrap();
    assert_eq!(events[5].reason, Some(Reason::AddressProblem));
}

#[test]
fn a_journey_runs_over_two_legs_to_delivery() {
    let mut journey = Journey::new("fedex", "794612345678");
    let first = journey.apply(fedex());
    assert_eq!((first.added, first.status_after), (6, Some(Status::InTransit)));
    // The partner's events for this parcel (its file also lists another parcel, which the caller filters out).
    let ours: Vec<TrackingEvent> = parcelnet().into_iter().filter(|e| e.tracking_number == "PN00998812AK").collect();
    let second = journey.apply(ours);
    assert_eq!((second.added, second.status_after), (4, Some(Status::Delivered)));
    assert!(second.status_changed());
    let legs = journey.legs();
    assert_eq!(legs.len(), 2);
    assert_eq!(journey.active_leg().tracking_number, "PN00998812AK");
    assert_eq!(legs[1].since, Some(t("2026-11-19T20:02:00Z")));
    assert_eq!(journey.first_scan_at(), Some(t("2026-11-17T01:42:00Z")), "pick-up, not the label");
    assert_eq!(journey.last_scan_at(), Some(t("2026-11-20T22:07:00Z")));
    // The whole FedEx webhook again: nothing new.
    let again = journey.apply(fedex());
    assert_eq!((again.added, again.duplicates, again.status_changed()), (0, 6, false));
}

#[test]
fn a_late_older_event_takes_its_place_without_moving_the_status_back() {
    let events = aftership();
    let mut journey = Journey::new("aftership", "00340434292135100186");
    let (early, late) = events.split_at(3);
    let delivered = journey.apply(late.iter().cloned());
    assert_eq!(delivered.status_after, Some(Status::Delivered));
    let filled = journey.apply(early.iter().cloned());
    assert_eq!((filled.added, filled.status_after), (3, Some(Status::Delivered)));
    assert_eq!(journey.events.first().map(|e| e.status), Some(Status::InfoReceived), "ordered by event time");
}

fn arbitrary_order() -> impl Strategy<Value = Vec<usize>> {
    // Indexes into the seven AfterShip events, each one or more times, in any order.
    proptest::collection::vec(0usize..7, 7..20)
        .prop_filter("every event at least once", |v| (0..7).all(|i| v.contains(&i)))
}

proptest! {
    #[test]
    fn any_order_and_any_repetition_give_the_same_history(order in arbitrary_order(), split in 0usize..20) {
        let events = aftership();
        let mut reference = Journey::new("aftership", "00340434292135100186");
        reference.apply(events.clone());
        let mut journey = Journey::new("aftership", "00340434292135100186");
        let shuffled: Vec<TrackingEvent> = order.iter().map(|&i| events[i].clone()).collect();
        let (a, b) = shuffled.split_at(split.min(shuffled.len()));
        journey.apply(a.to_vec());
        journey.apply(b.to_vec());
        prop_assert_eq!(&journey.events, &reference.events);
        prop_assert_eq!(journey.status(), Some(Status::Delivered));
    }
}

fn berlin_lane() -> WorkingDays {
    WorkingDays {
        weekdays: vec![1, 2, 3, 4, 5],
        calendar: CalendarId::new("DE", None),
        zone: TimeZone::get("Europe/Berlin").unwrap(),
    }
}

#[test]
fn a_friday_evening_scan_is_not_stalled_on_sunday() {
    let rule = StallRule::default();
    let lane = berlin_lane();
    // Friday 4 December 2026, 18:00 in Berlin (CET, +01:00) = 17:00 UTC.
    let last = t("2026-12-04T17:00:00Z");
    let hours = |now: &str| stall::hours_waiting(last, t(now), &rule, &lane, holidays()).unwrap();
    // Sunday noon: only Friday 18:00–24:00 counts, 6 h.
    assert_eq!(hours("2026-12-06T11:00:00Z"), 6.0);
    assert_eq!(stall::assess(last, t("2026-12-06T11:00:00Z"), &rule, &lane, holidays()).unwrap(), StallLevel::Moving);
    // Tuesday 18:00 Berlin: 6 (Fri) + 24 (Mon) + 18 (Tue) = 48 h, the threshold.
    assert_eq!(hours("2026-12-08T17:00:00Z"), 48.0);
    assert_eq!(stall::assess(last, t("2026-12-08T17:00:00Z"), &rule, &lane, holidays()).unwrap(), StallLevel::Stalled);
    // Friday 18:00 the week after: 6 + 4 × 24 + 18 = 120 h ≥ 96, escalated.
    assert_eq!(hours("2026-12-11T17:00:00Z"), 120.0);
    assert_eq!(
        stall::assess(last, t("2026-12-11T17:00:00Z"), &rule, &lane, holidays()).unwrap(),
        StallLevel::Escalated
    );
}

#[test]
fn german_christmas_does_not_count_but_plain_hours_do() {
    let lane = berlin_lane();
    // Wednesday 23 December 2026, 18:00 Berlin. Thursday 24th works; Friday 25th and Saturday 26th are public
    // holidays (Erster and Zweiter Weihnachtstag, holiday data DE 2026), Sunday 27th is not a working day.
    let last = t("2026-12-23T17:00:00Z");
    let business = StallRule::default();
    let sunday = t("2026-12-27T11:00:00Z");
    // 6 h (Wed) + 24 h (Thu) = 30 h of business time by Sunday noon…
    assert_eq!(stall::hours_waiting(last, sunday, &business, &lane, holidays()).unwrap(), 30.0);
    assert_eq!(stall::assess(last, sunday, &business, &lane, holidays()).unwrap(), StallLevel::Moving);
    // …and Monday 28th 18:00 Berlin reaches 30 + 18 = 48 h.
    assert_eq!(
        stall::assess(last, t("2026-12-28T17:00:00Z"), &business, &lane, holidays()).unwrap(),
        StallLevel::Stalled
    );
    // A lane on plain elapsed hours: Sunday noon is 90 h after the scan, stalled (and not yet 96).
    let elapsed = StallRule { clock: StallClock::Elapsed, ..StallRule::default() };
    assert_eq!(stall::hours_waiting(last, sunday, &elapsed, &lane, holidays()).unwrap(), 90.0);
    assert_eq!(stall::assess(last, sunday, &elapsed, &lane, holidays()).unwrap(), StallLevel::Stalled);
}

#[test]
fn a_day_with_a_clock_change_counts_its_real_length() {
    // Sunday 25 October 2026 in Berlin has 25 hours (CEST → CET). A lane working every day counts all of them.
    let lane = WorkingDays { weekdays: vec![1, 2, 3, 4, 5, 6, 7], ..berlin_lane() };
    let start = t("2026-10-24T22:00:00Z"); // Sunday 00:00 CEST
    let end = t("2026-10-25T23:00:00Z"); // Monday 00:00 CET
    assert_eq!(stall::working_seconds(start, end, &lane, holidays()).unwrap(), 25 * 3600);
}

fn delivered_in_berlin() -> (TrackingEvent, Vec<TrackingEvent>) {
    let events = aftership();
    (events[6].clone(), events)
}

fn berlin(point: Option<(f64, f64)>) -> Destination {
    Destination { point, area: AreaType::Urban, zone: TimeZone::get("Europe/Berlin").unwrap() }
}

#[test]
fn a_delivery_near_the_address_in_daytime_passes() {
    let (delivered, history) = delivered_in_berlin();
    // Unter den Linden 77 (52.51630, 13.37770): the GPS (52.51718, 13.38886) is about 760 m east.
    let metres = pod::distance_m((52.51718, 13.38886), (52.51630, 13.37770));
    assert!((740.0..780.0).contains(&metres), "{metres}");
    let policy = PodPolicy { required: PodRequirement::None, gps: true };
    let checked =
        pod::assess(&delivered, &history, &policy, &SuspectRules::default(), &berlin(Some((52.51630, 13.37770))));
    assert!(!checked.pod_missing && !checked.suspect_delivery, "{checked:?}");
    assert!(checked.checks.iter().all(|c| c.passed));
}

#[test]
fn missing_proof_far_gps_night_time_and_scans_after_delivery_are_flagged() {
    let (delivered, history) = delivered_in_berlin();
    // A signature is required: the AfterShip webhook carries a name but no signature file.
    let signature = PodPolicy { required: PodRequirement::Signature, gps: false };
    let rules = SuspectRules::default();
    let checked = pod::assess(&delivered, &history, &signature, &rules, &berlin(None));
    assert!(checked.pod_missing);
    // Potsdam (52.3906, 13.0645) is about 25 km from the GPS: far beyond an urban area's 1,000 m.
    let far = pod::assess(&delivered, &history, &PodPolicy::default(), &rules, &berlin(Some((52.3906, 13.0645))));
    assert!(far.suspect_delivery);
    assert!(far.checks.iter().any(|c| c.name == "gps_near_address" && !c.passed));
    // The same distance in a remote area (25,000 m allowed) is … still just over: 25.5 km.
    let remote = Destination { area: AreaType::Remote, ..berlin(Some((52.3906, 13.0645))) };
    let d = pod::distance_m((52.51718, 13.38886), (52.3906, 13.0645));
    assert_eq!(
        pod::assess(&delivered, &history, &PodPolicy::default(), &rules, &remote).suspect_delivery,
        d > 25_000.0
    );
    // 03:10 local is outside 06:00–22:00.
    let mut night = delivered.clone();
    night.occurred_at = t("2026-11-26T02:10:00Z");
    let checked = pod::assess(&night, &history, &PodPolicy::default(), &rules, &berlin(None));
    assert!(checked.suspect_delivery);
    assert!(checked.checks.iter().any(|c| c.name == "delivery_time_plausible" && !c.passed));
    // Delivered, then loaded onto a vehicle again: doubtful.
    let mut early = delivered.clone();
    early.occurred_at = t("2026-11-25T10:00:00Z");
    let checked = pod::assess(&early, &history, &PodPolicy::default(), &rules, &berlin(None));
    assert!(checked.checks.iter().any(|c| c.name == "scan_sequence" && !c.passed), "{checked:?}");
}

#[test]
fn thresholds_are_configuration() {
    let (delivered, history) = delivered_in_berlin();
    let point = Some((52.51630, 13.37770)); // about 760 m away
    let strict: SuspectRules = toml::from_str("max_distance_m = { urban = 500 }").unwrap();
    assert!(pod::assess(&delivered, &history, &PodPolicy::default(), &strict, &berlin(point)).suspect_delivery);
    assert!(
        !pod::assess(&delivered, &history, &PodPolicy::default(), &SuspectRules::default(), &berlin(point))
            .suspect_delivery
    );
}

mod kpis {
    use jiff::civil::date;
    use lastmile_core::tracking::kpi::{Facts, Rollup, business_days};

    use super::*;

    fn facts(delivered: bool, transit: Option<u32>) -> Facts {
        Facts {
            line: "us-ground".into(),
            lane: "US>US-AK".into(),
            day: date(2026, 11, 16),
            delivered,
            transit_business_days: transit,
            sla_days: 5,
            exception: false,
            pod_required: false,
            pod_present: false,
            suspect_delivery: false,
            stalled: false,
            claimed: false,
            claim_cycle_days: None,
        }
    }

    fn five() -> Vec<Facts> {
        vec![
            Facts { pod_required: true, pod_present: true, ..facts(true, Some(2)) },
            Facts { exception: true, pod_required: true, ..facts(true, Some(4)) },
            Facts { suspect_delivery: true, ..facts(true, Some(7)) },
            Facts { stalled: true, claimed: true, claim_cycle_days: Some(12), ..facts(false, None) },
            Facts { claimed: true, ..facts(true, Some(4)) },
        ]
    }

    #[test]
    fn a_small_set_checked_by_hand() {
        let mut rollup = Rollup::default();
        five().iter().for_each(|f| rollup.add(f));
        // 4 of 5 delivered.
        assert_eq!(rollup.delivery_rate(), Some(0.8));
        // Transit days 2, 4, 4, 7: mean 17 / 4; nearest rank p50 = 2nd of 4 = 4, p90 = ceil(3.6) = 4th = 7.
        assert_eq!(rollup.average_transit_days(), Some(4.25));
        assert_eq!((rollup.transit_percentile(0.5), rollup.transit_percentile(0.9)), (Some(4), Some(7)));
        // Within 5 business days: 2, 4, 4 of the four timed deliveries.
        assert_eq!(rollup.within_sla_rate(), Some(0.75));
        assert_eq!(rollup.exception_rate(), Some(0.2));
        // POD required on two deliveries, present on one.
        assert_eq!(rollup.pod_compliance(), Some(0.5));
        assert_eq!((rollup.suspect_deliveries, rollup.stalled), (1, 1));
        // Two claims of five shipments; one closed after 12 days.
        assert_eq!((rollup.claim_rate(), rollup.average_claim_cycle_days()), (Some(0.4), Some(12.0)));
    }

    #[test]
    fn changed_facts_replace_the_old_ones_and_merging_adds_up() {
        let all = five();
        let mut rollup = Rollup::default();
        all.iter().for_each(|f| rollup.add(f));
        // The stalled parcel turns up: delivered in 9 business days, no longer stalled, claim still closed.
        let before = all[3].clone();
        let after = Facts { delivered: true, transit_business_days: Some(9), stalled: false, ..before.clone() };
        rollup.remove(&before);
        rollup.add(&after);
        assert_eq!(rollup.delivery_rate(), Some(1.0));
        assert_eq!(rollup.stalled, 0);
        assert_eq!(rollup.transit_percentile(1.0), Some(9));
        assert_eq!(rollup.within_sla_rate(), Some(0.6), "3 of 5 within 5 days");
        assert_eq!(rollup.average_claim_cycle_days(), Some(12.0));
        // Two halves merged equal the whole.
        let (mut left, mut right) = (Rollup::default(), Rollup::default());
        all[..2].iter().for_each(|f| left.add(f));
        all[2..].iter().for_each(|f| right.add(f));
        left.merge(&right);
        let mut whole = Rollup::default();
        all.iter().for_each(|f| whole.add(f));
        assert_eq!(left, whole);
        // Taking every shipment out leaves nothing behind.
        all.iter().for_each(|f| whole.remove(f));
        assert_eq!(whole, Rollup::default());
    }

    #[test]
    fn business_days_skip_weekends_and_thanksgiving() {
        let lane = WorkingDays {
            weekdays: vec![1, 2, 3, 4, 5],
            calendar: CalendarId::new("US", None),
            zone: TimeZone::get("America/Anchorage").unwrap(),
        };
        // Handed over Wednesday 25 November 2026, delivered Monday 30th: Thursday 26th is Thanksgiving (US
        // holiday data 2026), Friday 27th counts, the weekend does not, Monday does: 2.
        assert_eq!(business_days(date(2026, 11, 25), date(2026, 11, 30), &lane, holidays()).unwrap(), 2);
        assert_eq!(business_days(date(2026, 11, 30), date(2026, 11, 30), &lane, holidays()).unwrap(), 0);
        // Monday to Tuesday: 1.
        assert_eq!(business_days(date(2026, 11, 30), date(2026, 12, 1), &lane, holidays()).unwrap(), 1);
    }
}
