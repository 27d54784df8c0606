//! The API a `#[test]` calls: describe the situation, run it over many
//! seeds, assert the invariants hold.
//!
//! ```ignore
//! Builder::new(Strategy::new("my-path", my_path)).orders(2).stock(1).run().assert_holds();
//! ```
//!
//! Every scenario setting the command line has is a method here (see
//! [`Builder`]); a scenario file or a [`Scenario`] value can replace the
//! shape. Before sweeping, [`Builder::run`] replays the regression files in
//! the crate's `seeds/` that belong to the same strategy and scenario, and
//! fails on any that no longer shows what it expects. A failure found by
//! [`Report::assert_holds`] is kept there as a new regression file.
//!
//! Environment variables: `STOCKRACE_SEEDS=N` sweeps N seeds;
//! `STOCKRACE_SEED=N` runs just seed N, and `STOCKRACE_REPLAY=FILE` just
//! that kept file, each printing its timeline.

mod env;
mod kept;
mod replay;
mod report;

pub use kept::NotApplying;
pub use replay::replay;
pub use report::Report;

use crate::invariants::Judgement;
pub use crate::regression::REPLAY_ENV;
use crate::scenario::{LockOrder, Overrides, Scenario, Setting, Shape, MAX_ORDERS};
use crate::simulation::{CustomInvariant, Simulation};
use crate::strategies::{Strategies, Strategy};
use crate::sweep::{CompareCell, Comparison, Sweep, COMPARE_LATENCY};
use crate::{chooser::SeedChooser, execution::Execution, file_error::FileError};
use std::path::{Path, PathBuf};
use stockrace_model::{Database, Isolation};

/// Environment variable that sets how many seeds a builder sweeps.
pub const SEEDS_ENV: &str = "STOCKRACE_SEEDS";
/// Environment variable that makes a builder run just that seed.
pub const SEED_ENV: &str = "STOCKRACE_SEED";
/// Seeds swept when neither the builder nor the environment says.
pub const DEFAULT_SEEDS: u64 = 1000;

/// A seeds directory fixed when the test crate is compiled: its
/// `CARGO_MANIFEST_DIR/seeds`, wherever the test binary later runs.
///
/// ```ignore
/// Builder::new(strategy).seeds_dir(stockrace::seeds_dir!())
/// ```
#[macro_export]
macro_rules! seeds_dir {
    () => {
        ::std::path::Path::new(::core::concat!(
            ::core::env!("CARGO_MANIFEST_DIR"),
            "/seeds"
        ))
    };
}

/// A scenario given whole, and the file it came from.
#[derive(Clone, Debug)]
struct Given {
    scenario: Scenario,
    file: Option<PathBuf>,
}

/// A test's description of a concurrent situation, and how to sweep it.
///
/// Defaults: 2 orders of 1 unit of one item stocked 1, at READ COMMITTED,
/// on one app node, no latency; seeds from `STOCKRACE_SEEDS` or 1000, on one
/// job (cargo already runs tests in parallel); stop at the first violation;
/// regression files in the test crate's `seeds/`.
///
/// Methods that describe the shape (`stock`, `quantity`, `items`, `nodes`,
/// `lock_order`) cannot be combined with a whole scenario
/// ([`Builder::scenario`], [`Builder::scenario_file`]), as on the command
/// line; the rest apply to either.
#[derive(Clone, Debug)]
pub struct Builder {
    registry: Strategies,
    strategy: Strategy,
    /// The strategies of this test's own (not built in), by name.
    own: Vec<String>,
    shape: Shape,
    /// The shape methods called, for the message when a scenario is given too.
    shape_set: Vec<&'static str>,
    given: Option<Given>,
    replace_strategies: bool,
    overrides: Overrides,
    invariants: Vec<CustomInvariant>,
    seeds: Option<u64>,
    first_seed: u64,
    jobs: usize,
    pct_depth: Option<u32>,
    stop_at_first_violation: bool,
    seeds_dir: Option<PathBuf>,
    /// The source file of the `Builder::new` call: where the test crate is
    /// when the binary runs without cargo.
    caller_file: &'static str,
}

