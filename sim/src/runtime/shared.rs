//! State shared between the scheduler and the orders' application code: what
//! each order is doing, which orders have something to run on, how many are
//! still running application code, and the in-process locks of each app node.

use std::collections::{BTreeMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::task::Waker;
use stockrace_model::{DbError, Reply, Statement};

use super::lock::{SpinGuard, SpinLock};
use super::order_set::OrderSet;
use crate::chooser::{key_of, StateKey};
use crate::lease::{LeaseCall, LeaseEvent, LeaseTable};
use crate::outcome::Outcome;
use crate::scenario::Faults;
use crate::trace::ProcessLockEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Phase {
    /// Running application code; the scheduler waits for it.
    Running,
    /// Sent a statement; it is one of the scheduler's options.
    Submitted(Statement),
    /// Its statement is waiting for a lock inside the store.
    Waiting,
    /// Asleep until the given virtual millisecond.
    Sleeping {
        until_ms: u64,
    },
    /// Asks for an in-process lock; taking it is one of the scheduler's
    /// options, so the chooser, not task polling order, decides who gets it.
    ProcessLockRequest {
        key: u64,
    },
    /// Waiting for an in-process lock another order on its node holds.
    ProcessLockWait {
        key: u64,
    },
    /// Calls the lease-lock service; the call is one of the scheduler's
    /// options (the service is another process, like the database).
    LeaseRequest(LeaseCall),
    /// Its app node is paused until the given virtual millisecond; then it
    /// goes on as `Slot::held` says (see `super::pause`).
    Held {
        until_ms: u64,
    },
    Finished,
}

/// Virtual-time deadlines of a statement waiting for a lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WaitTimers {
    /// When the database checks it for a deadlock (cleared once checked).
    pub deadlock_check_ms: Option<u64>,
    /// When the database gives up on it.
    pub timeout_ms: Option<u64>,
    /// Which wait began first, among waits that began at the same virtual
    /// time: the earlier waiter's timer fires first, as on a real server.
    pub began: u64,
}

impl WaitTimers {
    pub fn next(&self) -> Option<u64> {
        match (self.deadlock_check_ms, self.timeout_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

pub(crate) struct Slot {
    pub phase: Phase,
    pub node: u32,
    pub(super) reply: Option<Result<Reply, DbError>>,
    pub(super) woken: bool,
    pub outcome: Option<Outcome>,
    pub timers: WaitTimers,
    /// Virtual time at which it last stopped running application code.
    pub parked_ms: u64,
    /// A running hash of everything the order observed (each reply, wake
    /// and granted lock, with its virtual time), kept only for state keys.
    pub history: StateKey,
    /// The fault it is under, if any (see `super::faults`).
    pub fault: SlotFault,
    /// Its app node is paused until this virtual millisecond (0: never
    /// paused); see `super::pause`.
    pub paused_until_ms: u64,
    /// While `Phase::Held`: the phase it goes on in when the pause ends
    /// (`Running` if it was handed something to run on meanwhile).
    pub held: Phase,
    /// Its app node crashed and restarts: its recovery runs once its dead
    /// connection is closed (see `super::faults`).
    pub recovers: bool,
}

/// What a fault left on an order's connection, acted on when its
/// statement's answer comes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum SlotFault {
    #[default]
    None,
    /// The reply to the statement it sent will be lost: it gets 08006.
    ReplyLost,
    /// Its node crashed while its statement waited for a lock: the server
    /// rolls back when it answers it (it notices the closed connection
    /// only when it writes to it).
    Disconnected,
    /// The scheduler is rolling back its dead connection: the answer goes
    /// to nobody.
    Closing,
}

/// Something an order did on its own, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum News {
    Slept(usize),
    Finished(usize),
    ProcessLock {
        order: usize,
        key: u64,
        event: ProcessLockEvent,
    },
    Lease {
        order: usize,
        event: LeaseEvent,
    },
}

impl News {
    pub fn order(&self) -> usize {
        match *self {
            News::Slept(order)
            | News::Finished(order)
            | News::ProcessLock { order, .. }
            | News::Lease { order, .. } => order,
        }
    }
}

#[derive(Default, Hash)]
struct ProcessLock {
    holder: usize,
    queue: VecDeque<usize>,
}

pub(crate) struct Shared {
    pub slots: Vec<Slot>,
    /// Orders in `Phase::Running`. The system is quiescent when it is 0.
    running: usize,
    /// The scheduler task, while it waits for an order that awaits something
    /// outside the scheduler (see [`super::orders`]).
    pub scheduler: Option<Waker>,
    pub now_ms: u64,
    /// What orders did since the scheduler last looked, in the order it happened.
    pub news: Vec<News>,
    /// Orders that parked with a request (a statement, an in-process lock)
    /// since the scheduler last looked: the new options (see `options`).
    pub offered: OrderSet,
    /// In-process locks by (node, key).
    process_locks: BTreeMap<(u32, u64), ProcessLock>,
    /// The orders whose future the scheduler should poll (handed a
    /// result, woken, granted a lock, or not started yet). Bits rather
    /// than a flag per slot, so the lowest is found at once.
    runnable: OrderSet,
    /// Each order's next timer (the end of its sleep, or its lock wait's
    /// next deadline; `u64::MAX`: none), kept as its phase and timers
    /// change so that the next timer of all is found without looking at
    /// every slot.
    alarms: Vec<u64>,
    /// The earliest of `alarms`, or `None` when it has to be looked for
    /// again (the earliest alarm was cleared or moved later).
    next_alarm: Option<u64>,
    /// Whether to keep each order's `history` (for a chooser that wants
    /// state keys).
    keyed: bool,
    /// The fault budget still to spend in this run.
    pub faults_left: Faults,
    /// The lease-lock service's leases.
    leases: LeaseTable,
    /// Crashed orders whose dead connection is closed and whose recovery
    /// is to start (the scheduler starts it at the next quiet point).
    pub restarts: Vec<usize>,
    /// The end of each app node's last pause, by node (see `super::pause`).
    pub(super) paused_nodes: BTreeMap<u32, u64>,
}

pub(crate) type SharedRef = Arc<SpinLock<Shared>>;

#[inline]
pub(crate) fn lock(shared: &SpinLock<Shared>) -> SpinGuard<'_, Shared> {
    shared.lock()
}

