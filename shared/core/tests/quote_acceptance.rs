//! The rating issue's acceptance parcels, priced on the compiled-in rate cards with their arithmetic written
//! out: the card rule and the date each step exercises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::{date, time};
use lastmile_core::calendar::{CalendarId, holidays};
use lastmile_core::rating::card::{RateCard, builtin};
use lastmile_core::rating::quote::{Destination, Parcel, Request, quote};
use lastmile_core::rating::transit::{Estimate, Handover, estimate};
use lastmile_core::rating::zone::Place;
use lastmile_core::units::{parse_dimensions, parse_weight};

fn card(id: &str) -> RateCard {
    builtin().iter().filter_map(|c| c.as_ref().ok()).find(|c| c.id == id).cloned().expect(id)
}

fn parcel() -> [Parcel; 1] {
    [Parcel { grams: parse_weight("2.3kg").unwrap(), dimensions: Some(parse_dimensions("40x30x20cm").unwrap()) }]
}

fn request<'a>(
    origin: Place<'a>,
    destination: Destination<'a>,
    parcels: &'a [Parcel],
    day: jiff::civil::Date,
) -> Request<'a> {
    Request {
        origin,
        destination,
        parcels,
        ship_date: day,
        declared_value: None,
        options: &[],
        discount_basis_points: 0,
    }
}

const WEEKDAYS: [u8; 5] = [1, 2, 3, 4, 5];

/// Delivery dates on `card` for a handover at `local` (before a 15:00 cut-off, Mon–Fri warehouse).
fn delivery(
    card: &RateCard,
    zone: &str,
    local: jiff::civil::DateTime,
    origin: CalendarId,
    destination: CalendarId,
) -> Estimate {
    let handover = Handover { local, cutoff: time(15, 0, 0, 0), working_weekdays: &WEEKDAYS, calendar: origin };
    estimate(card.transit.as_ref().unwrap(), zone, &handover, &destination, holidays()).unwrap()
}

/// The address engine flags 99501 as remote (us_non_contiguous) and cannot tell residential from a ZIP.
fn anchorage() -> Destination<'static> {
    Destination {
        country: "US",
        postcode: "99501",
        region: Some("AK"),
        residential: None,
        remote_area: true,
        ..Default::default()
    }
}

#[test]
fn anchorage_from_new_jersey_on_the_day_before_thanksgiving() {
    let card = card("us-national-ground");
    let parcels = parcel();
    let q =
        quote(&card, &request(Place { country: "US", postcode: "07001" }, anchorage(), &parcels, date(2026, 11, 25)))
            .unwrap();
    // [weight] lb, divisor 139, sides to the nearest inch: 40×30×20 cm → 16×12×8 in = 1,536 in³ / 139 =
    // 11.051 lb > actual 2.3 kg = 5.071 lb → billable 12 lb.
    assert_eq!((q.billable[0].actual, q.billable[0].volumetric, q.billable[0].billable), (5071, Some(11_051), 12_000));
    // [zones] distance bands: New Jersey to Anchorage is over 1,800 mi → zone 8.
    assert_eq!(q.zone, "8");
    // [price] bracket up to 20 lb, zone 8: 63.90. Surcharges on 2026-11-25: residential 5.95 (unknown counts
    // as residential), remote_area 16.50, peak 0.45 (2026-11-23..2027-01-17), fuel 18.25 % (2026-11-02..11-29)
    // of 63.90 + 5.95 + 16.50 = 86.35 → 15.758875 → 15.76. Total 63.90 + 5.95 + 16.50 + 0.45 + 15.76 = 102.56.
    let lines: Vec<(&str, i64)> = q.breakdown.iter().map(|c| (c.code.as_str(), c.minor)).collect();
    assert_eq!(lines, [("base", 6390), ("residential", 595), ("remote_area", 1650), ("peak", 45), ("fuel", 1576)]);
    assert_eq!(q.total_minor, 10_256);

    // [transit] zone 8: 5–7 business days, Mon–Fri. Handed over Wed 2026-11-25 10:00 (before a 15:00 cut-off).
    // Thu 11-26 is Thanksgiving (US): day 1 Fri 11-27, 2 Mon 11-30, 3 Tue 12-01, 4 Wed 12-02, 5 Thu 12-03,
    // 6 Fri 12-04, 7 Mon 12-07.
    let dates = delivery(
        &card,
        &q.zone,
        date(2026, 11, 25).at(10, 0, 0, 0),
        CalendarId::new("US", Some("NJ")),
        CalendarId::new("US", Some("AK")),
    );
    assert_eq!((dates.min, dates.max), (date(2026, 12, 3), date(2026, 12, 7)));
    assert!(dates.skipped.iter().any(|s| s.contains("Thanksgiving")));
}

