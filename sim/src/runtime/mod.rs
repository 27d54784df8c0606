//! The controlled scheduler: a madsim task that runs every order's code
//! itself (see [`orders`]); every statement an order sends is a scheduling
//! point. When no order is running application code
//! (quiescence), the chooser picks one option, the scheduler carries it out on
//! the backend (the model store, or a real database: see [`Backend`]),
//! records it (see [`recorder`]), and hands back the result.
//!
//! Options are the orders' requests (a statement, or taking an in-process
//! lock) in order-id order, then "let virtual time pass to the next timer"
//! if any order sleeps or waits with a deadline (see [`options`]). Nothing
//! else decides what happens next, so a run is a pure function of
//! (scenario, schedule).

mod arrivals;
mod ask;
mod connection;
mod faults;
mod lock;
mod options;
mod order_set;
mod orders;
mod pause;
mod recorder;
mod scratch;
mod shared;
mod state_key;

use crate::backend::Backend;
use crate::backend::{ModelSettings, ModelStore, WaitSettings};
use crate::chooser::{Actor, Chooser, SeedChooser};
use crate::execution::Execution;
use crate::invariants::Expectations;
use crate::outcome::Outcome;
use crate::scenario::{Order, Scenario, ScenarioError};
use crate::strategies::{Strategies, Strategy};
use crate::trace::{Fault, TraceEvent};
pub(crate) use connection::SimConnection;
use recorder::Recorder;
use scratch::Scratch;
use shared::{lock, Phase};
use std::ops::Range;
use std::time::Duration;
use stockrace_model::innodb::InnoDbStore;
use stockrace_model::{Database, LevelId, Row, SessionId, Store};

/// A validated scenario with its strategies resolved: what the scheduler
/// loop needs to run it. [`crate::Simulation`] wraps it with the public API.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub scenario: Scenario,
    pub orders: Vec<Order>,
    pub strategies: Vec<Strategy>,
    pub initial: Vec<Row>,
    pub expectations: Expectations,
    /// Each order's session's lock-wait settings.
    pub wait_settings: Vec<WaitSettings>,
    /// Whether each order recovers when its crashed app node restarts
    /// (`[faults] restart` and a strategy with a recovery).
    pub recoverable: Vec<bool>,
}

impl Prepared {
    /// Validates `scenario` and resolves each order's strategy in `registry`.
    pub fn new(scenario: Scenario, registry: &Strategies) -> Result<Prepared, ScenarioError> {
        scenario.validate(|name| registry.get(name).is_some())?;
        scenario.validate_strategies_run(|name, database| registry.refusal(name, database))?;
        let scenario = scenario.expanded().with_budget_resolved();
        let strategies: Vec<Strategy> = scenario
            .orders
            .iter()
            .map(|o| registry.get(&o.strategy).expect("validated").clone())
            .collect();
        let orders = scenario.orders();
        Ok(Prepared {
            expectations: Expectations::new(&scenario, &orders, &strategies),
            wait_settings: scenario
                .orders
                .iter()
                .map(|o| WaitSettings {
                    deadlock_timeout_ms: scenario.deadlock_timeout_ms,
                    lock_timeout_ms: o.lock_timeout_ms,
                })
                .collect(),
            recoverable: strategies
                .iter()
                .map(|s| scenario.faults.restart && s.recovers())
                .collect(),
            orders,
            initial: scenario.initial_rows(),
            strategies,
            scenario,
        })
    }

    /// The settings of the scenario's model store.
    pub fn model_settings(&self) -> ModelSettings {
        ModelSettings {
            database: self.scenario.database,
            check_nonnegative: self.scenario.check_nonnegative,
            innodb_snapshot_isolation: self.scenario.innodb_snapshot_isolation,
        }
    }

    /// A fresh model store of the scenario's database holding its rows.
    pub fn new_store(&self) -> ModelStore {
        ModelStore::new(&self.initial, self.orders.len(), self.model_settings())
    }

