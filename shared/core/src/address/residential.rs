//! Residential or business? No delivery-point data (such as USPS RDI) is available, so this is a heuristic
//! over what the address itself says, and it always gives its reason.

use super::model::{Residential, Tristate};
use crate::text::fold_cow;

/// Words in a street line that mark a business. Street names such as "School St" or "The Mall" are common,
/// so only legal forms and words no home address carries count.
fn is_business_word(word: &str) -> bool {
    matches!(
        word,
        "INC"
            | "LLC"
            | "LTD"
            | "LIMITED"
            | "CORP"
            | "CORPORATION"
            | "GMBH"
            | "PLC"
            | "PTY"
            | "SARL"
            | "WAREHOUSE"
            | "INDUSTRIAL"
            | "GEWERBEGEBIET"
            | "INDUSTRIEGEBIET"
            | "GEWERBEPARK"
            | "株式会社"
            | "有限会社"
    )
}

/// Unit designators used by businesses (suites, offices, departments).
fn is_business_unit(word: &str) -> bool {
    matches!(word, "STE" | "SUITE" | "OFC" | "OFFICE" | "DEPT" | "LBBY" | "BUREAU" | "BÜRO" | "BURO")
}

/// Unit designators used by homes.
fn is_home_unit(word: &str) -> bool {
    matches!(
        word,
        "APT" | "APARTMENT" | "FLAT" | "WOHNUNG" | "WHG" | "APPARTEMENT" | "APPT" | "TRLR" | "LOT" | "SPC" | "PH"
    )
}

pub fn classify(
    organization: Option<&str>,
    lines: &[String],
    unit_type: Option<&str>,
    po_box: bool,
    military: bool,
) -> Residential {
    if organization.is_some_and(|o| !o.trim().is_empty()) {
        return Residential { value: Tristate::No, reason: "a company name is given".into() };
    }
    // One pass over the words for the first unit word and the first business word.
    let (mut unit_word, mut business_word) = (None, None);
    for line in lines {
        let folded = fold_cow(line);
        // Folded text is words between single spaces.
        for word in folded.split_ascii_whitespace() {
            if unit_word.is_none() && (is_business_unit(word) || is_home_unit(word)) {
                unit_word = Some(word.to_owned());
            }
            if business_word.is_none() && is_business_word(word) {
                business_word = Some(word.to_owned());
            }
        }
    }
    let unit = unit_type.map(|t| fold_cow(t).into_owned()).or(unit_word);
    if let Some(unit) = unit {
        if is_business_unit(&unit) {
            return Residential {
                value: Tristate::No,
                reason: format!("unit type {unit} is used by businesses").into(),
            };
        }
        if is_home_unit(&unit) {
            return Residential { value: Tristate::Yes, reason: format!("unit type {unit} is used by homes").into() };
        }
    }
    if let Some(word) = business_word {
        return Residential {
            value: Tristate::No,
            reason: format!("the address contains the business word {word}").into(),
        };
    }
    let why = if po_box {
        "a PO box is neither a home nor a business delivery point"
    } else if military {
        "military post has no residential indicator"
    } else {
        "nothing in the address tells a home from a business"
    };
    Residential { value: Tristate::Unknown, reason: why.into() }
}
