//! Runs many seeds of the 2-order plain-update race; for profilers.
use stockrace::{Isolation, Scenario, Simulation, Strategies};
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let simulation = Simulation::new(
        Scenario::single("plain-update", 2, 1, 1, Isolation::ReadCommitted),
        &Strategies::builtin(),
    )
    .unwrap();
    let mut violations = 0;
    for seed in 0..n {
        violations += usize::from(!simulation.run_seed(seed).verdict.holds());
    }
    println!("{violations} of {n}");
}
