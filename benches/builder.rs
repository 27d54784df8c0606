//! The Builder's sweep rate against the command line's on the same
//! scenario, measured in the same run: `cargo bench --bench builder`.
//!
//! Each side sweeps the same seeds on one job: the Builder from a test's
//! point of view (`Builder::run`, with an empty seeds directory to read),
//! the command line as a user runs it (`stockrace sweep --json`, a process
//! of its own, so its start-up counts), and, for reference, the library's
//! `Sweep` that both are built on. Safe strategies, so that every seed runs.
//! `STOCKRACE_BENCH_SEEDS` changes the count (default 100,000); each figure
//! is the best of three rounds, the three sides taking turns in each round
//! (so a busy machine slows them alike).

use std::process::Command;
use std::time::Instant;
use stockrace::{Builder, Isolation, Scenario, Simulation, Strategies, Sweep};

/// Seeds per second of each side, the best of three rounds in turn.
fn best<const N: usize>(sides: [&dyn Fn() -> f64; N]) -> [f64; N] {
    let mut best = [0.0f64; N];
    for _ in 0..3 {
        for (side, rate) in sides.iter().zip(&mut best) {
            *rate = rate.max(side());
        }
    }
    best
}

fn main() {
    let seeds: u64 = std::env::var("STOCKRACE_BENCH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!(
        "{:<36} {:>14} {:>14} {:>14} {:>16}",
        "scenario (1 job)", "Builder/s", "CLI/s", "Sweep/s", "Builder vs CLI"
    );
    for (strategy, orders) in [("guarded-decrement", 2), ("row-lock", 8)] {
        let builder = Builder::builtin(strategy)
            .orders(orders)
            .seeds(seeds)
            .jobs(1)
            .seeds_dir(dir.path());
        let simulation = Simulation::new(
            Scenario::single(strategy, orders, 1, 1, Isolation::ReadCommitted),
            &Strategies::builtin(),
        )
        .expect("valid");
        let builder_side = || {
            let start = Instant::now();
            let report = builder.run();
            assert_eq!(report.sweep.tally.runs, seeds);
            seeds as f64 / start.elapsed().as_secs_f64()
        };
        let cli_side = || {
            let start = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_stockrace"))
                .args(["sweep", "--strategy", strategy, "--orders"])
                .arg(orders.to_string())
                .args(["--seeds", &seeds.to_string(), "--jobs", "1", "--json"])
                .output()
                .expect("run stockrace");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            seeds as f64 / start.elapsed().as_secs_f64()
        };
        let sweep_side = || {
            let start = Instant::now();
            let report = Sweep::new(&simulation, 0..seeds).jobs(1).run();
            assert_eq!(report.tally.runs, seeds);
            seeds as f64 / start.elapsed().as_secs_f64()
        };
        let [sweep_rate, cli_rate, builder_rate] = best([&sweep_side, &cli_side, &builder_side]);
        println!(
            "{:<36} {:>14.0} {:>14.0} {:>14.0} {:>15.2}x",
            format!("{strategy}, {orders} orders, stock 1"),
            builder_rate,
            cli_rate,
            sweep_rate,
            builder_rate / cli_rate
        );
    }
}
