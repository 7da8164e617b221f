//! Carrier claims: the line's terms as data (`shared/data/claims/terms.toml`), detection of lost, damaged and
//! late shipments from their facts at a given date, amounts per the terms (cap, insurance, deductible) with
//! their arithmetic, filing deadlines on the line's business calendar, one claim per shipment and type, the
//! status pipeline and its cycle time, and the per-carrier CSV export. Rules in `docs/claims.md`.

pub mod detect;
pub mod export;
pub mod pipeline;
pub mod terms;

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::detect::{Scan, ShipmentFacts, detect};
    use super::export::carrier_csv;
    use super::pipeline::{ClaimStatus, PipelineError, new_claims};
    use super::terms::Terms;
    use crate::calendar::holidays;
    use crate::tracking::status::{Reason, Status};

    fn damaged_scans() -> [Scan; 2] {
        [
            Scan { date: date(2026, 12, 1), status: Status::Exception, reason: Some(Reason::Damaged) },
            Scan { date: date(2026, 12, 2), status: Status::Delivered, reason: None },
        ]
    }

    fn facts<'a>(id: &'a str, scans: &'a [Scan]) -> ShipmentFacts<'a> {
        ShipmentFacts {
            shipment_id: id,
            line: "us-national-ground",
            tracking_number: "1Z\"42\", box",
            scans,
            promised: Some(date(2026, 12, 1)),
            goods_value: 5_000,
            insured_value: None,
            shipping_charge: 1_390,
            inspection_damage: None,
        }
    }

    #[test]
    fn running_the_job_twice_creates_nothing_new() {
        let scans = damaged_scans();
        let run = || detect(Terms::builtin().unwrap(), holidays(), &facts("shp_7", &scans), date(2026, 12, 3)).unwrap();
        let first = new_claims(&[], run());
        // Damaged (5000 under the cap) and late (delivered Dec 2 after the guaranteed Dec 1).
        let ids: Vec<&str> = first.iter().map(|c| c.id()).collect();
        assert_eq!(ids, ["shp_7#damaged", "shp_7#late"]);
        assert!(new_claims(&first, run()).is_empty());
        // The same candidate twice in one run is one claim.
        let twice: Vec<_> = run().into_iter().chain(run()).collect();
        assert_eq!(new_claims(&[], twice).len(), 2);
    }

    #[test]
    fn the_pipeline_refuses_illegal_moves_and_measures_cycle_time() {
        let scans = damaged_scans();
        let candidates =
            detect(Terms::builtin().unwrap(), holidays(), &facts("shp_7", &scans), date(2026, 12, 3)).unwrap();
        let mut claim = new_claims(&[], candidates).remove(0);
        assert!(matches!(claim.advance(ClaimStatus::Paid, date(2026, 12, 4)), Err(PipelineError::Illegal { .. })));
        claim.advance(ClaimStatus::Filed, date(2026, 12, 4)).unwrap();
        assert!(matches!(
            claim.advance(ClaimStatus::Filed, date(2026, 12, 5)),
            Err(PipelineError::AlreadyThere { .. })
        ));
        assert_eq!(claim.cycle_time_days(), None);
        claim.advance(ClaimStatus::Approved, date(2026, 12, 20)).unwrap();
        assert!(matches!(claim.advance(ClaimStatus::Denied, date(2026, 12, 21)), Err(PipelineError::Illegal { .. })));
        claim.advance(ClaimStatus::Paid, date(2027, 1, 2)).unwrap();
        // Dec 4 → Jan 2: 27 days left in December + 2 = 29.
        assert_eq!(claim.cycle_time_days(), Some(29));
        assert!(matches!(claim.advance(ClaimStatus::Draft, date(2027, 1, 3)), Err(PipelineError::Illegal { .. })));
    }

    #[test]
    fn the_carrier_export_quotes_fields_as_rfc_4180() {
        let scans = damaged_scans();
        let candidates =
            detect(Terms::builtin().unwrap(), holidays(), &facts("shp_7", &scans), date(2026, 12, 3)).unwrap();
        let claims = new_claims(&[], candidates);
        let csv = carrier_csv(&claims, "Example Parcel").unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "claim_id,tracking_number,shipment_id,line,claim_type,amount,currency,deadline,status,evidence,arithmetic"
        );
        // A quote inside a field is doubled and the field quoted; 5000 minor = 50.00.
        assert!(
            lines[1].starts_with("shp_7#damaged,\"1Z\"\"42\"\", box\",shp_7,us-national-ground,damaged,50.00,USD,"),
            "{}",
            lines[1]
        );
        assert_eq!(lines.len(), 3);
        assert_eq!(
            carrier_csv(&claims, "Example Courier UK").unwrap().lines().count(),
            1,
            "another carrier's export has its header only"
        );
    }
}
