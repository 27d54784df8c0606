//! The API a `#[test]` calls: describe the situation, run it over many seeds,
//! assert the invariants hold.
//!
//! ```ignore
//! Builder::new(Strategy::new("my-path", my_path)).orders(2).stock(1).run().assert_holds();
//! ```
//!
//! Before sweeping new seeds, [`Builder::run`] replays the regression files in
//! the seeds directory that belong to the same strategy and scenario. A failure
//! found by [`Report::assert_holds`] is kept there as a new regression file.

use crate::execution::Execution;
use crate::regression::{self, Regression};
use crate::simulation::Simulation;
use crate::scenario::Scenario;
use crate::strategies::{Strategies, Strategy};
use crate::sweep::{sweep, SweepReport};
use std::path::{Path, PathBuf};
use stockrace_model::Isolation;

/// Environment variable that sets how many seeds a builder sweeps.
pub const SEEDS_ENV: &str = "STOCKRACE_SEEDS";
/// Seeds swept when neither the builder nor the environment says.
pub const DEFAULT_SEEDS: u64 = 1000;

#[derive(Clone, Debug)]
pub struct Builder {
    registry: Strategies,
    strategy: String,
    scenario: Option<Scenario>,
    orders: usize,
    stock: i64,
    quantity: i64,
    isolation: Isolation,
    seeds: Option<u64>,
    first_seed: u64,
    seeds_dir: PathBuf,
}

impl Builder {
    /// Tests `strategy` (a built-in or your own). Defaults: 2 orders of 1
    /// unit against stock 1 at READ COMMITTED; seeds from `STOCKRACE_SEEDS`
    /// or 1000; regression files in `<crate>/seeds`.
    pub fn new(strategy: Strategy) -> Builder {
        let mut registry = Strategies::builtin();
        let name = strategy.name().to_string();
        registry.add(strategy);
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        Builder {
            registry,
            strategy: name,
            scenario: None,
            orders: 2,
            stock: 1,
            quantity: 1,
            isolation: Isolation::ReadCommitted,
            seeds: None,
            first_seed: 0,
            seeds_dir: crate_dir.join("seeds"),
        }
    }

    /// Tests a built-in strategy by name. Panics on an unknown name.
    pub fn builtin(name: &str) -> Builder {
        let strategy = Strategies::builtin()
            .get(name)
            .unwrap_or_else(|| panic!("no built-in strategy named {name:?}"))
            .clone();
        Builder::new(strategy)
    }

    pub fn orders(mut self, orders: usize) -> Builder {
        self.orders = orders;
        self
    }

    pub fn stock(mut self, stock: i64) -> Builder {
        self.stock = stock;
        self
    }

    pub fn quantity(mut self, quantity: i64) -> Builder {
        self.quantity = quantity;
        self
    }

    pub fn isolation(mut self, isolation: Isolation) -> Builder {
        self.isolation = isolation;
        self
    }

    /// A full scenario instead of orders/stock/quantity. Its orders may name
    /// any built-in strategy or the one given to [`Builder::new`].
    pub fn scenario(mut self, scenario: Scenario) -> Builder {
        self.scenario = Some(scenario);
        self
    }

    /// Seeds to sweep (overrides `STOCKRACE_SEEDS`).
    pub fn seeds(mut self, seeds: u64) -> Builder {
        self.seeds = Some(seeds);
        self
    }

    pub fn first_seed(mut self, seed: u64) -> Builder {
        self.first_seed = seed;
        self
    }

