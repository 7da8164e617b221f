//! The return policy as data (`shared/data/returns/policy.toml`, schema in that folder's README.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// An item's condition, as the buyer states it or the inspection finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    New,
    Opened,
    Defective,
    Damaged,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::New => "new",
            Condition::Opened => "opened",
            Condition::Defective => "defective",
            Condition::Damaged => "damaged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    pub restock: BTreeMap<Condition, i64>,
    pub refurbish: BTreeMap<Condition, i64>,
    pub liquidate: BTreeMap<Condition, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    pub handling: i64,
    pub refurbish: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub window_days: u32,
    pub non_returnable_categories: Vec<String>,
    pub returnless_share_bp: i64,
    pub recovery: Recovery,
    pub costs: BTreeMap<Currency, Costs>,
}

pub const BUILTIN: &str = include_str!("../../../data/returns/policy.toml");

impl Policy {
    pub fn from_toml(text: &str) -> Result<Policy, toml::de::Error> {
        toml::from_str(text)
    }

    /// Parsed once per process; the tests read the file too, so an error is a broken build, not a panic.
    pub fn builtin() -> Result<&'static Policy, toml::de::Error> {
        static PARSED: std::sync::OnceLock<Result<Policy, toml::de::Error>> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| Policy::from_toml(BUILTIN)).as_ref().map_err(Clone::clone)
    }
}
