//! The controlled scheduler: a madsim task that runs every order's code
//! itself (see [`orders`]); every statement an order sends is a scheduling
//! point. When no order is running application code
//! (quiescence), the chooser picks one option, the scheduler carries it out on
//! the backend (the model store, or a real database: see [`Backend`]),
//! records it, and hands back the result.
//!
//! Options are the orders' requests (a statement, or taking an in-process
//! lock) in order-id order, then "let virtual time pass to the next timer"
//! if any order sleeps or waits with a deadline. Nothing else decides
//! what happens next, so a run is a pure function of (scenario, schedule).

mod arrivals;
mod connection;
mod orders;
mod shared;
mod state_key;

use crate::backend::Backend;
use crate::chooser::{Action, Actor, Choice, Chooser, SeedChooser};
use crate::connection::Session;
use crate::execution::Execution;
use crate::invariants::{Expectations, Monitor};
use crate::outcome::Outcome;
use crate::scenario::{Order, Scenario, ScenarioError};
use crate::strategies::{Sale, Strategies, Strategy};
use crate::trace::TraceEvent;
use connection::{Sending, SimConnection};
use futures::FutureExt;
use orders::{OrderFuture, Orders};
use shared::{lock, Ask, News, Phase, Request, Shared, SharedRef, WaitTimers};
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stockrace_model::{
    DbError, Event, LevelId, Progress, Row, SessionId, Statement, Store, StoreConfig,
};

/// A validated scenario with its strategies resolved: what the scheduler
/// loop needs to run it. [`crate::Simulation`] wraps it with the public API.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub scenario: Scenario,
    pub orders: Vec<Order>,
    pub strategies: Vec<Strategy>,
    pub initial: Vec<Row>,
    pub expectations: Expectations,
    pub lock_timeouts: Vec<Option<u64>>,
}

impl Prepared {
    /// Validates `scenario` and resolves each order's strategy in `registry`.
    pub fn new(scenario: Scenario, registry: &Strategies) -> Result<Prepared, ScenarioError> {
        scenario.validate(|name| registry.get(name).is_some())?;
        let scenario = scenario.expanded().with_budget_resolved();
        let strategies: Vec<Strategy> = scenario
            .orders
            .iter()
            .map(|o| registry.get(&o.strategy).expect("validated").clone())
            .collect();
        let orders = scenario.orders();
        Ok(Prepared {
            expectations: Expectations::new(&scenario, &orders, &strategies),
            lock_timeouts: scenario.orders.iter().map(|o| o.lock_timeout_ms).collect(),
            orders,
            initial: scenario.initial_rows(),
            strategies,
            scenario,
        })
    }

    /// A fresh model store holding the scenario's rows.
    pub fn new_store(&self) -> Store {
        Store::new(
            &self.initial,
            self.orders.len(),
            StoreConfig {
                check_nonnegative: self.scenario.check_nonnegative,
            },
        )
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
        runtime.block_on(self.drive(chooser, seed, backend))
    }

    /// Runs each seed of `seeds` with `kind`'s chooser on one madsim runtime
    /// (see [`crate::Simulation::run_seeds_with`]).
    pub fn run_seeds_with(
        &self,
        kind: SeedChooser,
        seeds: Range<u64>,
        mut visit: impl FnMut(Execution) -> bool,
    ) {
        let runtime =
            madsim::runtime::Runtime::with_seed_and_config(seeds.start, madsim::Config::default());
        runtime.block_on(async {
            for seed in seeds {
                let execution = self
                    .drive(&mut kind.for_seed(seed), Some(seed), self.new_store())
                    .await;
                if !visit(execution) {
                    break;
                }
            }
        });
    }

