//! Delivery hints typed into address lines ("near the school", "call on arrival", "bei Nachbar abgeben",
//! "学校旁边"). They help the driver but break address matching, so they are moved out of the address into
//! `delivery_instructions`. The phrases are data: `shared/data/address-hints/hints.csv`.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::OnceLock;

use super::refdata::csv_rows;
use crate::text::{fold, fold_into};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    /// A landmark instead of an address: the location is vague.
    Landmark,
    /// An instruction for the driver.
    Instruction,
}

/// A phrase of whole words, matched by its folded words.
struct WordPhrase {
    words: Vec<String>,
    kind: HintKind,
}

/// The hint phrases, indexed for matching at every word of a segment in one pass.
struct Phrases {
    /// Word phrases by their first folded word, longest first.
    by_first_word: HashMap<String, Vec<WordPhrase>>,
    /// CJK phrases, found anywhere in a segment (no spaces to mark words).
    anywhere: Vec<(String, HintKind)>,
    /// For each opening of a first word (see [`opening_index`]), the lengths of the first words it starts (bit n
    /// for length n): most words of an address are ruled out by this without hashing.
    opening_lengths: Vec<u64>,
}

/// Index of a word's opening in [`Phrases::opening_lengths`]: its first character, and its second or none.
fn opening_index(word: &[u8]) -> Option<usize> {
    let first = initial_index(*word.first()?)?;
    let second = match word.get(1) {
        None => 36,
        Some(b) => initial_index(*b)?,
    };
    Some(first * 37 + second)
}

/// Index of an uppercase ASCII letter or digit in [`Phrases::first_word_lengths`].
fn initial_index(b: u8) -> Option<usize> {
    match b {
        b'A'..=b'Z' => Some(usize::from(b - b'A')),
        b'0'..=b'9' => Some(26 + usize::from(b - b'0')),
        _ => None,
    }
}

impl Phrases {
    /// Parses `hints.csv` (`lang,phrase,kind,position`).
    fn from_csv(csv: &str) -> Self {
        let mut phrases =
            Phrases { by_first_word: HashMap::default(), anywhere: Vec::new(), opening_lengths: vec![0; 36 * 37] };
        for row in csv_rows(csv).into_iter().filter(|row| row.len() >= 4) {
            let folded = fold(&row[1]);
            let kind = if row[2] == "landmark" { HintKind::Landmark } else { HintKind::Instruction };
            if folded.is_empty() {
                continue;
            }
            if row[3] == "anywhere" {
                phrases.anywhere.push((folded, kind));
            } else {
                let words: Vec<String> = folded.split(' ').map(str::to_owned).collect();
                phrases.by_first_word.entry(words[0].clone()).or_default().push(WordPhrase { words, kind });
            }
        }
        // Other first words (with other characters, or of 64 bytes and more) never match an ASCII word below.
        for word in phrases.by_first_word.keys() {
            if let Some(i) = opening_index(word.as_bytes()) {
                if word.len() < 64 {
                    phrases.opening_lengths[i] |= 1 << word.len();
                }
            }
        }
        // Longest first: "in der nahe von" before "in der nahe".
        for list in phrases.by_first_word.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        }
        phrases.anywhere.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        phrases
    }
}

fn phrases() -> &'static Phrases {
    static PHRASES: OnceLock<Phrases> = OnceLock::new();
    PHRASES.get_or_init(|| Phrases::from_csv(include_str!("../../../data/address-hints/hints.csv")))
}

/// A hint found in one piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub text: String,
    pub kind: HintKind,
}

/// Splits `line` into the address part and the hints it carried. Segments are separated by commas,
/// semicolons, parentheses and new lines; a segment that starts with a hint phrase is a hint as a whole, and a
/// multi-word phrase later in a segment cuts the segment there.
pub fn extract(line: &str) -> (String, Vec<Hint>) {
    if !may_hold_a_hint(line) {
        return (line.trim().to_owned(), Vec::new());
    }
    extract_probed(line)
}

/// [`extract`] for a line the probe did not rule out.
pub(super) fn extract_probed(line: &str) -> (String, Vec<Hint>) {
    // The segments left, joined by ", " as they are kept.
    let mut kept = String::with_capacity(line.len());
    let mut hints = Vec::new();
    for segment in line.split([',', ';', '(', ')', '\n', '，', '、', '；']) {
        let mut rest = segment.trim();
        // A segment may carry several hints ("学校旁边 near the school"): cut until none is left.
        while let Some((cut, kind)) = find_hint(rest) {
            let (address, hint) = rest.split_at(cut);
            let hint = hint.trim().trim_end_matches(['.', '!']).trim();
            if !hint.is_empty() {
                hints.push(Hint { text: hint.to_owned(), kind });
            }
            rest = address.trim();
        }
        if !rest.is_empty() {
            if !kept.is_empty() {
                kept.push_str(", ");
            }
            kept.push_str(rest);
        }
    }
    (kept, hints)
}