    /// Where regression files are read and kept.
    pub fn seeds_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.seeds_dir = dir.as_ref().to_path_buf();
        self
    }

    pub fn simulation(&self) -> Simulation {
        let scenario = self.scenario.clone().unwrap_or_else(|| {
            Scenario::single(
                &self.strategy,
                self.orders,
                self.stock,
                self.quantity,
                self.isolation,
            )
        });
        Simulation::new(scenario, &self.registry)
            .unwrap_or_else(|e| panic!("stockrace: bad scenario: {e}"))
    }

    fn seed_count(&self) -> u64 {
        self.seeds
            .unwrap_or_else(|| match std::env::var(SEEDS_ENV) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{SEEDS_ENV}={v:?} is not a number of seeds")),
                Err(_) => DEFAULT_SEEDS,
            })
    }

    /// Replays this scenario's regression files, then sweeps the seeds up to
    /// the first violation.
    pub fn run(&self) -> Report {
        let simulation = self.simulation();
        let kept =
            regression::load_dir(&self.seeds_dir).unwrap_or_else(|e| panic!("stockrace: {e}"));
        let regressions = kept
            .into_iter()
            .filter(|(_, r)| {
                r.strategy == simulation.scenario().strategy_label()
                    && &r.scenario == simulation.scenario()
            })
            .map(|(path, r)| {
                let execution = simulation.replay(&r.schedule, r.seed);
                (path, r, execution)
            })
            .collect();
        let seeds = self.first_seed..self.first_seed.saturating_add(self.seed_count());
        let sweep = sweep(&simulation, seeds, true);
        Report {
            simulation,
            regressions,
            sweep,
            seeds_dir: self.seeds_dir.clone(),
        }
    }
}

/// What [`Builder::run`] found.
#[derive(Debug)]
pub struct Report {
    pub simulation: Simulation,
    /// Kept regression files that belong to this scenario, with their replays.
    pub regressions: Vec<(PathBuf, Regression, Execution)>,
    pub sweep: SweepReport,
    seeds_dir: PathBuf,
}

impl Report {
    /// The first execution that broke an invariant: a kept regression first,
    /// then the sweep's.
    pub fn first_violation(&self) -> Option<&Execution> {
        self.regressions
            .iter()
            .map(|(_, _, e)| e)
            .find(|e| !e.verdict.holds())
            .or(self.sweep.first_failure.as_ref())
    }

    /// Panics unless every kept regression and every seed held. The panic
    /// message has the seed, the schedule, the trace and how to replay it;
    /// a failure found by the sweep is kept as a new regression file first.
    pub fn assert_holds(&self) {
        self.assert_no_panic();
        for (path, _, execution) in &self.regressions {
            if let Some(v) = execution.verdict.violation() {
                panic!(
                    "stockrace: kept regression {} still violates {} at step {}: {}\nreplay: stockrace replay {}\n\n{}",
                    path.display(),
                    v.invariant,
                    v.step,
                    v.detail,
                    path.display(),
                    execution.render()
                );
            }
        }
        let Some(execution) = &self.sweep.first_failure else {
            return;
        };
        let v = execution.verdict.violation().expect("a failure");
        let regression = Regression::from_execution(&self.simulation, execution);
        let kept = match regression.save(&self.seeds_dir) {
            Ok(saved) => format!("kept as {}", saved.path.display()),
            Err(e) => format!("could not keep it in {}: {e}", self.seeds_dir.display()),
        };
        let builtin = Strategies::builtin();
        let replay = if self
            .simulation
            .scenario()
            .orders
            .iter()
            .all(|o| builtin.get(&o.strategy).is_some())
        {
            format!(
                "stockrace replay {}",
                self.seeds_dir.join(regression.file_name()).display()
            )
        } else {
            "run this test again: it replays the kept file before sweeping".to_string()
        };
        panic!(
            "stockrace: {} violated {} at seed {} (step {}): {}\nschedule: {:?}\n{kept}\nreplay: {replay}\n\n{}",
            self.sweep.strategy,
            v.invariant,
            execution.seed.expect("sweeps are seeded"),
            v.step,
            v.detail,
            execution.schedule,
            execution.render()
        );
    }

    /// Panics unless some run broke an invariant; returns the first that did.
    /// For tests that document a hazard.
    pub fn assert_violates(&self) -> &Execution {
        self.assert_no_panic();
        self.first_violation().unwrap_or_else(|| {
            panic!(
                "stockrace: expected {} to violate an invariant, but {} seeds and {} kept regressions held",
                self.sweep.strategy,
                self.sweep.tally.runs,
                self.regressions.len()
            )
        })
    }

    fn assert_no_panic(&self) {
        if let Some((seed, order, message)) = &self.sweep.panic {
            panic!(
                "stockrace: strategy {} panicked in order T{} at seed {seed}: {message}",
                self.sweep.strategy,
                order + 1
            );
        }
    }
}
