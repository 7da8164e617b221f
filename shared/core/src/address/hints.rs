//! Delivery hints typed into address lines ("near the school", "call on arrival", "bei Nachbar abgeben",
//! "学校旁边"). They help the driver but break address matching, so they are moved out of the address into
//! `delivery_instructions`. The phrases are data: `shared/data/address-hints/hints.csv`.

use std::sync::OnceLock;

use super::refdata::{csv_rows, usps};
use crate::text::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    /// A landmark instead of an address: the location is vague.
    Landmark,
    /// An instruction for the driver.
    Instruction,
}

struct Phrase {
    /// Folded phrase (uppercase, no accents), as words.
    folded: String,
    kind: HintKind,
    /// CJK phrases are found anywhere in a segment; others must start at a word boundary.
    anywhere: bool,
}

fn phrases() -> &'static [Phrase] {
    static PHRASES: OnceLock<Vec<Phrase>> = OnceLock::new();
    PHRASES.get_or_init(|| {
        let mut phrases: Vec<Phrase> = csv_rows(include_str!("../../../data/address-hints/hints.csv"))
            .into_iter()
            .filter(|row| row.len() >= 4)
            .map(|row| Phrase {
                folded: fold(&row[1]),
                kind: if row[2] == "landmark" { HintKind::Landmark } else { HintKind::Instruction },
                anywhere: row[3] == "anywhere",
            })
            .filter(|p| !p.folded.is_empty())
            .collect();
        // Longest first: "in der nahe von" before "in der nahe".
        phrases.sort_by_key(|p| std::cmp::Reverse(p.folded.len()));
        phrases
    })
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
    let mut kept: Vec<String> = Vec::new();
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
            kept.push(rest.to_owned());
        }
    }
    (kept.join(", "), hints)
}

/// Byte offset in `segment` where a hint starts, and its kind.
fn find_hint(segment: &str) -> Option<(usize, HintKind)> {
    let words = word_spans(segment);
    let folded_words: Vec<String> = words.iter().map(|&(s, e)| fold(&segment[s..e])).collect();
    for phrase in phrases() {
        if phrase.anywhere {
            if let Some(cut) = find_anywhere(segment, &phrase.folded) {
                return Some((cut, phrase.kind));
            }
            continue;
        }
        let phrase_words: Vec<&str> = phrase.folded.split(' ').collect();
        for start in 0..folded_words.len() {
            let end = start + phrase_words.len();
            if end > folded_words.len()
                || folded_words[start..end].iter().map(String::as_str).ne(phrase_words.iter().copied())
            {
                continue;
            }
            let rest = &folded_words[end..];
            if looks_like_street_name(rest) {
                continue;
            }
            // Later in a segment only multi-word phrases cut it: a lone "near" inside a line is too often a name.
            if start == 0 || phrase_words.len() >= 2 {
                return Some((words[start].0, phrase.kind));
            }
        }
    }
    None
}

/// "Near Lane" or "Behind Street": a phrase followed by nothing but a street type is a street name.
fn looks_like_street_name(rest: &[String]) -> bool {
    match rest {
        [] => false,
        [only] => usps().suffixes.contains_key(only) || is_street_word(only),
        _ => false,
    }
}

fn is_street_word(word: &str) -> bool {
    const STREET_WORDS: &[&str] = &["STRASSE", "STR", "WEG", "GASSE", "PLATZ", "ALLEE", "RUE", "CALLE", "VIA", "ROAD"];
    STREET_WORDS.contains(&word) || word.ends_with("STRASSE")
}

/// CJK phrases: the hint starts after the last house-number marker before the phrase (号, 番地, a digit …),
/// so "建国路88号学校旁边" keeps "建国路88号" as the address.
fn find_anywhere(segment: &str, phrase: &str) -> Option<usize> {
    // CJK phrases have no case or accents: a plain search finds them.
    let at = segment.find(phrase)?;
    let cut = segment[..at]
        .char_indices()
        .filter(|&(_, c)| c.is_ascii_digit() || matches!(c, '号' | '號' | '番' | '地' | '丁' | '目' | '-' | '－'))
        .map(|(i, c)| i + c.len_utf8())
        .next_back()
        .unwrap_or(0);
    Some(cut)
}

/// Byte spans of the words of `s` (runs of letters, digits and apostrophes).
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
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
