//! United States: parsing and USPS Publication 28 standardization of street lines, PO boxes, rural routes
//! and military (APO/FPO/DPO) addresses, and splitting free text into street, city, state and ZIP.

use unicode_normalization::UnicodeNormalization;

use super::model::BoxUnit;
use super::refdata::{postcodes, usps};
use crate::text::fold;

/// What a US delivery line turned out to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreetLine {
    pub house_number: Option<String>,
    pub pre_directional: Option<String>,
    pub street_name: Option<String>,
    pub street_suffix: Option<String>,
    pub post_directional: Option<String>,
    pub unit_type: Option<String>,
    pub unit_number: Option<String>,
    pub po_box: Option<String>,
    pub military: Option<BoxUnit>,
    pub rural_route: Option<BoxUnit>,
    /// The unit designator needs a number and has none (`APT` alone).
    pub unit_missing_number: bool,
}

impl StreetLine {
    /// The line as Pub 28 writes it: `1600 PENNSYLVANIA AVE NW`, `PO BOX 12`, `PSC 1234 BOX 5678`.
    pub fn render(&self) -> String {
        if let Some(po_box) = &self.po_box {
            return format!("PO BOX {po_box}");
        }
        let boxed = self.military.as_ref().or(self.rural_route.as_ref());
        if let Some(unit) = boxed {
            return match &unit.box_number {
                Some(b) => format!("{} {} BOX {b}", unit.kind, unit.number),
                None => format!("{} {}", unit.kind, unit.number),
            };
        }
        [
            &self.house_number,
            &self.pre_directional,
            &self.street_name,
            &self.street_suffix,
            &self.post_directional,
            &self.unit_type,
            &self.unit_number,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
    }

    pub fn is_delivery_line(&self) -> bool {
        self.po_box.is_some() || self.military.is_some() || self.rural_route.is_some() || self.street_name.is_some()
    }
}

/// Uppercase, accents and periods removed, `#4` split into `#` `4`; commas end a token.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let dropped = |c: &char| matches!(c, '.' | '\'' | '’' | '"' | '(' | ')');
        let cleaned: String = if raw.is_ascii() {
            raw.chars().filter(|c| !dropped(c)).map(|c| c.to_ascii_uppercase()).collect()
        } else {
            raw.nfd()
                .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                .filter(|c| !dropped(c))
                .flat_map(char::to_uppercase)
                .collect()
        };
        let cleaned = cleaned.trim_matches(|c: char| c == '-' || c == ':');
        if cleaned.is_empty() {
            continue;
        }
        if let Some(rest) = cleaned.strip_prefix('#') {
            out.push("#".to_owned());
            if !rest.is_empty() {
                out.push(rest.to_owned());
            }
        } else {
            out.push(cleaned.to_owned());
        }
    }
    out
}

fn is_number_like(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// House numbers start with a digit (`123`, `123A`, `123-45`) or are grid numbers such as `N6W23001`.
fn is_house_number(token: &str) -> bool {
    if is_number_like(token) {
        return true;
    }
    let mut chars = token.chars();
    matches!(chars.next(), Some('N' | 'S' | 'E' | 'W'))
        && token.len() > 3
        && token[1..].chars().all(|c| c.is_ascii_alphanumeric())
        && token[1..].chars().filter(char::is_ascii_digit).count() >= 3
}

fn is_fraction(token: &str) -> bool {
    let mut parts = token.split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()))
}

fn directional(token: &str) -> Option<&'static String> {
    usps().directionals.get(token)
}

fn suffix(token: &str) -> Option<&'static String> {
    usps().suffixes.get(token)
}

fn unit_designator(token: &str) -> Option<&'static (String, bool)> {
    usps().units.get(token).or_else(|| {
        let alias = match token {
            "APPT" | "APART" | "AP" => "APT",
            "FLR" => "FL",
            "SUIT" | "SUTE" => "STE",
            "BLD" => "BLDG",
            "NO" | "NUMBER" => "#",
            _ => return None,
        };
        usps().units.get(alias)
    })
}

