//! United States: parsing and USPS Publication 28 standardization of street lines, PO boxes, rural routes
//! and military (APO/FPO/DPO) addresses, and splitting free text into street, city, state and ZIP.

use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::hints::words_may_hold_a_hint;
use super::index::{is_us_place_of_state, prefetch_us_postcode, us_postcode};
use super::intl::FreeText;
use super::model::{BoxUnit, Components};
use super::refdata::{PostcodeInfo, postcodes, usps};

/// What a US delivery line turned out to be: its Pub 28 components, and what did not fit them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreetLine {
    /// House number, directionals, name, suffix, unit, PO box, military or rural-route box.
    pub parts: Components,
    /// The unit designator needs a number and has none (`APT` alone).
    pub unit_missing_number: bool,
    /// Words before a PO box that are not a street (`DEPT 2366` in `DEPT 2366 PO BOX 122366`).
    pub leading: Vec<String>,
    /// Words after the PO box number (`DEPT 145` in `PO BOX 4869 DEPT 145`).
    pub po_box_rest: Vec<String>,
    /// Units that hold the line's unit (`BLDG B` in `BLDG B STE 8A`), written before it: the components keep the
    /// last unit, the delivery point's own.
    pub outer_units: Vec<String>,
}

impl StreetLine {
    /// The lines as Pub 28 writes them: `1600 PENNSYLVANIA AVE NW`, `PO BOX 12`, `PSC 1234 BOX 5678`. A street
    /// and a PO box in one line become two lines, the box last: mail goes to the line above the city.
    pub fn render_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.leading.is_empty() {
            lines.push(self.leading.join(" "));
        }
        // A unit beside a PO box is written where it was typed (leading words or after the box).
        let street = if self.parts.po_box.is_some() && self.parts.street_name.is_none() {
            String::new()
        } else {
            self.render_street()
        };
        if !street.is_empty() {
            lines.push(street);
        }
        if let Some(po_box) = &self.parts.po_box {
            let rest =
                if self.po_box_rest.is_empty() { String::new() } else { format!(" {}", self.po_box_rest.join(" ")) };
            lines.push(format!("PO BOX {po_box}{rest}"));
        }
        lines
    }

    /// The single line form (tests and callers that know the line is one of a kind).
    pub fn render(&self) -> String {
        self.render_lines().join(" ")
    }

    fn render_street(&self) -> String {
        let boxed = self.parts.military.as_ref().or(self.parts.rural_route.as_ref());
        if let Some(unit) = boxed {
            return match &unit.box_number {
                Some(b) => format!("{} {} BOX {b}", unit.kind, unit.number),
                None => format!("{} {}", unit.kind, unit.number),
            };
        }
        let mut street = String::with_capacity(48);
        for part in [
            self.parts.house_number.as_deref(),
            self.parts.pre_directional.as_deref(),
            self.parts.street_name.as_deref(),
            self.parts.street_suffix.as_deref(),
            self.parts.post_directional.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(self.outer_units.iter().map(String::as_str))
        .chain([self.parts.unit_type.as_deref(), self.parts.unit_number.as_deref()].into_iter().flatten())
        {
            if !street.is_empty() {
                street.push(' ');
            }
            street.push_str(part);
        }
        street
    }
}

/// Uppercase, accents and periods removed, `#4` split into `#` `4`; commas end a token.
pub fn tokens(text: &str) -> Vec<String> {
    let mut buf = String::new();
    let mut spans = Vec::new();
    tokenize(text, &mut buf, &mut spans);
    spans.into_iter().map(|(start, end)| buf[start..end].to_owned()).collect()
}

/// The words of `text` borrowed from `buf`: one buffer for all of them rather than a string each. An iterator, so
/// that a caller gathering the words of several texts writes them into one list.
pub fn words_of<'a>(buf: &'a str, spans: &[(usize, usize)]) -> impl Iterator<Item = &'a str> {
    spans.iter().map(move |&(start, end)| &buf[start..end])
}

/// [`tokens`] as byte ranges of `buf`, to which the cleaned words of `text` are appended. Returns whether the
/// words may be other than the text's own runs of letters and digits (as the hint probe reads them): two joined
/// across a dropped period or bracket (`P.O.`), or one cut where a unit designator meets its number (`APT4`).
/// Text that is not ASCII counts as reshaped: the probe never rules it out anyway.
pub fn tokenize(text: &str, buf: &mut String, spans: &mut Vec<(usize, usize)>) -> bool {
    let mut bytes = std::mem::take(buf).into_bytes();
    let reshaped = tokenize_bytes(text, &mut bytes, spans);
    *buf = into_text(bytes);
    reshaped
}

/// [`tokenize`] into bytes: a caller that tokenizes several texts into one buffer turns it into text once.
fn tokenize_bytes(text: &str, bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> bool {
    if text.is_ascii() {
        tokenize_ascii(text.as_bytes(), bytes, spans)
    } else {
        tokenize_chars(text, bytes, spans);
        true
    }
}

/// The tokenizer's bytes as text. Only whole characters are written and words are cut only at ASCII bytes: this
/// cannot fail, and the lossy form would only ever copy.
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`into_text`] for a buffer that stays its owner's.
fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    // Not `from_utf8_lossy` alone: its check is slower than this one, which cannot fail.
    std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed)
}

/// [`tokenize`] for any text: accents removed by decomposition. Each cleaned word is read by [`end_word`], as
/// the ASCII path's are.
fn tokenize_chars(text: &str, bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) {
    let first = spans.len();
    let mut word = String::new();
    // U+037E, the Greek question mark, decomposes to `;`: it separates words as `;` does, or a word would
    // hold a separator.
    for raw in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '\u{37E}')) {
        word.clear();
        if raw.is_ascii() {
            let kept = raw.bytes().filter(|b| !matches!(b, b'.' | b'\'' | b'"' | b'(' | b')'));
            word.extend(kept.map(|b| char::from(b.to_ascii_uppercase())));
        } else {
            let dropped = |c: &char| matches!(c, '.' | '\'' | '’' | '"' | '(' | ')');
            word.extend(
                raw.nfd()
                    .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                    .filter(|c| !dropped(c))
                    .flat_map(char::to_uppercase),
            );
        }
        let start = bytes.len();
        bytes.extend_from_slice(word.as_bytes());
        end_word(bytes, spans, first, start);
    }
}

/// What each ASCII byte is to [`tokenize_ascii`]: a separator of words, a character dropped from them, or the
/// character a word keeps (uppercased).
const TOKEN_BYTES: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = match byte {
            b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' | b',' | b';' => SEPARATOR,
            b'.' | b'\'' | b'"' | b'(' | b')' => DROPPED,
            _ => byte.to_ascii_uppercase(),
        };
        b += 1;
    }
    table
};
const SEPARATOR: u8 = 0;
const DROPPED: u8 = 1;

/// What a kept byte tells [`tokenize_ascii`] about its word: a number sign, dash or colon, which
/// [`end_word`] cuts or trims at, or a digit, which can end a unit designator glued to its number.
const WORD_MARKS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'#' | b'-' | b':' => CUT_OR_TRIM,
            b'0'..=b'9' => DIGIT,
            _ => 0,
        };
        b += 1;
    }
    table
};
const CUT_OR_TRIM: u8 = 1;
const DIGIT: u8 = 2;

