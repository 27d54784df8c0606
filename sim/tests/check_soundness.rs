//! `check`'s reductions lose nothing: for every strategy at every isolation
//! level on each database, at 2 orders and at 3 (and with 2 items, on 2 nodes, and with
//! statement latency, think time and an arrival window, where the unreduced
//! search stays small), the search with sleep sets, with symmetry, with the
//! visited-state cache, with sleep sets and symmetry, and with all three
//! reaches exactly the terminal outcomes of the unreduced search, and finds
//! a violation exactly when it does.

use std::collections::BTreeSet;
use stockrace_sim::scenario::Shape;
use stockrace_sim::{
    CheckConfig, CheckReport, CheckResult, Database, Isolation, Latency, Reductions, Simulation,
    Strategies,
};

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
    let cache = Reductions {
        cache: true,
        ..Reductions::NONE
    };
    let no_cache = Reductions {
        cache: false,
        ..Reductions::ALL
    };
    let mut compared = 0;
    let mut skipped = Vec::new();
    let registry = Strategies::builtin();
    for (database, strategy) in Database::ALL
        .into_iter()
        .flat_map(|d| Strategies::BUILTIN.map(|s| (d, s)))
        .filter(|(d, s)| registry.refusal(s, *d).is_none())
    {
        for isolation in Isolation::ALL {
            for (orders, items, nodes, latency) in [
                (2, 1, 1, false),
                (3, 1, 1, false),
                (2, 2, 1, false),
                (2, 1, 2, false),
                (2, 1, 1, true),
            ] {
                let shape = Shape {
                    orders,
                    items,
                    nodes,
                    isolation,
                    ..Shape::new(strategy)
                };
                let mut scenario = shape.scenario();
                scenario.database = database;
                if latency {
                    // Sleeps, virtual time in the key, and (4 latencies by
                    // default) a choice of arrival times.
                    scenario.latency = Latency {
                        statement_ms: 1,
                        think_ms: 1,
                    };
                }
                let simulation = Simulation::new(scenario, &Strategies::builtin()).expect("valid");
                let case =
                    format!(
                    "{strategy} on {database} at {isolation:?}, {orders} orders, {items} items, {nodes} nodes{}",
                    if latency { ", latency and think time 1 ms" } else { "" }
                );
                let Some((full, violated, runs)) = outcomes(&simulation, Reductions::NONE) else {
                    skipped.push(case);
                    continue;
                };
                for (name, reductions) in [
                    ("sleep sets", sleep),
                    ("symmetry", symmetry),
                    ("cache", cache),
                    ("sleep sets and symmetry", no_cache),
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
    let simulation = shape_simulation("plain-update", 3);
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
        let simulation = shape_simulation(strategy, 3);
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
    let simulation = shape_simulation("row-lock", 3);
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

/// `orders` identical orders of `strategy` in the command line's default shape.
fn shape_simulation(strategy: &str, orders: usize) -> Simulation {
    Simulation::new(
        Shape {
            orders,
            ..Shape::new(strategy)
        }
        .scenario(),
        &Strategies::builtin(),
    )
    .expect("valid")
}

fn check_all(simulation: &Simulation, reductions: Reductions) -> CheckReport {
    simulation.check(CheckConfig {
        reductions,
        max_runs: None,
        stop_at_violation: false,
    })
}

fn outcome_set(report: &CheckReport) -> BTreeSet<String> {
    report.outcomes.keys().cloned().collect()
}

#[test]
fn the_cache_prunes_states_reached_again() {
    // Row-lock orders queue on one row: many schedules meet the same state
    // (the same orders done, the same one holding the lock, the same ones
    // waiting for it), whichever way they came.
    let simulation = shape_simulation("row-lock", 3);
    let without = check_all(
        &simulation,
        Reductions {
            cache: false,
            ..Reductions::ALL
        },
    );
    let with = check_all(&simulation, Reductions::ALL);
    assert_eq!(outcome_set(&with), outcome_set(&without));
    assert_eq!((without.cache_hits, without.states_cached), (0, 0));
    assert!(with.cache_hits > 0 && with.states_cached > 0);
    assert!(
        with.runs * 3 < without.runs * 2,
        "with the cache {} runs, without {}",
        with.runs,
        without.runs
    );
    // Alone, it cuts the unreduced search by more than ten times, and every
    // run it cuts short is one of its hits.
    let none = check_all(&simulation, Reductions::NONE);
    let cache = check_all(
        &simulation,
        Reductions {
            cache: true,
            ..Reductions::NONE
        },
    );
    assert_eq!(outcome_set(&cache), outcome_set(&none));
    assert_eq!(cache.pruned, cache.cache_hits);
    assert!(
        cache.runs * 10 < none.runs,
        "the cache alone {} runs, nothing {}",
        cache.runs,
        none.runs
    );
}

#[test]
fn under_a_preemption_bound_the_cache_changes_no_outcome() {
    // A revisit is pruned only with the same preemptions used and the same
    // last actor (see sim/src/explore/cache.rs): what the bounded search
    // reaches is not every outcome, but the cache must not change it.
    let mut compared = 0;
    let mut skipped = Vec::new();
    for strategy in Strategies::BUILTIN {
        for isolation in Isolation::ALL {
            for orders in [2, 3] {
                let simulation = Simulation::new(
                    Shape {
                        orders,
                        isolation,
                        ..Shape::new(strategy)
                    }
                    .scenario(),
                    &Strategies::builtin(),
                )
                .unwrap();
                for bound in [1, 2] {
                    for base in [Reductions::NONE, Reductions::ALL] {
                        let bounded = |cache| Reductions {
                            cache,
                            preemption_bound: Some(bound),
                            ..base
                        };
                        let case = format!(
                            "{strategy} at {isolation:?}, {orders} orders, bound {bound}, {}",
                            if base == Reductions::NONE {
                                "cache alone"
                            } else {
                                "all"
                            }
                        );
                        // The lease strategies poll with sleeps, and without
                        // a latency time may pass at any point: a bounded
                        // search of 3 of them is millions of runs.
                        let without = check_capped(&simulation, bounded(false));
                        if without.cut_by_max_runs {
                            skipped.push(case);
                            continue;
                        }
                        let with = check_capped(&simulation, bounded(true));
                        assert!(!with.cut_by_max_runs, "{case}");
                        assert_eq!(outcome_set(&with), outcome_set(&without), "{case}");
                        assert_eq!(with.result, without.result, "{case}");
                        assert!(with.runs <= without.runs, "{case}");
                        compared += 1;
                    }
                }
            }
        }
    }
    eprintln!("compared {compared} cases; skipped (over {BOUNDED_MAX_RUNS} runs): {skipped:?}");
    assert!(compared >= 200, "{compared}; skipped {skipped:?}");
}

/// Bounded searches larger than this are skipped (and listed).
const BOUNDED_MAX_RUNS: u64 = MAX_RUNS;

fn check_capped(simulation: &Simulation, reductions: Reductions) -> CheckReport {
    simulation.check(CheckConfig {
        reductions,
        max_runs: Some(BOUNDED_MAX_RUNS),
        stop_at_violation: false,
    })
}

/// The model store, as a backend that cannot tell its state (as a real
/// database cannot).
struct Opaque(stockrace_sim::ModelStore);

impl stockrace_sim::Backend for Opaque {
    fn execute(
        &mut self,
        session: stockrace_sim::model::SessionId,
        statement: stockrace_sim::Statement,
        out: &mut Vec<stockrace_sim::model::Event>,
    ) {
        self.0.execute(session, statement, out)
    }
    fn deadlock_check(
        &mut self,
        session: stockrace_sim::model::SessionId,
        out: &mut Vec<stockrace_sim::model::Event>,
    ) {
        self.0.deadlock_check(session, out);
    }
    fn wait_deadlines(
        &self,
        session: stockrace_sim::model::SessionId,
        began_ms: u64,
        settings: stockrace_sim::WaitSettings,
    ) -> stockrace_sim::WaitDeadlines {
        self.0.wait_deadlines(session, began_ms, settings)
    }
    fn wait_timed_out(
        &mut self,
        session: stockrace_sim::model::SessionId,
        out: &mut Vec<stockrace_sim::model::Event>,
    ) {
        self.0.wait_timed_out(session, out)
    }
    fn in_transaction(&self, session: stockrace_sim::model::SessionId) -> bool {
        self.0.in_transaction(session)
    }
    fn open_transactions(&self) -> usize {
        self.0.open_transactions()
    }
    fn waits_for(
        &self,
        session: stockrace_sim::model::SessionId,
    ) -> Option<stockrace_sim::model::SessionId> {
        self.0.waits_for(session)
    }
    fn row(&self, level: stockrace_sim::LevelId) -> stockrace_sim::model::RowView {
        self.0.row(level)
    }
    fn committed_rows(&self) -> Vec<stockrace_sim::Row> {
        self.0.committed_rows()
    }
    fn committed_reservations(&self, level: stockrace_sim::LevelId) -> i64 {
        self.0.committed_reservations(level)
    }
}

#[test]
fn on_a_backend_without_a_state_the_cache_prunes_nothing() {
    use stockrace_sim::explore::dfs::Dfs;
    use stockrace_sim::explore::independence::AbortRules;
    let simulation = shape_simulation("row-lock", 3);
    let search = |opaque: bool| {
        let mut dfs = Dfs::new(
            Reductions::ALL,
            simulation.symmetry_classes(),
            AbortRules::of(simulation.scenario()),
        );
        let mut runs = 0u64;
        while let Some(mut run) = dfs.next_run() {
            if opaque {
                simulation.run_on(&mut run, None, Opaque(simulation.new_store()));
            } else {
                simulation.run(&mut run, None);
            }
            run.finish();
            runs += 1;
        }
        (runs, dfs.visited.hits, dfs.visited.states())
    };
    let no_cache = check_all(
        &simulation,
        Reductions {
            cache: false,
            ..Reductions::ALL
        },
    );
    assert_eq!(search(true), (no_cache.runs, 0, 0));
    // The same search on the model store does prune.
    let (runs, hits, _) = search(false);
    assert_eq!(runs, check_all(&simulation, Reductions::ALL).runs);
    assert!(hits > 0 && runs < no_cache.runs);
}
