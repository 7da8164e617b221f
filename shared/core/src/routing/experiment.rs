//! A/B experiments on a lane: which arm an order falls in, and what the arms' outcomes say.
//!
//! The split hashes the experiment id and the order id with SHA-256 into one of 10,000 buckets, so it is the
//! same on every redelivery, on every machine and across restarts, and independent between experiments.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::policy::Experiment;
use super::stats::{Proportion, Running, TTest, ZTest, significant, two_proportion_z_test, welch_t_test};

pub const BUCKETS: u64 = 10_000;

/// Finished shipments each arm needs before the report recommends anything.
pub const MIN_FINISHED_PER_ARM: u64 = 30;

/// Significance level of the report's tests.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub experiment: String,
    pub line: String,
    pub bucket: u64,
}

pub fn bucket(experiment: &str, order_id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(experiment.as_bytes())
        .chain_update(b"\0")
        .chain_update(order_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % BUCKETS
}

/// The arm whose share of the buckets holds the order's bucket (arms in their configured order).
pub fn assign(experiment: &Experiment, order_id: &str) -> Assignment {
    let bucket = bucket(&experiment.id, order_id);
    let mut upper = 0;
    let mut line = experiment.arms.last().map(|a| a.line.clone()).unwrap_or_default();
    for arm in &experiment.arms {
        upper += u64::from(arm.percent) * (BUCKETS / 100);
        if bucket < upper {
            line = arm.line.clone();
            break;
        }
    }
    Assignment { experiment: experiment.id.clone(), line, bucket }
}

/// What one arm's shipments have shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmOutcomes {
    pub line: String,
    pub shipments: u64,
    /// Delivered among finished (delivered or failed) shipments.
    pub delivered: Proportion,
    pub on_time: Proportion,
    pub transit_days: Running,
    pub rating: Running,
    pub claims: Proportion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmReport {
    pub line: String,
    pub shipments: u64,
    pub finished: u64,
    pub delivery_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub average_transit_days: Option<f64>,
    pub average_rating: Option<f64>,
    pub ratings: u64,
    pub claim_rate: Option<f64>,
}

/// A challenger arm against the first (control) arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub line: String,
    pub against: String,
    pub delivery_rate: Option<ZTest>,
    pub on_time_rate: Option<ZTest>,
    pub transit_days: Option<TTest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub arms: Vec<ArmReport>,
    pub comparisons: Vec<Comparison>,
    pub alpha: f64,
    pub recommendation: String,
}