    /// Spawns one task per order, then schedules until every order ended or
    /// the run must stop.
    async fn drive<B: Backend>(
        &self,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
        backend: B,
    ) -> Execution {
        let n = self.orders.len();
        let keyed = chooser.wants_state_keys();
        let nodes = self.orders.iter().map(|o| o.node);
        let shared = Arc::new(Mutex::new(Shared::new(nodes, keyed)));
        let mut schedule = Vec::with_capacity(4 * n + 8);
        let arrivals = self.choose_arrivals(chooser, &mut schedule);
        let mut orders = Orders::new(&shared, self.order_futures(&shared, &arrivals));
        let max_steps = self.scenario.max_steps();
        let mut run = Recorder {
            store: backend,
            monitor: Monitor::new(&self.expectations),
            trace: Vec::with_capacity(8 * n + 8),
            events: Vec::new(),
            deadlock_timeout_ms: self.scenario.deadlock_timeout_ms,
            lock_timeouts: &self.lock_timeouts,
            waits_begun: 0,
        };
        let mut options = Vec::with_capacity(n + 1);
        let mut steps = 0u32;
        let mut finished = 0usize;
        let stopped: Option<String> = loop {
            orders.run_until_quiet(&shared).await;
            let mut state = lock(&shared);
            finished += run.take_news(&mut state);
            if finished == n {
                break None;
            }
            if !state.is_quiescent() {
                // Closing a finished order's connection woke other orders.
                continue;
            }

            let next_timer = match self.list_options(&state, &run.store, &mut options) {
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
                    chooser.choose_keyed(&options, &mut || run.state_key(&state, steps, latency))
                } else {
                    chooser.choose(&options)
                };
                schedule.push(c as u32);
                c
            };
            chooser.observe(&options[choice]);
            tracing::debug!(
                target: "stockrace::scheduler",
                step = steps,
                time_ms = state.now_ms,
                options = ?options,
                choice,
                "choose"
            );
            match options[choice].actor {
                Actor::Order(order) => {
                    let order = order as usize;
                    if let Phase::ProcessLockRequest { .. } = state.slots[order].phase {
                        state.take_process_lock(order);
                    } else {
                        let statement = state.take_statement(order);
                        run.execute(&mut state, SessionId(order as u32), statement);
                    }
                }
                Actor::Clock => {
                    let at = next_timer.expect("a timer");
                    let delay = Duration::from_millis(at - state.now_ms);
                    drop(state);
                    madsim::time::sleep(delay).await;
                    let mut state = lock(&shared);
                    state.now_ms = at;
                    run.store.time_passed(at);
                    run.timers_due(&mut state);
                }
            }
        };

        // Orders the run gave up on (budget, hang) end here.
        drop(orders);
        let mut state = lock(&shared);
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

    /// The options at a quiet point, in the order a schedule's indices
    /// count them: each order's request by order id, then letting time pass
    /// to the next timer (if that is allowed). Returns the next timer, or
    /// why the run cannot go on (a budget ran out, or nothing can move).
    fn list_options<B: Backend>(
        &self,
        state: &Shared,
        store: &B,
        options: &mut Vec<Choice>,
    ) -> Result<Option<u64>, String> {
        options.clear();
        let max_virtual_ms = self.scenario.max_virtual_ms();
        let latency_ms = self.scenario.latency.statement_ms;
        let mut next_timer = None::<u64>;
        // With a statement latency, a request is served within that
        // long: time may not pass beyond it. Without one, the scheduler
        // may also let time pass while requests wait (an app stalled).
        let mut deadline = None::<u64>;
        for (order, slot) in state.slots.iter().enumerate() {
            let action = match slot.phase {
                Phase::Submitted(statement) => Action::Statement {
                    statement,
                    isolation: self.orders[order].isolation,
                    in_transaction: store.in_transaction(SessionId(order as u32)),
                },
                Phase::ProcessLockRequest { key } => Action::ProcessLock {
                    key,
                    node: slot.node,
                },
                Phase::Sleeping { until_ms } => {
                    next_timer = Some(next_timer.map_or(until_ms, |n| n.min(until_ms)));
                    continue;
                }
                Phase::Waiting => {
                    if let Some(t) = slot.timers.next() {
                        next_timer = Some(next_timer.map_or(t, |n| n.min(t)));
                    }
                    continue;
                }
                Phase::Running | Phase::ProcessLockWait { .. } | Phase::Finished => continue,
            };
            options.push(Choice {
                actor: Actor::Order(order as u32),
                action,
            });
            if latency_ms > 0 {
                let due = slot.parked_ms + latency_ms;
                deadline = Some(deadline.map_or(due, |d| d.min(due)));
            }
        }
        match next_timer {
            Some(t) if t <= max_virtual_ms && deadline.map_or(true, |d| t <= d) => {
                options.push(Choice {
                    actor: Actor::Clock,
                    action: Action::PassTime { to_ms: t },
                })
            }
            Some(t) if options.is_empty() => {
                return Err(format!(
                    "the virtual-time budget ({max_virtual_ms} ms) ran out: the next timer is at {t} ms"
                ));
            }
            _ => {}
        }
        if options.is_empty() {
            return Err(describe_hang(state, store));
        }
        Ok(next_timer)
    }

