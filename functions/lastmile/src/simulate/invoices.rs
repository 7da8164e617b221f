//! The carriers' invoices of a simulated season: per carrier with an invoice layout
//! (`shared/data/invoices/layouts.toml`) and per ISO week of shipping, one CSV in the carrier's layout billing
//! each of its shipments as quoted, except at discrepancies planted at places the seed chooses. What is planted
//! is listed with its kind, tracking number, charge and amount ([`Planted`]), so that a reconciliation can be
//! checked against it.
//!
//! Amounts come from the rate card (the rating engine's weight, price and surcharge rules on the billed
//! measurements) and from the stored quote, never from the reconciliation's checker. Each invoice plants, while
//! it has shipments left to plant on:
//!
//! 1. `overcharge` — the base billed above the card's price by the line's tolerance plus 1.00–3.99;
//! 2. `surcharge_not_quoted` — a residential (or, on a residential quote, additional handling) surcharge the quote
//!    did not have and the parcel does not call for;
//! 3. `weight_adjustment` — the parcel measured in a bigger box (at least 40 × 30 × 30 cm) and billed at the
//!    card's price for it: each charge that differs from its quote is an accepted adjustment;
//! 4. `duplicate` — a shipment's line billed a second time in the same file, disputed in full;
//! 5. `unknown_tracking_number` — a line for a number no shipment has, disputed in full.
//!
//! Pure: no I/O, no clock; the draws come from the scenario's seed.

use std::collections::BTreeMap;

use jiff::civil::Date;
use lastmile_core::address::postcode;
use lastmile_core::money::Money;
use lastmile_core::rating::card::RateCard;
use lastmile_core::rating::price::apply_minimum;
use lastmile_core::rating::surcharge::{self, Shipment};
use lastmile_core::reconcile::layout::{Layout, Layouts};
use lastmile_core::units::Dimensions;
use lastmile_platform::repo::shipments::QuotedFacts;
use rand::Rng;
use serde::Serialize;

use super::Scenario;

/// The box a parcel is measured in for a planted weight adjustment, at least (mm).
const BIG_BOX_MM: [u32; 3] = [400, 300, 300];
/// Planted surcharges not quoted, in minor units of the invoice's currency.
const PLANTED_RESIDENTIAL: i64 = 595;
const PLANTED_HANDLING: i64 = 1575;

/// A shipment of the season, as its carrier bills it.
#[derive(Debug, Clone, PartialEq)]
pub struct Billable {
    pub shipment_id: String,
    pub tracking_number: String,
    /// Rate card id.
    pub line: String,
    /// The card's carrier (`Example Parcel`), which names the invoice layout.
    pub carrier: String,
    pub shipped: Date,
    pub quoted: QuotedFacts,
}

/// One invoice file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFile {
    pub layout: String,
    pub invoice_number: String,
    pub csv: String,
}

/// A discrepancy planted in an invoice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlantedDiscrepancy {
    pub tracking_number: String,
    /// As the reconciliation names its kinds: `overcharge`, `surcharge_not_quoted`, …
    pub kind: String,
    /// The charge code, or `total` for a line disputed in full.
    pub charge: String,
    /// Disputed amount, or the accepted difference of a weight adjustment (minor units).
    pub amount: i64,
    pub disputed: bool,
}

/// What one invoice bills and what was planted in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planted {
    pub layout: String,
    pub invoice_number: String,
    pub currency: String,
    /// Everything the file bills (minor units).
    pub billed: i64,
    pub discrepancies: Vec<PlantedDiscrepancy>,
    /// Sum of the disputed amounts.
    pub disputed: i64,
    /// Sum of the accepted weight adjustments.
    pub accepted: i64,
}

/// One billed parcel: the measurements written and the charges by code.
#[derive(Debug, Clone)]
struct Line {
    tracking_number: String,
    grams: u64,
    dimensions: Option<Dimensions>,
    charges: Vec<(String, i64)>,
}

