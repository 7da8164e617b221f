//! Carrier invoice reconciliation: invoice files read through their layouts as data
//! (`shared/data/invoices/layouts.toml`), once per file by content hash; each line matched to a quoted shipment
//! by tracking number, re-rated on the rate card with the carrier's measured weight and sides, and its
//! differences classified (overcharge beyond the line's tolerance, surcharge billed but not quoted, duplicate,
//! unknown tracking number, accepted weight adjustment) with amounts, reasons, totals and a dispute file.

pub mod check;
pub mod dispute;
pub mod layout;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use jiff::civil::date;

    use super::check::{Kind, QuotedShipment, Reconciliation, reconcile};
    use super::dispute::dispute_csv;
    use super::layout::{BUILTIN, Layouts, parse};
    use crate::rating::card::{RateCard, builtin};
    use crate::units::Dimensions;

    const US: &str = include_str!("../../../data/invoices/example-parcel-us.csv");
    const UK: &str = include_str!("../../../data/invoices/example-courier-uk.csv");

    fn card(id: &str) -> Option<&'static RateCard> {
        builtin().iter().flatten().find(|c| c.id == id)
    }

    fn quoted(
        tracking: &str,
        line: &str,
        zone: &str,
        grams: u64,
        mm: [u32; 3],
        charges: &[(&str, i64)],
    ) -> QuotedShipment {
        QuotedShipment {
            shipment_id: format!("shp_{tracking}"),
            tracking_number: tracking.to_owned(),
            line: line.to_owned(),
            zone: zone.to_owned(),
            ship_date: date(2026, 11, 2),
            grams,
            dimensions: Some(Dimensions { length_mm: mm[0], width_mm: mm[1], height_mm: mm[2] }),
            residential: Some(false),
            remote_area: charges.iter().any(|(code, _)| *code == "remote_area"),
            postcode: "10001".into(),
            options: vec![],
            charges: charges.iter().map(|(code, minor)| ((*code).to_owned(), *minor)).collect(),
        }
    }

    /// The US fixture's shipments as quoted: 2200 g in a 10 × 8 × 6 in box (254 × 203 × 152 mm), zone 5.
    /// Billable: actual 2200 g = 4.851 lb; volume 480 in³ / 139 = 3.454 lb; max rounded up to 1 lb = 5 lb;
    /// the 5 lb bracket in zone 5 is $17.90.
    fn us_quotes() -> BTreeMap<String, QuotedShipment> {
        ["1ZDIM0000000000001", "1ZOVR0000000000002", "1ZRES0000000000003", "1ZDUP0000000000004"]
            .into_iter()
            .map(|t| (t.to_owned(), quoted(t, "us-national-ground", "5", 2200, [254, 203, 152], &[("base", 1790)])))
            .collect()
    }

    /// The UK fixture's: 1.2 kg in 30 × 20 × 10 cm; 6000 cm³ / 5000 = 1.2 kg → 2 kg bracket, £3.89.
    fn uk_quotes() -> BTreeMap<String, QuotedShipment> {
        let mut quotes: BTreeMap<String, QuotedShipment> = ["H01DIM00000001", "H01OVR00000002"]
            .into_iter()
            .map(|t| (t.to_owned(), quoted(t, "gb-courier-economy", "UK", 1200, [300, 200, 100], &[("base", 389)])))
            .collect();
        let remote = quoted(
            "H01REM00000003",
            "gb-courier-economy",
            "UK",
            1200,
            [300, 200, 100],
            &[("base", 389), ("remote_area", 495)],
        );
        quotes.insert(remote.tracking_number.clone(), remote);
        quotes
    }

    fn run(
        layout: &str,
        text: &str,
        quotes: &BTreeMap<String, QuotedShipment>,
        layouts: &Layouts,
        seen: &BTreeSet<String>,
    ) -> Reconciliation {
        let invoice = parse(&layouts.layouts[layout], text).unwrap();
        reconcile(&invoice, quotes, card, layouts, seen)
    }

    fn found(r: &Reconciliation, tracking: &str) -> Vec<(Kind, String, i64, bool)> {
        r.discrepancies
            .iter()
            .filter(|d| d.tracking_number == tracking)
            .map(|d| (d.kind, d.charge.clone(), d.amount, d.disputed))
            .collect()
    }

    #[test]
    fn a_dimensional_weight_adjustment_is_re_rated_by_hand_and_accepted() {
        let r = run("example-parcel-us", US, &us_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        // Measured 4.85 lb (2200 g), 16 × 12 × 12 in: 2304 in³ × 1000 / 139 = 16575.5 → 16576 mlb, over the actual
        // 4851 mlb; up to 17 lb; the 20 lb bracket in zone 5 is $39.80, billed $39.80. Against the quoted $17.90:
        // 3980 − 1790 = 2190, accepted.
        assert_eq!(found(&r, "1ZDIM0000000000001"), [(Kind::WeightAdjustment, "base".into(), 2190, false)]);
        let dim = r.discrepancies.iter().find(|d| d.tracking_number == "1ZDIM0000000000001").unwrap();
        assert_eq!(dim.expected, 3980);
        assert!(dim.reason.contains("volumetric 2304 in³ / 139 = 16.576 lb"), "{}", dim.reason);
        let uk = run("example-courier-uk", UK, &uk_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        // 40 × 30 × 20 cm = 24000 cm³ / 5000 = 4.8 kg → 5 kg bracket £5.49; quoted £3.89: 549 − 389 = 160.
        assert_eq!(found(&uk, "H01DIM00000001"), [(Kind::WeightAdjustment, "base".into(), 160, false)]);
        // The remote surcharge was quoted and billed as quoted: nothing to say.
        assert!(found(&uk, "H01REM00000003").is_empty());
    }

    #[test]
    fn within_and_over_the_tolerance() {
        // Billed $18.40 against $17.90: 50 over; tolerance max(25, 1 % of 1790 = 17.9 → 18) = 25 → disputed 50.
        let r = run("example-parcel-us", US, &us_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        assert_eq!(found(&r, "1ZOVR0000000000002"), [(Kind::Overcharge, "base".into(), 50, true)]);
        // Billed $18.10: 20 over, within 25.
        let within = US.replace("Ground Commercial,18.40", "Ground Commercial,18.10");
        let r = run("example-parcel-us", &within, &us_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        assert!(found(&r, "1ZOVR0000000000002").is_empty());
        // UK: £4.09 against £3.89 is 20 over a flat 10 → disputed 20.
        let uk = run("example-courier-uk", UK, &uk_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        assert_eq!(found(&uk, "H01OVR00000002"), [(Kind::Overcharge, "base".into(), 20, true)]);
    }

    #[test]
    fn changing_the_tolerance_data_changes_the_answer() {
        let wider = Layouts::from_toml(
            &BUILTIN.replace("us-national-ground = { minor = 25", "us-national-ground = { minor = 60"),
        )
        .unwrap();
        let r = run("example-parcel-us", US, &us_quotes(), &wider, &BTreeSet::new());
        assert!(found(&r, "1ZOVR0000000000002").is_empty());
    }

    #[test]
    fn surcharges_not_quoted_duplicates_and_unknown_numbers_are_disputed_with_totals() {
        let r = run("example-parcel-us", US, &us_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        // Quoted commercial; 10 × 8 × 6 in and 4.85 lb are far from additional handling's 48 in / 50 lb.
        assert_eq!(
            found(&r, "1ZRES0000000000003"),
            [
                (Kind::SurchargeNotQuoted, "residential".into(), 595, true),
                (Kind::SurchargeNotQuoted, "additional_handling".into(), 3150, true),
            ]
        );
        assert_eq!(found(&r, "1ZDUP0000000000004"), [(Kind::Duplicate, "total".into(), 1790, true)]);
        assert_eq!(found(&r, "1ZUNK0000000000005"), [(Kind::UnknownTrackingNumber, "total".into(), 1220, true)]);
        // Billed: 3980 + 1840 + (1790 + 595 + 3150) + 1790 + 1790 + 1220 = 16155.
        // Quoted: four matched shipments × 1790 = 7160 (the duplicate is not matched again).
        // Disputed: 50 + 595 + 3150 + 1790 + 1220 = 6805. Accepted: 2190.
        assert_eq!(
            (r.totals.billed, r.totals.quoted, r.totals.disputed, r.totals.accepted_adjustments),
            (16155, 7160, 6805, 2190)
        );
        let csv = dispute_csv(&r, crate::money::Currency::new("USD").unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "invoice,tracking_number,file_line,kind,charge,billed,expected,disputed,currency,reason");
        assert_eq!(lines.len(), 1 + 5);
        assert!(
            lines[1].starts_with("INV-US-0001,1ZOVR0000000000002,3,overcharge,base,18.40,17.90,0.50,USD,"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn a_line_billed_again_in_a_later_file_is_a_duplicate() {
        let first = run("example-courier-uk", UK, &uk_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new());
        let seen: BTreeSet<String> = first.billed_keys.iter().cloned().collect();
        // A later invoice bills the remote parcel again, with the same £8.84.
        let later = UK.replace("UK-7781", "UK-7790");
        let later: String = later.lines().take(1).chain(later.lines().skip(3)).map(|l| format!("{l}\n")).collect();
        let second = run("example-courier-uk", &later, &uk_quotes(), Layouts::builtin().unwrap(), &seen);
        assert_eq!(found(&second, "H01REM00000003"), [(Kind::Duplicate, "total".into(), 884, true)]);
        assert_ne!(first.content_hash, second.content_hash);
        // The same file again is the same answer: nothing in reconciling depends on anything but its inputs.
        assert_eq!(first, run("example-courier-uk", UK, &uk_quotes(), Layouts::builtin().unwrap(), &BTreeSet::new()));
    }
}