impl Shared {
    pub fn new(nodes: impl Iterator<Item = u32>, keyed: bool) -> Shared {
        let mut shared = Shared {
            slots: Vec::new(),
            running: 0,
            news: Vec::new(),
            offered: OrderSet::default(),
            scheduler: None,
            now_ms: 0,
            process_locks: BTreeMap::new(),
            runnable: OrderSet::default(),
            alarms: Vec::new(),
            next_alarm: None,
            keyed,
            faults_left: Faults::default(),
            leases: LeaseTable::default(),
            restarts: Vec::new(),
            paused_nodes: BTreeMap::new(),
        };
        shared.reset(nodes, keyed);
        shared
    }

    /// Makes this what `Shared::new(nodes, keyed)` would be, keeping the
    /// memory it has (the runs of a sweep share one).
    pub fn reset(&mut self, nodes: impl Iterator<Item = u32>, keyed: bool) {
        self.slots.clear();
        self.slots.extend(nodes.map(|node| Slot {
            phase: Phase::Running,
            node,
            reply: None,
            woken: false,
            outcome: None,
            timers: WaitTimers::default(),
            parked_ms: 0,
            history: 0,
            fault: SlotFault::None,
            paused_until_ms: 0,
            held: Phase::Finished,
            recovers: false,
        }));
        let n = self.slots.len();
        self.running = n;
        self.news.clear();
        self.news.reserve(2 * n);
        self.offered.reset(n);
        self.scheduler = None;
        self.now_ms = 0;
        self.process_locks.clear();
        // Every order starts runnable.
        self.runnable.reset(n);
        for order in 0..n {
            self.runnable.insert(order);
        }
        self.alarms.clear();
        self.alarms.resize(n, u64::MAX);
        self.next_alarm = Some(u64::MAX);
        self.keyed = keyed;
        self.faults_left = Faults::default();
        self.leases.clear();
        self.restarts.clear();
        self.paused_nodes.clear();
    }

