//! Each invoice line against what was quoted: matched by tracking number, re-rated on the rate card with the
//! carrier's measured weight and sides, and every difference classified with its amount and reason.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::layout::{Invoice, InvoiceLine, Layouts};
use crate::address::postcode;
use crate::money::{Currency, Money};
use crate::rating::card::RateCard;
use crate::rating::price::apply_minimum;
use crate::rating::surcharge::{self, Shipment};
use crate::units::Dimensions;

/// What was quoted for a shipment, as the rating engine priced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedShipment {
    pub shipment_id: String,
    pub tracking_number: String,
    /// Rate card id.
    pub line: String,
    pub zone: String,
    pub ship_date: Date,
    pub grams: u64,
    pub dimensions: Option<Dimensions>,
    pub residential: Option<bool>,
    pub remote_area: bool,
    pub postcode: String,
    pub options: Vec<String>,
    /// Charges quoted, by code (`base`, `residential` …).
    pub charges: BTreeMap<String, i64>,
}

impl QuotedShipment {
    pub fn amount(&self) -> i64 {
        self.charges.values().sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Billed above the re-rated charge by more than the line's tolerance.
    Overcharge,
    /// A surcharge neither quoted nor due on the carrier's own measurements.
    SurchargeNotQuoted,
    /// The same tracking number and amount billed again.
    Duplicate,
    /// No shipment of ours has the tracking number.
    UnknownTrackingNumber,
    /// The carrier's measurements change the price: accepted, not disputed.
    WeightAdjustment,
    /// The line could not be re-rated (the card refuses the measured parcel): looked at by hand.
    NotRerated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub tracking_number: String,
    pub file_line: u64,
    pub kind: Kind,
    /// The charge code concerned, or `total`.
    pub charge: String,
    pub billed: i64,
    pub expected: i64,
    /// Disputed amount, or the accepted variance of a weight adjustment.
    pub amount: i64,
    pub disputed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    pub billed: i64,
    pub quoted: i64,
    pub disputed: i64,
    /// Differences to the quote accepted because the carrier's measurements justify them.
    pub accepted_adjustments: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub invoice_number: String,
    pub content_hash: String,
    pub discrepancies: Vec<Discrepancy>,
    pub totals: Totals,
    /// Keys of the lines billed in this file (`{tracking number}|{total}`), to keep with the ones seen before
    /// so that a line billed again in a later file is a duplicate.
    pub billed_keys: Vec<String>,
}

/// The key a billed line is recognised by when billed again.
pub fn billed_key(line: &InvoiceLine) -> String {
    format!("{}|{}", line.tracking_number, line.total())
}

/// Checks `invoice` against the `quoted` shipments (by tracking number), re-rating on `cards`; `seen_before`
/// holds the billed keys of files processed earlier.
pub fn reconcile<'c>(
    invoice: &Invoice,
    quoted: &BTreeMap<String, QuotedShipment>,
    cards: impl Fn(&str) -> Option<&'c RateCard>,
    layouts: &Layouts,
    seen_before: &BTreeSet<String>,
) -> Reconciliation {
    let mut discrepancies = Vec::new();
    let mut totals = Totals::default();
    let mut seen_here = BTreeSet::new();
    let mut billed_keys = Vec::new();
    let show = |minor: i64| show(minor, invoice.currency);
    for line in &invoice.lines {
        let total = line.total();
        totals.billed += total;
        let key = billed_key(line);
        let whole = |kind, reason: String| Discrepancy {
            tracking_number: line.tracking_number.clone(),
            file_line: line.file_line,
            kind,
            charge: "total".into(),
            billed: total,
            expected: 0,
            amount: total,
            disputed: true,
            reason,
        };
        if seen_before.contains(&key) || seen_here.contains(&key) {
            let when = if seen_here.contains(&key) { "earlier in this invoice" } else { "in an earlier invoice" };
            discrepancies.push(whole(
                Kind::Duplicate,
                format!("{} billed {} already {when}", line.tracking_number, show(total)),
            ));
            continue;
        }
        seen_here.insert(key.clone());
        billed_keys.push(key);
        let Some(quote) = quoted.get(&line.tracking_number) else {
            discrepancies.push(whole(
                Kind::UnknownTrackingNumber,
                format!("no shipment has tracking number {}", line.tracking_number),
            ));
            continue;
        };
        totals.quoted += quote.amount();
        let Some(card) = cards(&quote.line) else {
            discrepancies.push(Discrepancy {
                disputed: false,
                amount: total - quote.amount(),
                expected: quote.amount(),
                ..whole(Kind::NotRerated, format!("no rate card {}", quote.line))
            });
            continue;
        };
        check_line(line, quote, card, layouts, invoice.currency, &mut discrepancies);
    }
    totals.disputed = discrepancies.iter().filter(|d| d.disputed).map(|d| d.amount).sum();
    totals.accepted_adjustments =
        discrepancies.iter().filter(|d| d.kind == Kind::WeightAdjustment).map(|d| d.amount).sum();
    Reconciliation {
        invoice_number: invoice.invoice_number.clone(),
        content_hash: invoice.content_hash.clone(),
        discrepancies,
        totals,
        billed_keys,
    }
}

