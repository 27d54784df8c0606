//! [`Simulation`]: a scenario ready to run, many times, under any chooser,
//! and judged by the built-in invariants plus any [`CustomInvariant`] a
//! test adds.

use crate::backend::Backend;
use crate::chooser::{Chooser, RandomChooser, ReplayChooser, SeedChooser};
use crate::execution::Execution;
use crate::invariants::{intern, Invariant, Judgement, Verdict, Violation};
use crate::runtime::Prepared;
use crate::scenario::{Order, Scenario, ScenarioError};
use crate::strategies::Strategies;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use crate::backend::ModelStore;

type Check = dyn Fn(&Execution) -> Result<(), String> + Send + Sync;

/// An invariant of a test's own, judged on every finished run whose
/// built-in invariants held (a run is judged by the first invariant it
/// breaks). It sees the whole [`Execution`]: the trace, each order's
/// outcome, the final rows. A broken one is a violation like any other: it
/// is counted per invariant, fails `assert_holds`, is kept in a regression
/// file and is shrunk; its step is the run's last trace line.
#[derive(Clone)]
pub struct CustomInvariant {
    name: &'static str,
    check: Arc<Check>,
}

impl CustomInvariant {
    /// `check` returns `bool` or `Result<(), impl Display>` (see [`Judgement`]).
    pub fn new<J: Judgement>(
        name: &str,
        check: impl Fn(&Execution) -> J + Send + Sync + 'static,
    ) -> CustomInvariant {
        CustomInvariant {
            name: intern(name),
            check: Arc::new(move |execution| check(execution).judgement()),
        }
    }

    pub fn invariant(&self) -> Invariant {
        Invariant::Custom(self.name)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Judges a finished run: if its built-in invariants held and this one
    /// does not, its verdict becomes this violation.
    pub fn judge(&self, execution: &mut Execution) {
        if !execution.verdict.holds() {
            return;
        }
        if let Err(detail) = (self.check)(execution) {
            execution.verdict = Verdict::Violated(Violation {
                invariant: self.invariant(),
                step: execution.trace.len(),
                detail,
            });
        }
    }
}

impl fmt::Debug for CustomInvariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomInvariant({:?})", self.name)
    }
}

/// A validated scenario with its strategies resolved, ready to run many times.
#[derive(Clone, Debug)]
pub struct Simulation {
    prepared: Prepared,
    /// Judged after the built-in invariants, in this order.
    custom: Arc<[CustomInvariant]>,
}

impl Simulation {
    /// Validates `scenario` and resolves each order's strategy in `registry`.
    pub fn new(scenario: Scenario, registry: &Strategies) -> Result<Simulation, ScenarioError> {
        Ok(Simulation {
            prepared: Prepared::new(scenario, registry)?,
            custom: Arc::new([]),
        })
    }

    /// The same simulation, also judged by `invariants` (after the built-in
    /// ones, in order) on every run: sweeps, replays, shrinking.
    pub fn with_invariants(
        mut self,
        invariants: impl IntoIterator<Item = CustomInvariant>,
    ) -> Simulation {
        let mut all = self.custom.to_vec();
        all.extend(invariants);
        self.custom = all.into();
        self
    }

    /// The custom invariants this simulation is judged by.
    pub fn custom_invariants(&self) -> &[CustomInvariant] {
        &self.custom
    }

    /// Whether runs are judged by `invariant` (every built-in one is).
    pub fn judges(&self, invariant: Invariant) -> bool {
        !invariant.is_custom() || self.custom.iter().any(|c| c.invariant() == invariant)
    }

    fn judge(&self, mut execution: Execution) -> Execution {
        for invariant in self.custom.iter() {
            invariant.judge(&mut execution);
        }
        execution
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
        self.judge(self.prepared.run_on(chooser, seed, backend))
    }

    /// A fresh model store of the scenario's database holding its rows.
    pub fn new_store(&self) -> ModelStore {
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
        mut visit: impl FnMut(Execution) -> bool,
    ) {
        self.prepared
            .run_seeds_with(kind, seeds, |execution| visit(self.judge(execution)))
    }
}
