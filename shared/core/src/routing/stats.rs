//! Statistics for the order router and its A/B experiments: smoothed rates per line, mergeable running moments,
//! and the two significance tests that compare variants. Pure arithmetic; the normal and Student-t tails come
//! from `statrs` (no default features, so no nalgebra or rand, and it builds for wasm32).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// A declared rate and how many observations it is worth (Beta(α = rate·weight, β = (1−rate)·weight)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    pub rate: f64,
    pub weight: f64,
}

/// Posterior mean (α + successes) / (α + β + trials): a new line starts at its declared rate and moves to the
/// measured one as outcomes arrive, instead of jumping to 0 or 1 on its first delivery.
///
/// The rate is clamped to [0, 1] and the weight to >= 0 (NaN counts as 0); `trials` is raised to `successes`
/// if lower. With no weight and no trials the prior rate is returned.
pub fn smoothed_rate(prior: Prior, successes: u64, trials: u64) -> f64 {
    let rate = if prior.rate.is_nan() { 0.0 } else { prior.rate.clamp(0.0, 1.0) };
    let weight = if prior.weight.is_nan() { 0.0 } else { prior.weight.max(0.0) };
    let trials = trials.max(successes) as f64;
    if weight.is_infinite() || weight + trials == 0.0 {
        return rate;
    }
    ((rate * weight + successes as f64) / (weight + trials)).clamp(0.0, 1.0)
}

/// Success counts, kept as counts (not a rate) so that they add up across shards and feed the z-test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    pub successes: u64,
    pub trials: u64,
}

impl Proportion {
    /// successes / trials, with successes saturated at trials; None before the first trial.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes.min(self.trials) as f64 / self.trials as f64)
    }

    pub fn record(&mut self, success: bool) {
        self.trials = self.trials.saturating_add(1);
        if success {
            self.successes = self.successes.saturating_add(1);
        }
    }
}

/// Running mean and variance (Welford): numerically stable in one pass, storable as JSON and mergeable, so each
/// shard keeps its own and the experiment report merges them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Running {
    pub n: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Running {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// The moments of both samples together (Chan, Golub and LeVeque's pairwise formula).
    pub fn merge(&self, other: &Running) -> Running {
        if self.n == 0 {
            return *other;
        }
        if other.n == 0 {
            return *self;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        Running {
            n: self.n + other.n,
            mean: self.mean + delta * nb / n,
            m2: self.m2 + other.m2 + delta * delta * na * nb / n,
        }
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Sample variance (divisor n − 1); None below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).max(0.0))
    }
}

/// Result of a two-sided test of a difference in proportions; `z` is positive when `a` has the higher rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZTest {
    pub z: f64,
    pub p_value: f64,
}

/// Pooled two-proportion z-test (two-sided). None when either side has no trials or the pooled rate is 0 or 1,
/// where the standard error is zero and the test says nothing.
pub fn two_proportion_z_test(a: Proportion, b: Proportion) -> Option<ZTest> {
    let (ra, rb) = (a.rate()?, b.rate()?);
    let (na, nb) = (a.trials as f64, b.trials as f64);
    let pooled = (ra * na + rb * nb) / (na + nb);
    if pooled <= 0.0 || pooled >= 1.0 {
        return None;
    }
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let z = (ra - rb) / se;
    z.is_finite().then(|| ZTest { z, p_value: 2.0 * Normal::standard().sf(z.abs()) })
}

/// Result of Welch's two-sided t-test; `t` is positive when `a` has the higher mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TTest {
    pub t: f64,
    pub degrees_of_freedom: f64,
    pub p_value: f64,
}

/// Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom): delivery times of two variants
/// rarely share a variance. None when either side has fewer than two values or both variances are zero.
pub fn welch_t_test(a: &Running, b: &Running) -> Option<TTest> {
    let (va, vb) = (a.variance()? / a.n as f64, b.variance()? / b.n as f64);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return None;
    }
    let t = (a.mean - b.mean) / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    if !t.is_finite() {
        return None;
    }
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(TTest { t, degrees_of_freedom: df, p_value: (2.0 * dist.sf(t.abs())).min(1.0) })
}

/// Whether a p-value rejects the null hypothesis at level `alpha` (strictly below; NaN never does).
pub fn significant(p_value: f64, alpha: f64) -> bool {
    p_value < alpha
}