#[test]
fn berlin_to_berlin_two_days_before_christmas() {
    let card = card("de-paket");
    let parcels = parcel();
    let berlin = Destination {
        country: "DE",
        postcode: "10115",
        region: Some("BE"),
        residential: Some(true),
        ..Default::default()
    };
    let q = quote(&card, &request(Place { country: "DE", postcode: "10557" }, berlin, &parcels, date(2026, 12, 23)))
        .unwrap();
    // [weight] kg, actual weight only, 0.1 kg steps: 2.3 kg. [zones] 10115 is in 01–99, not an island: national.
    // [price] bracket up to 5 kg: 6.49; peak 0.19 (2026-11-16..12-31). Total 6.68.
    assert_eq!((q.billable[0].billable, q.zone.as_str(), q.total_minor), (2300, "national", 668));
    // [transit] national 1–2 days, Mon–Sat. Handed over Wed 12-23 10:00. Day 1 Thu 12-24; Fri 12-25 and
    // Sat 12-26 are Christmas (DE), Sun no delivery: day 2 Mon 12-28.
    let dates = delivery(
        &card,
        &q.zone,
        date(2026, 12, 23).at(10, 0, 0, 0),
        CalendarId::new("DE", Some("BE")),
        CalendarId::new("DE", Some("BE")),
    );
    assert_eq!((dates.min, dates.max), (date(2026, 12, 24), date(2026, 12, 28)));
}

#[test]
fn rules_are_data_an_edited_card_changes_the_answer() {
    // A copy of the card with a higher fuel rate for the same dates: 19.25 % of 86.35 = 16.622 → 16.62.
    let text = lastmile_core::rating::card::BUILTIN.iter().find(|(f, _)| *f == "us-national-ground.toml").unwrap().1;
    let edited = RateCard::from_toml(&text.replace("basis_points = 1825", "basis_points = 1925")).unwrap();
    let parcels = parcel();
    let q =
        quote(&edited, &request(Place { country: "US", postcode: "07001" }, anchorage(), &parcels, date(2026, 11, 25)))
            .unwrap();
    assert_eq!(q.breakdown.last().map(|c| (c.code.as_str(), c.minor)), Some(("fuel", 1662)));
    assert_eq!(q.total_minor, 10_342);
}

#[test]
fn lines_that_cannot_carry_a_parcel_are_excluded_with_reasons() {
    let big = [Parcel { grams: 32_000, dimensions: Some(parse_dimensions("130x50x40cm").unwrap()) }];
    let berlin = Destination { country: "DE", postcode: "10115", ..Default::default() };
    let excluded =
        quote(&card("de-paket"), &request(Place { country: "DE", postcode: "10557" }, berlin, &big, date(2026, 12, 1)))
            .unwrap_err();
    // DHL-Paket-like limit 31.5 kg
    assert!(excluded.reason.contains("32000 g is over the line's 31500 g"), "{}", excluded.reason);
    let po_box = Destination { country: "US", postcode: "20500", po_box: true, ..Default::default() };
    let parcels = parcel();
    let nj = Place { country: "US", postcode: "07001" };
    assert!(quote(&card("us-national-ground"), &request(nj, po_box.clone(), &parcels, date(2026, 12, 1))).is_err());
    assert!(quote(&card("us-postal-ground"), &request(nj, po_box, &parcels, date(2026, 12, 1))).is_ok());
    let ohio = Destination { country: "US", postcode: "43215", region: Some("OH"), ..Default::default() };
    let regional = quote(&card("us-regional-northeast"), &request(nj, ohio, &parcels, date(2026, 12, 1))).unwrap_err();
    assert!(regional.reason.contains("delivers only to"), "{}", regional.reason);
}

