//! What one run knows about its orders and their connections, shared by the
//! proxy (which sees the bytes) and the scheduler (which decides). It sits
//! behind one mutex that is never held across an await.
//!
//! A connection is in one of these phases:
//!
//! ```text
//!   Startup ──first ReadyForQuery──► Idle ──client sends──► Held
//!                                    ▲                        │ chosen
//!                                    │ ReadyForQuery          ▼
//!                                    └────────────────── InFlight ◄──► Blocked
//!                                                    (pg_blocking_pids says so)
//! ```

use super::execution::Outcome;
use super::trace::{ConnId, Event, Trace};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

#[derive(Debug)]
pub enum Phase {
    /// Authenticating: everything passes.
    Startup,
    /// Between steps.
    Idle,
    /// A statement (or an extended-protocol batch) waits to be chosen.
    Held { release: oneshot::Sender<()> },
    /// Released to the server; not answered, not known to wait.
    InFlight,
    /// The server shows it waiting for a lock (`reported_wait` says whose).
    Blocked,
    /// The connection closed.
    Closed,
}

#[derive(Debug)]
pub struct Connection {
    pub phase: Phase,
    /// The server process behind it (from BackendKeyData).
    pub pid: Option<i32>,
    /// The step's statements, normalised, as the client sent them.
    pub text: Vec<String>,
    /// Result tags and the error of the current step.
    pub tags: Vec<String>,
    pub error: Option<(String, String)>,
    /// SQL of the prepared statements this connection parsed, by name.
    pub prepared: BTreeMap<String, String>,
    /// The holders last reported for the current step's wait.
    pub reported_wait: Option<Vec<i32>>,
}

#[derive(Debug, Default)]
pub struct Order {
    pub ready: bool,
    /// Its exit status, once it exited.
    pub exit: Option<String>,
    pub outcome: Option<Outcome>,
    /// Set while it runs application code: since its last answer, it has
    /// neither sent a statement nor exited.
    pub busy_since: Option<Instant>,
    /// It ran application code past `settle_ms` at least once.
    pub stalls: usize,
    pub stalled_now: bool,
    /// Statements it sent after `ready`, normalised, in order.
    pub statements: Vec<String>,
    /// Statements it sent before `ready` (not scheduled).
    pub unscheduled: usize,
    /// Bytes of an incomplete stdout line not yet read as a line: the proxy
    /// waits for them before deciding whether a statement comes before ready.
    pub stdout_partial: usize,
    /// The incomplete line could still become a `stockrace:` line.
    pub stdout_partial_is_protocol: bool,
    pub stdout_closed: bool,
    pub stderr_tail: String,
    pub connections: usize,
}

impl Order {
    /// A new process takes this order's place.
    pub fn new_process(&mut self) {
        self.exit = None;
        self.stdout_partial = 0;
        self.stdout_partial_is_protocol = false;
        self.stdout_closed = false;
        self.stderr_tail.clear();
    }
}

#[derive(Debug)]
pub struct RunState {
    pub orders: Vec<Order>,
    pub connections: BTreeMap<ConnId, Connection>,
    pub trace: Trace,
}

impl RunState {
    pub fn new(orders: usize) -> RunState {
        RunState {
            orders: (0..orders).map(|_| Order::default()).collect(),
            connections: BTreeMap::new(),
            trace: Trace::default(),
        }
    }

    /// Forgets the last run (its connections, trace and each order's part
    /// in it), keeping what belongs to the processes, which may serve on.
    pub fn reset_run(&mut self) {
        self.connections.clear();
        self.trace = Trace::default();
        for o in &mut self.orders {
            o.ready = false;
            o.outcome = None;
            o.busy_since = None;
            o.stalls = 0;
            o.stalled_now = false;
            o.statements.clear();
            o.unscheduled = 0;
            o.connections = 0;
        }
    }

    /// The order and connection behind a server process id.
    pub fn owner_of(&self, pid: i32) -> Option<ConnId> {
        self.connections
            .iter()
            .find(|(_, c)| c.pid == Some(pid))
            .map(|(id, _)| *id)
    }

    /// A step (or a connection) ended: a statement that waited may now go on,
    /// so every blocked one is looked at again.
    pub fn recheck_blocked(&mut self) {
        for connection in self.connections.values_mut() {
            if let Phase::Blocked = connection.phase {
                connection.phase = Phase::InFlight;
            }
        }
    }

    /// ReadyForQuery on `id`: the end of a released step, if one was out.
    pub fn step_answered(&mut self, id: ConnId, now: Instant) {
        let connection = self
            .connections
            .get_mut(&id)
            .expect("a registered connection");
        match connection.phase {
            Phase::Startup => connection.phase = Phase::Idle,
            Phase::InFlight | Phase::Blocked => {
                connection.phase = Phase::Idle;
                let result = match connection.error.take() {
                    Some((code, message)) => format!("ERROR {code}: {message}"),
                    None if connection.tags.is_empty() => "(no result)".to_string(),
                    None => connection.tags.join(", "),
                };
                connection.tags.clear();
                self.trace.push(Event::Answered { conn: id, result });
                self.orders[id.0].busy_since = Some(now);
                self.recheck_blocked();
            }
            // An unscheduled statement (before ready) answered.
            Phase::Idle | Phase::Held { .. } | Phase::Closed => {
                connection.tags.clear();
                connection.error = None;
            }
        }
    }
}

/// The run's state and a bell rung on every change.
#[derive(Clone)]
pub struct Shared {
    state: Arc<Mutex<RunState>>,
    pub changed: Arc<Notify>,
}

impl Shared {
    pub fn new(orders: usize) -> Shared {
        Shared {
            state: Arc::new(Mutex::new(RunState::new(orders))),
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn reset_run(&self) {
        self.lock().reset_run();
    }

    pub fn lock(&self) -> MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state without ringing the bell: for the scheduler's own
    /// changes (it is the one listening, and would wake itself in a loop).
    pub fn quietly<R>(&self, change: impl FnOnce(&mut RunState) -> R) -> R {
        change(&mut self.lock())
    }

    /// Changes the state and wakes the scheduler.
    pub fn update<R>(&self, change: impl FnOnce(&mut RunState) -> R) -> R {
        let result = change(&mut self.lock());
        self.changed.notify_one();
        result
    }
}
