//! `check`'s reductions lose nothing: for every strategy at every isolation
//! level, at 2 orders and at 3 (and with 2 items, and on 2 nodes, where the
//! unreduced search stays small), the search with sleep sets, with symmetry,
//! and with both reaches exactly the terminal outcomes of the unreduced
//! search, and finds a violation exactly when it does.

use std::collections::BTreeSet;
use stockrace_sim::scenario::Shape;
use stockrace_sim::{CheckConfig, CheckResult, Isolation, Reductions, Simulation, Strategies};

/// Unreduced searches larger than this are skipped (and counted); a debug
/// build (plain `cargo test`) runs about ten times slower.
const MAX_RUNS: u64 = if cfg!(debug_assertions) {
    6_000
} else {
    20_000
};

fn outcomes(
    simulation: &Simulation,
    reductions: Reductions,
) -> Option<(BTreeSet<String>, bool, u64)> {
    let report = simulation.check(CheckConfig {
        reductions,
        max_runs: Some(MAX_RUNS),
        stop_at_violation: false,
    });
    if report.cut_by_max_runs {
        return None;
    }
    Some((
        report.outcomes.keys().cloned().collect(),
        report.result == CheckResult::Violated,
        report.runs,
    ))
}

#[test]
fn every_reduction_reaches_the_outcomes_of_the_unreduced_search() {
    let sleep = Reductions {
        sleep_sets: true,
        ..Reductions::NONE
    };
    let symmetry = Reductions {
        symmetry: true,
        ..Reductions::NONE
    };
    let mut compared = 0;
    let mut skipped = Vec::new();
    for strategy in Strategies::BUILTIN {
        for isolation in Isolation::ALL {
            for (orders, items, nodes) in [(2, 1, 1), (3, 1, 1), (2, 2, 1), (2, 1, 2)] {
                let shape = Shape {
                    orders,
                    items,
                    nodes,
                    isolation,
                    ..Shape::new(strategy)
                };
                let simulation =
                    Simulation::new(shape.scenario(), &Strategies::builtin()).expect("valid");
                let case = format!(
                    "{strategy} at {isolation:?}, {orders} orders, {items} items, {nodes} nodes"
                );
                let Some((full, violated, runs)) = outcomes(&simulation, Reductions::NONE) else {
                    skipped.push(case);
                    continue;
                };
                for (name, reductions) in [
                    ("sleep sets", sleep),
                    ("symmetry", symmetry),
                    ("all", Reductions::ALL),
                ] {
                    let (reduced, reduced_violated, reduced_runs) =
                        outcomes(&simulation, reductions).expect("a reduced search is no larger");
                    assert_eq!(reduced, full, "{case}: {name} lost or invented outcomes");
                    assert_eq!(reduced_violated, violated, "{case}: {name}");
                    assert!(
                        reduced_runs <= runs,
                        "{case}: {name} ran {reduced_runs} runs, unreduced {runs}"
                    );
                }
                compared += 1;
            }
        }
    }
    eprintln!(
        "compared {compared} cases; skipped (unreduced search over {MAX_RUNS} runs): {skipped:?}"
    );
    assert!(
        compared >= 80,
        "only {compared} cases compared; skipped {skipped:?}"
    );
}

#[test]
fn the_reductions_pay() {
    let simulation = Simulation::new(
        Shape {
            orders: 3,
            ..Shape::new("plain-update")
        }
        .scenario(),
        &Strategies::builtin(),
    )
    .unwrap();
    let run = |reductions| {
        simulation
            .check(CheckConfig {
                reductions,
                max_runs: None,
                stop_at_violation: false,
            })
            .runs
    };
    let none = run(Reductions::NONE);
    let all = run(Reductions::ALL);
    assert!(all * 20 < none, "all reductions {all} runs, none {none}");
}

#[test]
fn a_clean_strategy_is_complete_and_a_racy_one_is_violated_with_its_schedule() {
    let check = |strategy: &str| {
        let simulation = Simulation::new(
            Shape {
                orders: 3,
                ..Shape::new(strategy)
            }
            .scenario(),
            &Strategies::builtin(),
        )
        .unwrap();
        (simulation.check(CheckConfig::default()), simulation)
    };
    let (report, _) = check("guarded-decrement");
    assert_eq!(report.result, CheckResult::Complete);
    assert!(report.violation.is_none());
    let (report, simulation) = check("plain-update");
    assert_eq!(report.result, CheckResult::Violated);
    let failure = report.violation.expect("a violation");
    // The counterexample replays to the same violation.
    let again = simulation.replay(&failure.schedule, None);
    assert_eq!(
        again.verdict.violation().map(|v| v.invariant),
        failure.verdict.violation().map(|v| v.invariant)
    );
}

#[test]
fn a_preemption_bound_makes_a_clean_result_bounded() {
    let simulation = Simulation::new(
        Shape {
            orders: 3,
            ..Shape::new("row-lock")
        }
        .scenario(),
        &Strategies::builtin(),
    )
    .unwrap();
    let bounded = simulation.check(CheckConfig {
        reductions: Reductions {
            preemption_bound: Some(0),
            ..Reductions::ALL
        },
        max_runs: None,
        stop_at_violation: true,
    });
    assert_eq!(bounded.result, CheckResult::Bounded);
    assert!(bounded.cut_by_preemption_bound);
    let cut = simulation.check(CheckConfig {
        max_runs: Some(3),
        ..CheckConfig::default()
    });
    assert_eq!(cut.result, CheckResult::Bounded);
    assert!(cut.cut_by_max_runs);
    assert_eq!(cut.runs, 3);
}
