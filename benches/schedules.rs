//! Schedules per second, in release: `cargo bench --bench schedules`.
//!
//! Figures are noisy on shared machines, so each is also given as a ratio to a
//! baseline measured in the same run: a bare madsim runtime per run that
//! spawns the same number of empty tasks (the floor any run on madsim pays),
//! for the MariaDB model, the same scenario on the PostgreSQL model; and for
//! parallel sweeps, the same sweep on one job.

use std::hint::black_box;
use std::time::{Duration, Instant};
use stockrace::{Database, Isolation, Scenario, Simulation, Strategies, Sweep};

/// Runs `f(seed)` for seeds 0.. (in blocks of 256) until `budget` has passed,
/// three times; the best rate.
fn rate(budget: Duration, mut f: impl FnMut(u64)) -> f64 {
    let mut best = 0.0f64;
    let mut seed = 0u64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut runs = 0u64;
        while start.elapsed() < budget {
            for _ in 0..256 {
                f(seed);
                seed += 1;
            }
            runs += 256;
        }
        best = best.max(runs as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn bare_runtime(tasks: usize, seed: u64) {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|i| madsim::task::spawn(async move { i }))
            .collect();
        for h in handles {
            black_box(h.await.unwrap());
        }
    });
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("STOCKRACE_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    );
    let registry = Strategies::builtin();
    println!(
        "{:<44} {:>14} {:>22}",
        "scenario", "schedules/s", "vs bare runtime"
    );
    for (strategy, orders) in [
        ("plain-update", 2),
        ("plain-update", 8),
        ("row-lock", 8),
        ("optimistic", 8),
    ] {
        let scenario = Scenario::single(strategy, orders, 1, 1, Isolation::ReadCommitted);
        let simulation = Simulation::new(scenario, &registry).expect("valid");
        let baseline = rate(budget, |seed| bare_runtime(orders, seed));
        // A sweep: one madsim runtime for a batch of seeds, as `stockrace sweep` runs them.
        let measured = rate(budget, |seed| {
            if seed % 256 == 0 {
                simulation.run_seeds(seed..seed + 256, |e| {
                    black_box(e);
                    true
                });
            }
        });
        println!(
            "{:<44} {:>14.0} {:>13.2}x of {:>7.0}",
            format!("{strategy}, {orders} orders, stock 1, qty 1"),
            measured,
            measured / baseline,
            baseline
        );
    }

    // The InnoDB model against the PostgreSQL model, the same scenarios
    // swept the same way, measured alternately so both see the same machine.
    let sweep_rate = |simulation: &Simulation| {
        rate(budget, |seed| {
            if seed % 256 == 0 {
                simulation.run_seeds(seed..seed + 256, |e| {
                    black_box(e);
                    true
                });
            }
        })
    };
    println!(
        "{:<44} {:>14} {:>22}",
        "mariadb-10.11 model", "schedules/s", "vs postgres-15 model"
    );
    for (strategy, orders, isolation) in [
        ("plain-update", 2, Isolation::ReadCommitted),
        ("plain-update", 8, Isolation::ReadCommitted),
        ("row-lock", 8, Isolation::ReadCommitted),
        ("optimistic", 8, Isolation::RepeatableRead),
        ("serializable-retry", 4, Isolation::Serializable),
    ] {
        let on = |database: Database| {
            let mut scenario = Scenario::single(strategy, orders, 1, 1, isolation);
            scenario.database = database;
            Simulation::new(scenario, &registry).expect("valid")
        };
        let (postgres, mariadb) = (on(Database::Postgres15), on(Database::MariaDb1011));
        let baseline = sweep_rate(&postgres);
        let measured = sweep_rate(&mariadb);
        println!(
            "{:<44} {:>14.0} {:>13.2}x of {:>7.0}",
            format!("{strategy}, {orders} orders, {}", isolation.name()),
            measured,
            measured / baseline,
            baseline
        );
    }

    // Parallel sweeps: the 2-order scenario, one job against every core.
    let seeds: u64 = std::env::var("STOCKRACE_BENCH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000);
    let scenario = Scenario::single("plain-update", 2, 1, 1, Isolation::ReadCommitted);
    let simulation = Simulation::new(scenario, &registry).expect("valid");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs_rate = |jobs: usize| {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let report = Sweep::new(&simulation, 0..seeds).jobs(jobs).run();
                assert_eq!(black_box(report).tally.runs, seeds);
                seeds as f64 / start.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let one = jobs_rate(1);
    println!(
        "{:<44} {:>14.0} {:>22}",
        format!("sweep {seeds} seeds, plain-update 2 orders, 1 job"),
        one,
        "1.00x of 1 job"
    );
    for jobs in (2..=cores.max(2)).filter(|j| *j == 2 || *j == cores) {
        let many = jobs_rate(jobs);
        println!(
            "{:<44} {:>14.0} {:>13.2}x of {:>7.0}",
            format!("sweep {seeds} seeds, plain-update 2 orders, {jobs} jobs"),
            many,
            many / one,
            one
        );
    }
}
