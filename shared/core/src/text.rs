//! Text helpers shared by the engines: case and accent folding, whitespace, fuzzy comparison.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Uppercase, accents removed, punctuation turned into spaces, whitespace collapsed: the form two spellings
/// of the same name share ("Saint-Étienne" and "SAINT ETIENNE" both give `SAINT ETIENNE`).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] into a buffer the caller reuses, which is cleared first.
pub fn fold_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() { fold_ascii(s, out) } else { fold_unicode(s, out) }
}

/// [`fold`] that borrows text that is folded already (`SPRINGFIELD`, `IL`), as text the engine wrote itself is.
pub fn fold_cow(s: &str) -> Cow<'_, str> {
    if is_folded(s) { Cow::Borrowed(s) } else { Cow::Owned(fold(s)) }
}

/// Whether `fold(s)` is one of `words`. Most text is ruled out by its first letter or digit, which opens its
/// fold, without folding it.
pub fn folds_to_any(s: &str, words: &[&str]) -> bool {
    // The first letter or digit, read off the first byte when that is one (as it nearly always is). None rules
    // nothing out when it is not ASCII.
    let opening = match s.as_bytes().first() {
        Some(&b) if b.is_ascii_alphanumeric() => Some(b),
        _ => s.chars().find(|c| c.is_alphanumeric()).filter(char::is_ascii).map(|c| c as u8),
    };
    if let Some(opening) = opening.map(|b| b.to_ascii_uppercase()) {
        if !words.iter().any(|w| w.as_bytes().first() == Some(&opening)) {
            return false;
        }
    }
    // ASCII letters and digits alone fold to themselves uppercased: compared byte by byte, without folding.
    if s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let fold_is = |word: &&str| {
            word.len() == s.len() && word.bytes().zip(s.bytes()).all(|(w, b)| w == b.to_ascii_uppercase())
        };
        return words.iter().any(fold_is);
    }
    words.contains(&fold_cow(s).as_ref())
}

/// Whether `fold(s) == s`: uppercase ASCII letters and digits in words separated by single spaces.
pub fn is_folded(s: &str) -> bool {
    let bytes = s.as_bytes();
    // One pass: every byte a capital or digit, or a space after one.
    let mut after_word = false;
    for &b in bytes {
        after_word = match b {
            b'A'..=b'Z' | b'0'..=b'9' => true,
            b' ' if after_word => false,
            _ => return false,
        };
    }
    after_word || bytes.is_empty()
}

fn fold_unicode(s: &str, out: &mut String) {
    let mut pending_space = false;
    for c in s.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'ß' => {
                push_word_char(out, &mut pending_space, 'S');
                'S'
            }
            'ø' | 'Ø' => 'O',
            'æ' | 'Æ' => 'A',
            'ł' | 'Ł' => 'L',
            _ => c,
        };
        if c.is_alphanumeric() {
            for u in c.to_uppercase() {
                push_word_char(out, &mut pending_space, u);
            }
        } else if c == '\'' || c == '’' {
            // O'Brien and OBRIEN are the same name.
        } else {
            pending_space = !out.is_empty();
        }
    }
}

/// [`fold`] for ASCII text, the common case, without Unicode decomposition.
fn fold_ascii(s: &str, out: &mut String) {
    let mut pending_space = false;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(char::from(b.to_ascii_uppercase()));
        } else if b != b'\'' {
            pending_space = !out.is_empty();
        }
    }
}

fn push_word_char(out: &mut String, pending_space: &mut bool, c: char) {
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push(c);
}

/// Trims and collapses runs of whitespace into one space.
pub fn squash_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `char::is_whitespace` for an ASCII byte: `u8::is_ascii_whitespace` leaves out the vertical tab.
pub fn is_ascii_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'\x0B'
}

/// `str::trim`, answered at once for text that starts and ends with a visible ASCII character, as typed
/// fields mostly do.
pub fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Whether [`squash_spaces`] would leave `text` as it is.
pub fn is_squashed(text: &str) -> bool {
    // ASCII byte by byte, until a character that is not.
    let mut previous_space = true;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if !b.is_ascii() {
            return is_squashed_chars(&text[i..], previous_space);
        }
        if is_ascii_space(b) {
            if b != b' ' || previous_space {
                return false;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
    }
    !previous_space || text.is_empty()
}

/// [`is_squashed`] from the first byte that is not ASCII on, by characters.
fn is_squashed_chars(text: &str, mut previous_space: bool) -> bool {
    for c in text.chars() {
        if c.is_whitespace() {
            if c != ' ' || previous_space {
                return false;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
    }
    !previous_space
}

/// Whether two folded names are one typo apart: edit distance within 1 for short names, 2 for longer ones.
pub fn is_near_miss(typed: &str, known: &str) -> bool {
    if typed == known {
        return false;
    }
    let longest = typed.chars().count().max(known.chars().count());
    let budget = match longest {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    };
    budget > 0 && strsim::damerau_levenshtein(typed, known) <= budget
}

/// True when the text has letters from a non-Latin script (CJK, Cyrillic …).
pub fn has_non_latin_letters(s: &str) -> bool {
    // ASCII text, most of it, is checked a word at a time.
    !s.is_ascii() && s.chars().any(|c| c.is_alphabetic() && !c.is_ascii() && (c as u32) > 0x024F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_case_and_punctuation() {
        assert_eq!(fold("Saint-Étienne"), "SAINT ETIENNE");
        assert_eq!(fold("  münchen,  "), "MUNCHEN");
        assert_eq!(fold("Straße"), "STRASSE");
        assert_eq!(fold("O'Brien St."), "OBRIEN ST");
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_fast_path_folds_like_the_unicode_path(s in "[ -~]{0,40}") {
            let (mut ascii, mut unicode) = (String::new(), String::new());
            fold_ascii(&s, &mut ascii);
            fold_unicode(&s, &mut unicode);
            proptest::prop_assert_eq!(ascii, unicode);
        }

        #[test]
        fn trim_answers_as_str_trim(s in "[ a#.\t\u{b}\u{a0}\u{3000}é]{0,8}|\\PC{0,8}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn squashed_text_is_left_as_it_is(s in "[ a\t\u{b},\u{a0}é]{0,12}") {
            proptest::prop_assert_eq!(is_squashed(&s), squash_spaces(&s) == s);
        }

        #[test]
        fn folded_text_is_what_folding_leaves_unchanged(s in "[ A-Z0-9a.]{0,12}") {
            proptest::prop_assert_eq!(is_folded(&s), fold(&s) == s);
        }

        #[test]
        fn folding_to_a_word_is_decided_as_folding_would(s in "[ a-eA-E0-9.'’é]{0,8}") {
            let words = ["APO", "FPO", "DPO", "E", "A B", "AE1"];
            proptest::prop_assert_eq!(folds_to_any(&s, &words), words.contains(&fold(&s).as_str()));
        }

        #[test]
        fn borrowed_folds_are_folds(s in "[ A-Z0-9a-z.]{0,12}") {
            let folded = fold_cow(&s);
            proptest::prop_assert_eq!(folded.as_ref(), fold(&s));
        }
    }

    #[test]
    fn near_miss_allows_one_typo_in_short_names() {
        assert!(is_near_miss("SPRNGFIELD", "SPRINGFIELD"));
        assert!(is_near_miss("BERLN", "BERLIN"));
        assert!(!is_near_miss("BATH", "BATHS"));
        assert!(!is_near_miss("SPRINGFIELD", "SPRINGFIELD"));
        assert!(!is_near_miss("CHICAGO", "HOUSTON"));
    }
}