/// [`tokenize`] for ASCII text, the common case, byte by byte: each word is copied once, and looked at again
/// only once it is whole. The words are written as bytes, which the caller turns into text once: pushing to a
/// `Vec<u8>` is cheaper than pushing characters to a `String`.
fn tokenize_ascii(text: &[u8], bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> bool {
    let first = spans.len();
    let mut reshaped = false;
    bytes.reserve(text.len());
    let (mut start, mut marks) = (bytes.len(), 0);
    // Most words are recorded as they are: only one with a mark, or a letter then a digit, is read again.
    let mut end = |bytes: &mut Vec<u8>, start: usize, marks: u8| {
        if bytes.len() == start {
            return false;
        }
        let plain = marks & CUT_OR_TRIM == 0 && (marks & DIGIT == 0 || !bytes[start].is_ascii_alphabetic());
        if plain {
            spans.push((start, bytes.len()));
            return false;
        }
        end_word(bytes, spans, first, start)
    };
    for &b in text {
        match TOKEN_BYTES[usize::from(b & 0x7F)] {
            SEPARATOR => {
                reshaped |= end(bytes, start, marks);
                (start, marks) = (bytes.len(), 0);
            }
            // An apostrophe is inside a word for the probe too.
            DROPPED => reshaped |= b != b'\'',
            kept => {
                bytes.push(kept);
                marks |= WORD_MARKS[usize::from(kept & 0x7F)];
            }
        }
    }
    // The end of the text ends the last word.
    reshaped |= end(bytes, start, marks);
    reshaped
}

/// Records the tokens of the word copied to `buf[start..]` after the tokens from `spans[first]` on: a number
/// sign is a token of its own ("#4", "BOX#", "APT#4"), though "# #" says no more than "#", and each part
/// around it is read by [`push_part`]. True when a unit designator was cut off its number.
fn end_word(buf: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>, first: usize, start: usize) -> bool {
    let (end, recorded) = (buf.len(), spans.len());
    let mut cut = false;
    let mut part_start = start;
    loop {
        let hash = buf[part_start..end].iter().position(|&b| b == b'#').map(|i| part_start + i);
        cut |= push_part(buf, spans, part_start, hash.unwrap_or(end));
        let Some(at) = hash else { break };
        if spans[first..].last().is_none_or(|&(s, e)| &buf[s..e] != b"#") {
            spans.push((at, at + 1));
        }
        part_start = at + 1;
    }
    // A word of dashes alone leaves nothing to keep.
    if spans.len() == recorded {
        buf.truncate(start);
    }
    cut
}

/// Records `buf[start..end]` trimmed of dashes and colons, if anything is left; "SUITE100", "APT4B": a unit
/// designator glued to its number is cut from it (true when it was).
fn push_part(buf: &[u8], spans: &mut Vec<(usize, usize)>, start: usize, end: usize) -> bool {
    let piece = &buf[start..end];
    let trimmed = |b: &u8| *b == b'-' || *b == b':';
    let Some(lead) = piece.iter().position(|b| !trimmed(b)) else { return false };
    let tail = piece.iter().rev().position(|b| !trimmed(b)).unwrap_or(0);
    let (from, to) = (start + lead, end - tail);
    let word = &buf[from..to];
    // Only a word opening with a letter can be a designator with its number.
    let digit = if word[0].is_ascii_alphabetic() { word.iter().position(u8::is_ascii_digit) } else { None };
    if let Some(split) = digit.filter(|&i| i >= 2) {
        let designator = &word[..split];
        let is_designator = designator.iter().all(u8::is_ascii_alphabetic)
            && std::str::from_utf8(designator).is_ok_and(|w| unit_designator(w).is_some());
        if is_designator {
            spans.push((from, from + split));
            spans.push((from + split, to));
            return true;
        }
    }
    spans.push((from, to));
    false
}

fn is_number_like(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// House numbers start with a digit (`123`, `123A`, `123-45`) or are grid numbers such as `N6W23001`.
fn is_house_number(token: &str) -> bool {
    if is_number_like(token) || NUMBER_WORDS.contains(&token) {
        return true;
    }
    let mut chars = token.chars();
    matches!(chars.next(), Some('N' | 'S' | 'E' | 'W'))
        && token.len() > 3
        && token[1..].chars().all(|c| c.is_ascii_alphanumeric())
        && token[1..].chars().filter(char::is_ascii_digit).count() >= 3
}

/// House numbers written as words, as prestige addresses are ("ONE S DEARBORN ST", "FIFTY N FRONT ST").
const NUMBER_WORDS: &[&str] = &[
    "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN", "ELEVEN", "TWELVE", "TWENTY",
    "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY", "HUNDRED",
];

fn is_fraction(token: &str) -> bool {
    // The slash found byte by byte: a `str` pattern search costs more than a word this short (a second slash
    // leaves a part that is not all digits).
    let Some(slash) = token.bytes().position(|b| b == b'/') else { return false };
    let (numerator, denominator) = (&token[..slash], &token[slash + 1..]);
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(numerator) && digits(denominator)
}

// The Pub 28 abbreviations are borrowed from their tables by the answer, never copied into it.
fn directional(token: &str) -> Option<&'static str> {
    usps().directionals.get(token).map(String::as_str)
}

fn suffix(token: &str) -> Option<&'static str> {
    usps().suffixes.get(token).map(String::as_str)
}

/// The Pub 28 abbreviation of a secondary unit designator and whether it needs a number, for the table's
/// spellings and common variants (`FLR`, `SUIT`, `NO`).
pub fn unit_designator(token: &str) -> Option<(&'static str, bool)> {
    let (abbreviation, needs_number) = usps().units.get(token).or_else(|| {
        let alias = match token {
            "APPT" | "APART" | "AP" => "APT",
            "FLR" => "FL",
            "SUIT" | "SUTE" => "STE",
            "BLD" | "BLG" => "BLDG",
            "NO" | "NUMBER" => "#",
            _ => return None,
        };
        usps().units.get(alias)
    })?;
    Some((abbreviation, *needs_number))
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
    &["PO", "BX"],
    &["BOX"],
    &["BX"],
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

/// The first words of [`PO_BOX_PREFIXES`], as literal patterns: the compiler compares a word with them inline,
/// where a search of the table calls `memcmp` for every word of the same length.
fn opens_po_box(word: &str) -> bool {
    matches!(word, "POST" | "P" | "PO" | "POBOX" | "POB" | "BOX" | "BX" | "DRAWER")
}

/// The first words of [`RURAL_PREFIXES`], as [`opens_po_box`] has those of the PO box prefixes.
fn opens_rural_route(word: &str) -> bool {
    matches!(word, "RURAL" | "R" | "RR" | "RFD" | "HIGHWAY" | "STAR" | "HC")
}

fn strip_prefix<'a, 't>(tokens: &'a [&'t str], prefix: &[&str]) -> Option<&'a [&'t str]> {
    (tokens.len() >= prefix.len() && tokens.iter().zip(prefix).all(|(t, p)| t == p)).then(|| &tokens[prefix.len()..])
}

/// `BOX 5678` (or `BX 5678`) at the start of `rest`.
fn box_number(rest: &[&str]) -> Option<String> {
    match rest {
        [b, n, ..] if (*b == "BOX" || *b == "BX") => Some((*n).to_owned()),
        _ => None,
    }
}

/// Parses one delivery line. `military_context` is true when the locality is APO/FPO/DPO or the state
/// AA/AE/AP, which makes `UNIT 2050 BOX 4190` a military unit rather than an apartment.
pub fn parse_line(tokens: &[&str], military_context: bool) -> StreetLine {
    let mut line = StreetLine::default();
    parse_line_into(tokens, military_context, &mut line);
    line
}

/// [`parse_line`] into a line the caller holds (a default one): a street line is a large value to move.
pub fn parse_line_into(tokens: &[&str], military_context: bool, line: &mut StreetLine) {
    if tokens.is_empty() {
        return;
    }
    if let Some((kind, number, rest)) = military_unit(tokens, military_context) {
        line.parts.military =
            Some(BoxUnit { kind: kind.to_owned(), number: number.to_owned(), box_number: box_number(rest) });
        return;
    }
    if let Some((kind, number, rest)) = rural_route(tokens) {
        line.parts.rural_route =
            Some(BoxUnit { kind: kind.to_owned(), number: number.to_owned(), box_number: box_number(rest) });
        return;
    }
    if let Some((at, number, after)) = find_po_box(tokens) {
        line.parts.po_box = Some(number.to_owned());
        let rest = &tokens[after..];
        line.po_box_rest = owned(rest);
        // "216 N PINE PO BOX 318": a street before the box is kept with it; other words become a line of their own.
        let mut leading: &[&str] = &[];
        if at > 0 {
            let before = &tokens[..at];
            if is_house_number(before[0]) && before.len() > 1 {
                parse_street(before, line);
            } else {
                leading = before;
                line.leading = owned(before);
            }
        }
        // "DEPT 2366 PO BOX 122366", "PO BOX 60000 FILE 30580": a designator and number beside a box with no
        // street is the box's unit (written where it was typed).
        if line.parts.street_name.is_none() {
            if let Some((unit_type, unit_number)) = box_unit(rest).or_else(|| box_unit(leading)) {
                line.parts.unit_type = Some(unit_type);
                line.parts.unit_number = Some(unit_number);
            }
        }
        return;
    }
    parse_street(tokens, line);
}

