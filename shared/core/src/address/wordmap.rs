//! A map keyed by short words, for the tables the US parser asks about nearly every word of an address
//! (suffixes, directionals, unit designators, state names).

use rustc_hash::FxHashMap;

/// Words of up to [`PACKED_LEN`] bytes are keyed by their bytes packed into one integer: a lookup hashes two
/// machine words and compares integers, where a string key hashes a run of bytes and compares it through
/// memory. Longer words (a few state names) are kept by their text. Written here because the hash-map crates
/// key by the caller's type and offer no packing of short strings.
#[derive(Debug, Clone)]
pub struct WordMap<V> {
    packed: FxHashMap<u128, V>,
    long: FxHashMap<Box<str>, V>,
    /// Every key as inserted, first insertion first, for the rare walks over the table.
    words: Vec<Box<str>>,
}

/// The longest word a packed key holds: the sixteenth byte is the word's length, so that no two words of
/// different lengths pack alike, whatever bytes they hold.
const PACKED_LEN: usize = 15;

fn pack(word: &str) -> Option<u128> {
    let bytes = word.as_bytes();
    if bytes.len() > PACKED_LEN {
        return None;
    }
    // By a few loads that may overlap rather than a call to copy the bytes: words this short are gone through
    // faster so (the overlapping bytes are the same on both sides of the `|`).
    let n = bytes.len();
    let byte = |i: usize| u64::from(bytes[i]);
    let four = |i: usize| u64::from(u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default()));
    let eight = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
    let (low, high) = match n {
        0 => (0, 0),
        1..=3 => (byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)), 0),
        4..=7 => (four(0) | four(n - 4) << (8 * (n - 4)), 0),
        _ => (eight(0), eight(n - 8).checked_shr(8 * (16 - n) as u32).unwrap_or(0)),
    };
    Some(u128::from(low) | u128::from(high) << 64 | (n as u128) << (8 * PACKED_LEN))
}

impl<V> Default for WordMap<V> {
    fn default() -> Self {
        Self { packed: FxHashMap::default(), long: FxHashMap::default(), words: Vec::new() }
    }
}

impl<V> WordMap<V> {
    /// Sets the value of `word`, replacing an earlier one as a map does.
    pub fn insert(&mut self, word: &str, value: V) {
        let earlier = match pack(word) {
            Some(key) => self.packed.insert(key, value),
            None => self.long.insert(word.into(), value),
        };
        if earlier.is_none() {
            self.words.push(word.into());
        }
    }

    pub fn get(&self, word: &str) -> Option<&V> {
        match pack(word) {
            Some(key) => self.packed.get(&key),
            None => self.long.get(word),
        }
    }

    pub fn contains_key(&self, word: &str) -> bool {
        self.get(word).is_some()
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every word and its value, in the order the words were first inserted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.words.iter().filter_map(|word| Some((&**word, self.get(word)?)))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|word| &**word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The map answers as a string-keyed map given the same insertions does, for words on both sides of
        /// the packed length and with any bytes in them (NUL too, which padding must not confuse).
        #[test]
        fn answers_as_a_string_keyed_map(
            inserts in proptest::collection::vec(("[A-C\\x00 ]{0,18}", 0u8..4), 0..24),
            probes in proptest::collection::vec("[A-C\\x00 ]{0,18}", 0..24),
        ) {
            let (mut words, mut reference) = (WordMap::default(), HashMap::new());
            for (word, value) in &inserts {
                words.insert(word, *value);
                reference.insert(word.clone(), *value);
            }
            prop_assert_eq!(words.len(), reference.len());
            for probe in probes.iter().chain(inserts.iter().map(|(w, _)| w)) {
                prop_assert_eq!(words.get(probe), reference.get(probe));
            }
            let walked: HashMap<String, u8> = words.iter().map(|(w, v)| (w.to_owned(), *v)).collect();
            prop_assert_eq!(walked, reference);
        }
    }

    #[test]
    fn words_of_every_length_up_to_and_past_the_packed_one_are_kept_apart() {
        let mut words = WordMap::default();
        let spellings: Vec<String> = (0..=PACKED_LEN + 2).map(|n| "A".repeat(n)).collect();
        for (i, word) in spellings.iter().enumerate() {
            words.insert(word, i);
        }
        for (i, word) in spellings.iter().enumerate() {
            assert_eq!(words.get(word), Some(&i), "{word:?}");
        }
        assert_eq!(words.get("A\0"), None, "padding is not a word's own byte");
    }
}