const PO_BOX_PREFIXES: &[&[&str]] = &[
    &["POST", "OFFICE", "BOX"],
    &["POST", "OFFICE", "DRAWER"],
    &["P", "O", "BOX"],
    &["P", "O", "B"],
    &["PO", "BOX"],
    &["PO", "DRAWER"],
    &["POST", "BOX"],
    &["POBOX"],
    &["POB"],
    &["BOX"],
    &["DRAWER"],
    &["PO"],
];

const RURAL_PREFIXES: &[(&[&str], &str)] = &[
    (&["RURAL", "ROUTE"], "RR"),
    (&["RURAL", "RTE"], "RR"),
    (&["RURAL", "RT"], "RR"),
    (&["R", "R"], "RR"),
    (&["RR"], "RR"),
    (&["RFD"], "RR"),
    (&["HIGHWAY", "CONTRACT", "ROUTE"], "HC"),
    (&["HIGHWAY", "CONTRACT"], "HC"),
    (&["STAR", "ROUTE"], "HC"),
    (&["HC"], "HC"),
];

fn strip_prefix<'a>(tokens: &'a [String], prefix: &[&str]) -> Option<&'a [String]> {
    (tokens.len() >= prefix.len() && tokens.iter().zip(prefix).all(|(t, p)| t == p)).then(|| &tokens[prefix.len()..])
}

/// `BOX 5678` (or `BX 5678`) at the start of `rest`.
fn box_number(rest: &[String]) -> Option<String> {
    match rest {
        [b, n, ..] if (b == "BOX" || b == "BX") => Some(n.clone()),
        _ => None,
    }
}

/// Parses one delivery line. `military_context` is true when the locality is APO/FPO/DPO or the state
/// AA/AE/AP, which makes `UNIT 2050 BOX 4190` a military unit rather than an apartment.
pub fn parse_line(tokens: &[String], military_context: bool) -> StreetLine {
    let mut line = StreetLine::default();
    if tokens.is_empty() {
        return line;
    }
    for prefix in PO_BOX_PREFIXES {
        if let Some(rest) = strip_prefix(tokens, prefix) {
            let rest =
                if rest.first().is_some_and(|t| t == "BOX" || t == "NO" || t == "#") { &rest[1..] } else { rest };
            if let [number, ..] = rest {
                if is_number_like(number) || number.len() <= 6 && number.chars().any(|c| c.is_ascii_digit()) {
                    line.po_box = Some(number.clone());
                    return line;
                }
            }
        }
    }
    if let [kind, number, rest @ ..] = tokens {
        let military_kind = matches!(kind.as_str(), "PSC" | "CMR") || (kind == "UNIT" && military_context);
        if military_kind && is_number_like(number) {
            line.military = Some(BoxUnit { kind: kind.clone(), number: number.clone(), box_number: box_number(rest) });
            return line;
        }
    }
    for (prefix, kind) in RURAL_PREFIXES {
        if let Some([number, rest @ ..]) = strip_prefix(tokens, prefix) {
            if is_number_like(number) {
                line.rural_route =
                    Some(BoxUnit { kind: (*kind).to_owned(), number: number.clone(), box_number: box_number(rest) });
                return line;
            }
        }
    }
    parse_street(tokens, &mut line);
    line
}

fn parse_street(tokens: &[String], line: &mut StreetLine) {
    let mut start = 0;
    if is_house_number(&tokens[0]) && tokens.len() > 1 {
        let mut number = tokens[0].clone();
        start = 1;
        if tokens.get(1).is_some_and(|t| is_fraction(t)) && tokens.len() > 2 {
            number = format!("{number} {}", tokens[1]);
            start = 2;
        }
        line.house_number = Some(number);
    }
    let (body_end, unit) = find_unit(tokens, start);
    if let Some((unit_type, unit_number)) = unit {
        line.unit_missing_number =
            unit_number.is_none() && unit_designator(&unit_type).is_some_and(|(_, needs)| *needs);
        line.unit_type = Some(unit_type);
        line.unit_number = unit_number;
    }
    let mut body: Vec<String> = tokens[start..body_end].to_vec();
    if body.is_empty() {
        return;
    }
    if let Some(name) = highway_name(&body) {
        line.street_name = Some(name);
        return;
    }
    if body.len() >= 2 {
        if let Some(dir) = directional(&body[0]) {
            let rest = &body[1..];
            if rest.len() >= 2 || !rest.iter().all(|t| suffix(t).is_some()) {
                line.pre_directional = Some(dir.clone());
                body.remove(0);
            }
        }
    }
    if body.len() >= 2 {
        if let Some(dir) = body.last().and_then(|t| directional(t)) {
            line.post_directional = Some(dir.clone());
            body.pop();
        }
    }
    if body.len() >= 2 {
        if let Some(sfx) = body.last().and_then(|t| suffix(t)) {
            line.street_suffix = Some(sfx.clone());
            body.pop();
        }
    }
    line.street_name = Some(body.join(" "));
}

