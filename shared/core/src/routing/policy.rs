//! A seller's routing policy, as configuration: how much cost, transit and measured quality weigh, each line's
//! declared quality and daily capacity, lanes' excluded lines and concentration caps, and experiments.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::stats::Prior;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub weights: Weights,
    /// Calendar days from order to delivery the shop promises, by destination country (`"*"` for the rest).
    #[serde(default = "default_promise")]
    pub promised_days: BTreeMap<String, u32>,
    /// Per line: declared quality and capacity. A line not named here gets [`LinePolicy::default`].
    #[serde(default)]
    pub lines: BTreeMap<String, LinePolicy>,
    /// Per lane: lines not to use, and a share cap that overrides `concentration`.
    #[serde(default)]
    pub lanes: Vec<LanePolicy>,
    /// The share cap on every lane, unless a lane sets its own.
    #[serde(default)]
    pub concentration: Option<Concentration>,
    #[serde(default)]
    pub experiments: Vec<Experiment>,
}

fn default_promise() -> BTreeMap<String, u32> {
    BTreeMap::from([("*".to_owned(), 7)])
}

/// How much each score component counts; only their ratios matter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub cost: f64,
    pub transit: f64,
    pub on_time: f64,
    pub success: f64,
    pub claims: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { cost: 0.45, transit: 0.25, on_time: 0.1, success: 0.15, claims: 0.05 }
    }
}

/// A line's declared quality, trusted as much as `weight` observations until measured outcomes outweigh it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinePolicy {
    /// Orders a day the line takes from this seller (all lanes); none: unlimited.
    #[serde(default)]
    pub daily_capacity: Option<u32>,
    #[serde(default = "on_time_prior")]
    pub on_time: Prior,
    #[serde(default = "success_prior")]
    pub success: Prior,
    #[serde(default = "claims_prior")]
    pub claims: Prior,
}

fn on_time_prior() -> Prior {
    Prior { rate: 0.9, weight: 20.0 }
}
fn success_prior() -> Prior {
    Prior { rate: 0.97, weight: 20.0 }
}
fn claims_prior() -> Prior {
    Prior { rate: 0.01, weight: 20.0 }
}

impl Default for LinePolicy {
    fn default() -> Self {
        LinePolicy { daily_capacity: None, on_time: on_time_prior(), success: success_prior(), claims: claims_prior() }
    }
}

/// Which shipments a rule is about: from a warehouse (any when absent) to a country, optionally some regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    #[serde(default)]
    pub from: Option<String>,
    pub to: String,
    /// ISO 3166-2 suffixes (`AK`); empty: the whole country.
    #[serde(default)]
    pub regions: Vec<String>,
}

impl Lane {
    pub fn matches(&self, warehouse: &str, country: &str, region: Option<&str>) -> bool {
        self.from.as_deref().is_none_or(|w| w == warehouse)
            && self.to.eq_ignore_ascii_case(country)
            && (self.regions.is_empty()
                || region.is_some_and(|r| self.regions.iter().any(|x| x.eq_ignore_ascii_case(r))))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanePolicy {
    #[serde(flatten)]
    pub lane: Lane,
    #[serde(default)]
    pub excluded_lines: Vec<String>,
    #[serde(default)]
    pub concentration: Option<Concentration>,
}

/// No line takes more than `max_share_percent` of a lane's orders in a day, once the lane has had `min_orders`
/// that day (before that, every share is 100 % of very little).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concentration {
    pub max_share_percent: u32,
    #[serde(default = "default_min_orders")]
    pub min_orders: u32,
}

fn default_min_orders() -> u32 {
    10
}

/// A lane's orders split across 2–3 lines by a hash of the order id, so a redelivered order lands in the same arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub id: String,
    pub lane: Lane,
    pub arms: Vec<Arm>,
    /// First and last order dates (inclusive) it runs for; open-ended when absent.
    #[serde(default)]
    pub from: Option<Date>,
    #[serde(default)]
    pub until: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub line: String,
    pub percent: u32,
}

impl Policy {
    pub fn line(&self, line: &str) -> LinePolicy {
        self.lines.get(line).copied().unwrap_or_default()
    }

    pub fn promised_days(&self, country: &str) -> u32 {
        self.promised_days.get(country).or_else(|| self.promised_days.get("*")).copied().unwrap_or(7)
    }

    /// The lane rules that apply, most specific (the first matching) first.
    pub fn lane(&self, warehouse: &str, country: &str, region: Option<&str>) -> Option<&LanePolicy> {
        self.lanes.iter().find(|l| l.lane.matches(warehouse, country, region))
    }

    pub fn excluded(&self, warehouse: &str, country: &str, region: Option<&str>, line: &str) -> bool {
        self.lanes
            .iter()
            .filter(|l| l.lane.matches(warehouse, country, region))
            .any(|l| l.excluded_lines.iter().any(|x| x == line))
    }

    pub fn concentration(&self, warehouse: &str, country: &str, region: Option<&str>) -> Option<Concentration> {
        self.lane(warehouse, country, region).and_then(|l| l.concentration).or(self.concentration)
    }

    /// The running experiment on a lane on `date`, if any.
    pub fn experiment(&self, warehouse: &str, country: &str, region: Option<&str>, date: Date) -> Option<&Experiment> {
        self.experiments.iter().find(|e| {
            e.lane.matches(warehouse, country, region)
                && e.from.is_none_or(|from| from <= date)
                && e.until.is_none_or(|until| date <= until)
        })
    }

    /// What a configuration file must get right; the message names the rule that is wrong.
    pub fn check(&self) -> Result<(), String> {
        let w = self.weights;
        let weights = [w.cost, w.transit, w.on_time, w.success, w.claims];
        if weights.iter().any(|x| !x.is_finite() || *x < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
            return Err("routing.weights must be non-negative and not all zero".into());
        }
        for (line, p) in &self.lines {
            for (what, prior) in [("on_time", p.on_time), ("success", p.success), ("claims", p.claims)] {
                if !((0.0..=1.0).contains(&prior.rate) && prior.weight >= 0.0 && prior.weight.is_finite()) {
                    return Err(format!("routing.lines.{line}.{what}: rate in 0–1 and weight ≥ 0"));
                }
            }
        }
        let caps = self.lanes.iter().filter_map(|l| l.concentration).chain(self.concentration);
        for cap in caps {
            if !(1..=100).contains(&cap.max_share_percent) {
                return Err("a concentration cap's max_share_percent must be 1–100".into());
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for e in &self.experiments {
            if !ids.insert(&e.id) {
                return Err(format!("experiment {:?} is defined twice", e.id));
            }
            if !(2..=3).contains(&e.arms.len()) {
                return Err(format!("experiment {:?}: 2 or 3 arms", e.id));
            }
            if e.arms.iter().map(|a| a.percent).sum::<u32>() != 100 {
                return Err(format!("experiment {:?}: arm percentages must add up to 100", e.id));
            }
            let lines: std::collections::BTreeSet<_> = e.arms.iter().map(|a| &a.line).collect();
            if lines.len() != e.arms.len() {
                return Err(format!("experiment {:?}: each arm a different line", e.id));
            }
        }
        Ok(())
    }
}
