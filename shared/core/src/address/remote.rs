//! Remote-area postcode lists (islands, highlands, non-contiguous states, outback) that carriers surcharge or
//! serve slowly. The lists are data with their sources: `shared/data/remote-areas/`.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::model::RemoteArea;
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

struct Lists {
    entries: Vec<Entry>,
    /// list id → (name, source)
    meta: HashMap<String, (String, String)>,
}

fn split_outward(code: &str) -> (String, Option<u32>) {
    let area: String = code.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits: String = code[area.len()..].chars().take_while(char::is_ascii_digit).collect();
    (area, digits.parse().ok())
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let meta = csv_rows(include_str!("../../../data/remote-areas/lists.csv"))
            .into_iter()
            .filter(|r| r.len() >= 4)
            .map(|r| (r[0].clone(), (r[2].clone(), r[3].clone())))
            .collect();
        let entries = csv_rows(include_str!("../../../data/remote-areas/postcodes.csv"))
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
            .collect();
        Lists { entries, meta }
    })
}

fn compact(postcode: &str) -> String {
    postcode.chars().filter(char::is_ascii_alphanumeric).flat_map(|c| c.to_uppercase()).collect()
}

impl Rule {
    fn matches(&self, postcode: &str) -> bool {
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

/// The first remote-area list of `country` that contains `postcode`.
pub fn lookup(country: &str, postcode: &str) -> Option<RemoteArea> {
    let postcode = compact(postcode);
    let lists = lists();
    let entry = lists.entries.iter().find(|e| e.country == country && e.rule.matches(&postcode))?;
    let (name, source) = lists.meta.get(&entry.list).cloned().unwrap_or_default();
    Some(RemoteArea {
        list: entry.list.clone(),
        name: if entry.label.is_empty() { name } else { format!("{name}: {}", entry.label) },
        source,
    })
}

/// Number of rules loaded, for start-up logs and data tests.
pub fn rule_count() -> usize {
    lists().entries.len()
}