/// Where the street body ends and the unit that follows it, if any: `APT 4B`, `# 12`, `STE 200`, `REAR`,
/// or a bare trailing identifier with a digit after a suffix (`MAIN ST 4B` → `# 4B`).
fn find_unit(tokens: &[String], start: usize) -> (usize, Option<(String, Option<String>)>) {
    for i in (start + 1)..tokens.len() {
        let Some((abbr, needs_number)) = unit_designator(&tokens[i]) else { continue };
        let next = tokens.get(i + 1);
        // A designator followed by a street type is part of the name: `123 FRONT ST`, `123 REAR RD N`.
        if next.is_some_and(|n| suffix(n).is_some() && !is_number_like(n)) {
            continue;
        }
        if *needs_number {
            let number = next.map(|n| n.trim_start_matches('#').to_owned()).filter(|n| !n.is_empty());
            let number = match number {
                Some(n) if n == "#" => tokens.get(i + 2).cloned(),
                other => other,
            };
            return (i, Some((abbr.clone(), number)));
        }
        if next.is_none() {
            return (i, Some((abbr.clone(), None)));
        }
    }
    if tokens.len() >= start + 3 {
        let last = &tokens[tokens.len() - 1];
        let before = &tokens[tokens.len() - 2];
        if last.chars().any(|c| c.is_ascii_digit()) && (suffix(before).is_some() || directional(before).is_some()) {
            return (tokens.len() - 1, Some(("#".to_owned(), Some(last.clone()))));
        }
    }
    (tokens.len(), None)
}

/// `COUNTY ROAD 12` → `COUNTY RD 12`, `HIGHWAY 12` → `HWY 12`: numbered roads have no suffix.
fn highway_name(body: &[String]) -> Option<String> {
    for (words, abbreviation) in &usps().highway_pretypes {
        if body.len() > words.len() && body.iter().zip(words).all(|(b, w)| b == w) {
            return Some(format!("{abbreviation} {}", body[words.len()..].join(" ")));
        }
    }
    match body {
        [first, number, ..]
            if matches!(first.as_str(), "HIGHWAY" | "HWY" | "ROUTE" | "RTE" | "RT") && is_number_like(number) =>
        {
            let abbreviation = suffix(first).map_or(first.as_str(), String::as_str);
            Some(format!("{abbreviation} {}", body[1..].join(" ")))
        }
        _ => None,
    }
}

/// Whether `tokens` are only a unit (`APT 4`, `SUITE 200`, `# 5`), as an address2 line often is.
pub fn unit_only(tokens: &[String]) -> Option<(String, Option<String>)> {
    let (first, rest) = tokens.split_first()?;
    let (abbr, _) = unit_designator(first)?;
    match rest {
        [] => Some((abbr.clone(), None)),
        [n] => Some((abbr.clone(), Some(n.clone()))),
        [hash, n] if hash == "#" => Some((abbr.clone(), Some(n.clone()))),
        _ => None,
    }
}

/// Free text split into its parts; what could not be found stays `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FreeText {
    pub lines: Vec<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postcode: Option<String>,
}

fn is_zip(token: &str) -> bool {
    let digits: String = token.chars().filter(|c| *c != '-').collect();
    digits.chars().all(|c| c.is_ascii_digit())
        && matches!(digits.len(), 5 | 9)
        && (token.len() == 5 || token.len() == 9 || token.len() == 10)
}

