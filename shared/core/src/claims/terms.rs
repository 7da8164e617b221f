//! Claim terms per carrier line (`shared/data/claims/terms.toml`, schema in that folder's README.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::CalendarId;
use crate::money::Currency;

/// What a claim is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    Lost,
    Damaged,
    Late,
}

impl ClaimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimType::Lost => "lost",
            ClaimType::Damaged => "damaged",
            ClaimType::Late => "late",
        }
    }
}

/// The date a filing window starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStart {
    Delivery,
    LastScan,
    Promised,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Calendar days; a deadline on a weekend or holiday moves to the next business day.
    #[default]
    Calendar,
    Business,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilingWindow {
    pub days: u32,
    pub from: WindowStart,
    #[serde(default)]
    pub count: DayCount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineTerms {
    pub carrier: String,
    pub currency: Currency,
    /// `US`, or `US-CA` for a subdivision.
    pub calendar: String,
    pub lost_after_business_days: u32,
    pub declared_value_cap: i64,
    pub deductible: i64,
    pub insurance_raises_cap: bool,
    pub money_back_guarantee: bool,
    /// Windows by claim type; a type without one cannot be claimed on the line.
    pub filing: BTreeMap<ClaimType, FilingWindow>,
}

impl LineTerms {
    pub fn calendar_id(&self) -> CalendarId {
        let (country, subdivision) = match self.calendar.split_once('-') {
            Some((country, sub)) => (country, Some(sub)),
            None => (self.calendar.as_str(), None),
        };
        CalendarId::new(country, subdivision)
    }
}

/// Every line's terms, keyed by rate card id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub lines: BTreeMap<String, LineTerms>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TermsError {
    #[error("claim terms are not valid TOML for the schema: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("claim terms of {line}: {problem}")]
    Rule { line: String, problem: String },
}

/// The terms compiled in from `shared/data/claims/terms.toml`.
pub const BUILTIN: &str = include_str!("../../../data/claims/terms.toml");

impl Terms {
    pub fn from_toml(text: &str) -> Result<Terms, TermsError> {
        let terms: Terms = toml::from_str(text)?;
        for (line, t) in &terms.lines {
            let problem = |problem: &str| Err(TermsError::Rule { line: line.clone(), problem: problem.to_owned() });
            if t.declared_value_cap < 0 || t.deductible < 0 {
                return problem("amounts must not be negative");
            }
            if t.money_back_guarantee && !t.filing.contains_key(&ClaimType::Late) {
                return problem("a money-back guarantee needs a filing window for late claims");
            }
        }
        Ok(terms)
    }

    /// The compiled-in terms, parsed once per process. The tests read the file too, so an error here is a
    /// broken build, answered as such rather than with a panic.
    pub fn builtin() -> Result<&'static Terms, TermsError> {
        static TERMS: std::sync::OnceLock<Result<Terms, TermsError>> = std::sync::OnceLock::new();
        TERMS.get_or_init(|| Terms::from_toml(BUILTIN)).as_ref().map_err(Clone::clone)
    }

    pub fn line(&self, line: &str) -> Option<&LineTerms> {
        self.lines.get(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::card::builtin;

    #[test]
    fn the_data_file_parses_and_names_existing_lines() {
        let terms = Terms::from_toml(BUILTIN).unwrap();
        assert!(terms.lines.len() >= 3);
        for line in terms.lines.keys() {
            assert!(
                builtin().iter().flatten().any(|card| &card.id == line),
                "claim terms for {line}, which has no rate card"
            );
        }
    }

    #[test]
    fn inconsistent_terms_are_refused() {
        let text = BUILTIN.replace("deductible = 0", "deductible = -1");
        assert!(matches!(Terms::from_toml(&text), Err(TermsError::Rule { .. })));
    }
}