/// [`extract`] for a line the caller owns: a line without hints is handed back as it is, trimmed.
pub fn extract_owned(line: String) -> (String, Vec<Hint>) {
    if !may_hold_a_hint(&line) {
        let trimmed = line.trim();
        return if trimmed.len() == line.len() { (line, Vec::new()) } else { (trimmed.to_owned(), Vec::new()) };
    }
    extract_probed(&line)
}

/// [`extract`] that borrows a line without hints, trimmed.
pub fn extract_cow(line: &str) -> (Cow<'_, str>, Vec<Hint>) {
    if !may_hold_a_hint(line) {
        return (Cow::Borrowed(line.trim()), Vec::new());
    }
    let (address, hints) = extract_probed(line);
    (Cow::Owned(address), hints)
}

/// What each byte is to the probe: a word's letter or digit (as its uppercase), an apostrophe (inside a word,
/// not counted), or the end of a word.
const WORD_BYTES: [u8; 256] = {
    let mut table = [WORD_END; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() {
            table[b] = byte.to_ascii_uppercase();
        } else if byte == b'\'' {
            table[b] = APOSTROPHE;
        }
        b += 1;
    }
    table
};
const WORD_END: u8 = 0;
const APOSTROPHE: u8 = 1;

/// Whether any word of `text` could start a phrase, so that matching must look: most address lines hold none,
/// and this probe of each word's uppercase form is far cheaper than folding and matching.
pub(super) fn may_hold_a_hint(text: &str) -> bool {
    if !text.is_ascii() {
        return true;
    }
    let phrases = phrases();
    // One pass over the bytes keeps each word's start, length and opening, which rule out most words; only a
    // possible one is uppercased into a small stack buffer and looked up. A first word whose phrases all have
    // more words ("AL" of "al lado de", also a state) counts only if the next word is one of their second.
    let bytes = text.as_bytes();
    let mut pending: Option<&'static [WordPhrase]> = None;
    let mut word_ends = |start: usize, end: usize, len: usize, opening: usize| {
        let continued = pending.take();
        if continued.is_none() && !may_open(phrases, len, opening) {
            return false;
        }
        let mut buf = [0u8; 64];
        // Too long to spell, so no first word; if it might go on with a phrase, matching looks closely.
        let Some(word) = spell(&bytes[start..end], len, &mut buf) else { return continued.is_some() };
        spelled_word_ends(phrases, &mut pending, continued, word, opening)
    };
    // The opening is the index of the first character, then of the first two (see [`opening_index`]).
    let (mut start, mut len, mut opening) = (0, 0, 0);
    for (end, &b) in bytes.iter().enumerate() {
        let class = WORD_BYTES[usize::from(b)];
        if class > APOSTROPHE {
            if len < 2 {
                // Every class past the apostrophe is a capital or a digit, which has an index.
                opening = opening * 37 + initial_index(class).unwrap_or(0);
            }
            len += 1;
        } else if class == WORD_END {
            // Matching turns every separator into a comma ("road (east side)": "road, east side"): text that
            // has others is always matched, so that it reads the same with a hint word in it or without.
            if matches!(b, b';' | b'(' | b')' | b'\n') || len > 0 && word_ends(start, end, len, opening) {
                return true;
            }
            (start, len, opening) = (end + 1, 0, 0);
        }
    }
    len > 0 && word_ends(start, bytes.len(), len, opening)
}

/// The probe's look at a word that might open a phrase or go on with one, spelled: whether it goes on with the
/// phrases the word before opened (`continued`) or opens a one-word phrase. One that opens only longer phrases
/// leaves them `pending` for the next word.
fn spelled_word_ends(
    phrases: &'static Phrases,
    pending: &mut Option<&'static [WordPhrase]>,
    continued: Option<&[WordPhrase]>,
    word: &str,
    opening: usize,
) -> bool {
    if continued.is_some_and(|list| list.iter().any(|p| p.words[1] == word)) {
        return true;
    }
    if !may_open(phrases, word.len(), opening) {
        return false;
    }
    match phrases.by_first_word.get(word) {
        Some(list) if list.iter().any(|p| p.words.len() == 1) => true,
        Some(list) => {
            *pending = Some(list);
            false
        }
        None => false,
    }
}

