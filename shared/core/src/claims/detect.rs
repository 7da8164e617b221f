//! Which claims a shipment's facts support at a given date: lost (no scan for more than the line's
//! lost-after business days), damaged (a damage exception or a return inspection's finding), late (delivered
//! after the guaranteed date on a money-back line); each with its amount worked out and its filing deadline.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::terms::{ClaimType, DayCount, LineTerms, Terms, WindowStart};
use crate::calendar::{self, CalendarError, Holidays};
use crate::money::{Currency, Money};
use crate::tracking::status::{Reason, Status};

/// One tracking event as the claims job needs it: its local date, status and exception reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    pub date: Date,
    pub status: Status,
    pub reason: Option<Reason>,
}

/// What is known about one shipment, in the line's currency.
#[derive(Debug, Clone)]
pub struct ShipmentFacts<'a> {
    pub shipment_id: &'a str,
    /// Rate card id of the line it travelled on.
    pub line: &'a str,
    pub tracking_number: &'a str,
    /// Any order.
    pub scans: &'a [Scan],
    /// The promised (on money-back lines: guaranteed) delivery date.
    pub promised: Option<Date>,
    /// Declared value of the contents.
    pub goods_value: i64,
    /// Value insured when cover was bought.
    pub insured_value: Option<i64>,
    /// What the shipment cost: a money-back refund returns it.
    pub shipping_charge: i64,
    /// A return inspection's damage finding, in words.
    pub inspection_damage: Option<&'a str>,
}

