//! Exploration figures, in release: `cargo bench --bench exploration`.
//!
//! - `check`: runs needed to cover every schedule of 2, 3 and 4 identical
//!   plain-update and row-lock orders, with no reduction, sleep sets,
//!   symmetry, and both (4 orders only with reductions: unreduced it is
//!   millions), with the time each took.
//! - Runs to the first failure, uniform random against PCT (depths 2 and
//!   3), on the wide race (plain-update, 8 orders): the mean over 200
//!   starting seeds of the runs until a violation.

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
    let sleep = Reductions {
        sleep_sets: true,
        ..Reductions::NONE
    };
    let symmetry = Reductions {
        symmetry: true,
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
                ("all", Reductions::ALL),
            ] {
                if orders == 4 && reductions != Reductions::ALL && reductions != sleep {
                    line += &format!("  {name}: (skipped)");
                    continue;
                }
                let started = Instant::now();
                let report = simulation.check(CheckConfig {
                    reductions,
                    max_runs: Some(5_000_000),
                    stop_at_violation: false,
                });
                line += &format!(
                    "  {name}: {} runs, {} outcomes, {:.3} s",
                    report.runs,
                    report.outcomes.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            println!("{line}");
        }
    }
}

fn runs_to_failure(simulation: &Simulation, chooser: SeedChooser) -> f64 {
    let starts = 200u64;
    let mut total = 0u64;
    for start in 0..starts {
        let first = (start * 10_000..)
            .position(|seed| !simulation.run_seed_with(chooser, seed).verdict.holds())
            .expect("a failure");
        total += first as u64 + 1;
    }
    total as f64 / starts as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    check_sizes();
    let wide = simulation("plain-update", 8);
    let k = wide.pct_steps();
    for (name, chooser) in [
        ("random", SeedChooser::Random),
        ("pct depth 2", SeedChooser::Pct { depth: 2, k }),
        ("pct depth 3", SeedChooser::Pct { depth: 3, k }),
    ] {
        println!(
            "runs to first failure, plain-update x8, {name}: {:.2} (mean of 200)",
            runs_to_failure(&wide, chooser)
        );
    }
}
