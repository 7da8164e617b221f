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

/// The words of an ASCII line as [`fold`](crate::text::fold) gives them (runs of letters and digits,
/// apostrophes dropped, uppercased), byte by byte and without folding the line: a word already in that form
/// (every word of a US line) is borrowed from the line, another spelled into a buffer.
fn ascii_folded_words(line: &str, mut visit: impl FnMut(&str)) {
    let bytes = line.as_bytes();
    let mut spelled = String::new();
    let (mut start, mut plain) = (0, true);
    // The end of the line ends the last word.
    for end in 0..=bytes.len() {
        let b = bytes.get(end).copied().unwrap_or(b' ');
        if b.is_ascii_alphanumeric() {
            plain &= !b.is_ascii_lowercase();
            continue;
        }
        if b == b'\'' {
            plain = false;
            continue;
        }
        if plain && end > start {
            visit(&line[start..end]);
        } else if !plain {
            spelled.clear();
            let letters = bytes[start..end].iter().filter(|b| **b != b'\'');
            spelled.extend(letters.map(|b| char::from(b.to_ascii_uppercase())));
            if !spelled.is_empty() {
                visit(&spelled);
            }
        }
        (start, plain) = (end + 1, true);
    }
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
    let mut visit = |word: &str| {
        if unit_word.is_none() && (is_business_unit(word) || is_home_unit(word)) {
            unit_word = Some(word.to_owned());
        }
        if business_word.is_none() && is_business_word(word) {
            business_word = Some(word.to_owned());
        }
    };
    for line in lines {
        if line.is_ascii() {
            ascii_folded_words(line, &mut visit);
            continue;
        }
        // Folded text is words between single spaces.
        fold_cow(line).split_ascii_whitespace().for_each(&mut visit);
    }
    let unit = unit_type.map(fold_cow).or(unit_word.map(std::borrow::Cow::Owned));
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn ascii_words_are_the_folded_words(line in "[ a-dA-D0-9'#,.-]{0,24}|[a-z ]{10,40}") {
            let mut words = Vec::new();
            ascii_folded_words(&line, |w| words.push(w.to_owned()));
            let folded = crate::text::fold(&line);
            let expected: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
            proptest::prop_assert_eq!(words, expected);
        }
    }
}
