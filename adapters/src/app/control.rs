//! The scheduler for application runs: the same rule as in simulation,
//! applied to real orders (processes, or Rust closures). Choose only at a
//! quiet point, when every live order is held at the proxy, blocked in the
//! server, or finished; then release one held step, chosen by the chooser
//! from the held steps sorted by order and connection, and wait for it to
//! answer or to block.
//!
//! "Blocked in the server" is asked of the server: `pg_blocking_pids` of the
//! step's backend. "Running its own code" is what an order does between an
//! answer and its next statement; if that lasts past `settle_ms`, the order
//! is recorded as stalled (on something the proxy cannot see, such as an
//! in-process lock or a timer) and the run goes on without waiting for it.

use super::error::AppError;
use super::process::stderr_suffix;
use super::state::{Order, Phase, Shared};
use super::trace::ConnId;
use super::trace::{conn_name, Event};
use std::time::Duration;
use stockrace_sim::chooser::{Action, Actor, Choice, Chooser};
use tokio::time::{sleep, Instant};
use tokio_postgres::Client;

/// How often a running statement is asked about while it neither answers
/// nor blocks.
const POLL: Duration = Duration::from_millis(1);

pub struct Control<'a> {
    pub shared: Shared,
    pub monitor: &'a Client,
    pub chooser: &'a mut dyn Chooser,
    pub settle: Duration,
    pub settle_ms: u64,
    pub deadline: Instant,
    /// What the orders are, for when one is done and for messages.
    pub entry: Entry,
    pub schedule: Vec<u32>,
    /// When every order was ready (for the timing figures only).
    pub ready_at: Option<Instant>,
}

/// What runs the orders.
#[derive(Clone, Debug)]
pub enum Entry {
    /// Order processes started with `command`; with `reuse`, a process
    /// serves many runs and is done with one when it reports its outcome.
    Process { command: String, reuse: bool },
    /// Async closures in the caller's task (see the `closure` module); one
    /// is done when it returns.
    Closure,
}

impl Entry {
    /// Says that order `i` ended (`exit`) before it was ready.
    fn gone_before_ready(&self, i: usize, o: &Order) -> String {
        match self {
            Entry::Process { command, .. } => format!(
                "order T{} (`{command}`) exited ({}) before printing `stockrace: ready`{}",
                i + 1,
                o.exit.as_deref().unwrap_or("?"),
                stderr_suffix(&o.stderr_tail)
            ),
            Entry::Closure => format!(
                "order T{} returned ({}) before calling `order.ready()`",
                i + 1,
                o.outcome
                    .as_ref()
                    .map_or("?".to_string(), |o| o.to_string())
            ),
        }
    }

    /// Says that order `i` was not ready in time.
    fn not_ready(&self, i: usize, o: &Order) -> String {
        match self {
            Entry::Process { command, .. } => format!(
                "order T{} (`{command}`) did not print `stockrace: ready` within ready_timeout_ms{}",
                i + 1,
                stderr_suffix(&o.stderr_tail)
            ),
            Entry::Closure => format!(
                "order T{} did not call `order.ready()` within ready_timeout_ms",
                i + 1
            ),
        }
    }
}

/// How the scheduling ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every order exited (or, reused, reported its outcome).
    Finished,
    /// The run's time ran out.
    Hung,
}

