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

use super::shared::{lock, Shared, SharedRef};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// One order's application code, with how it ends reported to [`Shared`].
pub(crate) type OrderFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every order's future (`None` once it ended) and the waker they are
/// polled with.
pub(crate) struct Orders {
    futures: Vec<Option<OrderFuture>>,
    waker: Waker,
}

impl Orders {
    pub fn new(shared: &SharedRef, futures: Vec<OrderFuture>) -> Orders {
        Orders {
            futures: futures.into_iter().map(Some).collect(),
            waker: Waker::from(Arc::new(OrdersWaker {
                shared: shared.clone(),
            })),
        }
    }

    /// Runs every order that can run until none can: resolves when no order
    /// is running application code (quiescence).
    pub fn run_until_quiet<'a>(&'a mut self, shared: &'a Mutex<Shared>) -> RunUntilQuiet<'a> {
        RunUntilQuiet {
            orders: self,
            shared,
        }
    }
}

pub(crate) struct RunUntilQuiet<'a> {
    orders: &'a mut Orders,
    shared: &'a Mutex<Shared>,
}

impl Future for RunUntilQuiet<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let next = lock(this.shared).take_runnable();
            match next {
                Some(order) => {
                    let Some(future) = this.orders.futures[order].as_mut() else {
                        continue;
                    };
                    let mut order_cx = Context::from_waker(&this.orders.waker);
                    if future.as_mut().poll(&mut order_cx).is_ready() {
                        this.orders.futures[order] = None;
                    }
                }
                None => {
                    let mut shared = lock(this.shared);
                    if shared.is_quiescent() {
                        return Poll::Ready(());
                    }
                    // An order waits for something outside the scheduler.
                    shared.scheduler = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
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