/// The season's invoices, in layout and week order, with what each plants.
pub fn invoices(
    scenario: &Scenario,
    layouts: &Layouts,
    card: impl Fn(&str) -> Option<&'static RateCard>,
    shipments: &[Billable],
) -> Vec<(InvoiceFile, Planted)> {
    // Per layout and ISO week: the shipments it bills, in shipment order.
    let mut groups: BTreeMap<(String, i16, i8), Vec<&Billable>> = BTreeMap::new();
    for s in shipments {
        let Some((id, layout)) = layouts.layouts.iter().find(|(_, l)| l.carrier == s.carrier) else { continue };
        if layout.currency.as_str() != s.quoted.currency {
            continue;
        }
        let week = s.shipped.iso_week_date();
        groups.entry((id.clone(), week.year(), week.week())).or_default().push(s);
    }
    let mut out = Vec::new();
    for ((layout_id, year, week), mut group) in groups {
        group.sort_by(|a, b| a.shipment_id.cmp(&b.shipment_id));
        let layout = &layouts.layouts[&layout_id];
        let prefix: String = layout_id.split('-').filter_map(|w| w.chars().next()).collect::<String>().to_uppercase();
        let invoice_number = format!("SIM-{prefix}-{year}W{week:02}");
        let mut rng = scenario.invoice_rng(&invoice_number);
        // Only shipments the card prices as quoted on the measurements written are billed.
        let mut lines: Vec<(Line, &Billable, &'static RateCard)> = Vec::new();
        for s in group {
            let Some(card) = card(&s.line) else { continue };
            // Written to 4 decimals of a pound or inch (within 0.03 g and 0.002 mm) or in grams and millimetres
            // exactly, the measurements read back are the ones priced here.
            let measured = (s.quoted.grams, dimensions(&s.quoted));
            let Some(priced) = price(card, &s.quoted, measured.0, measured.1) else { continue };
            let billed = billed_codes(layout, &priced);
            if billed.iter().any(|(code, minor)| s.quoted.charges.get(code) != Some(minor)) || billed.is_empty() {
                continue;
            }
            let line = Line {
                tracking_number: s.tracking_number.clone(),
                grams: measured.0,
                dimensions: measured.1,
                charges: billed,
            };
            lines.push((line, s, card));
        }
        if lines.is_empty() {
            continue;
        }
        let mut planted = Vec::new();
        let mut free: Vec<usize> = (0..lines.len()).collect();
        let mut take = |rng: &mut rand_chacha::ChaCha8Rng| {
            (!free.is_empty()).then(|| free.swap_remove(rng.random_range(0..free.len())))
        };
        // 1. An overcharge on the base.
        if let Some(i) = take(&mut rng) {
            let (line, s, _) = &mut lines[i];
            let base = line.charges.iter().find(|(c, _)| c == "base").map_or(0, |(_, m)| *m);
            let over = layouts.tolerance(&s.line).allowed(base) + rng.random_range(100..400);
            for (code, minor) in &mut line.charges {
                if code == "base" {
                    *minor += over;
                }
            }
            planted.push(found(&line.tracking_number, "overcharge", "base", over, true));
        }
        // 2. A surcharge neither quoted nor called for.
        if let Some(i) = take(&mut rng) {
            let (line, s, card) = &mut lines[i];
            let measured = price(card, &s.quoted, line.grams, line.dimensions).unwrap_or_default();
            let candidates = [("residential", PLANTED_RESIDENTIAL), ("additional_handling", PLANTED_HANDLING)];
            let pick = candidates.into_iter().find(|(code, _)| {
                !s.quoted.charges.contains_key(*code)
                    && !measured.contains_key(*code)
                    && column_for(layout, code).is_some()
            });
            if let Some((code, minor)) = pick {
                line.charges.push((code.to_owned(), minor));
                planted.push(found(&line.tracking_number, "surcharge_not_quoted", code, minor, true));
            }
        }
        // 3. A weight adjustment: measured in a bigger box, billed at the card's price for it.
        for _ in 0..5 {
            let Some(i) = take(&mut rng) else { break };
            let (line, s, card) = &mut lines[i];
            let sides = dimensions(&s.quoted).map_or(BIG_BOX_MM, |d| {
                let [a, b, c] = d.sorted_desc();
                [a.max(BIG_BOX_MM[0]), b.max(BIG_BOX_MM[1]), c.max(BIG_BOX_MM[2])]
            });
            let bigger = Dimensions { length_mm: sides[0], width_mm: sides[1], height_mm: sides[2] };
            let dims = Some(bigger);
            let Some(priced) = price(card, &s.quoted, line.grams, dims) else { continue };
            let billed = billed_codes(layout, &priced);
            let adjusted: Vec<(String, i64)> = billed
                .iter()
                .filter_map(|(code, minor)| {
                    let quoted = *s.quoted.charges.get(code)?;
                    (quoted != *minor).then(|| (code.clone(), minor - quoted))
                })
                .collect();
            if !adjusted.iter().any(|(code, _)| code == "base") {
                continue;
            }
            line.dimensions = dims;
            line.charges = billed;
            for (code, amount) in adjusted {
                planted.push(found(&line.tracking_number, "weight_adjustment", &code, amount, false));
            }
            break;
        }
        let mut rows: Vec<Line> = lines.iter().map(|(l, _, _)| l.clone()).collect();
        // 4. A line billed twice.
        if let Some(i) = take(&mut rng) {
            let copy = rows[i].clone();
            let total = copy.charges.iter().map(|(_, m)| m).sum();
            planted.push(found(&copy.tracking_number, "duplicate", "total", total, true));
            let at = rng.random_range(i + 1..=rows.len());
            rows.insert(at, copy);
        }
        // 5. A number no shipment has, billed like one of the shipments.
        let model = rows[rng.random_range(0..rows.len())].clone();
        let number = format!("{}{:010}", unknown_prefix(&layout_id), rng.random_range(0..10_000_000_000u64));
        let total = model.charges.iter().map(|(_, m)| m).sum();
        planted.push(found(&number, "unknown_tracking_number", "total", total, true));
        let at = rng.random_range(0..=rows.len());
        rows.insert(at, Line { tracking_number: number, ..model });

        let billed = rows.iter().flat_map(|l| l.charges.iter().map(|(_, m)| m)).sum();
        planted.sort();
        let disputed = planted.iter().filter(|p| p.disputed).map(|p| p.amount).sum();
        let accepted = planted.iter().filter(|p| !p.disputed).map(|p| p.amount).sum();
        let csv = write_csv(layout, &invoice_number, &rows);
        out.push((
            InvoiceFile { layout: layout_id.clone(), invoice_number: invoice_number.clone(), csv },
            Planted {
                layout: layout_id,
                invoice_number,
                currency: layout.currency.to_string(),
                billed,
                discrepancies: planted,
                disputed,
                accepted,
            },
        ));
    }
    out
}

fn found(tracking_number: &str, kind: &str, charge: &str, amount: i64, disputed: bool) -> PlantedDiscrepancy {
    PlantedDiscrepancy {
        tracking_number: tracking_number.to_owned(),
        kind: kind.to_owned(),
        charge: charge.to_owned(),
        amount,
        disputed,
    }
}

fn unknown_prefix(layout: &str) -> &'static str {
    if layout == "example-parcel-us" { "1ZSIM9" } else { "SIM9" }
}

