//! Orders in Shopify's shape, as `POST /v1/orders` takes them: real postcodes and places of the countries the
//! sample warehouses serve, SKUs of the scenario's catalog, and a day's volume that follows the weekday and the
//! sales.

use std::sync::OnceLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use lastmile_core::address::refdata;
use lastmile_core::calendar::iso_weekday;
use rand::Rng;
use serde_json::{Value, json};

use super::Scenario;

/// The warehouses of the sample tenant (`TenantConfig::sample`), which the catalog is stocked in.
pub const SAMPLE_WAREHOUSES: [&str; 3] = ["us-nj", "ca-on", "de-hh"];

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    pub sku: String,
    pub title: String,
    pub grams: u32,
    /// The price in US cents; other currencies are derived from it ([`price_in`]).
    pub price_usd_minor: i64,
}

pub fn default_catalog() -> Vec<Sku> {
    [
        ("MUG-STONE-350", "Stoneware mug 350 ml", 420, 1800),
        ("TEE-ORG-M", "Organic cotton tee, M", 190, 2400),
        ("HOODIE-MERINO-L", "Merino hoodie, L", 640, 8900),
        ("CANDLE-SOY-200", "Soy candle 200 g", 330, 2200),
        ("LAMP-DESK-LED", "LED desk lamp", 1350, 5900),
        ("PRINT-A2", "Art print A2, rolled", 260, 3500),
        ("PACK-ROLLTOP-20", "Roll-top backpack 20 l", 980, 12900),
        ("KETTLE-GOOSE-1L", "Gooseneck kettle 1 l", 1150, 7400),
        ("SOCKS-WOOL-3", "Wool socks, 3 pairs", 150, 1900),
        ("BOARD-OAK-S", "Oak cutting board, small", 880, 4500),
    ]
    .into_iter()
    .map(|(sku, title, grams, price)| Sku { sku: sku.into(), title: title.into(), grams, price_usd_minor: price })
    .collect()
}

/// A price in `currency`: the US price at a round rate, ending in .99 or .00 as shops price.
pub fn price_in(sku: &Sku, currency: &str) -> String {
    let (num, den) = match currency {
        "CAD" => (135, 100),
        "EUR" => (95, 100),
        "GBP" => (80, 100),
        _ => (1, 1),
    };
    let whole = (sku.price_usd_minor * num / den + 50) / 100;
    if currency == "USD" { format!("{whole}.00") } else { format!("{}.99", whole.max(1) - 1) }
}

/// How many of each SKU each sample warehouse should hold so that the run never runs out: a driver sets these
/// through `PUT /v1/stock/{warehouse}/{sku}` before the first day.
pub fn stock_levels(scenario: &Scenario) -> Vec<(String, String, i64)> {
    let plenty = i64::from(scenario.orders_per_day.max(1)) * i64::from(scenario.days.max(1)) * 2;
    SAMPLE_WAREHOUSES
        .iter()
        .flat_map(|w| scenario.catalog.iter().map(move |s| ((*w).to_owned(), s.sku.clone(), plenty)))
        .collect()
}

/// A real place to deliver to: postcode, place and region from the vendored postcode data, with its centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub country: String,
    /// The full postcode as a buyer types it.
    pub postcode: String,
    pub city: String,
    /// The region code Shopify sends as `province_code` (a US state, a Canadian province), where the country has one.
    pub region: Option<String>,
    /// A real street line for countries whose postcode data is partial (GB outward codes, CA districts).
    pub street: Option<String>,
    pub centroid: Option<(f64, f64)>,
}

/// US state codes that are not states' mainland: territories and military post, which the sample lines do not
/// serve.
const US_EXCLUDED: [&str; 11] = ["PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP", "FM", "MH", "PW"];

/// Postcodes kept per country: enough variety, little memory.
const POOL_SIZE: usize = 600;