/// A last token after a state that was meant as a ZIP: digits with a lost leading zero, O for 0, I for 1, or
/// a digit too many. The postcode check then repairs or rejects it.
fn is_damaged_zip(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    (4..=10).contains(&token.len())
        && digits >= 1
        && token.chars().all(|c| c.is_ascii_digit() || matches!(c, 'O' | 'I' | 'L' | '-'))
}

/// Splits US free text: ZIP and state from the end, the city before them (by comma, by a known place name of
/// that ZIP or state, or after the street), and the street lines first.
pub fn split_free_text(text: &str) -> FreeText {
    let mut flat: Vec<(usize, String)> = text
        .split([',', '\n', ';'])
        .map(tokens)
        .filter(|t| !t.is_empty())
        .enumerate()
        .flat_map(|(i, seg)| seg.into_iter().map(move |t| (i, t)))
        .collect();
    let mut out = FreeText::default();

    if let Some((_, last)) = flat.last() {
        let before_is_state = flat.len() >= 2 && usps().states.contains_key(&flat[flat.len() - 2].1);
        if is_zip(last) || before_is_state && is_damaged_zip(last) {
            out.postcode = flat.pop().map(|(_, t)| t);
        } else if flat.len() >= 2
            && last.len() == 4
            && last.chars().all(|c| c.is_ascii_digit())
            && is_zip(&flat[flat.len() - 2].1)
        {
            let plus4 = flat.pop().map(|(_, t)| t).unwrap_or_default();
            out.postcode = flat.pop().map(|(_, t)| format!("{t}-{plus4}"));
        }
    }
    // The state: the longest run of up to four trailing tokens that names one ("NEW YORK", "DC").
    for n in (1..=4.min(flat.len().saturating_sub(1))).rev() {
        let words: Vec<&str> = flat[flat.len() - n..].iter().map(|(_, t)| t.as_str()).collect();
        if let Some(code) = usps().states.get(&words.join(" ")) {
            // Two-letter words that are also English words must be written as codes to count ("IN", "OR", "ME").
            out.region = Some(code.clone());
            flat.truncate(flat.len() - n);
            break;
        }
    }
    if flat.is_empty() {
        return out;
    }
    let last_segment = flat.last().map_or(0, |(s, _)| *s);
    let first_segment = flat.first().map_or(0, |(s, _)| *s);
    let tail: Vec<String> = flat.iter().filter(|(s, _)| *s == last_segment).map(|(_, t)| t.clone()).collect();
    let head: Vec<Vec<String>> = (first_segment..last_segment)
        .map(|s| flat.iter().filter(|(seg, _)| *seg == s).map(|(_, t)| t.clone()).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
        .collect();

    let tail_is_street = tail.first().is_some_and(|t| is_house_number(t))
        || tail.len() > 1 && {
            let line = parse_line(&tail, false);
            line.po_box.is_some()
                || line.military.is_some()
                || line.rural_route.is_some()
                || line.house_number.is_some()
        };
    if last_segment > first_segment && !tail_is_street {
        // "…, springfield il 62701": the last comma segment is the city.
        out.locality = Some(tail.join(" "));
        out.lines = head.into_iter().map(|t| t.join(" ")).collect();
        return out;
    }
    let city_len = city_suffix_len(&tail, out.postcode.as_deref(), out.region.as_deref());
    let (street, city) = tail.split_at(tail.len() - city_len);
    out.lines = head.into_iter().map(|t| t.join(" ")).collect();
    if !street.is_empty() {
        out.lines.push(street.join(" "));
    }
    if !city.is_empty() {
        out.locality = Some(city.join(" "));
    }
    out
}

/// How many trailing tokens of a street-and-city run are the city.
fn city_suffix_len(tokens: &[String], zip: Option<&str>, state: Option<&str>) -> usize {
    let table = postcodes("US");
    let zip5 = zip.map(|z| &z[..5.min(z.len())]);
    let known_places: Vec<String> = zip5
        .and_then(|z| table.and_then(|t| t.get(z)))
        .map(|info| info.places.iter().map(|p| fold(p)).collect())
        .unwrap_or_default();
    let max = tokens.len().saturating_sub(1).min(5);
    // A place of this ZIP, or any place of this state, ending the run.
    for n in (1..=max).rev() {
        let candidate = tokens[tokens.len() - n..].join(" ");
        if known_places.contains(&candidate) {
            return n;
        }
    }
    if let (Some(state), Some(table)) = (state, table) {
        for n in (1..=max).rev() {
            let candidate = tokens[tokens.len() - n..].join(" ");
            let in_state =
                table.postcodes_of_place(&candidate).iter().any(|z| table.get(z).is_some_and(|i| i.admin == state));
            if in_state && street_end(tokens) <= tokens.len() - n {
                return n;
            }
        }
    }
    tokens.len() - street_end(tokens).min(tokens.len())
}

/// Index just past the street part of a street-and-city run: after the last suffix, directional or unit.
fn street_end(tokens: &[String]) -> usize {
    let line = parse_line(tokens, false);
    if line.po_box.is_some() || line.rural_route.is_some() || line.military.is_some() {
        // PO BOX n, RR n BOX m, PSC n BOX m: the box number ends the street part.
        return tokens
            .iter()
            .rposition(|t| t == "BOX" || t == "BX" || t == "DRAWER")
            .map_or(2, |i| i + 2)
            .min(tokens.len());
    }
    let start = usize::from(tokens.first().is_some_and(|t| is_house_number(t)));
    let mut end = start + 1;
    let mut i = start + 1;
    while i < tokens.len() {
        let t = &tokens[i];
        if let Some((_, needs_number)) = unit_designator(t) {
            end = if *needs_number { (i + 2).min(tokens.len()) } else { i + 1 };
            if tokens.get(i + 1).is_some_and(|n| n == "#") {
                end = (i + 3).min(tokens.len());
            }
            i = end;
            continue;
        }
        if suffix(t).is_some() || directional(t).is_some() {
            end = i + 1;
        }
        i += 1;
    }
    end.min(tokens.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> StreetLine {
        parse_line(&tokens(text), false)
    }

    #[test]
    fn street_with_post_directional() {
        let l = line("1600 pennsylvania avenue northwest");
        assert_eq!(l.render(), "1600 PENNSYLVANIA AVE NW");
        assert_eq!(l.post_directional.as_deref(), Some("NW"));
    }

    #[test]
    fn directional_alone_before_a_suffix_is_the_name() {
        assert_eq!(line("123 N St").street_name.as_deref(), Some("N"));
        assert_eq!(line("123 W Park Ave").render(), "123 W PARK AVE");
        assert_eq!(line("123 e. 5th street apt. 4b").render(), "123 E 5TH ST APT 4B");
    }

    #[test]
    fn po_box_variants() {
        for text in ["P.O. Box 12", "Post Office Box 12", "POB 12", "PO Box 12", "Box 12", "p o box 12"] {
            assert_eq!(line(text).render(), "PO BOX 12", "{text}");
        }
    }

    #[test]
    fn military_and_rural_routes() {
        assert_eq!(line("psc 1234 box 5678").render(), "PSC 1234 BOX 5678");
        assert_eq!(parse_line(&tokens("Unit 2050 Box 4190"), true).render(), "UNIT 2050 BOX 4190");
        assert_eq!(line("Rural Route 2 Box 152").render(), "RR 2 BOX 152");
    }

    #[test]
    fn free_text_without_commas_finds_the_city() {
        let parsed = split_free_text("1600 pennsylvania avenue northwest washington dc 20500");
        assert_eq!(parsed.lines, vec!["1600 PENNSYLVANIA AVENUE NORTHWEST"]);
        assert_eq!(parsed.locality.as_deref(), Some("WASHINGTON"));
        assert_eq!(parsed.region.as_deref(), Some("DC"));
        assert_eq!(parsed.postcode.as_deref(), Some("20500"));
    }

    #[test]
    fn free_text_with_commas() {
        let parsed = split_free_text("123 main st, apt 4, springfield il 62701");
        assert_eq!(parsed.lines, vec!["123 MAIN ST", "APT 4"]);
        assert_eq!(parsed.locality.as_deref(), Some("SPRINGFIELD"));
    }
}
