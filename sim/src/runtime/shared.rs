//! State shared between the scheduler and the order tasks: what each order is
//! doing, and how many are still running application code.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use stockrace_model::{DbError, Reply, Statement};

use crate::execution::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    Finished,
}

pub(crate) struct Slot {
    pub phase: Phase,
    reply: Option<Result<Reply, DbError>>,
    woken: bool,
    waker: Option<Waker>,
    pub outcome: Option<Outcome>,
}

pub(crate) struct Shared {
    pub slots: Vec<Slot>,
    /// Orders in `Phase::Running`. The system is quiescent when it is 0.
    running: usize,
    scheduler: Option<Waker>,
    pub now_ms: u64,
    /// Orders that finished or fell asleep since the scheduler last looked,
    /// in the order it happened.
    pub news: Vec<usize>,
}

pub(crate) type SharedRef = Arc<Mutex<Shared>>;

pub(crate) fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicking strategy is caught inside its task, so poisoning would be a
    // bug in stockrace itself; keep going with the data rather than cascade.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(orders: usize) -> Shared {
        Shared {
            slots: (0..orders)
                .map(|_| Slot {
                    phase: Phase::Running,
                    reply: None,
                    woken: false,
                    waker: None,
                    outcome: None,
                })
                .collect(),
            running: orders,
            scheduler: None,
            now_ms: 0,
            news: Vec::new(),
        }
    }

    pub fn is_quiescent(&self) -> bool {
        self.running == 0
    }

    /// The order stopped running application code.
    fn park(&mut self, order: usize, phase: Phase) {
        debug_assert_eq!(self.slots[order].phase, Phase::Running);
        self.slots[order].phase = phase;
        self.running -= 1;
        if self.running == 0 {
            if let Some(scheduler) = self.scheduler.take() {
                scheduler.wake();
            }
        }
    }

    fn resume(&mut self, order: usize) {
        let slot = &mut self.slots[order];
        slot.phase = Phase::Running;
        self.running += 1;
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }

    /// Hands a statement's result back to its order, which runs again.
    pub fn deliver(&mut self, order: usize, result: Result<Reply, DbError>) {
        self.slots[order].reply = Some(result);
        self.resume(order);
    }

    /// Ends an order's sleep.
    pub fn wake(&mut self, order: usize) {
        self.slots[order].woken = true;
        self.resume(order);
    }

    pub fn finish(&mut self, order: usize, outcome: Outcome) {
        self.slots[order].outcome = Some(outcome);
        self.news.push(order);
        self.park(order, Phase::Finished);
    }

    pub fn take_statement(&mut self, order: usize) -> Statement {
        match self.slots[order].phase {
            Phase::Submitted(statement) => {
                self.slots[order].phase = Phase::Waiting;
                statement
            }
            other => unreachable!("order {order} has no statement to run ({other:?})"),
        }
    }
}

/// Resolves when no order is running application code.
pub(crate) struct Quiescent<'a>(pub &'a Mutex<Shared>);

impl Future for Quiescent<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = lock(self.0);
        if shared.running == 0 {
            Poll::Ready(())
        } else {
            shared.scheduler = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// An order's statement: submitted on first poll, ready when the scheduler
/// delivers the result.
pub(crate) struct StatementFuture<'a> {
    pub shared: &'a Mutex<Shared>,
    pub order: usize,
    pub statement: Option<Statement>,
}

impl Future for StatementFuture<'_> {
    type Output = Result<Reply, DbError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let order = self.order;
        let statement = self.statement.take();
        let mut shared = lock(self.shared);
        if let Some(statement) = statement {
            shared.slots[order].waker = Some(cx.waker().clone());
            shared.park(order, Phase::Submitted(statement));
            return Poll::Pending;
        }
        match shared.slots[order].reply.take() {
            Some(result) => Poll::Ready(result),
            None => {
                shared.slots[order].waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// An order's sleep: ready when the scheduler lets time pass to its end.
pub(crate) struct SleepFuture<'a> {
    pub shared: &'a Mutex<Shared>,
    pub order: usize,
    pub duration_ms: Option<u64>,
}

impl Future for SleepFuture<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let order = self.order;
        let duration_ms = self.duration_ms.take();
        let mut shared = lock(self.shared);
        if let Some(ms) = duration_ms {
            let until_ms = shared.now_ms + ms;
            shared.slots[order].waker = Some(cx.waker().clone());
            shared.slots[order].woken = false;
            shared.news.push(order);
            shared.park(order, Phase::Sleeping { until_ms });
            return Poll::Pending;
        }
        if std::mem::take(&mut shared.slots[order].woken) {
            Poll::Ready(())
        } else {
            shared.slots[order].waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