/// Real addresses of public buildings in Great Britain and Canada, whose postcode data holds only the outward
/// code or the forward sortation area; each one's district is checked against that data by the tests.
const CURATED: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("GB", "10 Downing Street", "London", "SW1A 2AA", None),
    ("GB", "Great Russell Street", "London", "WC1B 3DG", None),
    ("GB", "Bankside", "London", "SE1 9TG", None),
    ("GB", "Castlehill", "Edinburgh", "EH1 2NG", None),
    ("GB", "Sir Matt Busby Way", "Manchester", "M16 0RA", None),
    ("GB", "Castle Street", "Cardiff", "CF10 3RB", None),
    ("GB", "Broad Street", "Oxford", "OX1 3BG", None),
    ("GB", "Argyle Street", "Glasgow", "G3 8AG", None),
    ("GB", "Deangate", "York", "YO1 7HH", None),
    ("GB", "Temple Gate", "Bristol", "BS1 6QF", None),
    ("CA", "111 Wellington St", "Ottawa", "K1A 0A9", Some("ON")),
    ("CA", "290 Bremner Blvd", "Toronto", "M5V 3L9", Some("ON")),
    ("CA", "110 Notre-Dame St W", "Montreal", "H2Y 1T1", Some("QC")),
    ("CA", "750 Hornby St", "Vancouver", "V6Z 2H7", Some("BC")),
    ("CA", "101 9 Ave SW", "Calgary", "T2P 1J9", Some("AB")),
    ("CA", "8882 170 St NW", "Edmonton", "T5T 4J2", Some("AB")),
    ("CA", "5425 Sackville St", "Halifax", "B3J 3Y3", Some("NS")),
    ("CA", "1 Forks Market Rd", "Winnipeg", "R3C 4L9", Some("MB")),
    ("CA", "1 Rue des Carrieres", "Quebec", "G1R 4P5", Some("QC")),
    ("CA", "675 Belleville St", "Victoria", "V8W 9W2", Some("BC")),
    ("CA", "2405 Legislative Dr", "Regina", "S4S 0B3", Some("SK")),
];

/// The destinations of `country`, in a fixed order: every n-th postcode of its data (sorted, so the pool is
/// the same in every process), or the curated addresses.
pub fn destinations(country: &str) -> &'static [Destination] {
    macro_rules! pool {
        ($cc:literal) => {{
            static POOL: OnceLock<Vec<Destination>> = OnceLock::new();
            POOL.get_or_init(|| build_pool($cc)).as_slice()
        }};
    }
    match country {
        "US" => pool!("US"),
        "DE" => pool!("DE"),
        "AT" => pool!("AT"),
        "GB" => pool!("GB"),
        "CA" => pool!("CA"),
        _ => &[],
    }
}

fn build_pool(country: &str) -> Vec<Destination> {
    let Some(table) = refdata::postcodes(country) else { return Vec::new() };
    if matches!(country, "GB" | "CA") {
        return CURATED
            .iter()
            .filter(|(c, ..)| *c == country)
            .map(|(_, street, city, postcode, region)| {
                let district = postcode.split(' ').next().unwrap_or(postcode);
                Destination {
                    country: country.to_owned(),
                    postcode: (*postcode).to_owned(),
                    city: (*city).to_owned(),
                    region: region.map(str::to_owned),
                    street: Some((*street).to_owned()),
                    centroid: table.get(district).and_then(|i| i.centroid()),
                }
            })
            .collect();
    }
    let mut codes: Vec<(&str, &refdata::PostcodeInfo)> = table
        .iter()
        .filter(|(_, info)| !info.places.is_empty() && info.centroid().is_some())
        .filter(|(_, info)| country != "US" || !US_EXCLUDED.contains(&info.admin))
        .collect();
    codes.sort_by(|a, b| a.0.cmp(b.0));
    let stride = (codes.len() / POOL_SIZE).max(1);
    codes
        .into_iter()
        .step_by(stride)
        .map(|(code, info)| Destination {
            country: country.to_owned(),
            postcode: code.to_owned(),
            city: info.places[0].to_owned(),
            region: (country == "US").then(|| info.admin.to_owned()),
            street: None,
            centroid: info.centroid(),
        })
        .collect()
}

/// The destination with this country and postcode, when it is one of the pool's.
pub fn destination(country: &str, postcode: &str) -> Option<&'static Destination> {
    destinations(country).iter().find(|d| d.postcode == postcode)
}

