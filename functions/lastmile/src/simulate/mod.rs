//! The simulation model behind `lastmile simulate`: a seller's peak season as data. Orders in Shopify's shape
//! ([`orders`]), each shipment's tracking story ([`story`]), the stories' events in the carriers' own formats
//! ([`render`]) and the proof-of-delivery files ([`pod`]).
//!
//! Pure: no I/O, no clock, no network. Every draw comes from a ChaCha8 stream derived from the scenario's seed
//! and what is being drawn (the day of the orders, the shipment's id), so one seed gives the same bytes whatever
//! order a driver asks in, and nothing iterates a hash map.

pub mod invoices;
pub mod orders;
pub mod pod;
pub mod render;
pub mod returns;
pub mod story;

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

pub use orders::{Destination, Sku, orders_for_day, stock_levels};
pub use pod::PodFileOut;
pub use render::{Format, Payload, render};
pub use story::{Outcome, ScheduledEvent, ScheduledPod, Send, ShipmentFacts, Step, Story, Suspicion, parcel_story};

/// Which carrier format a leg's events are sent in: the id of its table in `shared/data/tracking/carriers`.
pub const FEDEX: &str = "fedex";
pub const AFTERSHIP: &str = "aftership";
pub const PARCELNET: &str = "parcelnet";

/// How one line's parcels travel: the carriers that report them, how long they take, how often they fail.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProfile {
    /// The carrier table of the first leg (`fedex`, `aftership`, `parcelnet`).
    pub carrier: String,
    /// A local last-mile partner that takes the parcel over under a new tracking number, for multi-leg lines.
    pub last_mile: Option<String>,
    /// Median transit in working days of the destination, from pickup to delivery.
    pub median_days: f64,
    /// Standard deviation of the transit, in working days.
    pub spread_days: f64,
    /// Share of parcels delivered; the others are lost, damaged or returned to the sender.
    pub delivery_rate: f64,
    /// Share of parcels with a passing exception on the way (a delay, customs), which costs a day or two.
    pub exception_share: f64,
    /// Whether the line's deliveries carry proof of delivery (recipient, GPS, and files where the format has them).
    pub pod_required: bool,
    /// ISO weekdays (1 = Monday) on which the line scans and delivers.
    pub scan_weekdays: Vec<u8>,
}

impl LineProfile {
    fn new(carrier: &str, last_mile: Option<&str>, median_days: f64, spread_days: f64) -> LineProfile {
        LineProfile {
            carrier: carrier.to_owned(),
            last_mile: last_mile.map(str::to_owned),
            median_days,
            spread_days,
            delivery_rate: 0.985,
            exception_share: 0.04,
            pod_required: true,
            scan_weekdays: vec![1, 2, 3, 4, 5],
        }
    }
}

/// A period in a country when nothing is scanned beyond its public holidays (the day after Thanksgiving, German
/// Christmas Eve): dates inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub country: String,
    pub from: Date,
    pub to: Date,
    pub why: String,
}

/// A period in a country when networks move slower: each working day counts `capacity` of a normal day.
#[derive(Debug, Clone, PartialEq)]
pub struct Slowdown {
    pub country: String,
    pub from: Date,
    pub to: Date,
    pub capacity: f64,
    pub why: String,
}

/// The shares of the run's troubles; tests set them to measure what they produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Shares {
    /// Parcels whose scans stop for 3–6 working days somewhere on the way.
    pub stall: f64,
    /// Of the stalled parcels, those that never move again: lost, or expired where the format can say so.
    pub stall_never_resumes: f64,
    /// Deliveries that look false: POD GPS several km from the destination, or delivered at 03:00 local time.
    pub suspect: f64,
    /// Deliveries on lines that require POD that come without any.
    pub missing_pod: f64,
    /// Deliveries that first fail an attempt (recipient not at home) and succeed the next working day.
    pub attempt: f64,
    /// Events the carrier sends one to three days late, after events that happened later.
    pub late_send: f64,
    /// Events the carrier sends twice.
    pub duplicate_send: f64,
}

