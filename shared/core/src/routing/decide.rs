//! One shipment's line: every quoted (warehouse, line) candidate scored on cost, transit against the promise and
//! the line's measured quality; lines excluded on the lane, disabled or full fall out with their reason, a
//! concentration cap moves orders off a line that has too much of a lane, and a running experiment assigns its
//! arm. The answer keeps every candidate, its score components and why the winner won.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::experiment::{self, Assignment};
use super::policy::Policy;
use super::stats::{Proportion, Running, smoothed_rate};

/// A line that quoted the shipment, from one warehouse.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub warehouse: String,
    pub line: String,
    pub carrier: String,
    /// The price in the order's currency (`None` when it could not be converted).
    pub cost_minor: Option<i64>,
    /// Calendar days from the order to the latest promised delivery date (`None`: the line gives no dates).
    pub transit_days: Option<u32>,
    pub country: String,
    pub region: Option<String>,
}

/// Outcomes measured so far on a line (for this seller).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LineStats {
    pub on_time: Proportion,
    pub success: Proportion,
    pub claims: Proportion,
    pub transit_days: Running,
}

/// A line's state today.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineState {
    /// Why the seller switched it off, when they did.
    pub disabled: Option<String>,
    /// Orders it took today (all lanes).
    pub used_today: u64,
}

/// Orders per lane today: lane id → (line → orders).
pub type LaneCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// The lane id counters and caps use: `{warehouse}>{country}` or `{warehouse}>{country}-{region}`.
pub fn lane_id(warehouse: &str, country: &str, region: Option<&str>) -> String {
    match region {
        Some(region) => format!("{warehouse}>{country}-{region}"),
        None => format!("{warehouse}>{country}"),
    }
}

/// Score components, each 0–1 (higher is better).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Components {
    /// Cheapest quoted cost ÷ this cost.
    pub cost: f64,
    /// Half meeting the promise (1 within it, promise ÷ days beyond it), half speed (fastest ÷ days).
    pub transit: f64,
    pub on_time: f64,
    pub success: f64,
    /// 1 − the smoothed claim rate.
    pub claims: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub warehouse: String,
    pub line: String,
    pub carrier: String,
    pub lane: String,
    pub cost_minor: Option<i64>,
    pub transit_days: Option<u32>,
    pub components: Components,
    pub score: f64,
    pub eligible: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Index into `candidates` of the winner; none when no candidate is eligible.
    pub winner: Option<usize>,
    pub candidates: Vec<Scored>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Assignment>,
    /// Whether the reason no line won is capacity (worth retrying tomorrow) rather than the lane itself.
    pub held_for_capacity: bool,
    pub why: String,
}

impl Choice {
    pub fn winner(&self) -> Option<&Scored> {
        self.winner.map(|i| &self.candidates[i])
    }
}

/// What the router knows besides the candidates.
pub struct Situation<'a> {
    pub order_id: &'a str,
    pub date: Date,
    pub stats: &'a BTreeMap<String, LineStats>,
    pub lines: &'a BTreeMap<String, LineState>,
    pub lanes: &'a LaneCounts,
}