/// A word's opening as [`may_hold_a_hint`] counts it: its first character's index, then of its first two.
fn opening_of(word: &[u8]) -> usize {
    let index = |b: u8| initial_index(b).unwrap_or(0);
    match word {
        [only] => index(*only),
        [first, second, ..] => index(*first) * 37 + index(*second),
        [] => 0,
    }
}

/// [`may_hold_a_hint`] read off the words the US tokenizer cut (`buf[start..end]` for each span), for text whose
/// words are its own runs of letters and digits, uppercased: the same answer without a second pass over the
/// text. The letters and digits between a word's other characters (`4B-2`) are the probe's words, as in the
/// text. Text with `;`, `(`, `)` or a line break, which the probe always lets through, is not asked about here.
pub(super) fn words_may_hold_a_hint(buf: &str, spans: &[(usize, usize)]) -> bool {
    let phrases = phrases();
    let mut pending: Option<&'static [WordPhrase]> = None;
    let mut word_ends = |word: &str| {
        let opening = opening_of(word.as_bytes());
        let continued = pending.take();
        // Most words are ruled out here, as in the probe of the text.
        if continued.is_none() && !may_open(phrases, word.len(), opening) {
            return false;
        }
        // Too long to spell, as the probe of the text has it.
        if word.len() > 64 {
            return continued.is_some();
        }
        spelled_word_ends(phrases, &mut pending, continued, word, opening)
    };
    for &(start, end) in spans {
        let token = &buf[start..end];
        if token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            if word_ends(token) {
                return true;
            }
            continue;
        }
        for word in token.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
            if word_ends(word) {
                return true;
            }
        }
    }
    false
}

/// The `len` letters and digits of an ASCII word, uppercased and without apostrophes, spelled into `buf`; none
/// for a word too long for it.
fn spell<'b>(word: &[u8], len: usize, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    if len > buf.len() {
        return None;
    }
    let letters = word.iter().filter(|b| **b != b'\'').map(u8::to_ascii_uppercase);
    for (slot, b) in buf.iter_mut().zip(letters) {
        *slot = b;
    }
    std::str::from_utf8(&buf[..len]).ok()
}

/// Whether some first word has this length and opening (see [`opening_index`]; a one-letter word's opening is
/// its first character's index, which stands for it and "none" (36) after it).
fn may_open(phrases: &Phrases, len: usize, opening: usize) -> bool {
    let opening = if len == 1 { opening * 37 + 36 } else { opening };
    len < 64 && phrases.opening_lengths[opening] & (1 << len) != 0
}

/// Byte offset in `segment` where the leftmost hint starts, and its kind. Phrase matching alone would strip
/// real street and place names, so a match is dropped when (see `shared/data/address-hints/SOURCE.md`):
/// G1 a landmark phrase runs into a house number ("Hinter der Kirche 5"); G2 the rest ends in a thoroughfare
/// word ("Near Lane", "Behind the Walls Road"); G3 the word before is a street type ("rue Derrière les
/// Murs"); G4 it is only part of a word (matching is by whole words); G5 a CJK phrase runs into a block
/// number ("宮ノ前1丁目"); G6 the segment is a known place ("Near Sawrey").
fn find_hint(segment: &str) -> Option<(usize, HintKind)> {
    let phrases = phrases();
    let mut best: Option<(usize, HintKind)> = None;
    if !segment.is_ascii() {
        for (phrase, kind) in &phrases.anywhere {
            if let Some(cut) = find_anywhere(segment, phrase) {
                if best.is_none_or(|(b, _)| cut < b) {
                    best = Some((cut, *kind));
                }
            }
        }
    }
    let words = word_spans(segment);
    // Every word folded into one buffer rather than a string each.
    let (mut folded, mut word, mut folded_spans) =
        (String::with_capacity(segment.len()), String::new(), Vec::with_capacity(words.len()));
    for &(s, e) in &words {
        fold_into(&segment[s..e], &mut word);
        folded_spans.push((folded.len(), folded.len() + word.len()));
        folded.push_str(&word);
    }
    let folded_words: Vec<&str> = folded_spans.iter().map(|&(s, e)| &folded[s..e]).collect();
    // Words left to right: the first acceptable match is the leftmost word hint.
    'words: for start in 0..folded_words.len() {
        if best.is_some_and(|(b, _)| b <= words[start].0) {
            break;
        }
        let Some(candidates) = phrases.by_first_word.get(folded_words[start]) else { continue };
        for phrase in candidates {
            let end = start + phrase.words.len();
            if end > folded_words.len() || folded_words[start..end] != phrase.words[..] {
                continue;
            }
            let rest = &folded_words[end..];
            // A number after a box or unit word is that box's or unit's, not a house number.
            let boxed = rest.len() >= 2 && BOX_WORDS.contains(&rest[rest.len() - 2]);
            // A hint never swallows a PO box ("REF NO 24385309 PO BOX 41602").
            let holds_a_box = rest.windows(2).any(|w| w[0] == "BOX" && w[1].chars().any(|c| c.is_ascii_digit()));
            if holds_a_box {
                continue;
            }
            let street_name =
                (phrase.kind == HintKind::Landmark && !boxed && ends_with_house_number(&segment[words[start].0..]))
                    || ends_with_thoroughfare(rest)
                    || start > 0 && STREET_TYPES.contains(&folded_words[start - 1]);
            // Later in a segment only multi-word phrases cut it: a lone "near" inside a line is too often a name.
            if !street_name && (start == 0 || phrase.words.len() >= 2) {
                best = Some((words[start].0, phrase.kind));
                break 'words;
            }
        }
    }
    // Checked last because it is the dearest test and rarely needed.
    best.filter(|_| !is_known_place(&folded_words.join(" ")))
}

