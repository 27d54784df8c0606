//! Exploration figures, in release: `cargo bench --bench exploration`.
//!
//! - `check`: runs needed to cover every schedule of 2, 3 and 4 identical
//!   plain-update and row-lock orders, with no reduction, sleep sets,
//!   symmetry, the visited-state cache, and all of them, with the time each
//!   took (a search that reaches the 5,000,000-run cap says so).
//! - Runs to the first failure, uniform random against PCT (depths 2 and
//!   3): the mean over 200 starting seeds of the runs until a violation, on
//!   the wide race (plain-update, 8 orders) and on the deep one
//!   (scenarios/stalled-check.toml: one order's stale check must outlast a
//!   whole checkout of another, and its write every other order's).

use std::time::Instant;
use stockrace::scenario::Shape;
use stockrace::{CheckConfig, Reductions, SeedChooser, Simulation, Strategies};

fn simulation(strategy: &str, orders: usize) -> Simulation {
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

fn check_sizes() {
    // Columns: no reduction, sleep sets, symmetry, the visited-state cache,
    // and all three; each with its runs, the runs cut short (asleep or, with
    // the cache, at a state explored before), distinct outcomes and time.
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
    for strategy in ["plain-update", "row-lock"] {
        for orders in [2, 3, 4] {
            let simulation = simulation(strategy, orders);
            let mut line = format!("check {strategy} x{orders}:");
            for (name, reductions) in [
                ("none", Reductions::NONE),
                ("sleep sets", sleep),
                ("symmetry", symmetry),
                ("cache", cache),
                ("all", Reductions::ALL),
            ] {
                let started = Instant::now();
                let report = simulation.check(CheckConfig {
                    reductions,
                    max_runs: Some(5_000_000),
                    stop_at_violation: false,
                });
                let pruned = match (report.pruned, report.cache_hits) {
                    (0, _) => String::new(),
                    (p, 0) => format!(" ({p} cut short)"),
                    (p, hits) => format!(" ({p} cut short, {hits} by the cache)"),
                };
                let cut = if report.cut_by_max_runs {
                    " (search cut there: more needed)"
                } else {
                    ""
                };
                line += &format!(
                    "\n  {name}: {} runs{cut}{pruned}, {} outcomes, {:.3} s",
                    report.runs,
                    report.outcomes.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            println!("{line}");
        }
    }
}

/// The mean, over `starts` starting seeds (0, 10,000, 20,000, ...), of the
/// runs until the first violation.
fn runs_to_failure(simulation: &Simulation, chooser: SeedChooser, starts: u64) -> f64 {
    let mut total = 0u64;
    for start in 0..starts {
        let first = (start * 10_000..)
            .position(|seed| !simulation.run_seed_with(chooser, seed).verdict.holds())
            .expect("a failure");
        total += first as u64 + 1;
    }
    total as f64 / starts as f64
}

/// One row per chooser: uniform random, PCT at depths 2 and 3 (k from the
/// scenario's pilot run, as `sweep --chooser pct` does).
fn runs_to_failure_rows(label: &str, simulation: &Simulation, starts: u64) {
    let k = simulation.pct_steps();
    for (name, chooser) in [
        ("random", SeedChooser::Random),
        ("pct depth 2", SeedChooser::Pct { depth: 2, k }),
        ("pct depth 3", SeedChooser::Pct { depth: 3, k }),
    ] {
        let started = Instant::now();
        let runs = runs_to_failure(simulation, chooser, starts);
        println!(
            "runs to first failure, {label}, {name}: {runs:.2} (mean of {starts}; {:.2} s)",
            started.elapsed().as_secs_f64()
        );
    }
}

/// The deep race: scenarios/stalled-check.toml.
fn stalled_check() -> Simulation {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/stalled-check.toml");
    let builtin = Strategies::builtin();
    let scenario = stockrace::Scenario::load(path.as_ref(), |name| builtin.get(name).is_some())
        .expect("a valid scenario file");
    Simulation::new(scenario, &builtin).expect("valid")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    check_sizes();
    runs_to_failure_rows("plain-update x8", &simulation("plain-update", 8), 200);
    runs_to_failure_rows("stalled-check (deep)", &stalled_check(), 200);
}