/// Chooses a line for one shipment.
pub fn decide(policy: &Policy, situation: &Situation<'_>, candidates: &[Candidate]) -> Choice {
    let cheapest = candidates.iter().filter_map(|c| c.cost_minor).filter(|c| *c > 0).min();
    let fastest = candidates.iter().filter_map(|c| c.transit_days).map(|d| d.max(1)).min();
    let weights = policy.weights;
    let total_weight = weights.cost + weights.transit + weights.on_time + weights.success + weights.claims;
    let (mut scored, outs): (Vec<Scored>, Vec<Option<Out>>) = candidates
        .iter()
        .map(|c| {
            let stats = situation.stats.get(&c.line).copied().unwrap_or_default();
            let line = policy.line(&c.line);
            let promise = policy.promised_days(&c.country).max(1);
            let components = Components {
                cost: match (cheapest, c.cost_minor) {
                    (Some(low), Some(cost)) if cost > 0 => low as f64 / cost as f64,
                    (_, Some(cost)) if cost <= 0 => 1.0,
                    _ => 0.0,
                },
                transit: match (c.transit_days, fastest) {
                    (Some(days), Some(fastest)) => {
                        let days = days.max(1);
                        let promise_met = if days <= promise { 1.0 } else { f64::from(promise) / f64::from(days) };
                        0.5 * promise_met + 0.5 * f64::from(fastest) / f64::from(days)
                    }
                    // No dates: neither rewarded nor ruled out.
                    _ => 0.5,
                },
                on_time: smoothed_rate(line.on_time, stats.on_time.successes, stats.on_time.trials),
                success: smoothed_rate(line.success, stats.success.successes, stats.success.trials),
                claims: 1.0 - smoothed_rate(line.claims, stats.claims.successes, stats.claims.trials),
            };
            let score = (weights.cost * components.cost
                + weights.transit * components.transit
                + weights.on_time * components.on_time
                + weights.success * components.success
                + weights.claims * components.claims)
                / total_weight;
            let region = c.region.as_deref();
            let lane = lane_id(&c.warehouse, &c.country, region);
            let state = situation.lines.get(&c.line).cloned().unwrap_or_default();
            let out = if c.cost_minor.is_none() {
                Some((Out::Unpriced, "its price could not be converted into the order's currency".to_owned()))
            } else if policy.excluded(&c.warehouse, &c.country, region, &c.line) {
                Some((Out::Excluded, format!("excluded on the lane {lane} by the routing policy")))
            } else if let Some(why) = &state.disabled {
                Some((Out::Disabled, format!("disabled: {why}")))
            } else if let Some(cap) = line.daily_capacity.filter(|cap| state.used_today >= u64::from(*cap)) {
                Some((Out::Full, format!("full: {} of {cap} orders today", state.used_today)))
            } else {
                None
            };
            let (out, reason) = out.unzip();
            let scored = Scored {
                warehouse: c.warehouse.clone(),
                line: c.line.clone(),
                carrier: c.carrier.clone(),
                lane,
                cost_minor: c.cost_minor,
                transit_days: c.transit_days,
                components,
                score: (score * 1e6).round() / 1e6,
                eligible: reason.is_none(),
                reason,
            };
            (scored, out)
        })
        .unzip();
    // Worth retrying tomorrow: every line is full or switched off, and at least one is full.
    let held_for_capacity = !outs.is_empty()
        && outs.iter().all(|o| matches!(o, Some(Out::Full | Out::Disabled)))
        && outs.contains(&Some(Out::Full));
    apply_concentration_caps(policy, situation, candidates, &mut scored);

    let order = ranking(&scored);
    let best_overall = order.first().copied();
    let best_eligible = order.iter().copied().find(|&i| scored[i].eligible);
    let Some(best) = best_eligible else {
        let why = if scored.is_empty() {
            "no line quoted this shipment".to_owned()
        } else {
            format!("no eligible line: {}", summary(&scored))
        };
        return Choice { winner: None, candidates: scored, experiment: None, held_for_capacity, why };
    };
    let mut why = explain(&scored, best, &order);
    if let Some(top) = best_overall.filter(|&i| i != best) {
        let reason = scored[top].reason.clone().unwrap_or_default();
        why = format!("{} scores higher but is {reason}; failover to {}. {why}", scored[top].line, scored[best].line);
    }
    let mut winner = best;
    let mut assignment = None;
    let lead = &scored[best];
    let region = candidates[best].region.as_deref();
    if let Some(experiment) = policy.experiment(&lead.warehouse, &candidates[best].country, region, situation.date) {
        let assigned = experiment::assign(experiment, situation.order_id);
        let arm_line = assigned.line.clone();
        match scored.iter().position(|s| s.warehouse == lead.warehouse && s.line == arm_line && s.eligible) {
            Some(i) => {
                winner = i;
                why = format!(
                    "experiment {}: order in arm {} (bucket {} of 10000); the score alone would pick {}",
                    experiment.id, arm_line, assigned.bucket, lead.line
                );
                assignment = Some(assigned);
            }
            None => {
                why = format!(
                    "experiment {}: its arm {arm_line} cannot take this shipment, so the score decides. {why}",
                    experiment.id
                );
            }
        }
    }
    Choice { winner: Some(winner), candidates: scored, experiment: assignment, held_for_capacity: false, why }
}

