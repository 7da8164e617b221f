//! Carrier invoice files read through their layouts (`shared/data/invoices/layouts.toml`): which column holds
//! what, in which units, and which of the carrier's charge names is which rate card charge.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::money::{Currency, Money};
use crate::units::Dimensions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MassUnit {
    Lb,
    Kg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LengthUnit {
    In,
    Cm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub invoice: String,
    pub tracking_number: String,
    pub weight: String,
    pub length: String,
    pub width: String,
    pub height: String,
    /// The charge's description, on a layout with one row per charge.
    #[serde(default)]
    pub charge: Option<String>,
    /// The row's charge; the base charge on a layout with surcharge columns.
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub carrier: String,
    pub currency: Currency,
    pub weight_unit: MassUnit,
    pub length_unit: LengthUnit,
    pub columns: Columns,
    #[serde(default)]
    pub charge_codes: BTreeMap<String, String>,
    #[serde(default)]
    pub charge_columns: BTreeMap<String, String>,
    /// The tracking carriers (`shared/data/tracking/carriers`) whose numbers this carrier's lines are tracked
    /// under: an invoice line is matched to a shipment through them.
    #[serde(default)]
    pub tracking_carriers: Vec<String>,
}

/// A line may be billed this much above the re-rated charge: the larger of `minor` and `basis_points` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    pub minor: i64,
    pub basis_points: i64,
}

impl Tolerance {
    pub fn allowed(self, expected: i64) -> i64 {
        self.minor.max(crate::money::percent_of(expected, self.basis_points))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layouts {
    pub layouts: BTreeMap<String, Layout>,
    #[serde(default)]
    pub tolerances: BTreeMap<String, Tolerance>,
}

pub const BUILTIN: &str = include_str!("../../../data/invoices/layouts.toml");

impl Layouts {
    pub fn from_toml(text: &str) -> Result<Layouts, toml::de::Error> {
        toml::from_str(text)
    }

    /// Parsed once per process; the tests read the file too, so an error is a broken build, not a panic.
    pub fn builtin() -> Result<&'static Layouts, toml::de::Error> {
        static PARSED: std::sync::OnceLock<Result<Layouts, toml::de::Error>> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| Layouts::from_toml(BUILTIN)).as_ref().map_err(Clone::clone)
    }

    pub fn tolerance(&self, line: &str) -> Tolerance {
        self.tolerances.get(line).copied().unwrap_or_default()
    }
}

/// One billed charge, in the rate card's charge codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BilledCharge {
    pub code: String,
    pub minor: i64,
}

/// One parcel billed once: its measured weight and sides, and its charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    /// Line of the file the parcel's first row is on (the header is line 1).
    pub file_line: u64,
    pub tracking_number: String,
    pub grams: u64,
    pub dimensions: Option<Dimensions>,
    pub charges: Vec<BilledCharge>,
}

impl InvoiceLine {
    pub fn total(&self) -> i64 {
        self.charges.iter().map(|c| c.minor).sum()
    }

    pub fn charge(&self, code: &str) -> i64 {
        self.charges.iter().filter(|c| c.code == code).map(|c| c.minor).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub carrier: String,
    pub invoice_number: String,
    pub currency: Currency,
    /// `sha256:<hex>` of the file's bytes: a file already processed is recognised by it.
    pub content_hash: String,
    pub lines: Vec<InvoiceLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("the file is not CSV: {0}")]
    Csv(String),
    #[error("the file has no column {0:?}")]
    MissingColumn(String),
    #[error("line {line}, column {column:?}: {value:?} is not {expected}")]
    Field { line: u64, column: String, value: String, expected: &'static str },
    #[error("the file has no rows")]
    Empty,
}

/// `sha256:<hex>` of a file's bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Reads an invoice file through its layout.
pub fn parse(layout: &Layout, text: &str) -> Result<Invoice, InvoiceError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| InvoiceError::Csv(e.to_string()))?.clone();
    let index =
        |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| InvoiceError::MissingColumn(name.to_owned()));
    let c = &layout.columns;
    let (invoice_col, tracking_col, amount_col) = (index(&c.invoice)?, index(&c.tracking_number)?, index(&c.amount)?);
    let (weight_col, sides) = (index(&c.weight)?, [index(&c.length)?, index(&c.width)?, index(&c.height)?]);
    let charge_col = c.charge.as_deref().map(index).transpose()?;
    let charge_columns: Vec<(usize, &str)> = layout
        .charge_columns
        .iter()
        .map(|(column, code)| Ok((index(column)?, code.as_str())))
        .collect::<Result<_, InvoiceError>>()?;

    let mut invoice_number = None;
    let mut lines: Vec<InvoiceLine> = Vec::new();
    // Row-per-charge files: the open line of each tracking number; a charge it already has opens a new one.
    let mut open: BTreeMap<String, usize> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| InvoiceError::Csv(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default();
        let bad = |i: usize, expected: &'static str| InvoiceError::Field {
            line,
            column: headers.get(i).unwrap_or_default().to_owned(),
            value: field(i).to_owned(),
            expected,
        };
        let decimal = |i: usize| field(i).parse::<Decimal>().map_err(|_| bad(i, "a number"));
        let money = |i: usize| {
            Money::parse_decimal(field(i), layout.currency).map(|m| m.minor).map_err(|_| bad(i, "an amount"))
        };
        invoice_number.get_or_insert_with(|| field(invoice_col).to_owned());
        let tracking_number = field(tracking_col).to_owned();
        let grams = to_grams(decimal(weight_col)?, layout.weight_unit).ok_or_else(|| bad(weight_col, "a weight"))?;
        let mut mm = [0u32; 3];
        for (side, &i) in mm.iter_mut().zip(&sides) {
            *side = to_mm(decimal(i)?, layout.length_unit).ok_or_else(|| bad(i, "a length"))?;
        }
        let dimensions =
            (mm.iter().all(|s| *s > 0)).then_some(Dimensions { length_mm: mm[0], width_mm: mm[1], height_mm: mm[2] });
        let mut charges = Vec::new();
        if let Some(charge_col) = charge_col {
            let description = field(charge_col);
            let code = layout.charge_codes.get(description).cloned().unwrap_or_else(|| description.to_owned());
            charges.push(BilledCharge { code, minor: money(amount_col)? });
        } else {
            charges.push(BilledCharge { code: "base".into(), minor: money(amount_col)? });
            for &(i, code) in &charge_columns {
                let minor = money(i)?;
                if minor != 0 {
                    charges.push(BilledCharge { code: code.to_owned(), minor });
                }
            }
        }
        let same_line = charge_col
            .and(open.get(&tracking_number))
            .copied()
            .filter(|&i| charges.iter().all(|new| lines[i].charges.iter().all(|had| had.code != new.code)));
        match same_line {
            Some(i) => lines[i].charges.extend(charges),
            None => {
                open.insert(tracking_number.clone(), lines.len());
                lines.push(InvoiceLine { file_line: line, tracking_number, grams, dimensions, charges });
            }
        }
    }
    Ok(Invoice {
        carrier: layout.carrier.clone(),
        invoice_number: invoice_number.ok_or(InvoiceError::Empty)?,
        currency: layout.currency,
        content_hash: content_hash(text.as_bytes()),
        lines,
    })
}

