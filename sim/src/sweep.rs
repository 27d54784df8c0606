//! Many seeds of one simulation, summarised.

use crate::execution::Execution;
use crate::invariants::Invariant;
use crate::runtime::Simulation;
use std::collections::BTreeMap;
use std::ops::Range;
use stockrace_model::SqlState;

#[derive(Clone, Debug)]
pub struct SweepReport {
    pub strategy: String,
    /// The seeds run: `seeds.start..seeds.start + runs`.
    pub seeds: Range<u64>,
    pub runs: u64,
    pub violations: u64,
    pub by_invariant: BTreeMap<Invariant, u64>,
    /// The lowest failing seed's execution.
    pub first_failure: Option<Execution>,
    /// A strategy panicked: (seed, order index, message). The sweep stops there.
    pub panic: Option<(u64, usize, String)>,
    /// Statements that failed with 40001 (serialization failure), over all runs.
    pub serialization_failures: u64,
    /// Statements that failed with 40P01 (deadlock detected), over all runs.
    pub deadlocks: u64,
    /// Transactions begun again by orders, over all runs.
    pub retries: u64,
}

/// Runs every seed in `seeds` (or up to the first violation when
/// `stop_at_first_violation`), stopping at once if a strategy panics.
pub fn sweep(
    simulation: &Simulation,
    seeds: Range<u64>,
    stop_at_first_violation: bool,
) -> SweepReport {
    let mut report = SweepReport {
        strategy: simulation.scenario().strategy_label().to_string(),
        seeds: seeds.clone(),
        runs: 0,
        violations: 0,
        by_invariant: BTreeMap::new(),
        first_failure: None,
        panic: None,
        serialization_failures: 0,
        deadlocks: 0,
        retries: 0,
    };
    simulation.run_seeds(seeds, |execution| {
        report.runs += 1;
        report.serialization_failures += execution.errors_with(SqlState::SerializationFailure) as u64;
        report.deadlocks += execution.errors_with(SqlState::DeadlockDetected) as u64;
        report.retries += execution.retries().iter().map(|&r| u64::from(r)).sum::<u64>();
        if let Some((order, message)) = execution.panic() {
            let seed = execution.seed.expect("seeded");
            report.panic = Some((seed, order, message.to_string()));
            return false;
        }
        if let Some(violation) = execution.verdict.violation() {
            report.violations += 1;
            *report.by_invariant.entry(violation.invariant).or_default() += 1;
            if report.first_failure.is_none() {
                report.first_failure = Some(execution);
                return !stop_at_first_violation;
            }
        }
        true
    });
    report
}