/// A claim the facts support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// `{shipment}#{type}`: one claim per shipment and type, however often the job runs.
    pub id: String,
    pub shipment_id: String,
    pub line: String,
    pub carrier: String,
    pub tracking_number: String,
    pub claim_type: ClaimType,
    pub amount: Money,
    /// The amount's arithmetic, in words.
    pub arithmetic: String,
    /// Why the claim applies.
    pub evidence: String,
    /// Last day to file.
    pub deadline: Date,
    pub deadline_passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("no claim terms for line {0}")]
    UnknownLine(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The identity of a shipment's claim of one type.
pub fn claim_id(shipment_id: &str, claim_type: ClaimType) -> String {
    format!("{shipment_id}#{}", claim_type.as_str())
}

/// The claims `facts` support on `today`, checked against the line's `terms`.
pub fn detect(
    terms: &Terms,
    holidays: &Holidays,
    facts: &ShipmentFacts<'_>,
    today: Date,
) -> Result<Vec<Candidate>, DetectError> {
    let line = terms.line(facts.line).ok_or_else(|| DetectError::UnknownLine(facts.line.to_owned()))?;
    let calendar = line.calendar_id();
    let last_scan = facts.scans.iter().map(|s| s.date).max();
    let delivered = facts.scans.iter().filter(|s| s.status == Status::Delivered).map(|s| s.date).min();
    let ended = facts.scans.iter().any(|s| s.status.is_final());
    let mut found: Vec<(ClaimType, String)> = Vec::new();

    if let Some(lost_scan) = facts.scans.iter().find(|s| s.reason == Some(Reason::Lost)) {
        found.push((ClaimType::Lost, format!("the carrier reported the parcel lost on {}", lost_scan.date)));
    } else if let Some(last) = last_scan.filter(|_| !ended) {
        let quiet = calendar::business_days_between(holidays, &calendar, last, today)?;
        if quiet > line.lost_after_business_days {
            found.push((
                ClaimType::Lost,
                format!(
                    "no scan for {quiet} business days since {last}, more than the line's {}",
                    line.lost_after_business_days
                ),
            ));
        }
    }
    if let Some(damage) = facts.scans.iter().find(|s| s.reason == Some(Reason::Damaged)) {
        found.push((ClaimType::Damaged, format!("damage exception on {}", damage.date)));
    } else if let Some(finding) = facts.inspection_damage {
        found.push((ClaimType::Damaged, format!("return inspection: {finding}")));
    }
    if line.money_back_guarantee
        && let (Some(delivered), Some(promised)) = (delivered, facts.promised)
        && delivered > promised
    {
        found.push((ClaimType::Late, format!("delivered {delivered}, after the guaranteed {promised}")));
    }

    let mut candidates = Vec::new();
    for (claim_type, evidence) in found {
        let Some(window) = line.filing.get(&claim_type) else { continue };
        let (minor, arithmetic) = amount(line, facts, claim_type);
        if minor <= 0 {
            continue;
        }
        let start = match window.from {
            WindowStart::Delivery => delivered,
            WindowStart::LastScan => last_scan,
            WindowStart::Promised => facts.promised,
        }
        // A lost parcel has no delivery; a damaged one may have no promise: the last scan stands in.
        .or(last_scan)
        .unwrap_or(today);
        let deadline = match window.count {
            DayCount::Business => calendar::add_business_days(holidays, &calendar, start, window.days)?,
            DayCount::Calendar => {
                let end = start.checked_add(jiff::Span::new().days(i64::from(window.days))).unwrap_or(start);
                calendar::on_or_next_business_day(holidays, &calendar, end)?
            }
        };
        candidates.push(Candidate {
            id: claim_id(facts.shipment_id, claim_type),
            shipment_id: facts.shipment_id.to_owned(),
            line: facts.line.to_owned(),
            carrier: line.carrier.clone(),
            tracking_number: facts.tracking_number.to_owned(),
            claim_type,
            amount: Money::new(minor, line.currency),
            arithmetic,
            evidence,
            deadline,
            deadline_passed: today > deadline,
        });
    }
    Ok(candidates)
}

/// The amount of a claim per the line's terms, with its arithmetic.
pub fn amount(line: &LineTerms, facts: &ShipmentFacts<'_>, claim_type: ClaimType) -> (i64, String) {
    let show = |minor: i64| show(minor, line.currency);
    if claim_type == ClaimType::Late {
        return (
            facts.shipping_charge,
            format!("money-back refund of the shipping charge {}", show(facts.shipping_charge)),
        );
    }
    let insured = facts.insured_value.filter(|_| line.insurance_raises_cap);
    let (cap, cap_reason) = match insured {
        Some(insured) if insured > line.declared_value_cap => (insured, "insured value"),
        _ => (line.declared_value_cap, "the line's liability without insurance"),
    };
    let covered = facts.goods_value.min(cap);
    let minor = (covered - line.deductible).max(0);
    (
        minor,
        format!(
            "value {} capped at {} ({cap_reason}) = {}, less deductible {} = {}",
            show(facts.goods_value),
            show(cap),
            show(covered),
            show(line.deductible),
            show(minor)
        ),
    )
}

fn show(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::calendar::holidays;
    use crate::claims::terms::BUILTIN;

    fn scan(date: Date, status: Status) -> Scan {
        Scan { date, status, reason: None }
    }

    fn facts<'a>(line: &'a str, scans: &'a [Scan]) -> ShipmentFacts<'a> {
        ShipmentFacts {
            shipment_id: "shp_1",
            line,
            tracking_number: "1Z999",
            scans,
            promised: None,
            goods_value: 25_000,
            insured_value: None,
            shipping_charge: 1_390,
            inspection_damage: None,
        }
    }

    fn run(facts: &ShipmentFacts<'_>, today: Date) -> Vec<Candidate> {
        detect(Terms::builtin().unwrap(), holidays(), facts, today).unwrap()
    }

    fn damaged_on(day: Date) -> [Scan; 2] {
        [scan(day, Status::Delivered), Scan { date: day, status: Status::Exception, reason: Some(Reason::Damaged) }]
    }

    #[test]
    fn lost_after_boundary_counts_business_days_over_a_weekend_and_thanksgiving() {
        // us-national-ground: lost after 8 business days. Last scan Mon 2026-11-16; business days after it:
        // 17,18,19,20 (4), 23,24,25 (7), Thu 26 is Thanksgiving, Fri 27 (8), Sat/Sun, Mon 30 (9).
        let scans = [scan(date(2026, 11, 16), Status::InTransit)];
        let f = facts("us-national-ground", &scans);
        assert!(run(&f, date(2026, 11, 27)).is_empty(), "day 8 is not yet lost");
        assert!(run(&f, date(2026, 11, 29)).is_empty(), "the weekend adds no business day");
        let lost = run(&f, date(2026, 11, 30));
        assert_eq!(lost.len(), 1, "day 9 is lost");
        assert_eq!(lost[0].claim_type, ClaimType::Lost);
        assert_eq!(lost[0].id, "shp_1#lost");
        // 60 calendar days from the last scan: Nov 16 + 14 = Nov 30, + 31 = Dec 31, + 15 = Fri 2027-01-15.
        assert_eq!(lost[0].deadline, date(2027, 1, 15));
        // A delivered parcel is never lost, however long ago its last scan.
        let delivered = [scan(date(2026, 11, 16), Status::Delivered)];
        assert!(run(&facts("us-national-ground", &delivered), date(2026, 12, 30)).is_empty());
    }

    #[test]
    fn the_cap_applies_without_insurance() {
        // $250.00 of goods, $100.00 liability, no deductible: min(25000, 10000) − 0 = 10000.
        let scans = damaged_on(date(2026, 12, 1));
        let claims = run(&facts("us-national-ground", &scans), date(2026, 12, 2));
        assert_eq!(claims[0].claim_type, ClaimType::Damaged);
        assert_eq!(claims[0].amount.minor, 10_000);
        assert!(claims[0].arithmetic.contains("capped at 100.00 USD"), "{}", claims[0].arithmetic);
    }

    #[test]
    fn insurance_raises_the_cap_where_the_line_allows() {
        let scans = damaged_on(date(2026, 12, 1));
        // Insured $300.00 > $100.00: cap 30000; min(25000, 30000) = 25000.
        let insured = ShipmentFacts { insured_value: Some(30_000), ..facts("us-national-ground", &scans) };
        assert_eq!(run(&insured, date(2026, 12, 2))[0].amount.minor, 25_000);
        // de-paket: insurance does not raise the 500 € cap: 800 € of goods insured for 1000 € → 50000.
        let paket = ShipmentFacts { goods_value: 80_000, insured_value: Some(100_000), ..facts("de-paket", &scans) };
        assert_eq!(run(&paket, date(2026, 12, 2))[0].amount.minor, 50_000);
        // Postal ground covers nothing without insurance: cap 0 → no claim worth filing.
        assert!(run(&facts("us-postal-ground", &scans), date(2026, 12, 2)).is_empty());
    }

    #[test]
    fn the_deductible_comes_off_after_the_cap() {
        let scans = damaged_on(date(2026, 12, 1));
        // gb-courier-economy: £20.00 cap, £2.50 deductible. £15.00 of goods: min(1500, 2000) − 250 = 1250.
        let small = ShipmentFacts { goods_value: 1_500, ..facts("gb-courier-economy", &scans) };
        assert_eq!(run(&small, date(2026, 12, 2))[0].amount.minor, 1_250);
        // £50.00 of goods: min(5000, 2000) − 250 = 1750.
        let large = ShipmentFacts { goods_value: 5_000, ..facts("gb-courier-economy", &scans) };
        let claim = &run(&large, date(2026, 12, 2))[0];
        assert_eq!(claim.amount.minor, 1_750);
        assert_eq!(
            claim.arithmetic,
            "value 50.00 GBP capped at 20.00 GBP (the line's liability without insurance) = 20.00 GBP, less deductible 2.50 GBP = 17.50 GBP"
        );
    }

    #[test]
    fn a_calendar_day_deadline_on_a_weekend_or_holiday_moves_to_the_next_business_day() {
        // Damage: 60 calendar days from delivery. Delivered Thu 2026-11-19: Nov 19 + 11 = Nov 30, + 31 = Dec 31,
        // + 18 = Mon 2027-01-18, Martin Luther King Jr. Day → Tue 2027-01-19.
        let scans = damaged_on(date(2026, 11, 19));
        assert_eq!(run(&facts("us-national-ground", &scans), date(2026, 11, 20))[0].deadline, date(2027, 1, 19));
        // Delivered Tue 2026-11-17: + 60 = Sat 2027-01-16 → Sun → Mon 18 (holiday) → Tue 2027-01-19.
        let scans = damaged_on(date(2026, 11, 17));
        assert_eq!(run(&facts("us-national-ground", &scans), date(2026, 11, 20))[0].deadline, date(2027, 1, 19));
    }

    #[test]
    fn late_on_a_money_back_line_but_not_on_a_standard_one() {
        // Guaranteed Thu 2026-12-17, delivered Fri 12-18. Refund = the shipping charge 1390.
        let scans = [scan(date(2026, 12, 14), Status::InTransit), scan(date(2026, 12, 18), Status::Delivered)];
        let late = ShipmentFacts { promised: Some(date(2026, 12, 17)), ..facts("us-national-ground", &scans) };
        let claims = run(&late, date(2026, 12, 21));
        assert_eq!(claims.len(), 1);
        assert_eq!((claims[0].claim_type, claims[0].amount.minor), (ClaimType::Late, 1_390));
        // 15 business days after Fri Dec 18: 21,22,23,24 (4), Dec 25 Christmas, 28,29,30,31 (8),
        // Jan 1 New Year, Jan 4–8 (13), Jan 11 (14), Tue Jan 12 (15).
        assert_eq!(claims[0].deadline, date(2027, 1, 12));
        let standard = ShipmentFacts { promised: Some(date(2026, 12, 17)), ..facts("us-postal-ground", &scans) };
        assert!(run(&standard, date(2026, 12, 21)).is_empty());
        // On time on the money-back line: nothing.
        let on_time = ShipmentFacts { promised: Some(date(2026, 12, 18)), ..facts("us-national-ground", &scans) };
        assert!(run(&on_time, date(2026, 12, 21)).is_empty());
    }

    #[test]
    fn an_inspection_finding_is_damage_and_the_deadline_can_pass() {
        let scans = [scan(date(2026, 11, 2), Status::Delivered)];
        let inspected =
            ShipmentFacts { inspection_damage: Some("cracked housing"), ..facts("us-national-ground", &scans) };
        let claims = run(&inspected, date(2027, 1, 5));
        assert_eq!(claims[0].evidence, "return inspection: cracked housing");
        // Nov 2 + 60 = Fri 2027-01-01, New Year's Day → Mon 2027-01-04, the day before `today`.
        assert_eq!(claims[0].deadline, date(2027, 1, 4));
        assert!(claims[0].deadline_passed);
    }

    #[test]
    fn changing_the_terms_file_changes_the_answer() {
        let scans = [scan(date(2026, 11, 16), Status::InTransit)];
        let f = facts("us-national-ground", &scans);
        let longer =
            Terms::from_toml(&BUILTIN.replace("lost_after_business_days = 8", "lost_after_business_days = 9")).unwrap();
        assert_eq!(detect(Terms::builtin().unwrap(), holidays(), &f, date(2026, 11, 30)).unwrap().len(), 1);
        assert!(detect(&longer, holidays(), &f, date(2026, 11, 30)).unwrap().is_empty());
        let unknown = facts("xx-nowhere", &scans);
        assert_eq!(
            detect(Terms::builtin().unwrap(), holidays(), &unknown, date(2026, 11, 30)),
            Err(DetectError::UnknownLine("xx-nowhere".into()))
        );
    }
}