/// The charges due on `card` for the parcel as the carrier measured it, with the base's explanation.
fn rerate(
    card: &RateCard,
    quote: &QuotedShipment,
    line: &InvoiceLine,
) -> Result<(BTreeMap<String, i64>, String), String> {
    let billable = card.weight.billable(line.grams, line.dimensions);
    let base = card.price.base_price(&quote.zone, billable.billable, 1).map_err(|e| e.to_string())?;
    let base = apply_minimum(base, card.minimum_charge);
    let compact = postcode::compact(&quote.postcode);
    let shipment = Shipment {
        ship_date: quote.ship_date,
        actual_grams: line.grams,
        dimensions: line.dimensions,
        residential: quote.residential,
        remote_area: quote.remote_area,
        postcode: &compact,
        options: &quote.options,
    };
    let mut due: BTreeMap<String, i64> = BTreeMap::from([("base".to_owned(), base.minor)]);
    for charge in surcharge::apply(&card.surcharges, base.minor, &shipment) {
        *due.entry(charge.code).or_default() += charge.minor;
    }
    Ok((due, format!("{}; {}", billable.explanation, base.explanation)))
}

fn check_line(
    line: &InvoiceLine,
    quote: &QuotedShipment,
    card: &RateCard,
    layouts: &Layouts,
    currency: Currency,
    out: &mut Vec<Discrepancy>,
) {
    let show = |minor: i64| show(minor, currency);
    let found = |kind, charge: &str, billed, expected, amount, disputed, reason| Discrepancy {
        tracking_number: line.tracking_number.clone(),
        file_line: line.file_line,
        kind,
        charge: charge.to_owned(),
        billed,
        expected,
        amount,
        disputed,
        reason,
    };
    let (due, explanation) = match rerate(card, quote, line) {
        Ok(due) => due,
        Err(why) => {
            let (total, quoted) = (line.total(), quote.amount());
            out.push(found(Kind::NotRerated, "total", total, quoted, total - quoted, false, why));
            return;
        }
    };
    let tolerance = layouts.tolerance(&quote.line);
    // Each code once, in billing order: two columns may map onto one code.
    let mut codes: Vec<&str> = Vec::new();
    for charge in &line.charges {
        if !codes.contains(&charge.code.as_str()) {
            codes.push(&charge.code);
        }
    }
    for code in codes {
        let billed = line.charge(code);
        let quoted = quote.charges.get(code).copied();
        match due.get(code).copied() {
            Some(expected) => {
                let allowed = tolerance.allowed(expected);
                if billed - expected > allowed {
                    out.push(found(
                        Kind::Overcharge,
                        code,
                        billed,
                        expected,
                        billed - expected,
                        true,
                        format!(
                            "{code} billed {} against {} re-rated ({explanation}), over the tolerance of {}",
                            show(billed),
                            show(expected),
                            show(allowed)
                        ),
                    ));
                } else if let Some(quoted) = quoted.filter(|q| *q != expected) {
                    // The carrier's measurements give another price than the quote's: accepted.
                    out.push(found(
                        Kind::WeightAdjustment,
                        code,
                        billed,
                        expected,
                        billed - quoted,
                        false,
                        format!(
                            "{code} quoted {}, re-rated {} on the carrier's measurements: {explanation}",
                            show(quoted),
                            show(expected)
                        ),
                    ));
                }
            }
            None if quoted.is_some() => {}
            None => out.push(found(
                Kind::SurchargeNotQuoted,
                code,
                billed,
                0,
                billed,
                true,
                format!("{code} billed {} but neither quoted nor due on the carrier's measurements", show(billed)),
            )),
        }
    }
}

fn show(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}