fn to_grams(value: Decimal, unit: MassUnit) -> Option<u64> {
    let grams_per = match unit {
        MassUnit::Lb => Decimal::new(45_359_237, 5),
        MassUnit::Kg => Decimal::from(1000),
    };
    rounded(value.checked_mul(grams_per)?)
}

fn to_mm(value: Decimal, unit: LengthUnit) -> Option<u32> {
    let mm_per = match unit {
        LengthUnit::In => Decimal::new(254, 1),
        LengthUnit::Cm => Decimal::from(10),
    };
    u32::try_from(rounded(value.checked_mul(mm_per)?)?).ok()
}

fn rounded(value: Decimal) -> Option<u64> {
    use rust_decimal::prelude::ToPrimitive;
    if value.is_sign_negative() {
        return None;
    }
    value.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero).to_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const US: &str = include_str!("../../../data/invoices/example-parcel-us.csv");
    pub(crate) const UK: &str = include_str!("../../../data/invoices/example-courier-uk.csv");

    #[test]
    fn both_layouts_read_their_fixtures() {
        let layouts = Layouts::builtin().unwrap();
        let us = parse(&layouts.layouts["example-parcel-us"], US).unwrap();
        assert_eq!(us.invoice_number, "INV-US-0001");
        // Eight rows: the residential parcel's three charges are one line, the duplicate's two base rows two.
        assert_eq!(us.lines.len(), 6);
        let res = &us.lines[2];
        assert_eq!(res.charges.len(), 3);
        assert_eq!(
            (res.charge("base"), res.charge("residential"), res.charge("additional_handling")),
            (1790, 595, 3150)
        );
        // 4.85 lb × 453.59237 = 2199.92 g → 2200; 16 in × 25.4 = 406.4 mm → 406.
        assert_eq!(us.lines[0].grams, 2200);
        assert_eq!(us.lines[0].dimensions.map(|d| d.length_mm), Some(406));
        let uk = parse(&layouts.layouts["example-courier-uk"], UK).unwrap();
        assert_eq!(uk.lines.len(), 3);
        assert_eq!(
            uk.lines[2].charges,
            [BilledCharge { code: "base".into(), minor: 389 }, BilledCharge { code: "remote_area".into(), minor: 495 }]
        );
        assert_eq!((uk.lines[0].grams, uk.lines[0].dimensions.map(|d| d.length_mm)), (1200, Some(400)));
    }

    #[test]
    fn the_content_hash_recognises_a_file_seen_before() {
        assert_eq!(content_hash(US.as_bytes()), content_hash(US.to_owned().as_bytes()));
        assert_ne!(content_hash(US.as_bytes()), content_hash(format!("{US}\n").as_bytes()));
        assert!(content_hash(b"").starts_with("sha256:e3b0c442"));
    }

    #[test]
    fn bad_files_are_errors_not_guesses() {
        let layout = &Layouts::builtin().unwrap().layouts["example-courier-uk"];
        assert_eq!(parse(layout, "Invoice,Carriage\n"), Err(InvoiceError::MissingColumn("Consignment No".into())));
        let bad = UK.replace("5.49,0.00", "five,0.00");
        assert!(matches!(parse(layout, &bad), Err(InvoiceError::Field { line: 2, .. })));
    }
}