impl Builder {
    /// Tests `strategy` (a built-in or your own, named by its
    /// [`Strategy::new`] name).
    #[track_caller]
    pub fn new(strategy: Strategy) -> Builder {
        let mut registry = Strategies::builtin();
        let name = strategy.name().to_string();
        registry.add(strategy.clone());
        Builder {
            registry,
            own: vec![name.clone()],
            shape: Shape::new(&name),
            strategy,
            shape_set: Vec::new(),
            given: None,
            replace_strategies: false,
            overrides: Overrides::default(),
            invariants: Vec::new(),
            seeds: None,
            first_seed: 0,
            jobs: 1,
            pct_depth: None,
            stop_at_first_violation: true,
            seeds_dir: None,
            caller_file: std::panic::Location::caller().file(),
        }
    }

    /// Tests a built-in strategy by name. Panics on an unknown name.
    #[track_caller]
    pub fn builtin(name: &str) -> Builder {
        match Strategies::builtin().get(name) {
            Some(strategy) => Builder::new(strategy.clone()),
            None => panic!(
                "stockrace: no built-in strategy named {name:?}; built in: {}",
                Strategies::BUILTIN.join(", ")
            ),
        }
    }

    /// Another strategy a scenario's orders may name (a mixed scenario).
    pub fn with_strategy(mut self, strategy: Strategy) -> Builder {
        if !self.own.iter().any(|n| n == strategy.name()) {
            self.own.push(strategy.name().to_string());
        }
        self.registry.add(strategy);
        self
    }

    /// Concurrent orders (default 2); with a scenario, this many orders
    /// taken in turn from its orders (`--orders`).
    pub fn orders(mut self, orders: usize) -> Builder {
        self.overrides.orders = Some(orders);
        self
    }

    /// Initial stock of each item (`--stock`, default 1).
    pub fn stock(mut self, stock: i64) -> Builder {
        self.shape.stock = stock;
        self.shape_used("stock");
        self
    }

    /// Units of each item every order buys (`--qty`, default 1).
    pub fn quantity(mut self, quantity: i64) -> Builder {
        self.shape.quantity = quantity;
        self.shape_used("quantity");
        self
    }

    /// Items every order buys (`--items`, default 1); with two or more,
    /// every second order lists them in reverse.
    pub fn items(mut self, items: usize) -> Builder {
        self.shape.items = items;
        self.shape_used("items");
        self
    }

    /// App processes the orders are spread over, round-robin (`--nodes`,
    /// default 1): in-process locks only serialise orders on one node.
    pub fn nodes(mut self, nodes: u32) -> Builder {
        self.shape.nodes = nodes;
        self.shape_used("nodes");
        self
    }

    /// The order multi-item orders lock rows in (`--lock-order`, default listed).
    pub fn lock_order(mut self, lock_order: LockOrder) -> Builder {
        self.shape.lock_order = lock_order;
        self.shape_used("lock_order");
        self
    }

    /// Every order's isolation level (`--isolation`, default READ COMMITTED
    /// or as the scenario says).
    pub fn isolation(self, isolation: Isolation) -> Builder {
        self.isolations([isolation])
    }

    /// Isolation per order: order i (from 0) runs at `levels[i % n]`, so
    /// `[ReadCommitted, Serializable]` alternates them.
    #[track_caller]
    pub fn isolations(mut self, levels: impl IntoIterator<Item = Isolation>) -> Builder {
        self.overrides.isolation = levels.into_iter().collect();
        if self.overrides.isolation.is_empty() {
            panic!("stockrace: .isolations() needs at least one isolation level");
        }
        self
    }

