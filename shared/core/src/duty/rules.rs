//! The customs rules as dated data (`shared/data/customs`, schema in its README.md): territories with their
//! valuation, reliefs, low-value regimes, fees and rounding; VAT/GST rates; a tariff keyed by HS code; duty
//! programs; FX rates. Every rule carries `effective_from`/`effective_to` (inclusive, either open) and a source,
//! and the engine asks for the rules in force on the shipment date.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::order::{Channel, Incoterm};
use crate::money::Currency;

/// How sure the public record is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    #[default]
    Certain,
    Uncertain,
}

/// Where a rule comes from, as every answer cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    pub source: String,
    pub confidence: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The validity window and provenance every rule has.
pub trait Dated {
    fn window(&self) -> (Option<Date>, Option<Date>);
    fn citation(&self) -> Citation;

    fn in_force(&self, date: Date) -> bool {
        let (from, to) = self.window();
        from.is_none_or(|f| f <= date) && to.is_none_or(|t| date <= t)
    }
}

/// A rule read from a TOML file: its own fields plus the window and provenance every rule has, with unknown
/// keys refused so that a misspelt `efective_from` is an error, not an open window.
macro_rules! dated_rule {
    ($(#[$meta:meta])* pub struct $rule:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $rule {
            $($body)*
            #[serde(default)]
            pub effective_from: Option<Date>,
            #[serde(default)]
            pub effective_to: Option<Date>,
            pub source: String,
            #[serde(default)]
            pub confidence: Confidence,
            #[serde(default)]
            pub note: Option<String>,
        }
        dated!($rule);
    };
}

macro_rules! dated {
    ($($rule:ty),* $(,)?) => {$(
        impl Dated for $rule {
            fn window(&self) -> (Option<Date>, Option<Date>) {
                (self.effective_from, self.effective_to)
            }
            fn citation(&self) -> Citation {
                Citation { source: self.source.clone(), confidence: self.confidence, note: self.note.clone() }
            }
        }
    )*};
}

/// A row of a rules CSV file: its own columns plus the window and provenance, where an empty cell is an open
/// date or no note.
macro_rules! dated_row {
    ($(#[$meta:meta])* pub struct $rule:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize)]
        pub struct $rule {
            $($body)*
            #[serde(default, deserialize_with = "empty_as_none")]
            pub effective_from: Option<Date>,
            #[serde(default, deserialize_with = "empty_as_none")]
            pub effective_to: Option<Date>,
            pub source: String,
            pub confidence: Confidence,
            #[serde(default, deserialize_with = "empty_as_none")]
            pub note: Option<String>,
        }
        dated!($rule);
    };
}

/// The first rule of `rules` in force on `date`.
pub fn in_force<T: Dated>(rules: &[T], date: Date) -> impl Iterator<Item = &T> {
    rules.iter().filter(move |r| r.in_force(date))
}

/// A part of what a shipment costs, as valuation and tax bases name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Goods,
    Shipping,
    Insurance,
    Duty,
}

/// Which value a threshold is tested against: the goods alone (EU/UK "intrinsic value") or the customs value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueOf {
    Intrinsic,
    Customs,
}

/// A customs territory: one currency, one set of rules, one or more countries (the EU's 27).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    pub countries: Vec<String>,
    /// Digits of the HS code a full import declaration asks for (EU CN code 8, US HTSUS 10); a shorter code is a
    /// pre-check warning. Six, the international HS subheading, when absent.
    #[serde(default = "hs_subheading_digits")]
    pub hs_digits_required: usize,
    /// Whether a seller importing under DDP declares as the importer and so needs an EORI number.
    #[serde(default)]
    pub eori_for_ddp: bool,
    /// Country prefixes an EORI number must have to be used here (`GB`, `XI`); any country when empty.
    #[serde(default)]
    pub eori_prefixes: Vec<String>,
    #[serde(default)]
    pub valuation: Vec<Valuation>,
    #[serde(default)]
    pub tax_base: Vec<Valuation>,
    #[serde(default)]
    pub duty_relief: Vec<Relief>,
    #[serde(default)]
    pub tax_relief: Vec<Relief>,
    #[serde(default)]
    pub tax_at_sale: Vec<TaxAtSale>,
    #[serde(default)]
    pub flat_duty: Vec<FlatDuty>,
    #[serde(default, rename = "fee")]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub rounding: Vec<Rounding>,
    #[serde(default, rename = "notice")]
    pub notices: Vec<Notice>,
}