/// `PSC 1234 …`, `CMR 450 …` (and `UNIT 2050 …` in a military context): the kind, the number and the words after.
fn military_unit<'a, 't>(tokens: &'a [&'t str], military_context: bool) -> Option<(&'t str, &'t str, &'a [&'t str])> {
    let [kind, number, rest @ ..] = tokens else { return None };
    let military_kind = matches!(*kind, "PSC" | "CMR") || (*kind == "UNIT" && military_context);
    (military_kind && is_number_like(number)).then_some((*kind, *number, rest))
}

/// `RR 2 …`, `HC 68 …` in any of their spellings: the Pub 28 kind, the route number and the words after.
fn rural_route<'a, 't>(tokens: &'a [&'t str]) -> Option<(&'static str, &'t str, &'a [&'t str])> {
    // Most lines open with a house number: ruled out before any prefix is tried.
    if !tokens.first().is_some_and(|first| opens_rural_route(first)) {
        return None;
    }
    RURAL_PREFIXES.iter().find_map(|(prefix, kind)| match strip_prefix(tokens, prefix) {
        Some([number, rest @ ..]) if is_number_like(number) => Some((*kind, *number, rest)),
        _ => None,
    })
}

/// Whether a line is a PO box, a rural route or a military box: what [`parse_line`] finds first, without
/// building the line.
fn is_box_line(tokens: &[&str]) -> bool {
    military_unit(tokens, false).is_some() || rural_route(tokens).is_some() || find_po_box(tokens).is_some()
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// A unit written beside a PO box: a Pub 28 designator or a box-office word (`MSC`, `FILE`, `DRAWER` …)
/// followed by its number.
fn box_unit(words: &[&str]) -> Option<(Cow<'static, str>, String)> {
    let (first, rest) = words.split_first()?;
    let rest: Vec<&str> = rest.iter().copied().filter(|w| *w != "#").collect();
    let kind = unit_designator(first).map(|(abbr, _)| Cow::Borrowed(abbr)).or_else(|| {
        matches!(*first, "MSC" | "FILE" | "DRAWER" | "BOX" | "LOCKBOX" | "ACCT" | "PMB")
            .then(|| Cow::Owned((*first).to_owned()))
    })?;
    (!rest.is_empty() && rest.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()))).then(|| (kind, rest.join(" ")))
}

/// A PO box anywhere in the line: its position, number, and where the words after it start. Bare `BOX n` and
/// `PO n` only count at the start or at the very end of a line, where they cannot be a street's name.
fn find_po_box<'t>(tokens: &[&'t str]) -> Option<(usize, &'t str, usize)> {
    // Most lines have no box word at all: one cheap pass before trying every spelling at every position.
    if !tokens.iter().any(|t| opens_po_box(t)) {
        return None;
    }
    // Strong spellings anywhere first: in "BOX # 2806 PO BOX 8500" the PO box is 8500.
    let strong = |p: &&&[&str]| !matches!(**p, ["BOX"] | ["PO"] | ["BX"] | ["DRAWER"]);
    let weak = |p: &&&[&str]| matches!(**p, ["BOX"] | ["PO"] | ["BX"] | ["DRAWER"]);
    for pass in [strong as fn(&&&[&str]) -> bool, weak] {
        if let Some(found) = find_po_box_with(tokens, pass) {
            return Some(found);
        }
    }
    None
}

fn find_po_box_with<'t>(tokens: &[&'t str], keep: fn(&&&[&str]) -> bool) -> Option<(usize, &'t str, usize)> {
    for at in 0..tokens.len() {
        for prefix in PO_BOX_PREFIXES.iter().filter(keep) {
            let Some(rest) = strip_prefix(&tokens[at..], prefix) else { continue };
            let skip = usize::from(rest.first().is_some_and(|t| matches!(*t, "BOX" | "BX" | "NO" | "#")));
            let rest = &rest[skip..];
            let Some(number) = rest.first() else { continue };
            let weak = matches!(*prefix, ["BOX"] | ["PO"] | ["BX"] | ["DRAWER"]);
            if weak && at > 0 && rest.len() > 1 {
                continue;
            }
            if is_number_like(number) || number.len() <= 6 && number.chars().any(|c| c.is_ascii_digit()) {
                return Some((at, *number, at + prefix.len() + skip + 1));
            }
        }
    }
    None
}

fn parse_street(tokens: &[&str], line: &mut StreetLine) {
    let mut start = 0;
    // A number word is a house number only before at least a name and a suffix, in a line with no digits.
    let word_number = NUMBER_WORDS.contains(&tokens[0]);
    let house = is_house_number(tokens[0])
        && tokens.len() > 1
        && (!word_number || tokens.len() > 2 && !tokens.iter().any(|t| t.chars().any(|c| c.is_ascii_digit())));
    if house {
        let mut number = tokens[0].to_owned();
        start = 1;
        match tokens.get(1) {
            Some(t) if is_fraction(t) && tokens.len() > 2 => {
                number = format!("{number} {t}");
                start = 2;
            }
            // "214 B SOUTH BLVD": a lone letter (not a directional) after the number belongs to it, unless a
            // street type follows: then it is a lettered street ("1800 M ST NW").
            Some(t)
                if tokens.len() > 3
                    && t.len() == 1
                    && t.chars().all(|c| c.is_ascii_alphabetic())
                    && directional(t).is_none()
                    && suffix(tokens[2]).is_none() =>
            {
                number.push_str(t);
                start = 2;
            }
            // Wisconsin grid addresses: "N170 W20015 HUNTERS RD".
            Some(t) if tokens.len() > 2 && is_grid_number(&number) && is_grid_number(t) => {
                number.push_str(t);
                start = 2;
            }
            _ => {}
        }
        line.parts.house_number = Some(number);
    }
    let (mut body_end, unit_at, unit) = find_unit(tokens, start);
    if unit_at > body_end {
        line.outer_units = tokens[body_end..unit_at]
            .iter()
            .map(|t| unit_designator(t).map_or(*t, |(abbreviation, _)| abbreviation).to_owned())
            .collect();
    }
    // "SUMTER ST # APT 1": the number sign before the designator belongs to neither.
    if unit.is_some() && body_end > start + 1 && tokens[body_end - 1] == "#" {
        body_end -= 1;
    }
    if let Some((unit_type, unit_number)) = unit {
        line.unit_missing_number = unit_number.is_none() && unit_designator(unit_type).is_some_and(|(_, needs)| needs);
        line.parts.unit_type = Some(Cow::Borrowed(unit_type));
        line.parts.unit_number = unit_number;
    }
    // Narrowed from both ends as the directionals and the suffix are taken off.
    let mut body: &[&str] = &tokens[start..body_end];
    if body.is_empty() {
        return;
    }
    if let Some((name, post)) = highway_name(body) {
        line.parts.street_name = Some(name);
        line.parts.post_directional = post;
        return;
    }
    if body.len() >= 2 {
        if let Some(dir) = directional(body[0]) {
            let rest = &body[1..];
            // "N ST" in Washington is a street named N; "N WELLS" is North Wells, WELLS being a rare suffix.
            let rest_is_a_common_suffix =
                rest.len() == 1 && suffix(rest[0]).is_some_and(|s| COMMON_SUFFIXES.contains(&s));
            if !rest_is_a_common_suffix {
                line.parts.pre_directional = Some(Cow::Borrowed(dir));
                body = &body[1..];
                if let Some((name, post)) = highway_name(body) {
                    line.parts.street_name = Some(name);
                    line.parts.post_directional = post;
                    return;
                }
            }
        }
    }
    if body.len() >= 2 {
        if let Some(dir) = body.last().and_then(|t| directional(t)) {
            line.parts.post_directional = Some(Cow::Borrowed(dir));
            body = &body[..body.len() - 1];
        }
    }
    if body.len() >= 2 {
        if let Some(sfx) = body.last().and_then(|t| suffix(t)) {
            line.parts.street_suffix = Some(Cow::Borrowed(sfx));
            body = &body[..body.len() - 1];
        }
    }
    // "SAINT JOHN W ST": a directional written before the suffix.
    if line.parts.post_directional.is_none() && body.len() >= 2 {
        if let Some(dir) = body.last().and_then(|t| directional(t)) {
            line.parts.post_directional = Some(Cow::Borrowed(dir));
            body = &body[..body.len() - 1];
        }
    }
    line.parts.street_name = Some(body.join(" "));
}

