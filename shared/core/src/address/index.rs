//! Lookups built once from the parsed US postcode table for the questions the US parser asks of every
//! address. The table's own maps answer them too, but through string-keyed hashing and, for "is this a
//! place of that state", one lookup per ZIP of the place: here each is one step.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use super::refdata::{PostcodeInfo, postcodes};

/// Indexes over the US table.
struct UsIndex {
    /// A copy of the row of each ZIP5 at the ZIP's numeric value (6.4 MB for the 100,000 values). Ten thousand
    /// addresses read ten thousand rows, seldom in cache: found at the ZIP's own place, a row costs one cache miss
    /// rather than two (a row number, then the row).
    by_zip: Vec<Option<PostcodeInfo>>,
    /// Folded place key → the states of the ZIPs that name it.
    states_of_place: HashMap<&'static str, Vec<&'static str>>,
}

fn us_index() -> Option<&'static UsIndex> {
    static INDEX: OnceLock<UsIndex> = OnceLock::new();
    // Asked first, so that a table installed at run time (the edge worker's) is indexed once it is there.
    let table = postcodes("US")?;
    Some(INDEX.get_or_init(|| {
        let mut by_zip = vec![None; 100_000];
        let mut states_of_place: HashMap<&'static str, Vec<&'static str>> = HashMap::default();
        for (code, info) in table.iter() {
            if let Some(n) = zip_number(code) {
                by_zip[n] = Some(*info);
            }
            for key in info.place_keys {
                let states = states_of_place.entry(*key).or_default();
                if !states.contains(&info.admin) {
                    states.push(info.admin);
                }
            }
        }
        UsIndex { by_zip, states_of_place }
    }))
}

/// The numeric value of a five-digit ZIP.
fn zip_number(zip: &str) -> Option<usize> {
    (zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit())).then(|| zip.parse().ok()).flatten()
}

/// The US table's row of a ZIP5 key: the same answer as `postcodes("US")?.get(key)`.
pub fn us_postcode(key: &str) -> Option<&'static PostcodeInfo> {
    match zip_number(key) {
        Some(n) => us_index()?.by_zip[n].as_ref(),
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
        assert!(us_postcode("00000").is_none() == table.get("00000").is_none());
        assert!(us_postcode("ABCDE").is_none());
    }
}
