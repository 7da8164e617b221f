//! Countries other than the US: free-text splitting by the country's postcode pattern and region names, and
//! street-line components (house number first or last, PO boxes, units).

use std::borrow::Cow;

use super::model::Components;
use super::postcode::{Normalized, normalize};
use super::refdata::{CountryFormat, postcodes};
use crate::text::{fold, squash_spaces};

/// Free text split into its parts; what could not be found stays `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FreeText {
    pub lines: Vec<String>,
    pub locality: Option<String>,
    pub region: Option<Cow<'static, str>>,
    pub postcode: Option<String>,
    /// Each line is its words as the US tokenizer cut them, joined by single spaces: splitting a line at its
    /// spaces gives the words back without tokenizing it again.
    pub lines_are_words: bool,
    /// Every word of the lines and the locality is one of the text's own (see [`super::us::tokenize`]): a text
    /// the hint probe ruled out leaves none that could start a hint.
    pub words_as_typed: bool,
    /// What the hint probe says of the text, read off the split's words where it could tell from them (see
    /// [`super::hints::words_may_hold_a_hint`]).
    pub may_hold_a_hint: Option<bool>,
}

/// Whether `text` reads as a postcode: well formed on the first pass, or repairable (a lost leading zero,
/// O for 0) on the second, when no well-formed one was found.
fn is_postcode(country: &CountryFormat, text: &str, accept_repairs: bool) -> bool {
    country.postcode.is_some()
        && match normalize(country, text) {
            Normalized::Standard(_) => true,
            Normalized::Corrected(_) => accept_repairs && text.chars().filter(char::is_ascii_digit).count() >= 3,
            Normalized::Invalid => false,
        }
}

/// Splits free text: the postcode is the last span matching the country's pattern, a region name next to it,
/// the locality around them, street lines before.
pub fn split_free_text(country: &CountryFormat, text: &str) -> FreeText {
    if country.code == "JP" && crate::text::has_non_latin_letters(text) {
        return split_japanese(country, text);
    }
    let mut segments: Vec<Vec<String>> = text
        .split([',', '\n', ';'])
        .map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = FreeText::default();
    // The postcode: one token or two adjacent ones ("SW1A 1AA"), the last such span in the text.
    'search: for (s, accept_repairs) in
        [false, true].into_iter().flat_map(|r| (0..segments.len()).rev().map(move |s| (s, r)))
    {
        let seg = &segments[s];
        for i in (0..seg.len()).rev() {
            for width in [2usize, 1] {
                if i + width > seg.len() {
                    continue;
                }
                let candidate = seg[i..i + width].join(" ");
                if is_postcode(country, &candidate, accept_repairs) {
                    out.postcode = Some(candidate);
                    let after: Vec<String> = seg[i + width..].to_vec();
                    let before: Vec<String> = seg[..i].to_vec();
                    let postcode_segment = s;
                    let mut locality_tokens = if !after.is_empty() { after } else { before.clone() };
                    let mut street_tokens: Vec<String> =
                        if locality_tokens.len() == before.len() && !before.is_empty() && locality_tokens == before {
                            Vec::new()
                        } else {
                            before
                        };
                    if let Some(region) = take_region(country, &mut locality_tokens) {
                        out.region = Some(region.into());
                    }
                    let mut rest: Vec<Vec<String>> = segments.drain(..postcode_segment).collect();
                    // Segments after the postcode's: a country name is dropped; anything else ("CEDEX 08",
                    // "London" in "…, SW1A 2AA, London") belongs to the locality.
                    let trailing: Vec<String> = segments
                        .iter()
                        .skip(1)
                        .filter(|seg| super::refdata::country_code(&seg.join(" ")).is_none())
                        .flatten()
                        .cloned()
                        .collect();
                    if locality_tokens.is_empty() && !trailing.is_empty() {
                        locality_tokens = trailing;
                        if out.region.is_none() {
                            out.region = take_region(country, &mut locality_tokens).map(Cow::Owned);
                        }
                    } else {
                        locality_tokens.extend(trailing);
                    }
                    // "San Juan PR 00907" sent as country PR: the country's own code is no part of the locality.
                    if country.regions.is_empty()
                        && locality_tokens.len() > 1
                        && locality_tokens.last().is_some_and(|t| t.eq_ignore_ascii_case(&country.code))
                    {
                        locality_tokens.pop();
                    }
                    if locality_tokens.is_empty() {
                        // "London, SW1A 1AA" or "Sydney, NSW 2000": the locality is the segment before, unless that
                        // is the street ("221B Baker Street, NW1 6XE": the locality is then left to the postcode).
                        let previous_is_street =
                            rest.last().is_some_and(|p| p.iter().any(|t| t.chars().any(|c| c.is_ascii_digit())));
                        if let Some(mut previous) = if previous_is_street { None } else { rest.pop() } {
                            if out.region.is_none() {
                                out.region = take_region(country, &mut previous).map(Cow::Owned);
                            }
                            locality_tokens = previous;
                        }
                    } else if rest.is_empty() && street_tokens.is_empty() && segments.len() == 1 {
                        // One run with no commas: the locality is the postcode's place at its end.
                        let split = place_split(country, out.postcode.as_deref(), &locality_tokens);
                        street_tokens = locality_tokens.drain(..split).collect();
                    }
                    if !street_tokens.is_empty() {
                        rest.push(street_tokens);
                    }
                    out.lines = rest.into_iter().map(|t| t.join(" ")).collect();
                    if !locality_tokens.is_empty() {
                        out.locality = Some(locality_tokens.join(" "));
                    }
                    break 'search;
                }
            }
        }
    }
    if out.postcode.is_none() && !segments.is_empty() {
        let mut last = if segments.len() > 1 { segments.pop().unwrap_or_default() } else { Vec::new() };
        out.region = take_region(country, &mut last).map(Cow::Owned);
        if !last.is_empty() {
            out.locality = Some(last.join(" "));
        }
        out.lines = segments.into_iter().map(|t| t.join(" ")).collect();
    }
    out
}

