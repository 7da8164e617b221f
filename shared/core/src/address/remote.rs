//! Remote-area postcode lists (islands, highlands, non-contiguous states, outback) that carriers surcharge or
//! serve slowly. The lists are data with their sources: `shared/data/remote-areas/`.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use super::model::RemoteArea;
use super::postcode::{compact, compact_cow};
use super::refdata::csv_rows;

#[derive(Debug)]
enum Rule {
    /// Compact postcode starts with this.
    Prefix(String),
    /// Compact numeric postcode of the same length within the inclusive range.
    Range(String, String),
    /// GB outward code: same area letters, district number within the inclusive range.
    Outward { area: String, from: Option<u32>, to: Option<u32> },
}

#[derive(Debug)]
struct Entry {
    list: String,
    country: String,
    rule: Rule,
    label: String,
}

/// One country's rules, in file order.
struct CountryRules {
    entries: Vec<Entry>,
    /// Beside each entry, the range its matches' first three bytes lie in ([`lead`]): most rules are ruled
    /// out by these bytes, read in place, rather than through their strings.
    leads: Vec<(u32, u32)>,
    /// First characters of compact postcodes that some rule may match: most postcodes match none.
    openings: [bool; 256],
}

/// The first three bytes of `text`, padded with `pad`, as one number that orders as the bytes do: one
/// comparison rather than a slice's.
fn lead(text: &str, pad: u8) -> u32 {
    let mut lead = [0, pad, pad, pad];
    for (to, from) in lead[1..].iter_mut().zip(text.bytes()) {
        *to = from;
    }
    u32::from_be_bytes(lead)
}

/// The first byte of a [`lead`].
fn lead_opening(lead: u32) -> usize {
    usize::from(lead.to_be_bytes()[1])
}

impl CountryRules {
    fn new(entries: Vec<Entry>) -> Self {
        let leads: Vec<(u32, u32)> = entries.iter().map(|entry| entry.rule.leads()).collect();
        let mut openings = [false; 256];
        // A range that ends before it starts matches nothing, and opens nothing.
        for (low, high) in &leads {
            if low <= high {
                openings[lead_opening(*low)..=lead_opening(*high)].fill(true);
            }
        }
        CountryRules { entries, leads, openings }
    }
}

struct Lists {
    entries: HashMap<String, CountryRules>,
    /// list id → (name, source)
    meta: HashMap<String, (String, String)>,
}

fn split_outward(code: &str) -> (String, Option<u32>) {
    let area: String = code.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits: String = code[area.len()..].chars().take_while(char::is_ascii_digit).collect();
    (area, digits.parse().ok())
}

impl Lists {
    /// Parses `lists.csv` (`list,country,name,source,confirmed`) and `postcodes.csv`
    /// (`list,country,kind,start,end,label`).
    fn from_csv(lists_csv: &str, postcodes_csv: &str) -> Self {
        let meta = csv_rows(lists_csv)
            .into_iter()
            .filter(|r| r.len() >= 4)
            .map(|r| (r[0].clone(), (r[2].clone(), r[3].clone())))
            .collect();
        let entries = csv_rows(postcodes_csv)
            .into_iter()
            .filter(|r| r.len() >= 6)
            .filter_map(|r| {
                let start = compact(&r[3]);
                let end = compact(&r[4]);
                let rule = match r[2].as_str() {
                    "prefix" => Rule::Prefix(start),
                    "range" => Rule::Range(start.clone(), if end.is_empty() { start } else { end }),
                    "outward" => {
                        let (area, from) = split_outward(&start);
                        let to = if end.is_empty() { from } else { split_outward(&end).1 };
                        Rule::Outward { area, from, to }
                    }
                    _ => return None,
                };
                Some(Entry { list: r[0].clone(), country: r[1].clone(), rule, label: r[5].clone() })
            })
            .fold(HashMap::default(), |mut by_country: HashMap<String, Vec<Entry>>, entry| {
                by_country.entry(entry.country.clone()).or_default().push(entry);
                by_country
            })
            .into_iter()
            .map(|(country, entries)| (country, CountryRules::new(entries)))
            .collect();
        Lists { entries, meta }
    }

    /// The first list of `country` (or its postal parent) that contains `postcode`.
    fn lookup(&self, country: &str, postcode: &str) -> Option<RemoteArea> {
        let postcode = compact_cow(postcode);
        let country = postal_parent(country);
        let rules = self.entries.get(country)?;
        let opening = postcode.as_bytes().first().is_none_or(|b| rules.openings[usize::from(*b)]);
        if !opening {
            return None;
        }
        let key = lead(&postcode, 0);
        let (entry, _) = rules
            .entries
            .iter()
            .zip(&rules.leads)
            .find(|(e, (low, high))| (low..=high).contains(&&key) && e.rule.matches(&postcode))?;
        let (name, source) = self.meta.get(&entry.list).cloned().unwrap_or_default();
        let name = if entry.label.is_empty() { name } else { format!("{name}: {}", entry.label) };
        Some(RemoteArea { list: entry.list.clone(), name, source })
    }
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        Lists::from_csv(
            include_str!("../../../data/remote-areas/lists.csv"),
            include_str!("../../../data/remote-areas/postcodes.csv"),
        )
    })
}