/// Suffixes so common that a directional before them alone is the street's name (`N ST`, `E AVE`).
const COMMON_SUFFIXES: &[&str] = &[
    "ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "PL", "WAY", "TER", "CIR", "PKWY", "HWY", "TRL", "SQ", "LOOP", "ALY",
];

fn is_grid_number(token: &str) -> bool {
    let mut chars = token.chars();
    matches!(chars.next(), Some('N' | 'S' | 'E' | 'W')) && token.len() >= 3 && chars.all(|c| c.is_ascii_digit())
}

/// `15TH`, `2ND`, `THIRD`: an ordinal, as floors are numbered.
fn ordinal_number(token: &str) -> Option<String> {
    const WORDS: &[&str] =
        &["FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH", "TENTH"];
    if let Some(i) = WORDS.iter().position(|w| *w == token) {
        return Some((i + 1).to_string());
    }
    let digits = token.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let ending = &token[digits.len()..];
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && matches!(ending, "ST" | "ND" | "RD" | "TH"))
        .then(|| digits.to_owned())
}

/// Roads named by number: a number after these words is the road's, not a unit.
const NUMBERED_ROAD_WORDS: &[&str] = &["HIGHWAY", "HWY", "ROUTE", "RTE", "RT", "ROAD", "RD", "FM", "SR", "HY", "PIKE"];

/// A unit: its Pub 28 designator and its number, if any.
type Unit = (&'static str, Option<String>);

/// Where the street body ends, where the line's unit starts (later when units that hold it come between) and
/// that unit, if any: `APT 4B`, `# 12`, `STE 200`, `REAR`, `BLDG B | STE 8A`, or a bare trailing identifier with
/// a digit after a suffix (`MAIN ST 4B` → `# 4B`).
fn find_unit(tokens: &[&str], start: usize) -> (usize, usize, Option<Unit>) {
    for i in (start + 1)..tokens.len() {
        let Some((abbr, needs_number)) = unit_designator(tokens[i]) else { continue };
        let next = tokens.get(i + 1);
        let skip_hash = usize::from(next.is_some_and(|n| *n == "#"));
        // A designator followed by a street type is part of the name: `123 FRONT ST`, `123 REAR RD N`.
        if tokens.get(i + 1 + skip_hash).is_some_and(|n| suffix(n).is_some() && !is_number_like(n)) {
            continue;
        }
        // "STATE HIGHWAY NO 33", "OLD NUMBER 6 HIGHWAY": a number word of a road's name, not a unit.
        if matches!(tokens[i], "NO" | "NUMBER")
            && (NUMBERED_ROAD_WORDS.contains(&tokens[i - 1]) || tokens[i - 1] == "OLD")
        {
            continue;
        }
        // "# APT 2": the number sign stands before the real designator.
        if tokens[i] == "#" && next.is_some_and(|n| unit_designator(n).is_some_and(|(a, _)| a != "#")) {
            continue;
        }
        if needs_number {
            // "15TH FLOOR", "SECOND FLOOR": the ordinal before the designator is its number.
            if next.is_none() && i > start + 1 {
                if let Some(n) = ordinal_number(tokens[i - 1]) {
                    return (i - 1, i - 1, Some((abbr, Some(n))));
                }
            }
            // "14TH FLOOR ROOM 1418": an ordinal before the designator is the outer unit's number.
            let ordinal_before = i > start + 2 && ordinal_number(tokens[i - 1]).is_some();
            if let Some((inner_at, inner)) = inner_unit(tokens, i, ordinal_before) {
                return (if ordinal_before { i - 1 } else { i }, inner_at, Some(inner));
            }
            // Words after the unit number stay with it rather than being lost ("APT 4 REAR").
            return (i, i, Some((abbr, unit_number_from(tokens, i + 1 + skip_hash))));
        }
        if next.is_none() {
            return (i, i, Some((abbr, None)));
        }
    }
    if tokens.len() >= start + 3 {
        let last = &tokens[tokens.len() - 1];
        let before = &tokens[tokens.len() - 2];
        let body = &tokens[start..tokens.len() - 1];
        let unit_like = last.chars().next().is_some_and(|c| c.is_ascii_digit() || last.len() <= 3)
            && last.chars().any(|c| c.is_ascii_digit())
            && ordinal_number(last).is_none();
        let numbered_road = NUMBERED_ROAD_WORDS.contains(before);
        let named = body.iter().any(|t| directional(t).is_none() && !is_number_like(t));
        if unit_like && !numbered_road && named {
            return (tokens.len() - 1, tokens.len() - 1, Some(("#", Some((*last).to_owned()))));
        }
    }
    (tokens.len(), tokens.len(), None)
}

/// The last unit with a number after the unit whose designator is at `outer` ("BLDG B | STE 8A", "DEPT 528 |
/// 4TH FLOOR"): the delivery point's own, which the outer one holds. Only past the outer unit's own number.
fn inner_unit(tokens: &[&str], outer: usize, numbered_before: bool) -> Option<(usize, Unit)> {
    let own_number = outer + 1 + usize::from(tokens.get(outer + 1).is_some_and(|t| *t == "#"));
    let from = if numbered_before { outer + 1 } else { own_number + 1 };
    for j in (from..tokens.len()).rev() {
        let Some((abbreviation, true)) = unit_designator(tokens[j]) else { continue };
        if j + 1 == tokens.len() {
            // "4TH FLOOR" at the end: the ordinal before the designator is its number.
            match ordinal_number(tokens[j - 1]) {
                Some(n) if j > from => return Some((j - 1, (abbreviation, Some(n)))),
                _ => continue,
            }
        }
        if let Some(number) = unit_number_from(tokens, j + 1) {
            return Some((j, (abbreviation, Some(number))));
        }
    }
    None
}

/// A unit's number: the words from `at` on, number signs left out; none when nothing is left.
fn unit_number_from(tokens: &[&str], at: usize) -> Option<String> {
    let words: Vec<&str> = tokens.get(at..).unwrap_or(&[]).iter().copied().filter(|t| *t != "#").collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `COUNTY ROAD 12` → `COUNTY RD 12`, `HIGHWAY 12` → `HWY 12`: numbered roads have no suffix.
fn highway_name(body: &[&str]) -> Option<(String, Option<Cow<'static, str>>)> {
    // "HWY 104 N": a directional after the road's number is the post-directional.
    let (body, post) = match body {
        [rest @ .., last] if rest.len() >= 2 => match directional(last) {
            Some(post) => (rest, Some(Cow::Borrowed(post))),
            None => (body, None),
        },
        all => (all, None),
    };
    let usps = usps();
    // Only a body that opens with the first word of some pre-type can start with one.
    let candidates = match body.first() {
        Some(first) if usps.highway_pretype_openings.iter().any(|o| o == first) => usps.highway_pretypes.as_slice(),
        _ => &[],
    };
    for (words, abbreviation) in candidates {
        if body.len() > words.len() && body.iter().zip(words).all(|(b, w)| b == w) {
            return Some((format!("{abbreviation} {}", body[words.len()..].join(" ")), post));
        }
    }
    match body {
        [first, number, ..]
            if matches!(*first, "HIGHWAY" | "HWY" | "ROUTE" | "RTE" | "RT") && is_number_like(number) =>
        {
            let abbreviation = suffix(first).unwrap_or(first);
            Some((format!("{abbreviation} {}", body[1..].join(" ")), post))
        }
        _ => None,
    }
}

/// Whether `tokens` are only a unit (`APT 4`, `SUITE 200`, `# 5`), as an address2 line often is.
pub fn unit_only<'t>(tokens: &[&'t str]) -> Option<(&'static str, Option<&'t str>)> {
    let (first, rest) = tokens.split_first()?;
    let (abbr, _) = unit_designator(first)?;
    match rest {
        [] => Some((abbr, None)),
        [hash] if *hash == "#" => Some((abbr, None)),
        // "APT STREET" names a street, as in `find_unit`.
        [n] if suffix(n).is_some() && !is_number_like(n) => None,
        [n] => Some((abbr, Some(*n))),
        [hash, n] if *hash == "#" => Some((abbr, Some(*n))),
        _ => None,
    }
}

