//! Postcode normalization by the country's pattern: `sw1a1aa` → `SW1A 1AA`, `k1a0b1` → `K1A 0B1`,
//! `1000001` → `100-0001`, and repair of common damage (a leading zero lost in a spreadsheet, O for 0).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::refdata::CountryFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized {
    /// Same postcode, canonical spelling (case, spaces, hyphen).
    Standard(String),
    /// A different string that is the only valid reading of what was typed.
    Corrected(String),
    /// Not a postcode of this country.
    Invalid,
}

/// The postcode's letters and digits only, uppercased: the form prefixes and ranges are compared in.
pub fn compact(postcode: &str) -> String {
    postcode.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// [`compact`], borrowing a postcode that is compact already (`62701`, `SW1A1AA`).
pub fn compact_cow(postcode: &str) -> Cow<'_, str> {
    if postcode.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Cow::Borrowed(postcode)
    } else {
        Cow::Owned(compact(postcode))
    }
}

/// Normalizes `typed` for `country`. Countries without a pattern keep the text, uppercased and squashed.
pub fn normalize(country: &CountryFormat, typed: &str) -> Normalized {
    // NFKC turns full-width digits and dashes (１００－０００５) into ASCII.
    let upper: Cow<str> = if typed.is_ascii() {
        let trimmed = crate::text::trim(typed);
        // Borrowed when it is uppercase already, as most postcodes are typed.
        if trimmed.bytes().any(|b| b.is_ascii_lowercase()) {
            Cow::Owned(trimmed.to_ascii_uppercase())
        } else {
            Cow::Borrowed(trimmed)
        }
    } else {
        Cow::Owned(typed.nfkc().collect::<String>().trim().trim_start_matches('〒').to_uppercase())
    };
    let Some(pattern) = country.postcode.as_ref().filter(|p| p.compiles()) else {
        return Normalized::Standard(crate::text::squash_spaces(&upper));
    };
    let compact = compact_cow(&upper);
    if compact.is_empty() {
        return Normalized::Invalid;
    }
    if let Some(canonical) = canonical_form(country, &compact) {
        return Normalized::Standard(canonical);
    }
    if pattern.is_match(&upper) {
        return Normalized::Standard(upper.to_string());
    }
    let mut readings: Vec<String> = Vec::new();
    // Spreadsheets drop the leading zero of numeric postcodes (US 02134 → 2134, DE 01067 → 1067).
    if compact.chars().all(|c| c.is_ascii_digit()) {
        readings.extend(canonical_form(country, &format!("0{compact}")));
    }
    // Letter/digit look-alikes: only when exactly one substitution set makes a valid postcode.
    readings.extend(lookalike_readings(country, &compact));
    readings.sort();
    readings.dedup();
    match readings.as_slice() {
        [only] => Normalized::Corrected(only.clone()),
        _ => Normalized::Invalid,
    }
}

/// The compact postcode laid out like the country's examples (separator at the same distance from the end),
/// if that layout or the compact form matches the pattern.
fn canonical_form(country: &CountryFormat, compact: &str) -> Option<String> {
    let pattern = country.postcode.as_ref().filter(|p| p.compiles())?;
    for example in &country.postcode_examples {
        if let Some((sep_pos, sep)) = example.char_indices().find(|(_, c)| !c.is_ascii_alphanumeric()) {
            let from_end = example.len() - sep_pos - sep.len_utf8();
            if compact.len() > from_end {
                let laid_out =
                    format!("{}{sep}{}", &compact[..compact.len() - from_end], &compact[compact.len() - from_end..]);
                if pattern.is_match(&laid_out) {
                    return Some(laid_out);
                }
            }
        } else if example.len() == compact.len() && pattern.is_match(compact) {
            return Some(compact.to_owned());
        }
    }
    pattern.is_match(compact).then(|| compact.to_owned())
}

fn lookalike_readings(country: &CountryFormat, compact: &str) -> Vec<String> {
    const SWAPS: &[(char, char)] =
        &[('O', '0'), ('0', 'O'), ('I', '1'), ('1', 'I'), ('L', '1'), ('S', '5'), ('5', 'S'), ('Z', '2'), ('B', '8')];
    let chars: Vec<char> = compact.chars().collect();
    let positions: Vec<usize> = (0..chars.len()).filter(|&i| SWAPS.iter().any(|&(from, _)| from == chars[i])).collect();
    // Every combination of swaps at ambiguous positions; postcodes are short, and few positions are ambiguous.
    if positions.len() > 10 {
        return Vec::new();
    }
    let mut found = Vec::new();
    for mask in 1u32..(1 << positions.len()) {
        let mut candidate = chars.clone();
        for (bit, &pos) in positions.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                if let Some(&(_, to)) = SWAPS.iter().find(|&&(from, _)| from == chars[pos]) {
                    candidate[pos] = to;
                }
            }
        }
        let candidate: String = candidate.into_iter().collect();
        if let Some(canonical) = canonical_form(country, &candidate) {
            found.push(canonical);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::refdata::country;

    fn norm(cc: &str, typed: &str) -> Normalized {
        normalize(country(cc).expect("country in metadata"), typed)
    }

    #[test]
    fn canonical_spacing_follows_the_country_examples() {
        assert_eq!(norm("GB", "sw1a1aa"), Normalized::Standard("SW1A 1AA".into()));
        assert_eq!(norm("CA", "k1a0b1"), Normalized::Standard("K1A 0B1".into()));
        assert_eq!(norm("NL", "1234ab"), Normalized::Standard("1234 AB".into()));
        assert_eq!(norm("JP", "1000001"), Normalized::Standard("100-0001".into()));
        assert_eq!(norm("US", "20500"), Normalized::Standard("20500".into()));
        assert_eq!(norm("DE", " 10115 "), Normalized::Standard("10115".into()));
    }

    #[test]
    fn lost_leading_zero_is_corrected() {
        assert_eq!(norm("DE", "1067"), Normalized::Corrected("01067".into()));
        assert_eq!(norm("US", "2134"), Normalized::Corrected("02134".into()));
    }

    #[test]
    fn letter_o_for_zero_is_corrected_in_gb() {
        assert_eq!(norm("GB", "SWIA 1AA"), Normalized::Corrected("SW1A 1AA".into()));
    }

    #[test]
    fn garbage_is_invalid() {
        assert_eq!(norm("DE", "ABCDE"), Normalized::Invalid);
        assert_eq!(norm("US", "1234567"), Normalized::Invalid);
    }
}

#[cfg(test)]
mod every_country {
    use super::*;
    use crate::address::refdata::formats;

    /// Every example postcode libaddressinput gives for every country reads as a valid postcode of that
    /// country, and normalizing it again changes nothing.
    #[test]
    fn every_metadata_example_is_a_valid_postcode() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for (code, country) in formats() {
            if country.postcode.is_none() {
                continue;
            }
            for example in &country.postcode_examples {
                checked += 1;
                match normalize(country, example) {
                    Normalized::Standard(canonical) => {
                        if normalize(country, &canonical) != Normalized::Standard(canonical.clone()) {
                            failures.push(format!("{code} {example}: {canonical} is not stable"));
                        }
                    }
                    other => failures.push(format!("{code} {example}: {other:?}")),
                }
            }
        }
        assert!(checked > 300, "{checked} examples");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