    /// One run on a fresh madsim runtime (see [`crate::Simulation::run_on`]).
    pub fn run_on<B: Backend>(
        &self,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
        backend: B,
    ) -> Execution {
        let runtime = madsim::runtime::Runtime::with_seed_and_config(
            seed.unwrap_or(0),
            madsim::Config::default(),
        );
        let mut scratch = Scratch::new(self);
        runtime.block_on(async move {
            // Dropped here, on the runtime, as the run ends.
            let mut backend = backend;
            self.drive(&mut scratch, chooser, seed, &mut backend).await
        })
    }

    /// Runs each seed of `seeds` with `kind`'s chooser on one madsim runtime
    /// (see [`crate::Simulation::run_seeds_with`]), on one model store and
    /// one [`Scratch`], each reset for every run.
    pub fn run_seeds_with(
        &self,
        kind: SeedChooser,
        seeds: Range<u64>,
        visit: impl FnMut(Execution) -> bool,
    ) {
        // On the concrete store, not through `ModelStore`: a sweep's every
        // statement goes through here.
        let settings = self.model_settings();
        let (rows, sessions) = (&self.initial, self.orders.len());
        match settings.database {
            Database::Postgres15 => self.run_seeds_on(
                Store::new(rows, sessions, settings.postgres()),
                Store::reset,
                kind,
                seeds,
                visit,
            ),
            Database::MariaDb1011 => self.run_seeds_on(
                InnoDbStore::new(rows, sessions, settings.innodb()),
                InnoDbStore::reset,
                kind,
                seeds,
                visit,
            ),
        }
    }

    /// [`Prepared::run_seeds_with`] on `store`, which `reset` makes fresh for each run.
    fn run_seeds_on<S: Backend>(
        &self,
        mut store: S,
        reset: fn(&mut S, &[Row], usize),
        kind: SeedChooser,
        seeds: Range<u64>,
        mut visit: impl FnMut(Execution) -> bool,
    ) {
        let runtime =
            madsim::runtime::Runtime::with_seed_and_config(seeds.start, madsim::Config::default());
        let mut scratch = Scratch::new(self);
        runtime.block_on(async {
            for seed in seeds {
                reset(&mut store, &self.initial, self.orders.len());
                let execution = self
                    .drive(
                        &mut scratch,
                        &mut kind.for_seed(seed),
                        Some(seed),
                        &mut store,
                    )
                    .await;
                if !visit(execution) {
                    break;
                }
            }
        });
    }