fn is_zip(token: &str) -> bool {
    let digits = token.bytes().filter(|b| *b != b'-');
    digits.clone().all(|b| b.is_ascii_digit())
        && matches!(digits.count(), 5 | 9)
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
    thread_local! {
        /// The split's word buffers, kept from one call to the next: cleared, never freed, so that a split
        /// allocates little more than what it returns.
        static BUFFERS: RefCell<WordBuffers> = const { RefCell::new(WordBuffers::new()) };
    }
    BUFFERS.with(|buffers| match buffers.try_borrow_mut() {
        Ok(mut buffers) => split_free_text_into(text, &mut buffers),
        // Only a split inside a split would find them taken; it gets buffers of its own.
        Err(_) => split_free_text_into(text, &mut WordBuffers::new()),
    })
}

/// The words of a text: their bytes in one buffer, the span of each, and where each comma segment ends; and
/// the (segment, word) places that the state is looked for in.
struct WordBuffers {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
    ends: Vec<usize>,
    places: Vec<(usize, usize)>,
}

impl WordBuffers {
    const fn new() -> Self {
        WordBuffers { bytes: Vec::new(), spans: Vec::new(), ends: Vec::new(), places: Vec::new() }
    }
}

fn split_free_text_into(text: &str, buffers: &mut WordBuffers) -> FreeText {
    let WordBuffers { bytes, spans, ends, places } = buffers;
    // The ZIP's row is read to find the city, and seldom in cache: fetched from here, it arrives while the text
    // is cut into words.
    if let Some(zip) = trailing_zip5(text) {
        prefetch_us_postcode(zip);
    }
    bytes.clear();
    spans.clear();
    ends.clear();
    // Cut at the separators' bytes rather than by characters: they are ASCII, so a cut never falls inside one.
    let (mut segment_start, mut reshaped, mut always_probed) = (0, false, false);
    for at in memchr::memchr3_iter(b',', b'\n', b';', text.as_bytes()).chain([text.len()]) {
        reshaped |= tokenize_bytes(&text[segment_start..at], bytes, spans);
        ends.push(spans.len());
        always_probed |= text.as_bytes().get(at).is_some_and(|b| *b != b',');
        segment_start = at + 1;
    }
    let buf = as_text(bytes);
    let may_hold_a_hint = (!reshaped && !always_probed).then(|| words_may_hold_a_hint(&buf, spans));
    let mut start = 0;
    let mut segments: Vec<Vec<&str>> = Vec::with_capacity(ends.len());
    for &end in ends.iter() {
        if end > start {
            segments.push(words_of(&buf, &spans[start..end]).collect());
        }
        start = end;
    }
    let mut out = FreeText { words_as_typed: !reshaped, may_hold_a_hint, ..FreeText::default() };
    take_zip(&mut segments, &mut out);
    take_state(&mut segments, places, &mut out);
    segments.retain(|s| !s.is_empty());
    let Some(mut tail) = segments.pop() else { return out };
    let mut head = segments;

    let tail_is_street = starts_street(&tail);
    if !head.is_empty() && !tail_is_street {
        // "…, springfield il 62701": the last comma segment is the city, less a unit or directional that
        // belongs to the street before it ("…, Suite 530 Atlanta", "…Road, NW Atlanta").
        let moved = leading_street_words(&tail, out.postcode.as_deref(), out.region.as_deref());
        if moved > 0 {
            let words: Vec<&str> = tail.drain(..moved).collect();
            if let Some(previous) = head.last_mut() {
                previous.extend(words);
            }
        }
        // "…Road, Unit C-D", "…Street, NE": when all of it went to the street, there is no city.
        if !tail.is_empty() {
            out.locality = Some(tail.join(" "));
        }
    } else if out.postcode.is_none() && out.region.is_none() && head.is_empty() {
        // Nothing marks where a city would start: only a known place name after the street's end counts
        // ("210 N THORNCREST DR CREVE COEUR"); otherwise it is all street ("1755 LAKE COOK").
        let end = StreetEnds::of(&tail).likely;
        let ended = tail[..end].iter().skip(1).any(|t| suffix(t).is_some() || directional(t).is_some());
        let city_len = (1..=if ended { tail.len().saturating_sub(end).min(4) } else { 0 })
            .rev()
            .find(|&n| is_known_us_place(&tail[tail.len() - n..].join(" ")))
            .unwrap_or(0);
        let city = tail.split_off(tail.len() - city_len);
        head.push(tail);
        if !city.is_empty() {
            out.locality = Some(city.join(" "));
        }
    } else {
        let city_len = city_suffix_len(&tail, tail_is_street, out.postcode.as_deref(), out.region.as_deref());
        let city = tail.split_off(tail.len() - city_len);
        if !tail.is_empty() {
            head.push(tail);
        }
        if !city.is_empty() {
            out.locality = Some(city.join(" "));
        }
    }
    out.lines = merge_fragments(head);
    out.lines_are_words = true;
    out
}

/// The ZIP5 that a text seems to end with (`… 62701`, `… 62701-1234`): a guess, good enough to fetch a row
/// ahead; [`take_zip`] decides.
fn trailing_zip5(text: &str) -> Option<&str> {
    let last = text.trim_end().rsplit(|c: char| c.is_ascii_whitespace() || c == ',').next()?;
    // A ZIP token is ASCII digits and a hyphen, five of them at least.
    is_zip(last).then(|| &last[..5])
}

/// The ZIP (or ZIP+4, or a damaged ZIP after a state) at the very end.
fn take_zip(segments: &mut [Vec<&str>], out: &mut FreeText) {
    let Some(last_segment) = segments.iter_mut().rev().find(|s| !s.is_empty()) else { return };
    let n = last_segment.len();
    let last = &last_segment[n - 1];
    let before_is_state = n >= 2 && usps().states.contains_key(last_segment[n - 2]);
    // "POST OFFICE BOX 40177": a number after a box word is the box's.
    let before_is_box = n >= 2 && matches!(last_segment[n - 2], "BOX" | "BX" | "#" | "DRAWER" | "POB" | "POBOX");
    if before_is_box {
        return;
    }
    if is_zip(last) || before_is_state && is_damaged_zip(last) {
        out.postcode = last_segment.pop().map(str::to_owned);
    } else if n >= 2 && last.len() == 4 && last.chars().all(|c| c.is_ascii_digit()) && is_zip(last_segment[n - 2]) {
        let plus4 = last_segment.pop().unwrap_or_default();
        out.postcode = last_segment.pop().map(|zip| format!("{zip}-{plus4}"));
    }
}

/// The state: the longest run of up to four trailing words that names one ("NEW YORK", "DC"). Without a ZIP,
/// a code right after a street type, an ordinal or a unit word is that word's ("CEDAR CREST CT", "20TH FL").
fn take_state(segments: &mut [Vec<&str>], flat: &mut Vec<(usize, usize)>, out: &mut FreeText) {
    flat.clear();
    flat.extend(segments.iter().enumerate().flat_map(|(s, seg)| (0..seg.len()).map(move |i| (s, i))));
    // Names of several words are spelled into one buffer rather than joined anew for each length.
    let mut key = String::new();
    // Names of several words are only tried when the last word ends one.
    let last_word = flat.last().map(|&(s, i)| segments[s][i]);
    let longest = if last_word.is_some_and(ends_a_state_name_of_words) { 4 } else { 1 };
    for n in (1..=longest.min(flat.len().saturating_sub(1))).rev() {
        let run = &flat[flat.len() - n..];
        let only_word = if let [(s, i)] = run { Some(segments[*s][*i]) } else { None };
        let name = match only_word {
            Some(word) => word,
            None => {
                key.clear();
                for (k, &(s, i)) in run.iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(segments[s][i]);
                }
                key.as_str()
            }
        };
        let Some(code) = usps().states.get(name) else { continue };
        let (ps, pi) = flat[flat.len() - n - 1];
        let previous = &segments[ps][pi];
        let same_segment = ps == run[0].0;
        // A comma before the code sets it apart as a state ("…ROAD, IL"), unless it reads as a directional
        // ("…STREET, NE").
        let belongs_to_street = out.postcode.is_none()
            && only_word.is_some_and(|word| {
                if same_segment {
                    suffix(previous).is_some() || ordinal_number(previous).is_some() || unit_designator(word).is_some()
                } else {
                    directional(word).is_some()
                }
            });
        // … unless the words before it name a place of that state ("ROCKY HILL CT", "PALM COAST FL").
        let names_a_place = || {
            let before: Vec<&str> = flat[..flat.len() - n].iter().rev().take(3).map(|&(s, i)| segments[s][i]).collect();
            (1..=before.len()).any(|k| {
                let words: Vec<&str> = before[..k].iter().rev().copied().collect();
                is_place(&words.join(" "), None, Some(code))
            })
        };
        if belongs_to_street && !names_a_place() {
            return;
        }
        out.region = Some(Cow::Borrowed(code.as_str()));
        for &(s, i) in run.iter().rev() {
            segments[s].remove(i);
        }
        return;
    }
}