/// Why a candidate is out before caps: what decides whether an order waits for capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Unpriced,
    Excluded,
    Disabled,
    Full,
}

/// Marks a line ineligible where taking this order would push its share of the lane over the cap; when every
/// other line is out too, the cap gives way (shipping beats holding an order for a share target).
fn apply_concentration_caps(
    policy: &Policy,
    situation: &Situation<'_>,
    candidates: &[Candidate],
    scored: &mut [Scored],
) {
    let mut capped = Vec::new();
    for (i, s) in scored.iter().enumerate() {
        if !s.eligible {
            continue;
        }
        let c = &candidates[i];
        let Some(cap) = policy.concentration(&c.warehouse, &c.country, c.region.as_deref()) else { continue };
        let counts = situation.lanes.get(&s.lane);
        let total: u64 = counts.map_or(0, |m| m.values().sum());
        if total < u64::from(cap.min_orders) {
            continue;
        }
        let mine = counts.and_then(|m| m.get(&s.line)).copied().unwrap_or(0);
        // Share after taking this order, compared in integers: (mine + 1) / (total + 1) > cap / 100.
        if (mine + 1) * 100 > u64::from(cap.max_share_percent) * (total + 1) {
            capped.push((
                i,
                format!(
                    "capped: {mine} of the lane's {total} orders today already, and the cap is {} %",
                    cap.max_share_percent
                ),
            ));
        }
    }
    let others_eligible =
        |i: usize| scored.iter().enumerate().any(|(j, s)| j != i && s.eligible && !capped.iter().any(|(k, _)| *k == j));
    let relax = capped.iter().all(|(i, _)| !others_eligible(*i));
    if relax {
        return;
    }
    for (i, reason) in capped {
        scored[i].eligible = false;
        scored[i].reason = Some(reason);
    }
}

/// Candidates by score, best first; ties to the cheaper, then the faster, then by line id.
fn ranking(scored: &[Scored]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&scored[a], &scored[b]);
        y.score
            .total_cmp(&x.score)
            .then(x.cost_minor.unwrap_or(i64::MAX).cmp(&y.cost_minor.unwrap_or(i64::MAX)))
            .then(x.transit_days.unwrap_or(u32::MAX).cmp(&y.transit_days.unwrap_or(u32::MAX)))
            .then(x.line.cmp(&y.line))
    });
    order
}

fn explain(scored: &[Scored], best: usize, order: &[usize]) -> String {
    let w = &scored[best];
    let runner = order.iter().copied().find(|&i| i != best && scored[i].eligible);
    let facts = |s: &Scored| {
        let cost = s.cost_minor.map_or("no price".to_owned(), |c| format!("cost {c}"));
        let days = s.transit_days.map_or("no dates".to_owned(), |d| format!("{d} days"));
        format!("{cost}, {days}")
    };
    match runner {
        Some(r) => {
            let other = &scored[r];
            let mut reasons = Vec::new();
            if let (Some(a), Some(b)) = (w.cost_minor, other.cost_minor) {
                if a < b {
                    reasons.push("cheaper");
                }
            }
            if let (Some(a), Some(b)) = (w.transit_days, other.transit_days) {
                if a < b {
                    reasons.push("faster");
                }
            }
            if w.components.on_time + w.components.success > other.components.on_time + other.components.success {
                reasons.push("more reliable so far");
            }
            let because = if reasons.is_empty() { "on the weighted score".to_owned() } else { reasons.join(" and ") };
            format!(
                "{} from {} ({}; score {:.3}) over {} ({}; score {:.3}): {because}",
                w.line,
                w.warehouse,
                facts(w),
                w.score,
                other.line,
                facts(other),
                other.score
            )
        }
        None => format!("{} from {} ({}; score {:.3}): the only eligible line", w.line, w.warehouse, facts(w), w.score),
    }
}

fn summary(scored: &[Scored]) -> String {
    scored
        .iter()
        .map(|s| format!("{} {}", s.line, s.reason.as_deref().unwrap_or("eligible")))
        .collect::<Vec<_>>()
        .join("; ")
}