impl Default for Shares {
    fn default() -> Self {
        Shares {
            stall: 0.05,
            stall_never_resumes: 0.3,
            suspect: 0.02,
            missing_pod: 0.04,
            attempt: 0.08,
            late_send: 0.02,
            duplicate_send: 0.03,
        }
    }
}

/// Where orders go: a country, its weight in the mix, the currency its buyers pay in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryShare {
    pub country: String,
    pub weight: u32,
    pub currency: String,
}

/// Everything a run is made of. [`Scenario::default_for`] gives the sample seller's peak season.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub start: Date,
    pub days: u32,
    pub orders_per_day: u32,
    pub seed: u64,
    /// The shop's time zone: orders' `created_at` days are its days.
    pub shop_zone: String,
    pub countries: Vec<CountryShare>,
    pub catalog: Vec<Sku>,
    /// Order volume by ISO weekday, Monday first.
    pub weekday_factors: [f64; 7],
    /// Order volume on days of a sale (Black Friday, Cyber Monday), on top of the weekday's.
    pub peaks: BTreeMap<Date, f64>,
    /// Profiles by line id (the rate cards' ids).
    pub lines: BTreeMap<String, LineProfile>,
    /// The profile of a line the scenario does not know.
    pub default_profile: LineProfile,
    /// The line that fails: few deliveries, many exceptions and returns, long transit.
    pub failing_line: String,
    pub closures: Vec<Closure>,
    pub slowdowns: Vec<Slowdown>,
    pub shares: Shares,
}

impl Scenario {
    /// The sample tenant's season: its three warehouses (us-nj, ca-on, de-hh) ship to the US, Canada, Germany,
    /// Austria and Great Britain on the compiled-in rate cards' lines; `de-hermes` is the failing line.
    pub fn default_for(start: Date, days: u32, orders_per_day: u32, seed: u64) -> Scenario {
        let failing_line = "de-hermes".to_owned();
        let mut lines = BTreeMap::new();
        let mut add = |id: &str, profile: LineProfile| {
            lines.insert(id.to_owned(), profile);
        };
        add("us-national-ground", LineProfile::new(FEDEX, None, 3.0, 1.0));
        add(
            "us-postal-ground",
            LineProfile { scan_weekdays: vec![1, 2, 3, 4, 5, 6], ..LineProfile::new(AFTERSHIP, None, 4.0, 1.3) },
        );
        add("us-regional-northeast", LineProfile::new(PARCELNET, None, 2.0, 0.6));
        // The fixture's journey: the national carrier flies the parcel north, a local partner delivers it.
        add("us-alaska-regional", LineProfile::new(FEDEX, Some(PARCELNET), 5.0, 1.5));
        add("us-ltl-pallet", LineProfile { pod_required: false, ..LineProfile::new(FEDEX, None, 5.0, 1.5) });
        add(
            "us-ca-crossborder",
            LineProfile { exception_share: 0.12, ..LineProfile::new(FEDEX, Some(PARCELNET), 5.0, 1.5) },
        );
        add("ca-courier-ground", LineProfile::new(FEDEX, None, 3.0, 1.0));
        add("ca-postal-expedited", LineProfile { pod_required: false, ..LineProfile::new(AFTERSHIP, None, 3.5, 1.2) });
        add("de-dpd", LineProfile::new(AFTERSHIP, None, 1.5, 0.6));
        add(
            "de-paket",
            LineProfile { scan_weekdays: vec![1, 2, 3, 4, 5, 6], ..LineProfile::new(AFTERSHIP, None, 1.5, 0.5) },
        );
        add(
            &failing_line,
            LineProfile { delivery_rate: 0.62, exception_share: 0.35, ..LineProfile::new(AFTERSHIP, None, 6.0, 2.5) },
        );
        add(
            "de-gb-crossborder",
            LineProfile { exception_share: 0.10, ..LineProfile::new(FEDEX, Some(PARCELNET), 4.0, 1.2) },
        );
        // Lines of the compiled-in cards the sample warehouses cannot use (no AU, FR or GB warehouse), for tenants
        // that add one.
        add("au-postal-parcel", LineProfile::new(AFTERSHIP, None, 4.0, 1.5));
        add("fr-postal-colis", LineProfile::new(AFTERSHIP, None, 2.5, 0.8));
        add("gb-courier-economy", LineProfile::new(PARCELNET, None, 2.5, 0.8));
        add("gb-postal-tracked", LineProfile::new(AFTERSHIP, None, 2.0, 0.6));

        let countries = [("US", 55, "USD"), ("CA", 12, "CAD"), ("DE", 20, "EUR"), ("AT", 5, "EUR"), ("GB", 8, "GBP")]
            .into_iter()
            .map(|(country, weight, currency)| CountryShare {
                country: country.into(),
                weight,
                currency: currency.into(),
            })
            .collect();
        let peaks = [
            (date(2026, 11, 27), 3.2), // Black Friday
            (date(2026, 11, 28), 1.9),
            (date(2026, 11, 29), 1.8),
            (date(2026, 11, 30), 2.7), // Cyber Monday
            (date(2026, 12, 1), 1.4),
            (date(2026, 12, 2), 1.2),
        ]
        .into_iter()
        .collect();
        let closure = |country: &str, from: Date, to: Date, why: &str| Closure {
            country: country.into(),
            from,
            to,
            why: why.into(),
        };
        let slowdown = |country: &str, from: Date, to: Date, capacity: f64, why: &str| Slowdown {
            country: country.into(),
            from,
            to,
            capacity,
            why: why.into(),
        };
        Scenario {
            start,
            days,
            orders_per_day,
            seed,
            shop_zone: "America/New_York".into(),
            countries,
            catalog: orders::default_catalog(),
            weekday_factors: [1.10, 1.05, 1.0, 1.0, 0.95, 0.85, 0.90],
            peaks,
            lines,
            default_profile: LineProfile::new(AFTERSHIP, None, 3.0, 1.0),
            failing_line,
            // Thanksgiving (a public holiday in the data) and the Friday after it, when US networks scan nothing.
            closures: vec![
                closure("US", date(2026, 11, 27), date(2026, 11, 27), "day after Thanksgiving"),
                closure("DE", date(2026, 12, 24), date(2026, 12, 24), "Heiligabend"),
            ],
            slowdowns: vec![
                slowdown("US", date(2026, 11, 28), date(2026, 12, 4), 0.6, "Thanksgiving backlog"),
                slowdown("DE", date(2026, 12, 14), date(2026, 12, 23), 0.6, "pre-Christmas volume"),
            ],
            shares: Shares::default(),
        }
    }