/// Whether `word` is the last word of a state name of two or more words (`YORK` of NEW YORK).
fn ends_a_state_name_of_words(word: &str) -> bool {
    static ENDINGS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    ENDINGS
        .get_or_init(|| usps().states.keys().filter_map(|name| name.rsplit_once(' ')).map(|(_, last)| last).collect())
        .contains(word)
}

fn starts_street(tokens: &[&str]) -> bool {
    // A house number is only ever taken from the first word, so past that only a box line can be a street.
    tokens.first().is_some_and(|t| is_house_number(t)) || tokens.len() > 1 && is_box_line(tokens)
}

/// How many leading words of a city segment belong to the street before it: a unit (`SUITE 530`, `# 502`)
/// or a lone directional (`NW`), unless the whole segment is a known place ("NORTH LAS VEGAS").
fn leading_street_words(city: &[&str], zip: Option<&str>, state: Option<&str>) -> usize {
    if is_place(&city.join(" "), zip, state) {
        return 0;
    }
    if let Some((_, needs_number)) = city.first().and_then(|t| unit_designator(t)) {
        let mut n = 1 + usize::from(needs_number);
        if city.get(1).is_some_and(|t| *t == "#") {
            n += 1;
        }
        return n.min(city.len());
    }
    usize::from(city.first().is_some_and(|t| directional(t).is_some()))
}

/// Street fragments that commas cut off: a lone unit (`12C`, `1600`, `APT 4`) or directional (`NW`) joins
/// the line before it.
fn merge_fragments(mut segments: Vec<Vec<&str>>) -> Vec<String> {
    // In place: `dedup_by` hands each segment with the last one kept, and a fragment moves into it.
    segments.dedup_by(|segment, previous| {
        let fragment = match segment.as_slice() {
            [only] => directional(only).is_some() || only.chars().any(|c| c.is_ascii_digit()) && !is_zip(only),
            [ordinal, designator] if ordinal_number(ordinal).is_some() && unit_designator(designator).is_some() => true,
            _ => unit_only(segment).is_some(),
        };
        if !(fragment && starts_street(previous)) {
            return false;
        }
        if segment.len() == 1 && directional(segment[0]).is_none() {
            previous.push("#");
        }
        previous.append(segment);
        true
    });
    // Joined segments can bring two number signs together ("…ST #, 5"): one says as much ("# #" tokenizes
    // as "#").
    segments
        .into_iter()
        .map(|mut l| {
            l.dedup_by(|later, earlier| *later == "#" && *earlier == "#");
            l.join(" ")
        })
        .collect()
}

/// City names compare with their common abbreviations spelled out (ST LOUIS = SAINT LOUIS, W PALM BEACH).
pub fn canonical_place(folded: &str) -> String {
    canonical_place_cow(folded).into_owned()
}

/// [`canonical_place`], borrowing the name when no word of it is an abbreviation (the common case).
pub fn canonical_place_cow(folded: &str) -> Cow<'_, str> {
    // Split at any ASCII whitespace for speed: it finds every abbreviation the split at spaces below finds, and
    // for text it alone cuts (at a tab, say) the rewrite gives the text back unchanged.
    if folded.split_ascii_whitespace().all(|w| canonical_word(w).len() == w.len()) {
        return Cow::Borrowed(folded);
    }
    Cow::Owned(folded.split(' ').map(canonical_word).collect::<Vec<_>>().join(" "))
}

fn canonical_word(word: &str) -> &str {
    match word {
        "ST" => "SAINT",
        "STE" => "SAINTE",
        "MT" => "MOUNT",
        "FT" => "FORT",
        "PT" => "POINT",
        "PK" => "PARK",
        "HTS" => "HEIGHTS",
        "SPGS" => "SPRINGS",
        "BCH" => "BEACH",
        "LK" => "LAKE",
        "CTR" => "CENTER",
        "VLG" => "VILLAGE",
        "JCT" => "JUNCTION",
        "TWP" => "TOWNSHIP",
        "N" => "NORTH",
        "S" => "SOUTH",
        "E" => "EAST",
        "W" => "WEST",
        other => other,
    }
}

/// The row of a ZIP or ZIP+4 the split took (ASCII: digits and a hyphen, or the letters a damaged ZIP has).
fn zip_row(zip: &str) -> Option<&'static PostcodeInfo> {
    us_postcode(&zip[..5.min(zip.len())])
}

/// How many trailing words name a place of the ZIP, compared word by word without building strings. In a name
/// of several words, all but one may be shortened as people shorten them ("LAFAYETTE HL", "MARINA DL REY",
/// "BEAR CREEK TWP"): the ZIP vouches for the place, so the letters kept in order are enough.
fn zip_place_len(tokens: &[&str], zip: &str, max: usize) -> Option<usize> {
    let info = zip_row(zip)?;
    info.place_keys
        .iter()
        .filter_map(|key| {
            // Words are single-spaced in a key; counting the spaces is cheaper than splitting.
            let n = key.bytes().filter(|&b| b == b' ').count() + 1;
            let tail = tokens.get(tokens.len().checked_sub(n)?..)?;
            if n > max {
                return None;
            }
            let mut exact = 0;
            for (typed, word) in tail.iter().zip(key.split(' ')) {
                if canonical_word(typed) == word {
                    exact += 1;
                } else if n == 1 || !shortens(typed, word) {
                    return None;
                }
            }
            (exact > 0).then_some(n)
        })
        .max()
}

/// Whether `short` is `word` with letters left out: the same first letter, the rest in order ("HL" of HILL,
/// "TWP" of TOWNSHIP, "DL" of DEL). Two letters at least: a lone initial says too little.
fn shortens(short: &str, word: &str) -> bool {
    let (short, word) = (short.as_bytes(), word.as_bytes());
    if short.len() < 2 || short.len() >= word.len() || short[0] != word[0] {
        return false;
    }
    let mut rest = word[1..].iter();
    short[1..].iter().all(|b| rest.any(|w| w == b))
}

/// Whether words name a place anywhere in the US.
fn is_known_us_place(words: &str) -> bool {
    postcodes("US").is_some_and(|t| !t.postcodes_of_place(&canonical_place_cow(words)).is_empty())
}

/// Whether words name a place of the ZIP, or any place of the state.
fn is_place(words: &str, zip: Option<&str>, state: Option<&str>) -> bool {
    if postcodes("US").is_none() {
        return false;
    }
    let key = canonical_place_cow(words);
    if let Some(info) = zip.and_then(zip_row) {
        if info.place_keys.iter().any(|k| *k == key) {
            return true;
        }
    }
    state.is_some_and(|state| is_us_place_of_state(&key, state))
}

/// How many trailing words of a street-and-city run are the city.
fn city_suffix_len(tokens: &[&str], street_like: bool, zip: Option<&str>, state: Option<&str>) -> usize {
    // A run that is no street at all may be all city ("MINNEAPOLIS").
    let max = if street_like { tokens.len().saturating_sub(1) } else { tokens.len() }.min(5);
    // A place of this ZIP first, then the longest place of this state that starts where the street can end
    // ("…CONNISTON RD | WEST PALM BEACH": a type word may close the street or be the city's own).
    if let Some(n) = zip.and_then(|z| zip_place_len(tokens, z, max)) {
        return n;
    }
    let ends = StreetEnds::of(tokens);
    for n in (1..=max).rev() {
        if ends.may_end_at(tokens.len() - n) && is_place(&tokens[tokens.len() - n..].join(" "), None, state) {
            return n;
        }
    }
    if !street_like {
        return tokens.len();
    }
    tokens.len() - ends.likely.min(tokens.len())
}