/// The 6-digit HS subheading every customs declaration has.
fn hs_subheading_digits() -> usize {
    6
}

dated_rule! {
    /// What a value is made of: the customs value (`[[valuation]]`) or the VAT/GST base (`[[tax_base]]`).
    pub struct Valuation {
        pub includes: Vec<Part>,
    }
}

dated_rule! {
    /// No duty (or no import tax) on consignments whose value is at most `max`, for the channels, ship-from
    /// countries and origins it names. The first row in force that matches the shipment applies.
    pub struct Relief {
        pub max: Decimal,
        pub value: ValueOf,
        #[serde(default)]
        pub channels: Vec<Channel>,
        #[serde(default)]
        pub ship_from: Vec<String>,
        #[serde(default)]
        pub origins_excluded: Vec<String>,
    }
}

dated_rule! {
    /// Import VAT/GST charged by the seller at checkout instead of at the border (EU IOSS, UK ≤ £135, AU ≤ A$1,000).
    /// Where it is `mandatory` the seller must use it; otherwise it applies only when the seller has the
    /// `registration` (the IOSS number), and the tax is due at import instead.
    pub struct TaxAtSale {
        pub scheme: String,
        /// The seller identifier it needs: `ioss_number`, `uk_vat_number`, `au_gst_id`, `voec_number`.
        pub registration: String,
        pub max: Decimal,
        pub value: ValueOf,
        #[serde(default)]
        pub mandatory: bool,
    }
}

/// What a flat duty is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlatPer {
    /// Each distinct 6-digit HS subheading in the consignment.
    Subheading,
    Unit,
    Consignment,
}

dated_rule! {
    /// A fixed duty that replaces the tariff on low-value consignments (the EU's €3 per item from 2026-07-01).
    pub struct FlatDuty {
        pub max: Decimal,
        pub value: ValueOf,
        pub amount: Decimal,
        pub per: FlatPer,
    }
}

/// When a fee is charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeWhen {
    #[default]
    Always,
    /// Only when duty or tax is collected at the border.
    ChargesDue,
    /// Whenever an entry is filed: the consignment is not released under a duty relief (the US merchandise
    /// processing fee is due on dutiable and duty-free entries alike, but not on de minimis releases).
    EntryFiled,
}

/// What a fee is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeePer {
    Consignment,
    Unit,
    Line,
}

dated_rule! {
    /// A fee: a fixed `amount` per consignment, unit or line, or a `percent` of the duty and tax collected at the
    /// border with an optional `minimum`. Filters left empty match everything.
    pub struct Fee {
        pub id: String,
        pub name: String,
        #[serde(default)]
        pub countries: Vec<String>,
        #[serde(default)]
        pub channels: Vec<Channel>,
        #[serde(default)]
        pub incoterms: Vec<Incoterm>,
        #[serde(default)]
        pub carriers: Vec<String>,
        #[serde(default)]
        pub when: FeeWhen,
        #[serde(default)]
        pub amount: Option<Decimal>,
        #[serde(default)]
        pub percent: Option<Decimal>,
        #[serde(default)]
        pub minimum: Option<Decimal>,
        pub per: FeePer,
        /// Charged only on consignments whose value is in `[min_value, max]`.
        #[serde(default)]
        pub min_value: Option<Decimal>,
        #[serde(default)]
        pub max: Option<Decimal>,
        #[serde(default = "customs_value")]
        pub value: ValueOf,
    }
}

fn customs_value() -> ValueOf {
    ValueOf::Customs
}

/// How an amount is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    HalfEven,
    HalfUp,
    Down,
}

/// Over what an amount is rounded: each line, lines sharing a rate together, or the whole declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Line,
    Rate,
    Total,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundingStep {
    /// In major units of the territory's currency: `0.01`, `1`, `1000`.
    pub step: Decimal,
    pub mode: RoundingMode,
    pub scope: Scope,
}

impl RoundingStep {
    pub fn apply(&self, value: Decimal) -> Decimal {
        if self.step.is_zero() {
            return value;
        }
        let units = value / self.step;
        let whole = match self.mode {
            RoundingMode::HalfEven => {
                units.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven)
            }
            RoundingMode::HalfUp => {
                units.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            }
            RoundingMode::Down => units.floor(),
        };
        whole * self.step
    }
}