/// The IANA zone of a destination: by state or province where a country has several.
pub fn time_zone(country: &str, region: Option<&str>) -> &'static str {
    match (country, region.unwrap_or("")) {
        (
            "US",
            "CT" | "DC" | "DE" | "FL" | "GA" | "MA" | "MD" | "ME" | "NC" | "NH" | "NJ" | "NY" | "OH" | "PA" | "RI"
            | "SC" | "VA" | "VT" | "WV",
        ) => "America/New_York",
        ("US", "MI") => "America/Detroit",
        ("US", "IN") => "America/Indiana/Indianapolis",
        ("US", "KY") => "America/Kentucky/Louisville",
        ("US", "AZ") => "America/Phoenix",
        ("US", "CO" | "ID" | "MT" | "NM" | "UT" | "WY") => "America/Denver",
        ("US", "CA" | "NV" | "OR" | "WA") => "America/Los_Angeles",
        ("US", "AK") => "America/Anchorage",
        ("US", "HI") => "Pacific/Honolulu",
        ("US", _) => "America/Chicago",
        ("CA", "BC") => "America/Vancouver",
        ("CA", "AB") => "America/Edmonton",
        ("CA", "SK") => "America/Regina",
        ("CA", "MB") => "America/Winnipeg",
        ("CA", "QC") => "America/Montreal",
        ("CA", "NS" | "NB" | "PE") => "America/Halifax",
        ("CA", "NL") => "America/St_Johns",
        ("CA", _) => "America/Toronto",
        ("DE", _) => "Europe/Berlin",
        ("AT", _) => "Europe/Vienna",
        ("GB", _) => "Europe/London",
        _ => "UTC",
    }
}

/// The orders expected on `day` before noise: the daily rate, the weekday's factor, the sale's.
pub fn expected_orders(scenario: &Scenario, day: Date) -> f64 {
    let weekday = scenario.weekday_factors[usize::from(iso_weekday(day) - 1)];
    let peak = scenario.peaks.get(&day).copied().unwrap_or(1.0);
    f64::from(scenario.orders_per_day) * weekday * peak
}

/// A Poisson count with mean `mean`: Knuth's product of uniforms for small means, the normal approximation
/// (exact enough above 30) for the others.
pub fn poisson(mean: f64, rng: &mut impl Rng) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 30.0 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0u32, 1.0f64);
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let n = (mean + mean.sqrt() * normal(rng)).round();
    if n <= 0.0 { 0 } else { n as u32 }
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Orders by hour of the shop's day: quiet at night, busiest in the evening.
const HOUR_WEIGHTS: [u32; 24] = [3, 2, 1, 1, 1, 2, 3, 5, 6, 7, 8, 8, 9, 8, 8, 8, 8, 9, 10, 11, 11, 9, 7, 5];

fn pick_weighted(weights: impl Iterator<Item = u32> + Clone, rng: &mut impl Rng) -> usize {
    let total: u32 = weights.clone().sum();
    let mut at = rng.random_range(0..total.max(1));
    for (i, w) in weights.enumerate() {
        if at < w {
            return i;
        }
        at -= w;
    }
    0
}

fn pick<'a, T>(items: &'a [T], rng: &mut impl Rng) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

const US_STREETS: [&str; 16] = [
    "Maple",
    "Oak",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "Church",
    "Highland",
    "Sunset",
    "Ridge",
    "Meadow",
    "Lincoln",
];
const US_SUFFIXES: [&str; 8] = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way"];
const DE_STREETS: [&str; 10] = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schulstraße",
    "Dorfstraße",
    "Bergstraße",
    "Lindenstraße",
    "Kirchstraße",
    "Waldstraße",
    "Ringstraße",
];
const AT_STREETS: [&str; 7] =
    ["Hauptplatz", "Bahnhofstraße", "Kirchengasse", "Schulgasse", "Lindengasse", "Wiener Straße", "Grazer Straße"];