/// Removes a trailing region name (up to three words) from `tokens` and returns it.
fn take_region(country: &CountryFormat, tokens: &mut Vec<String>) -> Option<String> {
    if country.regions.is_empty() {
        return None;
    }
    for n in (1..=3.min(tokens.len())).rev() {
        let candidate = tokens[tokens.len() - n..].join(" ");
        // The whole segment being a region only counts when something else names the locality.
        if country.region(&candidate).is_some() && (n < tokens.len() || tokens.len() == n) {
            tokens.truncate(tokens.len() - n);
            return Some(candidate);
        }
    }
    None
}

/// Index where the locality starts in a street-and-locality run: the longest trailing run of words that
/// names a place of the postcode, else the last word.
fn place_split(country: &CountryFormat, postcode: Option<&str>, tokens: &[String]) -> usize {
    let places: &[&str] = postcode
        .and_then(|p| match normalize(country, p) {
            Normalized::Standard(p) | Normalized::Corrected(p) => Some(p),
            Normalized::Invalid => None,
        })
        .and_then(|p| postcodes(&country.code).and_then(|t| t.get(&super::validate::lookup_key(&country.code, &p))))
        .map_or(&[], |info| info.place_keys);
    for n in (1..tokens.len()).rev() {
        let candidate = fold(&tokens[tokens.len() - n..].join(" "));
        if places.contains(&candidate.as_str()) {
            return tokens.len() - n;
        }
    }
    tokens.len().saturating_sub(1)
}

/// Japanese in Japanese script: 〒 postcode, prefecture, city/ward up to 市・区・町・村, then the rest.
fn split_japanese(country: &CountryFormat, text: &str) -> FreeText {
    let mut out = FreeText::default();
    let mut rest = text.replace(['〒', '\n', ','], " ");
    if let Some((start, end)) = find_jp_postcode(&rest) {
        out.postcode = Some(rest[start..end].to_owned());
        rest.replace_range(start..end, " ");
    }
    let rest_trimmed = squash_spaces(&rest);
    let mut remaining = rest_trimmed.as_str();
    if let Some(region) =
        country.regions.iter().filter(|r| remaining.contains(r.key.as_str())).max_by_key(|r| r.key.len())
    {
        out.region = Some(region.key.clone().into());
        remaining = remaining.split_once(region.key.as_str()).map_or(remaining, |(_, after)| after);
    }
    let remaining = remaining.trim();
    let cut = remaining
        .char_indices()
        .find(|(_, c)| matches!(c, '市' | '区' | '町' | '村' | '郡'))
        .map(|(i, c)| i + c.len_utf8());
    match cut {
        Some(i) => {
            out.locality = Some(remaining[..i].trim().to_owned());
            let street = remaining[i..].trim();
            if !street.is_empty() {
                out.lines.push(street.to_owned());
            }
        }
        None if !remaining.is_empty() => out.lines.push(remaining.to_owned()),
        None => {}
    }
    out
}