dated_rule! {
    /// A territory's rounding: of the customs value before rates apply, of duty, of tax. Absent steps leave the
    /// value exact (value) or round to the currency's minor unit, half-even (duty, tax).
    pub struct Rounding {
        #[serde(default)]
        pub value: Option<RoundingStep>,
        #[serde(default)]
        pub duty: Option<RoundingStep>,
        #[serde(default)]
        pub tax: Option<RoundingStep>,
    }
}

dated_rule! {
    /// Something the answer should say while it is in force, without changing the arithmetic.
    pub struct Notice {
        pub text: String,
    }
}

dated_row! {
    /// One VAT/GST component of a country (or of one subdivision) for one class of goods.
    pub struct VatRate {
        pub country: String,
        #[serde(default, deserialize_with = "empty_as_none")]
        pub subdivision: Option<String>,
        pub tax: String,
        pub class: String,
        /// Percent.
        pub rate: Decimal,
    }
}

/// How a tariff rate is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    /// Percent of the customs value.
    AdValorem,
    /// Currency units per kilogram of net weight.
    PerKg,
    /// Currency units per unit.
    PerUnit,
}

dated_row! {
    /// A tariff row: the rate for HS codes starting with `hs` in `territory`, under `program` (the general rate
    /// when empty).
    pub struct TariffRow {
        pub territory: String,
        pub hs: String,
        pub description: String,
        #[serde(default, deserialize_with = "empty_as_none")]
        pub program: Option<String>,
        pub kind: RateKind,
        pub rate: Decimal,
        #[serde(default, deserialize_with = "empty_as_none")]
        pub currency: Option<Currency>,
    }
}

/// Preferential programs lower the general rate; additional ones add to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    Preference,
    Additional,
}

dated_rule! {
    pub struct Program {
        pub id: String,
        pub name: String,
        pub kind: ProgramKind,
        pub importers: Vec<String>,
        #[serde(default)]
        pub origins: Vec<String>,
        #[serde(default)]
        pub origins_excluded: Vec<String>,
        /// Percent ad valorem for lines the tariff has no row of this program for.
        #[serde(default)]
        pub default_rate: Option<Decimal>,
        /// What the importer must hold to claim it.
        #[serde(default)]
        pub requires: Option<String>,
    }
}

impl Program {
    pub fn covers(&self, territory: &str, origin: &str) -> bool {
        self.importers.iter().any(|t| t == territory)
            && (self.origins.is_empty() || self.origins.iter().any(|o| o == origin))
            && !self.origins_excluded.iter().any(|o| o == origin)
    }
}

#[derive(Debug, Deserialize)]
struct ProgramFile {
    #[serde(default)]
    program: Vec<Program>,
}

/// `1 base = rate quote` on `date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FxRate {
    pub date: Date,
    pub base: Currency,
    pub quote: Currency,
    pub rate: Decimal,
    pub source: String,
}

/// A dated FX table: the rate for a pair on a date is the latest at or before it.
#[derive(Debug, Clone, Default)]
pub struct FxTable {
    rates: BTreeMap<(Currency, Currency), Vec<FxRate>>,
}

impl FxTable {
    pub fn from_csv(text: &str) -> Result<FxTable, RulesError> {
        let mut table = FxTable::default();
        for row in read_csv::<FxRate>("fx", text)? {
            if row.rate <= Decimal::ZERO {
                return Err(RulesError::Invalid {
                    file: "fx".into(),
                    message: format!("rate {} on {}", row.rate, row.date),
                });
            }
            table.rates.entry((row.base, row.quote)).or_default().push(row);
        }
        for rows in table.rates.values_mut() {
            rows.sort_by_key(|r| r.date);
        }
        Ok(table)
    }

    /// `amount` of `from` in `to` on `date`, and the row used: multiplied by the `from → to` rate, or divided by
    /// the `to → from` rate when only that is listed (dividing keeps 38.27 EUR at 0.86 exactly 44.50 USD, where
    /// multiplying by a rounded inverse would not).
    pub fn convert(&self, amount: Decimal, from: Currency, to: Currency, date: Date) -> Option<(Decimal, &FxRate)> {
        let latest = |pair: (Currency, Currency)| self.rates.get(&pair)?.iter().rev().find(|r| r.date <= date);
        if let Some(row) = latest((from, to)) {
            return Some((amount.checked_mul(row.rate)?, row));
        }
        let row = latest((to, from))?;
        Some((amount.checked_div(row.rate)?, row))
    }
}

