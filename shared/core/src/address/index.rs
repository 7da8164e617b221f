//! Lookups built once from the parsed US postcode table for the questions the US parser asks of every
//! address. The table's own maps answer them too, but through string-keyed hashing and, for "is this a
//! place of that state", one lookup per ZIP of the place: here each is one step.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use super::refdata::{PostcodeInfo, postcodes};

/// Indexes over the US table.
struct UsIndex {
    by_zip: ZipRows,
    /// Folded place key → the states of the ZIPs that name it.
    states_of_place: HashMap<&'static str, Vec<&'static str>>,
}

/// A copy of the row of each ZIP5 in ZIP order, found from the ZIP's numeric value.
///
/// Ten thousand addresses read ten thousand rows, seldom in cache, and a lookup that first read a row number
/// from a table of 100,000 waited on two cache misses in a row. Here a ZIP's position among the rows is counted
/// from 20 KB of bits and sums, small enough to stay in cache, so the row itself is the one read likely to miss:
/// one bit per ZIP value in blocks of the 100 that share their first three digits, and how many rows come before
/// each block.
struct ZipRows {
    present: Vec<u128>,
    before: Vec<u32>,
    rows: Vec<PostcodeInfo>,
    /// Each row's words, and their text, at the row's own position: see [`ZipRows::new`].
    words: &'static [[&'static str; INLINE_WORDS]],
    text: &'static [[u8; INLINE_TEXT]],
}

/// Words and bytes of text of a row that get a copy at the row's position: nearly every ZIP has one place and
/// one key, and with the state they take at most 48 bytes; 98 % take 32 or fewer.
const INLINE_WORDS: usize = 2;
const INLINE_TEXT: usize = 32;

/// A row's state, places and keys, in order, if together they fit the index's copy of its text and words.
fn inline_parts(info: &PostcodeInfo) -> Option<Vec<&'static str>> {
    let parts: Vec<&'static str> =
        std::iter::once(info.admin).chain(info.places.iter().chain(info.place_keys).copied()).collect();
    let fits = parts.len() <= 1 + INLINE_WORDS && parts.iter().map(|p| p.len()).sum::<usize>() <= INLINE_TEXT;
    fits.then_some(parts)
}

impl ZipRows {
    const BLOCK: usize = 100;

    /// From each ZIP value with its row, each value once.
    ///
    /// The table keeps a row's words and their text in two arrays of its own, and a reader follows the row to
    /// the words and the words to the text: three cache misses, each waiting on the one before. Here the words
    /// and text of a row that fits are copied to its position in two arrays of the index's own, so all three
    /// are found from the position alone and can be fetched at once ([`ZipRows::prefetch`]). They are leaked: the
    /// index lives as long as the process, in a static, and its rows borrow from them.
    fn new(mut zips: Vec<(usize, &PostcodeInfo)>) -> Self {
        zips.sort_unstable_by_key(|&(n, _)| n);
        let mut present = vec![0u128; 100_000 / Self::BLOCK];
        for &(n, _) in &zips {
            present[n / Self::BLOCK] |= 1 << (n % Self::BLOCK);
        }
        let mut before = Vec::with_capacity(present.len());
        let mut total = 0;
        for bits in &present {
            before.push(total);
            total += bits.count_ones();
        }

        // Each fitting row's state, places and keys written end to end into its copy of the text.
        let mut text = vec![[0u8; INLINE_TEXT]; zips.len()];
        for ((_, info), bytes) in zips.iter().zip(&mut text) {
            let mut at = 0;
            for part in inline_parts(info).unwrap_or_default() {
                bytes[at..at + part.len()].copy_from_slice(part.as_bytes());
                at += part.len();
            }
        }
        let text: &'static [[u8; INLINE_TEXT]] = Vec::leak(text);
        // A fitting row's parts read back from its copy, in the lengths of the row's own.
        let copied = |row: usize, info: &PostcodeInfo| -> Option<Vec<&'static str>> {
            let mut at = 0;
            inline_parts(info)?
                .iter()
                .map(|part| {
                    at += part.len();
                    // Whole strings written end to end, so each is UTF-8 again.
                    std::str::from_utf8(&text[row][at - part.len()..at]).ok()
                })
                .collect()
        };
        let words: &'static [[&'static str; INLINE_WORDS]] = Vec::leak(
            zips.iter()
                .enumerate()
                .map(|(row, (_, info))| {
                    let mut words = [""; INLINE_WORDS];
                    for (word, part) in words.iter_mut().zip(copied(row, info).unwrap_or_default().into_iter().skip(1))
                    {
                        *word = part;
                    }
                    words
                })
                .collect(),
        );
        let rows = zips
            .iter()
            .enumerate()
            .map(|(row, (_, info))| {
                let inline = copied(row, info).and_then(|parts| {
                    let words = words[row].get(..parts.len() - 1)?;
                    let (places, keys) = words.split_at(info.places.len());
                    Some(PostcodeInfo::new(parts.first()?, places, keys, info.centroid()))
                });
                inline.unwrap_or(**info)
            })
            .collect();
        ZipRows { present, before, rows, words, text }
    }

    /// Starts fetching the row of ZIP value `n`, its words and their text, without waiting for them.
    fn prefetch(&self, n: usize) {
        if let Some(row) = self.rank(n) {
            lastmile_hint::prefetch(&self.rows[row]);
            lastmile_hint::prefetch(&self.words[row]);
            lastmile_hint::prefetch(&self.text[row]);
        }
    }

    /// The position of ZIP value `n` among the rows, if it has one.
    fn rank(&self, n: usize) -> Option<usize> {
        let (block, bit) = (n / Self::BLOCK, n % Self::BLOCK);
        let present = *self.present.get(block)?;
        let earlier = present & ((1u128 << bit) - 1);
        (present >> bit & 1 == 1).then(|| self.before[block] as usize + earlier.count_ones() as usize)
    }

    fn get(&self, n: usize) -> Option<&PostcodeInfo> {
        self.rows.get(self.rank(n)?)
    }
}

