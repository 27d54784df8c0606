//! A strategy's future in a place kept from run to run.
//!
//! A sweep starts every order anew for each seed; boxing each order's
//! future for each run was an allocation and a free per order per run (a
//! fiftieth of an 8-order run). An [`OrderFuture`] is boxed once per order
//! for a whole sweep, and each run writes its order's new future into it.

use super::StrategyResult;
use crate::connection::Session;
use crate::scenario::Order;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// One order's strategy, started and polled in place.
pub(crate) trait OrderFuture: Send {
    /// Starts the strategy for `order` on `session` (dropping a future
    /// left from an earlier run, if any).
    fn start(&mut self, session: Session, order: Order);

    /// Polls the started strategy. Once it is ready, it is dropped: there
    /// is nothing left to poll until the next start.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<StrategyResult>;

    /// Drops the future (a run stopped early, or it panicked).
    fn clear(&mut self);
}

/// The strategy's async function and its future, typed; the place (the
/// `Option`) stays where it was boxed.
pub(super) struct InPlace<F, Fut> {
    pub strategy: Arc<F>,
    pub future: Pin<Box<Option<Fut>>>,
}

impl<F, Fut> OrderFuture for InPlace<F, Fut>
where
    F: Fn(Session, Order) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = StrategyResult> + Send + 'static,
{
    fn start(&mut self, session: Session, order: Order) {
        self.future.set(Some((self.strategy)(session, order)));
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<StrategyResult> {
        let future = self
            .future
            .as_mut()
            .as_pin_mut()
            .expect("an order's future polled after it ended");
        let poll = future.poll(cx);
        if poll.is_ready() {
            self.future.set(None);
        }
        poll
    }

    fn clear(&mut self) {
        self.future.set(None);
    }
}