/// Where the street part of a street-and-city run can end: after a type word, a directional or a unit, or
/// anywhere past the last of them.
struct StreetEnds {
    /// Bit `p` set: the street may end before word `p`.
    possible: u64,
    /// After the last unit, directional or type word (after the first word when there is none).
    last: usize,
    /// The end when no place name decides: after the last unit, directional or type word, except a type word
    /// that often ends a place name once the street has had one that seldom does ("…RD | BEAR CREEK TW").
    likely: usize,
}

impl StreetEnds {
    fn of(tokens: &[&str]) -> StreetEnds {
        if is_box_line(tokens) {
            // PO BOX n, RR n BOX m, PSC n BOX m: the box number ends the street part.
            let end = tokens
                .iter()
                .rposition(|t| matches!(*t, "BOX" | "BX" | "DRAWER"))
                .map_or(2, |i| i + 2)
                .min(tokens.len());
            return StreetEnds { possible: bit(end), last: end, likely: end };
        }
        let start = usize::from(tokens.first().is_some_and(|t| is_house_number(t)));
        // The first word is the street's name, unless it opens a road named by number ("198 ROUTE 690 | …").
        let first = numbered_road_end(tokens, start).unwrap_or(start + 1);
        let (mut possible, mut last, mut likely) = (bit(first), first, first);
        // Whether the street has had a unit or a type word that seldom ends a place name.
        let (mut closed, mut after_unit) = (false, false);
        let mut i = first;
        while i < tokens.len() {
            let t = tokens[i];
            if let Some((_, needs_number)) = unit_designator(t) {
                let mut end = if needs_number { i + 2 } else { i + 1 };
                if tokens.get(i + 1).is_some_and(|n| *n == "#") {
                    end = i + 3;
                }
                let end = end.min(tokens.len());
                (possible, last, likely, closed, after_unit) = (possible | bit(end), end, end, true, true);
                i = end;
                continue;
            }
            if let Some(abbreviation) = suffix(t) {
                let end = numbered_road_end(tokens, i).unwrap_or(i + 1);
                let often_a_place = ends_place_names(abbreviation);
                if !(closed && often_a_place) {
                    likely = end;
                }
                closed |= !often_a_place;
                (possible, last) = (possible | bit(end), end);
                i = end;
                continue;
            } else if ordinal_number(t).is_some() {
                // Numbered streets often go without a type ("1301 SE 2ND | FORT LAUDERDALE").
                possible |= bit(i + 1);
            } else if directional(t).is_some() {
                (possible, last) = (possible | bit(i + 1), i + 1);
                // A directional after a unit starts the city ("# 4H | NORTH BAY VILLAGE"): Pub 28 writes the
                // street's own before the unit.
                if !after_unit {
                    likely = i + 1;
                }
            }
            i += 1;
        }
        StreetEnds { possible, last: last.min(tokens.len()), likely: likely.min(tokens.len()) }
    }

    fn may_end_at(&self, at: usize) -> bool {
        at >= self.last || self.possible & bit(at) != 0
    }
}

/// Where a road named by number that opens at `at` ends: after its number ("STATE RTE 590 | ROARING BROOK TWP",
/// "US HWY NO 130 N").
fn numbered_road_end(tokens: &[&str], at: usize) -> Option<usize> {
    let number = at + 1 + usize::from(tokens.get(at + 1).is_some_and(|n| matches!(*n, "NO" | "#")));
    let numbered = tokens.get(at).is_some_and(|t| NUMBERED_ROAD_WORDS.contains(t))
        && tokens.get(number).is_some_and(|n| is_number_like(n));
    numbered.then_some(number + 1)
}

/// `1 << at`, nothing past the 64th word: no street reaches that far.
fn bit(at: usize) -> u64 {
    1u64.checked_shl(at as u32).unwrap_or(0)
}

/// Whether a street type (its Pub 28 abbreviation) ends at least [`PLACE_ENDING_MIN`] US place names of two or
/// more words (SPRINGS, LAKE, PARK, CREEK, HILL …), so that after a street's own type it starts a city as often
/// as it continues the street. Worked out once from the US postcode table; none while there is none.
fn ends_place_names(abbreviation: &str) -> bool {
    static ENDINGS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    if let Some(endings) = ENDINGS.get() {
        return endings.contains(abbreviation);
    }
    // Not worked out while the table is missing: where tables are installed at run time, it may come later.
    let Some(table) = postcodes("US") else { return false };
    ENDINGS
        .get_or_init(|| {
            let mut names: HashSet<&str> = HashSet::default();
            let mut counts: rustc_hash::FxHashMap<&'static str, usize> = Default::default();
            for (_, info) in table.iter() {
                for key in info.place_keys {
                    if let Some((_, last)) = key.rsplit_once(' ')
                        && names.insert(key)
                        && let Some(abbreviation) = suffix(last)
                    {
                        *counts.entry(abbreviation).or_default() += 1;
                    }
                }
            }
            counts.into_iter().filter(|&(_, n)| n >= PLACE_ENDING_MIN).map(|(a, _)| a).collect()
        })
        .contains(abbreviation)
}