impl Control<'_> {
    /// Waits for every order to be ready, then schedules until every order
    /// has exited.
    pub async fn run(&mut self, ready_deadline: Instant) -> Result<Ended, AppError> {
        self.wait_ready(ready_deadline).await?;
        self.ready_at = Some(Instant::now());
        loop {
            if !self.settle().await? {
                return Ok(Ended::Hung);
            }
            let (options, all_exited) = {
                let state = self.shared.lock();
                let options: Vec<ConnId> = state
                    .connections
                    .iter()
                    .filter(|(_, c)| matches!(c.phase, Phase::Held { .. }))
                    .map(|(id, _)| *id)
                    .collect();
                (options, state.orders.iter().all(|o| self.done(o)))
            };
            if all_exited {
                return Ok(Ended::Finished);
            }
            if options.is_empty() {
                // Everyone left waits for the server (a deadlock check, a
                // lock timeout) or for code the proxy cannot see.
                self.wait_for_change(Duration::from_millis(5)).await;
                continue;
            }
            let pick = if options.len() > 1 {
                let listed = self.choices(&options);
                let choice = self.chooser.choose(&listed);
                self.schedule.push(choice as u32);
                choice
            } else {
                0
            };
            self.release(options[pick]);
        }
    }

    async fn wait_ready(&mut self, deadline: Instant) -> Result<(), AppError> {
        loop {
            {
                let state = self.shared.lock();
                if let Some((i, o)) = state
                    .orders
                    .iter()
                    .enumerate()
                    .find(|(_, o)| !o.ready && o.exit.is_some())
                {
                    return Err(AppError::Setup(self.entry.gone_before_ready(i, o)));
                }
                if state.orders.iter().all(|o| o.ready) {
                    drop(state);
                    // From here on an order that has not sent its first
                    // statement is running its own code.
                    let now = Instant::now();
                    self.shared.quietly(|state| {
                        for (i, order) in state.orders.iter_mut().enumerate() {
                            let held = state
                                .connections
                                .range((i, 0)..(i + 1, 0))
                                .any(|(_, c)| matches!(c.phase, Phase::Held { .. }));
                            if !held && order.exit.is_none() && order.outcome.is_none() {
                                order.busy_since = Some(now);
                            }
                        }
                    });
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    let (i, o) = state
                        .orders
                        .iter()
                        .enumerate()
                        .find(|(_, o)| !o.ready)
                        .expect("one is not ready");
                    return Err(AppError::Setup(self.entry.not_ready(i, o)));
                }
            }
            self.wait_for_change(Duration::from_millis(20)).await;
        }
    }

    /// Whether `order` has no more to do in this run: it exited, or, when
    /// it serves many runs, it reported its outcome.
    fn done(&self, order: &Order) -> bool {
        order.exit.is_some() || (self.reused() && order.outcome.is_some())
    }

    fn reused(&self) -> bool {
        matches!(self.entry, Entry::Process { reuse: true, .. })
    }

    /// The held steps as the chooser sees them: each order's statement text.
    fn choices(&self, options: &[ConnId]) -> Vec<Choice> {
        let state = self.shared.lock();
        options
            .iter()
            .map(|id| Choice {
                actor: Actor::Order(id.0 as u32),
                action: Action::Sql(state.connections[id].text.join("; ")),
            })
            .collect()
    }

    /// Lets `conn`'s held step go.
    fn release(&mut self, conn: ConnId) {
        self.shared.quietly(|state| {
            let c = state
                .connections
                .get_mut(&conn)
                .expect("an option is a connection");
            if let Phase::Held { release } = std::mem::replace(&mut c.phase, Phase::InFlight) {
                let _ = release.send(());
            }
            c.reported_wait = None;
            c.tags.clear();
            c.error = None;
            let text = if c.text.is_empty() {
                "(sync)".to_string()
            } else {
                c.text.join("; ")
            };
            state.orders[conn.0]
                .statements
                .extend(c.text.iter().cloned());
            state.trace.push(Event::Released { conn, text });
        });
    }

    /// Waits for a quiet point; false if the run's time ran out first.
    async fn settle(&mut self) -> Result<bool, AppError> {
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return Ok(false);
            }
            self.poll_running().await?;
            let mut quiet = true;
            let mut wake = self.deadline;
            let reused = self.reused();
            self.shared.quietly(|state| {
                for (i, order) in state.orders.iter_mut().enumerate() {
                    if order.exit.is_some() || (reused && order.outcome.is_some()) {
                        continue;
                    }
                    let in_flight = state
                        .connections
                        .range((i, 0)..(i + 1, 0))
                        .any(|(_, c)| matches!(c.phase, Phase::InFlight));
                    if in_flight {
                        quiet = false;
                    } else if let Some(since) = order.busy_since {
                        if now.duration_since(since) >= self.settle {
                            if !order.stalled_now {
                                order.stalled_now = true;
                                order.stalls += 1;
                                state.trace.push(Event::Stalled {
                                    order: i,
                                    settle_ms: self.settle_ms,
                                });
                            }
                        } else {
                            quiet = false;
                            wake = wake.min(since + self.settle);
                        }
                    }
                }
            });
            if quiet {
                return Ok(true);
            }
            let running = self
                .shared
                .lock()
                .connections
                .values()
                .any(|c| matches!(c.phase, Phase::InFlight));
            let wait = if running {
                POLL
            } else {
                wake.saturating_duration_since(now)
            };
            self.wait_for_change(wait).await;
        }
    }

    /// Asks the server whether each released, unanswered statement waits
    /// for a lock, and whom for.
    async fn poll_running(&mut self) -> Result<(), AppError> {
        let running: Vec<(ConnId, i32)> = self
            .shared
            .lock()
            .connections
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::InFlight))
            .filter_map(|(id, c)| c.pid.map(|pid| (*id, pid)))
            .collect();
        for (id, pid) in running {
            let row = self
                .monitor
                .query_one("SELECT pg_blocking_pids($1)", &[&pid])
                .await
                .map_err(|e| {
                    AppError::Setup(format!("cannot ask the server about backend {pid}: {e}"))
                })?;
            let mut on: Vec<i32> = row.get(0);
            on.sort_unstable();
            if on.is_empty() {
                continue;
            }
            self.shared.quietly(|state| {
                let names: Vec<String> = on
                    .iter()
                    .map(|pid| state.owner_of(*pid).map_or(format!("pid {pid}"), conn_name))
                    .collect();
                let c = state.connections.get_mut(&id).expect("registered");
                if !matches!(c.phase, Phase::InFlight) {
                    return; // answered meanwhile
                }
                c.phase = Phase::Blocked;
                if c.reported_wait.as_ref() != Some(&on) {
                    c.reported_wait = Some(on.clone());
                    state.trace.push(Event::Waits {
                        conn: id,
                        on: names,
                    });
                }
            });
        }
        Ok(())
    }

    async fn wait_for_change(&self, at_most: Duration) {
        tokio::select! {
            _ = self.shared.changed.notified() => {}
            _ = sleep(at_most) => {}
        }
    }
}
