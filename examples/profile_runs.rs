//! Sweeps many seeds of a race (plain-update, or the strategy named third),
//! as `stockrace sweep` runs them (one madsim runtime per batch); for
//! profilers: `perf record -g target/release/examples/profile_runs ORDERS
//! RUNS [STRATEGY]`, or `valgrind --tool=callgrind` for instruction counts;
//! with `bare` first, the benchmark's baseline: a bare madsim runtime per
//! run spawning ORDERS empty tasks.
use stockrace::{Isolation, Scenario, Simulation, Strategies};
fn main() {
    let bare = std::env::args().nth(1).is_some_and(|a| a == "bare");
    let args: Vec<String> = std::env::args().skip(1 + usize::from(bare)).collect();
    let number = |i: usize, default: u64| {
        args.get(i)
            .map_or(default, |v| v.parse::<u64>().expect("a number"))
    };
    let orders = number(0, 8) as usize;
    let n = number(1, 200_000);
    let strategy = args.get(2).map_or("plain-update", String::as_str);
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
        Scenario::single(strategy, orders, 1, 1, Isolation::ReadCommitted),
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
