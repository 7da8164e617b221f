//! Residential or business? No delivery-point data (such as USPS RDI) is available, so this is a heuristic
//! over what the address itself says, and it always gives its reason.

use super::model::{Residential, Tristate};
use std::borrow::Cow;

use crate::text::fold_cow;

/// Words in a street line that mark a business. Street names such as "School St" or "The Mall" are common,
/// so only legal forms and words no home address carries count.
const BUSINESS_WORDS: &[&str] = &[
    "INC",
    "LLC",
    "LTD",
    "LIMITED",
    "CORP",
    "CORPORATION",
    "GMBH",
    "PLC",
    "PTY",
    "SARL",
    "WAREHOUSE",
    "INDUSTRIAL",
    "GEWERBEGEBIET",
    "INDUSTRIEGEBIET",
    "GEWERBEPARK",
    "株式会社",
    "有限会社",
];
/// Unit designators used by businesses (suites, offices, departments).
const BUSINESS_UNITS: &[&str] = &["STE", "SUITE", "OFC", "OFFICE", "DEPT", "LBBY", "BUREAU", "BÜRO", "BURO"];
/// Unit designators used by homes.
const HOME_UNITS: &[&str] =
    &["APT", "APARTMENT", "FLAT", "WOHNUNG", "WHG", "APPARTEMENT", "APPT", "TRLR", "LOT", "SPC", "PH"];

pub fn classify(
    organization: Option<&str>,
    lines: &[String],
    unit_type: Option<&str>,
    po_box: bool,
    military: bool,
) -> Residential {
    if organization.is_some_and(|o| !o.trim().is_empty()) {
        return Residential { value: Tristate::No, reason: "a company name is given".to_owned() };
    }
    let folded: Vec<_> = lines.iter().map(|l| fold_cow(l)).collect();
    let words = || folded.iter().flat_map(|l| l.split(' '));
    let unit = unit_type
        .map(fold_cow)
        .or_else(|| words().find(|w| BUSINESS_UNITS.contains(w) || HOME_UNITS.contains(w)).map(Cow::Borrowed));
    if let Some(unit) = unit {
        if BUSINESS_UNITS.contains(&unit.as_ref()) {
            return Residential { value: Tristate::No, reason: format!("unit type {unit} is used by businesses") };
        }
        if HOME_UNITS.contains(&unit.as_ref()) {
            return Residential { value: Tristate::Yes, reason: format!("unit type {unit} is used by homes") };
        }
    }
    if let Some(word) = words().find(|w| BUSINESS_WORDS.contains(w)) {
        return Residential { value: Tristate::No, reason: format!("the address contains the business word {word}") };
    }
    let why = if po_box {
        "a PO box is neither a home nor a business delivery point"
    } else if military {
        "military post has no residential indicator"
    } else {
        "nothing in the address tells a home from a business"
    };
    Residential { value: Tristate::Unknown, reason: why.to_owned() }
}
