//! Typed configuration. The server's own settings live in `lastmile.toml` in the data directory; each
//! tenant's configuration (warehouses, address defaults) in `tenants/<id>.toml`. A file that does not parse
//! is a start-up error naming the file and what was wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lastmile_core::address::CarrierKind;
use lastmile_core::duty::{Incoterm, Party};
use lastmile_core::rating::packing::PackingRule;
use lastmile_core::routing::Policy;
use lastmile_core::tracking::pod::{PodPolicy, SuspectRules};
use lastmile_core::tracking::stall::StallRule;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid configuration: {message}")]
    Parse { path: PathBuf, message: String },
}

/// `lastmile.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default)]
    pub log: LogConfig,
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_owned()
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { listen: default_listen(), log: LogConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for a terminal, `json` for log collectors (Lambda uses JSON).
    #[serde(default = "default_log_format")]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `lastmile=debug,info`; `RUST_LOG` overrides it.
    #[serde(default = "default_log_level")]
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

fn default_log_format() -> LogFormat {
    LogFormat::Pretty
}

fn default_log_level() -> String {
    "info".to_owned()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: default_log_format(), level: default_log_level() }
    }
}

/// A tenant's configuration: what a seller sets up once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub address: AddressSettings,
    #[serde(default)]
    pub warehouses: Vec<Warehouse>,
    #[serde(default)]
    pub rating: RatingSettings,
    /// How the router chooses warehouses and lines.
    #[serde(default)]
    pub routing: Policy,
    /// What customs needs to price duties on routed orders (DDP).
    #[serde(default)]
    pub customs: CustomsSettings,
    /// Requests per second on the JSON APIs.
    #[serde(default)]
    pub limits: crate::ratelimit::RateLimit,
    /// The shop this tenant is, for webhooks (`my-shop.myshopify.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopify_domain: Option<String>,
    /// False while the shop has the app uninstalled: its keys answer 403, checkout gets no rates, orders are not
    /// taken in or routed. Reinstalling sets it again.
    #[serde(default = "enabled", skip_serializing_if = "is_enabled")]
    pub enabled: bool,
    /// Carrier feeds, proof of delivery, stalls, SLA targets and alerts.
    #[serde(default)]
    pub tracking: TrackingSettings,
}

fn enabled() -> bool {
    true
}

fn is_enabled(enabled: &bool) -> bool {
    *enabled
}

/// How quotes are made for this tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingSettings {
    /// Rate-card ids the tenant ships with; empty for every compiled-in line.
    #[serde(default)]
    pub lines: Vec<String>,
    /// The account discount tier on base prices, in basis points (1500 = 15 %).
    #[serde(default)]
    pub discount_basis_points: i64,
    /// How order items become parcels.
    #[serde(default)]
    pub packing: PackingRule,
}

/// Customs settings for routed orders: with an incoterm and the products' HS codes, each candidate line's quote
/// carries its landed cost, and under DDP the duties and taxes are part of the cost the router compares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomsSettings {
    #[serde(default)]
    pub incoterm: Option<Incoterm>,
    /// The seller's customs identifiers (EORI, IOSS, UK VAT number …).
    #[serde(default)]
    pub seller: Party,
    #[serde(default)]
    pub products: Vec<Product>,
}

/// A product as customs sees it, by SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    pub hs_code: String,
    pub origin_country: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressSettings {
    /// Carrier kind assumed when a request does not say: `courier` makes PO boxes an error.
    #[serde(default)]
    pub default_carrier_kind: Option<CarrierKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warehouse {
    pub id: String,
    pub country: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postcode: String,
    pub time_zone: String,
    /// Local order cut-off time, `HH:MM`.
    pub cutoff: String,
    pub working_days: Vec<String>,
    #[serde(default)]
    pub shopify_location_ids: Vec<String>,
    /// Other origin postcodes that mean this warehouse (as Shopify's rate requests send them).
    #[serde(default)]
    pub origin_postcodes: Vec<String>,
}

/// What tracking needs to know about a tenant: which carriers send it events and how they sign them, what a
/// delivery must prove, when a parcel counts as stalled and who is told, and each line's delivery target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSettings {
    /// Carriers whose event webhooks this tenant takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carriers: Vec<CarrierFeed>,
    /// The stall rule of every lane without its own.
    #[serde(default)]
    pub stall: StallRule,
    /// Stall rules by lane id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lanes: BTreeMap<String, StallRule>,
    /// What each line's deliveries must prove, by line id (none when absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod: BTreeMap<String, PodPolicy>,
    #[serde(default)]
    pub suspect: SuspectRules,
    /// Delivery targets by line id; [`SlaTarget::default`] for a line without one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sla: BTreeMap<String, SlaTarget>,
    /// Where stalled-parcel alerts go besides the alerts queue and the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_webhook: Option<AlertWebhook>,
}

impl TrackingSettings {
    pub fn stall_rule(&self, lane: &str) -> &StallRule {
        self.lanes.get(lane).unwrap_or(&self.stall)
    }

    pub fn pod_policy(&self, line: &str) -> PodPolicy {
        self.pod.get(line).copied().unwrap_or_default()
    }

