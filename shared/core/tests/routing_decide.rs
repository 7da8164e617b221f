//! The router's choice of line: score components, failover, capacity, concentration caps and experiments.

use std::collections::BTreeMap;

use jiff::civil::date;
use lastmile_core::routing::decide::{Candidate, LineState, LineStats, Situation, decide};
use lastmile_core::routing::policy::{Arm, Concentration, Experiment, Lane, LanePolicy, LinePolicy, Policy};
use lastmile_core::routing::stats::{Prior, Proportion};

fn candidate(line: &str, cost: i64, days: u32) -> Candidate {
    Candidate {
        warehouse: "us-nj".into(),
        line: line.into(),
        carrier: format!("{line} carrier"),
        cost_minor: Some(cost),
        transit_days: Some(days),
        country: "US".into(),
        region: Some("AK".into()),
    }
}

struct World {
    stats: BTreeMap<String, LineStats>,
    lines: BTreeMap<String, LineState>,
    lanes: BTreeMap<String, BTreeMap<String, u64>>,
}

impl World {
    fn new() -> World {
        World { stats: BTreeMap::new(), lines: BTreeMap::new(), lanes: BTreeMap::new() }
    }
    fn situation(&self) -> Situation<'_> {
        Situation {
            order_id: "1001",
            date: date(2026, 12, 4),
            stats: &self.stats,
            lines: &self.lines,
            lanes: &self.lanes,
        }
    }
}

#[test]
fn cheaper_and_faster_wins_and_the_answer_says_so() {
    let world = World::new();
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let choice = decide(&Policy::default(), &world.situation(), &candidates);
    let winner = choice.winner().expect("a winner");
    assert_eq!(winner.line, "regional");
    // cost component: cheapest 2150 ÷ 4634 = 0.46396 for the national line, 1 for the regional one.
    assert!((choice.candidates[0].components.cost - 2150.0 / 4634.0).abs() < 1e-9);
    assert_eq!(choice.candidates[1].components.cost, 1.0);
    // transit against the default 7-day promise: national ½·7/9 + ½·5/9 = 0.66667; regional ½·1 + ½·1 = 1.
    assert!((choice.candidates[0].components.transit - (0.5 * 7.0 / 9.0 + 0.5 * 5.0 / 9.0)).abs() < 1e-9);
    assert!(choice.why.contains("cheaper and faster"), "{}", choice.why);
}

#[test]
fn a_disabled_line_fails_over_to_the_next_best() {
    let mut world = World::new();
    world.lines.insert("regional".into(), LineState { disabled: Some("carrier outage".into()), used_today: 0 });
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let choice = decide(&Policy::default(), &world.situation(), &candidates);
    assert_eq!(choice.winner().expect("a winner").line, "national");
    assert!(
        choice.why.starts_with("regional scores higher but is disabled: carrier outage; failover to national"),
        "{}",
        choice.why
    );
}

#[test]
fn a_full_line_fails_over_and_all_full_holds_the_order() {
    let mut policy = Policy::default();
    policy.lines.insert("regional".into(), LinePolicy { daily_capacity: Some(100), ..LinePolicy::default() });
    policy.lines.insert("national".into(), LinePolicy { daily_capacity: Some(5), ..LinePolicy::default() });
    let mut world = World::new();
    world.lines.insert("regional".into(), LineState { disabled: None, used_today: 100 });
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let choice = decide(&policy, &world.situation(), &candidates);
    assert_eq!(choice.winner().expect("a winner").line, "national");
    assert_eq!(choice.candidates[1].reason.as_deref(), Some("full: 100 of 100 orders today"));
    world.lines.insert("national".into(), LineState { disabled: None, used_today: 5 });
    let held = decide(&policy, &world.situation(), &candidates);
    assert!(held.winner.is_none());
    assert!(held.held_for_capacity, "every line full: hold for tomorrow");
}

#[test]
fn excluded_lines_never_win_on_their_lane() {
    let mut policy = Policy::default();
    policy.lanes.push(LanePolicy {
        lane: Lane { from: None, to: "US".into(), regions: vec!["AK".into(), "HI".into()] },
        excluded_lines: vec!["regional".into()],
        concentration: None,
    });
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let choice = decide(&policy, &World::new().situation(), &candidates);
    assert_eq!(choice.winner().expect("a winner").line, "national");
    assert!(!choice.held_for_capacity);
}

