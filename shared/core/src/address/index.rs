//! Lookups built once from the parsed US postcode table for the questions the US parser asks of every
//! address. The table's own maps answer them too, but through string-keyed hashing and, for "is this a
//! place of that state", one lookup per ZIP of the place: here each is one step.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use super::refdata::{PostcodeInfo, postcodes};

/// Indexes over the US table.
struct UsIndex {
    /// Row of each ZIP5 at the ZIP's numeric value, as its position in `rows` plus one (0: no such ZIP). Half
    /// the size of a reference each, so more of it stays in cache.
    by_zip: Vec<u32>,
    rows: &'static [PostcodeInfo],
    /// Folded place key → the states of the ZIPs that name it.
    states_of_place: HashMap<&'static str, Vec<&'static str>>,
}

fn us_index() -> Option<&'static UsIndex> {
    static INDEX: OnceLock<UsIndex> = OnceLock::new();
    // Asked first, so that a table installed at run time (the edge worker's) is indexed once it is there.
    let table = postcodes("US")?;
    Some(INDEX.get_or_init(|| {
        let mut by_zip = vec![0; 100_000];
        let mut states_of_place: HashMap<&'static str, Vec<&'static str>> = HashMap::default();
        for (row, (code, info)) in table.iter().enumerate() {
            if let Some(n) = zip_number(code) {
                by_zip[n] = u32::try_from(row + 1).unwrap_or(0);
            }
            for key in info.place_keys {
                let states = states_of_place.entry(*key).or_default();
                if !states.contains(&info.admin) {
                    states.push(info.admin);
                }
            }
        }
        UsIndex { by_zip, rows: table.rows(), states_of_place }
    }))
}

/// The numeric value of a five-digit ZIP.
fn zip_number(zip: &str) -> Option<usize> {
    (zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit())).then(|| zip.parse().ok()).flatten()
}

/// The US table's row of a ZIP5 key: the same answer as `postcodes("US")?.get(key)`.
pub fn us_postcode(key: &str) -> Option<&'static PostcodeInfo> {
    match zip_number(key) {
        Some(n) => {
            let index = us_index()?;
            index.by_zip[n].checked_sub(1).and_then(|row| index.rows.get(row as usize))
        }
        // Not five digits: no such row in the index, but ask the table itself rather than assume.
        None => postcodes("US")?.get(key),
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
            assert!(us_postcode(code).is_some_and(|found| std::ptr::eq(found, info)), "{code}");
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
        assert!(us_postcode("00000").is_none() == table.get("00000").is_none());
        assert!(us_postcode("ABCDE").is_none());
    }
}