    /// Every order's strategy as a future the scheduler polls (see
    /// [`orders`]), reporting how it ended. An order arriving later first
    /// sleeps until its arrival (a sleep the scheduler sees, as think time
    /// is). App nodes are the orders' `node`: in-process locks are per node.
    fn order_futures(&self, shared: &SharedRef, arrivals: &[u64]) -> Vec<OrderFuture> {
        (0..self.orders.len())
            .map(|order| {
                let connection = SimConnection {
                    shared: shared.clone(),
                    order,
                    latency: self.scenario.latency,
                    sent: false,
                    sending: Sending::Idle,
                };
                let future = self.strategies[order].start(
                    Session::new(Box::new(connection)),
                    self.orders[order].clone(),
                );
                let shared = shared.clone();
                let arrive_ms = arrivals[order];
                Box::pin(async move {
                    if arrive_ms > 0 {
                        Ask {
                            shared: &shared,
                            order,
                            request: Some(Request::Sleep { ms: arrive_ms }),
                        }
                        .await;
                    }
                    let outcome = match AssertUnwindSafe(future).catch_unwind().await {
                        Ok(Ok(Sale::Sold)) => Outcome::Sold,
                        Ok(Ok(Sale::OutOfStock)) => Outcome::OutOfStock,
                        Ok(Ok(Sale::GaveUp)) => Outcome::GaveUp,
                        Ok(Err(error)) => Outcome::Failed(error),
                        Err(panic) => Outcome::Panicked(panic_message(&panic)),
                    };
                    lock(&shared).finish(order, outcome);
                }) as OrderFuture
            })
            .collect()
    }
}

/// The backend of one run and everything recorded about it.
struct Recorder<'a, B> {
    store: B,
    monitor: Monitor<'a>,
    trace: Vec<TraceEvent>,
    /// Reused buffer for what the store reports.
    events: Vec<Event>,
    deadlock_timeout_ms: u64,
    lock_timeouts: &'a [Option<u64>],
    /// Lock waits begun so far (orders waits that begin at the same time).
    waits_begun: u64,
}