    /// The earliest timer of an order: the end of a sleep, or a lock
    /// wait's deadline.
    #[inline]
    pub fn next_timer(&mut self) -> Option<u64> {
        let alarms = &self.alarms;
        let next = *self
            .next_alarm
            .get_or_insert_with(|| alarms.iter().fold(u64::MAX, |a, &b| a.min(b)));
        let next = Some(next).filter(|t| *t != u64::MAX);
        debug_assert_eq!(
            next,
            self.timer_of_slots(),
            "kept alarms differ from the slots' timers"
        );
        next
    }

    /// [`Shared::next_timer`], found by looking at every slot.
    pub fn timer_of_slots(&self) -> Option<u64> {
        (0..self.slots.len()).filter_map(|o| self.alarm_of(o)).min()
    }

    /// `order`'s next timer, read from its slot.
    fn alarm_of(&self, order: usize) -> Option<u64> {
        let slot = &self.slots[order];
        match slot.phase {
            Phase::Sleeping { until_ms } | Phase::Held { until_ms } => Some(until_ms),
            Phase::Waiting => slot.timers.next(),
            _ => None,
        }
    }

    /// `order`'s phase or timers changed: so may its next timer.
    pub(super) fn refresh_alarm(&mut self, order: usize) {
        self.set_alarm(order, self.alarm_of(order).unwrap_or(u64::MAX));
    }

    /// `order`'s next timer is now `alarm` (`u64::MAX`: none). The earliest
    /// of all is kept unless this was it and it moved later.
    #[inline]
    fn set_alarm(&mut self, order: usize, alarm: u64) {
        let old = std::mem::replace(&mut self.alarms[order], alarm);
        if old == alarm {
            return;
        }
        self.next_alarm = match self.next_alarm {
            Some(next) if alarm <= next => Some(alarm),
            Some(next) if old != next => Some(next),
            _ => None,
        };
    }

    /// The timers of `order`'s lock wait.
    pub fn set_timers(&mut self, order: usize, timers: WaitTimers) {
        self.slots[order].timers = timers;
        self.refresh_alarm(order);
    }

    /// `order`'s deadlock check ran (PostgreSQL checks once per wait).
    pub fn deadlock_checked(&mut self, order: usize) {
        self.slots[order].timers.deadlock_check_ms = None;
        self.refresh_alarm(order);
    }

    /// The order is handed something it may act on (a statement's result,
    /// or `None`: the end of a sleep, a granted lock). An order is a
    /// deterministic function of what it observed, so this is its state.
    fn observed(&mut self, order: usize, input: Option<&Result<Reply, DbError>>) {
        if self.keyed {
            let slot = &mut self.slots[order];
            slot.history = key_of(&(slot.history, self.now_ms, input));
        }
    }

    /// Feeds a state key everything here the run's future depends on:
    /// virtual time, each order's phase, history, lock-wait timers (their
    /// tie-breaking sequence as a rank among the waiters: only the order
    /// matters, and later waits rank after them) and, with a statement
    /// latency, when it parked; and the in-process locks. `news` is empty
    /// at a quiet point and the rest is fixed for the run or transient.
    pub fn hash_state(&self, state: &mut impl Hasher, latency: bool) {
        self.now_ms.hash(state);
        for slot in &self.slots {
            slot.phase.hash(state);
            slot.history.hash(state);
            slot.reply.hash(state);
            slot.woken.hash(state);
            slot.outcome.hash(state);
            slot.fault.hash(state);
            slot.paused_until_ms.saturating_sub(self.now_ms).hash(state);
            slot.held.hash(state);
            slot.recovers.hash(state);
            if latency {
                slot.parked_ms.hash(state);
            }
            let WaitTimers {
                deadlock_check_ms,
                timeout_ms,
                began,
            } = slot.timers;
            deadlock_check_ms.hash(state);
            timeout_ms.hash(state);
            let earlier = self
                .slots
                .iter()
                .filter(|s| s.phase == Phase::Waiting && s.timers.began < began)
                .count();
            earlier.hash(state);
        }
        self.process_locks.hash(state);
        self.faults_left.hash(state);
        self.leases.hash(state);
        for (node, until_ms) in &self.paused_nodes {
            (node, until_ms.saturating_sub(self.now_ms)).hash(state);
        }
    }