mod properties {
    use jiff::ToSpan;
    use lastmile_core::rating::quote::{Destination, Parcel, quote};
    use lastmile_core::rating::zone::Place;
    use lastmile_core::units::Dimensions;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// On every compiled-in line: the breakdown adds up to the total, the billable weight is never below the
        /// actual, and a heavier parcel never costs less on the same lane and day.
        #[test]
        fn every_line_adds_up_and_never_bills_below_actual(
            grams in 1u64..40_000, extra in 0u64..5_000,
            l in 10u32..1_500, w in 10u32..800, h in 10u32..800,
            days in 0i64..700, residential in proptest::option::of(any::<bool>()),
        ) {
            let day = date(2026, 1, 1).checked_add(days.days()).unwrap();
            let sides = Some(Dimensions { length_mm: l, width_mm: w, height_mm: h });
            let lanes = [("US", "07001", "US", "99501", Some("AK")), ("DE", "10557", "DE", "80331", Some("BY")),
                ("GB", "M1 1AE", "GB", "EH1 1YZ", None), ("CA", "K2P1L4", "CA", "V6B1A1", Some("BC")),
                ("AU", "2000", "AU", "6000", Some("WA")), ("FR", "75001", "FR", "20000", None)];
            for card in builtin().iter().filter_map(|c| c.as_ref().ok()) {
                for (from_country, from, to_country, to, region) in lanes {
                    let destination = Destination { country: to_country, postcode: to, region, residential, ..Default::default() };
                    let light = [Parcel { grams, dimensions: sides }];
                    let heavy = [Parcel { grams: grams + extra, dimensions: sides }];
                    let origin = Place { country: from_country, postcode: from };
                    let (Ok(a), Ok(b)) = (
                        quote(card, &request(origin, destination.clone(), &light, day)),
                        quote(card, &request(origin, destination, &heavy, day)),
                    ) else { continue };
                    prop_assert_eq!(a.total_minor, a.breakdown.iter().map(|c| c.minor).sum::<i64>());
                    prop_assert!(a.billable.iter().all(|b| b.billable >= b.actual));
                    prop_assert!(b.total_minor >= a.total_minor, "{}: {} g costs {} but {} g costs {}", card.id, grams, a.total_minor, grams + extra, b.total_minor);
                }
            }
        }
    }
}

fn nj() -> Place<'static> {
    Place { country: "US", postcode: "07001" }
}

fn lines_of(q: &lastmile_core::rating::quote::LineQuote) -> Vec<(&str, i64)> {
    q.breakdown.iter().map(|c| (c.code.as_str(), c.minor)).collect()
}

#[test]
fn a_long_parcel_pays_additional_handling_and_large_package_on_ground() {
    // 10 kg, 200×40×30 cm from New Jersey to 10001 (New York, under 150 mi: zone 2) on 2026-12-01.
    // [weight] sides to the nearest inch 79×16×12 = 15,168 in³ / 139 = 109.122 lb > 22.046 lb → 110 lb.
    // [price] bracket up to 150 lb, zone 2: 97.20. [[surcharges]] residential (unknown) 5.95; additional handling
    // 31.50 (longest side 2000 mm > 1219 mm = 48 in); large package 115.00 (length + girth 2000 + 2 × 700 =
    // 3400 mm > 3302 mm = 130 in); peak 0.45; fuel 19.00 % from 2026-11-30 of 97.20 + 5.95 + 31.50 + 115.00 =
    // 249.65 → 47.4335 → 47.43. Total 297.53.
    let parcels = [Parcel { grams: 10_000, dimensions: Some(parse_dimensions("200x40x30cm").unwrap()) }];
    let new_york = Destination { country: "US", postcode: "10001", region: Some("NY"), ..Default::default() };
    let q = quote(&card("us-national-ground"), &request(nj(), new_york, &parcels, date(2026, 12, 1))).unwrap();
    assert_eq!((q.zone.as_str(), q.billable[0].billable), ("2", 110_000));
    assert_eq!(
        lines_of(&q),
        [
            ("base", 9720),
            ("residential", 595),
            ("additional_handling", 3150),
            ("large_package", 11_500),
            ("peak", 45),
            ("fuel", 4743)
        ]
    );
    assert_eq!(q.total_minor, 29_753);
}

