//! Seed sweeps of the built-in strategies: the race is found, and the fixes hold.

use stockrace::{sweep, Builder, Invariant, Isolation, Scenario, Simulation, Strategies};

fn simulation(strategy: &str, orders: usize, stock: i64, quantity: i64) -> Simulation {
    Simulation::new(
        Scenario::single(strategy, orders, stock, quantity, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .expect("valid scenario")
}

/// Seeds per combination for the safe-strategy matrix. `STOCKRACE_SEEDS`
/// raises it for deep sweeps (`STOCKRACE_SEEDS=10000 cargo test --release`).
fn matrix_seeds() -> u64 {
    std::env::var("STOCKRACE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

#[test]
fn plain_update_oversells_within_the_first_20_seeds() {
    let report = sweep(&simulation("plain-update", 2, 1, 1), 0..20, false);
    let failure = report.first_failure.expect("an oversell within 20 seeds");
    let violation = failure.verdict.violation().unwrap();
    assert_eq!(violation.invariant, Invariant::NoOversell);
    assert!(failure.seed.unwrap() < 20);
    // Two sales of the one unit, and the trace shows the second writer waiting.
    assert_eq!(
        failure
            .outcomes
            .iter()
            .filter(|o| **o == stockrace::Outcome::Sold)
            .count(),
        2
    );
}

#[test]
fn plain_update_with_plenty_of_stock_loses_an_update_without_overselling() {
    let report = sweep(&simulation("plain-update", 2, 10, 3), 0..20, false);
    assert!(
        report.tally.violations > 0,
        "the lost update is found within 20 seeds"
    );
    assert_eq!(
        report
            .tally
            .by_invariant
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![Invariant::Conservation]
    );
    let failure = report.first_failure.unwrap();
    assert_eq!(failure.final_rows[0].stocked, 7, "both orders wrote 10 - 3");
}

#[test]
fn safe_strategies_hold_for_every_combination() {
    let seeds = matrix_seeds();
    for strategy in ["optimistic", "row-lock", "guarded-decrement"] {
        for orders in [2, 4, 8] {
            for stock in [1, 3, 5] {
                for quantity in [1, 2, 3] {
                    let report = sweep(
                        &simulation(strategy, orders, stock, quantity),
                        0..seeds,
                        true,
                    );
                    assert!(report.panic.is_none());
                    if let Some(failure) = &report.first_failure {
                        panic!(
                            "{strategy} orders={orders} stock={stock} qty={quantity} seed {:?}:\n{}",
                            failure.seed,
                            failure.render()
                        );
                    }
                }
            }
        }
    }
}

/// Safe strategies sell exactly what there is: with 8 orders of 1 against
/// stock 3, every run sells 3 and rejects 5.
#[test]
fn safe_strategies_sell_all_the_stock_and_no_more() {
    for strategy in ["row-lock", "guarded-decrement", "optimistic"] {
        let simulation = simulation(strategy, 8, 3, 1);
        for seed in 0..50 {
            let execution = simulation.run_seed(seed);
            let sold = execution
                .outcomes
                .iter()
                .filter(|o| **o == stockrace::Outcome::Sold)
                .count();
            assert!(execution.verdict.holds(), "{strategy} seed {seed}");
            if strategy == "optimistic" {
                // Bounded retries may give up while stock remains.
                assert!(sold <= 3, "{strategy} seed {seed}: sold {sold}");
            } else {
                assert_eq!(sold, 3, "{strategy} seed {seed}");
            }
            assert_eq!(execution.final_rows[0].stocked, 3 - sold as i64);
        }
    }
}

/// Different seeds explore different interleavings (the chooser is not stuck).
#[test]
fn seeds_explore_different_schedules() {
    let simulation = simulation("plain-update", 2, 1, 1);
    let schedules: std::collections::BTreeSet<Vec<u32>> = (0..50)
        .map(|seed| simulation.run_seed(seed).schedule)
        .collect();
    assert!(
        schedules.len() > 10,
        "only {} distinct schedules in 50 seeds",
        schedules.len()
    );
}

#[test]
fn builder_assert_violates_documents_the_hazard() {
    let dir = tempfile::tempdir().unwrap();
    let report = Builder::builtin("plain-update")
        .seeds(20)
        .seeds_dir(dir.path())
        .run();
    let execution = report.assert_violates();
    assert_eq!(
        execution.verdict.violation().unwrap().invariant,
        Invariant::NoOversell
    );
    // assert_violates keeps nothing: only a failing assert_holds writes a file.
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn builder_assert_holds_passes_for_a_safe_strategy() {
    let dir = tempfile::tempdir().unwrap();
    Builder::builtin("guarded-decrement")
        .orders(4)
        .stock(2)
        .seeds(200)
        .seeds_dir(dir.path())
        .run()
        .assert_holds();
}
