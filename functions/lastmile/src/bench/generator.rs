//! A seeded generator of US addresses for benchmarks: house numbers × street names × suffix and
//! directional variants × units, PO boxes, rural routes and military addresses, with real city/state/ZIP
//! triples from the ZIP table, in mixed case and punctuation.

use lastmile_core::address::refdata::postcodes;

const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Walnut",
    "Sunset",
    "Lincoln",
    "Jackson",
    "Church",
    "River",
    "Highland",
    "Mill",
    "Madison",
    "Franklin",
    "Jefferson",
    "Center",
    "Spring",
    "Ridge",
    "Meadow",
    "Forest",
    "Willow",
    "Chestnut",
    "Broad",
    "Market",
    "Union",
    "Front",
    "Prospect",
    "Martin Luther King Jr",
    "5th",
    "Second",
    "Third",
    "42nd",
    "Harbor View",
    "Old Mill",
    "Country Club",
    "Pennsylvania",
    "Dogwood",
    "Magnolia",
    "Cherry",
    "Valley",
    "Summit",
    "Grand",
    "College",
    "Railroad",
];
const SUFFIXES: &[&str] = &[
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Av",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Drive",
    "Dr",
    "Lane",
    "Ln",
    "Court",
    "Ct",
    "Place",
    "Pl",
    "Terrace",
    "Circle",
    "Way",
    "Parkway",
    "Pkwy",
    "Highway",
    "Trail",
    "Square",
];
const DIRECTIONALS: &[&str] =
    &["N", "S", "E", "W", "North", "South", "East", "West", "NE", "NW", "SE", "SW", "N.", "Northwest"];
const UNITS: &[&str] = &["Apt", "Apartment", "Suite", "Ste", "Unit", "#", "Fl", "Rm", "Bldg"];

/// ZIP, city and state triples from the reference data, sorted so the seed alone decides the addresses.
fn places() -> Vec<(String, String, String)> {
    let mut places: Vec<(String, String, String)> = postcodes("US")
        .map(|table| {
            table
                .iter()
                .filter_map(|(zip, info)| {
                    Some((zip.to_owned(), (*info.places.first()?).to_owned(), info.admin.to_owned()))
                })
                .filter(|(_, _, state)| state.len() == 2)
                .collect()
        })
        .unwrap_or_default();
    places.sort();
    places
}

fn mixed_case(rng: &mut fastrand::Rng, s: &str) -> String {
    match rng.u8(0..3) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        _ => s.to_owned(),
    }
}

pub fn generate(count: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let places = places();
    if places.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            let (zip, city, state) = &places[rng.usize(..places.len())];
            let street_line = match rng.u8(0..20) {
                0 => {
                    format!("{} {}", ["P.O. Box", "PO Box", "Post Office Box", "POB"][rng.usize(..4)], rng.u32(1..9999))
                }
                1 => format!("RR {} Box {}", rng.u8(1..9), rng.u16(1..400)),
                _ => {
                    let mut parts = vec![rng.u32(1..20_000).to_string()];
                    if rng.u8(0..4) == 0 {
                        parts.push(DIRECTIONALS[rng.usize(..DIRECTIONALS.len())].to_owned());
                    }
                    parts.push(STREETS[rng.usize(..STREETS.len())].to_owned());
                    parts.push(SUFFIXES[rng.usize(..SUFFIXES.len())].to_owned());
                    if rng.u8(0..5) == 0 {
                        parts.push(DIRECTIONALS[rng.usize(..DIRECTIONALS.len())].to_owned());
                    }
                    if rng.u8(0..4) == 0 {
                        let unit = UNITS[rng.usize(..UNITS.len())];
                        let sep = if unit == "#" { "" } else { " " };
                        parts.push(format!("{unit}{sep}{}{}", rng.u16(1..999), if rng.bool() { "" } else { "B" }));
                    }
                    parts.join(" ")
                }
            };
            if rng.u8(0..40) == 0 {
                let (kind, locality, region, zip) =
                    [("PSC", "APO", "AE", "09012"), ("Unit", "FPO", "AP", "96349"), ("CMR", "APO", "AE", "09096")]
                        [rng.usize(..3)];
                let text = format!("{kind} {} Box {}, {locality} {region} {zip}", rng.u16(100..9999), rng.u16(1..9999));
                return mixed_case(&mut rng, &text);
            }
            let sep = if rng.bool() { ", " } else { " " };
            let text = format!("{street_line}{sep}{city}{sep}{state} {zip}");
            mixed_case(&mut rng, &text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_addresses() {
        assert_eq!(generate(50, 7), generate(50, 7));
        assert_ne!(generate(50, 7), generate(50, 8));
        assert_eq!(generate(50, 7).len(), 50);
    }
}
