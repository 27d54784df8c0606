//! The orders as futures the scheduler polls itself.
//!
//! An order is not a madsim task: the scheduler task owns every order's
//! future and polls the ones it has something for (a statement's result, the
//! end of a sleep, a granted lock), lowest order id first, until none can
//! run on. A step then costs one direct poll of one future, not two task
//! switches through madsim's executor (its ready queue, its random pick, its
//! wakers), which were most of a step's time. Nothing about a run depends on
//! the order in which orders run their application code (they only meet in
//! [`Shared`], whose news the scheduler sorts by order id), so this changes
//! no run.
//!
//! A strategy that awaits something other than the scheduler (a madsim
//! timer, say) still works: the orders' waker marks every order that runs
//! outside the scheduler to be polled and wakes the scheduler task, which
//! waits for that before it looks for options. (One waker serves all orders:
//! such wake-ups are rare, and polling an order that was not woken is
//! harmless, while a waker per order cost an allocation each per run.)

use super::ask::{poll_ask, Request};
use super::connection::{Sending, SimConnection};
use super::lock::SpinLock;
use super::shared::{lock, Shared, SharedRef};
use super::Prepared;
use crate::connection::Session;
use crate::outcome::Outcome;
use crate::strategies::{OrderFuture, Sale};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// One order's application code: its arrival (a sleep the scheduler sees,
/// as think time is), then its strategy, with how it ended reported to
/// [`Shared`]. A plain struct rather than a boxed `async` block, which cost
/// an allocation per order per run; kept, with the place its strategy's
/// future is written in, from one run of a sweep to the next.
pub(crate) struct OrderTask {
    order: usize,
    /// Arriving late: the sleep until its arrival, until it is asked for.
    arrival: Option<Request>,
    /// Still waiting to arrive.
    arriving: bool,
    /// Started and not yet ended.
    running: bool,
    strategy: Box<dyn OrderFuture>,
    /// Running its strategy's recovery (after its app node restarted)
    /// rather than the strategy.
    recovering: bool,
    /// A place for the recovery's future, made the first time one runs.
    recovery: Option<Box<dyn OrderFuture>>,
}

impl OrderTask {
    /// The future it runs now: the strategy's, or its recovery's.
    fn active(&mut self) -> &mut Box<dyn OrderFuture> {
        match (self.recovering, &mut self.recovery) {
            (true, Some(recovery)) => recovery,
            _ => &mut self.strategy,
        }
    }
}

impl OrderTask {
    /// Polls the order once; ready when it ended.
    fn poll(&mut self, shared: &SpinLock<Shared>, cx: &mut Context<'_>) -> Poll<()> {
        if self.arriving {
            if poll_ask(shared, self.order, &mut self.arrival).is_pending() {
                return Poll::Pending;
            }
            self.arriving = false;
        }
        let strategy = self.active();
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| strategy.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(Sale::Sold))) => Outcome::Sold,
            Ok(Poll::Ready(Ok(Sale::OutOfStock))) => Outcome::OutOfStock,
            Ok(Poll::Ready(Ok(Sale::GaveUp))) => Outcome::GaveUp,
            Ok(Poll::Ready(Err(error))) => Outcome::Failed(error),
            Err(panic) => {
                self.active().clear();
                Outcome::Panicked(panic_message(&panic))
            }
        };
        self.running = false;
        lock(shared).finish(self.order, outcome);
        Poll::Ready(())
    }
}

/// Every order's task and the waker they are polled with; kept by a sweep
/// from one run to the next.
pub(crate) struct Orders {
    tasks: Vec<OrderTask>,
    waker_state: Arc<OrdersWaker>,
    waker: Waker,
}

impl Orders {
    pub fn new(shared: &SharedRef) -> Orders {
        let waker_state = Arc::new(OrdersWaker {
            shared: shared.clone(),
        });
        Orders {
            tasks: Vec::new(),
            waker: Waker::from(waker_state.clone()),
            waker_state,
        }
    }