    /// Virtual round trip of every statement, ms (`--latency-ms`).
    pub fn latency_ms(mut self, ms: u64) -> Builder {
        self.overrides.statement_ms = Some(ms);
        self
    }

    /// Virtual application time before each statement of an order but its
    /// first, ms (`--think-ms`).
    pub fn think_ms(mut self, ms: u64) -> Builder {
        self.overrides.think_ms = Some(ms);
        self
    }

    /// Orders arrive each at an offset within this many virtual ms
    /// (`--arrival-window-ms`; default 4 statement latencies).
    pub fn arrival_window_ms(mut self, ms: u64) -> Builder {
        self.overrides.arrival_window_ms = Some(ms);
        self
    }

    /// Scheduling steps a run may take before it is a termination
    /// violation (`--max-steps`; default scaled with the scenario).
    pub fn max_steps(mut self, steps: u32) -> Builder {
        self.overrides.max_steps = Some(steps);
        self
    }

    /// Virtual ms a run may take before it is a termination violation
    /// (`--max-virtual-ms`; default scaled with the scenario).
    pub fn max_virtual_ms(mut self, ms: u64) -> Builder {
        self.overrides.max_virtual_ms = Some(ms);
        self
    }

    /// PostgreSQL's deadlock_timeout, virtual ms (`--deadlock-timeout-ms`,
    /// default 1000).
    pub fn deadlock_timeout_ms(mut self, ms: u64) -> Builder {
        self.overrides.deadlock_timeout_ms = Some(ms);
        self
    }

    /// Whose rules the statements follow (`--database`, default
    /// [`Database::Postgres15`]): the same strategies on the InnoDB model
    /// with [`Database::MariaDb1011`].
    pub fn database(mut self, database: Database) -> Builder {
        self.overrides.database = Some(database);
        self
    }

    /// MariaDB's `innodb_snapshot_isolation` (`--innodb-snapshot-isolation`,
    /// off as in 10.11): with [`Builder::database`] MariaDB only.
    pub fn innodb_snapshot_isolation(mut self, on: bool) -> Builder {
        self.overrides.innodb_snapshot_isolation = Some(on);
        self
    }

    /// App node crashes the scheduler may inject in each run (`--crashes`,
    /// default 0): each is a schedule choice, so it replays and shrinks.
    pub fn crashes(mut self, n: u32) -> Builder {
        self.overrides.crashes = Some(n);
        self
    }

    /// Lost replies the scheduler may inject in each run
    /// (`--lost-replies`, default 0): the statement runs, the order sees 08006.
    pub fn lost_replies(mut self, n: u32) -> Builder {
        self.overrides.lost_replies = Some(n);
        self
    }

    /// App node pauses the scheduler may inject in each run (`--pauses`,
    /// default 0), each [`Builder::pause_ms`] long.
    pub fn pauses(mut self, n: u32) -> Builder {
        self.overrides.pauses = Some(n);
        self
    }

    /// How long a pause lasts, virtual ms (`--pause-ms`, default 250).
    pub fn pause_ms(mut self, ms: u64) -> Builder {
        self.overrides.pause_ms = Some(ms);
        self
    }

    /// Whether a crashed app node restarts at once and runs the recovery
    /// of each order it was running (`--restart`, default off; see
    /// [`Strategy::with_recovery`]).
    pub fn restart(mut self, on: bool) -> Builder {
        self.overrides.restart = Some(on);
        self
    }

    /// The TTL of a lease from the lease-lock service, virtual ms
    /// (`--lease-ttl-ms`, default 100).
    pub fn lease_ttl_ms(mut self, ms: u64) -> Builder {
        self.overrides.lease_ttl_ms = Some(ms);
        self
    }

    /// A whole scenario instead of the shape methods: every level and
    /// order as written (lock timeouts, backorders, reservations, per-order
    /// isolation and nodes). Its orders run the strategies they name: a
    /// built-in, this builder's, or one added with
    /// [`Builder::with_strategy`]; [`Builder::replace_strategies`] makes
    /// every order run this builder's.
    pub fn scenario(mut self, scenario: Scenario) -> Builder {
        self.given = Some(Given {
            scenario,
            file: None,
        });
        self
    }