/// Why the rules could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

fn invalid(file: &str, message: impl ToString) -> RulesError {
    RulesError::Invalid { file: file.to_owned(), message: message.to_string() }
}

fn read_csv<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<Vec<T>, RulesError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| invalid(file, format!("row {}: {e}", i + 2))))
        .collect()
}

fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    let text = text.trim();
    if text.is_empty() { Ok(None) } else { text.parse().map(Some).map_err(serde::de::Error::custom) }
}

/// All the customs rules of one process.
#[derive(Debug, Clone)]
pub struct Rules {
    pub territories: Vec<Territory>,
    pub vat: Vec<VatRate>,
    pub tariff: Vec<TariffRow>,
    /// A seller's own tariff rows, consulted before the shipped ones.
    pub seller_tariff: Vec<TariffRow>,
    pub programs: Vec<Program>,
    pub fx: FxTable,
}

/// The files of a rules directory by path relative to it (`territories/EU.toml`, `vat_rates.csv`, …).
pub type RuleFiles<'a> = Vec<(String, &'a str)>;

impl Rules {
    /// Reads a rules directory's files: `territories/*.toml`, `vat_rates.csv`, `tariff_sample.csv` (or any
    /// `tariff*.csv`), `programs.toml`, `fx*.csv`.
    pub fn from_files(files: &[(String, &str)]) -> Result<Rules, RulesError> {
        let mut rules = Rules {
            territories: Vec::new(),
            vat: Vec::new(),
            tariff: Vec::new(),
            seller_tariff: Vec::new(),
            programs: Vec::new(),
            fx: FxTable::default(),
        };
        let mut fx_text = String::new();
        for (name, text) in files {
            let file_name = name.rsplit('/').next().unwrap_or(name);
            if name.starts_with("territories/") && name.ends_with(".toml") {
                let territory: Territory = toml::from_str(text).map_err(|e| invalid(name, e))?;
                rules.territories.push(territory);
            } else if file_name == "vat_rates.csv" {
                rules.vat.extend(read_csv::<VatRate>(name, text)?);
            } else if file_name.starts_with("tariff") && file_name.ends_with(".csv") {
                rules.tariff.extend(read_csv::<TariffRow>(name, text)?);
            } else if file_name == "programs.toml" {
                let programs: ProgramFile = toml::from_str(text).map_err(|e| invalid(name, e))?;
                rules.programs.extend(programs.program);
            } else if file_name.starts_with("fx") && file_name.ends_with(".csv") {
                // One table from every FX file: the header once, then the rows of each.
                for (i, line) in text.lines().enumerate() {
                    if i > 0 || fx_text.is_empty() {
                        fx_text.push_str(line);
                        fx_text.push('\n');
                    }
                }
            }
        }
        rules.fx = FxTable::from_csv(&fx_text)?;
        for row in &mut rules.tariff {
            row.hs = super::order::hs_digits(&row.hs);
        }
        rules.check()?;
        Ok(rules)
    }