    /// Whether nothing but these orders holds their waker: no timer or
    /// task of an earlier run could wake them.
    pub fn waker_unshared(&self) -> bool {
        Arc::strong_count(&self.waker_state) == 2
    }

    /// Starts every order of `prepared` (see [`OrderTask`]), arriving at
    /// `arrivals`. App nodes are the orders' `node`: in-process locks are
    /// per node.
    pub fn start(&mut self, prepared: &Prepared, shared: &SharedRef, arrivals: &[u64]) {
        if self.tasks.len() != prepared.orders.len() {
            // The first run of these orders: a place for each one's future.
            self.tasks.clear();
            self.tasks.extend(
                prepared
                    .strategies
                    .iter()
                    .enumerate()
                    .map(|(order, strategy)| OrderTask {
                        order,
                        arrival: None,
                        arriving: false,
                        running: false,
                        strategy: strategy.place(),
                        recovering: false,
                        recovery: None,
                    }),
            );
        }
        for (order, task) in self.tasks.iter_mut().enumerate() {
            task.recovering = false;
            task.strategy.start(
                session(prepared, shared, order),
                prepared.orders[order].clone(),
            );
            let arrive_ms = arrivals[order];
            task.arrival = (arrive_ms > 0).then_some(Request::Sleep { ms: arrive_ms });
            task.arriving = arrive_ms > 0;
            task.running = true;
        }
    }

    /// Drops the orders still running (the run gave up on them), and with
    /// them their connections.
    pub fn stop(&mut self) {
        for task in &mut self.tasks {
            if std::mem::take(&mut task.running) {
                task.active().clear();
            }
        }
    }

    /// Drops `order`'s application code where it stands: its app node crashed.
    pub fn kill(&mut self, order: usize) {
        let task = &mut self.tasks[order];
        task.arriving = false;
        task.arrival = None;
        if std::mem::take(&mut task.running) {
            task.active().clear();
        }
    }

    /// Starts `order`'s recovery on a new connection: its app node
    /// restarted after a crash (see `super::faults`).
    pub fn recover(&mut self, order: usize, prepared: &Prepared, shared: &SharedRef) {
        let task = &mut self.tasks[order];
        let recovery = task.recovery.get_or_insert_with(|| {
            prepared.strategies[order]
                .recovery_place()
                .expect("only orders with a recovery restart")
        });
        recovery.start(
            session(prepared, shared, order),
            prepared.orders[order].clone(),
        );
        task.recovering = true;
        task.running = true;
    }

    /// Runs every order that can run until none can: resolves when no order
    /// is running application code (quiescence).
    pub fn run_until_quiet<'a>(&'a mut self, shared: &'a SpinLock<Shared>) -> RunUntilQuiet<'a> {
        RunUntilQuiet {
            orders: self,
            shared,
        }
    }
}

pub(crate) struct RunUntilQuiet<'a> {
    orders: &'a mut Orders,
    shared: &'a SpinLock<Shared>,
}

impl Future for RunUntilQuiet<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let order = {
                let mut shared = lock(this.shared);
                match shared.take_runnable() {
                    Some(order) => order,
                    None if shared.is_quiescent() => return Poll::Ready(()),
                    None => {
                        // An order waits for something outside the scheduler.
                        shared.scheduler = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            let task = &mut this.orders.tasks[order];
            if !task.running {
                continue;
            }
            let mut order_cx = Context::from_waker(&this.orders.waker);
            let _ = task.poll(this.shared, &mut order_cx);
        }
    }
}

/// A new connection for `order`.
fn session(prepared: &Prepared, shared: &SharedRef, order: usize) -> Session {
    Session::simulated(SimConnection {
        shared: shared.clone(),
        order,
        latency: prepared.scenario.latency,
        sent: false,
        sending: Sending::Idle,
    })
}

/// Wakes the orders that awaited something other than the scheduler.
struct OrdersWaker {
    shared: SharedRef,
}

impl Wake for OrdersWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut shared = lock(&self.shared);
        shared.mark_running_runnable();
        if let Some(scheduler) = shared.scheduler.take() {
            scheduler.wake();
        }
    }
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