fn dimensions(quoted: &QuotedFacts) -> Option<Dimensions> {
    quoted.dimensions_mm.map(|[length_mm, width_mm, height_mm]| Dimensions { length_mm, width_mm, height_mm })
}

/// The charges due on `card` for a parcel of `grams` in `dimensions`, with the quote's zone, date and address
/// facts: the card's billable weight, base price (and minimum) and surcharges.
fn price(
    card: &RateCard,
    quoted: &QuotedFacts,
    grams: u64,
    dimensions: Option<Dimensions>,
) -> Option<BTreeMap<String, i64>> {
    let billable = card.weight.billable(grams, dimensions);
    let base = apply_minimum(card.price.base_price(&quoted.zone, billable.billable, 1).ok()?, card.minimum_charge);
    let compact = postcode::compact(&quoted.postcode);
    let shipment = Shipment {
        ship_date: quoted.ship_date,
        actual_grams: grams,
        dimensions,
        residential: quoted.residential,
        remote_area: quoted.remote_area,
        postcode: &compact,
        options: &quoted.options,
    };
    let mut charges = BTreeMap::from([("base".to_owned(), base.minor)]);
    for charge in surcharge::apply(&card.surcharges, base.minor, &shipment) {
        *charges.entry(charge.code).or_default() += charge.minor;
    }
    Some(charges)
}