    /// The profile of `line`, or the default one.
    pub fn profile(&self, line: &str) -> &LineProfile {
        self.lines.get(line).unwrap_or(&self.default_profile)
    }

    /// The days of the run, in order.
    pub fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        (0..i64::from(self.days)).filter_map(|n| self.start.checked_add(jiff::Span::new().days(n)).ok())
    }

    /// The random stream of `day`'s orders.
    pub fn order_rng(&self, day: Date) -> ChaCha8Rng {
        self.rng(&format!("orders:{day}"))
    }

    /// The random stream of one shipment's story: the same whatever else the run draws.
    pub fn story_rng(&self, shipment_id: &str) -> ChaCha8Rng {
        self.rng(&format!("story:{shipment_id}"))
    }

    /// The random stream of one parcel's return.
    pub fn return_rng(&self, shipment_id: &str) -> ChaCha8Rng {
        self.rng(&format!("return:{shipment_id}"))
    }

    /// The random stream of one invoice's planted discrepancies.
    pub fn invoice_rng(&self, invoice_number: &str) -> ChaCha8Rng {
        self.rng(&format!("invoice:{invoice_number}"))
    }

    fn rng(&self, what: &str) -> ChaCha8Rng {
        let mut seed = [0u8; 32];
        let digest = Sha256::new().chain_update(self.seed.to_le_bytes()).chain_update(what.as_bytes()).finalize();
        seed.copy_from_slice(&digest);
        ChaCha8Rng::from_seed(seed)
    }
}

#[cfg(test)]
mod tests;