    pub fn sla(&self, line: &str) -> SlaTarget {
        self.sla.get(line).copied().unwrap_or_default()
    }

    pub fn carrier(&self, carrier: &str) -> Option<&CarrierFeed> {
        self.carriers.iter().find(|c| c.carrier == carrier)
    }
}

/// A carrier that sends this tenant events, and the secrets (by reference, two during a rotation) their
/// HMAC-SHA256 signatures are checked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierFeed {
    /// The carrier's status table (`fedex`, `aftership`, `parcelnet` …).
    pub carrier: String,
    pub secrets: Vec<String>,
}

/// A line's delivery promise: `share_percent` of its parcels delivered within `days` business days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub days: u32,
    pub share_percent: u32,
}

impl Default for SlaTarget {
    fn default() -> Self {
        SlaTarget { days: 5, share_percent: 95 }
    }
}

/// The seller's endpoint for alerts, and the secret (by reference) their signature header is made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertWebhook {
    pub url: String,
    pub secret: String,
}

impl TenantConfig {
    /// The sample configuration `lastmile dev` writes for the `default` tenant on first start.
    pub fn sample(id: &str) -> Self {
        let weekdays = ["mon", "tue", "wed", "thu", "fri"].map(str::to_owned).to_vec();
        TenantConfig {
            id: id.to_owned(),
            name: "Sample seller".to_owned(),
            address: AddressSettings { default_carrier_kind: None },
            rating: RatingSettings::default(),
            routing: Policy::default(),
            customs: CustomsSettings::default(),
            limits: crate::ratelimit::RateLimit::default(),
            shopify_domain: Some(format!("{id}-demo.myshopify.com")),
            enabled: true,
            // The carriers whose events the sample takes: `lastmile dev` makes each signing secret on first start,
            // a file in the data directory's `secrets` folder named as here.
            tracking: TrackingSettings {
                carriers: ["fedex", "aftership", "parcelnet"]
                    .map(|carrier| CarrierFeed { carrier: carrier.into(), secrets: vec![format!("carrier-{carrier}")] })
                    .to_vec(),
                ..TrackingSettings::default()
            },
            warehouses: vec![
                Warehouse {
                    id: "us-nj".into(),
                    country: "US".into(),
                    region: Some("NJ".into()),
                    postcode: "07001".into(),
                    time_zone: "America/New_York".into(),
                    cutoff: "15:00".into(),
                    working_days: weekdays.clone(),
                    shopify_location_ids: Vec::new(),
                    origin_postcodes: Vec::new(),
                },
                Warehouse {
                    id: "ca-on".into(),
                    country: "CA".into(),
                    region: Some("ON".into()),
                    postcode: "K2P 1L4".into(),
                    time_zone: "America/Toronto".into(),
                    cutoff: "15:00".into(),
                    working_days: weekdays.clone(),
                    shopify_location_ids: Vec::new(),
                    origin_postcodes: Vec::new(),
                },
                Warehouse {
                    id: "de-hh".into(),
                    country: "DE".into(),
                    region: None,
                    postcode: "21079".into(),
                    time_zone: "Europe/Berlin".into(),
                    cutoff: "14:00".into(),
                    working_days: weekdays,
                    shopify_location_ids: Vec::new(),
                    origin_postcodes: Vec::new(),
                },
            ],
        }
    }
}

impl TenantConfig {
    /// What a tenant file must get right beyond its shape; the message names the rule that is wrong.
    pub fn check(&self) -> Result<(), String> {
        self.routing.check()?;
        self.limits.check()
    }
}

pub fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })
}

pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ConfigError> {
    let text = toml::to_string_pretty(value)
        .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
    write_atomically(path, text.as_bytes()).map_err(|source| ConfigError::Write { path: path.to_owned(), source })
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Loads `lastmile.toml` from `data_dir`, writing the defaults there first when it does not exist.
pub fn load_or_init_server(data_dir: &Path) -> Result<ServerConfig, ConfigError> {
    let path = data_dir.join("lastmile.toml");
    if !path.exists() {
        save(&path, &ServerConfig::default())?;
    }
    load(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_tenant_round_trips_through_toml() {
        let sample = TenantConfig::sample("default");
        let text = toml::to_string_pretty(&sample).expect("serializes");
        let back: TenantConfig = toml::from_str(&text).expect("parses");
        assert_eq!(back, sample);
    }

    #[test]
    fn a_tenant_is_enabled_unless_its_file_says_otherwise() {
        let sample = TenantConfig::sample("default");
        assert!(
            !toml::to_string_pretty(&sample).expect("serializes").contains("enabled"),
            "the default is not written"
        );
        let disabled = TenantConfig { enabled: false, ..sample };
        let text = toml::to_string_pretty(&disabled).expect("serializes");
        assert!(text.contains("enabled = false"), "{text}");
        assert!(!toml::from_str::<TenantConfig>(&text).expect("parses").enabled);
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = toml::from_str::<ServerConfig>("listen = \"127.0.0.1:1\"\nlisten_port = 3").expect_err("unknown key");
        assert!(err.to_string().contains("listen_port"), "{err}");
    }
}