/// The charges a layout can bill: every code on a row-per-charge layout, the base and the surcharge columns on a
/// row-per-parcel one. Base first.
fn billed_codes(layout: &Layout, charges: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = charges.get("base").map(|m| ("base".to_owned(), *m)).into_iter().collect();
    for (code, minor) in charges {
        if code != "base" && *minor != 0 && column_for(layout, code).is_some() {
            out.push((code.clone(), *minor));
        }
    }
    out
}

/// Where a charge code is billed: its description on a row-per-charge layout (the first one naming it, else the
/// code itself), or its column on a row-per-parcel one.
fn column_for(layout: &Layout, code: &str) -> Option<String> {
    if layout.columns.charge.is_some() {
        let named = layout.charge_codes.iter().find(|(_, c)| c.as_str() == code).map(|(name, _)| name.clone());
        return Some(named.unwrap_or_else(|| code.to_owned()));
    }
    if code == "base" {
        return Some(layout.columns.amount.clone());
    }
    layout.charge_columns.iter().find(|(_, c)| c.as_str() == code).map(|(column, _)| column.clone())
}

fn weight_text(layout: &Layout, grams: u64) -> String {
    use lastmile_core::reconcile::layout::MassUnit;
    match layout.weight_unit {
        MassUnit::Lb => {
            // grams / 453.59237, to 4 decimals, half up.
            let e4 = (2 * u128::from(grams) * 1_000_000_000 + 45_359_237) / (2 * 45_359_237);
            format!("{}.{:04}", e4 / 10_000, e4 % 10_000)
        }
        MassUnit::Kg => format!("{}.{:03}", grams / 1000, grams % 1000),
    }
}

fn length_text(layout: &Layout, mm: u32) -> String {
    use lastmile_core::reconcile::layout::LengthUnit;
    match layout.length_unit {
        LengthUnit::In => {
            // mm / 25.4, to 4 decimals, half up.
            let e4 = (2 * u64::from(mm) * 100_000 + 254) / (2 * 254);
            format!("{}.{:04}", e4 / 10_000, e4 % 10_000)
        }
        LengthUnit::Cm => format!("{}.{}", mm / 10, mm % 10),
    }
}