fn us_index() -> Option<&'static UsIndex> {
    static INDEX: OnceLock<UsIndex> = OnceLock::new();
    // Asked first, so that a table installed at run time (the edge worker's) is indexed once it is there.
    let table = postcodes("US")?;
    Some(INDEX.get_or_init(|| {
        let mut states_of_place: HashMap<&'static str, Vec<&'static str>> = HashMap::default();
        for (_, info) in table.iter() {
            for key in info.place_keys {
                let states = states_of_place.entry(*key).or_default();
                if !states.contains(&info.admin) {
                    states.push(info.admin);
                }
            }
        }
        // The table lists each code once.
        let zips = table.iter().filter_map(|(code, info)| Some((zip_number(code)?, info))).collect();
        UsIndex { by_zip: ZipRows::new(zips), states_of_place }
    }))
}

/// The numeric value of a five-digit ZIP.
fn zip_number(zip: &str) -> Option<usize> {
    (zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit())).then(|| zip.parse().ok()).flatten()
}

/// The US table's row of a ZIP5 key: the same answer as `postcodes("US")?.get(key)`.
pub fn us_postcode(key: &str) -> Option<&'static PostcodeInfo> {
    match zip_number(key) {
        Some(n) => us_index()?.by_zip.get(n),
        // Not five digits: no such row in the index, but ask the table itself rather than assume.
        None => postcodes("US")?.get(key),
    }
}

/// Starts fetching the row of a ZIP5 key that [`us_postcode`] will be asked for soon (see [`ZipRows::new`]),
/// without waiting for it.
pub fn prefetch_us_postcode(key: &str) {
    if let (Some(n), Some(index)) = (zip_number(key), us_index()) {
        index.by_zip.prefetch(n);
    }
}

/// Whether some ZIP of `state` names the place with this folded key.
pub fn is_us_place_of_state(key: &str, state: &str) -> bool {
    us_index().and_then(|index| index.states_of_place.get(key)).is_some_and(|states| states.contains(&state))
}

/// The table's row of a postcode key, through the ZIP index for the US.
pub fn postcode_info(country: &str, key: &str) -> Option<&'static PostcodeInfo> {
    if country == "US" { us_postcode(key) } else { postcodes(country)?.get(key) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row and every place of the table answers as the table itself does.
    #[test]
    fn the_indexes_agree_with_the_table() {
        let Some(table) = postcodes("US") else { return };
        for (code, info) in table.iter() {
            let found = us_postcode(code).expect("every row of the table is indexed");
            assert_eq!(
                (found.admin, found.places, found.place_keys, found.centroid()),
                (info.admin, info.places, info.place_keys, info.centroid()),
                "{code}"
            );
            for key in info.place_keys {
                let by_table = |state: &str| {
                    table.postcodes_of_place(key).iter().any(|z| table.get(z).is_some_and(|i| i.admin == state))
                };
                assert!(is_us_place_of_state(key, info.admin), "{key} {}", info.admin);
                for state in ["NY", "TX", "ZZ"] {
                    assert_eq!(is_us_place_of_state(key, state), by_table(state), "{key} {state}");
                }
            }
        }
        // Every ZIP value, with a row or without: found where the table has it, and nowhere else.
        for n in 0..100_000 {
            let zip = format!("{n:05}");
            assert_eq!(us_postcode(&zip).is_some(), table.get(&zip).is_some(), "{zip}");
        }
        assert!(us_postcode("ABCDE").is_none());
    }

    /// A row that fits borrows its state, words and text from the index's arrays at its own position, which is
    /// what lets `prefetch` fetch them all from the position alone; and nearly every row fits.
    #[test]
    fn rows_borrow_their_words_from_their_own_position() {
        let Some(index) = us_index() else { return };
        let zips = &index.by_zip;
        let own = (0..zips.rows.len())
            .filter(|&row| {
                let info = &zips.rows[row];
                let (words, text) = (zips.words[row].as_ptr_range(), zips.text[row].as_ptr_range());
                let slices = [info.places, info.place_keys];
                text.contains(&info.admin.as_ptr())
                    && slices.iter().all(|s| s.is_empty() || words.contains(&s.as_ptr()))
                    && slices.iter().flat_map(|s| s.iter()).all(|w| text.contains(&w.as_ptr()))
            })
            .count();
        assert!(own * 100 >= zips.rows.len() * 97, "{own} of {} rows", zips.rows.len());
    }
}