fn name(country: &str, rng: &mut impl Rng) -> String {
    let (first, last): (&[&str], &[&str]) = match country {
        "DE" | "AT" => (
            &["Anna", "Lukas", "Marie", "Jonas", "Lena", "Felix", "Sophie", "Paul", "Emma", "Leon"],
            &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hofmann", "Gruber", "Huber"],
        ),
        "GB" => (
            &["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Grace"],
            &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Davies", "Thomas", "Roberts"],
        ),
        _ => (
            &["James", "Mary", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Chloé", "Lucas"],
            &["Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martin", "Tremblay", "Roy"],
        ),
    };
    format!("{} {}", pick(first, rng), pick(last, rng))
}

/// A phone number in a range kept for fiction (US 555-01xx, UK 07700 900xxx, Berlin 030 23125xxx).
fn phone(country: &str, rng: &mut impl Rng) -> String {
    match country {
        "GB" => format!("+44 7700 900{:03}", rng.random_range(0..1000)),
        "DE" => format!("+49 30 23125{:03}", rng.random_range(0..1000)),
        "AT" => format!("+43 1 {:07}", rng.random_range(1_000_000..10_000_000)),
        _ => format!("+1 {} 555-01{:02}", rng.random_range(201..990), rng.random_range(0..100)),
    }
}

fn street(destination: &Destination, rng: &mut impl Rng) -> String {
    if let Some(street) = &destination.street {
        return street.clone();
    }
    match destination.country.as_str() {
        "DE" => format!("{} {}", pick(&DE_STREETS, rng), rng.random_range(1..120)),
        "AT" => format!("{} {}", pick(&AT_STREETS, rng), rng.random_range(1..60)),
        _ => format!("{} {} {}", rng.random_range(1..9900), pick(&US_STREETS, rng), pick(&US_SUFFIXES, rng)),
    }
}

/// The orders of `day`: a Poisson draw around [`expected_orders`], each with its own buyer, destination and
/// items, `created_at` in the shop's zone and ids `sim-{yyyymmdd}-{n:04}` numbered in time order.
pub fn orders_for_day(scenario: &Scenario, day: Date, rng: &mut impl Rng) -> Vec<Value> {
    let count = poisson(expected_orders(scenario, day), rng);
    let zone = TimeZone::get(&scenario.shop_zone).unwrap_or(TimeZone::UTC);
    let mut times: Vec<Time> = (0..count)
        .map(|_| {
            let hour = pick_weighted(HOUR_WEIGHTS.iter().copied(), rng) as i8;
            Time::constant(0, 0, 0, 0)
                .with()
                .hour(hour)
                .minute(rng.random_range(0..60))
                .second(rng.random_range(0..60))
                .build()
                .unwrap_or_default()
        })
        .collect();
    times.sort();
    let stamp = day.strftime("%Y%m%d").to_string();
    times
        .into_iter()
        .enumerate()
        .filter_map(|(n, time)| {
            let created = day.to_datetime(time).to_zoned(zone.clone()).ok()?;
            Some(order(scenario, format!("sim-{stamp}-{:04}", n + 1), &created, rng))
        })
        .collect()
}

fn order(scenario: &Scenario, id: String, created: &jiff::Zoned, rng: &mut impl Rng) -> Value {
    let share = &scenario.countries[pick_weighted(scenario.countries.iter().map(|c| c.weight), rng)];
    let pool = destinations(&share.country);
    let destination = pick(pool, rng);
    let kinds = pick_weighted([70u32, 22, 8].into_iter(), rng) + 1;
    let mut skus: Vec<&super::Sku> = Vec::new();
    while skus.len() < kinds.min(scenario.catalog.len()) {
        let sku = pick(&scenario.catalog, rng);
        if !skus.contains(&sku) {
            skus.push(sku);
        }
    }
    let line_items: Vec<Value> = skus
        .iter()
        .map(|sku| {
            json!({
                "sku": sku.sku,
                "title": sku.title,
                "quantity": pick_weighted([80u32, 15, 5].into_iter(), rng) + 1,
                "grams": sku.grams,
                "price": price_in(sku, &share.currency),
                "requires_shipping": true,
            })
        })
        .collect();
    let buyer = name(&share.country, rng);
    let address1 = street(destination, rng);
    json!({
        "id": id,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        "currency": share.currency,
        "financial_status": "paid",
        "line_items": line_items,
        "shipping_address": {
            "name": buyer,
            "address1": address1,
            "city": destination.city,
            "province_code": destination.region,
            "zip": destination.postcode,
            "country_code": destination.country,
            "phone": phone(&share.country, rng),
        },
    })
}