    /// [`Builder::scenario`] from a scenario file (`--scenario`); a
    /// relative path is the test crate's. Panics, naming the file and line,
    /// if it cannot be read.
    #[track_caller]
    pub fn scenario_file(mut self, path: impl AsRef<Path>) -> Builder {
        let path = env::in_crate(path.as_ref(), self.caller_file);
        match Scenario::load(&path, |_| true) {
            Ok(scenario) => {
                self.given = Some(Given {
                    scenario,
                    file: Some(path),
                })
            }
            Err(e) => panic!("stockrace: {e}"),
        }
        self
    }

    /// Every order of the scenario runs this builder's strategy, as
    /// `--strategy` does with `--scenario`.
    pub fn replace_strategies(mut self) -> Builder {
        self.replace_strategies = true;
        self
    }

    /// An invariant of the test's own, judged on every run whose built-in
    /// invariants held: `check` returns `bool` or `Result<(), impl
    /// Display>` (the reason). A broken one counts, fails, is kept and is
    /// replayed like a built-in one; its step is the run's last trace line.
    ///
    /// ```ignore
    /// .invariant("no deadlocks", |run| run.errors_with(SqlState::DeadlockDetected) == 0)
    /// ```
    #[track_caller]
    pub fn invariant<J: Judgement>(
        mut self,
        name: &str,
        check: impl Fn(&Execution) -> J + Send + Sync + 'static,
    ) -> Builder {
        if name.trim().is_empty() || name.contains('\n') {
            panic!("stockrace: an invariant needs a name on one line, got {name:?}");
        }
        if crate::invariants::Invariant::from_name(name).is_some() {
            panic!("stockrace: {name:?} is a built-in invariant, judged on every run already; give yours another name");
        }
        if self.invariants.iter().any(|i| i.name() == name) {
            panic!("stockrace: two invariants named {name:?}");
        }
        self.invariants.push(CustomInvariant::new(name, check));
        self
    }

    /// Seeds to sweep (overrides `STOCKRACE_SEEDS`); 0 replays the kept
    /// files only.
    pub fn seeds(mut self, seeds: u64) -> Builder {
        self.seeds = Some(seeds);
        self
    }

    pub fn first_seed(mut self, seed: u64) -> Builder {
        self.first_seed = seed;
        self
    }

    /// Threads to run seeds on (default 1; at least 1). The report does not
    /// depend on it.
    pub fn jobs(mut self, jobs: usize) -> Builder {
        self.jobs = jobs.max(1);
        self
    }

    /// PCT instead of uniform random choices (`--chooser pct --depth d`):
    /// for races that need one order to stall while others run.
    pub fn pct(mut self, depth: u32) -> Builder {
        self.pct_depth = Some(depth.max(1));
        self
    }

    /// Whether the sweep stops at the first violating seed (the default:
    /// a test needs one failure, and gets it soonest) or runs every seed
    /// (`false`: the report's tally then counts every violation, as
    /// `stockrace sweep` does). A strategy that panics stops it either way.
    pub fn stop_at_first_violation(mut self, stop: bool) -> Builder {
        self.stop_at_first_violation = stop;
        self
    }

    /// Where regression files are read and kept (default: `seeds/` in the
    /// test crate: `CARGO_MANIFEST_DIR` as cargo sets it when it runs the
    /// test, else found from the test's source file; see
    /// [`seeds_dir!`](crate::seeds_dir) to fix it at compile time).
    pub fn seeds_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.seeds_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The scenario this builder describes, validated, with its strategies
    /// and invariants: what [`Builder::run`] sweeps. Panics on a bad
    /// setting, naming the method.
    #[track_caller]
    pub fn simulation(&self) -> Simulation {
        let overrides = Overrides {
            strategy: self
                .replace_strategies
                .then(|| self.strategy.name().to_string()),
            ..self.overrides.clone()
        };
        self.simulation_with(&overrides, &self.registry)
    }