fn write_csv(layout: &Layout, invoice_number: &str, rows: &[Line]) -> String {
    let money = |minor: i64| Money::new(minor, layout.currency).to_decimal().to_string();
    let c = &layout.columns;
    let mut header = vec![c.invoice.clone(), c.tracking_number.clone(), c.weight.clone(), c.length.clone()];
    header.extend([c.width.clone(), c.height.clone()]);
    let surcharge_columns: Vec<(&String, &String)> = layout.charge_columns.iter().collect();
    match &c.charge {
        Some(charge) => header.extend([charge.clone(), c.amount.clone()]),
        None => {
            header.push(c.amount.clone());
            header.extend(surcharge_columns.iter().map(|(column, _)| (*column).clone()));
        }
    }
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = writer.write_record(&header);
    for line in rows {
        let sides = line.dimensions.map_or([0, 0, 0], |d| [d.length_mm, d.width_mm, d.height_mm]);
        let mut lead = vec![invoice_number.to_owned(), line.tracking_number.clone(), weight_text(layout, line.grams)];
        lead.extend(sides.iter().map(|s| if *s == 0 { "0".to_owned() } else { length_text(layout, *s) }));
        if c.charge.is_some() {
            for (code, minor) in &line.charges {
                let mut record = lead.clone();
                record.extend([column_for(layout, code).unwrap_or_else(|| code.clone()), money(*minor)]);
                let _ = writer.write_record(&record);
            }
        } else {
            let charge = |code: &str| line.charges.iter().filter(|(c, _)| c == code).map(|(_, m)| m).sum::<i64>();
            let mut record = lead;
            record.push(money(charge("base")));
            record.extend(surcharge_columns.iter().map(|(_, code)| money(charge(code))));
            let _ = writer.write_record(&record);
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jiff::civil::date;
    use lastmile_core::reconcile::layout::parse;

    use super::*;

    fn layouts() -> &'static Layouts {
        Layouts::builtin().unwrap()
    }

    #[test]
    fn weights_and_sides_written_in_pounds_and_inches_read_back_exactly() {
        let layout = &layouts().layouts["example-post-us"];
        for grams in (1..=68_000u64).step_by(97) {
            let mm = u32::try_from(grams % 1_500 + 1).unwrap();
            let d = Dimensions { length_mm: mm, width_mm: mm, height_mm: mm };
            let line =
                Line { tracking_number: "T1".into(), grams, dimensions: Some(d), charges: vec![("base".into(), 100)] };
            let invoice = parse(layout, &write_csv(layout, "I-1", &[line])).unwrap();
            assert_eq!((invoice.lines[0].grams, invoice.lines[0].dimensions), (grams, Some(d)), "{grams} g, {mm} mm");
        }
    }

    fn shipment(n: u32) -> Billable {
        Billable {
            shipment_id: format!("S-{n:03}"),
            tracking_number: format!("9400{n:08}"),
            line: "us-postal-ground".into(),
            carrier: "Example Post".into(),
            shipped: date(2026, 11, 10),
            quoted: QuotedFacts {
                zone: String::new(),
                ship_date: date(2026, 11, 10),
                grams: 900,
                billable: 0,
                dimensions_mm: Some([200, 150, 100]),
                residential: Some(true),
                remote_area: false,
                postcode: "10001".into(),
                options: Vec::new(),
                charges: BTreeMap::new(),
                currency: "USD".into(),
            },
        }
    }

    #[test]
    fn every_kind_is_planted_in_an_invoice_and_the_seed_decides_where() {
        let card = |id: &str| lastmile_core::rating::card::builtin().iter().flatten().find(|c| c.id == id);
        let postal = card("us-postal-ground").unwrap();
        // Shipments quoted as the card prices them, in zone 5.
        let zone = "5".to_owned();
        let shipments: Vec<Billable> = (0..12)
            .map(|n| {
                let mut s = shipment(n);
                s.quoted.zone = zone.clone();
                s.quoted.charges = price(postal, &s.quoted, 900, dimensions(&s.quoted)).unwrap();
                s
            })
            .collect();
        let scenario = |seed| Scenario::default_for(date(2026, 11, 9), 8, 10, seed);
        let seven = invoices(&scenario(7), layouts(), card, &shipments);
        assert_eq!(seven.len(), 1);
        let (file, planted) = &seven[0];
        assert_eq!(file.invoice_number, "SIM-EPU-2026W46");
        let kinds: Vec<&str> = planted.discrepancies.iter().map(|d| d.kind.as_str()).collect();
        for kind in ["overcharge", "surcharge_not_quoted", "weight_adjustment", "duplicate", "unknown_tracking_number"]
        {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
        // The billed total is what the file says: 12 shipments, one twice, one unknown, and the planted charges.
        let parsed = parse(&layouts().layouts["example-post-us"], &file.csv).unwrap();
        assert_eq!(parsed.lines.len(), 14);
        assert_eq!(parsed.lines.iter().map(|l| l.total()).sum::<i64>(), planted.billed);
        assert_eq!(invoices(&scenario(7), layouts(), card, &shipments), seven);
        assert_ne!(invoices(&scenario(8), layouts(), card, &shipments)[0].1, *planted);
    }
}
