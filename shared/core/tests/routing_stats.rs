//! Golden cases for the router's statistics. Expected values come from an independent reference, not from this
//! code: reference: scipy 1.17.1 (`scipy.stats.ttest_ind(a, b, equal_var=False)` for Welch, the pooled z by the
//! formula below and `2 * scipy.stats.norm.sf(|z|)` for its p-value).

use lastmile_core::routing::stats::{
    Prior, Proportion, Running, significant, smoothed_rate, two_proportion_z_test, welch_t_test,
};
use proptest::prelude::*;

const TOL: f64 = 1e-4;

fn close(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() < TOL, "{what}: {actual} != {expected}");
}

fn running(xs: &[f64]) -> Running {
    let mut r = Running::default();
    for &x in xs {
        r.push(x);
    }
    r
}

fn prop(successes: u64, trials: u64) -> Proportion {
    Proportion { successes, trials }
}

#[test]
fn z_test_significant() {
    // pooled p = (45+30)/(100+100) = 0.375, se = sqrt(0.375·0.625·(1/100+1/100)) = 0.068465,
    // z = (0.45−0.30)/0.068465 = 2.190890, p = 2·norm.sf(2.190890) = 0.028460
    let r = two_proportion_z_test(prop(45, 100), prop(30, 100)).unwrap();
    close(r.z, 2.190890, "z");
    close(r.p_value, 0.028460, "p");
    assert!(significant(r.p_value, 0.05));
    // Swapping the sides flips the sign only.
    let s = two_proportion_z_test(prop(30, 100), prop(45, 100)).unwrap();
    close(s.z, -2.190890, "z swapped");
    close(s.p_value, 0.028460, "p swapped");
}

#[test]
fn z_test_not_significant() {
    // pooled p = (52+48)/200 = 0.5, se = sqrt(0.5·0.5·(2/100)) = 0.070711, z = 0.04/0.070711 = 0.565685,
    // p = 0.571608
    let r = two_proportion_z_test(prop(52, 100), prop(48, 100)).unwrap();
    close(r.z, 0.565685, "z");
    close(r.p_value, 0.571608, "p");
    assert!(!significant(r.p_value, 0.05));
    // Unequal sizes: pooled p = (120+95)/(400+380) = 0.275641, se = sqrt(0.275641·0.724359·(1/400+1/380))
    // = 0.032009, z = (0.3−0.25)/0.032009 = 1.562053, p = 0.118276
    let r = two_proportion_z_test(prop(120, 400), prop(95, 380)).unwrap();
    close(r.z, 1.562053, "z");
    close(r.p_value, 0.118276, "p");
    assert!(!significant(r.p_value, 0.1));
}

#[test]
fn z_test_undefined() {
    assert_eq!(two_proportion_z_test(prop(0, 0), prop(3, 10)), None);
    assert_eq!(two_proportion_z_test(prop(3, 10), prop(0, 0)), None);
    // Pooled rate 0 or 1: zero standard error.
    assert_eq!(two_proportion_z_test(prop(0, 10), prop(0, 20)), None);
    assert_eq!(two_proportion_z_test(prop(10, 10), prop(20, 20)), None);
}

#[test]
fn welch_matches_scipy() {
    // a: mean 13.3, var 1.7 (n 6); b: mean 11.28, var 0.567 (n 5).
    // va = 1.7/6 = 0.283333, vb = 0.567/5 = 0.1134, se = sqrt(0.396733) = 0.629868,
    // t = 2.02/0.629868 = 3.207023, df = 0.396733² / (0.283333²/5 + 0.1134²/4) = 8.167810, p = 0.012144
    let a = running(&[12.1, 14.3, 11.8, 13.5, 15.2, 12.9]);
    let b = running(&[10.4, 11.9, 12.2, 10.8, 11.1]);
    close(a.mean().unwrap(), 13.3, "mean a");
    close(a.variance().unwrap(), 1.7, "var a");
    close(b.variance().unwrap(), 0.567, "var b");
    let r = welch_t_test(&a, &b).unwrap();
    close(r.t, 3.207023, "t");
    close(r.degrees_of_freedom, 8.167810, "df");
    close(r.p_value, 0.012144, "p");
    assert!(significant(r.p_value, 0.05));
}

#[test]
fn welch_with_one_constant_sample() {
    // c = [3,3,3] (var 0), d = [2,4,6,8] (mean 5, var 6.666667): vb = 1.666667, se = 1.290994,
    // t = −2/1.290994 = −1.549193, df = 1.666667² / (1.666667²/3) = 3, p = 0.219102
    let r = welch_t_test(&running(&[3.0, 3.0, 3.0]), &running(&[2.0, 4.0, 6.0, 8.0])).unwrap();
    close(r.t, -1.549193, "t");
    close(r.degrees_of_freedom, 3.0, "df");
    close(r.p_value, 0.219102, "p");
    assert!(!significant(r.p_value, 0.05));
}

