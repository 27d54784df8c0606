//! A run is a pure function of (scenario, schedule): the same seed gives a
//! byte-identical trace in one process and in two, and madsim's own task
//! polling order (its runtime seed) changes nothing the run records.

use std::process::Command;
use stockrace::{Isolation, RandomChooser, Scenario, Simulation, Strategies};

fn simulation(strategy: &str, orders: usize) -> Simulation {
    Simulation::new(
        Scenario::single(strategy, orders, 3, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap()
}

#[test]
fn the_same_seed_twice_in_one_process_gives_identical_traces() {
    for strategy in Strategies::BUILTIN {
        let simulation = simulation(strategy, 5);
        for seed in 0..30 {
            let first = simulation.run_seed(seed);
            let second = simulation.run_seed(seed);
            assert_eq!(first.render(), second.render(), "{strategy} seed {seed}");
            assert_eq!(first.schedule, second.schedule);
        }
    }
}

#[test]
fn replaying_a_schedule_reproduces_the_run_whatever_madsim_seed() {
    for strategy in Strategies::BUILTIN {
        let simulation = simulation(strategy, 5);
        for seed in 0..30 {
            let original = simulation.run_seed(seed);
            for runtime_seed in [seed + 1, 12345, u64::MAX] {
                let replayed = simulation.replay(&original.schedule, Some(runtime_seed));
                assert_eq!(
                    replayed.trace, original.trace,
                    "{strategy} seed {seed}, runtime seed {runtime_seed}"
                );
                assert_eq!(replayed.final_rows, original.final_rows);
                assert_eq!(replayed.verdict, original.verdict);
                assert!(replayed.divergence.is_none(), "{:?}", replayed.divergence);
            }
            // And the random chooser, driven under another madsim seed, makes the same choices.
            let other = simulation.run(&mut RandomChooser::new(seed), Some(seed ^ 0xdead_beef));
            assert_eq!(other.trace, original.trace, "{strategy} seed {seed}");
        }
    }
}

/// The same for multi-item orders on two app nodes, where deadlocks, retries,
/// in-process locks and orders finishing together all happen.
#[test]
fn multi_item_multi_node_runs_do_not_depend_on_madsim_polling_order() {
    for strategy in Strategies::BUILTIN {
        let scenario = stockrace::scenario::Shape {
            orders: 6,
            items: 2,
            stock: 3,
            nodes: 2,
            ..stockrace::scenario::Shape::new(strategy)
        }
        .scenario();
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        for seed in 0..40 {
            let original = simulation.run_seed(seed);
            let other = simulation.run(
                &mut RandomChooser::new(seed),
                Some(seed.wrapping_mul(7919) + 1),
            );
            assert_eq!(other.render(), original.render(), "{strategy} seed {seed}");
            let replayed = simulation.replay(&original.schedule, Some(99));
            assert_eq!(
                replayed.render(),
                original.render(),
                "{strategy} seed {seed}"
            );
        }
    }
}

#[test]
fn the_same_seed_in_two_processes_prints_identical_output() {
    let binary = env!("CARGO_BIN_EXE_stockrace");
    for args in [
        vec![
            "replay",
            "--strategy",
            "plain-update",
            "--orders",
            "4",
            "--stock",
            "2",
            "--seed",
            "7",
        ],
        vec![
            "replay",
            "--strategy",
            "optimistic",
            "--orders",
            "6",
            "--stock",
            "3",
            "--seed",
            "11",
            "--json",
        ],
        vec![
            "sweep",
            "--strategy",
            "plain-update",
            "--seeds",
            "200",
            "--json",
        ],
        // Latencies, think time and a generated mix of code paths.
        vec![
            "replay",
            "--scenario",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/checkout-mix.toml"),
            "--seed",
            "5",
            "--json",
        ],
        vec![
            "sweep",
            "--scenario",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/checkout-mix.toml"),
            "--seeds",
            "300",
            "--jobs",
            "2",
            "--json",
        ],
    ] {
        let run = || {
            Command::new(binary)
                .args(&args)
                .output()
                .expect("run stockrace")
        };
        let (first, second) = (run(), run());
        assert!(!first.stdout.is_empty());
        assert_eq!(first.stdout, second.stdout, "stockrace {}", args.join(" "));
        assert_eq!(first.status.code(), second.status.code());
    }
}

#[test]
fn a_replay_that_no_longer_fits_says_so() {
    let simulation = simulation("plain-update", 2);
    let short = simulation.replay(&[1], None);
    assert!(
        short
            .divergence
            .as_deref()
            .unwrap()
            .contains("ran out after 1 choices"),
        "{:?}",
        short.divergence
    );
    let wrong = simulation.replay(&[7, 0, 0, 0, 0, 0, 0, 0, 0], None);
    assert!(
        wrong
            .divergence
            .as_deref()
            .unwrap()
            .contains("choice 0 of the schedule is 7"),
        "{:?}",
        wrong.divergence
    );
    assert!(short.render().contains("schedule divergence:"));
}

/// Sweeps share one madsim runtime across seeds; each run must still be
/// exactly what a fresh runtime gives, including runs cut short by a budget.
#[test]
fn runs_sharing_a_runtime_equal_runs_on_fresh_runtimes() {
    for strategy in Strategies::BUILTIN {
        let mut scenario = Scenario::single(strategy, 6, 2, 1, Isolation::ReadCommitted);
        // A tight step budget cuts some runs short with orders still parked.
        scenario.budget.max_steps = Some(12);
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        let mut shared = Vec::new();
        simulation.run_seeds(100..160, |e| {
            shared.push(e);
            true
        });
        assert_eq!(shared.len(), 60);
        assert!(
            shared.iter().any(|e| !e.verdict.holds()),
            "{strategy}: some runs hit the budget"
        );
        for execution in shared {
            let fresh = simulation.run_seed(execution.seed.unwrap());
            assert_eq!(
                execution.trace, fresh.trace,
                "{strategy} seed {:?}",
                execution.seed
            );
            assert_eq!(execution.verdict, fresh.verdict);
            assert_eq!(execution.outcomes, fresh.outcomes);
        }
    }
}

#[test]
fn runs_with_latencies_are_as_deterministic() {
    for strategy in Strategies::BUILTIN {
        let mut scenario = Scenario::single(strategy, 4, 2, 1, Isolation::ReadCommitted);
        scenario.latency = stockrace::Latency {
            statement_ms: 2,
            think_ms: 1,
        };
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        for seed in 0..20 {
            let first = simulation.run_seed(seed);
            assert_eq!(
                first.render(),
                simulation.run_seed(seed).render(),
                "{strategy} seed {seed}"
            );
            let replayed = simulation.replay(&first.schedule, Some(seed ^ 0x5eed));
            assert_eq!(replayed.trace, first.trace, "{strategy} seed {seed}");
            assert!(replayed.divergence.is_none());
        }
    }
}
