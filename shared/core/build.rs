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
    println!("cargo:rerun-if-changed={}", data.join("ratecards").display());
    println!("cargo:rerun-if-changed={}", data.join("customs").display());
    println!("cargo:rerun-if-changed={}", data.join("customs/territories").display());
    println!("cargo:rerun-if-changed={}", data.join("tracking/carriers").display());
    std::fs::write(out.join("ratecards.rs"), embedded_files(&data.join("ratecards"), &["toml"])?)?;
    std::fs::write(out.join("customs.rs"), embedded_files(&data.join("customs"), &["toml", "csv"])?)?;
    std::fs::write(out.join("carriers.rs"), embedded_files(&data.join("tracking/carriers"), &["toml"])?)?;

    std::fs::write(out.join("formats.json"), formats(&data.join("address-formats/all.json"))?)?;
    let postcodes = data.join("postcodes");
    std::fs::write(out.join("postcodes_US.txt"), us_postcodes(&postcodes)?)?;
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
        std::fs::write(out.join(format!("postcodes_{country}.txt")), table)?;
    }
    Ok(())
}

/// Every file with one of `extensions` under `dir` (one level of subfolders too), as `(relative path, text)`
/// pairs: a rate card or a customs rule is added by adding its file.
fn embedded_files(dir: &Path, extensions: &[&str]) -> BuildResult<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path)? {
                files.push(inner?.path());
            }
        } else {
            files.push(path);
        }
    }
    files.retain(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)));
    files.sort();
    let mut out = String::from("&[\n");
    for file in files {
        let relative = file.strip_prefix(dir)?.to_str().ok_or("file name is not UTF-8")?.replace('\\', "/");
        let _ = writeln!(out, "    ({relative:?}, include_str!({:?})),", file.canonicalize()?.display().to_string());
    }
    out.push(']');
    Ok(out)
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

/// Writes a table column by column, which compresses about a quarter better than rows do (the bundle of the
/// edge worker is measured gzipped): a header `lastmile-postcodes 1 <decimals>`, then five sections separated
/// by `\x1e`, one line per postcode in each: the postcode front-coded against the previous one (count of
/// shared leading characters, one digit, then the rest), the admin code, the places joined by `|`, and the
/// latitude and longitude as differences from the previous row's in units of 10^-decimals degrees (empty
/// when the postcode has no centroid). Coordinates are converted as decimal strings, rounded to at most
/// [`CENTROID_DECIMALS`].
fn render(table: &BTreeMap<String, Entry>) -> BuildResult<String> {
    let decimals = table
        .values()
        .flat_map(|e| [&e.lat, &e.lon])
        .map(|v| v.split_once('.').map_or(0, |(_, fraction)| fraction.len()))
        .max()
        .unwrap_or(0)
        .min(CENTROID_DECIMALS);
    let mut columns: [String; 5] = Default::default();
    let mut previous_key = "";
    let (mut previous_lat, mut previous_lon) = (0i64, 0i64);
    for (postcode, e) in table {
        let shared = postcode.bytes().zip(previous_key.bytes()).take(9).take_while(|(a, b)| a == b).count();
        let _ = writeln!(columns[0], "{shared}{}", &postcode[shared..]);
        previous_key = postcode;
        let _ = writeln!(columns[1], "{}", e.admin);
        let _ = writeln!(columns[2], "{}", e.places.join("|"));
        if e.lat.is_empty() {
            columns[3].push('\n');
            columns[4].push('\n');
        } else {
            let (lat, lon) = (fixed_point(&e.lat, decimals)?, fixed_point(&e.lon, decimals)?);
            let _ = writeln!(columns[3], "{}", lat - previous_lat);
            let _ = writeln!(columns[4], "{}", lon - previous_lon);
            (previous_lat, previous_lon) = (lat, lon);
        }
    }
    Ok(format!("lastmile-postcodes 1 {decimals}\n\x1e{}", columns.join("\x1e")))
}

/// Decimals kept of a postcode centroid: 0.001° is at most 111 m, far finer than a postcode area, and every
/// further digit costs the edge worker's bundle about 40 KB gzipped for the US table alone.
const CENTROID_DECIMALS: usize = 3;

/// `-87.637452` at 3 decimals → -87637, rounded half away from zero on the digits rather than through a float.
fn fixed_point(value: &str, decimals: usize) -> BuildResult<i64> {
    let (negative, digits) = value.strip_prefix('-').map_or((false, value), |rest| (true, rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let kept: String = fraction.chars().chain(std::iter::repeat('0')).take(decimals).collect();
    let mut magnitude: i64 = format!("{whole}{kept}").parse().map_err(|e| format!("coordinate {value}: {e}"))?;
    if fraction.as_bytes().get(decimals).is_some_and(|d| *d >= b'5') {
        magnitude += 1;
    }
    Ok(if negative { -magnitude } else { magnitude })
}

fn generic_postcodes(path: &Path, admin: Admin) -> BuildResult<String> {
    let mut table = BTreeMap::new();
    for row in read_rows(path)? {
        merge_row(&mut table, &row, admin);
    }
    render(&table)
}

/// ZCTA internal points first (the better centroid), then GeoNames for places and for PO-box-only ZIPs.
fn us_postcodes(dir: &Path) -> BuildResult<String> {
    let mut table = BTreeMap::new();
    for file in ["US_zcta.csv", "US_geonames.csv"] {
        for row in read_rows(&dir.join(file))? {
            merge_row(&mut table, &row, Admin::One);
        }
    }
    render(&table)
}