#[test]
fn welch_undefined() {
    let one = running(&[1.0]);
    let some = running(&[1.0, 2.0, 3.0]);
    assert_eq!(welch_t_test(&one, &some), None);
    assert_eq!(welch_t_test(&some, &Running::default()), None);
    assert_eq!(welch_t_test(&running(&[2.0, 2.0]), &running(&[5.0, 5.0, 5.0])), None);
}

#[test]
fn running_small_counts() {
    assert_eq!(Running::default().mean(), None);
    assert_eq!(running(&[4.0]).mean(), Some(4.0));
    assert_eq!(running(&[4.0]).variance(), None);
    // [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, sum of squared deviations 32, sample variance 32/7 = 4.571429
    let r = running(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    close(r.mean().unwrap(), 5.0, "mean");
    close(r.variance().unwrap(), 32.0 / 7.0, "variance");
}

#[test]
fn merge_equals_pushing_everything() {
    let xs = [12.1, 14.3, 11.8, 13.5, 15.2, 12.9, 10.4, 11.9, 12.2, 10.8, 11.1];
    let all = running(&xs);
    for split in 0..=xs.len() {
        let merged = running(&xs[..split]).merge(&running(&xs[split..]));
        assert_eq!(merged.n, all.n);
        close(merged.mean, all.mean, "mean");
        close(merged.m2, all.m2, "m2");
    }
}

#[test]
fn running_round_trips_through_json() {
    let r = running(&[1.5, 2.5, 4.0]);
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Running>(&json).unwrap(), r);
}

#[test]
fn proportion_counts() {
    let mut p = Proportion::default();
    assert_eq!(p.rate(), None);
    p.record(true);
    p.record(false);
    p.record(true);
    p.record(true);
    assert_eq!(p, prop(3, 4));
    assert_eq!(p.rate(), Some(0.75));
}

#[test]
fn smoothed_rate_cases() {
    let prior = Prior { rate: 0.9, weight: 20.0 };
    // No outcomes yet: the declared rate.
    close(smoothed_rate(prior, 0, 0), 0.9, "no trials");
    // Worked example: α = 0.9·20 = 18, (18+30)/(20+50) = 48/70 = 0.685714
    close(smoothed_rate(prior, 30, 50), 48.0 / 70.0, "worked example");
    // Many outcomes: (18 + 600000)/(20 + 1000000) = 0.600011, close to the measured 0.6.
    assert!((smoothed_rate(prior, 600_000, 1_000_000) - 0.6).abs() < 1e-4);
    // Clamping: rate above 1 is 1, negative weight is 0, trials below successes saturate.
    close(smoothed_rate(Prior { rate: 1.5, weight: 10.0 }, 0, 0), 1.0, "rate clamped");
    close(smoothed_rate(Prior { rate: 0.5, weight: -3.0 }, 1, 4), 0.25, "weight clamped");
    close(smoothed_rate(Prior { rate: 0.5, weight: 0.0 }, 5, 2), 1.0, "trials saturate");
}

#[test]
fn significance_threshold() {
    assert!(significant(0.049, 0.05));
    assert!(!significant(0.05, 0.05));
    assert!(!significant(f64::NAN, 0.05));
}

proptest! {
    #[test]
    fn merge_is_order_independent(
        a in prop::collection::vec(-1e6f64..1e6, 0..40),
        b in prop::collection::vec(-1e6f64..1e6, 0..40),
    ) {
        let (ra, rb) = (running(&a), running(&b));
        let (ab, ba) = (ra.merge(&rb), rb.merge(&ra));
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let pushed = running(&all);
        prop_assert_eq!(ab.n, ba.n);
        prop_assert_eq!(ab.n, pushed.n);
        let tol = |x: f64| 1e-9 * (1.0 + x.abs());
        prop_assert!((ab.mean - ba.mean).abs() <= tol(pushed.mean));
        prop_assert!((ab.mean - pushed.mean).abs() <= tol(pushed.mean));
        prop_assert!((ab.m2 - ba.m2).abs() <= tol(pushed.m2));
        prop_assert!((ab.m2 - pushed.m2).abs() <= tol(pushed.m2));
    }

    #[test]
    fn smoothed_rate_stays_in_unit_interval(
        rate in -2.0f64..3.0,
        weight in -10.0f64..1e6,
        successes in 0u64..1_000_000,
        trials in 0u64..1_000_000,
    ) {
        let r = smoothed_rate(Prior { rate, weight }, successes, trials);
        prop_assert!((0.0..=1.0).contains(&r), "{r}");
    }
}