#[test]
fn measured_outcomes_outweigh_the_declared_prior() {
    // Two lines at the same price and speed; "b" has failed 40 of 100 deliveries.
    let candidates = [candidate("a", 2000, 5), candidate("b", 2000, 5)];
    let mut world = World::new();
    world
        .stats
        .insert("b".into(), LineStats { success: Proportion { successes: 60, trials: 100 }, ..LineStats::default() });
    let choice = decide(&Policy::default(), &world.situation(), &candidates);
    assert_eq!(choice.winner().expect("a winner").line, "a");
    // success prior 0.97 worth 20 observations: (19.4 + 60) / (20 + 100) = 0.661667.
    assert!((choice.candidates[1].components.success - 79.4 / 120.0).abs() < 1e-9);
    // A new line with no outcomes is scored on its prior alone.
    let mut policy = Policy::default();
    policy.lines.insert("a".into(), LinePolicy { success: Prior { rate: 0.5, weight: 10.0 }, ..LinePolicy::default() });
    let fresh = decide(&policy, &World::new().situation(), &candidates);
    assert!((fresh.candidates[0].components.success - 0.5).abs() < 1e-9);
}

#[test]
fn the_concentration_cap_moves_orders_off_a_dominant_line_and_gives_way_when_alone() {
    let policy =
        Policy { concentration: Some(Concentration { max_share_percent: 60, min_orders: 10 }), ..Policy::default() };
    let mut world = World::new();
    // regional has 7 of the lane's 10 orders: taking an 11th would make 8/11 = 72.7 % > 60 %.
    world.lanes.insert("us-nj>US-AK".into(), BTreeMap::from([("regional".into(), 7), ("national".into(), 3)]));
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let choice = decide(&policy, &world.situation(), &candidates);
    assert_eq!(choice.winner().expect("a winner").line, "national");
    assert!(choice.candidates[1].reason.as_deref().unwrap_or("").starts_with("capped: 7 of the lane's 10"));
    // With regional at 6 of 10, 7/11 = 63.6 % is still over; at 5 of 10, 6/11 = 54.5 % is under.
    world.lanes.insert("us-nj>US-AK".into(), BTreeMap::from([("regional".into(), 5), ("national".into(), 5)]));
    assert_eq!(decide(&policy, &world.situation(), &candidates).winner().expect("a winner").line, "regional");
    // The only line on the lane ships anyway.
    world.lanes.insert("us-nj>US-AK".into(), BTreeMap::from([("regional".into(), 10)]));
    let alone = decide(&policy, &world.situation(), &candidates[1..]);
    assert_eq!(alone.winner().expect("a winner").line, "regional");
}

#[test]
fn an_experiment_assigns_its_arm_and_falls_back_when_the_arm_cannot_ship() {
    let mut policy = Policy::default();
    policy.experiments.push(Experiment {
        id: "ak".into(),
        lane: Lane { from: Some("us-nj".into()), to: "US".into(), regions: vec!["AK".into()] },
        arms: vec![Arm { line: "regional".into(), percent: 50 }, Arm { line: "national".into(), percent: 50 }],
        from: Some(date(2026, 12, 1)),
        until: None,
    });
    let candidates = [candidate("national", 4634, 9), candidate("regional", 2150, 5)];
    let mut arms = BTreeMap::<String, u32>::new();
    for i in 0..200 {
        let id = format!("order-{i}");
        let world = World::new();
        let situation = Situation { order_id: &id, ..world.situation() };
        let choice = decide(&policy, &situation, &candidates);
        let assignment = choice.experiment.clone().expect("in the experiment");
        assert_eq!(choice.winner().expect("a winner").line, assignment.line);
        *arms.entry(assignment.line).or_default() += 1;
    }
    assert!(arms["national"] > 60 && arms["regional"] > 60, "{arms:?}");
    // Before it starts, the score decides.
    let world = World::new();
    let before = Situation { date: date(2026, 11, 30), ..world.situation() };
    assert!(decide(&policy, &before, &candidates).experiment.is_none());
    // An arm whose line is disabled does not take its orders.
    let mut world = World::new();
    world.lines.insert("national".into(), LineState { disabled: Some("strike".into()), used_today: 0 });
    for i in 0..50 {
        let id = format!("order-{i}");
        let situation = Situation { order_id: &id, ..world.situation() };
        assert_eq!(decide(&policy, &situation, &candidates).winner().expect("a winner").line, "regional");
    }
}

#[test]
fn policy_check_names_what_is_wrong() {
    let mut policy = Policy::default();
    assert!(policy.check().is_ok());
    policy.experiments.push(Experiment {
        id: "x".into(),
        lane: Lane { from: None, to: "US".into(), regions: vec![] },
        arms: vec![Arm { line: "a".into(), percent: 60 }, Arm { line: "b".into(), percent: 30 }],
        from: None,
        until: None,
    });
    assert_eq!(policy.check().unwrap_err(), "experiment \"x\": arm percentages must add up to 100");
}