#[test]
fn postal_oversize_and_its_length_plus_girth_limit() {
    // 10 kg, 150×40×30 cm to 10001 (zone 1, under 50 mi) on 2026-12-01. [weight] sides up to whole inches
    // 60×16×12 = 11,520 in³ > 1,728 → / 166 = 69.398 lb → 70 lb. [price] bracket up to 70 lb, zone 1: 41.50.
    // oversize 55.00 (length + girth 1500 + 2 × 700 = 2900 mm > 2743 mm = 108 in); peak 0.60. Total 97.10.
    let parcels = [Parcel { grams: 10_000, dimensions: Some(parse_dimensions("150x40x30cm").unwrap()) }];
    let new_york = Destination { country: "US", postcode: "10001", region: Some("NY"), ..Default::default() };
    let postal = card("us-postal-ground");
    let q = quote(&postal, &request(nj(), new_york.clone(), &parcels, date(2026, 12, 1))).unwrap();
    assert_eq!((q.zone.as_str(), q.billable[0].billable), ("1", 70_000));
    assert_eq!(lines_of(&q), [("base", 4150), ("oversize", 5500), ("peak", 60)]);
    assert_eq!(q.total_minor, 9710);
    // 200×40×30 cm is 3400 mm of length + girth, over the postal limit of 3302 mm (130 in): excluded.
    let long = [Parcel { grams: 10_000, dimensions: Some(parse_dimensions("200x40x30cm").unwrap()) }];
    let excluded = quote(&postal, &request(nj(), new_york, &long, date(2026, 12, 1))).unwrap_err();
    assert!(excluded.reason.contains("length + girth 3400 mm is over the line's 3302 mm"), "{}", excluded.reason);
}

#[test]
fn ddp_handling_is_an_option_the_shipper_buys() {
    // de-paket, 2.3 kg to 10115 on 2026-12-01 with DDP: 6.49 + peak 0.19 + DDP handling 2.50 = 9.18.
    let parcels = parcel();
    let berlin = Destination { country: "DE", postcode: "10115", ..Default::default() };
    let ddp = ["ddp".to_owned()];
    let mut with_ddp = request(Place { country: "DE", postcode: "10557" }, berlin, &parcels, date(2026, 12, 1));
    with_ddp.options = &ddp;
    let q = quote(&card("de-paket"), &with_ddp).unwrap();
    assert_eq!(lines_of(&q), [("base", 649), ("peak", 19), ("ddp_handling", 250)]);
}

#[test]
fn pallets_are_priced_per_pallet_with_fuel_on_the_linehaul_only() {
    // Two 300 kg pallets, 150×120×100 cm, New Jersey to 90001 (Los Angeles, over 1,000 mi: "national") with a
    // liftgate on 2026-12-01: 2 × 525.00 = 1,050.00; liftgate 95.00; fuel 28.50 % of the linehaul only
    // (of_surcharges = []): 299.25. Total 1,444.25.
    let pallet = Parcel { grams: 300_000, dimensions: Some(parse_dimensions("150x120x100cm").unwrap()) };
    let pallets = [pallet, pallet];
    let la = Destination { country: "US", postcode: "90001", region: Some("CA"), ..Default::default() };
    let liftgate = ["liftgate".to_owned()];
    let mut shipment = request(nj(), la, &pallets, date(2026, 12, 1));
    shipment.options = &liftgate;
    let q = quote(&card("us-ltl-pallet"), &shipment).unwrap();
    assert_eq!(q.zone, "national");
    assert_eq!(lines_of(&q), [("base", 105_000), ("liftgate", 9500), ("fuel", 29_925)]);
    assert_eq!(q.total_minor, 144_425);
}

#[test]
fn the_regional_line_undercuts_national_ground_where_it_serves() {
    // 2.3 kg, 40×30×20 cm, New Jersey to 10001 on 2026-12-01. Regional: origin prefix 0, destination 100–149 →
    // zone A; 12 lb billable (as national); first lb 6.95 + 11 further lb × 0.55 = 13.00; residential 3.50;
    // fuel 12 % of 16.50 = 1.98. Total 18.48.
    // National: zone 2, bracket up to 20 lb 21.60; residential 5.95; peak 0.45; fuel 19 % of 27.55 = 5.2345 →
    // 5.23. Total 33.23.
    let parcels = parcel();
    let new_york = Destination { country: "US", postcode: "10001", region: Some("NY"), ..Default::default() };
    let regional =
        quote(&card("us-regional-northeast"), &request(nj(), new_york.clone(), &parcels, date(2026, 12, 1))).unwrap();
    assert_eq!(lines_of(&regional), [("base", 1300), ("residential", 350), ("fuel", 198)]);
    let national = quote(&card("us-national-ground"), &request(nj(), new_york, &parcels, date(2026, 12, 1))).unwrap();
    assert_eq!((regional.total_minor, national.total_minor), (1848, 3323));
}
