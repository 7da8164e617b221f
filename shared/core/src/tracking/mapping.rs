//! Carrier status tables: data files (`shared/data/tracking/carriers/*.toml`) that map a carrier's codes onto
//! [`Status`] and [`Reason`]. Adapters look codes up here; no code elsewhere names a carrier's code.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::status::{Reason, Status};

/// What one carrier code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub status: Status,
    #[serde(default)]
    pub reason: Option<Reason>,
}

/// One carrier format's table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusTable {
    pub carrier: String,
    pub format: String,
    /// The carrier's public tracking page, `{number}` standing for the tracking number.
    #[serde(default)]
    pub tracking_url: Option<String>,
    codes: BTreeMap<String, Mapping>,
    /// Coarser codes (AfterShip's tags) for fine codes the table does not list.
    #[serde(default)]
    fallback: BTreeMap<String, Mapping>,
    /// Reason codes that refine an event's reason (FedEx `exceptionCode`, a scan file's reason column).
    #[serde(default)]
    reasons: BTreeMap<String, Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("carrier table {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("two carrier tables for {0}")]
    Duplicate(String),
}

impl StatusTable {
    pub fn parse(file: &str, text: &str) -> Result<StatusTable, TableError> {
        toml::from_str(text).map_err(|e| TableError::Invalid { file: file.to_owned(), message: e.to_string() })
    }

    /// The buyer's link to the carrier's tracking page of `tracking_number`, when the carrier has one.
    pub fn tracking_url_of(&self, tracking_number: &str) -> Option<String> {
        self.tracking_url.as_ref().map(|u| u.replace("{number}", tracking_number))
    }

    /// The meaning of `code`, else of its coarser `fallback` code; a reason code, when the table knows it,
    /// replaces the code's default reason.
    pub fn map(&self, code: &str, fallback: Option<&str>, reason_code: Option<&str>) -> Option<Mapping> {
        let mut mapping =
            self.codes.get(code.trim()).or_else(|| fallback.and_then(|f| self.fallback.get(f.trim()))).copied()?;
        if let Some(reason) = reason_code.and_then(|r| self.reasons.get(r.trim())) {
            mapping.reason = Some(*reason);
        }
        Some(mapping)
    }
}

/// Every carrier table, by carrier.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    by_carrier: BTreeMap<String, StatusTable>,
}

const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/carriers.rs"));

impl Tables {
    /// Tables from `(file name, TOML)` pairs.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Tables, TableError> {
        let mut tables = Tables::default();
        for (file, text) in files {
            let table = StatusTable::parse(file, text)?;
            if tables.by_carrier.contains_key(&table.carrier) {
                return Err(TableError::Duplicate(table.carrier));
            }
            tables.by_carrier.insert(table.carrier.clone(), table);
        }
        Ok(tables)
    }

    pub fn carrier(&self, carrier: &str) -> Option<&StatusTable> {
        self.by_carrier.get(carrier)
    }

    pub fn carriers(&self) -> impl Iterator<Item = &str> {
        self.by_carrier.keys().map(String::as_str)
    }
}

/// The shipped tables, parsed once per process.
pub fn builtin() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        // The shipped files are checked by the test below; a broken one must not take a process down.
        Tables::from_files(BUILTIN).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_table_parses() {
        let tables = Tables::from_files(BUILTIN).expect("shipped tables parse");
        assert_eq!(tables.carriers().collect::<Vec<_>>(), ["aftership", "fedex", "parcelnet"]);
    }

    #[test]
    fn a_reason_code_refines_and_a_tag_stands_in_for_an_unknown_subtag() {
        let tables = builtin();
        let fedex = tables.carrier("fedex").expect("fedex");
        let refused = fedex.map("DE", None, Some("07")).expect("DE");
        assert_eq!((refused.status, refused.reason), (Status::DeliveryAttempted, Some(Reason::RecipientRefused)));
        let plain = fedex.map("DE", None, Some("99")).expect("DE");
        assert_eq!(plain.reason, Some(Reason::RecipientUnavailable), "an unknown reason code keeps the default");
        let aftership = tables.carrier("aftership").expect("aftership");
        assert_eq!(aftership.map("InTransit_042", Some("InTransit"), None).map(|m| m.status), Some(Status::InTransit));
        assert_eq!(aftership.map("Nope_001", Some("Nope"), None), None);
    }

    #[test]
    fn changing_the_data_changes_the_answer() {
        let shipped = BUILTIN.iter().find(|(f, _)| f.starts_with("fedex")).expect("fedex file").1;
        let edited = shipped.replace(
            r#"HL = { status = "available_for_pickup" }"#,
            r#"HL = { status = "exception", reason = "held_for_payment" }"#,
        );
        assert_ne!(shipped, edited, "the edit applies");
        let tables = Tables::from_files(&[("fedex.toml", &edited)]).expect("parses");
        let held = tables.carrier("fedex").and_then(|t| t.map("HL", None, None)).expect("HL");
        assert_eq!((held.status, held.reason), (Status::Exception, Some(Reason::HeldForPayment)));
    }
}