/// How many place names a street type must end to count as a place's word too: RD, ST, PL and the other
/// common types end at most six US place names each, the place words (SPRINGS, LAKE, PARK …) dozens.
const PLACE_ENDING_MIN: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_fetched_ahead_is_the_one_a_text_ends_with() {
        assert_eq!(trailing_zip5("123 main st, springfield il 62701 "), Some("62701"));
        assert_eq!(trailing_zip5("123 MAIN ST SPRINGFIELD IL 62701-1234"), Some("62701"));
        assert_eq!(trailing_zip5("62701"), Some("62701"));
        // No guess where the text does not end in five digits.
        for text in ["123 main st", "", "1234", "springfield il 62701-12", "PO BOX 40177X", "ZIP ６２７０１"] {
            assert_eq!(trailing_zip5(text), None, "{text}");
        }
    }

    fn parse(text: &str, military_context: bool) -> StreetLine {
        let owned = tokens(text);
        let words: Vec<&str> = owned.iter().map(String::as_str).collect();
        parse_line(&words, military_context)
    }

    fn line(text: &str) -> StreetLine {
        parse(text, false)
    }

    /// A tokenizer into a byte buffer and word spans.
    type Tokenizer<R> = fn(&str, &mut Vec<u8>, &mut Vec<(usize, usize)>) -> R;

    fn words<R>(text: &str, tokenizer: Tokenizer<R>) -> Vec<String> {
        let (mut bytes, mut spans) = (Vec::new(), Vec::new());
        tokenizer(text, &mut bytes, &mut spans);
        let buf = into_text(bytes);
        words_of(&buf, &spans).map(str::to_owned).collect()
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_tokenizer_agrees_with_the_general_one(text in "[ -~\t\n]{0,40}") {
            let ascii = words(&text, |t, b, s| tokenize_ascii(t.as_bytes(), b, s));
            proptest::prop_assert_eq!(ascii, words(&text, tokenize_chars));
        }

        #[test]
        fn the_ascii_tokenizer_agrees_on_punctuated_units(text in "(APT|STE|SUITE|#|-|:|[.#:a-z0-9-]{1,4}| |,){0,12}") {
            let ascii = words(&text, |t, b, s| tokenize_ascii(t.as_bytes(), b, s));
            proptest::prop_assert_eq!(ascii, words(&text, tokenize_chars));
        }

        /// What `FreeText::lines_are_words` relies on: words are never empty and hold no whitespace, and the
        /// split's lines (words joined by spaces) tokenize into exactly their words.
        #[test]
        fn free_text_lines_tokenize_into_their_words(
            text in "(\\PC|APT|APT4#B|SUITE12|# |#4|4#B|, |\\. |\u{a0}|\u{b}|[a-z0-9#-]{1,4} ){0,16}"
        ) {
            for word in words(&text, tokenize_bytes) {
                proptest::prop_assert!(!word.is_empty() && !word.contains(char::is_whitespace), "{:?} in {:?}", word, text);
            }
            for line in split_free_text(&text).lines {
                let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
                proptest::prop_assert_eq!(tokens(&line), words, "{:?}", line);
            }
        }
    }

    proptest::proptest! {
        /// The probe's answer read off the split's words is the probe's answer on the text.
        #[test]
        fn the_words_tell_what_the_probe_tells(
            text in "(near|NEAR|the|school|in|front|of|al|lado|de|call|on|arrival|bei|[a-z0-9]{1,4}|[.,#'-]| |;|\\(|\n|APT|p\\.o\\.|st\\.){0,14}"
        ) {
            if let Some(answer) = split_free_text(&text).may_hold_a_hint {
                proptest::prop_assert_eq!(answer, super::super::hints::may_hold_a_hint(&text), "{:?}", text);
            }
        }
    }

    #[test]
    fn the_split_answers_for_the_hint_probe_when_its_words_are_the_texts() {
        assert_eq!(split_free_text("123 main st near the school, springfield il 62701").may_hold_a_hint, Some(true));
        assert_eq!(split_free_text("123 main st, springfield il 62701").may_hold_a_hint, Some(false));
        // "P.O." is one word to the tokenizer and two to the probe; a semicolon always lets the probe through.
        assert_eq!(split_free_text("p.o. box 12, springfield il 62701").may_hold_a_hint, None);
        assert_eq!(split_free_text("123 main st; springfield il 62701").may_hold_a_hint, None);
    }

    #[test]
    fn the_quick_openings_cover_every_prefix() {
        for prefix in PO_BOX_PREFIXES {
            assert!(opens_po_box(prefix[0]), "{prefix:?}");
        }
        for (prefix, _) in RURAL_PREFIXES {
            assert!(opens_rural_route(prefix[0]), "{prefix:?}");
        }
        assert!(!opens_po_box("POBOXES") && !opens_rural_route("1600"));
    }

    #[test]
    fn street_with_post_directional() {
        let l = line("1600 pennsylvania avenue northwest");
        assert_eq!(l.render(), "1600 PENNSYLVANIA AVE NW");
        assert_eq!(l.parts.post_directional.as_deref(), Some("NW"));
    }

    #[test]
    fn directional_alone_before_a_suffix_is_the_name() {
        assert_eq!(line("123 N St").parts.street_name.as_deref(), Some("N"));
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
    fn the_last_unit_is_the_lines_and_the_units_before_it_hold_it() {
        let l = line("4343 shallowford rd bldg b suite 8a");
        assert_eq!(l.render(), "4343 SHALLOWFORD RD BLDG B STE 8A");
        assert_eq!((l.parts.unit_type.as_deref(), l.parts.unit_number.as_deref()), (Some("STE"), Some("8A")));
        assert_eq!(l.outer_units, ["BLDG", "B"]);
        // An ordinal before a floor is its number, before or after another unit.
        let l = line("300 e randolph st dept 528 4th floor");
        assert_eq!(l.render(), "300 E RANDOLPH ST DEPT 528 FL 4");
        let l = line("180 water street 14th floor room 1418");
        assert_eq!((l.parts.street_name.as_deref(), l.parts.street_suffix.as_deref()), (Some("WATER"), Some("ST")));
        assert_eq!((l.parts.unit_type.as_deref(), l.parts.unit_number.as_deref()), (Some("RM"), Some("1418")));
        // A designator without a number after the unit stays with the unit's number.
        let l = line("123 main st apt 4 rear");
        assert_eq!((l.parts.unit_number.as_deref(), l.outer_units.len()), (Some("4 REAR"), 0));
    }

    #[test]
    fn military_and_rural_routes() {
        assert_eq!(line("psc 1234 box 5678").render(), "PSC 1234 BOX 5678");
        assert_eq!(parse("Unit 2050 Box 4190", true).render(), "UNIT 2050 BOX 4190");
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
        assert_eq!(parsed.lines, vec!["123 MAIN ST APT 4"]);
        assert_eq!(parsed.locality.as_deref(), Some("SPRINGFIELD"));
        // A unit number cut off by a comma joins the street with one number sign.
        assert_eq!(split_free_text("123 main st, 4, springfield il 62701").lines, vec!["123 MAIN ST # 4"]);
        assert_eq!(split_free_text("123 main st #, 4, springfield il 62701").lines, vec!["123 MAIN ST # 4"]);
    }

    #[test]
    fn a_shortened_word_keeps_the_first_letter_and_the_rest_in_order() {
        for (short, word) in [("HL", "HILL"), ("TWP", "TOWNSHIP"), ("DL", "DEL"), ("BR", "BRANCH"), ("PK", "PARK")] {
            assert!(shortens(short, word), "{short} of {word}");
        }
        // A lone initial, the whole word, another first letter, letters out of order.
        for (short, word) in [("D", "DALLAS"), ("HILL", "HILL"), ("IL", "HILL"), ("LH", "HILL"), ("HLX", "HILL")] {
            assert!(!shortens(short, word), "{short} of {word}");
        }
    }

    /// Free text, the one street line the split should find, and the city.
    fn assert_splits(cases: &[(&str, &str, &str)]) {
        for &(text, street, city) in cases {
            let parsed = split_free_text(text);
            assert_eq!((parsed.lines, parsed.locality.as_deref()), (vec![street.to_owned()], Some(city)), "{text}");
        }
    }

    #[test]
    fn a_city_the_zip_names_may_be_shortened_in_all_but_one_word() {
        // 19444 is Lafayette Hill, PA; 90292 Marina Del Rey, CA.
        assert_splits(&[
            ("566 red rambler dr lafayette hl pa 19444-2109", "566 RED RAMBLER DR", "LAFAYETTE HL"),
            ("333 washington blvd marina dl rey ca 90292", "333 WASHINGTON BLVD", "MARINA DL REY"),
        ]);
        // One word at least must match whole, and a one-word name must match whole.
        assert_eq!(zip_place_len(&["LAFAYETTE", "HL"], "19444", 5), Some(2));
        assert_eq!(zip_place_len(&["LFYTT", "HL"], "19444", 5), None);
        assert_eq!(zip_place_len(&["12", "MAIN", "ST", "SPGFLD"], "62701", 5), None);
        assert_eq!(zip_place_len(&["12", "MAIN", "ST", "SPRINGFIELD"], "62701", 5), Some(1));
    }

    #[test]
    fn place_words_after_the_streets_own_type_start_the_city() {
        assert!(ends_place_names("SPGS") && ends_place_names("CRK") && ends_place_names("PARK"));
        assert!(!ends_place_names("RD") && !ends_place_names("ST") && !ends_place_names("AVE"));
        assert_splits(&[
            // No place of the ZIP (18702 is Wilkes Barre) or the state matches: the street ends at RD, not CREEK.
            ("155 laurel run rd bear creek tw pa 18702", "155 LAUREL RUN RD", "BEAR CREEK TW"),
            // A place of the state may start at any type word or directional: WEST is the city's.
            ("317 conniston road west palm beach fl", "317 CONNISTON ROAD", "WEST PALM BEACH"),
            // Without state or ZIP, a known place after the street's type.
            ("1850 green bay road highland park", "1850 GREEN BAY ROAD", "HIGHLAND PARK"),
            // A road named by number ends after the number, and may open the street.
            ("621 state route 590 roaring brook twp pa 18444", "621 STATE ROUTE 590", "ROARING BROOK TWP"),
            ("198 route 690 springbrook township, pa 18444", "198 ROUTE 690", "SPRINGBROOK TOWNSHIP"),
            // A directional after a unit is the city's.
            ("7545 e treasure dr # 4h north bay village fl 33141", "7545 E TREASURE DR # 4H", "NORTH BAY VILLAGE"),
            // A numbered street may go without a type.
            ("1301 se 2nd fort lauderdale, fl", "1301 SE 2ND", "FORT LAUDERDALE"),
            // A street of place words alone keeps them: no type word before them closes it.
            ("12 spring valley springfield il 62701", "12 SPRING VALLEY", "SPRINGFIELD"),
        ]);
    }

    #[test]
    fn the_greek_question_mark_separates_words_as_a_semicolon_does() {
        // U+037E decomposes to `;`, which a word never holds.
        assert_eq!(tokens("12 main st\u{37E} apt 4"), ["12", "MAIN", "ST", "APT", "4"]);
        assert!(split_free_text("\u{37E}").lines.is_empty());
    }
}