    pub fn is_quiescent(&self) -> bool {
        self.running == 0
    }

    /// The order stopped running application code.
    pub(super) fn park(&mut self, order: usize, phase: Phase) {
        debug_assert_eq!(self.slots[order].phase, Phase::Running);
        // A running order has no timer, and of the phases it parks in
        // only a sleep has one.
        debug_assert_eq!(self.alarms[order], u64::MAX);
        match phase {
            Phase::Submitted(_) | Phase::ProcessLockRequest { .. } | Phase::LeaseRequest(_) => {
                self.offered.insert(order)
            }
            Phase::Sleeping { until_ms } => self.set_alarm(order, until_ms),
            _ => {}
        }
        let now_ms = self.now_ms;
        let slot = &mut self.slots[order];
        slot.phase = phase;
        slot.parked_ms = now_ms;
        self.running -= 1;
    }

    /// The order runs again (it was handed something), unless its app
    /// node is paused: then it is held until the pause ends.
    #[inline]
    fn resume(&mut self, order: usize) {
        if self.slots[order].paused_until_ms > self.now_ms {
            self.hold(order, Phase::Running);
            return;
        }
        self.run_again(order);
    }

    #[inline]
    pub(super) fn run_again(&mut self, order: usize) {
        self.slots[order].phase = Phase::Running;
        self.running += 1;
        self.runnable.insert(order);
        self.set_alarm(order, u64::MAX);
    }

    /// Every order running application code should be polled (the orders'
    /// waker was woken by something outside the scheduler).
    pub fn mark_running_runnable(&mut self) {
        for order in 0..self.slots.len() {
            if self.slots[order].phase == Phase::Running {
                self.runnable.insert(order);
            }
        }
    }

    /// The lowest order whose future should be polled, unmarked.
    pub fn take_runnable(&mut self) -> Option<usize> {
        self.runnable.pop_first()
    }

    /// Hands a statement's result back to its order, which runs again.
    /// The ROLLBACK the scheduler sends when a finished order's connection
    /// closes has nobody to hand its result to.
    #[inline]
    pub fn deliver(&mut self, order: usize, result: Result<Reply, DbError>) {
        if matches!(self.slots[order].phase, Phase::Finished) {
            return;
        }
        self.observed(order, Some(&result));
        self.slots[order].reply = Some(result);
        self.slots[order].timers = WaitTimers::default();
        self.resume(order);
    }

    /// Ends an order's sleep.
    pub fn wake(&mut self, order: usize) {
        self.observed(order, None);
        self.slots[order].woken = true;
        self.resume(order);
    }

    pub fn finish(&mut self, order: usize, outcome: Outcome) {
        self.slots[order].outcome = Some(outcome);
        self.release_process_locks(order);
        self.news.push(News::Finished(order));
        self.park(order, Phase::Finished);
    }

    /// An in-process lock does not outlive the code holding it.
    fn release_process_locks(&mut self, order: usize) {
        // Most runs take none: then there is nothing to look through.
        if self.process_locks.is_empty() {
            return;
        }
        let node = self.slots[order].node;
        let held: Vec<u64> = self
            .process_locks
            .iter()
            .filter(|((n, _), l)| *n == node && l.holder == order)
            .map(|((_, key), _)| *key)
            .collect();
        for key in held {
            self.process_unlock(order, key);
        }
    }

    /// The `victims`' app node crashed at a quiet point: they stop where
    /// they are, told nothing. A statement one has waiting for a lock
    /// waits on (the server has not noticed; its timers still run) until
    /// answered, when [`Shared::end_disconnected`] ends it. Their
    /// connections are the caller's to close.
    pub fn crash(&mut self, victims: &[usize]) {
        // None of them may be handed an in-process lock another releases.
        for &order in victims {
            debug_assert_ne!(
                self.slots[order].phase,
                Phase::Running,
                "crashes happen at quiet points"
            );
            self.slots[order].outcome = Some(Outcome::Crashed);
            self.offered.remove(order);
            self.runnable.remove(order);
            for lock in self.process_locks.values_mut() {
                lock.queue.retain(|o| *o != order);
            }
        }
        for &order in victims {
            self.release_process_locks(order);
            if self.slots[order].phase == Phase::Waiting {
                self.slots[order].fault = SlotFault::Disconnected;
            } else {
                self.end_disconnected(order);
            }
        }
    }