fn find_jp_postcode(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let digits =
        |from: usize, n: usize| bytes.len() >= from + n && bytes[from..from + n].iter().all(u8::is_ascii_digit);
    (0..bytes.len()).find_map(|i| {
        if i > 0 && bytes[i - 1].is_ascii_digit() {
            return None;
        }
        if digits(i, 3) && bytes.get(i + 3) == Some(&b'-') && digits(i + 4, 4) {
            Some((i, i + 8))
        } else if digits(i, 7) && !bytes.get(i + 7).is_some_and(u8::is_ascii_digit) {
            Some((i, i + 7))
        } else {
            None
        }
    })
}

/// PO box spellings by language, matched at the start of a folded line.
const PO_BOX_WORDS: &[&str] = &[
    "PO BOX",
    "P O BOX",
    "POBOX",
    "GPO BOX",
    "LOCKED BAG",
    "PRIVATE BAG",
    "POST OFFICE BOX",
    "POSTFACH",
    "BP",
    "BOITE POSTALE",
    "CASILLA",
    "APARTADO",
    "APARTADO DE CORREOS",
    "CAIXA POSTAL",
    "POSTBUS",
    "CASELLA POSTALE",
    "POSTBOKS",
    "BOX",
    "私書箱",
];

/// Whether house numbers come after the street name (Musterstraße 5) rather than before (5 rue de la Paix).
fn number_after_street(country: &str) -> bool {
    matches!(
        country,
        "DE" | "AT"
            | "CH"
            | "NL"
            | "BE"
            | "IT"
            | "ES"
            | "PT"
            | "PL"
            | "CZ"
            | "SK"
            | "DK"
            | "SE"
            | "NO"
            | "FI"
            | "HU"
            | "SI"
            | "HR"
            | "IS"
            | "LI"
            | "LU"
            | "GR"
            | "MX"
            | "AR"
            | "BR"
            | "CL"
            | "CO"
            | "PE"
    )
}

fn has_digit(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
}

/// Fills the street components of non-US lines.
pub fn components(country: &str, lines: &[String]) -> Components {
    let mut c = Components::default();
    for line in lines {
        let folded = fold(line);
        if let Some(word) = PO_BOX_WORDS.iter().find(|w| folded == **w || folded.starts_with(&format!("{w} "))) {
            let number = folded[word.len()..].trim().split(' ').next().unwrap_or("");
            if has_digit(number) {
                c.po_box = Some(number.to_owned());
                continue;
            }
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let unit_words =
            ["APT", "APARTMENT", "FLAT", "UNIT", "SUITE", "WOHNUNG", "WHG", "APPARTEMENT", "APPT", "ETAGE"];
        if let Some(first) = words.first() {
            if unit_words.contains(&fold(first).as_str()) && c.unit_type.is_none() {
                c.unit_type = Some(fold(first).into());
                c.unit_number = words.get(1).map(|w| w.trim_end_matches(',').to_owned());
                if words.len() <= 2 {
                    continue;
                }
            }
        }
        if c.house_number.is_some() {
            continue;
        }
        let (number, name) = if number_after_street(country) {
            match words.iter().rposition(|w| w.chars().next().is_some_and(|ch| ch.is_ascii_digit())) {
                Some(i) if i > 0 => (Some(words[i..].join(" ")), words[..i].join(" ")),
                _ => (None, words.join(" ")),
            }
        } else {
            match words.iter().position(|w| w.chars().next().is_some_and(|ch| ch.is_ascii_digit())) {
                Some(i) if i + 1 < words.len() => {
                    (Some(words[i].trim_end_matches(',').to_owned()), words[i + 1..].join(" "))
                }
                _ => (None, words.join(" ")),
            }
        };
        if number.is_some() {
            c.house_number = number;
            c.street_name = Some(name.trim_end_matches(',').to_owned()).filter(|n| !n.is_empty());
        } else if c.street_name.is_none() && !name.is_empty() {
            c.street_name = Some(name);
        }
    }
    c
}

/// Whether any line carries a building number (a digit outside a unit designator, or a Japanese block
/// number).
pub fn has_house_number(components: &Components, lines: &[String]) -> bool {
    components.house_number.is_some()
        || lines.iter().any(|l| has_digit(l) && !l.trim().to_uppercase().starts_with("FLAT"))
}