impl Rule {
    /// The lowest and highest [`lead`] of a postcode this rule matches: bytes past a prefix or a bound run
    /// from 0 to 255.
    fn leads(&self) -> (u32, u32) {
        let (low, high) = match self {
            Rule::Prefix(prefix) => (prefix, prefix),
            Rule::Range(from, to) => (from, to),
            Rule::Outward { area, .. } => (area, area),
        };
        (lead(low, 0), lead(high, u8::MAX))
    }

    fn matches(&self, postcode: &str) -> bool {
        // `lookup` has ruled most rules out by their leads before it asks.
        match self {
            Rule::Prefix(prefix) => postcode.starts_with(prefix.as_str()),
            Rule::Range(from, to) => {
                postcode.len() == from.len() && from.as_str() <= postcode && postcode <= to.as_str()
            }
            Rule::Outward { area, from, to } => {
                // The outward code is everything but the three-character inward code.
                let outward = if postcode.len() > 4 { &postcode[..postcode.len() - 3] } else { postcode };
                let (typed_area, district) = split_outward(outward);
                typed_area == *area
                    && match (from, to, district) {
                        (None, _, _) => true,
                        (Some(f), Some(t), Some(d)) => (*f..=*t).contains(&d),
                        _ => false,
                    }
            }
        }
    }
}

/// Territories with an ISO code of their own that use their parent's postcodes: a Puerto Rico address may
/// come as country `PR` or as `US`, and the US lists cover both.
fn postal_parent(country: &str) -> &str {
    match country {
        "PR" | "VI" | "GU" | "AS" | "MP" | "FM" | "MH" | "PW" | "UM" => "US",
        "GP" | "MQ" | "GF" | "RE" | "YT" | "PM" | "BL" | "MF" | "MC" => "FR",
        "CX" | "CC" | "NF" => "AU",
        other => other,
    }
}

/// The first remote-area list of `country` that contains `postcode`.
pub fn lookup(country: &str, postcode: &str) -> Option<RemoteArea> {
    lists().lookup(country, postcode)
}

/// Number of rules loaded, for start-up logs and data tests.
pub fn rule_count() -> usize {
    lists().entries.values().map(|rules| rules.entries.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_by_prefix_range_and_outward_code() {
        assert_eq!(lookup("US", "99501").map(|r| r.list).as_deref(), Some("us_non_contiguous"));
        assert_eq!(lookup("US", "10001"), None);
        assert_eq!(lookup("GB", "HS1 2AB").map(|r| r.list).as_deref(), Some("gb_highlands_islands"));
        assert_eq!(lookup("GB", "KW15 1AA").map(|r| r.list).as_deref(), Some("gb_highlands_islands"));
        assert_eq!(lookup("GB", "SW1A 1AA"), None);
        assert_eq!(lookup("DE", "25980").map(|r| r.list).as_deref(), Some("de_islands"));
        assert_eq!(lookup("DE", "25981"), None);
    }

    #[test]
    fn the_lists_are_data_a_new_row_changes_the_answer() {
        let lists_csv = include_str!("../../../data/remote-areas/lists.csv");
        let rows = include_str!("../../../data/remote-areas/postcodes.csv");
        assert_eq!(Lists::from_csv(lists_csv, rows).lookup("DE", "10115"), None);
        let with_berlin = format!("{rows}de_islands,DE,range,10115,10119,Berlin-Mitte (test row)\n");
        let found = Lists::from_csv(lists_csv, &with_berlin).lookup("DE", "10117").expect("the new row matches");
        assert_eq!(found.list, "de_islands");
        assert!(found.name.ends_with("Berlin-Mitte (test row)"), "{}", found.name);
    }

    /// Reading the leading bytes first never loses a match: every country's first matching rule is the one a
    /// plain scan finds, for each postcode of its table and the postcodes at and around every rule's bounds.
    #[test]
    fn leading_bytes_rule_out_only_rules_that_do_not_match() {
        let (lists, mut checked) = (lists(), 0);
        for (country, rules) in &lists.entries {
            let mut probes: Vec<String> = crate::address::refdata::postcodes(country)
                .into_iter()
                .flat_map(|table| table.iter().map(|(code, _)| compact(code)))
                .collect();
            for entry in &rules.entries {
                let bounds = match &entry.rule {
                    Rule::Prefix(p) => vec![p.clone()],
                    Rule::Range(from, to) => vec![from.clone(), to.clone()],
                    Rule::Outward { area, from, to } => [from, to]
                        .into_iter()
                        .map(|d| format!("{area}{}", d.map_or(String::new(), |d| d.to_string())))
                        .collect(),
                };
                for bound in bounds {
                    for tail in ["", "0", "9", "00", "99", "A", "1AA", "9ZZ"] {
                        probes.push(format!("{bound}{tail}"));
                    }
                    probes.extend((1..bound.len()).map(|n| bound[..n].to_owned()));
                }
            }
            for probe in &probes {
                let scanned = rules.entries.iter().find(|e| e.rule.matches(probe)).map(|e| (&e.list, &e.label));
                let found = lists.lookup(country, probe);
                assert_eq!(found.is_some(), scanned.is_some(), "{country} {probe}");
                if let (Some(found), Some((list, _))) = (found, scanned) {
                    assert_eq!(&found.list, list, "{country} {probe}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "only {checked} postcodes matched a rule");
    }

    #[test]
    fn territories_with_their_own_iso_code_use_the_parent_lists() {
        assert_eq!(lookup("PR", "00901").map(|r| r.list).as_deref(), Some("us_non_contiguous"));
        assert_eq!(lookup("RE", "97400").map(|r| r.list).as_deref(), Some("fr_overseas"));
    }
}