    #[track_caller]
    fn simulation_with(&self, overrides: &Overrides, registry: &Strategies) -> Simulation {
        if let Some(orders) = overrides.orders.filter(|n| *n > MAX_ORDERS) {
            panic!("stockrace: .orders({orders}): at most {MAX_ORDERS} are supported");
        }
        let base = match &self.given {
            Some(given) => {
                if let Some(method) = self.shape_set.first() {
                    panic!(
                        "stockrace: .{method}() describes the builder's own shape; a scenario sets its own levels and orders (as the command line refuses --{} with --scenario): change the scenario instead",
                        if *method == "quantity" { "qty" } else { method }
                    );
                }
                given.scenario.clone()
            }
            None => Shape {
                strategy: overrides
                    .strategy
                    .clone()
                    .unwrap_or_else(|| self.strategy.name().to_string()),
                orders: overrides.orders.unwrap_or(2),
                ..self.shape.clone()
            }
            .scenario(),
        };
        let scenario = overrides.apply(&base);
        match Simulation::new(scenario, registry) {
            Ok(simulation) => simulation.with_invariants(self.invariants.iter().cloned()),
            Err(e) => {
                let from_file = self.given.is_some();
                let field = e.field.as_str();
                let method = match Overrides::setting_of(field) {
                    Some(setting) => Setting::method(setting),
                    None if field == "orders" && overrides.orders.is_some() => ".orders()",
                    None if from_file => "the scenario",
                    None if field == "levels" => ".items()",
                    None if field.starts_with("levels[") => ".stock()",
                    None if field.ends_with(".quantity") => ".quantity()",
                    None if field == "nodes" => ".nodes()",
                    None => "the scenario",
                };
                match self.given.as_ref().and_then(|g| g.file.as_ref()) {
                    Some(path) => {
                        let error = FileError::new(path, None, e.to_string());
                        panic!("stockrace: {method}: {error}")
                    }
                    None => panic!("stockrace: {method}: {e}"),
                }
            }
        }
    }

    /// How each seed's choices are made.
    fn chooser(&self, simulation: &Simulation) -> SeedChooser {
        match self.pct_depth {
            None => SeedChooser::Random,
            Some(depth) => SeedChooser::Pct {
                depth,
                k: simulation.pct_steps(),
            },
        }
    }

    /// Seeds to sweep: the builder's, `STOCKRACE_SEEDS`, or 1000.
    #[track_caller]
    fn seed_count(&self) -> u64 {
        match self.seeds {
            Some(seeds) => seeds,
            None => env::seed_count().unwrap_or(DEFAULT_SEEDS),
        }
    }

    #[track_caller]
    fn seeds_dir_resolved(&self) -> PathBuf {
        match &self.seeds_dir {
            Some(dir) => dir.clone(),
            None => match env::crate_dir(self.caller_file) {
                Ok(dir) => dir.join("seeds"),
                Err(why) => panic!("stockrace: {why}"),
            },
        }
    }

    /// Replays this scenario's regression files, then sweeps the seeds
    /// (up to the first violation unless
    /// [`Builder::stop_at_first_violation`] says otherwise).
    /// `STOCKRACE_SEED=N` runs just seed N, and `STOCKRACE_REPLAY=FILE`
    /// just that kept file, each printing its timeline.
    #[track_caller]
    pub fn run(&self) -> Report {
        match env::mode() {
            env::Mode::Replay(path) => self.run_replay_env(&path),
            env::Mode::Seed(seed) => self.run_seed_env(seed),
            env::Mode::Sweep => self.run_sweep(),
        }
    }