    /// Starts every order, then schedules until every order ended or the
    /// run must stop.
    async fn drive<'p, B: Backend>(
        &'p self,
        scratch: &mut Scratch<'p>,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
        store: &mut B,
    ) -> Execution {
        let n = self.orders.len();
        let keyed = chooser.wants_state_keys();
        let reads = keyed || chooser.reads_options();
        let mut schedule = Vec::with_capacity(4 * n + 8);
        let arrivals = self.choose_arrivals(chooser, &mut schedule);
        let Scratch {
            shared,
            orders,
            options,
            monitor,
            events,
            due,
        } = scratch.for_run(self, keyed, reads);
        orders.start(self, shared, &arrivals);
        let max_steps = self.scenario.max_steps();
        let mut run = Recorder {
            store,
            monitor,
            trace: Vec::with_capacity(8 * n + 8),
            events,
            due,
            wait_settings: &self.wait_settings,
            recoverable: &self.recoverable,
            waits_begun: 0,
        };
        let mut steps = 0u32;
        let mut finished = 0usize;
        let stopped: Option<String> = loop {
            orders.run_until_quiet(shared).await;
            let mut state = lock(shared);
            if !state.news.is_empty() {
                // Most quiet points: orders only sent statements.
                finished += run.take_news(&mut state);
            }
            if !state.restarts.is_empty() {
                // Crashed orders whose dead connection is closed (by the
                // step, or by a finished order's ROLLBACK just now): their
                // node restarted, and their recovery starts.
                for order in std::mem::take(&mut state.restarts) {
                    run.trace.push(TraceEvent::Fault {
                        time_ms: state.now_ms,
                        order: order as u32,
                        fault: Fault::Restart {
                            node: state.slots[order].node,
                        },
                    });
                    state.restart(order);
                    orders.recover(order, self, shared);
                }
                continue;
            }
            if finished == n {
                break None;
            }
            if !state.is_quiescent() {
                // Closing a finished order's connection woke other orders.
                continue;
            }

            let next_timer = match options.update(self, &mut state, &*run.store) {
                Ok(next_timer) => next_timer,
                Err(why) => break Some(why),
            };
            if steps >= max_steps {
                // `steps` counts scheduling steps; a verdict's step is a trace
                // line, and the trace also lists resumed statements, sleeps,
                // wake-ups and finished orders, so say both.
                break Some(format!(
                    "the step budget ({max_steps} steps) ran out: the scheduler took {steps} steps (statements run plus clock advances), the last at {} ms of virtual time, by trace line {}",
                    state.now_ms,
                    run.trace.len()
                ));
            }
            steps += 1;
            let choice = if options.len() == 1 {
                0
            } else {
                let c = if keyed {
                    let latency = self.scenario.latency.statement_ms > 0;
                    chooser.choose_keyed(options.as_slice(), &mut || {
                        run.state_key(&state, steps, latency)
                    })
                } else if reads {
                    chooser.choose(options.as_slice())
                } else {
                    chooser.choose_index_with_faults(options.len(), options.fault_count())
                };
                schedule.push(c as u32);
                c
            };
            tracing::debug!(
                target: "stockrace::scheduler",
                step = steps,
                time_ms = state.now_ms,
                options = ?options.actors(),
                described = ?options.as_slice(),
                choice,
                "choose"
            );
            let taken = options.take(choice);
            if let Some(described) = options.described(choice) {
                chooser.observe(described);
            }
            match taken {
                Actor::Order(order) => {
                    let order = order as usize;
                    match state.slots[order].phase {
                        Phase::ProcessLockRequest { .. } => state.take_process_lock(order),
                        Phase::LeaseRequest(_) => state.take_lease(order),
                        _ => {
                            let statement = state.take_statement(order);
                            run.execute(&mut state, SessionId(order as u32), statement);
                        }
                    }
                }
                Actor::Fault => {
                    let fault = options.take_fault(choice);
                    let injected = run.inject(&mut state, fault);
                    for &order in &injected.crashed {
                        orders.kill(order);
                    }
                    options.drop_orders(&injected.crashed);
                    options.drop_orders(&injected.withheld);
                    finished += injected.ended;
                }
                Actor::Clock => {
                    let at = next_timer.expect("a timer");
                    let delay = Duration::from_millis(at - state.now_ms);
                    // madsim's clock keeps up with the run's, moved
                    // rather than slept to: sleeping handed the task back
                    // to madsim's executor and had it woken by a timer,
                    // about a twentieth of an 8-order run's time. No order
                    // awaits a madsim timer here (all are quiet); the
                    // timers of tasks outside the scheduler fire as the
                    // clock passes them, and those tasks run when the
                    // scheduler next waits.
                    madsim::time::advance(delay);
                    run.time_passed(&mut state, at);
                }
            }
        };

        // Orders the run gave up on (budget, hang) end here.
        orders.stop();
        let mut state = lock(shared);
        let outcomes: Vec<Outcome> = state
            .slots
            .iter_mut()
            .map(|slot| slot.outcome.take().unwrap_or(Outcome::Unfinished))
            .collect();
        Execution {
            seed,
            schedule,
            verdict: run.monitor.finish(run.trace.len(), stopped),
            trace: run.trace,
            outcomes,
            final_rows: run.store.committed_rows(),
            final_reservations: (0..self.initial.len() as u32)
                .map(|l| run.store.committed_reservations(LevelId(l)))
                .collect(),
            divergence: chooser.divergence(),
            arrivals_ms: arrivals,
        }
    }
}
