//! Sweeps many seeds of the plain-update race, as `stockrace sweep` runs
//! them (one madsim runtime per batch); for profilers:
//! `perf record -g target/release/examples/profile_runs ORDERS RUNS`, or
//! with `bare` first, the benchmark's baseline: a bare madsim runtime per run
//! spawning ORDERS empty tasks.
use stockrace::{Isolation, Scenario, Simulation, Strategies};
fn main() {
    let bare = std::env::args().nth(1).is_some_and(|a| a == "bare");
    let mut args = std::env::args()
        .skip(1 + usize::from(bare))
        .map(|v| v.parse::<u64>().expect("a number"));
    let orders = args.next().unwrap_or(8) as usize;
    let n = args.next().unwrap_or(200_000);
    if bare {
        for seed in 0..n {
            let runtime =
                madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
            runtime.block_on(async move {
                let handles: Vec<_> = (0..orders)
                    .map(|i| madsim::task::spawn(async move { i }))
                    .collect();
                for h in handles {
                    std::hint::black_box(h.await.unwrap());
                }
            });
        }
        return;
    }
    let simulation = Simulation::new(
        Scenario::single("plain-update", orders, 1, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap();
    let mut violations = 0;
    simulation.run_seeds(0..n, |execution| {
        violations += usize::from(!execution.verdict.holds());
        true
    });
    println!("{violations} of {n}");
}