    #[track_caller]
    fn run_sweep(&self) -> Report {
        let simulation = self.simulation();
        let seeds_dir = self.seeds_dir_resolved();
        let test = env::test_name();
        let kept = kept::sort(&seeds_dir, &simulation, &self.own, test.as_deref());
        let kept = match kept {
            Ok(kept) => kept,
            Err(e) => panic!("stockrace: {e}"),
        };
        kept::announce(&kept.not_applying, self.crate_dir().as_deref());
        let regressions = kept
            .applying
            .into_iter()
            .map(|(path, r)| {
                let execution = simulation.replay(&r.schedule, r.seed);
                (path, r, execution)
            })
            .collect();
        let count = self.seed_count();
        let seeds = self.first_seed..self.first_seed.saturating_add(count);
        let sweep = Sweep::new(&simulation, seeds)
            .jobs(self.jobs)
            .chooser(self.chooser(&simulation))
            .stop_at_first_violation(self.stop_at_first_violation)
            .run();
        Report::new(
            self,
            simulation,
            regressions,
            sweep,
            kept.not_applying,
            seeds_dir,
        )
    }

    /// The test crate's directory, when it can be found.
    fn crate_dir(&self) -> Option<PathBuf> {
        env::crate_dir(self.caller_file).ok()
    }

    /// Runs each of `strategies` on this builder's scenario (every order
    /// replaced, as `stockrace compare --strategies` does) over the same
    /// seeds, to the last seed, at this builder's number of orders: the
    /// figures `stockrace compare` prints, each first failure shrunk. As
    /// there, statements get 1 virtual ms of latency unless the builder
    /// or its scenario sets one. Panics if a strategy panics.
    #[track_caller]
    pub fn compare(&self, strategies: impl IntoIterator<Item = Strategy>) -> Comparison {
        self.compare_at(strategies, [self.overrides.orders])
    }

    /// [`Builder::compare`] at each number of orders per run in `orders`
    /// (`stockrace compare --orders 2,4,8`; `None`: as the builder or its
    /// scenario says).
    #[track_caller]
    pub fn compare_at(
        &self,
        strategies: impl IntoIterator<Item = Strategy>,
        orders: impl IntoIterator<Item = Option<usize>>,
    ) -> Comparison {
        let strategies: Vec<Strategy> = strategies.into_iter().collect();
        let levels: Vec<Option<usize>> = orders.into_iter().collect();
        let mut registry = self.registry.clone();
        for strategy in &strategies {
            registry.add(strategy.clone());
        }
        let given_latency = match &self.given {
            Some(given) => given.scenario.latency.statement_ms,
            None => 0,
        };
        let statement_ms = match self.overrides.statement_ms {
            Some(ms) => ms,
            None if given_latency > 0 => given_latency,
            None => COMPARE_LATENCY.statement_ms,
        };
        let mut plan = Vec::new();
        for strategy in &strategies {
            for &level in &levels {
                let overrides = Overrides {
                    strategy: Some(strategy.name().to_string()),
                    orders: level.or(self.overrides.orders),
                    statement_ms: Some(statement_ms),
                    ..self.overrides.clone()
                };
                plan.push((strategy.name(), self.simulation_with(&overrides, &registry)));
            }
        }
        let count = self.seed_count();
        let seeds = self.first_seed..self.first_seed.saturating_add(count);
        let mut cells = Vec::new();
        for (name, simulation) in &plan {
            let sweep = Sweep::new(simulation, seeds.clone()).jobs(self.jobs);
            let cell = CompareCell::run(name, simulation, sweep);
            if let Some((seed, order, message)) = &cell.report.panic {
                panic!(
                    "stockrace: strategy {name} panicked in order T{} at seed {seed} of the comparison: {message}",
                    order + 1
                );
            }
            cells.push(cell);
        }
        Comparison { seeds, cells }
    }
}

impl Builder {
    fn shape_used(&mut self, method: &'static str) {
        if !self.shape_set.contains(&method) {
            self.shape_set.push(method);
        }
    }
}