/// English thoroughfare words that end street names. Not the USPS suffix list: it holds station, mall, park
/// and center, which are exactly the landmarks buyers name ("behind the petrol station").
const THOROUGHFARES: &[&str] = &[
    "ROAD",
    "RD",
    "STREET",
    "ST",
    "LANE",
    "LN",
    "AVENUE",
    "AVE",
    "DRIVE",
    "DR",
    "WAY",
    "CLOSE",
    "CRESCENT",
    "TERRACE",
    "PLACE",
    "COURT",
    "ROW",
    "WALK",
    "BOULEVARD",
    "BLVD",
    "HIGHWAY",
    "PARKWAY",
    "MEWS",
    "WYND",
    "GROVE",
    "GARDENS",
];

/// "… Lane", "… Street N", "… Street Apt 4": the words end in a thoroughfare word, maybe followed by a
/// directional and a unit.
fn ends_with_thoroughfare(words: &[&str]) -> bool {
    const TRAILERS: &[&str] = &[
        "N",
        "S",
        "E",
        "W",
        "NE",
        "NW",
        "SE",
        "SW",
        "NORTH",
        "SOUTH",
        "EAST",
        "WEST",
        "APT",
        "APARTMENT",
        "STE",
        "SUITE",
        "UNIT",
        "FL",
        "FLOOR",
        "RM",
        "ROOM",
        "BLDG",
    ];
    const UNIT_WORDS: &[&str] = &["APT", "APARTMENT", "STE", "SUITE", "UNIT", "FL", "FLOOR", "RM", "ROOM", "BLDG"];
    // The word after a unit word is the unit's number, whatever its characters ("Apt B", "Apt Σ").
    let words = match words {
        [head @ .., unit, _] if UNIT_WORDS.contains(unit) => head,
        _ => words,
    };
    let end = words.iter().rposition(|w| !TRAILERS.contains(w) && !w.chars().any(|c| c.is_ascii_digit()));
    end.is_some_and(|i| THOROUGHFARES.contains(&words[i]))
}

/// Words whose number is a box or unit number.
const BOX_WORDS: &[&str] =
    &["BOX", "BX", "POSTFACH", "BP", "APT", "SUITE", "STE", "UNIT", "FLAT", "CASILLA", "APARTADO"];

/// Romance-language street types that come before the name ("rue Derrière les Murs").
const STREET_TYPES: &[&str] = &[
    "RUE", "AVENUE", "CHEMIN", "ALLEE", "IMPASSE", "PLACE", "QUAI", "ROUTE", "CALLE", "AVENIDA", "PASEO", "CAMINO",
    "VIA", "VIALE", "VICOLO", "PIAZZA", "CORSO", "LARGO", "RUA", "TRAVESSA", "ESTRADA", "PRACA", "ALAMEDA",
];

/// "… 5", "… 12a", "… 20/3": the text ends with a house number.
fn ends_with_house_number(text: &str) -> bool {
    let last = text.split_whitespace().last().unwrap_or("");
    let (number, _) = last.split_once('/').unwrap_or((last, ""));
    let digits = number.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty() && digits.len() + 1 >= number.len() && digits.chars().all(|c| c.is_ascii_digit())
}

