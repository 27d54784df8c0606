//! Sweeping a simulation from a test, and counting what its runs did.
#![allow(dead_code)] // each test file uses what it needs

use stockrace::trace::{Fault, TraceEvent};
use stockrace::{Execution, Simulation, Sweep, Tally};

/// Seeds `0..seeds` of `simulation`, every run counted (the sweep does not
/// stop at the first violation).
pub fn tally(simulation: &Simulation, seeds: u64) -> Tally {
    Sweep::new(simulation, 0..seeds)
        .stop_at_first_violation(false)
        .run()
        .tally
}

/// How many of `execution`'s faults `kind` accepts.
pub fn faults(execution: &Execution, kind: impl Fn(&Fault) -> bool) -> usize {
    execution
        .trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Fault { fault, .. } if kind(fault)))
        .count()
}
