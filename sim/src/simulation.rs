//! [`Simulation`]: a scenario ready to run, many times, under any chooser.

use crate::backend::Backend;
use crate::chooser::{Chooser, RandomChooser, ReplayChooser, SeedChooser};
use crate::execution::Execution;
use crate::runtime::Prepared;
use crate::scenario::{Order, Scenario, ScenarioError};
use crate::strategies::Strategies;
use std::ops::Range;
use stockrace_model::Store;

/// A validated scenario with its strategies resolved, ready to run many times.
#[derive(Clone, Debug)]
pub struct Simulation {
    prepared: Prepared,
}

impl Simulation {
    /// Validates `scenario` and resolves each order's strategy in `registry`.
    pub fn new(scenario: Scenario, registry: &Strategies) -> Result<Simulation, ScenarioError> {
        Ok(Simulation {
            prepared: Prepared::new(scenario, registry)?,
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.prepared.scenario
    }

    /// The orders as their strategies see them.
    pub fn orders(&self) -> &[Order] {
        &self.prepared.orders
    }

    /// One run with seeded random choices.
    pub fn run_seed(&self, seed: u64) -> Execution {
        self.run(&mut RandomChooser::new(seed), Some(seed))
    }

    /// Choice points in a pilot run (seed 0): the `k` PCT spreads its
    /// change points over, fixed for the scenario.
    pub fn pct_steps(&self) -> usize {
        self.run_seed(0).schedule.len()
    }

    /// One run with `kind`'s chooser for `seed`.
    pub fn run_seed_with(&self, kind: SeedChooser, seed: u64) -> Execution {
        self.run(&mut kind.for_seed(seed), Some(seed))
    }

    /// One run following a recorded schedule.
    pub fn replay(&self, schedule: &[u32], seed: Option<u64>) -> Execution {
        self.run(&mut ReplayChooser::new(schedule.to_vec()), seed)
    }

    /// One run on a fresh madsim runtime. `seed` is recorded in the execution
    /// and seeds madsim's own task-polling order, which must not (and, the
    /// tests check, does not) change anything the run records.
    pub fn run(&self, chooser: &mut dyn Chooser, seed: Option<u64>) -> Execution {
        self.run_on(chooser, seed, self.new_store())
    }

    /// One run on a fresh madsim runtime with the statements executed by
    /// `backend` (a real database, say) instead of the model store.
    pub fn run_on<B: Backend>(
        &self,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
        backend: B,
    ) -> Execution {
        self.prepared.run_on(chooser, seed, backend)
    }

    /// A fresh model store holding the scenario's rows.
    pub fn new_store(&self) -> Store {
        self.prepared.new_store()
    }

    /// Runs each seed of `seeds` with seeded random choices, handing each
    /// execution to `visit` until it returns false. One madsim runtime serves
    /// the whole range (creating one costs about as much as a short run);
    /// every run gives exactly what [`Simulation::run_seed`] gives.
    pub fn run_seeds(&self, seeds: Range<u64>, visit: impl FnMut(Execution) -> bool) {
        self.run_seeds_with(SeedChooser::Random, seeds, visit)
    }

    /// [`Simulation::run_seeds`] with `kind`'s chooser for each seed.
    pub fn run_seeds_with(
        &self,
        kind: SeedChooser,
        seeds: Range<u64>,
        visit: impl FnMut(Execution) -> bool,
    ) {
        self.prepared.run_seeds_with(kind, seeds, visit)
    }
}