pub fn report(arms: &[ArmOutcomes]) -> Report {
    let reports = arms
        .iter()
        .map(|a| ArmReport {
            line: a.line.clone(),
            shipments: a.shipments,
            finished: a.delivered.trials,
            delivery_rate: a.delivered.rate(),
            on_time_rate: a.on_time.rate(),
            average_transit_days: a.transit_days.mean(),
            average_rating: a.rating.mean(),
            ratings: a.rating.n,
            claim_rate: a.claims.rate(),
        })
        .collect();
    let comparisons: Vec<Comparison> = match arms.split_first() {
        Some((control, challengers)) => challengers
            .iter()
            .map(|c| Comparison {
                line: c.line.clone(),
                against: control.line.clone(),
                delivery_rate: two_proportion_z_test(c.delivered, control.delivered),
                on_time_rate: two_proportion_z_test(c.on_time, control.on_time),
                transit_days: welch_t_test(&c.transit_days, &control.transit_days),
            })
            .collect(),
        None => Vec::new(),
    };
    let recommendation = recommend(arms, &comparisons);
    Report { arms: reports, comparisons, alpha: ALPHA, recommendation }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

fn recommend(arms: &[ArmOutcomes], comparisons: &[Comparison]) -> String {
    if let Some(short) = arms.iter().find(|a| a.delivered.trials < MIN_FINISHED_PER_ARM) {
        return format!(
            "Keep it running: {} has {} finished shipments and each arm needs {MIN_FINISHED_PER_ARM} before the tests mean much.",
            short.line, short.delivered.trials
        );
    }
    let mut findings = Vec::new();
    for (c, arm) in comparisons.iter().zip(arms.iter().skip(1)) {
        let control = &arms[0];
        let better = |z: &Option<ZTest>| z.as_ref().filter(|z| significant(z.p_value, ALPHA)).map(|z| z.z > 0.0);
        let faster = c.transit_days.as_ref().filter(|t| significant(t.p_value, ALPHA)).map(|t| t.t < 0.0);
        let said = match (better(&c.delivery_rate), better(&c.on_time_rate), faster) {
            (Some(false), _, _) | (None, Some(false), None) | (None, None, Some(false)) => format!(
                "Stop {}: it delivers {} against {} on {} and is not better elsewhere",
                c.line,
                percent(arm.delivered.rate()),
                percent(control.delivered.rate()),
                c.against
            ),
            (Some(true), on_time, transit) if on_time != Some(false) && transit != Some(false) => format!(
                "Move volume to {}: it delivers {} against {} on {} (p = {:.3})",
                c.line,
                percent(arm.delivered.rate()),
                percent(control.delivered.rate()),
                c.against,
                c.delivery_rate.as_ref().map_or(1.0, |z| z.p_value)
            ),
            (None, Some(true), transit) | (None, None, transit @ Some(true)) if transit != Some(false) => format!(
                "Move volume to {}: on time {} against {} and {:.1} against {:.1} days in transit on {}",
                c.line,
                percent(arm.on_time.rate()),
                percent(control.on_time.rate()),
                arm.transit_days.mean().unwrap_or(0.0),
                control.transit_days.mean().unwrap_or(0.0),
                c.against
            ),
            _ => format!(
                "No significant difference between {} and {} yet (α = {ALPHA}): choose on cost, or keep running",
                c.line, c.against
            ),
        };
        findings.push(said);
    }
    if findings.is_empty() { "An experiment needs at least two arms.".to_owned() } else { findings.join(". ") + "." }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::policy::{Arm, Lane};

    fn experiment(arms: &[(&str, u32)]) -> Experiment {
        Experiment {
            id: "ak-2026-12".into(),
            lane: Lane { from: None, to: "US".into(), regions: vec!["AK".into()] },
            arms: arms.iter().map(|(l, p)| Arm { line: (*l).into(), percent: *p }).collect(),
            from: None,
            until: None,
        }
    }

    #[test]
    fn the_split_is_stable_and_follows_the_allocation() {
        let e = experiment(&[("a", 70), ("b", 20), ("c", 10)]);
        let mut counts = std::collections::BTreeMap::<String, u32>::new();
        for i in 0..20_000 {
            let order = format!("order-{i}");
            let first = assign(&e, &order);
            assert_eq!(first, assign(&e, &order), "the same order always lands in the same arm");
            *counts.entry(first.line).or_default() += 1;
        }
        // 20,000 draws: a binomial's standard deviation is at most √(20000·0.25) ≈ 71, so ±400 is over 5σ.
        for (line, expected) in [("a", 14_000), ("b", 4_000), ("c", 2_000)] {
            let got = i64::from(counts[line]);
            assert!((got - expected).abs() < 400, "{line}: {got} orders, expected about {expected}");
        }
    }

    #[test]
    fn experiments_split_independently() {
        let a = experiment(&[("a", 50), ("b", 50)]);
        let mut b = a.clone();
        b.id = "another".into();
        let same = (0..2000).filter(|i| assign(&a, &i.to_string()).line == assign(&b, &i.to_string()).line).count();
        assert!((800..1200).contains(&same), "{same} of 2000 orders in the same arm of two unrelated experiments");
    }

    fn arm(line: &str, finished: u64, delivered: u64) -> ArmOutcomes {
        ArmOutcomes {
            line: line.into(),
            shipments: finished,
            delivered: Proportion { successes: delivered, trials: finished },
            on_time: Proportion { successes: delivered, trials: finished },
            ..ArmOutcomes::default()
        }
    }

    #[test]
    fn recommends_only_with_enough_data_and_a_significant_difference() {
        let early = report(&[arm("a", 10, 9), arm("b", 40, 40)]);
        assert!(early.recommendation.starts_with("Keep it running: a has 10"), "{}", early.recommendation);
        // 300 of 400 against 360 of 400: pooled 0.825, z ≈ 4.46, far beyond 1.96.
        let clear = report(&[arm("a", 400, 300), arm("b", 400, 360)]);
        assert!(clear.recommendation.starts_with("Move volume to b"), "{}", clear.recommendation);
        let worse = report(&[arm("a", 400, 360), arm("b", 400, 300)]);
        assert!(worse.recommendation.starts_with("Stop b"), "{}", worse.recommendation);
        let level = report(&[arm("a", 400, 360), arm("b", 400, 358)]);
        assert!(level.recommendation.starts_with("No significant difference"), "{}", level.recommendation);
    }
}