    /// `order`'s app node restarted after a crash: its recovery runs
    /// from here, as a new process with a new connection (once the node's
    /// pause ends, if it is paused now).
    pub fn restart(&mut self, order: usize) {
        let paused_until_ms = self.paused_until(self.slots[order].node);
        let slot = &mut self.slots[order];
        debug_assert_eq!(slot.phase, Phase::Finished);
        slot.outcome = None;
        slot.fault = SlotFault::None;
        slot.reply = None;
        slot.woken = false;
        slot.timers = WaitTimers::default();
        slot.paused_until_ms = paused_until_ms;
        slot.held = Phase::Finished;
        slot.recovers = false;
        self.observed(order, None);
        self.resume(order);
    }

    /// A crashed order's last statement was answered (or it had none).
    pub fn end_disconnected(&mut self, order: usize) {
        let slot = &mut self.slots[order];
        slot.phase = Phase::Finished;
        slot.held = Phase::Finished;
        slot.timers = WaitTimers::default();
        slot.reply = None;
        self.set_alarm(order, u64::MAX);
    }

    #[inline]
    pub fn take_statement(&mut self, order: usize) -> Statement {
        match self.slots[order].phase {
            Phase::Submitted(statement) => {
                // No timer yet: a wait's timers start if it waits (and
                // were cleared when its last statement was answered).
                self.slots[order].phase = Phase::Waiting;
                debug_assert_eq!(self.alarm_of(order), None);
                statement
            }
            other => unreachable!("order {order} has no statement to run ({other:?})"),
        }
    }

    /// The scheduler chose `order`'s request for the node-local lock `key`:
    /// it takes the lock if it is free, or queues for it.
    pub fn take_process_lock(&mut self, order: usize) {
        let Phase::ProcessLockRequest { key } = self.slots[order].phase else {
            unreachable!("order {order} asks for no in-process lock");
        };
        let node = self.slots[order].node;
        match self.process_locks.get_mut(&(node, key)) {
            None => {
                self.process_locks.insert(
                    (node, key),
                    ProcessLock {
                        holder: order,
                        queue: VecDeque::new(),
                    },
                );
                self.news.push(News::ProcessLock {
                    order,
                    key,
                    event: ProcessLockEvent::Acquired,
                });
                self.wake(order);
            }
            Some(lock) => {
                lock.queue.push_back(order);
                let holder = lock.holder as u32;
                self.news.push(News::ProcessLock {
                    order,
                    key,
                    event: ProcessLockEvent::Waits { holder },
                });
                self.slots[order].phase = Phase::ProcessLockWait { key };
                self.refresh_alarm(order);
            }
        }
    }

    /// The scheduler chose `order`'s call to the lease-lock service: it is
    /// answered at once (a token, or 0 when refused; see
    /// [`LeaseAnswer::value`]).
    pub fn take_lease(&mut self, order: usize) {
        let Phase::LeaseRequest(call) = self.slots[order].phase else {
            unreachable!("order {order} calls no lease service");
        };
        let answer = self.leases.call(call, self.now_ms);
        self.news.push(News::Lease {
            order,
            event: LeaseEvent { call, answer },
        });
        self.deliver(order, Ok(Reply::Value(answer.value() as i64)));
    }

    /// Releases the node-local lock `key`; the first order queued for it gets it.
    pub fn process_unlock(&mut self, order: usize, key: u64) {
        let node = self.slots[order].node;
        let Some(lock) = self
            .process_locks
            .get_mut(&(node, key))
            .filter(|l| l.holder == order)
        else {
            return;
        };
        self.news.push(News::ProcessLock {
            order,
            key,
            event: ProcessLockEvent::Released,
        });
        match lock.queue.pop_front() {
            Some(next) => {
                lock.holder = next;
                self.news.push(News::ProcessLock {
                    order: next,
                    key,
                    event: ProcessLockEvent::Acquired,
                });
                self.observed(next, None);
                self.slots[next].woken = true;
                self.resume(next);
            }
            None => {
                self.process_locks.remove(&(node, key));
            }
        }
    }
}