/// Whether a folded segment is a place name in the postcode tables ("NEAR SAWREY" is a village).
fn is_known_place(folded: &str) -> bool {
    !folded.is_empty()
        && ["GB", "US", "DE", "AT", "FR", "AU", "CA"]
            .iter()
            .filter_map(|c| super::refdata::postcodes(c))
            .any(|t| !t.postcodes_of_place(folded).is_empty())
}

/// CJK phrases: the hint starts after the last house-number marker before the phrase (号, 番地, a digit …),
/// so "建国路88号学校旁边" keeps "建国路88号" as the address.
fn find_anywhere(segment: &str, phrase: &str) -> Option<usize> {
    // CJK phrases have no case or accents: a plain search finds them. Followed by a block number or a town
    // suffix, the phrase is part of a place name (G5).
    let at = segment.find(phrase)?;
    let after = segment[at + phrase.len()..].trim_start().trim_start_matches(['#', '＃']).trim_start();
    if after.starts_with(|c: char| c.is_ascii_digit() || "０１２３４５６７８９".contains(c))
        || ["丁目", "番", "号", "町"].iter().any(|s| after.starts_with(s))
    {
        return None;
    }
    let before = &segment[..at];
    let mut cut = 0;
    let mut previous = ' ';
    for (i, c) in before.char_indices() {
        let marker =
            c.is_ascii_digit() || matches!(c, '号' | '號' | '番' | '-' | '－') || (c == '目' && previous == '丁');
        if marker {
            cut = i + c.len_utf8();
        }
        previous = c;
    }
    // "番地" ends the house number too.
    if before[cut..].starts_with('地') && before[..cut].ends_with('番') {
        cut += '地'.len_utf8();
    }
    Some(cut)
}

/// Byte spans of the words of `s` (runs of letters, digits and apostrophes).
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    if s.is_ascii() {
        // Byte by byte: the same words, without decoding characters.
        let mut start = 0;
        for (end, b) in s.bytes().chain([b' ']).enumerate() {
            if !(b.is_ascii_alphanumeric() || b == b'\'') {
                if end > start {
                    spans.push((start, end));
                }
                start = end + 1;
            }
        }
        return spans;
    }
    let mut start = None;
    for (i, c) in s.char_indices() {
        let word_char = c.is_alphanumeric() || c == '\'' || c == '’';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s0)) => {
                spans.push((s0, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s0) = start {
        spans.push((s0, s.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The probe only ever rules out text in which matching finds no hint.
        #[test]
        fn the_probe_never_hides_a_hint(
            words in proptest::collection::vec(
                "(near|NEAR|Near|n'ear|behind|call|bei|nachbar|the|school|al|lado|de|in|der|nahe|AL|12|a|'|,|-|\\.|  |main|st|[a-z0-9']{1,5})",
                0..10,
            )
        ) {
            let text = words.join(" ");
            if !may_hold_a_hint(&text) {
                proptest::prop_assert!(extract_probed(&text).1.is_empty(), "{}", text);
            }
        }
    }

    #[test]
    fn the_probe_finds_hint_words_at_either_end() {
        assert!(may_hold_a_hint("near the school"));
        assert!(may_hold_a_hint("12 Main St near"));
        assert!(may_hold_a_hint("12 Main St, NEAR"));
        assert!(!may_hold_a_hint("12 Main St, Springfield"));
        assert!(!may_hold_a_hint(""));
        // A first word of longer phrases only ("al lado de") counts when the next word may go on with one.
        assert!(!may_hold_a_hint("12 Main St, Mobile AL 36602"));
        assert!(may_hold_a_hint("12 Main St, al lado de la escuela"));
    }

    /// `examples.txt` lists address lines with and without hints, each with its expected outcome.
    #[test]
    fn the_documented_examples_hold() {
        let mut failures = Vec::new();
        let mut count = 0;
        for line in include_str!("../../../data/address-hints/examples.txt").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split(" | ").collect();
            let (text, expected) = (cols[2], cols[3].trim());
            let (_, hints) = extract(text);
            let found: Vec<&str> = hints.iter().map(|h| h.text.as_str()).collect();
            let want = expected.strip_prefix("hint: ").map(|h| h.split("; ").collect::<Vec<_>>()).unwrap_or_default();
            count += 1;
            if found != want {
                failures.push(format!("{text}: expected {want:?}, found {found:?}"));
            }
        }
        assert!(count >= 40, "{count} examples");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
