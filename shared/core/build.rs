//! Compiles the reference data in `shared/data` into compact tables in `OUT_DIR`, which the core embeds with
//! `include_str!` and parses once per process. Only the columns the engine reads are kept, so the tables stay
//! small enough for the edge worker's bundle.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

type BuildResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BuildResult<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let data = manifest.join("../data");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", data.join("address-formats").display());
    println!("cargo:rerun-if-changed={}", data.join("postcodes").display());

    std::fs::write(out.join("formats.json"), formats(&data.join("address-formats/all.json"))?)?;
    let postcodes = data.join("postcodes");
    std::fs::write(out.join("postcodes_US.tsv"), us_postcodes(&postcodes)?)?;
    for (country, file, admin) in [
        ("DE", "DE.csv", Admin::One),
        ("AT", "AT.csv", Admin::One),
        ("AU", "AU.csv", Admin::One),
        // GeoNames CA rows name the FSA's area; the municipality (Toronto, Niagara Falls) is in admin2.
        ("CA", "CA_fsa.csv", Admin::OneWithCityInTwo),
        ("GB", "GB_outward.csv", Admin::One),
        ("FR", "FR_communes_no_coords.csv", Admin::Two),
    ] {
        let table = generic_postcodes(&postcodes.join(file), admin)?;
        std::fs::write(out.join(format!("postcodes_{country}.tsv")), table)?;
    }
    Ok(())
}

/// Country-level entries of the libaddressinput metadata with the fields the engine reads; language variants
/// (`CA--fr`) contribute their region names as aliases.
fn formats(path: &Path) -> BuildResult<String> {
    let all: BTreeMap<String, serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let split = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|s| s.as_str()).map(|s| s.split('~').map(str::to_owned).collect()).unwrap_or_default()
    };
    let mut countries = serde_json::Map::new();
    for (key, value) in &all {
        if key.contains('/') || key.contains("--") || key == "ZZ" {
            continue;
        }
        let mut entry = serde_json::Map::new();
        for field in ["name", "fmt", "lfmt", "require", "upper", "zip", "zipex"] {
            if let Some(v) = value.get(field) {
                entry.insert(field.into(), v.clone());
            }
        }
        let keys = split(value.get("sub_keys"));
        let isoids = split(value.get("sub_isoids"));
        let mut aliases: Vec<Vec<String>> = keys.iter().map(|_| Vec::new()).collect();
        let prefix = format!("{key}--");
        for (variant, variant_value) in all.range(prefix.clone()..format!("{key}-~")) {
            if !variant.starts_with(&prefix) {
                continue;
            }
            // Language variants list their regions in their own order: align them by ISO id, else by key.
            let variant_keys = split(variant_value.get("sub_keys"));
            let variant_isoids = split(variant_value.get("sub_isoids"));
            let variant_names = split(variant_value.get("sub_names"));
            for (j, variant_key) in variant_keys.iter().enumerate() {
                let by_iso = variant_isoids
                    .get(j)
                    .filter(|id| !id.is_empty())
                    .and_then(|id| isoids.iter().position(|x| x == id));
                let Some(i) = by_iso.or_else(|| keys.iter().position(|k| k == variant_key)) else { continue };
                aliases[i].push(variant_key.clone());
                if let Some(name) = variant_names.get(j) {
                    aliases[i].push(name.clone());
                }
            }
        }
        entry.insert("sub_keys".into(), keys.into());
        for field in ["sub_names", "sub_lnames", "sub_isoids", "sub_zips"] {
            entry.insert(field.into(), split(value.get(field)).into());
        }
        entry.insert("sub_aliases".into(), aliases.into());
        countries.insert(key.clone(), entry.into());
    }
    Ok(serde_json::to_string(&countries)?)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Admin {
    One,
    Two,
    OneWithCityInTwo,
}

#[derive(Default)]
struct Entry {
    admin: String,
    places: Vec<String>,
    lat: String,
    lon: String,
}

fn read_rows(path: &Path) -> BuildResult<Vec<csv::StringRecord>> {
    let mut reader = csv::Reader::from_path(path)?;
    Ok(reader.records().collect::<Result<_, _>>()?)
}

/// Columns shared by every postcode file: country,postcode,place_name,admin1_code,admin1_name,admin2_code,
/// admin2_name,lat,lon,accuracy.
fn merge_row(table: &mut BTreeMap<String, Entry>, row: &csv::StringRecord, admin: Admin) {
    let entry = table.entry(row[1].to_owned()).or_default();
    if entry.admin.is_empty() {
        entry.admin = match admin {
            Admin::One | Admin::OneWithCityInTwo => row[3].to_owned(),
            Admin::Two => row[5].to_owned(),
        };
    }
    let city = if admin == Admin::OneWithCityInTwo { row[6].trim() } else { "" };
    for place in [row[2].trim(), city] {
        if !place.is_empty() && !entry.places.iter().any(|p| p == place) {
            entry.places.push(place.to_owned());
        }
    }
    if entry.lat.is_empty() && !row[7].is_empty() {
        entry.lat = row[7].to_owned();
        entry.lon = row[8].to_owned();
    }
}

fn render(table: &BTreeMap<String, Entry>) -> String {
    let mut out = String::new();
    for (postcode, e) in table {
        let _ = writeln!(out, "{postcode}\t{}\t{}\t{}\t{}", e.admin, e.places.join("|"), e.lat, e.lon);
    }
    out
}

fn generic_postcodes(path: &Path, admin: Admin) -> BuildResult<String> {
    let mut table = BTreeMap::new();
    for row in read_rows(path)? {
        merge_row(&mut table, &row, admin);
    }
    Ok(render(&table))
}

/// ZCTA internal points first (the better centroid), then GeoNames for places and for PO-box-only ZIPs.
fn us_postcodes(dir: &Path) -> BuildResult<String> {
    let mut table = BTreeMap::new();
    for file in ["US_zcta.csv", "US_geonames.csv"] {
        for row in read_rows(&dir.join(file))? {
            merge_row(&mut table, &row, Admin::One);
        }
    }
    Ok(render(&table))
}
