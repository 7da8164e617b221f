//! Zones: which price column of a card a shipment falls in, from the origin and the destination postcode.
//! A card gives either a table of destination postcode prefixes and ranges (optionally per origin), distance
//! bands between the two postcodes' centroids (as USPS zones 1–8 are), or one zone for everything.

use serde::{Deserialize, Serialize};

use crate::address::{postcode, refdata};
use crate::geo;

/// The `[zones]` table of a rate card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum ZoneRule {
    /// One zone for every destination the card serves.
    Flat { zone: String },
    /// The first row that matches the origin and the destination postcode.
    Table { rows: Vec<ZoneRow> },
    /// Distance between the origin's and the destination's postcode centroids, banded.
    Distance { unit: DistanceUnit, bands: Vec<DistanceBand> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRow {
    /// Origin postcode prefixes this row applies to; empty for every origin.
    #[serde(default)]
    pub origin_prefixes: Vec<String>,
    /// Destination postcode prefixes (`"995"`, `"HS"`, `"20"`).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Inclusive destination ranges, compared on the postcode cut to the bounds' length (`["01", "19"]`).
    #[serde(default)]
    pub ranges: Vec<[String; 2]>,
    pub zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistanceUnit {
    Km,
    Mi,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistanceBand {
    /// Largest distance of the band, inclusive, in the rule's unit.
    pub up_to: u32,
    pub zone: String,
}

/// A zone and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Zone {
    pub zone: String,
    pub explanation: String,
}

/// Why no zone applies: the line does not serve this lane.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoZone {
    #[error("the line does not serve destination postcode {0}")]
    NotServed(String),
    #[error("no centroid for postcode {0} in {1}: distance zones cannot be computed")]
    NoCentroid(String, String),
    #[error("{0} km is beyond the farthest zone")]
    TooFar(u32),
}

/// A postcode with its country, as zones compare them.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub country: &'a str,
    pub postcode: &'a str,
}

impl ZoneRule {
    pub fn zone(&self, origin: Place<'_>, destination: Place<'_>) -> Result<Zone, NoZone> {
        match self {
            ZoneRule::Flat { zone } => Ok(Zone { zone: zone.clone(), explanation: format!("flat zone {zone}") }),
            ZoneRule::Table { rows } => {
                let (from, to) = (postcode::compact(origin.postcode), postcode::compact(destination.postcode));
                rows.iter()
                    .find(|row| {
                        (row.origin_prefixes.is_empty()
                            || row.origin_prefixes.iter().any(|p| from.starts_with(p.as_str())))
                            && matches_destination(row, &to)
                    })
                    .map(|row| Zone {
                        zone: row.zone.clone(),
                        explanation: format!("postcode {to} → zone {}", row.zone),
                    })
                    .ok_or(NoZone::NotServed(to))
            }
            ZoneRule::Distance { unit, bands } => {
                let centroid = |p: Place<'_>| {
                    let code = postcode::compact(p.postcode);
                    refdata::postcodes(p.country)
                        .and_then(|table| table.get(&code))
                        .and_then(|info| info.centroid())
                        .ok_or_else(|| NoZone::NoCentroid(code, p.country.to_owned()))
                };
                let km = geo::distance_km(centroid(origin)?, centroid(destination)?);
                let distance = match unit {
                    DistanceUnit::Km => km,
                    DistanceUnit::Mi => km / 1.609_344,
                };
                // Bands are whole units: 50.4 mi is in the band "up to 50".
                let whole = distance.round() as u32;
                let unit_name = if *unit == DistanceUnit::Km { "km" } else { "mi" };
                bands
                    .iter()
                    .find(|band| whole <= band.up_to)
                    .map(|band| Zone {
                        zone: band.zone.clone(),
                        explanation: format!("{whole} {unit_name} between postcode centroids → zone {}", band.zone),
                    })
                    .ok_or(NoZone::TooFar(km.round() as u32))
            }
        }
    }
}

fn matches_destination(row: &ZoneRow, postcode: &str) -> bool {
    row.prefixes.iter().any(|p| postcode.starts_with(p.as_str()))
        || row.ranges.iter().any(|[low, high]| {
            let cut = &postcode[..postcode.len().min(low.len())];
            cut.len() == low.len() && low.as_str() <= cut && cut <= high.as_str()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(postcode: &str) -> Place<'_> {
        Place { country: "US", postcode }
    }

    /// USPS-style distance bands in miles (zone 1 ≤ 50, 2 ≤ 150, 3 ≤ 300, 4 ≤ 600, 5 ≤ 1000, 6 ≤ 1400, 7 ≤ 1800, 8 beyond).
    fn usps_bands() -> ZoneRule {
        let bands =
            [(50, "1"), (150, "2"), (300, "3"), (600, "4"), (1000, "5"), (1400, "6"), (1800, "7"), (99_999, "8")];
        ZoneRule::Distance {
            unit: DistanceUnit::Mi,
            bands: bands.iter().map(|(up_to, zone)| DistanceBand { up_to: *up_to, zone: (*zone).to_owned() }).collect(),
        }
    }

    #[test]
    fn distance_bands_between_zip_centroids() {
        // 20500 (38.8946, -77.0355) to 10001 (40.749, -73.9865, per the ZIP data): about 204 mi → zone 3.
        let zone = usps_bands().zone(us("20500"), us("10001")).unwrap();
        assert_eq!(zone.zone, "3", "{}", zone.explanation);
        // Anchorage 99501 from Washington: about 3,370 mi → zone 8.
        assert_eq!(usps_bands().zone(us("20500"), us("99501")).unwrap().zone, "8");
        assert_eq!(usps_bands().zone(us("20500"), us("20500")).unwrap().zone, "1");
        assert!(matches!(usps_bands().zone(us("20500"), us("00000")), Err(NoZone::NoCentroid(..))));
    }

    #[test]
    fn tables_match_prefixes_and_ranges_per_origin() {
        let rule = ZoneRule::Table {
            rows: vec![
                ZoneRow {
                    origin_prefixes: vec![],
                    prefixes: vec!["HS".into(), "ZE".into()],
                    ranges: vec![],
                    zone: "islands".into(),
                },
                ZoneRow {
                    origin_prefixes: vec!["0".into()],
                    prefixes: vec![],
                    ranges: vec![["01".into(), "19".into()]],
                    zone: "near".into(),
                },
                ZoneRow {
                    origin_prefixes: vec![],
                    prefixes: vec![],
                    ranges: vec![["01".into(), "99".into()]],
                    zone: "far".into(),
                },
            ],
        };
        let de = |postcode| Place { country: "DE", postcode };
        assert_eq!(rule.zone(de("04109"), de("10115")).unwrap().zone, "near");
        assert_eq!(rule.zone(de("80331"), de("10115")).unwrap().zone, "far");
        let gb = |postcode| Place { country: "GB", postcode };
        assert_eq!(rule.zone(gb("M1 1AE"), gb("hs1 2aa")).unwrap().zone, "islands");
        assert_eq!(rule.zone(gb("M1 1AE"), gb("M1 1AE")), Err(NoZone::NotServed("M11AE".into())));
    }
}