    /// The rules shipped in `shared/data/customs`, read once per process. The test suite reads them too, so an
    /// error here means a broken build, answered as such rather than with a panic.
    pub fn builtin() -> Result<&'static Rules, RulesError> {
        static RULES: std::sync::OnceLock<Result<Rules, RulesError>> = std::sync::OnceLock::new();
        RULES
            .get_or_init(|| {
                let files: Vec<(String, &str)> =
                    BUILTIN_FILES.iter().map(|(name, text)| ((*name).to_owned(), *text)).collect();
                Rules::from_files(&files)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Replaces the FX table (a seller's own dated rates).
    pub fn with_fx(mut self, fx: FxTable) -> Rules {
        self.fx = fx;
        self
    }

    /// Adds a seller's own tariff (same columns as `tariff_sample.csv`), consulted before the shipped rows.
    pub fn with_seller_tariff(mut self, csv_text: &str) -> Result<Rules, RulesError> {
        let mut rows = read_csv::<TariffRow>("seller tariff", csv_text)?;
        for row in &mut rows {
            row.hs = super::order::hs_digits(&row.hs);
        }
        self.seller_tariff = rows;
        self.check()?;
        Ok(self)
    }

    /// Checks what would otherwise give silently wrong answers: unknown territories or programs in the tariff,
    /// non-digit HS prefixes, negative rates, windows that end before they start.
    fn check(&self) -> Result<(), RulesError> {
        for t in &self.territories {
            if t.currency.minor_digits().is_none() {
                return Err(invalid(&t.id, format!("unknown currency {}", t.currency)));
            }
            // HS codes are 6 digits internationally; national extensions stop at 10 or 12.
            if !(6..=12).contains(&t.hs_digits_required) {
                return Err(invalid(&t.id, format!("hs_digits_required {} is not 6 to 12", t.hs_digits_required)));
            }
            if let Some(prefix) =
                t.eori_prefixes.iter().find(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(invalid(&t.id, format!("EORI prefix {prefix:?} is not two capitals")));
            }
        }
        for row in self.tariff.iter().chain(&self.seller_tariff) {
            let file = "tariff";
            if !self.territories.iter().any(|t| t.id == row.territory) {
                return Err(invalid(file, format!("unknown territory {:?}", row.territory)));
            }
            if row.hs.is_empty() || !row.hs.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(file, format!("HS prefix {:?} is not digits", row.hs)));
            }
            if row.rate < Decimal::ZERO {
                return Err(invalid(file, format!("negative rate for {}", row.hs)));
            }
            if let Some(program) = &row.program
                && !self.programs.iter().any(|p| &p.id == program)
            {
                return Err(invalid(file, format!("unknown program {program:?}")));
            }
            if row.kind != RateKind::AdValorem && row.currency.is_none() {
                return Err(invalid(file, format!("specific rate for {} without a currency", row.hs)));
            }
        }
        let windows = self
            .vat
            .iter()
            .map(|r| (r.window(), "vat_rates.csv"))
            .chain(self.tariff.iter().map(|r| (r.window(), "tariff")))
            .chain(self.programs.iter().map(|r| (r.window(), "programs.toml")));
        for ((from, to), file) in windows {
            if let (Some(from), Some(to)) = (from, to)
                && to < from
            {
                return Err(invalid(file, format!("window ends {to} before it starts {from}")));
            }
        }
        Ok(())
    }

    /// The territory whose rules apply to goods imported into `country`.
    pub fn territory(&self, country: &str) -> Option<&Territory> {
        self.territories.iter().find(|t| t.countries.iter().any(|c| c == country))
    }

    /// The VAT/GST components for a class of goods in a country (and subdivision) on a date: the country-wide
    /// rows plus the subdivision's own.
    pub fn vat_components(&self, country: &str, subdivision: Option<&str>, class: &str, date: Date) -> Vec<&VatRate> {
        self.vat
            .iter()
            .filter(|r| r.country == country && r.class == class && r.in_force(date))
            .filter(|r| r.subdivision.is_none() || r.subdivision.as_deref() == subdivision)
            .collect()
    }

    /// Whether a country has a VAT/GST class at all (on any date), to tell a typo from a zero rate.
    pub fn has_vat_class(&self, country: &str, class: &str) -> bool {
        self.vat.iter().any(|r| r.country == country && r.class == class)
    }

    /// The longest-prefix tariff row for an HS code in a territory under a program (`None` = general rate) on a
    /// date; the seller's own rows first.
    pub fn tariff_row(&self, territory: &str, hs: &str, program: Option<&str>, date: Date) -> Option<&TariffRow> {
        let best = |rows: &'_ [TariffRow]| -> Option<usize> {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.territory == territory
                        && r.program.as_deref() == program
                        && hs.starts_with(&r.hs)
                        && r.in_force(date)
                })
                .max_by_key(|(_, r)| r.hs.len())
                .map(|(i, _)| i)
        };
        best(&self.seller_tariff)
            .map(|i| &self.seller_tariff[i])
            .or_else(|| best(&self.tariff).map(|i| &self.tariff[i]))
    }
}

/// The rules files shipped in `shared/data/customs` as `(relative path, text)`: a starting point for a seller's
/// own rules directory, and for tests that edit a copy.
pub fn builtin_files() -> Vec<(String, String)> {
    BUILTIN_FILES.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())).collect()
}

/// The rules files shipped in `shared/data/customs`, embedded at build time.
const BUILTIN_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/customs.rs"));