impl<B: Backend> Recorder<'_, B> {
    /// Runs a statement on the store and records what happened.
    fn execute(&mut self, state: &mut Shared, session: SessionId, statement: Statement) {
        self.store.execute(session, statement, &mut self.events);
        self.record(state);
    }

    /// Records what the store reported, hands every completed statement back
    /// to its order, and starts the timers of statements that began waiting.
    fn record(&mut self, state: &mut Shared) {
        let now = state.now_ms;
        for event in self.events.drain(..) {
            tracing::debug!(
                target: "stockrace::store",
                time_ms = now,
                session = %event.session,
                statement = %event.statement,
                result = %crate::trace::result_text(&event),
                resumed = event.resumed,
                "statement"
            );
            // A waiter re-run when a lock holder ended that must wait again
            // (for the row's next holder) is not a new line: with n orders
            // queued on one row, each release re-runs every waiter, and a
            // line per re-run made traces grow as n². Its wait goes on (its
            // timers restart below); its line comes when it completes.
            let rewait = event.resumed && matches!(event.progress, Progress::Waiting { .. });
            if !rewait {
                self.trace.push(TraceEvent::Statement {
                    time_ms: now,
                    event,
                });
            }
            self.monitor
                .on_statement(self.trace.len(), &event, &self.store);
            let order = event.session.index();
            match event.progress {
                Progress::Done(result) => state.deliver(order, result),
                Progress::Waiting { .. } => {
                    self.waits_begun += 1;
                    state.slots[order].timers = WaitTimers {
                        deadlock_check_ms: Some(now + self.deadlock_timeout_ms),
                        lock_timeout_ms: self.lock_timeouts[order].map(|t| now + t),
                        began: self.waits_begun,
                    };
                }
            }
        }
    }

    /// Virtual time reached `state.now_ms`: wake sleepers (in order-id
    /// order), then time out lock waits and run due deadlock checks, the
    /// earliest deadline first and, on a tie, the wait that began first.
    fn timers_due(&mut self, state: &mut Shared) {
        let now = state.now_ms;
        let mut due = Vec::new();
        for order in 0..state.slots.len() {
            match state.slots[order].phase {
                Phase::Sleeping { until_ms } if until_ms <= now => {
                    state.wake(order);
                    self.trace.push(TraceEvent::Wake {
                        time_ms: now,
                        order: order as u32,
                    });
                }
                Phase::Waiting => {
                    let timers = state.slots[order].timers;
                    if let Some(at) = timers.next().filter(|at| *at <= now) {
                        due.push((at, timers.began, order));
                    }
                }
                _ => {}
            }
        }
        due.sort_unstable();
        for (_, began, order) in due {
            // An earlier timeout may have ended this wait (or started another).
            let timers = state.slots[order].timers;
            if state.slots[order].phase != Phase::Waiting || timers.began != began {
                continue;
            }
            let session = SessionId(order as u32);
            if timers.lock_timeout_ms.is_some_and(|t| t <= now) {
                self.store
                    .cancel_wait(session, DbError::LOCK_TIMEOUT, &mut self.events);
            } else {
                // PostgreSQL checks once per wait; a cycle that closes
                // later is found by the waiter that closes it.
                state.slots[order].timers.deadlock_check_ms = None;
                self.store.deadlock_check(session, &mut self.events);
            }
            self.record(state);
        }
    }

    /// Records what orders did on their own; returns how many finished.
    fn take_news(&mut self, state: &mut Shared) -> usize {
        let mut finished = 0;
        let mut news = std::mem::take(&mut state.news);
        // Orders that ran in the same window ran concurrently; the order in
        // which they happened to be polled must not show, so take their
        // news by order id (each order's own news stays in its order).
        news.sort_by_key(News::order);
        for news in news.drain(..) {
            let time_ms = state.now_ms;
            match news {
                News::Slept(order) => {
                    if let Phase::Sleeping { until_ms } = state.slots[order].phase {
                        self.trace.push(TraceEvent::Sleep {
                            time_ms,
                            order: order as u32,
                            until_ms,
                        });
                    }
                }
                News::ProcessLock { order, key, event } => {
                    self.trace.push(TraceEvent::ProcessLock {
                        time_ms,
                        order: order as u32,
                        key,
                        event,
                    });
                }
                News::Finished(order) => {
                    self.finished(state, order);
                    finished += 1;
                }
            }
        }
        if state.news.is_empty() {
            // Keep the buffer's capacity for the next steps.
            state.news = news;
        }
        finished
    }

    /// An order's strategy returned: close its connection and judge its result.
    fn finished(&mut self, state: &mut Shared, order: usize) {
        let session = SessionId(order as u32);
        if self.store.in_transaction(session) {
            // Closing the connection: PostgreSQL rolls back what is open.
            self.execute(state, session, Statement::Rollback);
        }
        self.trace.push(TraceEvent::Finished {
            time_ms: state.now_ms,
            order: order as u32,
        });
        let outcome = state.slots[order].outcome.as_ref().expect("finished");
        self.monitor
            .on_finished(self.trace.len(), order, outcome, &self.store);
    }
}

/// Why nothing can run: every live order waits on a lock nobody will release.
fn describe_hang(state: &Shared, store: &dyn Backend) -> String {
    let waiting: Vec<String> = state
        .slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.phase != Phase::Finished)
        .map(|(i, slot)| {
            let session = SessionId(i as u32);
            match (slot.phase, store.waits_for(session)) {
                (_, Some(holder)) => format!("{session} waits for a lock {holder} holds"),
                (Phase::ProcessLockWait { key }, _) => {
                    format!(
                        "{session} waits for in-process lock {key} on app node {}",
                        slot.node
                    )
                }
                _ => format!("{session} is stuck"),
            }
        })
        .collect();
    format!("no order can make progress: {}", waiting.join(", "))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic with a non-string payload)".to_string()
    }
}
